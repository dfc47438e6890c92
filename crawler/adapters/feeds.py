"""Product feeds a shop already publishes for Google Merchant Center or Meta.

RSS 2.0 with the ``g:`` namespace, Atom (``g:`` fields in ``<entry>``), and tab- or
comma-separated files (BOM, ``;`` or ``|`` delimiters found by :class:`csv.Sniffer`,
headers written ``g:price`` / ``Price`` / ``price``, a header row one column off the
data). Prices like ``8.30 EUR`` or ``6,90 EUR`` go through :func:`parse_price`; a
``sale_price`` is the price paid now and wins. Only a product's own fields are read:
the ``<g:price>`` nested in ``<g:shipping>`` is a shipping cost, not the product's price.

A whole feed is one request, however many products it lists.
"""

from __future__ import annotations

import csv
import io
import re

import lxml.etree

from crawler.adapters import MalformedPayload, Page, absolute, gtin, product
from crawler.extract.availability import normalise_availability
from crawler.extract.prices import parse_price

kind = "feed"
G_NS = "http://base.google.com/ns/1.0"
ATOM_NS = "http://www.w3.org/2005/Atom"

# Feed field -> product key (aliases seen in Merchant Center and Meta catalogue feeds).
_FIELDS = {
    "id": "id",
    "item_id": "id",
    "title": "title",
    "name": "title",
    "description": "description",
    "summary": "description",
    "content": "description",
    "link": "link",
    "url": "link",
    "image_link": "image_link",
    "image_url": "image_link",
    "image": "image_link",
    "price": "price",
    "sale_price": "sale_price",
    "availability": "availability",
    "brand": "brand",
    "gtin": "gtin",
    "ean": "gtin",
    "upc": "gtin",
    "barcode": "gtin",
    "mpn": "mpn",
    "product_type": "product_type",
    "google_product_category": "google_product_category",
    "store_code": "store_code",
    "pickup_method": "pickup_method",
    "pickup_sla": "pickup_sla",
}
# Local inventory: where and how a shopper collects the product (Merchant Center words,
# ``ship to store`` / ``same day`` / ``multi-week``), kept as snake_case keys.
_PICKUP_METHODS = {"buy", "reserve", "ship_to_store", "not_supported"}
_PICKUP_SLAS = {"same_day", "next_day", "2_day", "3_day", "4_day", "5_day", "6_day", "7_day", "multi_week"}
_AVAILABILITY_WORDS = {
    "backorder": "preorder",
    "pre-order": "preorder",
    "limited availability": "in_stock",
    "on display to order": "preorder",
    "on_display_to_order": "preorder",
}


def sniff(body: bytes) -> str:
    """``xml`` or ``csv`` from the first bytes (feeds are often served as text/plain)."""
    head = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:200].lower()
    return "xml" if head.startswith(b"<") else "csv"


def parse(body: bytes, base_url: str) -> Page:
    """Every product of a feed (one page: feeds are not paginated)."""
    if not body or not body.strip():
        raise MalformedPayload("the feed is empty")
    return parse_xml(body, base_url) if sniff(body) == "xml" else parse_csv(body, base_url)


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def parse_xml(body: bytes, base_url: str) -> Page:
    parser = lxml.etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=False)
    try:
        root = lxml.etree.fromstring(body.lstrip(b"\xef\xbb\xbf \t\r\n"), parser)
    except lxml.etree.XMLSyntaxError as exc:
        raise MalformedPayload(f"the feed is not well-formed XML: {exc}") from None
    if _local(root.tag) not in ("rss", "feed", "rdf"):
        raise MalformedPayload(f"not an RSS or Atom feed (root element <{_local(root.tag)}>)")
    out = Page()
    for item in root.iter("item", f"{{{ATOM_NS}}}entry", "entry"):
        fields: dict[str, str] = {}
        google: dict[str, str] = {}
        for child in item:  # direct children only: g:shipping/g:price is not the price
            name = _local(child.tag)
            key = _FIELDS.get(name)
            if key is None:
                continue
            if name == "link" and child.get("href"):
                value = child.get("href") if child.get("rel", "alternate") == "alternate" else None
            else:
                value = (child.text or "").strip()
            if not value:
                continue
            target = google if child.tag.startswith(f"{{{G_NS}}}") else fields
            target.setdefault(key, value)
        record = feed_product({**fields, **google}, base_url)
        if record is not None:
            out.products.append(record)
    return out


