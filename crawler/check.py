"""``emplettes check``: what would the portal read on this page? A preview for chambers.

Fetches one page (guarded like the crawler: http(s) only, no private addresses unless
allowed, every redirect hop checked, bounded size and time) or reads a saved file, and
runs the same pure extraction the spiders use. On a shop's address it detects the kind
the crawler would use (:mod:`crawler.detect`) and reads products that way; when the page
itself declares none, it samples the shop's product pages the way a crawl finds them
(sitemaps first, then links), whatever ``--limit`` is: ``--limit`` bounds what is printed,
never what is looked at, so « aucun balisage » is said only when a crawl would find nothing.
"""

from __future__ import annotations

import gzip
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO
from urllib.parse import urljoin, urlsplit

import requests

from config.i18n import _, ngettext
from crawler.extract import PageExtraction, extract_page
from crawler.fetch import FetchError, TooLarge, fetch_url
from crawler.netguard import RefusedAddress

if TYPE_CHECKING:
    from crawler.detect import Detection, Fetch

MAX_BYTES = 10 * 1024 * 1024
MAX_REDIRECTS = 5
SAMPLE_PAGES = 12  # product pages read at most when a page declares no product itself
SAMPLE_SITEMAPS = 3  # sitemaps read at most (robots.txt's, or the product ones of an index)


class CheckError(RuntimeError):
    """The page could not be read; the message says why, in one line, for a chamber to act on."""


@dataclass
class CheckResult:
    url: str
    extraction: PageExtraction

    @property
    def records(self) -> list[dict]:
        return [*self.extraction.products, *self.extraction.shops]


def unreachable(url: str, exc: Exception) -> CheckError:
    """One line for a network failure: the host and the cause, not the library's trace."""
    host = urlsplit(url).hostname or url
    if isinstance(exc, RefusedAddress):
        return CheckError(_("adresse refusée : %(why)s", why=exc))
    why = exc.reason if isinstance(exc, FetchError) else _("connexion impossible")
    return CheckError(_("impossible de joindre %(host)s : %(why)s", host=host, why=why))


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
    except TooLarge:
        raise CheckError(
            _("%(url)s dépasse %(mb)s Mo : ce n'est pas une page de boutique", url=url, mb=MAX_BYTES >> 20)
        ) from None
    except OSError as exc:  # the address guard, network, deadline, redirects
        raise unreachable(url, exc) from exc
    if got.status >= 400:
        raise CheckError(_("%(url)s a répondu HTTP %(status)s", url=got.url, status=got.status))
    return got.url, got.body


def read_file(path: Path) -> bytes:
    """A saved page (``.gz`` decompressed); :class:`CheckError` when it cannot be read."""
    if path.is_dir():
        raise CheckError(_("%(path)s est un dossier : donnez l'adresse d'une page ou un fichier HTML", path=path))
    try:
        data = path.read_bytes()
        return gzip.decompress(data) if path.suffix == ".gz" else data
    except (OSError, EOFError) as exc:
        why = getattr(exc, "strerror", None) or str(exc)
        raise CheckError(_("%(path)s : lecture impossible (%(why)s)", path=path, why=why)) from exc


def check(
    target: str, *, base_url: str | None = None, allow_private: bool = False, user_agent: str = "emplettes"
) -> CheckResult:
    """Extract the records of a URL or of a saved HTML file (``base_url`` resolves its links)."""
    if not target.strip():
        raise CheckError(_("rien à vérifier : donnez l'adresse d'une page (http:// ou https://) ou un fichier HTML"))
    if not target.startswith(("http://", "https://")):
        path = Path(target)
        if not path.exists():
            raise CheckError(
                _("%(target)s : fichier introuvable (et pas une adresse http:// ou https://)", target=target)
            )
        body = read_file(path)
        url = base_url or path.resolve().as_uri()
        return CheckResult(url, extract_page(body, url))
    url, body = fetch(target, allow_private=allow_private, user_agent=user_agent)
    return CheckResult(url, extract_page(body, url))


def markup_example() -> str:
    return _(
        "Une page produit devient visible avec un bloc comme :\n"
        '  <script type="application/ld+json">{"@context": "https://schema.org", "@type": "Product",\n'
        '   "name": "Bougie parfumée figue", "image": "https://…/bougie.jpg",\n'
        '   "offers": {"@type": "Offer", "price": "18.50", "priceCurrency": "EUR",\n'
        '              "availability": "https://schema.org/InStock"}}</script>'
    )


