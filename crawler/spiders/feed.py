"""Product feeds (Google Merchant Center / Meta): the home page (shop), then the feed.

Without a ``feed:`` address, the feeds the home page advertises are read in the order
:func:`crawler.detect.advertised_feeds` gives (product feeds first, the one detection
chose before all); a feed that fails or lists no product falls back to the next one,
and the run's log says so.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

from scrapy import Request
from scrapy.http import Response, TextResponse

from crawler.adapters import MalformedPayload, feeds
from crawler.detect import advertised_feeds
from crawler.spiders.api import ApiSpider


class FeedSpider(ApiSpider):
    name = "feed"
    kind = "feed"

    async def start(self) -> AsyncIterator[Any]:
        # Without a `feed:` address, the home page says where the feed is (<link rel=alternate>).
        yield self.home_request()
        if self.source.feed and self.may_fetch():
            yield self.feed_request(self.source.feed)

    candidates: list[str] = []

    def feed_request(self, url: str) -> Request:
        return Request(url, callback=self.parse_feed, errback=self.feed_failed, dont_filter=True)

    def next_feed(self, why: str) -> Iterable[Any]:
        """The next advertised feed, if any, after one that failed or listed nothing."""
        if self.candidates and self.may_fetch():
            following = self.candidates.pop(0)
            self.logger.warning("%s: next advertised feed: %s", why, following)
            yield self.feed_request(following)

    def feed_failed(self, failure) -> Iterable[Any]:
        self.page_failed(failure)
        yield from self.next_feed(f"feed {failure.request.url} failed")

    def parse_home(self, response: Response, **_: Any) -> Iterable[Any]:
        yield from super().parse_home(response)
        if self.source.feed:
            return
        links = advertised_feeds(response.body, response.url) if isinstance(response, TextResponse) else []
        chosen = (self.detection or {}).get("feed_url")
        if chosen in links:
            links.remove(chosen)
            links.insert(0, chosen)
        if links:
            self.candidates = links[1:]
            if self.may_fetch():
                yield self.feed_request(links[0])
        elif (
            feeds.sniff(response.body) == "xml"
            or not isinstance(response, TextResponse)
            or "html" not in (response.headers.get("Content-Type", b"").decode("latin-1").lower())
        ):
            yield from self.parse_feed(response)  # the registered address is the feed itself
        else:
            self.logger.error("%s advertises no product feed: set `feed:` in sources.yaml", response.url)
            self._count_error("no_feed")

    def parse_feed(self, response: Response) -> Iterable[Any]:
        try:
            result = feeds.parse(response.body, self.home_url)
        except MalformedPayload as exc:
            self.malformed(response, exc)
            yield from self.next_feed(f"feed {response.url} unreadable")
            return
        for warning in result.warnings:
            self.logger.warning("%s: %s", response.url, warning)
        if not result.products:
            yield from self.next_feed(f"feed {response.url} lists no product")
        yield from self.records(result.products, response)
