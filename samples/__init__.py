"""Sample shop websites of Centre-Val de Loire, served on loopback for the demo and tests.

Thirteen imaginary shops (``SHOPS``, from ``catalogue.yaml``), each with the markup style
of a real platform (``themes.py``), each on its own host ``127.0.1.N``::

    with SampleSites(port=0) as sites:              # or `python -m samples` (port 8701)
        write_sources_yaml(tmp / "sources.yaml", sites.base_urls)
        ...crawl...
        assert found == expected_products(sites.base_urls)

``expected_products`` is the ground truth of a correct crawl: one record per product a
polite crawler can reach. Intentionally unreachable products (``unreachable_products``):
one behind robots.txt (``members_only``), one whose page answers 500 (``server_error``)
and one withdrawn product whose link answers 404 (``gone``).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from samples.catalogue import HIDDEN_REASONS, ProductSpec, ShopSpec, load_catalogue
from samples.server import DEFAULT_HOST_PREFIX, DEFAULT_PORT, LoggedRequest, SampleSites
from samples.sources import sources_yaml, write_sources_yaml
from samples.themes import theme_for

SHOPS: list[ShopSpec] = load_catalogue()

__all__ = [
    "SHOPS",
    "LoggedRequest",
    "ProductSpec",
    "SampleSites",
    "ShopSpec",
    "default_base_urls",
    "demo_base_urls",
    "expected_products",
    "expected_shops",
    "shop",
    "sources_yaml",
    "unreachable_products",
    "write_sources_yaml",
]


def shop(shop_id: str) -> ShopSpec:
    for spec in SHOPS:
        if spec.id == shop_id:
            return spec
    raise KeyError(shop_id)


def default_base_urls(port: int = DEFAULT_PORT, host_prefix: str = DEFAULT_HOST_PREFIX) -> dict[str, str]:
    """Shop id -> ``http://127.0.1.N:PORT/``, the addresses ``SampleSites`` uses."""
    return {s.id: f"http://{host_prefix}{s.number}:{port}/" for s in SHOPS}


def demo_base_urls(port: int = DEFAULT_PORT, host_prefix: str = DEFAULT_HOST_PREFIX) -> dict[str, str]:
    """Every shop of the demo (the markup shops and the federation's platform shops), as
    ``samples.federation.FederationSites`` serves them: the demo registry's addresses."""
    from samples.federation import federation_base_urls

    return {**default_base_urls(port, host_prefix), **federation_base_urls(port, host_prefix)}


def _selection(
    base_urls: Mapping[str, str] | str | None, shop_id: str | None
) -> tuple[list[ShopSpec], Mapping[str, str] | None]:
    if isinstance(base_urls, str):  # expected_products("shop-id"): relative URLs of one shop
        base_urls, shop_id = None, base_urls
    shops = [s for s in SHOPS if (shop_id is None or s.id == shop_id) and (base_urls is None or s.id in base_urls)]
    if shop_id is not None and not shops:
        raise KeyError(shop_id)
    return shops, base_urls


def _price_high(product: ProductSpec) -> str | None:
    """``"29.90"``: the dearest variant when variants differ in price ("à partir de"), else None."""
    high = max((v.price for v in product.variants), default=product.price)
    return format(high.quantize(Decimal("0.01")), "f") if high > product.price else None


def _record(spec: ShopSpec, product: ProductSpec, base_urls: Mapping[str, str] | None) -> dict:
    base = base_urls[spec.id] if base_urls is not None else ""
    theme = theme_for(spec, base)
    return {
        "shop_id": spec.id,
        "name": product.name,
        "price": product.price_text,
        "price_high": _price_high(product),
        "currency": product.currency,
        "availability": product.availability,
        "url": theme.canonical(product),
        "image": theme.image_url(product),
        "sku": product.sku,
        "gtin": product.gtin,
        "brand": product.brand,
        "category": product.category,
        "description": product.description,
    }


def expected_products(base_urls: Mapping[str, str] | str | None = None, shop_id: str | None = None) -> list[dict]:
    """What a correct, polite crawl of the sample shops must find, in catalogue order.

    ``base_urls`` (shop id -> base URL, e.g. ``SampleSites.base_urls``) makes ``url`` and
    ``image`` absolute and restricts the list to those shops; without it they are
    site-absolute paths (``/products/…``). ``shop_id`` (or a string as first argument)
    selects one shop.

    Each record: ``shop_id``, ``name`` (entities decoded: the raw text, even for the hostile
    ``Bougie <script>…`` name), ``price`` (``"12.50"``; with variants the lowest),
    ``price_high`` (the dearest variant when variants differ in price, else None),
    ``currency`` (``EUR``), ``availability`` (``in_stock``/``out_of_stock``/``preorder``/
    ``unknown``; with variants ``in_stock`` if any variant is), ``url`` (canonical: no
    tracking parameters, Shopify's ``/products/<handle>`` rather than the collection path),
    ``image``, ``sku``, ``gtin`` (GTIN-13 or None), ``brand``, ``category``, ``description``.
    Products listed by ``unreachable_products`` are left out.
    """
    shops, base_urls = _selection(base_urls, shop_id)
    return [_record(s, p, base_urls) for s in shops for p in s.products if not p.hidden]


def unreachable_products(base_urls: Mapping[str, str] | str | None = None, shop_id: str | None = None) -> list[dict]:
    """The products a correct crawl must *not* return, each with ``hidden`` and ``reason``."""
    shops, base_urls = _selection(base_urls, shop_id)
    return [
        {**_record(s, p, base_urls), "hidden": p.hidden, "reason": HIDDEN_REASONS[p.hidden]}
        for s in shops
        for p in s.products
        if p.hidden
    ]


def expected_shops(base_urls: Mapping[str, str] | str | None = None, shop_id: str | None = None) -> list[dict]:
    """The shops whose home and contact pages declare schema.org shop markup
    (``business_type``), as declared: the JSON-LD node without its ``@context``."""
    shops, base_urls = _selection(base_urls, shop_id)
    out = []
    for spec in shops:
        if not spec.business_type:
            continue
        node = theme_for(spec, base_urls[spec.id] if base_urls is not None else "").shop_node()
        node.pop("@context")
        out.append({"shop_id": spec.id, "opening_hours": list(spec.hours), **node})
    return out
