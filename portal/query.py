"""From a query string to a :class:`SearchQuery`: the one place parameters are validated.

Every parameter lives in the query string so a search is bookmarkable and shareable:
``q``, ``town``, ``category``, ``availability``, ``shop``, ``services`` (repeatable),
``price_min``, ``price_max``, ``sort``, ``page``, ``per_page``, ``lat``, ``lon``, ``radius``,
``near`` (a town of the registered shops: ``near=Tours&radius=5``, resolved to the town's
point server-side, so "près de Tours" is a plain link that works without JavaScript).

The HTML pages are lenient (a bad number is ignored, a resident never sees an error page
for a hand-edited URL); the JSON API is strict (``strict=True`` raises :class:`BadQuery`,
answered with a 400). Ranges are clamped in both.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from indexer.analysis import fold
from indexer.places import TOWN_RADIUS_KM, Towns, find_town, town_scope, typed_place
from indexer.search import FACETS, MAX_RESULT_WINDOW, SORTS, Near, SearchQuery
from portal.i18n import _

# What one request may ask of the portal (pages and JSON API); the backends' own limits,
# such as the deepest result any search serves (MAX_RESULT_WINDOW), are the indexer's.
PER_PAGE = 20
API_MAX_PER_PAGE = 50  # the per_page parameter's cap, on the pages and /api/search
MAX_SUGGESTIONS = 20  # /api/suggest?limit=
SHOPS_PER_PAGE = 50  # /api/shops?per_page= by default
MAX_SHOPS_PER_PAGE = 200  # and at most
MAX_TEXT = 200
MAX_VALUES_PER_FILTER = 20
MAX_VALUE_LENGTH = 200
DEFAULT_RADIUS_KM = 20.0
MAX_RADIUS_KM = 300.0
MAX_PRICE = Decimal("1e10")

FILTER_PARAMS: tuple[str, ...] = tuple(FACETS)
PARAMS: tuple[str, ...] = (
    "q",
    *FILTER_PARAMS,
    "price_min",
    "price_max",
    "sort",
    "page",
    "per_page",
    "lat",
    "lon",
    "radius",
    "near",
)
PLACE_PARAMS: tuple[str, ...] = ("near", "lat", "lon", "radius")


class BadQuery(ValueError):
    """A parameter the strict API refuses; the message names the parameter."""


@dataclass(frozen=True)
class Notices:
    """What a search asked for that the portal could not honour, to say on the page and in
    the API: a place that is no town of the shops (``near=Paris``, "près de Vierzon"), shop
    values that name no shop (the page drops them; the API answers 400)."""

    unknown_place: str | None = None
    unknown_shops: tuple[str, ...] = ()
    town: str | None = None  # the town of the shops the words named ("miel Tours")


def resolve_shops(values: tuple[str, ...], shops: Mapping[str, str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``shop=`` values as the shop facet's names: a shop's id (``chandellerie-d-amboise``)
    or its name (accents and case ignored) -> its name. ``shops``: id -> name. Returns
    ``(names, unknown values)``."""
    names = {fold(name): name for name in shops.values()}
    found: dict[str, None] = {}
    unknown = []
    for value in values:
        name = shops.get(value) or names.get(fold(value))
        if name:
            found.setdefault(name, None)
        else:
            unknown.append(value)
    return tuple(found), tuple(unknown)


def _getlist(args: Any, name: str) -> list[str]:
    if hasattr(args, "getlist"):
        return [v for v in args.getlist(name) if isinstance(v, str)]
    value = args.get(name) if isinstance(args, Mapping) else None
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, str)]
    return [str(value)]


def _first(args: Any, name: str) -> str:
    values = _getlist(args, name)
    return values[0].strip() if values else ""


def _clean_text(value: str, limit: int) -> str:
    # Control characters never belong in a query; collapse whitespace.
    value = "".join(ch if ch.isprintable() else " " for ch in value)
    return " ".join(value.split())[:limit]


