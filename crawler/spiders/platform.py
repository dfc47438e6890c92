"""Chamber-run platforms: listings -> product pages, each product attributed to its own shop."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import AsyncIterator, Iterable
from typing import Any
from urllib.parse import urljoin

from pydantic import ValidationError
from scrapy import Request
from scrapy.http import Response, TextResponse

from crawler.adapters import platform
from crawler.records import build_product, build_shop
from crawler.registry import Geo, Source
from crawler.spiders.api import ApiSpider
from indexer.records import product_id


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:40] or "boutique"


class PlatformSpider(ApiSpider):
    name = "platform"
    kind = "platform"

    def __init__(self, source: Source, run_id: str, *args: Any, **kwargs: Any):
        super().__init__(source, run_id, *args, **kwargs)
        self.config = source.platform
        self.shops: dict[str, Source] = {}

    async def start(self) -> AsyncIterator[Any]:
        yield self.home_request()
        for path in self.config.listings:
            if self.may_fetch():
                yield Request(urljoin(self.home_url, path), callback=self.parse_listing, errback=self.page_failed)

    def parse_listing(self, response: Response) -> Iterable[Request]:
        if not isinstance(response, TextResponse):
            return
        links, next_url = platform.listing(response.text, response.url, self.config)
        for link in links:
            if self.may_fetch():
                yield Request(link, callback=self.parse_product, errback=self.page_failed)
        if next_url and self.may_fetch():
            yield Request(next_url, callback=self.parse_listing, errback=self.page_failed)

    def parse_product(self, response: Response) -> Iterable[Any]:
        if not isinstance(response, TextResponse):
            return
        try:
            found, shop = platform.product_page(response.body, response.url, self.config)
        except Exception as exc:  # a hostile page must never stop the crawl
            self.logger.error("cannot read %s: %s: %s", response.url, type(exc).__name__, exc)
            self._count_error(f"extract_{type(exc).__name__}")
            return
        if found is None:
            return
        if not shop["name"]:
            self.logger.warning(
                "no shop named on %s (selector %r): product skipped", response.url, self.config.shop_name
            )
            self.crawler.stats.inc_value("emplettes/platform_unattributed")
            return
        seller, is_new = self.shop_source(shop)
        if is_new:
            yield self._own(build_shop(seller, self.run_id, []))
        yield from self.records([found], response, seller)

    def shop_source(self, shop: dict) -> tuple[Source, bool]:
        """A per-shop view of the platform's source: each product is attributed to its own shop."""
        key = _slug(shop["name"])
        if key in self.shops:
            return self.shops[key], False
        where = self.config.shops.get(shop["name"]) or self.config.shops.get(key)
        update = {
            "id": f"{self.source.id}--{key}",
            "name": shop["name"],
            "url": shop["url"] or self.home_url,
            "address": None,
            "telephone": None,
            "geo": None,
        }
        if where is not None:
            update.update(
                {
                    k: v
                    for k, v in {
                        "town": where.town,
                        "postcode": where.postcode,
                        "address": where.address,
                        "geo": Geo(lat=where.geo.lat, lon=where.geo.lon) if where.geo else None,
                    }.items()
                    if v is not None
                }
            )
        seller = self.source.model_copy(update=update)
        # The chamber's point, or its town's centre (registry.Place), which the shop's own markup beats.
        seller._geo_is_town_centre = where.geo_is_town_centre if where is not None else False
        self.shops[key] = seller
        return seller, True

    def _own(self, record: dict) -> dict:
        record["source_id"] = self.source.id  # the platform's run replaces the platform's records
        return record

    def records(self, products: list[dict], response: Response, seller: Source | None = None) -> Iterable[dict]:
        if seller is None:
            yield from super().records(products, response)
            return
        for product in products:
            try:
                record = build_product(seller, self.run_id, product, page_url=response.url)
            except ValidationError as exc:
                self.logger.warning("invalid product on %s: %s", response.url, exc.errors()[0]["msg"])
                self.crawler.stats.inc_value("emplettes/invalid_products")
                continue
            if record is None:
                continue
            record["id"] = product_id(self.source.id, record["url"], record.get("sku"), record["name"])
            yield self._own(record)
