"""Shopify: ``/products.json?limit=250&page=N`` until an empty page.

One request returns up to 250 products with all their variants, so a 500-product shop
costs three requests (two full pages and the empty one that ends the listing), plus the
home page for the currency, instead of 500 product pages. Variants are folded into one
product: the lowest price, in stock if any variant is available. ``products.json``
carries no currency: the shop's own pages declare it (:func:`currency_from_html`) and it
is never guessed.

Also reads the ``/products/<handle>.js`` payload (prices in cents, as integers).

A shop selling to several markets serves each one under a sub-folder (``/fr-fr/``,
``/be-nl/``) with its own language and currency; its pages say which with
``Shopify.routes.root``. ``products.json`` and product pages live under that root, so a
shop registered by its market address is read in that market (:func:`shop_root`).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

from crawler.adapters import MalformedPayload, Page, absolute, as_list, gtin, product
from crawler.extract.prices import normalise_currency

kind = "shopify"
PAGE_SIZE = 250  # Shopify's maximum for products.json
PAGE_CAP = 100  # Shopify stops paginating products.json by page number after a while; so do we


# Shopify Markets sub-folders: a language, optionally a country (``/fr/``, ``/fr-be/``, ``/en-ca/``).
_MARKET = re.compile(r"^/([a-z]{2}(?:-[a-z]{2})?)(?:/|$)", re.I)
_ROUTES_ROOT = re.compile(r"""Shopify\.routes\.root\s*=\s*["']([^"'<>]{1,40})["']""")


def shop_root(url: str, html: str | bytes | None = None) -> str:
    """The root the shop's storefront answers under: ``https://shop.fr/`` or a market's
    ``https://shop.fr/fr-fr/``. The page's ``Shopify.routes.root`` says it when given;
    else a market sub-folder at the start of ``url``'s path; else the host's root."""
    parts = urlsplit(url)
    if html is not None:
        text = html.decode("utf-8", "replace") if isinstance(html, bytes) else html
        declared = _ROUTES_ROOT.search(text)
        if declared and _MARKET.match(declared.group(1).rstrip("/") + "/"):
            return urlunsplit((parts.scheme, parts.netloc, declared.group(1).rstrip("/") + "/", "", ""))
        if declared and declared.group(1) == "/":
            return urlunsplit((parts.scheme, parts.netloc, "/", "", ""))
    market = _MARKET.match(parts.path)
    path = f"/{market.group(1)}/" if market else "/"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def products_url(base_url: str, page: int = 1, limit: int = PAGE_SIZE) -> str:
    """``products.json`` under the shop's root (``base_url`` may be any of its addresses)."""
    return urljoin(shop_root(base_url), "products.json") + "?" + urlencode({"limit": limit, "page": page})


def first_request(base_url: str) -> str:
    return products_url(base_url, 1)


_CURRENCY_PATTERNS = (
    re.compile(r'Shopify\.currency\s*=\s*\{[^}]*?"active"\s*:\s*"([A-Za-z]{3})"'),
    re.compile(r'<meta[^>]+property=["\']og:price:currency["\'][^>]+content=["\']([A-Za-z]{3})'),
    re.compile(r'<meta[^>]+content=["\']([A-Za-z]{3})["\'][^>]+property=["\']og:price:currency'),
    re.compile(r'"currency"\s*:\s*"([A-Za-z]{3})"'),  # ShopifyAnalytics.meta, /cart.js
    re.compile(r'"priceCurrency"\s*:\s*"([A-Za-z]{3})"'),
)


def currency_from_html(text: str | bytes) -> str | None:
    """The shop's currency as its home page (or ``/cart.js``) declares it, else None."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    for pattern in _CURRENCY_PATTERNS:
        match = pattern.search(text)
        if match and normalise_currency(match.group(1)):
            return normalise_currency(match.group(1))
    return None


def meta_url(base_url: str) -> str:
    """``/meta.json``: the shop's public summary (name, currency, product count)."""
    return urljoin(base_url, "/meta.json")


def currency_from_meta(body: bytes | str) -> str | None:
    """The currency ``/meta.json`` (or ``/cart.js``) declares, else None."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return normalise_currency(data.get("currency")) if isinstance(data, dict) else None


def _money(value: object) -> Decimal | None:
    """products.json prices are strings (``"12.50"``); product.js prices are cents (``1250``)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        if isinstance(value, int):
            return Decimal(value) / 100
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() and amount >= 0 else None


def fold_product(raw: dict, base_url: str, currency: str | None) -> dict | None:
    """One Shopify product (variants folded) as a product dict; None without a title."""
    if not isinstance(raw, dict) or not raw.get("title"):
        return None
    variants = [v for v in as_list(raw.get("variants")) if isinstance(v, dict)]
    priced = [(p, v) for v in variants if (p := _money(v.get("price"))) is not None]
    cheapest = min(priced, key=lambda pv: pv[0]) if priced else (None, variants[0] if variants else {})
    price, chosen = cheapest
    high = max((p for p, _ in priced), default=None)
    if price is None:
        price = _money(raw.get("price_min", raw.get("price")))
        high = _money(raw.get("price_max"))
    availability = "unknown"
    flags = [v.get("available") for v in variants if isinstance(v.get("available"), bool)]
    if not flags and isinstance(raw.get("available"), bool):
        flags = [raw["available"]]
    if flags:
        availability = "in_stock" if any(flags) else "out_of_stock"
    image = None
    images = as_list(raw.get("images"))
    if images:
        first = images[0]
        image = first.get("src") if isinstance(first, dict) else first
    if not image:
        featured = raw.get("image") if isinstance(raw.get("image"), dict) else {}
        image = raw.get("featured_image") or featured.get("src")
    handle = raw.get("handle")
    url = absolute(f"products/{handle}", shop_root(base_url)) if handle else absolute(raw.get("url"), base_url)
    category = raw.get("product_type") or raw.get("type") or None
    return product(
        name=raw.get("title"),
        price=price,
        price_high=high if price is not None and high is not None and high > price else None,
        currency=currency if price is not None else None,
        availability=availability,
        url=url,
        image=absolute(image, base_url),
        description=raw.get("body_html") if "body_html" in raw else raw.get("description"),
        brand=raw.get("vendor") or None,
        sku=(chosen or {}).get("sku") or None,
        gtin=gtin((chosen or {}).get("barcode")),
        category=category,
    )


def parse(
    body: bytes | str, base_url: str, *, page: int = 1, currency: str | None = None, max_pages: int = PAGE_CAP
) -> Page:
    """One ``products.json`` page. ``next_url`` is the following page unless this one was empty
    or the page cap is reached (a short page is not trusted as the last: some shops and
    proxies lower ``limit`` silently, so the listing ends only on an empty page)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedPayload(f"products.json page {page} is not JSON: {exc}") from None
    single = isinstance(data, dict) and "products" not in data and bool(data.get("title"))
    if single:
        data = {"products": [data]}  # a single /products/<handle>.js payload
    if not isinstance(data, dict) or not isinstance(data.get("products"), list):
        raise MalformedPayload(f"products.json page {page} has no 'products' list")
    out = Page()
    if currency is None and data["products"]:
        out.warnings.append("the shop's pages declare no currency: prices are kept without one")
    for raw in data["products"]:
        folded = fold_product(raw, base_url, currency)
        if folded is not None:
            out.products.append(folded)
    if single:
        return out
    if data["products"] and page < max_pages:
        out.next_url = products_url(base_url, page + 1)
    elif data["products"]:
        out.warnings.append(f"page cap reached ({max_pages} pages): further products are left for the next run")
    return out
