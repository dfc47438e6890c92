"""Run crawls: one Scrapy process, one spider per source, one run file per source.

Each source gets its own ``Crawler`` with its own feed (``runs/<source>/<run>.jsonl``) and
manifest (``<run>.json``), so one misbehaving shop only ever affects its own run. Twisted's
reactor cannot restart: call :func:`crawl_sources` once per process (the scheduler runs
each crawl in a subprocess for that reason).
"""

from __future__ import annotations

import json
import logging
import secrets
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings

from config import Config
from config.i18n import _, ngettext
from crawler.extensions import run_finished
from crawler.registry import Source
from crawler.settings import crawl_settings, feed_for
from crawler.spiders import spider_for


def new_run_id() -> str:
    """Sortable, unique enough: ``20261123T140501Z-3fa2``."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(2)


@dataclass
class RunOutcome:
    source_id: str
    run_id: str
    run_file: Path
    manifest: dict

    @property
    def ok(self) -> bool:
        return self.manifest.get("finish_reason") == "finished"


class Progress:
    """Counts per source while the crawl runs, on a terminal or a log."""

    def __init__(self, out: TextIO = sys.stderr, every: float = 2.0):
        self.out = out
        self.every = every
        self.crawlers: dict[str, Crawler] = {}
        self.started = time.monotonic()
        self.done: set[str] = set()
        self.receivers: list[Callable[..., None]] = []

    def _counts(self, crawler: Crawler) -> tuple[int, int, int]:
        stats = crawler.stats.get_stats() if crawler.stats else {}
        return (
            stats.get("response_received_count", 0),
            stats.get("item_scraped_count", 0),
            stats.get("emplettes/page_errors", 0),
        )

    def tick(self) -> None:
        running = [sid for sid in self.crawlers if sid not in self.done]
        if not running:
            return
        pages = items = 0
        for crawler in self.crawlers.values():
            p, i, _errors = self._counts(crawler)
            pages, items = pages + p, items + i
        elapsed = time.monotonic() - self.started
        print(
            _(
                "  … %(done)s/%(total)s sources terminées, %(pages)s pages, %(items)s fiches (%(seconds)s s)",
                done=len(self.done),
                total=len(self.crawlers),
                pages=pages,
                items=items,
                seconds=f"{elapsed:.0f}",
            ),
            file=self.out,
            flush=True,
        )

    def finished(self, source_id: str, manifest: dict) -> None:
        self.done.add(source_id)
        mark = "✓" if manifest.get("finish_reason") == "finished" else "✗"
        errors = manifest.get("page_errors", 0)
        detail = ", ".join(f"{k} ×{v}" for k, v in sorted(manifest.get("errors", {}).items()))
        line = ngettext(
            "%(mark)s %(source)s : %(items)s fiches de %(pages)s pages, %(num)s page en erreur",
            "%(mark)s %(source)s : %(items)s fiches de %(pages)s pages, %(num)s pages en erreur",
            errors,
            mark=mark,
            source=source_id,
            items=manifest.get("items", 0),
            pages=manifest.get("pages", 0),
        )
        print(
            f"  {line}{f' ({detail})' if detail else ''}"
            f"{'' if mark == '✓' else ' — ' + finish_words(manifest.get('finish_reason'))}",
            file=self.out,
            flush=True,
        )


def finish_words(reason: object) -> str:
    """Why a crawl ended other than normally, as a chamber reads it; Scrapy's other reasons as they are."""
    from indexer.runlog import TIME_LIMIT, outcome_label

    if reason == "closespider_timeout":
        return outcome_label(TIME_LIMIT)
    if reason == "shutdown":
        return _("arrêtée sur demande (Ctrl+C ou signal)")
    return str(reason)


