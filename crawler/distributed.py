"""Distributed crawling: several worker machines share each source's request queue in Redis.

Off unless ``REDIS_URL`` is set (and the ``[distributed]`` extra installed). Then every
crawl process uses scrapy-redis's scheduler and duplicate filter, keyed per source and per
crawl round: ``emplettes:<round>:<source>:requests`` and ``...:dupefilter``. Workers that
crawl the same source in the same round (``CRAWL_ROUND``, by default the UTC date) pull
from one queue and never fetch a page another worker already fetched or queued, the
sitemap and home page included. Only robots.txt is read by each worker (Scrapy fetches it
outside the scheduler).

A worker stays up while the queue holds requests or another worker is busy (it may queue
more); see :class:`SharedQueueWorker`. The queue and fingerprints of a round are kept when
a worker stops (another may still be crawling); they expire ROUND_TTL seconds after a
worker of the round last closed.

What a worker writes is an ordinary run file of its own, holding only the pages it
fetched: its manifest says ``shared_queue``, and the indexer loads such runs as additions
(never sweeping the source's older records, since no single run saw the whole shop).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

ROUND_TTL = 3 * 24 * 3600


def crawl_round(configured: str = "") -> str:
    return configured or datetime.now(UTC).strftime("%Y%m%d")


def queue_prefix(source_id: str, round_id: str) -> str:
    return f"emplettes:{round_id}:{source_id}"


def redis_settings(redis_url: str, source_id: str, round_id: str) -> dict[str, Any]:
    """The Scrapy settings that put one source's requests in the shared Redis queue."""
    try:
        import scrapy_redis  # noqa: F401
    except ImportError as missing:
        raise SystemExit(
            "REDIS_URL is set but scrapy-redis is not installed: pip install 'emplettes[distributed]'"
        ) from missing
    prefix = queue_prefix(source_id, round_id)
    return {
        "SCHEDULER": "crawler.distributed.SharedQueueScheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "REDIS_URL": redis_url,
        "SCHEDULER_QUEUE_KEY": f"{prefix}:requests",
        "SCHEDULER_DUPEFILTER_KEY": f"{prefix}:dupefilter",
        # Priorities kept (home page first); another worker may still need the queue.
        "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
        "SCHEDULER_PERSIST": True,
        "EMPLETTES_SHARED_QUEUE": prefix,
    }


def _shared_scheduler():
    from scrapy_redis.scheduler import Scheduler

    class SharedQueueScheduler(Scheduler):
        """scrapy-redis's scheduler, telling the other workers when this one takes a page."""

        def next_request(self):
            request = super().next_request()
            if request is not None:
                mark_busy(self.spider)
            return request

    return SharedQueueScheduler


def __getattr__(name):  # the scheduler class exists only when the [distributed] extra is installed
    if name == "SharedQueueScheduler":
        return _shared_scheduler()
    raise AttributeError(name)


def mark_busy(spider) -> None:
    worker = getattr(spider, "_shared_queue_worker", None)
    if worker is not None:
        worker.busy()


class SharedQueueWorker:
    """Keeps a worker alive while its round still has work, then lets the keys expire.

    Scrapy closes a spider as soon as its own scheduler is empty and nothing is in flight.
    With a shared queue that is too early: another worker may be reading a sitemap that
    will fill the queue again. So each worker marks itself busy in Redis while it fetches
    (``<prefix>:busy:<worker>``, expiring after BUSY_TTL s should it die), and an idle
    worker closes only when the queue is empty and no other worker is busy, twice in a row
    (checked every 0.2 s while it waits).
    """

    BUSY_TTL = 15

    def __init__(self, crawler):
        import os
        import socket

        from scrapy.exceptions import NotConfigured

        settings = crawler.settings
        if not settings.get("EMPLETTES_SHARED_QUEUE"):
            raise NotConfigured  # not distributed: Scrapy's own scheduler, nothing to share
        from scrapy_redis import connection

        self.crawler = crawler
        self.prefix = settings["EMPLETTES_SHARED_QUEUE"]
        self.queue_key = settings["SCHEDULER_QUEUE_KEY"]
        self.server = connection.from_settings(settings)
        self.busy_key = f"{self.prefix}:busy:{socket.gethostname()}:{os.getpid()}:{id(crawler):x}"
        self._marked = 0.0
        self._quiet = 0
        self._pages_found = False

    @classmethod
    def from_crawler(cls, crawler):
        from scrapy import signals

        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.response_received, signal=signals.response_received)
        crawler.signals.connect(ext.request_scheduled, signal=signals.request_scheduled)
        crawler.signals.connect(ext.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider):
        spider._shared_queue_worker = self
        spider.logger.info("shared request queue %s on %s", self.queue_key, self.crawler.settings["REDIS_URL"])

    def busy(self) -> None:
        import time

        self._quiet = 0
        now = time.monotonic()
        if now - self._marked > 1.0:  # at most one write a second
            self.server.set(self.busy_key, 1, ex=self.BUSY_TTL)
            self._marked = now

    def response_received(self, **_):
        self.busy()

    def request_scheduled(self, request, **_):
        """The first product page any worker queues tells every worker discovery succeeded."""
        if not self._pages_found and getattr(request.callback, "__name__", "") == "parse_page":
            self.server.set(f"{self.prefix}:pages", 1, ex=ROUND_TTL)
            self._pages_found = True

    def owns_fallback(self, spider) -> bool:
        """Should this worker try the next way of finding pages (``/sitemap.xml``, then links)?

        Only the worker that read the sitemaps itself, and only when no worker has queued
        a product page: otherwise two workers would each fall back, and the home page
        (read again with ``dont_filter`` to follow its links) would be fetched twice.
        """
        if not getattr(spider, "sitemaps_read", 0) or self.server.exists(f"{self.prefix}:pages"):
            return False
        # another worker may be reading the sitemap this one queued: decide once all is quiet
        return not self.server.zcard(self.queue_key) and not self._others_busy()

    def _others_busy(self) -> bool:
        return any(
            key != self.busy_key.encode() and key != self.busy_key
            for key in self.server.scan_iter(f"{self.prefix}:busy:*", count=1000)
        )

    def spider_idle(self, spider):
        from scrapy.exceptions import DontCloseSpider

        if spider is not self.crawler.spider:
            return
        self.server.delete(self.busy_key)
        self._marked = 0.0
        if self.server.zcard(self.queue_key) or self._others_busy():
            self._quiet = 0
            self._wake_soon()
            raise DontCloseSpider
        self._quiet += 1
        if self._quiet < 2:
            self._wake_soon()
            raise DontCloseSpider

    def _wake_soon(self, delay: float = 0.2) -> None:
        """Look at the shared queue again in ``delay`` s, not at Scrapy's next 5 s heartbeat:
        another worker's sitemap may be filling it right now."""
        from twisted.internet import reactor

        def wake():
            slot = getattr(self.crawler.engine, "_slot", None)  # Scrapy's own "look again" call
            if slot is not None and getattr(slot, "nextcall", None) is not None:
                slot.nextcall.schedule()

        reactor.callLater(delay, wake)

    def spider_closed(self, spider, reason):
        self.server.delete(self.busy_key)
        settings = self.crawler.settings
        for key in (settings["SCHEDULER_QUEUE_KEY"], settings["SCHEDULER_DUPEFILTER_KEY"]):
            self.server.expire(key, ROUND_TTL)
