"""What does a shop run? The platforms' own signals on its page, then a few polite probes.

:func:`platform_markers` is pure (page + headers in, evidence out). :func:`detect` reads
robots.txt (obeyed, as by the crawler) and the registered page, then probes the public
endpoints the page's signals point to, in order, at most :data:`MAX_PROBES` requests:

1. a Shopify shop (``Shopify.shop``, ``cdn.shopify.com``, an ``x-shopid`` header…):
   ``products.json`` under the shop's root, a market's sub-folder (``/fr-fr/``) included;
2. a WordPress site (the REST root it announces in a ``Link: <…/wp-json/>;
   rel="https://api.w.org/"`` header or ``<link>`` tag, a sub-folder install included):
   the WooCommerce Store API under that root;
3. the product feeds the page advertises (``<link rel="alternate" type="…rss+xml">``,
   Google Merchant feeds), product feeds first.

A probe that fails (API closed, 404, not JSON) or holds no product falls back to the next
one, and finally to the structured-data ``website`` kind, which reads any platform's
pages; :attr:`Detection.fallbacks` says why each one was passed over.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import lxml.html
import requests
from protego import Protego

from config.i18n import _, ngettext
from crawler.adapters import MalformedPayload, feeds, shopify, woocommerce
from crawler.fetch import Deadline, DeadlinePassed, default_timeout, fetch_url
from crawler.netguard import RefusedAddress, check_url

MAX_BYTES = 10 * 1024 * 1024
MAX_PROBES = 4  # endpoint or feed requests after the page itself (detection runs weekly at most)

# (platform, pattern in the home page). Order matters: the API platforms first.
_MARKERS: list[tuple[str, re.Pattern]] = [
    (
        "shopify",
        re.compile(
            r"cdn\.shopify\.com|Shopify\.theme|Shopify\.shop\s*=|Shopify\.routes|myshopify\.com|shopify-digital-wallet",
            re.I,
        ),
    ),
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
    "text/xml",
}
_NOT_PRODUCT_FEEDS = re.compile(r"/comments/|/wp-json/|oembed|/blog|/news|/actualites", re.I)
_COMMENTS = re.compile(r"comment", re.I)
# A feed that says it lists products (its address or title), read before a blog's RSS.
_PRODUCT_FEED = re.compile(r"produ(?:ct|it)|merchant|google|shopping|catalog|facebook|meta", re.I)
# Merchant feeds linked from the page body rather than announced in <head>.
_LINKED_FEED = re.compile(
    r"(?:merchant|google[-_]?shopping|product[-_]?feed|flux[-_]?produits?)[^?#]*\.(?:xml|csv|tsv|txt)\b", re.I
)


@dataclass
class Detection:
    kind: str  # a registry kind: shopify, woocommerce, feed, website
    platform: str | None = None  # what the markers say (prestashop, wix... read as "website")
    # products.json, Store API, the feed's address; translated when the detection is made
    via: str = field(default_factory=lambda: _("balisage des pages"))
    products: int | None = None  # products the probe counted (None: not counted)
    more: bool = False  # the probe saw only the first page of a longer listing
    feed_url: str | None = None
    root: str | None = None  # Shopify: the shop's (market's) root; WooCommerce: the REST root
    evidence: list[str] = field(default_factory=list)
    fallbacks: list[str] = field(default_factory=list)  # each kind passed over, and why
    requests: int = 0
    page_unread: bool = False  # robots.txt or an HTTP error kept the page from being read

    def summary(self) -> str:
        parts = [self.via]
        if self.products is not None:
            count = ngettext("%(num)d produit", "%(num)d produits", self.products)
            parts.append(_("au moins %(count)s", count=count) if self.more else count)
        if self.kind == "website" and self.platform:
            parts.insert(0, self.platform)
        return f"{self.kind} ({', '.join(parts)})"

    def as_dict(self) -> dict:
        """What a run and the detection cache keep of it."""
        return {
            "kind": self.kind,
            "summary": self.summary(),
            "platform": self.platform,
            "root": self.root,
            "feed_url": self.feed_url,
            "fallbacks": list(self.fallbacks),
        }


def platform_markers(html: str | bytes, headers: dict[str, str] | None = None) -> tuple[str | None, list[str]]:
    """The platform a home page shows, and the evidence (``cdn.shopify.com``, ``x-shopid``)."""
    if isinstance(html, bytes):
        html = html.decode("utf-8", "replace")
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    for name, platform in _HEADER_MARKERS.items():
        if name in lowered:
            return platform, [f"header {name}"]
    generator = (lowered.get("x-powered-by", "") + " " + lowered.get("powered-by", "")).strip()
    for platform, pattern in _MARKERS:
        match = pattern.search(html)
        if match:
            return platform, [match.group(0)]
        if platform in generator.lower():
            return platform, [f"powered-by: {generator}"]
    return None, []


def advertised_feeds(html: str | bytes, base_url: str) -> list[str]:
    """Product feeds a page advertises, the likeliest first: ``<link rel="alternate"
    type="…rss+xml" href>`` in its head, and Merchant feeds it links to (``…/google-shopping.xml``).
    A blog's or comments' feed is left out; an unnamed feed comes after the product ones."""
    try:
        tree = lxml.html.fromstring(html if isinstance(html, bytes) else html.encode())
    except (lxml.etree.ParserError, ValueError):
        return []
    named: list[str] = []
    others: list[str] = []
    for link in tree.xpath("//link[@href]|//a[@href]"):
        href = urljoin(base_url, (link.get("href") or "").strip())
        if not href.startswith(("http://", "https://")) or _NOT_PRODUCT_FEEDS.search(href):
            continue
        if link.tag == "link":
            rel = (link.get("rel") or "").lower().split()
            kind = (link.get("type") or "").lower().split(";")[0].strip()
            if "alternate" not in rel or kind not in _FEED_TYPES:
                continue
            title = link.get("title") or ""
            if _COMMENTS.search(title):  # WordPress's per-page feeds (/product/x/feed/) are comments
                continue
            product_like = _PRODUCT_FEED.search(href + " " + title)
        elif _LINKED_FEED.search(urlsplit(href).path):
            product_like = True
        else:
            continue
        chosen = named if product_like else others
        if href not in named and href not in others:
            chosen.append(href)
    return named + others


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
    """Detect the kind of the shop at ``url``: the page, then at most :data:`MAX_PROBES` probes."""
    calls = 0

    def counted(address: str):
        nonlocal calls
        calls += 1
        return fetch(address)

    status, headers, body = counted(url)
    if status == ROBOTS_REFUSED:
        return Detection("website", via=_("robots.txt interdit la page d'accueil"), requests=calls, page_unread=True)
    if status >= 400:
        return Detection(
            "website",
            via=_("la page d'accueil a répondu HTTP %(status)s", status=status),
            requests=calls,
            page_unread=True,
        )
    content_type = {k.lower(): v for k, v in headers.items()}.get("content-type", "").lower()
    if "html" not in content_type:  # the address is the feed itself
        try:
            page = feeds.parse(body, url)
        except MalformedPayload:
            page = None
        if page is not None and page.products:
            return Detection("feed", via=url, products=len(page.products), feed_url=url, requests=calls)
    platform, evidence = platform_markers(body, headers)
    rest_root = woocommerce.rest_root(body, headers, url)
    if rest_root:
        evidence.append(_("racine REST WordPress : %(root)s", root=rest_root))
    probes: list[Callable[[], tuple[Detection | None, str]]] = []
    if platform == "shopify":
        probes.append(lambda: _probe_shopify(url, body, counted))
    if platform == "woocommerce" or rest_root:
        probes.append(lambda: _probe_woocommerce(url, rest_root, counted))
    probes.extend(
        (lambda feed_url=feed_url: _probe_feed(url, feed_url, counted)) for feed_url in advertised_feeds(body, url)
    )
    fallbacks: list[str] = []
    for probe in probes[:MAX_PROBES]:
        found, why = probe()
        if found is not None:
            found.platform, found.evidence, found.fallbacks, found.requests = platform, evidence, fallbacks, calls
            return found
        fallbacks.append(why)
    return Detection("website", platform=platform, evidence=evidence, fallbacks=fallbacks, requests=calls)


# Registered kinds whose endpoint a crawl checks first, with one small request (one product):
# one that fails or holds no product gives way to the pages' markup for that run (see
# :func:`check_registered`). Not a registered feed: checking it would download it twice, and
# FeedSpider already passes from a failed feed to the next one the page advertises.
ENDPOINT_KINDS = ("shopify", "woocommerce")


def check_registered(url: str, kind: str, fetch: Fetch) -> Detection:
    """The registry names ``kind``: its endpoint is probed as :func:`detect` probes it (the
    same probes, the same reasons). It holds products: ``kind``. It fails, is unreadable or
    lists nothing: ``website`` for this run, its ``fallbacks`` saying why; the registry is
    not rewritten (the chamber asked for that reader, and the endpoint may come back)."""
    calls = 0

    def counted(address: str):
        nonlocal calls
        calls += 1
        return fetch(address)

    status, headers, home = _safe(counted, url)
    home = home if status == 200 else b""
    if kind == "shopify":
        found, why = _probe_shopify(url, home, counted, limit=1)
    else:
        found, why = _probe_woocommerce(url, woocommerce.rest_root(home, headers, url) if home else None, counted)
    if found is not None:
        found.requests = calls
        return found
    fallback = Detection("website", fallbacks=[why], requests=calls)
    fallback.via = _("balisage des pages, au lieu de %(kind)s inscrit au registre", kind=kind)
    return fallback


def _probe_shopify(url: str, home: bytes, fetch: Fetch, limit: int = shopify.PAGE_SIZE) -> tuple[Detection | None, str]:
    root = shopify.shop_root(url, home)
    status, _headers, body = _safe(fetch, shopify.products_url(root, 1, limit))
    if status != 200:
        return None, _("shopify : products.json a répondu HTTP %(status)s", status=status)
    try:
        page = shopify.parse(body, root, currency=shopify.currency_from_html(home))
    except MalformedPayload:
        return None, _("shopify : products.json est illisible")
    if not page.products:
        return None, _("shopify : products.json ne liste aucun produit")
    found = Detection("shopify", via="products.json", products=len(page.products), more=len(page.products) >= limit)
    found.root = root
    return found, ""


def _probe_woocommerce(url: str, rest_root: str | None, fetch: Fetch) -> tuple[Detection | None, str]:
    status, headers, body = _safe(fetch, woocommerce.products_url(url, root=rest_root, per_page=1))
    if status != 200:
        return None, _("woocommerce : l'API Store a répondu HTTP %(status)s", status=status)
    try:
        listed = json.loads(body)
    except ValueError:
        listed = None
    if not isinstance(listed, list):
        return None, _("woocommerce : l'API Store ne répond pas en JSON")
    if not listed:
        return None, _("woocommerce : l'API Store ne liste aucun produit")
    total = {k.lower(): v for k, v in headers.items()}.get("x-wp-total")
    found = Detection("woocommerce", via="Store API", products=int(total) if total and total.isdigit() else None)
    found.root = rest_root
    return found, ""


def _probe_feed(url: str, feed_url: str, fetch: Fetch) -> tuple[Detection | None, str]:
    status, _headers, body = _safe(fetch, feed_url)
    if status != 200:
        return None, _("flux %(url)s : HTTP %(status)s", url=feed_url, status=status)
    try:
        page = feeds.parse(body, url)
    except MalformedPayload:
        return None, _("flux %(url)s : illisible", url=feed_url)
    if not page.products:
        return None, _("flux %(url)s : aucun produit", url=feed_url)
    return Detection("feed", via=feed_url, products=len(page.products), feed_url=feed_url), ""


def _safe(fetch: Fetch, url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        return fetch(url)
    except (requests.RequestException, RefusedAddress, OSError):
        return 599, {}, b""


# -- what a crawl remembers of a detection -----------------------------------------------------

DETECTION_TTL = 7 * 24 * 3600  # a shop rarely changes platform; re-detect weekly


def _cache_path(data_dir: Path, source_id: str) -> Path:
    return data_dir / "detected" / f"{source_id}.json"


def remembered(data_dir: Path, source_id: str, url: str) -> dict | None:
    """The detection kept for a source (:meth:`Detection.as_dict` with ``url`` and ``at``),
    if it is for this address and less than :data:`DETECTION_TTL` old."""
    try:
        known = json.loads(_cache_path(data_dir, source_id).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(known, dict) or known.get("url") != url or time.time() - known.get("at", 0) >= DETECTION_TTL:
        return None
    return known


def remember(data_dir: Path, source_id: str, url: str, found: Detection) -> None:
    path = _cache_path(data_dir, source_id)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"url": url, "at": time.time(), **found.as_dict()}, ensure_ascii=False))
    except OSError:
        pass


def remember_fallback(data_dir: Path, source_id: str, url: str, registered: str, found: Detection) -> None:
    """This run reads a registered ``kind`` as ``website`` (:func:`check_registered`): kept
    beside the detections, marked ``registered``, for the run's manifest to repeat."""
    path = _cache_path(data_dir, source_id)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"url": url, "at": time.time(), "registered": registered, **found.as_dict()}
        path.write_text(json.dumps(data, ensure_ascii=False))
    except OSError:
        pass


def registered_fallback(data_dir: Path, source_id: str, url: str, registered: str) -> dict | None:
    """The fallback :func:`remember_fallback` kept for this source's registered kind, if any."""
    known = remembered(data_dir, source_id, url)
    return known if known is not None and known.get("registered") == registered else None


def forget(data_dir: Path, source_id: str) -> None:
    """Detect again at the next crawl (this one found nothing the detected way)."""
    _cache_path(data_dir, source_id).unlink(missing_ok=True)