def crawl_sources(
    sources: list[Source],
    config: Config,
    *,
    settings_overrides: dict | None = None,
    progress: Progress | None = None,
    log_file: Path | None = None,
) -> list[RunOutcome]:
    """Crawl ``sources`` concurrently (politely per host) and return each run's outcome."""
    overrides = dict(settings_overrides or {})
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        overrides.setdefault("LOG_FILE", str(log_file))
    # One resolver serves every crawler of the process: it lets through the hosts of the
    # sources that allow private addresses, and only those.
    overrides.setdefault(
        "EMPLETTES_PRIVATE_HOSTS",
        sorted(
            {
                (urlsplit(url).hostname or "").lower()
                for source in sources
                if source.allow_private
                for url in (source.url, source.sitemap, getattr(source, "feed", None))
                if url
            }
        ),
    )
    base = crawl_settings(config, **overrides)
    process = CrawlerProcess(Settings(base))
    if log_file is not None:
        logging.getLogger("scrapy.utils.log").setLevel(logging.WARNING)

    planned: list[RunOutcome] = []
    held = []
    detected = detect_kinds(sources)
    for source in sources:
        lock = source_lock(config, source.id)
        if lock is None:
            print(
                "  • " + _("%(source)s : déjà en cours de collecte par un autre processus : ignorée", source=source.id),
                file=sys.stderr,
                flush=True,
            )
            continue
        held.append(lock)  # released when this process ends, however it ends
        run_id = new_run_id()
        run_dir = config.runs_dir / source.id
        run_dir.mkdir(parents=True, exist_ok=True)
        run_file = run_dir / f"{run_id}.jsonl"
        manifest_path = run_dir / f"{run_id}.json"
        settings = Settings(base)
        settings.set("FEEDS", feed_for(run_file))
        settings.set("EMPLETTES_MANIFEST", str(manifest_path))
        if config.redis_url:  # distributed: this source's queue is shared with other workers
            from crawler.distributed import crawl_round, redis_settings

            settings.update(redis_settings(config.redis_url, source.id, crawl_round(config.crawl_round)))
        # The first crawler installs the reactor, as CrawlerProcess does for spider classes.
        kind_known = source if source.id not in detected else source.model_copy(update={"kind": detected[source.id]})
        crawler = Crawler(spider_for(kind_known), settings, init_reactor=not planned)
        if progress is not None:
            progress.crawlers[source.id] = crawler
            # Signal receivers are weakly referenced: the progress object keeps them alive.
            progress.receivers.append(_reporter(progress, source.id))
            crawler.signals.connect(progress.receivers[-1], signal=run_finished)
        process.crawl(crawler, source=source, run_id=run_id)
        planned.append(RunOutcome(source.id, run_id, run_file, {}))

    if not planned:
        return planned
    if progress is not None:
        from twisted.internet.task import LoopingCall

        ticker = LoopingCall(progress.tick)
        ticker.start(progress.every, now=False)
    process.start()

    for outcome in planned:
        manifest_path = outcome.run_file.with_suffix(".json")
        outcome.manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    return planned


def detect_kinds(sources: list[Source]) -> dict[str, str]:
    """The kind of each source the registry leaves without one, detected all at once: each
    detection ends within DOWNLOAD_TIMEOUT (crawler.fetch), and a slow shop's detection
    never adds to another's."""
    from concurrent.futures import ThreadPoolExecutor

    from crawler.detect import ENDPOINT_KINDS
    from crawler.spiders import kind_for_run

    # Registered endpoint kinds are checked too: one that fails gives way to the markup.
    unknown = [source for source in sources if not source.kind or source.kind in ENDPOINT_KINDS]
    if not unknown:
        return {}
    with ThreadPoolExecutor(max_workers=min(8, len(unknown))) as pool:
        return dict(zip((s.id for s in unknown), pool.map(kind_for_run, unknown), strict=True))


def source_lock(config: Config, source_id: str):
    """An exclusive lock on ``DATA_DIR/locks/<source>.lock``, or None when another process
    (the scheduler, or someone's manual `emplettes crawl`) is crawling that source.

    One run per source at a time, across processes; the kernel releases the lock when
    the holder dies, even by ``kill -9``.
    """
    import fcntl

    directory = config.data_dir / "locks"
    directory.mkdir(parents=True, exist_ok=True)
    handle = open(directory / f"{source_id}.lock", "a+")  # noqa: SIM115  (held open: the lock is the handle)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def _reporter(progress: Progress, source_id: str) -> Callable[..., None]:
    def report(manifest: dict, **_signal: object) -> None:
        progress.finished(source_id, manifest)

    return report
