"""The session cookie: signed, ``HttpOnly``, ``SameSite=Lax``, ``Secure``, with an expiry.

``Lax`` rather than ``Strict``: with ``Strict``, following a link to the dashboard from a
mail would arrive without the cookie, and the login page's fresh cookie would replace the
one of the open session. Cross-site POSTs still carry no cookie, and every form has its
CSRF token besides.

The cookie carries only the CSRF token and a random session id; the account behind that id
lives server side (:mod:`portal.chambre.accounts`), where logging out ends it for good.

``Secure`` is left out on one case only: plain HTTP to a loopback address (a developer's
``emplettes serve``, the tests), where browsers would otherwise drop the cookie and nobody
could log in. Anywhere else a plain-HTTP portal gets a cookie its browser will not send
back: the dashboard needs HTTPS (or a proxy listed in ``TRUSTED_PROXIES`` saying so).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface

COOKIE_NAME = "emplettes_session"


def _loopback(host: str) -> bool:
    try:
        name = urlsplit(f"//{host}").hostname or ""  # without the port and the brackets of [::1]
        return name == "localhost" or ipaddress.ip_address(name).is_loopback
    except ValueError:  # not an address (a name), or a malformed Host header
        return False


class DashboardSessions(SecureCookieSessionInterface):
    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure or not _loopback(request.host)


def init_app(app: Flask, secret: str, lifetime) -> None:
    app.secret_key = secret
    app.session_interface = DashboardSessions()
    app.config.update(
        SESSION_COOKIE_NAME=COOKIE_NAME,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=lifetime,
        SESSION_REFRESH_EACH_REQUEST=False,  # the expiry counts from the login, not the last click
        WTF_CSRF_TIME_LIMIT=int(lifetime.total_seconds()),
    )
