"""One HTML page in, the products and shops it declares out.

The page is parsed once with lxml; each syntax reader then runs on that tree,
and only when the page uses the syntax (RDFa in particular is only read when
it declares products). Records from all syntaxes are merged so that a product
declared in JSON-LD, microdata and OpenGraph comes out once, with each field
taken from the most reliable syntax that has it.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import lxml.etree
import lxml.html
from w3lib.encoding import html_body_declared_encoding

from crawler.extract import availability as av
from crawler.extract.jsonld import LenientJsonLdExtractor
from crawler.extract.microdata import extract_microdata
from crawler.extract.opengraph import extract_opengraph, og_first, opengraph_product
from crawler.extract.rdfa import extract_rdfa, has_rdfa_products
from crawler.extract.schemaorg import (
    Graph,
    finalise_product,
    highest_price,
    is_product,
    is_real_product,
    is_shop,
    product_record,
    shop_record,
    type_names,
)
from crawler.extract.text import clean_text
from crawler.extract.urls import absolute_url, canonical_link, document_base

logger = logging.getLogger(__name__)

# Preference when two syntaxes disagree: JSON-LD is written for machines,
# microdata is glued to visible text (prices like "26,00 €"), OpenGraph is
# often the pre-VAT or regular price.
SYNTAX_ORDER = ("json-ld", "microdata", "rdfa")

_HAS_ITEMSCOPE = lxml.etree.XPath("boolean(//@itemscope)")
_HAS_PASSWORD = lxml.etree.XPath("boolean(//input[translate(@type, 'PASSWORD', 'password') = 'password'])")
_TITLE = lxml.etree.XPath("string(//title)")
_LOGIN_WORDS = re.compile(
    r"\b(log ?in|sign ?in|connexion|se connecter|identifiez[- ]vous|identification|mot de passe|password|anmelden)\b",
    re.IGNORECASE,
)
_LOGIN_PATH = re.compile(r"(log-?in|sign-?in|connexion|authentication|account|compte|customer)", re.IGNORECASE)


@dataclass
class PageExtraction:
    products: list[dict] = field(default_factory=list)
    shops: list[dict] = field(default_factory=list)
    canonical_url: str | None = None
    syntaxes: list[str] = field(default_factory=list)
    login_required: bool = False


def page_bytes(html: bytes | str) -> bytes:
    return html.encode("utf-8", "surrogatepass") if isinstance(html, str) else bytes(html)


def parse_html(html: bytes | str):
    """lxml tree of the page, or None when there is no document to parse."""
    if isinstance(html, str):
        data, encoding = html.encode("utf-8", "surrogatepass"), "utf-8"
    else:
        data = bytes(html)
        encoding = "utf-8"
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            encoding = "utf-16"
        elif not data.startswith(b"\xef\xbb\xbf"):
            declared = html_body_declared_encoding(data[:4096])
            if declared:
                encoding = declared
    if not data.strip():
        return None
    try:
        parser = lxml.html.HTMLParser(encoding=encoding)
    except LookupError:
        parser = lxml.html.HTMLParser(encoding="utf-8")
    try:
        return lxml.html.document_fromstring(data, parser=parser)
    except (lxml.etree.ParserError, ValueError, LookupError):
        try:
            return lxml.html.document_fromstring(data, parser=lxml.html.HTMLParser(encoding="utf-8"))
        except (lxml.etree.ParserError, ValueError):
            return None


def _run(syntax: str, reader, *args) -> list:
    # One broken syntax must not cost the others: pages are untrusted input.
    try:
        return list(reader(*args))
    except Exception:
        logger.debug("extraction of %s failed", syntax, exc_info=True)
        return []


def url_key(url: str | None) -> str | None:
    """Comparison key for product URLs: host case, scheme, www., query, trailing slash ignored."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    host = parts.netloc.lower()
    host = host[4:] if host.startswith("www.") else host
    return host + parts.path.rstrip("/")


def _name_key(name: str | None) -> str | None:
    return " ".join(name.casefold().split()) if name else None


