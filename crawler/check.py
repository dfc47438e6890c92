"""``emplettes check``: what would the portal read on this page? A preview for chambers.

Fetches one page (guarded like the crawler: http(s) only, no private addresses unless
allowed, every redirect hop checked, bounded size and time) or reads a saved file, and
runs the same pure extraction the spiders use.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import requests

from crawler.extract import PageExtraction, extract_page
from crawler.fetch import TooLarge, fetch_url
from crawler.netguard import RefusedAddress

if TYPE_CHECKING:
    from crawler.detect import Detection

MAX_BYTES = 10 * 1024 * 1024
MAX_REDIRECTS = 5


class CheckError(RuntimeError):
    """The page could not be read; the message says why, for a chamber to act on."""


@dataclass
class CheckResult:
    url: str
    extraction: PageExtraction

    @property
    def records(self) -> list[dict]:
        return [*self.extraction.products, *self.extraction.shops]


def fetch(
    url: str, *, allow_private: bool = False, user_agent: str = "emplettes", timeout: float | None = None
) -> tuple[str, bytes]:
    """GET ``url`` following at most five redirects, each one checked by the address guard,
    all within ``timeout`` seconds (default ``DOWNLOAD_TIMEOUT``), body included (:mod:`crawler.fetch`)."""
    try:
        got = fetch_url(
            url,
            allow_private=allow_private,
            user_agent=user_agent,
            timeout=timeout,
            max_bytes=MAX_BYTES,
            accept="text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
            max_redirects=MAX_REDIRECTS,
        )
    except RefusedAddress as exc:
        raise CheckError(str(exc)) from exc
    except TooLarge:
        raise CheckError(f"{url} is larger than {MAX_BYTES // (1024 * 1024)} MB: not a shop page") from None
    except OSError as exc:  # FetchError: network, deadline, redirects
        raise CheckError(str(exc)) from exc
    if got.status >= 400:
        raise CheckError(f"{got.url} answered HTTP {got.status}")
    return got.url, got.body


def read_file(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def check(
    target: str, *, base_url: str | None = None, allow_private: bool = False, user_agent: str = "emplettes"
) -> CheckResult:
    """Extract the records of a URL or of a saved HTML file (``base_url`` resolves its links)."""
    path = Path(target)
    if not target.startswith(("http://", "https://")):
        if not path.exists():
            raise CheckError(f"{target}: no such file (and not an http:// or https:// address)")
        url = base_url or path.resolve().as_uri()
        return CheckResult(url, extract_page(read_file(path), url))
    url, body = fetch(target, allow_private=allow_private, user_agent=user_agent)
    return CheckResult(url, extract_page(body, url))


def explain_empty(result: CheckResult) -> str:
    """Why nothing was found, and what the shop could add to its pages."""
    if result.extraction.login_required:
        return "this page asks visitors to log in: emplettes never logs in; the shop needs a public page."
    found = ", ".join(result.extraction.syntaxes) or "no structured data at all"
    return (
        f"no schema.org Product or OpenGraph product markup found on {result.url} ({found}).\n"
        "A product page becomes visible with a block like:\n"
        '  <script type="application/ld+json">{"@context": "https://schema.org", "@type": "Product",\n'
        '   "name": "Bougie parfumée figue", "image": "https://…/bougie.jpg",\n'
        '   "offers": {"@type": "Offer", "price": "18.50", "priceCurrency": "EUR",\n'
        '              "availability": "https://schema.org/InStock"}}</script>'
    )


# -- platforms: `check URL` on a shop's home page ----------------------------------------------


@dataclass
class PlatformCheck:
    detection: Detection
    products: list[dict]
    warnings: list[str]


def check_platform(
    url: str, *, kind: str | None = None, allow_private: bool = False, user_agent: str = "emplettes", limit: int = 20
) -> PlatformCheck:
    """Detect what the shop at ``url`` runs (or take ``kind``) and read up to ``limit`` products
    the way its spider would. ``detection.kind == "website"``: read its pages instead."""
    from crawler.adapters import MalformedPayload, feeds, shopify, woocommerce
    from crawler.detect import Detection, advertised_feeds, detect, http_fetcher

    fetcher = http_fetcher(allow_private=allow_private, user_agent=user_agent)

    def fetch(address: str):
        try:
            return fetcher(address)
        except RefusedAddress as exc:
            raise CheckError(str(exc)) from exc
        except (requests.RequestException, OSError) as exc:
            raise CheckError(f"cannot fetch {address}: {exc}") from exc

    detection = detect(url, fetch) if kind is None else Detection(kind, via="--kind")
    products: list[dict] = []
    warnings: list[str] = []
    try:
        if detection.kind == "shopify":
            _, _, home = fetch(url)
            currency = shopify.currency_from_html(home)
            if currency is None:
                status, _, meta = fetch(shopify.meta_url(url))
                currency = shopify.currency_from_meta(meta) if status == 200 else None
            page_url, page = shopify.first_request(url), 1
            while page_url and len(products) < limit:
                status, _, body = fetch(page_url)
                if status >= 400:
                    raise CheckError(
                        f"{page_url} answered HTTP {status}: not a Shopify shop, or products.json is closed"
                    )
                result = shopify.parse(body, url, page=page, currency=currency)
                products += result.products
                warnings += [w for w in result.warnings if w not in warnings]
                page_url, page = result.next_url, page + 1
        elif detection.kind == "woocommerce":
            status, headers, body = fetch(
                woocommerce.products_url(url).replace("per_page=100", f"per_page={max(1, min(limit, 100))}")
            )
            if status >= 400:
                raise CheckError(f"the WooCommerce Store API of {url} answered HTTP {status}")
            products = woocommerce.parse(body, url).products
            total = {k.lower(): v for k, v in headers.items()}.get("x-wp-total")
            if detection.products is None and total and total.isdigit():
                detection.products = int(total)
        elif detection.kind == "feed":
            feed_url = detection.feed_url
            if feed_url is None:
                _, _, body = fetch(url)
                links = advertised_feeds(body, url)
                feed_url = links[0] if links and feeds.sniff(body) != "xml" else url
                detection.via = feed_url
            status, _, body = fetch(feed_url)
            if status >= 400:
                raise CheckError(f"{feed_url} answered HTTP {status}")
            result = feeds.parse(body, url)
            products, warnings = result.products, result.warnings
            detection.products = len(products)
    except MalformedPayload as exc:
        raise CheckError(f"{url}: {exc}") from exc
    if kind is not None and detection.kind != "website" and detection.products is None:
        detection.products = len(products)
    return PlatformCheck(detection, products[:limit], warnings)


# -- a home page without products: look at the pages it links to -----------------------------

_PRODUCT_LIKE = re.compile(
    r"/(products?|produits?|p|article|shop|boutique|catalogue|item)/|-p-\d|/\d+-[\w-]+\.html|[?&](id_product|product_id|p)=",
    re.I,
)
_NOT_PAGES = re.compile(
    r"/(panier|cart|checkout|commande|compte|account|login|connexion|wp-admin|wp-login)([/?.]|$)|\.(jpe?g|png|gif|webp|svg|css|js|pdf|zip|xml|json)(\?|$)",
    re.I,
)


@dataclass
class SiteSample:
    pages: list[tuple[str, PageExtraction]]  # the product-like pages read, in link order
    login_pages: int = 0

    @property
    def products(self) -> list[dict]:
        return [p for _, extraction in self.pages for p in extraction.products]


def sample_site(
    home_url: str, home: bytes, *, allow_private: bool = False, user_agent: str = "emplettes", pages: int = 20
) -> SiteSample:
    """Read up to ``pages`` product-like pages the home page links to (robots.txt obeyed)."""
    from urllib.parse import urlsplit

    import lxml.html

    from crawler.detect import http_fetcher

    host = urlsplit(home_url).hostname
    try:
        tree = lxml.html.fromstring(home)
        tree.make_links_absolute(home_url, resolve_base_href=True)
        hrefs = [a.get("href") for a in tree.xpath("//a[@href]")]
    except (ValueError, lxml.etree.ParserError):
        hrefs = []
    links: list[str] = []
    for href in hrefs:
        href = (href or "").split("#")[0]
        if (
            href.startswith(("http://", "https://"))
            and urlsplit(href).hostname == host
            and href != home_url
            and not _NOT_PAGES.search(href)
            and href not in links
        ):
            links.append(href)
    links.sort(key=lambda link: not _PRODUCT_LIKE.search(link))  # product-like first, stable
    fetch = http_fetcher(allow_private=allow_private, user_agent=user_agent)
    sample = SiteSample([])
    for link in links[:pages]:
        try:
            status, _, body = fetch(link)
        except (RefusedAddress, requests.RequestException, OSError):
            continue
        if status != 200:
            continue
        extraction = extract_page(body, link)
        sample.login_pages += extraction.login_required
        sample.pages.append((link, extraction))
    return sample


def explain_site(url: str, sample: SiteSample) -> str:
    """Why a shop's pages give nothing, and what the shop could add."""
    if not sample.pages:
        return f"{url} links to no page of its own site that could be read: nothing to index."
    login = f" ({sample.login_pages} ask visitors to log in: emplettes never logs in)" if sample.login_pages else ""
    example = explain_empty(CheckResult(url, PageExtraction())).split("\n", 1)[1]
    return (
        f"no schema.org Product or OpenGraph product markup found on {len(sample.pages)} product-like "
        f"page{'s' if len(sample.pages) != 1 else ''} linked from {url}{login}.\n{example}"
    )
