"""What does a shop run? Platform markers on its home page, then one polite probe.

:func:`platform_markers` is pure (home page + headers in, evidence out). :func:`detect`
spends at most three requests: robots.txt (obeyed, as by the crawler), the home page, one probe of the platform's public
endpoint (Shopify ``products.json``, the WooCommerce Store API, or an advertised product
feed), and nothing more. A probe that fails (API disabled, 404, not JSON) falls back to
the structured-data ``website`` kind, which reads any platform's pages.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import lxml.html
import requests
from protego import Protego

from crawler.adapters import MalformedPayload, feeds, shopify, woocommerce
from crawler.fetch import Deadline, DeadlinePassed, default_timeout, fetch_url
from crawler.netguard import RefusedAddress, check_url

MAX_BYTES = 10 * 1024 * 1024

# (platform, pattern in the home page). Order matters: the API platforms first.
_MARKERS: list[tuple[str, re.Pattern]] = [
    ("shopify", re.compile(r"cdn\.shopify\.com|Shopify\.theme|Shopify\.shop\s*=|myshopify\.com", re.I)),
    (
        "woocommerce",
        re.compile(
            r"wp-content/plugins/woocommerce|/wp-json/wc/store|woocommerce-no-js|class=[\"'][^\"']*\bwoocommerce\b",
            re.I,
        ),
    ),
    ("prestashop", re.compile(r"var prestashop\s*=|prestashop\s*=\s*\{|/modules/ps_|content=[\"']PrestaShop", re.I)),
    ("wix", re.compile(r"static\.wixstatic\.com|wix-warmup-data|content=[\"']Wix\.com", re.I)),
    ("magento", re.compile(r"Magento_|mage/cookies|data-mage-init|text/x-magento-init", re.I)),
    ("squarespace", re.compile(r"static1\.squarespace\.com|Squarespace\.|content=[\"']Squarespace", re.I)),
]
_HEADER_MARKERS = {
    "x-shopid": "shopify",
    "x-shopify-stage": "shopify",
    "x-wix-request-id": "wix",
    "x-magento-tags": "magento",
}
_FEED_TYPES = {
    "application/rss+xml",
    "application/atom+xml",
    "text/csv",
    "text/tab-separated-values",
    "application/xml",
}
_NOT_PRODUCT_FEEDS = re.compile(r"/comments/|/wp-json/|oembed|/blog|/news", re.I)


@dataclass
class Detection:
    kind: str  # a registry kind: shopify, woocommerce, feed, website
    platform: str | None = None  # what the markers say (prestashop, wix... read as "website")
    via: str = "page markup"  # products.json, Store API, the feed's address
    products: int | None = None  # products the probe counted (None: not counted)
    more: bool = False  # the probe saw only the first page of a longer listing
    feed_url: str | None = None
    evidence: list[str] = field(default_factory=list)
    requests: int = 0

    def summary(self) -> str:
        parts = [self.via]
        if self.products is not None:
            parts.append(f"{'at least ' if self.more else ''}{self.products} products")
        if self.kind == "website" and self.platform:
            parts.insert(0, self.platform)
        return f"{self.kind} ({', '.join(parts)})"


def platform_markers(html: str | bytes, headers: dict[str, str] | None = None) -> tuple[str | None, list[str]]:
    """The platform a home page shows, and the evidence (``cdn.shopify.com``, ``x-shopid``)."""
    if isinstance(html, bytes):
        html = html.decode("utf-8", "replace")
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    for name, platform in _HEADER_MARKERS.items():
        if name in lowered:
            return platform, [f"header {name}"]
    generator = lowered.get("x-powered-by", "")
    for platform, pattern in _MARKERS:
        match = pattern.search(html)
        if match:
            return platform, [match.group(0)]
        if platform in generator.lower():
            return platform, [f"x-powered-by: {generator}"]
    return None, []


def advertised_feeds(html: str | bytes, base_url: str) -> list[str]:
    """Product feeds a page advertises with ``<link rel="alternate" type="…rss+xml" href>``."""
    try:
        tree = lxml.html.fromstring(html if isinstance(html, bytes) else html.encode())
    except (lxml.etree.ParserError, ValueError):
        return []
    out = []
    for link in tree.xpath("//link[@href]"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").lower().split(";")[0].strip()
        href = urljoin(base_url, link.get("href").strip())
        if "alternate" in rel and kind in _FEED_TYPES and not _NOT_PRODUCT_FEEDS.search(href):
            out.append(href)
    return out


Fetch = Callable[[str], tuple[int, dict[str, str], bytes]]


ROBOTS_REFUSED = 999  # the status a fetcher answers for an address robots.txt disallows


def http_fetcher(
    *,
    allow_private: bool = False,
    user_agent: str = "emplettes",
    timeout: float | None = None,
    obey_robots: bool = True,
    budget: float | None = None,
) -> Fetch:
    """GET with the crawler's address guard on every redirect hop; ``(status, headers, body)``.

    Like the crawler, it reads each host's robots.txt first and never fetches what it
    disallows (answering :data:`ROBOTS_REFUSED` instead). Each request ends within
    ``timeout`` seconds (default ``DOWNLOAD_TIMEOUT``), body included (:mod:`crawler.fetch`);
    with ``budget``, all the
    requests of this fetcher together end within that many seconds.
    """
    robots: dict[str, Protego | None] = {}
    each = default_timeout() if timeout is None else timeout
    shared = Deadline(budget) if budget is not None else None

    def allowed(url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in robots:
            robots[origin] = None
            try:
                status, _, body = get(origin + "/robots.txt")
                if status == 200:
                    robots[origin] = Protego.parse(body.decode("utf-8", "replace"))
            except (requests.RequestException, OSError):
                pass
        rules = robots[origin]
        return rules is None or rules.can_fetch(url, user_agent)

    def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
        check_url(url, allow_private=allow_private)
        if obey_robots and not allowed(url):
            return ROBOTS_REFUSED, {}, b""
        return get(url)

    def get(url: str) -> tuple[int, dict[str, str], bytes]:
        if shared is not None and shared.passed():
            raise DeadlinePassed(url)
        deadline = shared if shared is not None and shared.left() < each else Deadline(each)
        got = fetch_url(
            url,
            allow_private=allow_private,
            user_agent=user_agent,
            deadline=deadline,
            max_bytes=MAX_BYTES,
            truncate=True,
        )
        return got.status, got.headers, got.body

    return fetch


def detect(url: str, fetch: Fetch) -> Detection:
    """Detect the kind of the shop at ``url`` (its home page) in at most two requests."""
    calls = 0

    def counted(address: str):
        nonlocal calls
        calls += 1
        return fetch(address)

    status, headers, body = counted(url)
    if status == ROBOTS_REFUSED:
        return Detection("website", via="robots.txt disallows the home page", requests=calls)
    if status >= 400:
        return Detection("website", via=f"home page answered HTTP {status}", requests=calls)
    content_type = {k.lower(): v for k, v in headers.items()}.get("content-type", "").lower()
    if "html" not in content_type:  # the address is the feed itself
        try:
            page = feeds.parse(body, url)
        except MalformedPayload:
            page = None
        if page is not None and page.products:
            return Detection("feed", via=url, products=len(page.products), feed_url=url, requests=calls)
    platform, evidence = platform_markers(body, headers)
    if platform == "shopify":
        probe = _probe_shopify(url, body, counted)
    elif platform == "woocommerce":
        probe = _probe_woocommerce(url, counted)
    else:
        probe = _probe_feed(url, body, counted)
    if probe is None:
        probe = Detection("website", platform=platform)
        if platform in ("shopify", "woocommerce"):
            evidence = [*evidence, f"{platform} markers, but its public API did not answer: reading its pages"]
    probe.platform, probe.evidence, probe.requests = platform, evidence, calls
    return probe


def _probe_shopify(url: str, home: bytes, fetch: Fetch) -> Detection | None:
    status, _, body = _safe(fetch, shopify.first_request(url))
    if status != 200:
        return None
    try:
        page = shopify.parse(body, url, currency=shopify.currency_from_html(home))
    except MalformedPayload:
        return None
    return Detection(
        "shopify", via="products.json", products=len(page.products), more=len(page.products) >= shopify.PAGE_SIZE
    )


def _probe_woocommerce(url: str, fetch: Fetch) -> Detection | None:
    status, headers, body = _safe(fetch, woocommerce.products_url(url).replace("per_page=100", "per_page=1"))
    if status != 200:
        return None
    try:
        json_ok = isinstance(json.loads(body), list)
    except ValueError:
        json_ok = False
    if not json_ok:
        return None
    total = {k.lower(): v for k, v in headers.items()}.get("x-wp-total")
    return Detection("woocommerce", via="Store API", products=int(total) if total and total.isdigit() else None)


def _probe_feed(url: str, home: bytes, fetch: Fetch) -> Detection | None:
    for feed_url in advertised_feeds(home, url)[:1]:
        status, _, body = _safe(fetch, feed_url)
        if status != 200:
            return None
        try:
            page = feeds.parse(body, url)
        except MalformedPayload:
            return None
        if page.products:
            return Detection("feed", via=feed_url, products=len(page.products), feed_url=feed_url)
    return None


def _safe(fetch: Fetch, url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        return fetch(url)
    except (requests.RequestException, RefusedAddress, OSError):
        return 599, {}, b""
