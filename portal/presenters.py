"""Search results as the portal shows them: one shape for the HTML pages and the JSON API.

Hits come from the index, whose content was crawled: URLs are passed through
:func:`safe_url` here, once, so neither templates nor API clients receive a
``javascript:`` link. Text stays raw; Jinja escapes it when rendering.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from indexer.records import price_high_kept, price_string
from indexer.search import FACETS, FacetValue, SearchQuery, SearchResult
from portal.formatting import (
    SERVICE_LABELS,
    availability_class,
    availability_label,
    facet_value_label,
    format_distance,
    parse_time,
    price_label,
    safe_url,
    service_label,
    shorten,
)
from portal.images import image_urls


def _price(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        price = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return price if price.is_finite() and price >= 0 else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, (list, tuple)) else []


def _distance(value: Any) -> float | None:
    try:
        km = float(value)
    except (TypeError, ValueError):
        return None
    return round(km, 2) if km == km and km >= 0 else None


class ProductView(dict):
    """The documented ``/api/search`` result shape, plus ``name_segments`` for templates
    only (an attribute, so the JSON shape does not change)."""

    name_segments: list[tuple[str, bool]] = []


def name_segments(hit: dict[str, Any], name: str) -> list[tuple[str, bool]]:
    """The backend's ``name_highlight`` as (text, matched) pairs, kept only when they are
    plain strings that spell the name exactly; the template escapes each piece."""
    segments = hit.get("name_highlight")
    if not isinstance(segments, (list, tuple)):
        return []
    clean = []
    for segment in segments:
        if not (isinstance(segment, (list, tuple)) and len(segment) == 2 and isinstance(segment[0], str)):
            return []
        clean.append((segment[0], bool(segment[1])))
    if "".join(text for text, _ in clean) != name or not any(matched for _, matched in clean):
        return []
    return clean


def product_view(hit: dict[str, Any]) -> dict[str, Any]:
    """The documented ``/api/search`` result shape (templates use the same dict)."""
    view = ProductView(_product_fields(hit))
    view.name_segments = name_segments(hit, view["name"])
    return view


def _image_paths(key: Any) -> dict[str, str | None]:
    """The portal's own copies of the product's image (portal.images), when the crawler stored one."""
    urls = image_urls(key) or {}
    return {"image_small": urls.get("s"), "image_large": urls.get("m")}


def _product_fields(hit: dict[str, Any]) -> dict[str, Any]:
    amount = _price(hit.get("price"))
    amount_high = price_high_kept(amount, _price(hit.get("price_high")))  # whatever the index holds
    price = price_string(amount) if amount is not None else None
    high = price_string(amount_high) if amount_high is not None else None
    currency = _text(hit.get("currency")) or ("EUR" if price is not None else None)
    availability = availability_class(hit.get("availability"))
    distance = _distance(hit.get("distance_km"))
    seen = parse_time(hit.get("last_seen"))
    return {
        "id": hit.get("id"),
        "name": _text(hit.get("name")) or "",
        "price": price,
        "price_display": price_label(price, high, currency) if price is not None else "",
        "currency": currency,
        "availability": availability,
        "availability_label": availability_label(availability),
        "url": safe_url(hit.get("url")),
        "image": safe_url(hit.get("image")),  # the shop's URL, for API clients; pages show image_small/large
        **_image_paths(hit.get("image_key")),
        "description": shorten(hit.get("description"), 180),
        "brand": _text(hit.get("brand")),
        "category": _text(hit.get("category")),
        "shop": {
            "id": _text(hit.get("shop_id")),
            "name": _text(hit.get("shop_name")) or "",
            "url": safe_url(hit.get("shop_url")),
        },
        "town": _text(hit.get("town")),
        "postcode": _text(hit.get("postcode")),
        "distance_km": distance,
        "price_high": high,
        "services": [s for s in dict.fromkeys(_strings(hit.get("services"))) if s in SERVICE_LABELS],
        "last_seen": seen.isoformat().replace("+00:00", "Z") if seen else None,
    }


def facet_values_view(name: str, values: list[FacetValue], query: SearchQuery) -> list[dict[str, Any]]:
    """Facet values with labels; a ticked value the backend did not return still shows,
    so the resident can untick it."""
    selected = set(query.filters.get(name, ()))
    out = [
        {
            "value": v.value,
            "count": int(v.count),
            "selected": bool(v.selected or v.value in selected),
            "label": facet_value_label(name, v.value),
        }
        for v in values
    ]
    present = {v["value"] for v in out}
    out.extend(
        {"value": value, "count": 0, "selected": True, "label": facet_value_label(name, value)}
        for value in query.filters.get(name, ())
        if value not in present
    )
    return out


def facets_view(result: SearchResult, query: SearchQuery) -> dict[str, list[dict[str, Any]]]:
    names = [name for name in FACETS if name in result.facets or name in query.filters]
    return {name: facet_values_view(name, result.facets.get(name, []), query) for name in names}


def search_view(result: SearchResult, query: SearchQuery) -> dict[str, Any]:
    return {
        "total": int(result.total),
        "page": int(result.page),
        "per_page": int(result.per_page),
        "pages": int(result.pages),
        "results": [product_view(hit) for hit in result.hits],
        "facets": facets_view(result, query),
    }


def shop_view(shop: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": shop.get("id"),
        "name": _text(shop.get("name")) or "",
        "url": safe_url(shop.get("url")),
        "address": _text(shop.get("address")),
        "postcode": _text(shop.get("postcode")),
        "town": _text(shop.get("town")),
        "telephone": _text(shop.get("telephone")),
        "opening_hours": [h for h in shop.get("opening_hours") or [] if isinstance(h, str) and h.strip()],
        "services": [service_label(s) for s in shop.get("services") or [] if isinstance(s, str)],
        "categories": [c for c in shop.get("categories") or [] if isinstance(c, str)],
        "description": shorten(shop.get("description"), 600),
    }


def distance_display(km: float | None) -> str:
    return format_distance(km) if km is not None else ""
