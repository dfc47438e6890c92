"""Response headers for a site that displays text written by strangers.

Everything shown comes from crawled shop pages and is treated as hostile: templates are
autoescaped, crawled URLs pass :func:`portal.formatting.safe_url`, and the headers below
forbid inline script and style so an escaping slip still cannot run code. They go on every
response (pages, JSON, static files, errors), since any of them can be opened directly.

- The portal is never framed (``frame-ancestors``, ``X-Frame-Options`` for old browsers).
- Of the powerful browser features only geolocation is used ("Près de moi", on request,
  by our own pages); the others are switched off for us and anything we might embed.
- ``Cross-Origin-Opener-Policy`` cuts the window link to a shop page opened from ours;
  ``Cross-Origin-Resource-Policy`` stops other sites embedding our responses (the JSON API
  stays readable by any script through CORS, which that header does not govern).
- HSTS is sent only when ``HSTS_MAX_AGE`` is set and the request came over HTTPS (directly,
  or from a proxy listed in ``TRUSTED_PROXIES``): sent from a site that is not reliably on
  HTTPS it would lock residents out.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request

# Images come from the portal itself (portal/images.py serves the crawler's checked copies):
# a crawled image URL, a tracking pixel on another host, is never loaded by a resident.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def tile_origin(tile_url: str) -> str | None:
    """The origin map tiles come from (``MAP_TILE_URL``), for ``img-src``; None when the
    tiles are served by the portal itself or not at all. ``{s}`` subdomains become ``*``."""
    parts = urlsplit((tile_url or "").strip().replace("{s}", "tiles-subdomain"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.netloc.rsplit("@", 1)[-1].replace("tiles-subdomain", "*")
    if not re.fullmatch(r"[A-Za-z0-9.*:\[\]-]+", host):
        return None
    return f"{parts.scheme}://{host}"


def content_security_policy(tile_url: str = "") -> str:
    origin = tile_origin(tile_url)
    if origin is None:
        return CONTENT_SECURITY_POLICY
    return CONTENT_SECURITY_POLICY.replace("img-src 'self' data:", f"img-src 'self' data: {origin}")


# Only features Chromium and Firefox both recognise: an unknown name is a console warning on every page.
PERMISSIONS_POLICY = ", ".join(
    [
        "geolocation=(self)",
        "camera=()",
        "microphone=()",
        "payment=()",
        "usb=()",
        "accelerometer=()",
        "gyroscope=()",
        "magnetometer=()",
    ]
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": PERMISSIONS_POLICY,
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}

HSTS_EXTENSION = "emplettes.hsts"
CSP_EXTENSION = "emplettes.csp"


def strict_transport_security(max_age: int) -> str | None:
    """The HSTS value for ``max_age`` seconds; None when switched off."""
    return f"max-age={max_age}" if max_age > 0 else None


def add_security_headers(response: Response) -> Response:
    response.headers.setdefault(
        "Content-Security-Policy", current_app.extensions.get(CSP_EXTENSION, CONTENT_SECURITY_POLICY)
    )
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    hsts = current_app.extensions.get(HSTS_EXTENSION)
    if hsts and request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", hsts)
    return response


def init_app(app: Flask) -> None:
    from portal.backend import EXTENSION

    config = app.extensions[EXTENSION].config
    app.extensions[HSTS_EXTENSION] = strict_transport_security(getattr(config, "hsts_max_age", 0))
    app.extensions[CSP_EXTENSION] = content_security_policy(getattr(config, "map_tile_url", "") or "")
    app.after_request(add_security_headers)
