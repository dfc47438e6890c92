"""Product feeds (Google Merchant Center / Meta): the home page (shop), then the feed."""

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

    def feed_request(self, url: str) -> Request:
        return Request(url, callback=self.parse_feed, errback=self.page_failed, dont_filter=True)

    def parse_home(self, response: Response, **_: Any) -> Iterable[Any]:
        yield from super().parse_home(response)
        if self.source.feed:
            return
        links = advertised_feeds(response.body, response.url) if isinstance(response, TextResponse) else []
        if links:
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
            return
        for warning in result.warnings:
            self.logger.warning("%s: %s", response.url, warning)
        yield from self.records(result.products, response)
