"""Downloader middlewares: each small, each switched on in crawler/settings.py."""

from __future__ import annotations

from scrapy.exceptions import IgnoreRequest

from crawler.netguard import RefusedAddress, check_url


class PrivateAddressGuard:
    """Drop requests (redirect targets included) to private addresses unless the source allows them.

    Redirects come back through the downloader middlewares as new requests, so a public
    page redirecting to 127.0.0.1 is caught here as well.
    """

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request):
        allow = bool(getattr(self.crawler.spider, "allow_private", False))
        try:
            check_url(request.url, allow_private=allow)
        except RefusedAddress as exc:
            self.crawler.stats.inc_value("emplettes/refused_private_address")
            self.crawler.spider.logger.warning("%s", exc)
            raise IgnoreRequest(str(exc)) from exc
        return None