def _merge_into(target: dict, source: dict) -> dict:
    """Fill what ``target`` lacks from ``source``; the price keeps its own currency."""
    if target["price"] is None and source["price"] is not None:
        target["price"] = source["price"]
        target["price_high"] = source.get("price_high")
        target["currency"] = source["currency"] or target["currency"]
    elif target["currency"] is None and source["currency"] and source["price"] in (None, target["price"]):
        target["currency"] = source["currency"]
    if target["availability"] == av.UNKNOWN:
        target["availability"] = source["availability"]
    for key in (
        "name",
        "url",
        "image",
        "description",
        "brand",
        "sku",
        "gtin",
        "category",
        "_declared_url",
        "_offer_url",
    ):
        if not target.get(key) and source.get(key):
            target[key] = source[key]
    target["_has_offer_data"] = target["_has_offer_data"] or source["_has_offer_data"]
    return target


def _fold_variants(records: list[dict]) -> list[dict]:
    """One record per product when a syntax declares each variant as a Product
    (Zara: 14 nodes for 14 sizes): same name and compatible URL → one record,
    lowest price, in stock if any variant is. Per-variant URLs (bestseller:
    one per size) do not split a product whose description is the same."""
    folded: list[dict] = []
    for record in records:
        key = _name_key(record["name"])
        match = None
        if key:
            for candidate in folded:
                if _name_key(candidate["name"]) == key and (
                    not record["_declared_url"]
                    or not candidate["_declared_url"]
                    or url_key(record["_declared_url"]) == url_key(candidate["_declared_url"])
                    or (record["description"] and record["description"] == candidate["description"])
                ):
                    match = candidate
                    break
        if match is None:
            folded.append(dict(record))
            continue
        states = [match["availability"], record["availability"]]
        prices = [
            (p, r["currency"]) for r in (match, record) for p in (r["price"], r.get("price_high")) if p is not None
        ]
        if record["price"] is not None and (match["price"] is None or record["price"] < match["price"]):
            match["price"], match["currency"] = record["price"], record["currency"] or match["currency"]
        match["price_high"] = highest_price(prices, match["price"], match["currency"])
        _merge_into(match, record)
        match["availability"] = av.combine(states)
    return folded


def _same_product(a: dict, b: dict) -> bool:
    for key in ("_declared_url",):
        if a.get(key) and b.get(key) and url_key(a[key]) == url_key(b[key]):
            return True
    for key in ("sku", "gtin"):
        if a.get(key) and b.get(key) and a[key] == b[key]:
            return True
    return bool(a["name"] and b["name"] and _name_key(a["name"]) == _name_key(b["name"]))


def _combine_syntaxes(per_syntax: list[list[dict]]) -> list[dict]:
    combined: list[dict] = []
    for records in per_syntax:
        if not records:
            continue
        if not combined:
            combined = records
            continue
        if len(combined) == 1 and len(records) == 1:
            # one product described twice (JSON-LD name+offer, microdata sku+url)
            _merge_into(combined[0], records[0])
            continue
        for record in records:
            match = next((c for c in combined if _same_product(c, record)), None)
            if match is not None:
                _merge_into(match, record)
            else:
                combined.append(record)
    return combined


def _main_products(records: list[dict], page_urls: set[str | None]) -> tuple[list[dict], bool]:
    """The product(s) the page is about, and whether it is a single-product page.

    Carousels of related products declare Products too; the page's own product
    is the one at the page URL, else the only one with identifiers or a
    description. When nothing singles one out, the page is a listing.
    """
    if len(records) <= 1:
        return records, len(records) == 1
    at_page_url = [r for r in records if url_key(r["_declared_url"]) in page_urls]
    if at_page_url:
        main = at_page_url[0]
        for other in at_page_url[1:]:
            _merge_into(main, other)
        return [main], True
    rich = [r for r in records if r["sku"] or r["gtin"] or r["description"]]
    if len(rich) == 1:
        return rich, True
    return records, False


def _is_shopify(raw: bytes) -> bool:
    # Shopify themes printing cents in microdata (see schemaorg._fix_shopify_cents)
    return b"cdn.shopify.com" in raw or b"Shopify.theme" in raw


