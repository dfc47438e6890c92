"""The run manifest: the sidecar that tells the indexer how a run ended.

Written when the spider opens (no ``finished_at``: a run killed mid-way is recognisable)
and rewritten once the feed export has flushed the run file, with Scrapy's finish reason
and the page/item/error counts the indexer's sweep rule reads.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

from scrapy import signals


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def write_json_atomically(path: Path, data: dict) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


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
        return ext

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
        }
        write_json_atomically(self.path, self.manifest)

    def spider_closed(self, spider, reason):
        self.reason = reason

    def feed_exporter_closed(self):
        stats = self.crawler.stats.get_stats()
        errors = {
            key.removeprefix("emplettes/page_errors/"): value
            for key, value in stats.items()
            if key.startswith("emplettes/page_errors/")
        }
        self.manifest.update(
            finished_at=_now(),
            finish_reason=self.reason or stats.get("finish_reason", "unknown"),
            pages=stats.get("response_received_count", 0),
            page_errors=stats.get("emplettes/page_errors", 0),
            errors=errors,
            items=stats.get("item_scraped_count", 0),
            item_errors=stats.get("emplettes/invalid_products", 0),
            duplicates=stats.get("emplettes/duplicate_products", 0),
            refused_private=stats.get("emplettes/refused_private_address", 0),
            robots_forbidden=stats.get("robotstxt/forbidden", 0),
            bytes=stats.get("downloader/response_bytes", 0),
        )
        write_json_atomically(self.path, self.manifest)
        self.crawler.signals.send_catch_log(run_finished, manifest=dict(self.manifest))
