"""Error pages: friendly French HTML for residents, JSON for ``/api/`` clients."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from indexer.search import BackendUnavailable
from portal.i18n import _

log = logging.getLogger(__name__)


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def handle_http_error(error: HTTPException):
    if wants_json():
        return jsonify(error=error.description or error.name), error.code
    titles = {404: _("Page introuvable"), 405: _("Méthode non autorisée")}
    title = titles.get(error.code or 500, _("Une erreur est survenue"))
    return render_template("error.html", title=title, code=error.code), error.code


def handle_unavailable(error: BackendUnavailable):
    if wants_json():
        return jsonify(error="search backend unavailable"), 503
    return render_template("building.html", unavailable=True), 503


def handle_unexpected(error: Exception):
    log.error("unexpected error on %s", request.path, exc_info=error)
    return handle_http_error(InternalServerError())


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(BackendUnavailable, handle_unavailable)
    app.register_error_handler(Exception, handle_unexpected)