def explain_empty(result: CheckResult) -> str:
    """Why nothing was found, and what the shop could add to its pages."""
    if result.extraction.login_required:
        return _("cette page demande de se connecter : emplettes ne se connecte jamais ; il faut une page publique.")
    found = ", ".join(result.extraction.syntaxes) or _("aucune donnée structurée")
    return (
        _("aucun balisage de produit schema.org ou OpenGraph sur %(url)s (%(found)s).", url=result.url, found=found)
        + "\n"
        + markup_example()
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
    the way its spider would. When the detected endpoint fails or lists no product, fall back
    to the next kind, as the crawl does: ``detection.kind == "website"`` then, with the reason
    in ``detection.fallbacks`` (read its pages instead)."""
    from crawler.adapters import MalformedPayload
    from crawler.detect import Detection, detect, http_fetcher

    fetcher = http_fetcher(allow_private=allow_private, user_agent=user_agent)

    def fetch(address: str):
        try:
            return fetcher(address)
        except (RefusedAddress, requests.RequestException, OSError) as exc:
            raise unreachable(address, exc) from exc

    detection = detect(url, fetch) if kind is None else Detection(kind, via="--kind")
    products: list[dict] = []
    warnings: list[str] = []
    if detection.kind in ("shopify", "woocommerce", "feed"):
        try:
            products, warnings = _read_platform(url, detection, fetch, limit)
        except (MalformedPayload, CheckError) as exc:
            products, warnings = [], [str(exc)]
        if not products and kind is None:
            why = warnings[-1] if warnings else _("aucun produit")
            detection.fallbacks.append(f"{detection.kind} : {why}")
            detection.kind, detection.via, detection.products = "website", _("balisage des pages"), None
            return PlatformCheck(detection, [], warnings)
    if kind is not None and detection.kind != "website" and detection.products is None:
        detection.products = len(products)
    return PlatformCheck(detection, products[:limit], warnings)


def _read_platform(url: str, detection: Detection, fetch: Fetch, limit: int) -> tuple[list[dict], list[str]]:
    """Up to ``limit`` products of a Shopify, WooCommerce or feed source, read as its spider does."""
    from crawler.adapters import feeds, shopify, woocommerce
    from crawler.detect import advertised_feeds

    products: list[dict] = []
    warnings: list[str] = []
    if detection.kind == "shopify":
        status, _headers, home = fetch(url)
        root = detection.root or shopify.shop_root(url, home)
        currency = shopify.currency_from_html(home)
        if currency is None:
            status, _headers, meta = fetch(shopify.meta_url(root))
            currency = shopify.currency_from_meta(meta) if status == 200 else None
        page_url: str | None = shopify.first_request(root)
        page = 1
        while page_url and len(products) < limit:
            status, _headers, body = fetch(page_url)
            if status >= 400:
                raise CheckError(_("%(url)s a répondu HTTP %(status)s", url=page_url, status=status))
            result = shopify.parse(body, root, page=page, currency=currency)
            products += result.products
            warnings += [w for w in result.warnings if w not in warnings]
            page_url, page = result.next_url, page + 1
            if not result.products:
                break
    elif detection.kind == "woocommerce":
        root = detection.root
        if root is None:
            _status, headers, home = fetch(url)
            root = woocommerce.rest_root(home, headers, url)
        status, headers, body = fetch(woocommerce.products_url(url, root=root, per_page=max(1, min(limit, 100))))
        if status >= 400:
            raise CheckError(_("l'API Store de WooCommerce a répondu HTTP %(status)s", status=status))
        products = woocommerce.parse(body, url, root=root).products
        total = {k.lower(): v for k, v in headers.items()}.get("x-wp-total")
        if detection.products is None and total and total.isdigit():
            detection.products = int(total)
    else:
        feed_url = detection.feed_url
        if feed_url is None:
            _status, _headers, body = fetch(url)
            links = advertised_feeds(body, url)
            feed_url = links[0] if links and feeds.sniff(body) != "xml" else url
            detection.via = feed_url
        status, _headers, body = fetch(feed_url)
        if status >= 400:
            raise CheckError(_("%(url)s a répondu HTTP %(status)s", url=feed_url, status=status))
        result = feeds.parse(body, url)
        products, warnings = result.products, result.warnings
        detection.products = len(products)
    return products, warnings


# -- a page without products: sample the shop's product pages, as a crawl finds them ---------

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
    pages: list[tuple[str, PageExtraction]]  # the pages read, product-like first
    login_pages: int = 0
    from_sitemap: int = 0  # of which listed by a sitemap

    @property
    def products(self) -> list[dict]:
        seen: set[str] = set()
        out = []
        for _url, extraction in self.pages:
            for product in extraction.products:
                key = product.get("url") or product.get("name") or ""
                if key not in seen:
                    seen.add(key)
                    out.append(product)
        return out


def sitemap_pages(home_url: str, fetch: Fetch) -> list[str]:
    """Page addresses the shop's sitemaps list, as the crawler reads them: the sitemaps named
    in robots.txt, else ``/sitemap.xml``; in an index, its product sitemaps when it names any."""
    from protego import Protego
    from scrapy.utils.sitemap import Sitemap

    from crawler.sitemaps import product_sitemaps

    def get(url: str) -> bytes | None:
        try:
            status, _headers, body = fetch(url)
        except (RefusedAddress, requests.RequestException, OSError):
            return None
        if status != 200:
            return None
        if body[:2] == b"\x1f\x8b":
            try:
                body = gzip.decompress(body)[:MAX_BYTES]
            except (OSError, EOFError):
                return None
        return body

    robots = get(urljoin(home_url, "/robots.txt"))
    queue = list(Protego.parse(robots.decode("utf-8", "replace")).sitemaps) if robots else []
    queue = queue or [urljoin(home_url, "/sitemap.xml")]
    host = urlsplit(home_url).hostname
    pages: list[str] = []
    read = 0
    while queue and read < SAMPLE_SITEMAPS:
        body = get(queue.pop(0))
        read += 1
        if not body:
            continue
        try:
            sitemap = Sitemap(body)
            entries = [e["loc"] for e in sitemap if e.get("loc")]
        except Exception:  # a broken sitemap is only one way of finding pages
            continue
        if sitemap.type == "sitemapindex":
            queue = product_sitemaps(entries) + queue
        else:
            pages += [u for u in entries if urlsplit(u).hostname == host and u not in pages]
    return pages


def page_links(home_url: str, home: bytes) -> list[str]:
    """The same-host pages a page links to, carts and accounts left out."""
    import lxml.html

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
    return links


def sample_site(
    home_url: str,
    home: bytes,
    *,
    allow_private: bool = False,
    user_agent: str = "emplettes",
    pages: int = SAMPLE_PAGES,
    enough: int | None = None,
) -> SiteSample:
    """Read up to ``pages`` pages of the shop (robots.txt obeyed), as a crawl finds them:
    those its sitemaps list, then those ``home`` links to, then those the pages read link to
    (a category page leads to its products), product-like addresses first at each step.
    Stops early once ``enough`` products are found."""
    from crawler.detect import http_fetcher

    fetch = http_fetcher(allow_private=allow_private, user_agent=user_agent)
    listed = sitemap_pages(home_url, fetch)
    seen = {home_url.rstrip("/")}
    pending: list[str] = []

    def queue(links: list[str]) -> None:
        fresh = [u for u in links if u.rstrip("/") not in seen]
        seen.update(u.rstrip("/") for u in fresh)
        pending.extend(fresh)
        pending.sort(key=lambda link: not _PRODUCT_LIKE.search(link))  # product-like first, stable

    queue(listed)
    queue(page_links(home_url, home))
    sample = SiteSample([])
    read = 0
    while pending and read < pages:
        link = pending.pop(0)
        read += 1
        try:
            status, _headers, body = fetch(link)
        except (RefusedAddress, requests.RequestException, OSError):
            continue
        if status != 200:
            continue
        extraction = extract_page(body, link)
        sample.login_pages += extraction.login_required
        sample.from_sitemap += link in listed
        sample.pages.append((link, extraction))
        if enough is not None and len(sample.products) >= enough:
            break
        if not extraction.products:
            queue(page_links(link, body))
    return sample


def explain_site(url: str, sample: SiteSample) -> str:
    """Why a shop's pages give nothing, and what the shop could add."""
    if not sample.pages:
        return _("%(url)s ne mène à aucune page lisible de son propre site : rien à indexer.", url=url)
    login = (
        " "
        + ngettext(
            "(%(num)d demande de se connecter : emplettes ne se connecte jamais)",
            "(%(num)d demandent de se connecter : emplettes ne se connecte jamais)",
            sample.login_pages,
        )
        if sample.login_pages
        else ""
    )
    found = ngettext(
        "aucun balisage de produit schema.org ou OpenGraph sur %(num)d page de %(url)s",
        "aucun balisage de produit schema.org ou OpenGraph sur %(num)d pages de %(url)s",
        len(sample.pages),
        url=url,
    )
    return f"{found}{login}.\n{markup_example()}"


# -- the command -------------------------------------------------------------------------------

_AVAILABILITY = {
    "in_stock": "en stock",
    "out_of_stock": "épuisé",
    "preorder": "en précommande",
    "unknown": "disponibilité inconnue",
}


def _price(product: dict) -> str:
    if not product.get("price"):
        return _("sans prix")
    amount = str(product["price"]).replace(".", ",")
    currency = product.get("currency")
    return f"{amount} €" if currency == "EUR" else f"{amount} {currency or '?'}"


def _print_products(products: list[dict], as_json: bool, out: TextIO) -> None:
    for product in products:
        if as_json:
            print(json.dumps(product, ensure_ascii=False), file=out)
        else:
            availability = _(_AVAILABILITY.get(product.get("availability") or "unknown", "disponibilité inconnue"))
            print(f"  {_('produit')} : {product['name']} — {_price(product)} — {availability}", file=out)
            print(f"            {product['url']}", file=out)


def _print_page(result: CheckResult, out: TextIO) -> None:
    ext = result.extraction
    print(result.url, file=out)
    print(f"  {_('balisage')} : {', '.join(ext.syntaxes) or _('aucun')}", file=out)
    _print_products(ext.products, False, out)
    for shop in ext.shops:
        where = " ".join(filter(None, [shop.get("postcode"), shop.get("town")]))
        print(f"  {_('boutique')} : {shop['name']}{' — ' + where if where else ''}", file=out)


def run_check(
    target: str,
    *,
    kind: str | None = None,
    limit: int = 20,
    as_json: bool = False,
    base_url: str | None = None,
    allow_private: bool = False,
    user_agent: str = "emplettes",
    with_source: bool = False,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """``emplettes check``: 0 products found, 1 none (and why), 2 the target cannot be read.

    ``with_source`` (with ``as_json``): a first line ``{"type": "source", "kind", "products"}``,
    what the dashboard and the shop's mirror show above the products."""
    limit = max(1, limit)

    def source_line(source_kind: str, products: int | None) -> None:
        if as_json and with_source:
            print(json.dumps({"type": "source", "kind": source_kind, "products": products}), file=out, flush=True)

    is_url = target.startswith(("http://", "https://"))
    notes = err if as_json else out
    try:
        if is_url and not urlsplit(target).hostname:
            raise CheckError(_("%(target)s : adresse sans nom d'hôte", target=target))
        if is_url and kind not in ("website", "social"):  # social: page markup
            found = check_platform(target, kind=kind, allow_private=allow_private, user_agent=user_agent, limit=limit)
            print(f"{_('détecté')} : {found.detection.summary()}", file=notes)
            for why in found.detection.fallbacks:
                print(f"{_('repli')} : {why}", file=notes)
            source_line(found.detection.kind, found.detection.products)
            if found.detection.kind != "website":
                for warning in found.warnings:
                    print(f"{_('attention')} : {warning}", file=err)
                _print_products(found.products, as_json, out)
                if found.products:
                    return 0
                print(
                    _("check : la source %(kind)s répond mais ne liste aucun produit", kind=found.detection.kind),
                    file=err,
                )
                return 1
        else:
            source_line(kind or "website", None)
        result = check(target, base_url=base_url, allow_private=allow_private, user_agent=user_agent)
    except CheckError as exc:
        print(f"check : {exc}", file=err)
        return 2
    if as_json:
        for record in result.records:
            print(json.dumps(record, ensure_ascii=False), file=out)
    else:
        _print_page(result, out)
    if result.extraction.products:
        return 0
    if is_url and not result.extraction.login_required:
        # A home page rarely declares products: read the pages a crawl would read.
        try:
            _url, body = fetch(result.url, allow_private=allow_private, user_agent=user_agent)
        except CheckError as exc:
            print(f"check : {exc}", file=err)
            return 2
        sample = sample_site(result.url, body, allow_private=allow_private, user_agent=user_agent, enough=limit)
        products = sample.products[:limit]
        if products:
            print(
                ngettext(
                    "produits lus sur %(num)d page du site :",
                    "produits lus sur %(num)d pages du site :",
                    len(sample.pages),
                ),
                file=notes,
            )
            _print_products(products, as_json, out)
            return 0
        print(explain_site(result.url, sample), file=err)
        return 1
    print(explain_empty(result), file=err)
    return 1 if not result.records else 0
