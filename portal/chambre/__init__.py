"""The chambers' dashboard (``/chambre/``): accounts, their chamber's sources, data quality,
clicks, adding a shop and the journal of changes. French, rendered on the server, usable
without JavaScript, under the portal's own CSP. docs/dashboard.md is its manual.

Everything a page shows is crawled or typed by someone else: autoescaped templates only.
"""

from __future__ import annotations

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError, CSRFProtect

from config import Config

csrf = CSRFProtect()


def init_app(app: Flask, config: Config) -> None:
    from portal.chambre import auth, sessions, views  # noqa: F401  (their routes join the blueprint)
    from portal.chambre.blueprint import EXTENSION, bp, make_dashboard
    from portal.chambre.secret import secret_key

    board = make_dashboard(config)
    app.extensions[EXTENSION] = board
    sessions.init_app(app, secret_key(config.secret_key, config.data_dir), board.session_lifetime)
    csrf.init_app(app)  # every POST of the portal carries a token: the dashboard's forms and the mirror's
    app.register_error_handler(CSRFError, expired_form)
    app.register_blueprint(bp)


def expired_form(error: CSRFError):
    from flask import request, url_for

    back = url_for("chambre.sources") if request.path.startswith("/chambre") else url_for("mirror.page")
    return render_template("chambre/expired.html", back=back), 400
