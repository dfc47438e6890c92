"""Shop pages and the directory: who each shop is, when it is open, where it is, what it sells.

``/boutique/<id>`` shows one shop (hours with "ouvert maintenant" on Paris's clock, its
products searchable with ``q``); ``/boutiques`` lists every shop by town, filterable by
town and category with plain links, so both work without JavaScript. Maps are an extra
drawn by ``static/map.js`` from a JSON block: on tiles when ``MAP_TILE_URL`` is set, else
on the bundled contours of the region's départements and communes (``static/geo/``, built
by :mod:`portal.mapdata`), with no request leaving the portal. The lists are always in the
page.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for

from config import ConfigError
from config.reasons import json_reason
from indexer.analysis import fold
from indexer.search import BackendUnavailable, SearchBackend, SearchQuery
from portal.assets import IMMUTABLE, SHORT_MAX_AGE, asset_url, content_hash
from portal.backend import EXTENSION as BACKEND_STATE
from portal.backend import get_backend, get_config
from portal.compression import accepts_gzip, compress
from portal.discovery import absolute_url, public_base
from portal.formatting import safe_url, service_label, shorten, tel_href
from portal.generations import all_shops, per_generation
from portal.hours import now_in_paris, opening_status, parse_opening_hours, weekly_table
from portal.i18n import _
from portal.mapdata import contours_problem
from portal.presenters import search_view
from portal.query import MAX_TEXT, query_from_args
from portal.search import run_search

bp = Blueprint("shops", __name__)

PRODUCTS_PER_PAGE = 12
MAX_FILTER_LENGTH = 200
DIRECTORY_PER_PAGE = 120  # shops per directory page: a region has hundreds, a phone wants less
SHOP_FROM_PRODUCT = {
    "id": "shop_id",
    "name": "shop_name",
    "url": "shop_url",
    "town": "town",
    "postcode": "postcode",
    "lat": "lat",
    "lon": "lon",
    "services": "services",
    "categories": "categories",
    "source_id": "source_id",
}


# ------------------------------------------------------------------------- shop records


def _text(value: Any) -> str | None:
    return " ".join(value.split()) if isinstance(value, str) and value.strip() else None


def _strings(values: Any) -> list[str]:
    if not isinstance(values, (list, tuple)):
        return []
    return [v for v in (_text(x) for x in values) if v]


def _coordinate(value: Any, limit: float) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and -limit <= number <= limit else None


def find_shop(backend: SearchBackend, shop_id: str) -> dict[str, Any] | None:
    """The shop record, or one described from its first product when the shop's own
    record is missing (products crawled before their shop); ``None`` when unknown."""
    record = backend.get(shop_id)
    if isinstance(record, dict):
        return record if record.get("type", "shop") == "shop" else None
    result = backend.search(SearchQuery(filters={"shop_id": (shop_id,)}, per_page=1, facets=()))
    if not result.hits:
        return None
    hit = result.hits[0]
    return {"type": "shop", **{key: hit.get(src) for key, src in SHOP_FROM_PRODUCT.items()}}


def shop_info(record: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """What the pages show of a shop: crawled text kept raw (Jinja escapes it), URLs checked,
    service keys turned into French labels, hours read into a table and a status."""
    info = lasting_shop_info(record)
    return {**info, "status": opening_status(info["schedule"], now or now_in_paris())}


def lasting_shop_info(record: dict[str, Any]) -> dict[str, Any]:
    """:func:`shop_info` without the opening status, which changes with the clock: what the
    directory keeps per index generation."""
    schedule = parse_opening_hours(record.get("opening_hours"))
    telephone = _text(record.get("telephone"))
    lat, lon = _coordinate(record.get("lat"), 90), _coordinate(record.get("lon"), 180)
    return {
        "id": record.get("id"),
        "name": _text(record.get("name")) or str(record.get("id") or ""),
        "url": safe_url(record.get("url")),
        "address": _text(record.get("address")),
        "postcode": _text(record.get("postcode")),
        "town": _text(record.get("town")),
        "telephone": telephone,
        "tel_href": tel_href(telephone),
        "services": [service_label(s) for s in _strings(record.get("services"))],
        "categories": _strings(record.get("categories")),
        "description": shorten(record.get("description"), 600),
        "hours_table": weekly_table(schedule),
        "hours_unparsed": schedule.unparsed,
        "schedule": schedule,
        "lat": lat if lon is not None else None,
        "lon": lon if lat is not None else None,
    }


def shop_json(record: dict[str, Any], *, products: int | None = None, now: datetime | None = None) -> dict[str, Any]:
    """The documented ``/api/shops`` shape (see ``/api/openapi.json``, schema ``Shop``)."""
    info = shop_info(record, now)
    shop_id = info["id"]
    return {
        "id": shop_id,
        "name": info["name"],
        "url": info["url"],
        "page_url": absolute_url("shops.shop", shop_id=shop_id) if isinstance(shop_id, str) else None,
        "address": info["address"],
        "postcode": info["postcode"],
        "town": info["town"],
        "lat": info["lat"],
        "lon": info["lon"],
        "telephone": info["telephone"],
        "opening_hours": _strings(record.get("opening_hours")),
        "open_now": info["status"].is_open if info["status"] else None,
        "opening_status": info["status"].text if info["status"] else None,
        "categories": info["categories"],
        "services": list(_strings(record.get("services"))),
        "description": info["description"] or None,
        "products": products,
    }


BUNDLED_MAP = "geo/centre-val-de-loire.json"  # the region's contours, see static/geo/LICENCE.md
OFFLINE_MAP = "emplettes.offline_map"


@dataclass(frozen=True)
class OfflineMap:
    """The contours file drawn under the markers without tiles: the bundled one (served as a
    static asset) or a region's own, read once at start-up and served by :func:`contours`."""

    body: bytes
    digest: str
    bundled: bool

    @property
    def url(self) -> str:
        if self.bundled:
            return asset_url(BUNDLED_MAP)
        return url_for("shops.contours", digest=self.digest)