def _header(name: str) -> str:
    name = name.strip().strip('"').lower().removeprefix("g:").replace(" ", "_").replace("-", "_")
    return _FIELDS.get(name, name)


def _decode(body: bytes) -> str:
    for encoding in ("utf-8-sig", "utf-16") if body[:2] not in (b"\xff\xfe", b"\xfe\xff") else ("utf-16",):
        try:
            return body.decode(encoding)
        except UnicodeDecodeError:
            continue
    return body.decode("cp1252", "replace")


def parse_csv(body: bytes, base_url: str) -> Page:
    text = _decode(body)
    sample = text[:8192]
    try:
        dialect = csv.Sniffer().sniff(sample.split("\n", 1)[0] + "\n", delimiters="\t,;|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = "\t" if "\t" in sample else ","
    try:
        rows = [
            row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) if any(c.strip() for c in row)
        ]
    except csv.Error as exc:
        raise MalformedPayload(f"the feed is not a readable CSV/TSV file: {exc}") from None
    if not rows:
        raise MalformedPayload("the feed has no rows")
    header = [_header(h) for h in rows[0]]
    if "title" not in header:
        raise MalformedPayload("the feed has no title column (is the first row a header?)")
    out = Page()
    for line, row in enumerate(rows[1:], start=2):
        row = _align(row, header)
        if row is None:
            out.warnings.append(f"line {line}: {len(row or [])} cells for {len(header)} columns, skipped")
            continue
        record = feed_product(dict(zip(header, (c.strip() for c in row), strict=False)), base_url)
        if record is not None:
            out.products.append(record)
    return out


def _align(row: list[str], header: list[str]) -> list[str] | None:
    """A data row lined up with the header; None when it cannot be.

    Exports are often one column off: every row ends with the delimiter (one empty cell
    too many), or the header lacks the row-number column the data starts with.
    """
    if len(row) == len(header):
        return row
    if len(row) == len(header) + 1:
        if not row[-1].strip():
            return row[:-1]
        if row[0].strip().isdigit():
            return row[1:]
    if len(row) == len(header) - 1 and not header[-1]:
        return [*row, ""]
    if len(row) < len(header):
        return row + [""] * (len(header) - len(row))  # trailing empty cells trimmed by the exporter
    return None


def _availability(value: str | None) -> str:
    if not value:
        return "unknown"
    word = value.strip().lower()
    return _AVAILABILITY_WORDS.get(word) or normalise_availability(word) or "unknown"


def _category(value: str | None) -> str | None:
    """``Maison > Bougies > Bougies parfumées`` -> ``Bougies parfumées`` (the most specific)."""
    if not value:
        return None
    return re.split(r"\s*>\s*", value.strip())[-1] or None


def _pickup(value: str | None, known: set[str]) -> str | None:
    """``Ship to store`` -> ``ship_to_store``; a word outside Merchant Center's list is dropped."""
    if not value:
        return None
    word = re.sub(r"[\s-]+", "_", value.strip().lower())
    return word if word in known else None


def feed_product(fields: dict[str, str], base_url: str) -> dict | None:
    if not fields.get("title"):
        return None
    if not any(fields.get(key) for key in ("price", "sale_price", "availability", "gtin")):
        return None  # a blog post in a plain RSS feed, not a product
    price, currency = parse_price(fields.get("price"))
    sale, sale_currency = parse_price(fields.get("sale_price"))
    if sale is not None:
        price, currency = sale, sale_currency or currency
    return product(
        name=fields.get("title"),
        price=price,
        currency=currency if price is not None else None,
        availability=_availability(fields.get("availability")),
        url=absolute(fields.get("link"), base_url),
        image=absolute(fields.get("image_link"), base_url),
        description=fields.get("description"),
        brand=fields.get("brand"),
        sku=fields.get("id") or fields.get("mpn"),
        gtin=gtin(fields.get("gtin")),
        category=_category(fields.get("product_type") or fields.get("google_product_category")),
        store_code=(fields.get("store_code") or "").strip()[:100] or None,
        pickup_method=_pickup(fields.get("pickup_method"), _PICKUP_METHODS),
        pickup_sla=_pickup(fields.get("pickup_sla"), _PICKUP_SLAS),
    )
