"""Social and catalogue pages: a public page carrying OpenGraph product tags, or a public
catalogue page linking to such pages on the same host.

It reads the registered page and the same-host pages it links to (one level, bounded by
``max_pages``), as the structured-data spider reads any page (OpenGraph ``product:*``
tags, and schema.org when present). It never logs in and never sends cookies
(``COOKIES_ENABLED`` stays off even if the project's settings change): a page that asks
visitors to log in, or answers 401, is counted as a ``login_required`` error of the run,
so the run manifest and ``emplettes status`` say why nothing was read there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.http import Response, TextResponse

from crawler.errors import failure_kind
from crawler.registry import Source
from crawler.spiders.website import WebsiteSpider


class SocialSpider(WebsiteSpider):
    name = "social"
    kind = "social"
    custom_settings = {"COOKIES_ENABLED": False}

    def __init__(self, source: Source, run_id: str, *args: Any, **kwargs: Any):
        super().__init__(source, run_id, *args, **kwargs)
        self.sitemap_urls = []  # a social or catalogue page has no sitemap of its own
        self.discovery = "links"  # nothing to fall back to when the page links to nothing
        self.login_walls: set[str] = set()

    async def start(self) -> AsyncIterator[Any]:
        yield Request(self.home_url, callback=self.parse_home, errback=self.home_failed, priority=10)

    def parse_home(self, response: Response) -> Iterable[Any]:
        yield from super().parse_home(response)
        if isinstance(response, TextResponse) and response.url not in self.login_walls:
            yield from self._linked_pages(response)

    def _linked_pages(self, response: TextResponse) -> Iterable[Request]:
        """The same-host pages the registered page links to (carts, accounts, logins excluded)."""
        here = response.url.split("#", 1)[0].rstrip("/")
        for link in self.link_extractor.extract_links(response):
            if urlsplit(link.url).hostname not in self.hosts or link.url.split("#", 1)[0].rstrip("/") == here:
                continue
            if not self._may_schedule():
                return
            yield Request(link.url, callback=self.parse_page, errback=self.page_failed)

    def _follow_links(self, response: Response) -> Iterable[Request]:
        return ()  # one level only: the linked pages' own links are not followed

    def _extract(self, response: Response):
        extraction = super()._extract(response)
        if extraction is not None and extraction.login_required:
            self.login_walls.add(response.url)
            self.logger.warning("%s asks visitors to log in: emplettes never logs in", response.url)
            self._count_error("login_required")
        return extraction

    def page_failed(self, failure) -> None:
        if failure_kind(failure) == "http_401":  # authentication required
            self.logger.warning("%s asks visitors to log in (401): emplettes never logs in", failure.request.url)
            self._count_error("login_required")
            return
        super().page_failed(failure)
