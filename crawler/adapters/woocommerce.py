"""WooCommerce Store API: ``/wp-json/wc/store/v1/products?per_page=100&page=N``.

Public (no key), paginated by ``X-WP-TotalPages``; prices are strings in minor units with
``currency_minor_unit`` (``"1250"`` and 2 mean 12.50). A 500-product shop costs five
requests. ``modified_after`` asks only for products changed since the last run, on
shops whose Store API supports it (WooCommerce 8+: ``after`` + ``date_column=modified``).

The Store API lives under the WordPress REST root, which is not always ``/wp-json/``:
WordPress installed in a sub-folder announces ``https://shop.fr/boutique/wp-json/``, and one
without pretty permalinks ``https://shop.fr/?rest_route=/``. Every WordPress page names
its root (a ``Link: <…>; rel="https://api.w.org/"`` header and the same ``<link>`` tag):
:func:`rest_root` reads it, and the URLs here are built under it.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import lxml.html
from requests.utils import parse_header_links

from crawler.adapters import MalformedPayload, Page, absolute, as_list, gtin, product
from crawler.extract.prices import normalise_currency

kind = "woocommerce"
PAGE_SIZE = 100  # the Store API's maximum per_page
ROUTE = "wc/store/v1/products"
API_REL = "https://api.w.org/"  # the link relation WordPress names its REST root with
_API_TAG = re.compile(r"<link[^>]+https://api\.w\.org/", re.I)


def rest_root(html: str | bytes | None, headers: dict[str, str] | None, page_url: str) -> str | None:
    """The WordPress REST root a page announces (``Link`` header first, then the tag), else
    None. Only a root on the shop's own host counts: a page cannot send the crawler elsewhere."""
    for name, value in (headers or {}).items():
        if name.lower() != "link":
            continue
        for link in parse_header_links(value):
            if API_REL in (link.get("rel") or "").split() and link.get("url"):
                return _own(urljoin(page_url, link["url"]), page_url)
    if not html or not _API_TAG.search(html if isinstance(html, str) else html.decode("utf-8", "replace")):
        return None
    try:
        tree = lxml.html.fromstring(html if isinstance(html, bytes) else html.encode())
    except (lxml.etree.ParserError, ValueError):
        return None
    for link in tree.xpath("//link[@href]"):
        if API_REL in (link.get("rel") or "").split():
            return _own(urljoin(page_url, link.get("href").strip()), page_url)
    return None


def _own(url: str, page_url: str) -> str | None:
    """``url`` if it is http(s) on ``page_url``'s host (``www.`` or not), else None."""
    if not url.startswith(("http://", "https://")):
        return None
    host, page_host = urlsplit(url).hostname or "", urlsplit(page_url).hostname or ""
    return url if host.removeprefix("www.") == page_host.removeprefix("www.") else None


def default_root(base_url: str) -> str:
    """Where the REST root is when nothing announces another: ``/wp-json/`` at the host's root."""
    return urljoin(base_url, "/wp-json/")


def products_url(
    base_url: str,
    page: int = 1,
    modified_after: str | None = None,
    *,
    root: str | None = None,
    per_page: int = PAGE_SIZE,
) -> str:
    """The Store API's product list under the REST ``root`` (default: ``/wp-json/`` of ``base_url``)."""
    query: dict[str, str | int] = {"per_page": per_page, "page": page}
    if modified_after:
        query.update({"after": modified_after, "date_column": "modified"})
    parts = urlsplit(root or default_root(base_url))
    params = parse_qsl(parts.query, keep_blank_values=True)
    route = dict(params).get("rest_route")
    if route is not None:  # plain permalinks: the route travels in the query string
        params = [(k, v) for k, v in params if k != "rest_route"]
        query = {"rest_route": route.rstrip("/") + "/" + ROUTE, **dict(params), **query}
        return urlunsplit(parts._replace(query=urlencode(query), fragment=""))
    path = parts.path.rstrip("/") + "/" + ROUTE
    return urlunsplit(parts._replace(path=path, query=urlencode(query), fragment=""))


def first_request(base_url: str, modified_after: str | None = None, *, root: str | None = None) -> str:
    return products_url(base_url, 1, modified_after, root=root)


def _minor(value: object, minor_unit: int) -> Decimal | None:
    if value in (None, "") or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value).strip()).scaleb(-minor_unit)
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() and amount >= 0 else None


def store_product(raw: dict, base_url: str) -> dict | None:
    if not isinstance(raw, dict) or not raw.get("name"):
        return None
    prices = raw.get("prices") if isinstance(raw.get("prices"), dict) else {}
    declared_unit = prices.get("currency_minor_unit", 2)  # absent in very old Store APIs: cents
    minor_unit = declared_unit if isinstance(declared_unit, int) and not isinstance(declared_unit, bool) else None
    if minor_unit is None or not 0 <= minor_unit <= 4:
        prices = {}  # no currency has more than 4 minor digits: an unreadable price, not a guess
        minor_unit = 2
    # price is what is paid now (the sale price while a sale runs); variable products
    # declare price_range, whose min_amount is the "from" price.
    price = _minor(prices.get("price"), minor_unit)
    price_range = prices.get("price_range") if isinstance(prices.get("price_range"), dict) else None
    high = None
    if price_range and _minor(price_range.get("min_amount"), minor_unit) is not None:
        price = _minor(price_range.get("min_amount"), minor_unit)
        high = _minor(price_range.get("max_amount"), minor_unit)
    if raw.get("is_in_stock") is True:
        availability = "in_stock"
    elif raw.get("is_on_backorder") is True:
        availability = "preorder"
    elif raw.get("is_in_stock") is False:
        availability = "out_of_stock"
    else:
        availability = "unknown"
    images = [i for i in as_list(raw.get("images")) if isinstance(i, dict)]
    categories = [c.get("name") for c in as_list(raw.get("categories")) if isinstance(c, dict) and c.get("name")]
    brands = [b.get("name") for b in as_list(raw.get("brands")) if isinstance(b, dict) and b.get("name")]
    return product(
        name=raw.get("name"),
        price=price,
        price_high=high if price is not None and high is not None and high > price else None,
        currency=normalise_currency(prices.get("currency_code")) if price is not None else None,
        availability=availability,
        url=absolute(raw.get("permalink"), base_url),
        image=absolute(images[0].get("src"), base_url) if images else None,
        description=raw.get("short_description") or raw.get("description"),
        brand=brands[0] if brands else None,
        sku=raw.get("sku") or None,
        gtin=gtin(raw.get("gtin") or raw.get("global_unique_id")),
        category=categories[0] if categories else None,
    )


def parse(
    body: bytes | str,
    base_url: str,
    *,
    page: int = 1,
    total_pages: int | None = None,
    modified_after: str | None = None,
    max_pages: int = 1000,
    root: str | None = None,
) -> Page:
    """One Store API page; ``total_pages`` is the ``X-WP-TotalPages`` header when sent."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedPayload(f"Store API page {page} is not JSON: {exc}") from None
    if not isinstance(data, list):
        raise MalformedPayload(f"Store API page {page} is not a list of products")
    out = Page(total=None)
    for raw in data:
        folded = store_product(raw, base_url)
        if folded is not None:
            out.products.append(folded)
    more = (page < total_pages) if total_pages is not None else len(data) >= PAGE_SIZE
    if more and page < max_pages:
        out.next_url = products_url(base_url, page + 1, modified_after, root=root)
    return out


def total_pages(header: bytes | str | None) -> int | None:
    if header is None:
        return None
    try:
        return int(header.decode() if isinstance(header, bytes) else header)
    except (ValueError, UnicodeDecodeError):
        return None
