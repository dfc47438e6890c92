"""One thin spider per source kind; :func:`spider_for` picks the one a source needs."""

from __future__ import annotations

from crawler.registry import Source
from crawler.spiders.website import WebsiteSpider

SPIDERS = {"website": WebsiteSpider}


def spider_for(source: Source) -> type:
    """The spider class for ``source``'s kind; structured-data website when unknown."""
    return SPIDERS.get(source.kind or "website", WebsiteSpider)
