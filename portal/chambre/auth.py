"""Logging in and out of the dashboard, and the guard every other dashboard page is behind.

- A page asked without a live session redirects to the login page (and back after it).
- Logging in starts a brand-new session (the pre-login cookie's content is dropped, so a
  session id planted by someone else is never promoted), ``session.permanent`` so the cookie
  carries its expiry. Logging out is a POST (with its CSRF token) and ends the session server side.
- Attempts are limited per account *and* per client address (``LOGIN_RATE_LIMIT``, the
  token buckets of :mod:`portal.ratelimit`), counted before the password is checked and
  whether the account exists or not; the answers never say which of the two was wrong.
"""

from __future__ import annotations

import logging
import math

from flask import abort, flash, g, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from portal.chambre.accounts import User, normal_email
from portal.chambre.blueprint import bp, dashboard
from portal.i18n import _
from portal.ratelimit import client_key

log = logging.getLogger(__name__)
PUBLIC_ENDPOINTS = {"chambre.login"}


class LoginForm(FlaskForm):
    email = EmailField(_("Adresse électronique"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_("Mot de passe"), validators=[DataRequired(), Length(max=1024)])


class ConfirmForm(FlaskForm):
    """A form with nothing but its CSRF token: logout, « Lancer une collecte »."""


def current_user() -> User | None:
    return g.get("user")


@bp.before_request
def require_login():
    g.user = None
    sid = session.get("sid")
    if isinstance(sid, str):
        g.user = dashboard().accounts.session_user(sid)
        if g.user is None:
            session.pop("sid", None)  # ended or expired: forget it
    if g.user is None and request.endpoint not in PUBLIC_ENDPOINTS:
        return redirect(url_for("chambre.login", suivant=request.full_path.rstrip("?")))
    return None


@bp.after_request
def private(response):
    response.headers["Cache-Control"] = "no-store"  # a chamber's figures never sit in a shared cache
    return response


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/chambre/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("chambre.sources")


def _throttled(email: str) -> float:
    """Seconds to wait before another attempt for this account or from this address, else 0."""
    board = dashboard()
    waits = [
        buckets.take(key)
        for buckets, key in (
            (board.login_accounts, f"compte:{normal_email(email)}"),
            (board.login_addresses, client_key(request.remote_addr)),
        )
        if buckets is not None
    ]
    return max(waits, default=0.0)


@bp.route("/connexion", methods=["GET", "POST"])
def login():
    if current_user() is not None:
        return redirect(_safe_next(request.args.get("suivant")))
    form = LoginForm()
    error = None
    status = 200
    if form.validate_on_submit():
        email = form.email.data or ""
        wait = _throttled(email)
        if wait:
            retry = max(1, math.ceil(wait))
            error = _(
                "Trop de tentatives. Réessayez dans %(minutes)d minute(s).", minutes=max(1, math.ceil(retry / 60))
            )
            response = render_template("chambre/login.html", form=form, error=error), 429
            return (*response, {"Retry-After": str(retry)})
        board = dashboard()
        user = board.accounts.authenticate(email, form.password.data or "")
        if user is None:
            log.info("dashboard login refused for %r from %s", normal_email(email), request.remote_addr)
            known = board.accounts.get(email)
            if known is not None:  # its chamber's journal shows attempts on its accounts (never to the one trying)
                board.accounts.record(
                    _("inconnu"), known.chamber, "connexion refusée", known.email, "mauvais mot de passe"
                )
            error = _("Adresse ou mot de passe incorrect.")
            status = 401
        else:
            old = session.get("sid")
            if isinstance(old, str):
                board.accounts.close_session(old)
            session.clear()  # a new session: nothing of the pre-login cookie carries over
            session["sid"] = board.accounts.open_session(user, board.session_lifetime)
            session.permanent = True
            board.accounts.record(user.email, user.chamber, "connexion")
            return redirect(_safe_next(request.args.get("suivant")))
    elif request.method == "POST":
        error = _("Le formulaire a expiré ou est incomplet : merci de le renvoyer.")
        status = 400
    return render_template("chambre/login.html", form=form, error=error), status


@bp.post("/deconnexion")
def logout():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    user = current_user()
    sid = session.get("sid")
    if isinstance(sid, str):
        dashboard().accounts.close_session(sid)
    if user is not None:
        dashboard().accounts.record(user.email, user.chamber, "déconnexion")
    session.clear()
    flash(_("Vous êtes déconnecté."))
    return redirect(url_for("chambre.login"))
