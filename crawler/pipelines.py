"""Item pipelines: the last checks before a record reaches the run file."""

from __future__ import annotations

from scrapy.exceptions import DropItem


class DropDuplicateProducts:
    """One record per product id and run: the same page reached twice, or one product
    declared by two pages (listing + product page), is written once."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.seen: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item):
        if item.get("type") == "product":
            if item["id"] in self.seen:
                self.crawler.stats.inc_value("emplettes/duplicate_products")
                raise DropItem(f"duplicate product {item['id']} ({item.get('url')})", log_level="DEBUG")
            self.seen.add(item["id"])
        return item