def _filter_values(values: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for raw in values:
        value = _clean_text(raw, MAX_VALUE_LENGTH)
        if value:
            seen.setdefault(value, None)
        if len(seen) >= MAX_VALUES_PER_FILTER:
            break
    return tuple(seen)


class _Parser:
    def __init__(self, args: Any, strict: bool):
        self.args = args
        self.strict = strict

    def fail(self, message: str) -> None:
        if self.strict:
            raise BadQuery(message)

    def integer(self, name: str) -> int | None:
        raw = _first(self.args, name)
        if not raw:
            return None
        try:
            return int(raw)
        except ValueError:
            self.fail(f"{name}: expected an integer, got {raw[:40]!r}")
            return None

    def number(self, name: str) -> float | None:
        raw = _first(self.args, name)
        if not raw:
            return None
        try:
            value = float(raw.replace(",", "."))
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            self.fail(f"{name}: expected a number, got {raw[:40]!r}")
            return None
        return value

    def price(self, name: str) -> Decimal | None:
        raw = _first(self.args, name).replace("€", "").replace(" ", "").replace("\u00a0", "")
        if not raw:
            return None
        try:
            value = Decimal(raw.replace(",", "."))
        except InvalidOperation:
            self.fail(f"{name}: expected a price such as 12.50, got {raw[:40]!r}")
            return None
        if not value.is_finite() or value < 0 or value > MAX_PRICE:
            self.fail(f"{name}: expected a price between 0 and {MAX_PRICE:f}")
            return None
        return value


def query_from_args(
    args: Any,
    *,
    strict: bool = False,
    per_page: int = PER_PAGE,
    towns: Towns | None = None,
    shops: Mapping[str, str] | None = None,
) -> SearchQuery:
    """:func:`parse_search` without its notices."""
    return parse_search(args, strict=strict, per_page=per_page, towns=towns, shops=shops)[0]


def parse_search(
    args: Any,
    *,
    strict: bool = False,
    per_page: int = PER_PAGE,
    towns: Towns | None = None,
    shops: Mapping[str, str] | None = None,
) -> tuple[SearchQuery, Notices]:
    """Build the backend query from request args (a ``MultiDict`` or a plain mapping).

    Lenient by default: unparseable numbers are ignored, an unknown sort falls back to
    relevance, ``price_min > price_max`` is swapped. ``strict=True`` raises
    :class:`BadQuery` for those instead. Always: ``page >= 1`` and within the results
    window, ``1 <= per_page <= 50``, text and filter values trimmed and bounded.

    ``near`` (a town name) is resolved with ``towns`` (``backend.town_points()``) by
    :mod:`indexer.places`: a circle of ``radius`` km (10 by default) around the town, or a
    town filter when its shops publish no coordinates; it wins over ``lat``/``lon``, since
    the picker sits next to them in one form. Without ``near``, ``lat`` or ``lon``, a town
    typed in the words (``q=livre près de Tours``, ``q=livre Tours``) means the same as
    ``q=livre&near=Tours``. An unknown place (``near=Paris``, ``q=livre près de Vierzon``)
    is searched nowhere in particular and returned in the notices, on the page and the API.

    ``shops`` (id -> name) lets ``shop=`` name a shop by id or name; a value naming no shop
    is dropped and noticed (strict: refused).
    """
    p = _Parser(args, strict)

    text = _clean_text(_first(args, "q"), MAX_TEXT)
    filters = {name: values for name in FILTER_PARAMS if (values := _filter_values(_getlist(args, name)))}
    unknown_shops: tuple[str, ...] = ()
    if filters.get("shop") and shops is not None:
        names, unknown_shops = resolve_shops(filters["shop"], shops)
        if unknown_shops and strict:
            raise BadQuery(
                _("shop : aucune boutique « %(shop)s » (donnez son identifiant, comme dans /api/shops, ou son nom)")
                % {"shop": unknown_shops[0][:60]}
            )
        filters = {k: v for k, v in filters.items() if k != "shop"} | ({"shop": names} if names else {})

    price_min, price_max = p.price("price_min"), p.price("price_max")
    if price_min is not None and price_max is not None and price_min > price_max:
        p.fail("price_min: must not be greater than price_max")
        price_min, price_max = price_max, price_min

    near = None
    lat, lon, radius = p.number("lat"), p.number("lon"), p.number("radius")
    town_name = _first(args, "near")
    town = find_town(towns, town_name) if town_name and towns is not None else None
    unknown_place = (
        _clean_text(town_name, MAX_VALUE_LENGTH) if town_name and town is None and towns is not None else None
    )
    typed = typed_place(text, towns) if not (town_name or _first(args, "lat")) and towns is not None else None
    if typed is not None:  # "livre près de Tours" typed in the words: as near=Tours (the page redirects there)
        text, town, unknown_place = _clean_text(typed.words, MAX_TEXT), typed.town, typed.unknown
    if town is not None:
        if radius is None or radius <= 0:
            radius = TOWN_RADIUS_KM
        near, filters = town_scope(town, filters, min(radius, MAX_RADIUS_KM))
    elif lat is not None or lon is not None:
        if lat is None or lon is None:
            p.fail("lat, lon: give both to search near a place")
        elif not (-90 <= lat <= 90 and -180 <= lon <= 180):
            p.fail("lat, lon: out of range")
        else:
            if radius is None or radius <= 0:
                radius = DEFAULT_RADIUS_KM
            near = Near(lat=lat, lon=lon, radius_km=min(radius, MAX_RADIUS_KM))

    # Without words: around the resident's own position, nearest first; anywhere else (a
    # town too), the browse order: in stock and recently seen first, never by price.
    sort = _first(args, "sort") or ("distance" if near and town is None and not text else "relevance")
    if sort not in SORTS:
        p.fail(f"sort: expected one of {', '.join(SORTS)}")
        sort = "relevance"
    if sort == "distance" and near is None:
        p.fail("sort: 'distance' needs lat and lon")
        sort = "relevance"

    size = p.integer("per_page")
    size = per_page if size is None else size
    size = max(1, min(size, API_MAX_PER_PAGE))
    page = p.integer("page") or 1
    page = max(1, min(page, MAX_RESULT_WINDOW // size))

    query = SearchQuery(
        text=text,
        filters=filters,
        price_min=price_min,
        price_max=price_max,
        near=near,
        sort=sort,  # type: ignore[arg-type]
        page=page,
        per_page=size,
    )
    typed_town = typed.town.name if typed is not None and typed.town is not None else None
    return query, Notices(unknown_place=unknown_place, unknown_shops=unknown_shops, town=typed_town)


def with_page(query: SearchQuery, page: int) -> SearchQuery:
    return replace(query, page=max(1, page))


def is_filtered(query: SearchQuery) -> bool:
    return bool(query.filters or query.price_min is not None or query.price_max is not None or query.near)