def _shops(nodes: list[tuple[dict, Graph]], base: str | None) -> list[dict]:
    """Shop records, one per business: sites often declare the same business as
    an Organization and as a LocalBusiness; the LocalBusiness (with hours and
    geo) leads and the Organization fills its gaps."""
    nodes = sorted(nodes, key=lambda pair: bool(type_names(pair[0]) & {"organization", "corporation"}))
    shops: list[dict] = []
    for node, graph in nodes:
        shop = shop_record(node, graph, base)
        if shop is None:
            continue
        same = next((s for s in shops if _name_key(s["name"]) == _name_key(shop["name"])), None)
        if same is None:
            shops.append(shop)
            continue
        for key, value in shop.items():
            if same.get(key) in (None, []) and value not in (None, []):
                same[key] = value
    return shops


def extract_page(html: bytes | str, url: str) -> PageExtraction:
    """Products and shops declared in ``html`` (served from ``url``). Never raises
    on bad markup: a page it cannot read yields an empty extraction."""
    try:
        tree = parse_html(html)
    except Exception:
        logger.debug("could not parse %s", url, exc_info=True)
        tree = None
    if tree is None:
        return PageExtraction()
    # Substring tests on the raw bytes cost microseconds; XPath scans of the
    # whole tree cost up to a millisecond each, so each scan runs only when
    # the page can contain what it looks for.
    raw = page_bytes(html)
    base = document_base(tree, url)
    canonical = canonical_link(tree, base)

    per_syntax_roots: list[tuple[str, list]] = [
        ("json-ld", _run("json-ld", LenientJsonLdExtractor().extract_items, tree, base)),
    ]
    if _HAS_ITEMSCOPE(tree):
        per_syntax_roots.append(("microdata", _run("microdata", extract_microdata, tree, base)))
    if b"typeof=" in raw and has_rdfa_products(tree):
        per_syntax_roots.append(("rdfa", _run("rdfa", extract_rdfa, tree, base)))
    og: dict[str, list[str]] = dict(_run("opengraph", lambda: extract_opengraph(tree).items()))

    syntaxes = [name for name, roots in per_syntax_roots if roots]
    if og:
        syntaxes.append("opengraph")

    is_shopify = functools.cache(lambda: _is_shopify(raw))
    product_lists: list[list[dict]] = []
    shop_nodes: list[tuple[dict, Graph]] = []
    for syntax, roots in per_syntax_roots:
        if not roots:
            continue
        graph = Graph(roots)
        # one walk for both kinds of node
        found = graph.find(lambda node: is_product(node) or is_shop(node))
        records = [product_record(node, graph, base, syntax, is_shopify) for node in found if is_product(node)]
        product_lists.append(_fold_variants([r for r in records if is_real_product(r)]))
        shop_nodes.extend((node, graph) for node in found if not is_product(node))
    shops = _shops(shop_nodes, base)

    records = _combine_syntaxes(product_lists)
    og_url = absolute_url(og_first(og, "og:url"), base)
    page_urls: set[str | None] = {url_key(u) for u in (canonical, og_url, url) if u}
    records, single = _main_products(records, page_urls)

    og_node = opengraph_product(og)
    if og_node is not None:
        og_record = product_record(og_node, Graph([og_node]), base, "opengraph")
        if single:
            # og:description is usually the page's SEO blurb: never over richer markup
            og_record["description"] = None
            _merge_into(records[0], og_record)
        elif not records and og_record["name"]:
            # an OpenGraph-only page (a public catalogue page): its description is all there is
            records, single = [og_record], True

    products = []
    for record in records:
        if not record["name"]:
            continue
        if single:
            record["url"] = canonical or record["_declared_url"] or og_url or record["_offer_url"] or url or None
            if not record["image"]:
                record["image"] = absolute_url(og_first(og, "og:image"), base)
        else:
            record["url"] = record["_declared_url"] or record["_offer_url"] or url or None
        products.append(finalise_product(record))

    login_required = False
    if not products:
        # Best effort. A password field alone is not enough: shops put a
        # login pop-up on every page. The page itself must be about logging in.
        title = clean_text(og_first(og, "og:title")) or clean_text(_TITLE(tree)) or ""
        try:
            path = urlsplit(url).path if url else ""
        except ValueError:
            path = ""
        if _LOGIN_WORDS.search(title) or _LOGIN_PATH.search(path):
            login_required = (b"password" in raw.lower() and bool(_HAS_PASSWORD(tree))) or (
                (og_first(og, "og:type") or "").lower() == "website"
            )
    return PageExtraction(products, shops, canonical, syntaxes, login_required)
