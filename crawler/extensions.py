"""The run manifest: the sidecar that tells the indexer how a run ended.

Written when the spider opens (no ``finished_at``: a run killed mid-way is recognisable)
and rewritten once the feed export has flushed the run file, with Scrapy's finish reason
and the page/item/error counts the indexer's sweep rule reads.
"""

from __future__ import annotations

import json
import os
import socket
from datetime import UTC, datetime
from pathlib import Path

from scrapy import signals
from scrapy.extensions.feedexport import FileFeedStorage


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def write_json_atomically(path: Path, data: dict) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _pages(stats: dict) -> int:
    """Pages fetched, each counted once: a response a retry middleware replaced by a new
    request never reaches the engine, so a 500 retried twice is one failed page here (the
    error ratio that decides the sweep is not diluted by retries). Product images
    (crawler.images) are not pages."""
    return stats.get("response_received_count", 0) - stats.get("emplettes/images/responses", 0)


# Sent with ``manifest=`` once a run's files are complete (progress display, scheduler).
run_finished = object()


class RunManifest:
    def __init__(self, crawler):
        self.crawler = crawler
        self.reason: str | None = None
        self.manifest: dict = {}

    @classmethod
    def from_crawler(cls, crawler):
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.feed_exporter_closed, signal=signals.feed_exporter_closed)
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        return ext

    def item_scraped(self, item, **_):
        if isinstance(item, dict) and item.get("type") == "product":
            self.crawler.stats.inc_value("emplettes/products")

    @property
    def path(self) -> Path:
        return Path(self.crawler.settings["EMPLETTES_MANIFEST"])

    def spider_opened(self, spider):
        spider = self.crawler.spider
        self.manifest = {
            "source_id": spider.source.id,
            "run_id": spider.run_id,
            "kind": spider.kind,
            "started_at": _now(),
            "finished_at": None,
            "pid": os.getpid(),
            "host": socket.gethostname(),  # with pid: tells a killed run from a running one
        }
        detection = getattr(spider, "detection", None)
        if detection:  # kind detected, not registered: how, and the kinds passed over and why
            self.manifest["detection"] = {k: detection.get(k) for k in ("summary", "root", "feed_url", "fallbacks")}
        shared = self.crawler.settings.get("EMPLETTES_SHARED_QUEUE")
        if shared:  # a distributed crawl: this run holds only the pages this worker fetched
            self.manifest["shared_queue"] = shared
        write_json_atomically(self.path, self.manifest)
        # Counts so far, every few seconds: a run killed mid-way still tells what it did.
        from twisted.internet.task import LoopingCall

        self._progress = LoopingCall(self._write_progress)
        self._progress.start(self.crawler.settings.getfloat("EMPLETTES_MANIFEST_INTERVAL", 10.0), now=False)

    def _write_progress(self):
        if self.manifest.get("finished_at"):
            return
        write_json_atomically(self.path, {**self.manifest, **self._counts()})

    def spider_closed(self, spider, reason):
        self.reason = reason
        progress = getattr(self, "_progress", None)
        if progress is not None and progress.running:
            progress.stop()

    def feed_exporter_closed(self):
        stats = self.crawler.stats.get_stats()
        self.manifest.update(
            finished_at=_now(),
            finish_reason=self.reason or stats.get("finish_reason", "unknown"),
            **self._counts(),
        )
        write_json_atomically(self.path, self.manifest)
        self.crawler.signals.send_catch_log(run_finished, manifest=dict(self.manifest))

    def _counts(self) -> dict:
        stats = self.crawler.stats.get_stats()
        errors = {
            key.removeprefix("emplettes/page_errors/"): value
            for key, value in stats.items()
            if key.startswith("emplettes/page_errors/")
        }
        return dict(
            pages=_pages(stats),
            page_errors=stats.get("emplettes/page_errors", 0),
            errors=errors,
            failed_urls=stats.get("emplettes/failed_urls", {}),
            items=stats.get("item_scraped_count", 0),
            products=stats.get("emplettes/products", 0),
            item_errors=stats.get("emplettes/invalid_products", 0),
            duplicates=stats.get("emplettes/duplicate_products", 0),
            refused_private=stats.get("emplettes/refused_private_address", 0),
            robots_forbidden=stats.get("robotstxt/forbidden", 0),
            bytes=stats.get("downloader/response_bytes", 0),
        )


class UnbufferedRunFile(FileFeedStorage):
    """The run file, written through to the system at each record (``FEED_STORAGES``).

    Scrapy's file feed is a buffered file: a crawl killed with ``kill -9`` (out of memory,
    a machine going down) lost the records still in its buffer, often most of a small shop.
    Unbuffered, each record is one ``write`` into the kernel's page cache, which outlives
    the process: a killed crawl keeps every record it had written.
    """

    def open(self, spider):
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        return open(self.path, self.write_mode, buffering=0)
