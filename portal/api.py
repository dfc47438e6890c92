"""The JSON API: the same search as the HTML pages, for apps and the chamber's tools.

``GET /api/search`` takes the page's parameters (strictly validated: a bad value is a 400
with a message), ``GET /api/suggest?q=`` completes what a resident types, ``GET /healthz``
tells a service manager whether the index can be read.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from indexer.search import BackendUnavailable
from portal.backend import get_backend
from portal.presenters import search_view
from portal.query import BadQuery, query_from_args

bp = Blueprint("api", __name__)

MAX_SUGGESTIONS = 20


def bad_request(message: str):
    return jsonify(error=message), 400


@bp.get("/api/search")
def api_search():
    try:
        query = query_from_args(request.args, strict=True)
    except BadQuery as exc:
        return bad_request(str(exc))
    result = get_backend().search(query)
    return jsonify(search_view(result, query))


@bp.get("/api/suggest")
def api_suggest():
    prefix = " ".join(request.args.get("q", "").split())[:100]
    raw_limit = request.args.get("limit", "8")
    try:
        limit = int(raw_limit)
    except ValueError:
        return bad_request(f"limit: expected an integer, got {raw_limit[:40]!r}")
    limit = max(1, min(limit, MAX_SUGGESTIONS))
    if not prefix:
        return jsonify(suggestions=[])
    suggestions = [s for s in get_backend().suggest(prefix, limit=limit) if isinstance(s, str)]
    return jsonify(suggestions=suggestions[:limit])


@bp.get("/healthz")
def healthz():
    try:
        backend = get_backend()
        stats = backend.stats()
    except BackendUnavailable:
        return jsonify(status="unavailable"), 503
    return jsonify(
        status="ok",
        backend=getattr(backend, "name", "unknown"),
        products=int(stats.get("products") or 0),
        shops=int(stats.get("shops") or 0),
    )
