"""One thin spider per source kind; :func:`spider_for` picks the one a source needs."""

from __future__ import annotations

from crawler.registry import Source
from crawler.spiders.feed import FeedSpider
from crawler.spiders.platform import PlatformSpider
from crawler.spiders.shopify import ShopifySpider
from crawler.spiders.social import SocialSpider
from crawler.spiders.website import WebsiteSpider
from crawler.spiders.woocommerce import WooCommerceSpider

SPIDERS = {
    "website": WebsiteSpider,
    "shopify": ShopifySpider,
    "woocommerce": WooCommerceSpider,
    "feed": FeedSpider,
    "platform": PlatformSpider,
    "social": SocialSpider,
}


def spider_for(source: Source) -> type:
    """The spider class for ``source``'s kind; detected when the registry leaves it out
    (two requests at most, see :mod:`crawler.detect`); structured-data website otherwise."""
    return SPIDERS.get(source.kind or detected_kind(source), WebsiteSpider)


def detected_kind(source: Source) -> str:
    """The kind :func:`crawler.detect.detect` finds for ``source``; ``website`` if it cannot tell.

    The answer is kept a week in ``DATA_DIR/detected/<source>.json`` (with the kinds passed
    over and why, which the run's manifest repeats): only the first crawl of a source
    without ``kind`` pays the detection requests. A crawl that finds nothing the detected
    way forgets it, so the next one detects again.
    """
    import logging

    from config import Config
    from crawler.detect import detect, http_fetcher, remember, remembered

    log = logging.getLogger(__name__)
    config = Config()
    known = remembered(config.data_dir, source.id, source.url)
    if known is not None and known.get("kind") in SPIDERS:
        return known["kind"]
    try:
        # All of detection within DOWNLOAD_TIMEOUT: a shop that drips its answer fails here,
        # and its crawl reports the timeouts (crawler.fetch).
        fetcher = http_fetcher(
            allow_private=source.allow_private,
            user_agent=config.user_agent,
            timeout=config.download_timeout,
            budget=config.download_timeout,
        )
        found = detect(source.url, fetcher)
    except Exception as exc:  # unreachable, refused address...: the website spider reports it
        log.info("%s: kind not detected (%s): website", source.id, exc)
        return "website"
    kind = found.kind if found.kind in SPIDERS else "website"
    log.info("%s: detected %s", source.id, found.summary())
    for why in found.fallbacks:
        log.warning("%s: %s", source.id, why)
    if found.page_unread:
        return kind  # the home page could not be read this time: ask again next crawl
    remember(config.data_dir, source.id, source.url, found)
    return kind
