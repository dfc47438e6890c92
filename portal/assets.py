"""Static files under content-hashed names, so browsers may keep them for a year.

At startup every file under ``static/`` (``vendor/`` included) is hashed once; templates
write ``{{ asset_url('style.css') }}`` and get ``/static/style.1a2b3c4d.css``. That name
changes whenever the content does, so it is served ``immutable`` for a year: a cheap phone
on a slow connection fetches each stylesheet and script once per release, not per page.

The plain name (``/static/style.css``) still works with a short cache for anything that
links to it directly, and a hashed name from an older release (a page cached before a
deploy) gets today's file with the short cache rather than a 404 and an unstyled page.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from pathlib import Path

from flask import Flask, Response, current_app, request, send_from_directory, url_for
from werkzeug.exceptions import NotFound
from werkzeug.security import safe_join

from portal.compression import accepts_gzip, compress, is_compressible

EXTENSION = "emplettes.assets"
HASH_LENGTH = 8
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT_MAX_AGE = 300  # seconds: unhashed names may change with the next release
_HASHED = re.compile(rf"^(?P<stem>.+)\.(?P<digest>[0-9a-f]{{{HASH_LENGTH}}})(?P<suffix>\.[^./]+)$")


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:HASH_LENGTH]


def hashed_name(filename: str, digest: str) -> str:
    """``vendor/leaflet/leaflet.css`` -> ``vendor/leaflet/leaflet.<digest>.css`` (the folder is kept,
    so a stylesheet's relative ``url(images/...)`` still resolves)."""
    folder, _, name = filename.rpartition("/")
    stem, dot, suffix = name.rpartition(".")
    hashed = f"{stem}.{digest}.{suffix}" if dot and stem else f"{name}.{digest}"
    return f"{folder}/{hashed}" if folder else hashed


def build_manifest(static_dir: Path) -> dict[str, str]:
    """Relative path (with ``/``) -> content hash, for every file under ``static_dir``."""
    manifest: dict[str, str] = {}
    if not static_dir.is_dir():
        return manifest
    for path in sorted(static_dir.rglob("*")):
        relative = path.relative_to(static_dir)
        if path.is_file() and not any(part.startswith(".") for part in relative.parts):
            manifest[relative.as_posix()] = content_hash(path.read_bytes())
    return manifest


def split_hashed(filename: str) -> tuple[str, str] | None:
    """``style.1a2b3c4d.css`` -> (``style.css``, ``1a2b3c4d``); None for a plain name."""
    match = _HASHED.match(filename)
    if not match:
        return None
    return f"{match['stem']}{match['suffix']}", match["digest"]


def asset_url(filename: str) -> str:
    """The URL of a static file under its hashed name (plain name if it is not in ``static/``)."""
    digest = current_app.extensions[EXTENSION].get(filename)
    return url_for("static", filename=hashed_name(filename, digest) if digest else filename)


def serve_static(filename: str) -> Response:
    """Replaces Flask's static view: immutable for a current hash, short cache otherwise."""
    app = current_app
    manifest: dict[str, str] = app.extensions[EXTENSION]
    static_dir = app.static_folder
    if static_dir is None:
        raise NotFound()
    cache_control, max_age = f"public, max-age={SHORT_MAX_AGE}", SHORT_MAX_AGE
    original = split_hashed(filename)
    if original and original[0] in manifest and filename not in manifest:
        plain, digest = original
        if digest == manifest[plain]:
            cache_control, max_age = IMMUTABLE, 31536000
        filename = plain  # an older release's name gets today's content, not cached for long
    if filename in manifest and is_compressible(mimetypes.guess_type(filename)[0]):
        response = _gzipped(static_dir, filename, manifest[filename], max_age)
    else:
        response = send_from_directory(static_dir, filename, max_age=max_age)
    response.headers["Cache-Control"] = cache_control
    return response


_gzip_cache: dict[tuple[str, str], bytes] = {}


def _gzipped(static_dir: str, filename: str, digest: str, max_age: int) -> Response:
    """A text file gzipped once per process for the clients that accept it (ETag: its hash)."""
    if not accepts_gzip(request.headers.get("Accept-Encoding")):
        response = send_from_directory(static_dir, filename, max_age=max_age)
    else:
        key = (filename, digest)
        if key not in _gzip_cache:
            _gzip_cache[key] = compress(safe_join_path(static_dir, filename).read_bytes(), 9)
        response = Response(_gzip_cache[key], mimetype=mimetypes.guess_type(filename)[0])
        response.headers["Content-Encoding"] = "gzip"
        response.set_etag(f"{digest}-gzip")
        response.make_conditional(request)
    response.vary.add("Accept-Encoding")
    return response


def safe_join_path(directory: str, filename: str) -> Path:
    joined = safe_join(directory, filename)
    if joined is None:
        raise NotFound()
    return Path(joined)


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = build_manifest(Path(app.static_folder or ""))
    app.view_functions["static"] = serve_static
    app.jinja_env.globals["asset_url"] = asset_url
