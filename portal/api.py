"""The JSON API: the same search as the HTML pages, for apps and the chamber's tools.

``GET /api/search`` takes the page's parameters (strictly validated: a bad value is a 400
with a message), ``GET /api/suggest?q=`` completes what a resident types (also in the
OpenSearch suggestions format browsers ask for), ``GET /api/shops`` lists the shops (by town
and category) and ``GET /api/shops/<id>`` describes one, ``GET /healthz`` tells a service
manager whether the index can be read. ``/api/openapi.json`` describes all of them.
"""

from __future__ import annotations

import time

from flask import Blueprint, Response, abort, current_app, json, jsonify, request

from indexer.analysis import fold
from indexer.search import BackendUnavailable, SearchQuery
from portal.alternatives import zero_results_help
from portal.backend import get_backend
from portal.generations import all_shops
from portal.hours import now_in_paris
from portal.presenters import search_view
from portal.query import MAX_SHOPS_PER_PAGE, MAX_SUGGESTIONS, SHOPS_PER_PAGE, BadQuery, parse_search
from portal.responses import cached
from portal.search import search_notes, shop_names, town_points
from portal.shops import find_shop, product_counts, shop_json

bp = Blueprint("api", __name__)

SUGGEST_FORMATS = ("json", "opensearch")


def bad_request(message: str):
    return jsonify(error=message), 400


@bp.get("/api/search")
def api_search():
    backend = get_backend()
    return cached(backend.cache_token(), lambda: search_answer(backend))


def search_answer(backend):
    towns = town_points(backend)  # near=<commune>, or "près de <commune>" in the words
    shops = shop_names(backend) if request.args.get("shop") else None  # shop=<id> or shop=<name>
    try:
        query, notices = parse_search(request.args, strict=True, towns=towns, shops=shops)
    except BadQuery as exc:
        return bad_request(str(exc))
    result = backend.search(query)
    notes = search_notes(result, query, notices)
    # As the page: a search without results offers a spelling that finds products, the
    # nearest towns with matches ("miel Tours" -> Chartres) and broader categories.
    notes["alternatives"] = zero_results_help(backend, query, towns) if result.total == 0 else None
    return jsonify({**search_view(result, query), "notices": notes})


@bp.get("/api/suggest")
def api_suggest():
    prefix = " ".join(request.args.get("q", "").split())[:100]
    raw_limit = request.args.get("limit", "8")
    try:
        limit = int(raw_limit)
    except ValueError:
        return bad_request(f"limit: expected an integer, got {raw_limit[:40]!r}")
    limit = max(1, min(limit, MAX_SUGGESTIONS))
    output = request.args.get("format", "json")
    if output not in SUGGEST_FORMATS:
        return bad_request(f"format: expected one of {', '.join(SUGGEST_FORMATS)}")
    suggestions: list[str] = []
    if prefix:
        suggestions = [s for s in get_backend().suggest(prefix, limit=limit) if isinstance(s, str)][:limit]
    if output == "opensearch":
        # The OpenSearch suggestions extension: [query, [completions]], for browsers' address bars.
        body = json.dumps([prefix, suggestions], ensure_ascii=False)
        return Response(body, mimetype="application/x-suggestions+json")
    return jsonify(suggestions=suggestions)


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadQuery(f"{name}: expected an integer, got {raw[:40]!r}") from None
    if not low <= value <= high:
        raise BadQuery(f"{name}: expected an integer between {low} and {high}")
    return value


def _values(name: str) -> set[str]:
    return {fold(v.strip()) for v in request.args.getlist(name) if v.strip()}


@bp.get("/api/shops")
def api_shops():
    """Shops sorted by town then name; ``town`` and ``category`` are repeatable (OR'ed)."""
    try:
        page = _int_arg("page", 1, 1, 100_000)
        per_page = _int_arg("per_page", SHOPS_PER_PAGE, 1, MAX_SHOPS_PER_PAGE)
    except BadQuery as exc:
        return bad_request(str(exc))
    towns, categories = _values("town"), _values("category")
    backend = get_backend()
    shops = [
        s
        for s in all_shops(backend)
        if isinstance(s.get("id"), str)
        and (not towns or fold(str(s.get("town") or "")) in towns)
        and (not categories or categories & {fold(c) for c in s.get("categories") or [] if isinstance(c, str)})
    ]
    total = len(shops)
    counts = product_counts(backend)
    now = now_in_paris()
    chunk = shops[(page - 1) * per_page : page * per_page]
    return jsonify(
        total=total,
        page=page,
        per_page=per_page,
        pages=max(1, -(-total // per_page)),
        shops=[shop_json(s, products=counts.get(str(s.get("source_id") or s["id"])), now=now) for s in chunk],
    )


@bp.get("/api/shops/<path:shop_id>")
def api_shop(shop_id: str):
    backend = get_backend()
    record = find_shop(backend, shop_id)
    if record is None:
        abort(404, description="shop not found")
    products = backend.search(SearchQuery(filters={"shop_id": (shop_id,)}, per_page=1, facets=())).total
    return jsonify(shop_json(record, products=int(products)))


HEALTH_TTL = 10.0  # seconds: a service manager polling /healthz must not make the portal count


def recent_stats(backend) -> dict:
    """``backend.stats()`` at most every :data:`HEALTH_TTL` seconds (it counts the index)."""
    cache = current_app.extensions.setdefault("emplettes.health", {})
    now = time.monotonic()
    if cache.get("backend") is not backend or now - cache.get("at", -HEALTH_TTL) >= HEALTH_TTL:
        cache.update(backend=backend, at=now, stats=backend.stats())
    return cache["stats"]


@bp.get("/healthz")
def healthz():
    try:
        backend = get_backend()
        stats = recent_stats(backend)
    except BackendUnavailable:
        return jsonify(status="unavailable"), 503
    return jsonify(
        status="ok",
        backend=getattr(backend, "name", "unknown"),
        products=int(stats.get("products") or 0),
        shops=int(stats.get("shops") or 0),
    )
