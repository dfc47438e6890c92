"""The structured-data website spider: any shop site that declares its products in markup.

It fetches; it does not parse by hand. Discovery uses Scrapy's sitemap machinery first
(sitemaps listed in robots.txt, else ``/sitemap.xml``); only when the sitemaps yield no
page does it fall back to bounded link-following inside the shop's own host. Every page
goes through :func:`crawler.extract.extract_page`, a pure function.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml import etree
from pydantic import ValidationError
from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response, TextResponse
from scrapy.linkextractors import LinkExtractor
from scrapy.spiders import SitemapSpider

from crawler.errors import UNPARSEABLE_HTML, html_problem
from crawler.extract import extract_page
from crawler.records import build_product, build_shop
from crawler.registry import Source
from crawler.sitemaps import product_sitemaps
from crawler.spiders.accounting import PageAccounting
from crawler.spiders.api import detection_of

# Paths a shopper's crawler has no business in: carts, accounts, searches, sorts.
_DENY = (
    r"/(panier|cart|basket|checkout|commande|compte|account|login|connexion|my-account|wishlist)([/?.]|$)",
    r"[?&](add-to-cart|add_to_cart|orderby|sort|order|filter_|q|s|search)=",
    r"/(wp-admin|wp-login|feed)\b",
)
_NOT_PAGES = (
    "pdf",
    "jpg",
    "jpeg",
    "png",
    "gif",
    "webp",
    "svg",
    "zip",
    "mp4",
    "mp3",
    "css",
    "js",
    "ico",
    "xml",
    "json",
)


class WebsiteSpider(PageAccounting, SitemapSpider):
    """One shop site (or any site that declares schema.org/OpenGraph products)."""

    name = "website"
    kind = "website"
    sitemap_rules = [("", "parse_page")]  # every page a sitemap lists is read for markup

    def __init__(self, source: Source, run_id: str, *args: Any, **kwargs: Any):
        self.name = source.id  # log lines are attributed to the source
        super().__init__(*args, **kwargs)
        self.source = source
        self.run_id = run_id
        self.allow_private = source.allow_private
        self.max_pages = source.max_pages or 500
        home = urlsplit(source.url)
        self.host = home.hostname or ""
        # the shop's host and its www./bare twin (a home page redirecting between them is common)
        self.hosts = {self.host, self.host.removeprefix("www."), "www." + self.host.removeprefix("www.")}
        self.allowed_domains = [self.host.removeprefix("www.")]
        self.home_url = source.url if home.path else source.url + "/"
        self.sitemap_urls = [source.sitemap] if source.sitemap else [urljoin(self.home_url, "/robots.txt")]
        # Hosts are compared by hand: LinkExtractor's allow_domains compares the netloc,
        # port included, so a shop on a non-default port would have no links at all.
        self.link_extractor = LinkExtractor(deny=_DENY, deny_extensions=_NOT_PAGES, unique=True)
        # discovery: "sitemaps" (declared) -> "sitemap.xml" (conventional) -> "links"
        self.discovery = "sitemaps"
        self.sitemap_pages = 0
        self.scheduled_pages = 0
        self.budget_warned = False
        self.detection = detection_of(source)

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._on_idle, signal=signals.spider_idle)
        return spider

    async def start(self) -> AsyncIterator[Any]:
        # The home page always: it names the shop (LocalBusiness markup) and may list products.
        yield Request(self.home_url, callback=self.parse_home, errback=self.home_failed, priority=10)
        for url in self.sitemap_urls:
            yield Request(url, callback=self._parse_sitemap, errback=self.sitemap_failed)

    # -- discovery ---------------------------------------------------------------------------

    def _parse_sitemap(self, response: Response) -> Iterable[Request]:
        self.sitemaps_read = getattr(self, "sitemaps_read", 0) + 1
        requests = list(super()._parse_sitemap(response))  # fills self._carried via sitemap_filter
        yield from self._carried_records()
        for request in requests:
            if request.callback == self.parse_page:
                if not self._may_schedule():
                    return
                self.sitemap_pages += 1
                request = request.replace(errback=self.page_failed)
            yield request

    def sitemap_filter(self, entries):
        """Pages whose ``lastmod`` predates the last good run are not fetched again: that
        run's records of them are carried into this one (see :mod:`crawler.recrawl`).

        In a sitemap index, only the product sitemaps are followed when it names any
        (see :mod:`crawler.sitemaps`)."""
        if getattr(entries, "type", None) == "sitemapindex":
            listed = list(entries)
            chosen = product_sitemaps(listed)
            if len(chosen) < len(listed) and getattr(self, "crawler", None):
                self.crawler.stats.inc_value("emplettes/skipped_sitemaps", len(listed) - len(chosen))
            yield from chosen
            return
        previous = self._previous_run()
        for entry in entries:
            carried = previous.unchanged(entry.get("loc"), entry.get("lastmod")) if previous else None
            if carried:
                self._carried = getattr(self, "_carried", []) + carried
                self.sitemap_pages += 1
                continue
            yield entry

    def _previous_run(self):
        if not hasattr(self, "_previous"):
            from crawler.recrawl import PreviousRun

            manifest = self.crawler.settings.get("EMPLETTES_MANIFEST") if getattr(self, "crawler", None) else None
            self._previous = PreviousRun.load(Path(manifest).parent, self.run_id) if manifest else None
        return self._previous

    def _carried_records(self) -> Iterable[dict]:
        from crawler.recrawl import carry

        carried, self._carried = getattr(self, "_carried", []), []
        if carried:
            self.crawler.stats.inc_value("emplettes/unchanged_pages", len({r["url"] for r in carried}))
            yield from carry(carried, self.run_id, self.source)

    def sitemap_failed(self, failure) -> None:
        self.logger.info("no usable sitemap at %s (%s)", failure.request.url, failure.getErrorMessage())

    def _on_idle(self, spider) -> None:
        """Sitemaps exhausted without a single page: try the next way of finding pages."""
        if spider is not self or self.sitemap_pages or self.discovery == "links":
            return
        shared = getattr(self, "_shared_queue_worker", None)  # crawler.distributed, with REDIS_URL
        if shared is not None and not shared.owns_fallback(self):
            return  # another worker read the sitemaps, or found product pages: no fallback here
        if self.discovery == "sitemaps" and not self.source.sitemap:
            # robots.txt listed no sitemap: the conventional address is worth one request.
            self.discovery = "sitemap.xml"
            request = Request(
                urljoin(self.home_url, "/sitemap.xml"), callback=self._parse_sitemap, errback=self.sitemap_failed
            )
        else:
            self.discovery = "links"
            self.logger.info("no product pages in sitemaps: following links from %s", self.home_url)
            request = Request(self.home_url, callback=self.parse_page, errback=self.page_failed, dont_filter=True)
        self.crawler.engine.crawl(request)
        raise DontCloseSpider

    def _may_schedule(self) -> bool:
        """Spend one page of the run's budget; the rest of the site waits for the next run."""
        if self.scheduled_pages < self.max_pages:
            self.scheduled_pages += 1
            return True
        if not self.budget_warned:
            self.budget_warned = True
            self.logger.warning("max_pages=%d reached: further pages are left for the next run", self.max_pages)
        return False

    def _follow_links(self, response: Response) -> Iterable[Request]:
        if self.discovery != "links" or not isinstance(response, TextResponse):
            return
        for link in self.link_extractor.extract_links(response):
            if urlsplit(link.url).hostname not in self.hosts:
                continue
            if not self._may_schedule():
                return
            yield Request(link.url, callback=self.parse_page, errback=self.page_failed)

    # -- pages -------------------------------------------------------------------------------

    def parse_home(self, response: Response) -> Iterable[Any]:
        extraction = self._extract(response)
        self.hosts.add(urlsplit(response.url).hostname or self.host)  # after redirects
        yield build_shop(self.source, self.run_id, extraction.shops if extraction else [])
        if extraction:
            yield from self._products(extraction, response)

    def parse_page(self, response: Response, listed: dict | None = None) -> Iterable[Any]:
        extraction = self._extract(response)
        if extraction and extraction.products:
            yield from self._products(extraction, response)
        elif listed is not None:
            yield listed  # the product's own page declares nothing: keep what the listing said
        yield from self._follow_links(response)

    def listed_page_failed(self, failure) -> Iterable[Any]:
        self.page_failed(failure)
        listed = failure.request.cb_kwargs.get("listed")
        if listed is not None:
            yield listed

    def _extract(self, response: Response):
        if not isinstance(response, TextResponse):
            self.crawler.stats.inc_value("emplettes/skipped_not_html")
            return None
        problem = html_problem(response.body)
        if problem:  # served as HTML, but junk, empty or bare text: the shop's page is broken
            self.logger.warning("page failed (%s): %s", problem, response.url)
            self._count_error(problem)
            return None
        try:
            return extract_page(response.body, response.url)
        except (etree.ParserError, etree.XMLSyntaxError) as exc:  # lxml could not build a tree
            self.logger.warning("page failed (%s): %s: %s", UNPARSEABLE_HTML, response.url, exc)
            self._count_error(UNPARSEABLE_HTML)
            return None
        except Exception as exc:  # a hostile page must never stop the crawl
            self.logger.error("cannot extract %s: %s: %s", response.url, type(exc).__name__, exc)
            self._count_error(f"extract_{type(exc).__name__}")
            return None

    def _products(self, extraction, response: Response) -> Iterable[Any]:
        """Records of a page's products; a listing's products are read on their own page.

        A listing (an ``ItemList``, a category page) usually declares less than the
        product page it links to: each listed product with its own URL is fetched, and the
        listing's record is kept only if that page cannot be read or declares nothing.
        """
        page_url = extraction.canonical_url or response.url
        listing = len(extraction.products) > 1
        for product in extraction.products:
            try:
                record = build_product(self.source, self.run_id, product, page_url=response.url)
            except ValidationError as exc:
                problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
                self.logger.warning("invalid product on %s: %s", response.url, problems)
                self.crawler.stats.inc_value("emplettes/invalid_products")
                continue
            if record is None:
                continue
            if listing and record["url"] != page_url and self._may_schedule():
                yield Request(
                    record["url"],
                    callback=self.parse_page,
                    errback=self.listed_page_failed,
                    cb_kwargs={"listed": record},
                )
                continue
            yield record