def load_offline_map(setting: str) -> OfflineMap | None:
    """``OFFLINE_MAP_FILE``: empty for the bundled Centre-Val de Loire, a file written by
    ``python -m portal.mapdata``, or ``off`` (None: markers on a plain background). A missing
    or malformed file stops the portal at start-up rather than showing blank maps."""
    value = setting.strip()
    if value.lower() == "off":
        return None
    path = Path(value) if value else Path(__file__).parent / "static" / BUNDLED_MAP
    build = _(
        "construisez-le avec « python -m portal.mapdata --from france-geojson --region <région> --out %(path)s », "
        "ou écrivez OFFLINE_MAP_FILE=off pour des cartes sans contours",
        path=value or path,
    )
    try:
        body = path.read_bytes()
    except OSError as exc:
        why = (
            _("fichier introuvable")
            if isinstance(exc, FileNotFoundError)
            else _("c'est un dossier")
            if isinstance(exc, IsADirectoryError)
            else _("lecture refusée")
            if isinstance(exc, PermissionError)
            else exc.strerror or type(exc).__name__
        )
        raise ConfigError(
            _("OFFLINE_MAP_FILE=%(value)r : fichier illisible (%(why)s) ; %(hint)s", value=value, why=why, hint=build)
        ) from None
    try:
        problem = contours_problem(json.loads(body))
    except (ValueError, UnicodeDecodeError) as exc:
        problem = json_reason(exc)
    if problem:
        raise ConfigError(
            _(
                "OFFLINE_MAP_FILE=%(value)r n'est pas un fichier de contours : %(problem)s ; %(hint)s",
                value=value or str(path),
                problem=problem,
                hint=build,
            )
        )
    return OfflineMap(body=body, digest=content_hash(body), bundled=not value)


@bp.record_once
def _read_offline_map(state) -> None:
    config = state.app.extensions[BACKEND_STATE].config
    state.app.extensions[OFFLINE_MAP] = load_offline_map(config.offline_map_file)


@bp.get("/carte/contours.<digest>.json")
def contours(digest: str):
    """A region's own contours file (``OFFLINE_MAP_FILE``), same-origin like every asset: under
    its content hash for a year, under an older hash (a page cached before a change) today's
    file for a short while."""
    offline: OfflineMap | None = current_app.extensions[OFFLINE_MAP]
    if offline is None or offline.bundled:
        abort(404)
    response = Response(offline.body, mimetype="application/json")
    response.headers["Cache-Control"] = IMMUTABLE if digest == offline.digest else f"public, max-age={SHORT_MAX_AGE}"
    return response


def map_settings() -> dict[str, str]:
    """Tiles and their credit when ``MAP_TILE_URL`` is set; else the region's contours
    (``geo``, see :func:`load_offline_map`), credited to their source, or none at all with
    ``OFFLINE_MAP_FILE=off``. A tile URL that is not http(s) or a local path is ignored."""
    config = get_config()
    tiles = (config.map_tile_url or "").strip()
    if tiles and (safe_url(tiles) or (tiles.startswith("/") and not tiles.startswith("//") and "\\" not in tiles)):
        return {"tiles": tiles, "geo": "", "attribution": (config.map_attribution or "").strip()}
    offline: OfflineMap | None = current_app.extensions[OFFLINE_MAP]
    if offline is None:
        return {"tiles": "", "geo": "", "attribution": ""}
    return {
        "tiles": "",
        "geo": offline.url,
        "attribution": _("Contours des communes : IGN Admin Express et INSEE, Licence Ouverte"),
    }


