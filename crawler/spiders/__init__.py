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
    from crawler.detect import detect, remember, remembered

    log = logging.getLogger(__name__)
    config = Config()
    known = remembered(config.data_dir, source.id, source.url)
    if known is not None and known.get("kind") in SPIDERS and not known.get("registered"):
        return known["kind"]
    try:
        found = detect(source.url, _fetcher(source, config))
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


def kind_for_run(source: Source) -> str:
    """The kind this run reads ``source`` as: detected when the registry names none
    (:func:`detected_kind`); else the registered kind, but for an endpoint kind
    (:data:`crawler.detect.ENDPOINT_KINDS`) whose endpoint fails or lists no product, the
    pages' markup (``website``) for this run, as a detection falls back
    (:func:`registered_kind`)."""
    return registered_kind(source) if source.kind else detected_kind(source)


def registered_kind(source: Source) -> str:
    """``source.kind``, checked first when it reads an endpoint: the same probe as detection,
    each run (a registered kind is never cached). A fallback is kept for the run's manifest
    (``detection.fallbacks``) and ``status``; the registry is left as the chamber wrote it."""
    import logging

    from config import Config
    from crawler.detect import ENDPOINT_KINDS, check_registered, forget, remember_fallback

    kind = source.kind or "website"
    if kind not in ENDPOINT_KINDS:
        return kind
    log = logging.getLogger(__name__)
    config = Config()
    try:
        found = check_registered(source.url, kind, _fetcher(source, config))
    except Exception as exc:  # unreachable, refused address...: the registered spider reports it
        log.info("%s: %s not checked (%s): read as registered", source.id, kind, exc)
        forget(config.data_dir, source.id)
        return kind
    if found.kind == kind:
        forget(config.data_dir, source.id)  # a fallback of an earlier run is over
        return kind
    for why in found.fallbacks:
        log.warning("%s: %s: this run reads the pages' markup", source.id, why)
    remember_fallback(config.data_dir, source.id, source.url, kind, found)
    return "website"


def _fetcher(source: Source, config):
    """The requests of a detection or a check, all within DOWNLOAD_TIMEOUT: a shop that
    drips its answer fails here, and its crawl reports the timeouts (crawler.fetch)."""
    from crawler.detect import http_fetcher

    return http_fetcher(
        allow_private=source.allow_private,
        user_agent=config.user_agent,
        timeout=config.download_timeout,
        budget=config.download_timeout,
    )
