"""Base of the spiders that read a platform's API or feed instead of its pages.

They fetch; the adapters in :mod:`crawler.adapters` read. Failures are counted the way
:class:`~crawler.spiders.website.WebsiteSpider` counts them (``emplettes/page_errors/<kind>``,
so the run manifest lists them by kind); a payload the adapter cannot read is counted
as ``malformed_payload`` and nothing of it is kept, while the other pages are.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError
from scrapy import Request, Spider
from scrapy.http import Response, TextResponse

from crawler.adapters import MalformedPayload
from crawler.extract import extract_page
from crawler.records import build_product, build_shop
from crawler.registry import Source
from crawler.spiders.accounting import PageAccounting


def detection_of(source: Source) -> dict | None:
    """How this source's kind was detected, or why this run reads a registered kind's site
    by its markup (``None`` when it reads the registered kind): the run's manifest repeats
    it, with the kinds passed over and why."""
    from config import Config
    from crawler.detect import registered_fallback, remembered

    if source.kind is not None:  # read as registered, unless this run fell back (spiders.registered_kind)
        return registered_fallback(Config().data_dir, source.id, source.url, source.kind)
    return remembered(Config().data_dir, source.id, source.url)


class ApiSpider(PageAccounting, Spider):
    kind = "api"
    # API pages and listing pages chain one after the other (page N+1 is found on page N):
    # Scrapy's depth limit would silently cut a large catalogue. The run's page budget
    # (max_pages) and each adapter's page cap bound these crawls instead.
    custom_settings = {"DEPTH_LIMIT": 0}

    def __init__(self, source: Source, run_id: str, *args: Any, **kwargs: Any):
        self.name = source.id
        super().__init__(*args, **kwargs)
        self.source = source
        self.run_id = run_id
        self.allow_private = source.allow_private
        self.max_pages = source.max_pages or 500
        home = urlsplit(source.url)
        self.home_url = source.url if home.path else source.url + "/"
        self.allowed_domains = [(home.hostname or "").removeprefix("www.")]
        self.fetched_pages = 0
        self.detection = detection_of(source)

    # -- the home page names the shop (and, for Shopify, its currency) -----------------------

    def home_request(self, **cb_kwargs: Any) -> Request:
        return Request(
            self.home_url,
            callback=self.parse_home,
            errback=self.home_failed,
            priority=10,
            cb_kwargs=cb_kwargs,
            dont_filter=True,
        )

    def parse_home(self, response: Response, **_: Any) -> Iterable[Any]:
        extraction = None
        if isinstance(response, TextResponse):
            try:
                extraction = extract_page(response.body, response.url)
            except Exception as exc:  # a hostile page must never stop the crawl
                self.logger.error("cannot extract %s: %s: %s", response.url, type(exc).__name__, exc)
                self._count_error(f"extract_{type(exc).__name__}")
        yield build_shop(self.source, self.run_id, extraction.shops if extraction else [])

    def malformed(self, response: Response, exc: MalformedPayload) -> None:
        self.logger.error("unreadable payload at %s: %s", response.url, exc)
        self._count_error("malformed_payload")

    def may_fetch(self) -> bool:
        """Spend one request of the run's budget (``max_pages``)."""
        if self.fetched_pages < self.max_pages:
            self.fetched_pages += 1
            return True
        self.logger.warning("max_pages=%d reached: further pages are left for the next run", self.max_pages)
        return False

    def closed(self, reason: str) -> None:
        """A detected kind that gave nothing: forget it, so the next crawl detects again
        (the platform may have closed its API, or the feed moved) and falls back."""
        if self.detection is not None and not self.crawler.stats.get_value("emplettes/products"):
            from config import Config
            from crawler.detect import forget

            self.logger.warning(
                "%s: the detected kind %s found no product: the next crawl detects the kind again",
                self.source.id,
                self.kind,
            )
            forget(Config().data_dir, self.source.id)

    # -- records -----------------------------------------------------------------------------

    def records(self, products: list[dict], response: Response) -> Iterable[dict]:
        for product in products:
            try:
                record = build_product(self.source, self.run_id, product, page_url=product.get("url") or response.url)
            except ValidationError as exc:
                problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
                self.logger.warning("invalid product in %s: %s", response.url, problems)
                self.crawler.stats.inc_value("emplettes/invalid_products")
                continue
            if record is not None:
                yield record
