"""Platform adapters: one module per source kind, each a set of pure functions.

Every adapter has the same tiny surface (SearXNG-engine style)::

    first_request(base_url, **options) -> str        # the first API/feed URL to fetch
    parse(body, base_url, ...) -> Page               # one fetched payload -> products + what next

``Page.products`` are product dicts of the same shape as :func:`crawler.extract.extract_page`
returns (``type, name, price, currency, availability, url, image, description, brand, sku,
gtin, category``), so :func:`crawler.records.build_product` takes them unchanged. A payload
that cannot be read raises :class:`MalformedPayload`: the spider counts it as an error of
that page and keeps everything else. No I/O here: spiders fetch, adapters read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from crawler.extract.prices import format_amount
from crawler.extract.text import clean_text

PRODUCT_KEYS = (
    "type",
    "name",
    "price",
    "currency",
    "availability",
    "url",
    "image",
    "description",
    "brand",
    "sku",
    "gtin",
    "category",
)
# Local-inventory fields (Google local inventory feeds): present only when a feed declares them.
LOCAL_KEYS = ("store_code", "pickup_method", "pickup_sla")
# Present only when a product has several prices (variants): the dearest one, "à partir de".
RANGE_KEYS = ("price_high",)


class MalformedPayload(ValueError):
    """The payload is not what the platform publishes (truncated JSON, an HTML error page...)."""


@dataclass
class Page:
    products: list[dict] = field(default_factory=list)
    next_url: str | None = None  # the next page to fetch, None when this was the last one
    total: int | None = None  # products the platform says it has, when it says so
    warnings: list[str] = field(default_factory=list)


def product(**fields) -> dict:
    """A product dict with every key present (None when unknown)."""
    out = dict.fromkeys(PRODUCT_KEYS)
    out["type"] = "product"
    out["availability"] = "unknown"
    unknown = set(fields) - set(PRODUCT_KEYS) - set(LOCAL_KEYS) - set(RANGE_KEYS)
    if unknown:
        raise TypeError(f"unknown product fields: {sorted(unknown)}")
    out.update({k: v for k, v in fields.items() if v is not None})  # local/range keys only when known
    for key in ("price", "price_high"):
        if isinstance(out.get(key), Decimal):
            out[key] = format_amount(out[key])
    for key in ("name", "description", "brand", "category", "sku"):
        out[key] = clean_text(out[key]) if out[key] is not None else None
    return out


def as_list(value: object) -> list:
    """``value`` when it is a list, else an empty one (payloads put anything anywhere)."""
    return value if isinstance(value, list) else []


def absolute(url: object, base: str) -> str | None:
    """An absolute http(s) URL (``//cdn…`` and ``/products/…`` resolved against ``base``)."""
    if not isinstance(url, str) or not url.strip():
        return None
    resolved = urljoin(base, url.strip())
    return resolved if resolved.startswith(("http://", "https://")) else None


_TRACKING = re.compile(r"^(utm_\w+|fbclid|gclid|msclkid|mc_cid|mc_eid|_ga|ref|source)$", re.I)


def without_tracking(url: str) -> str:
    """``/produit/x/?utm_source=vitrine`` -> ``/produit/x/``: one product, one URL."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)]
    return urlunsplit(parts._replace(query=urlencode(query), fragment=""))


def gtin(value: object) -> str | None:
    """A GTIN-8/12/13/14 as digits, else None (barcodes fields also hold SKUs and junk)."""
    if value is None:
        return None
    digits = str(value).strip().replace(" ", "").replace("-", "")
    return digits if digits.isdigit() and len(digits) in (8, 12, 13, 14) else None