def map_points(shops: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Markers for ``map.js``: only numbers and plain strings, written as JSON (never HTML)."""
    return [
        {
            "lat": s["lat"],
            "lon": s["lon"],
            "name": s["name"],
            "town": s["town"] or "",
            "url": url_for("shops.shop", shop_id=s["id"]),
        }
        for s in shops
        if s["lat"] is not None and s["lon"] is not None and isinstance(s["id"], str)
    ]


def product_counts(backend: SearchBackend) -> dict[str, int]:
    """Products per source (a shop's ``source_id``), counted once per index generation;
    empty when the backend cannot say."""

    def count() -> dict[str, int]:
        sources = backend.stats().get("sources") or {}
        return {str(k): int(v) for k, v in sources.items() if isinstance(v, (int, float))}

    try:
        return per_generation(backend, "product_counts", count)
    except BackendUnavailable:
        raise
    except Exception:  # counts are a nicety; never fail the directory on them
        return {}


# ---------------------------------------------------------------------------- shop page


@bp.get("/boutique/<path:shop_id>")
def shop(shop_id: str):
    backend = get_backend()
    record = find_shop(backend, shop_id)
    if record is None:
        abort(404)
    asked = query_from_args(request.args, per_page=PRODUCTS_PER_PAGE)
    query = SearchQuery(
        text=asked.text[:MAX_TEXT],
        filters={"shop_id": (shop_id,)},
        sort="relevance" if asked.text else "newest",
        page=asked.page,
        per_page=PRODUCTS_PER_PAGE,
        facets=(),
    )
    query, result = run_search(backend, query)
    info = shop_info(record)
    maps = map_settings()
    return render_template(
        "shop.html",
        shop=info,
        view=search_view(result, query),
        shop_query=query,
        canonical=absolute_url("shops.shop", shop_id=shop_id),
        map=maps,
        points=map_points([info]) if maps else [],
        structured_data=structured_data(record, info),
    )


def structured_data(record: dict[str, Any], info: dict[str, Any]) -> dict[str, Any]:
    """schema.org ``LocalBusiness`` for search engines (a JSON block, not executed)."""
    data: dict[str, Any] = {"@context": "https://schema.org", "@type": "LocalBusiness", "name": info["name"]}
    if info["url"]:
        data["url"] = info["url"]
    if info["telephone"]:
        data["telephone"] = info["telephone"]
    if info["address"] or info["town"]:
        data["address"] = {
            "@type": "PostalAddress",
            "streetAddress": info["address"],
            "postalCode": info["postcode"],
            "addressLocality": info["town"],
            "addressCountry": "FR",
        }
    if info["lat"] is not None:
        data["geo"] = {"@type": "GeoCoordinates", "latitude": info["lat"], "longitude": info["lon"]}
    hours = _strings(record.get("opening_hours"))
    if hours and not info["hours_unparsed"]:
        data["openingHours"] = hours
    return data


# ---------------------------------------------------------------------------- directory


def _choice(name: str) -> str | None:
    value = _text(request.args.get(name, ""))
    return value[:MAX_FILTER_LENGTH] if value else None


def _count_values(shops: list[dict[str, Any]], key: str) -> list[tuple[str, int]]:
    """(value as first spelt, number of shops) for each folded value of ``key`` (``towns`` or
    ``categories``: (folded, spelling) pairs kept per shop), in folded order."""
    counts: dict[str, int] = {}
    spelling: dict[str, str] = {}
    for shop in shops:
        for folded, value in shop[key]:
            spelling.setdefault(folded, value)
            counts[folded] = counts.get(folded, 0) + 1
    return [(spelling[folded], counts[folded]) for folded in sorted(counts)]


def _matches(shop: dict[str, Any], town: str | None, category: str | None) -> bool:
    if town and shop["town_key"] != town:
        return False
    return not category or category in shop["category_keys"]


def _this_minute(backend: SearchBackend, name: str, now: datetime) -> dict:
    """A dict for what holds during this minute at this index generation: opening statuses
    change only on the minute (hours are HH:MM), and so do the pages that show them."""
    kept: dict = per_generation(backend, name, dict)
    minute = now.strftime("%Y-%m-%dT%H:%M")
    values = kept.get(minute)
    if values is None:
        kept.clear()  # earlier minutes are over
        values = kept.setdefault(minute, {})
    return values


def directory_url(town: str | None, category: str | None, page: int = 1) -> str:
    params: dict[str, Any] = {k: v for k, v in (("town", town), ("category", category)) if v}
    if page > 1:
        params["page"] = page
    return url_for("shops.directory", **params)


def _page_number() -> int:
    try:
        return max(1, min(int(request.args.get("page", "1")), 10_000))
    except ValueError:
        return 1


def directory_shops(backend: SearchBackend) -> list[dict[str, Any]]:
    """The directory's shops with their product counts and folded town and categories,
    computed once per index generation; only the opening status is left to each request."""

    def build() -> list[dict[str, Any]]:
        counts = product_counts(backend)
        shops = []
        for record in all_shops(backend):
            if not isinstance(record.get("id"), str):
                continue
            info = lasting_shop_info(record)
            info["products"] = counts.get(str(record.get("source_id") or record["id"]))
            info["town_key"] = fold(info["town"] or "")
            info["towns"] = ((info["town_key"], info["town"]),) if info["town"] else ()
            categories = {fold(c): c for c in reversed(info["categories"])}  # the first spelling wins
            info["category_keys"] = frozenset(categories)
            info["categories_folded"] = tuple(categories.items())
            shops.append(info)
        return shops

    return per_generation(backend, "directory", build)


# Rendered directory pages kept per minute, at most (about 60 kB each with their gzipped
# copy): every page, town and category of a region's directory fits, junk filters do not.
DIRECTORY_PAGES_KEPT = 300


@bp.get("/boutiques")
def directory():
    """Rendered once per filter, page, minute and index generation: a client asking for the
    directory in a loop costs a dictionary look-up (issue 18)."""
    backend = get_backend()
    now = now_in_paris()
    shops = directory_shops(backend)
    town, category = _choice("town"), _choice("category")
    town_key, category_key = fold(town or ""), fold(category or "")
    shown = [s for s in shops if _matches(s, town_key, category_key)]
    pages = max(1, -(-len(shown) // DIRECTORY_PER_PAGE))
    page = min(_page_number(), pages)
    kept = _this_minute(backend, "directory_pages", now)
    # The links name the mount point and the canonical link the host.
    key = (town, category, page, DIRECTORY_PER_PAGE, public_base(), request.script_root)
    page_bytes = kept.get(key)
    if page_bytes is None:
        html = _directory_page(shops, shown, town, category, page, pages, now).encode("utf-8")
        page_bytes = (html, compress(html))  # gzipped once here, not on every request
        if len(kept) < DIRECTORY_PAGES_KEPT:
            kept[key] = page_bytes
    response = Response(mimetype="text/html")
    response.vary.add("Accept-Encoding")
    if accepts_gzip(request.headers.get("Accept-Encoding")):
        response.set_data(page_bytes[1])
        response.headers["Content-Encoding"] = "gzip"
    else:
        response.set_data(page_bytes[0])
    return response


def _directory_page(
    shops: list[dict[str, Any]],
    shown: list[dict[str, Any]],
    town: str | None,
    category: str | None,
    page: int,
    pages: int,
    now: datetime,
) -> str:
    town_key, category_key = fold(town or ""), fold(category or "")
    # Each filter's chips are counted with the other filter applied, so they never lead nowhere.
    towns = [
        (value, n, bool(town) and fold(value) == town_key)
        for value, n in _count_values([s for s in shops if _matches(s, "", category_key)], "towns")
    ]
    categories = [
        (value, n, bool(category) and fold(value) == category_key)
        for value, n in _count_values([s for s in shops if _matches(s, town_key, "")], "categories_folded")
    ]
    groups: dict[str, list[dict[str, Any]]] = {}
    on_page = shown[(page - 1) * DIRECTORY_PER_PAGE : page * DIRECTORY_PER_PAGE]
    on_page = [{**s, "status": opening_status(s["schedule"], now)} for s in on_page]
    for s in on_page:
        groups.setdefault(s["town"] or _("Commune non précisée"), []).append(s)
    maps = map_settings()
    return render_template(
        "directory.html",
        groups=list(groups.items()),
        total=len(shown),
        all_total=len(shops),
        towns=towns,
        categories=categories,
        town=town,
        category=category,
        directory_url=directory_url,
        page=page,
        pages=pages,
        canonical=absolute_url("shops.directory"),
        map=maps,
        points=map_points(on_page) if maps else [],
    )
