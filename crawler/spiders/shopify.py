"""Shopify shops: the home page (shop, currency, the market's root), then ``products.json`` page by page."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

from scrapy import Request
from scrapy.http import Response

from crawler.adapters import MalformedPayload, shopify
from crawler.spiders.api import ApiSpider


class ShopifySpider(ApiSpider):
    name = "shopify"
    kind = "shopify"

    async def start(self) -> AsyncIterator[Any]:
        # products.json carries no currency: the home page says it, so it is read first.
        yield self.home_request()

    @property
    def root(self) -> str:
        """The storefront's root: the market sub-folder the shop's pages name, else the host's."""
        return getattr(self, "_root", None) or shopify.shop_root(self.home_url)

    def parse_home(self, response: Response, **_: Any) -> Iterable[Any]:
        yield from super().parse_home(response)
        text = response.text if hasattr(response, "text") else None
        if text is not None:
            self._root = shopify.shop_root(self.home_url, text)
        currency = shopify.currency_from_html(text) if text is not None else None
        if currency is not None:
            yield from self.next_page(shopify.first_request(self.root), 1, currency)
        else:  # one more request: the shop's /meta.json says its currency
            yield Request(shopify.meta_url(self.root), callback=self.parse_meta, errback=self.meta_failed)

    def home_failed(self, failure) -> Iterable[Any]:
        yield from super().home_failed(failure)
        yield Request(shopify.meta_url(self.root), callback=self.parse_meta, errback=self.meta_failed)

    def parse_meta(self, response: Response) -> Iterable[Any]:
        yield from self.start_listing(shopify.currency_from_meta(response.body))

    def meta_failed(self, failure) -> Iterable[Any]:
        yield from self.start_listing(None)  # not an error of the shop: the currency stays unknown

    def start_listing(self, currency: str | None) -> Iterable[Any]:
        if currency is None:
            self.logger.warning("%s declares no currency: its prices are kept without one", self.home_url)
            self.crawler.stats.inc_value("emplettes/no_currency")
        yield from self.next_page(shopify.first_request(self.root), 1, currency)

    def next_page(self, url: str, page: int, currency: str | None, after_malformed: bool = False) -> Iterable[Request]:
        if self.may_fetch():
            yield Request(
                url,
                callback=self.parse_products,
                errback=self.products_failed,
                cb_kwargs={"page": page, "currency": currency, "after_malformed": after_malformed},
            )

    def parse_products(
        self, response: Response, page: int, currency: str | None, after_malformed: bool = False
    ) -> Iterable[Any]:
        try:
            result = shopify.parse(response.body, self.root, page=page, currency=currency)
        except MalformedPayload as exc:
            self.malformed(response, exc)
            # One unreadable page in a listing does not end it: the next one may be fine. A
            # first page, or two in a row, means products.json is not there to be read.
            if page > 1 and not after_malformed and page < shopify.PAGE_CAP:
                yield from self.next_page(shopify.products_url(self.root, page + 1), page + 1, currency, True)
            return
        for warning in result.warnings:
            if "page cap" in warning:
                self.logger.warning("%s: %s", response.url, warning)
        yield from self.records(result.products, response)
        if result.next_url:
            yield from self.next_page(result.next_url, page + 1, currency)

    def products_failed(self, failure) -> None:
        self.page_failed(failure)  # retries (429, 5xx) are spent: the listing stops here
