"""gzip for pages, JSON and static text files, when the browser accepts it.

A results page shrinks to about a tenth gzipped (docs/benchmarks.md): on a cheap phone's
slow connection the transfer is most of the wait, and level 5 costs little CPU.
A reverse proxy may compress instead; responses already encoded are left alone. Static
files are compressed once per process and kept (see :func:`portal.assets.serve_static`).
"""

from __future__ import annotations

import gzip

from flask import Flask, Response, request

LEVEL = 5  # nearly level 9's size at a quarter of its cost
MIN_SIZE = 1024  # below this the gzip framing and the CPU are not worth it
COMPRESSIBLE = (
    "text/",
    "application/json",
    "application/javascript",
    "application/xml",
    "application/opensearchdescription+xml",
    "image/svg+xml",
    "application/manifest+json",
)


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether ``Accept-Encoding`` allows gzip (``gzip;q=0`` refuses it; ``*`` allows it)."""
    allowed = {}
    for item in (accept_encoding or "").lower().split(","):
        name, _, params = item.strip().partition(";")
        quality = 1.0
        params = params.strip().replace(" ", "")
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        allowed[name.strip()] = quality
    if "gzip" in allowed:
        return allowed["gzip"] > 0
    return allowed.get("*", 0) > 0


def is_compressible(mimetype: str | None) -> bool:
    return bool(mimetype) and mimetype.startswith(COMPRESSIBLE)


def compress(data: bytes, level: int = LEVEL) -> bytes:
    return gzip.compress(data, level, mtime=0)  # mtime 0: the same bytes for the same content


def compress_response(response: Response) -> Response:
    """``after_request`` hook: gzip a complete, compressible body for a client that accepts it."""
    if (
        response.direct_passthrough
        or response.is_streamed
        or "Content-Encoding" in response.headers
        or response.status_code in (204, 206, 304)
        or response.status_code < 200
        or not is_compressible(response.mimetype)
    ):
        return response
    response.vary.add("Accept-Encoding")
    if request.method == "HEAD" or not accepts_gzip(request.headers.get("Accept-Encoding")):
        return response
    data = response.get_data()
    if len(data) < MIN_SIZE:
        return response
    response.set_data(compress(data))
    response.headers["Content-Encoding"] = "gzip"
    etag, weak = response.get_etag()
    if etag:  # another body, so another validator
        response.set_etag(f"{etag}-gzip", weak)
    return response


def init_app(app: Flask) -> None:
    app.after_request(compress_response)
