"""`emplettes schedule`: triggers, registry reloads, persisted next runs, limits, time limits.

Triggers and reloads are checked on the real APScheduler without running jobs; the rest
runs real crawl subprocesses against shop sites on 127.0.2.x and a real tantivy index.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from hostile_sites import ShopFarm

from config import Config
from emplettes.scheduler import CrawlScheduler, trigger_for

MONDAY_NOON = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def nxt(schedule: str, now: datetime = MONDAY_NOON, **kw) -> datetime:
    return trigger_for(schedule, **kw).get_next_fire_time(None, now)


def test_every_kind_of_schedule_becomes_a_trigger():
    assert isinstance(trigger_for("hourly"), IntervalTrigger)
    assert nxt("daily") == datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
    assert nxt("weekly") == datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
    assert trigger_for("every 6h").interval == timedelta(hours=6)
    assert trigger_for("every 15 min").interval == timedelta(minutes=15)
    assert trigger_for("every 2d").interval == timedelta(days=2)
    assert isinstance(trigger_for("30 2 * * *"), CronTrigger)
    assert nxt("30 2 * * *") == datetime(2026, 11, 24, 2, 30, tzinfo=UTC)


def test_cron_days_of_week_count_from_sunday_as_in_crontab():
    # APScheduler 3 counts from Monday = 0; a chamber's cron line must mean what cron means.
    assert nxt("0 4 * * 0").strftime("%a") == "Sun"
    assert nxt("0 4 * * 7").strftime("%a") == "Sun"
    assert nxt("0 4 * * 1") == datetime(2026, 11, 30, 4, 0, tzinfo=UTC)  # next Monday
    assert nxt("0 4 * * 6").strftime("%a") == "Sat"
    fridays = nxt("0 4 * * 5", now=datetime(2026, 11, 24, 12, tzinfo=UTC))
    assert fridays.strftime("%a") == "Fri"
    weekdays = [nxt("0 4 * * 1-5", now=MONDAY_NOON + timedelta(days=d)).strftime("%a") for d in range(7)]
    assert set(weekdays) == {"Tue", "Wed", "Thu", "Fri", "Mon"}


def test_starts_are_jittered_so_shops_do_not_start_together():
    starts = {nxt("daily", jitter=1800) for _ in range(50)}
    base = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
    assert len(starts) > 40 and all(base <= s <= base + timedelta(seconds=1800) for s in starts)


def config(tmp_path: Path, **env: str) -> Config:
    return Config(
        data_dir=tmp_path / "data",
        sources_file=tmp_path / "sources.yaml",
        crawl_concurrency=int(env.get("CRAWL_CONCURRENCY", 2)),
        schedule_jitter=0,
        crawl_delay=0,
        download_timeout=float(env.get("DOWNLOAD_TIMEOUT", 5)),
    )


SOURCE = """\
  - id: {id}
    name: Boutique {id}
    url: http://127.0.2.1:9/{id}
    town: Tours
    postcode: "37000"
    allow_private: true
{extra}"""


def registry(*entries: tuple[str, str]) -> str:
    return "defaults:\n  schedule: daily\nsources:\n" + "".join(
        SOURCE.format(id=i, extra=f'    schedule: "{s}"\n' if s else "") for i, s in entries
    )


def test_reindex_schedule_rebuilds_the_index_and_indexing_waits_for_it(tmp_path, caplog, monkeypatch):
    import dataclasses

    from run_files import RUN1, product, write_run

    from indexer.backends.tantivy import TantivyBackend

    (tmp_path / "sources.yaml").write_text(registry(("a", None)))
    write_run(tmp_path / "data" / "runs", RUN1, [product(n) for n in range(3)])
    scheduler = CrawlScheduler(dataclasses.replace(config(tmp_path), reindex_schedule="daily"))
    try:
        scheduler._schedule_rebuild()
        job = scheduler.scheduler.get_job("__rebuild__")
        assert isinstance(job.trigger, CronTrigger) and str(job.trigger.fields[5]) == "3"  # 03:00

        import indexer.reindex as reindex_module

        real = reindex_module.reindex
        seen = []

        def meanwhile(*args, **kwargs):
            seen.append(scheduler.index())  # a crawl ending during the rebuild: it waits
            return real(*args, **kwargs)

        monkeypatch.setattr(reindex_module, "reindex", meanwhile)
        assert scheduler.rebuild() is True
        assert seen == [False] and scheduler._index_pending  # loaded by the next tick
        with TantivyBackend(tmp_path / "data" / "index", readonly=True) as index:
            assert index.stats()["products"] == 3
            assert index.segments() == 1
    finally:
        scheduler.stop()

    with caplog.at_level(logging.ERROR):
        broken = CrawlScheduler(dataclasses.replace(config(tmp_path), reindex_schedule="at teatime"))
        try:
            broken._schedule_rebuild()
            assert broken.scheduler.get_job("__rebuild__") is None
        finally:
            broken.stop()
    assert "REINDEX_SCHEDULE 'at teatime'" in caplog.text


def test_registry_edits_are_picked_up_and_an_invalid_file_keeps_the_last_valid_one(tmp_path, caplog):
    path = tmp_path / "sources.yaml"
    path.write_text(registry(("a", None), ("b", "every 6h")))
    scheduler = CrawlScheduler(config(tmp_path), first_run_spread=0)
    try:
        assert scheduler.reload_registry()
        assert {j.id for j in scheduler.scheduler.get_jobs()} == {"a", "b"}
        assert scheduler.state.schedules()["a"][0] == "daily"  # the region's default

        def touch(text: str) -> None:
            path.write_text(text)
            os.utime(path, ns=(time.time_ns(), time.time_ns() + 1_000_000))

        touch(registry(("a", "hourly"), ("c", None)))  # a changed, b removed, c added
        assert scheduler.reload_registry()
        jobs = {j.id: j for j in scheduler.scheduler.get_jobs()}
        assert set(jobs) == {"a", "c"}
        assert isinstance(jobs["a"].trigger, IntervalTrigger)
        assert set(scheduler.state.schedules()) == {"a", "c"}

        caplog.set_level(logging.ERROR, logger="emplettes.scheduler")
        touch(registry(("a", "hourly"), ("c", None)).replace('postcode: "37000"', 'postcode: "370"', 1))
        assert not scheduler.reload_registry()
        assert "sources.yaml:" in scheduler.registry_error and "postcode" in scheduler.registry_error
        assert "le dernier registre valide reste en vigueur (2 sources)" in caplog.text
        assert {j.id for j in scheduler.scheduler.get_jobs()} == {"a", "c"}
        assert "id: c" in (tmp_path / "data" / "scheduler" / "sources.yaml").read_text(), "crawls read the valid copy"
    finally:
        scheduler.stop()


def test_next_runs_survive_a_restart_and_missed_runs_are_coalesced(tmp_path):
    (tmp_path / "sources.yaml").write_text(registry(("a", "every 6h"), ("b", "daily")))
    (tmp_path / "data" / "runs" / "a").mkdir(parents=True)  # both crawled before
    (tmp_path / "data" / "runs" / "b").mkdir(parents=True)
    first = CrawlScheduler(config(tmp_path))
    first.reload_registry()
    saved = first.state.schedules()
    missed = datetime.now(UTC) - timedelta(hours=30)  # down for more than a day
    first.state.set_next_run("b", "daily", missed)
    first.stop()

    second = CrawlScheduler(config(tmp_path))
    try:
        second.reload_registry()
        jobs = {j.id: j for j in second.scheduler.get_jobs()}
        assert jobs["a"].next_run_time == saved["a"][1]
        assert jobs["b"].next_run_time == missed.replace(microsecond=0)  # due: runs once at start
        for job in jobs.values():
            assert job.coalesce and job.max_instances == 1 and job.misfire_grace_time is None
    finally:
        second.stop()


@pytest.mark.e2e
def test_the_scheduler_crawls_and_indexes_every_source_within_the_global_limit(tmp_path):
    with ShopFarm(3) as farm:
        for shop in farm.shops:
            shop.delay = 0.2
        (tmp_path / "sources.yaml").write_text(farm.sources_yaml(schedule="every 1h"))
        scheduler = CrawlScheduler(config(tmp_path, CRAWL_CONCURRENCY="2"), poll=0.2, first_run_spread=0)
        scheduler.start()
        try:
            deadline = time.monotonic() + 90
            while len(scheduler.results) < 3 and time.monotonic() < deadline:
                time.sleep(0.2)
            assert len(scheduler.results) == 3
            assert scheduler.peak_running <= 2
            scheduler.tick()
            nexts = scheduler.state.schedules()
        finally:
            scheduler.stop()
    from indexer.runlog import source_statuses
    from indexer.state import IndexState

    with IndexState(tmp_path / "data" / "state.sqlite3") as state:
        statuses = source_statuses(tmp_path / "data" / "runs", state, [s.id for s in farm.shops])
    for status in statuses:
        assert status.last_run.outcome == "ok" and status.last_run.indexed and status.last_run.products == 3
        next_run = nexts[status.source_id][1]
        assert timedelta(minutes=55) < next_run - datetime.now(UTC) <= timedelta(hours=1)


@pytest.mark.e2e
def test_a_crawl_over_its_wall_clock_limit_is_killed_and_recorded_as_timed_out(tmp_path):
    with ShopFarm(2, {2: "timeout"}, slow=40) as farm:
        (tmp_path / "sources.yaml").write_text(farm.sources_yaml())
        # The limit leaves a loaded machine (a parallel test run) time to start the crawl
        # process and write its run's manifest before the kill.
        scheduler = CrawlScheduler(config(tmp_path, DOWNLOAD_TIMEOUT="30"), wall_limit=15, poll=0.2)
        try:
            assert scheduler.reload_registry()
            hung = farm.shops[1].id
            result = scheduler.crawl(hung)
            assert result.timed_out and result.seconds < 27
            scheduler.wall_limit = 120  # the healthy shop, on a busy machine
            assert scheduler.crawl(farm.shops[0].id).timed_out is False
            assert scheduler.index()
        finally:
            scheduler.stop()
    from indexer.runlog import run_records
    from indexer.state import IndexState

    with IndexState(tmp_path / "data" / "state.sqlite3") as state:
        (killed,) = run_records(tmp_path / "data" / "runs", state, source_id=hung)
        (good,) = run_records(tmp_path / "data" / "runs", state, source_id=farm.shops[0].id)
    assert killed.outcome == "timeout" and killed.finish_reason == "timeout" and killed.indexed
    assert good.outcome == "ok" and good.products == 3


def _seconds(span: str) -> int:
    """``"24 s"`` or ``"59 min"`` (as ``emplettes status`` prints them) in seconds."""
    number, unit = re.fullmatch(r"(\d+) (s|min)", span).groups()
    return int(number) * (60 if unit == "min" else 1)


@pytest.mark.e2e
def test_emplettes_schedule_runs_in_the_foreground_and_follows_registry_edits(tmp_path):
    with ShopFarm(3) as farm:
        sources = tmp_path / "sources.yaml"
        sources.write_text(farm.sources_yaml(farm.shops[:2], schedule="every 1h"))
        env = {
            **os.environ,
            "DATA_DIR": str(tmp_path / "data"),
            "SOURCES_FILE": str(sources),
            "CRAWL_DELAY": "0",
            "SCHEDULE_JITTER": "0",
            "CRAWL_CONCURRENCY": "2",
        }
        log_path = tmp_path / "schedule.log"
        with open(log_path, "wb") as log_file:
            process = subprocess.Popen(
                [sys.executable, "-m", "emplettes.cli", "schedule"], env=env, stdout=log_file, stderr=subprocess.STDOUT
            )
        try:

            def wait_for(text: str, count: int = 1, timeout: float = 60) -> str:
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline:
                    log = log_path.read_text()
                    if log.count(text) >= count:
                        return log
                    assert process.poll() is None, log
                    time.sleep(0.2)
                raise AssertionError(f"{text!r} ×{count} not in the log:\n{log_path.read_text()}")

            wait_for("indexée farm-", 2)
            sources.write_text(farm.sources_yaml(schedule="every 1h"))  # a third shop joins
            wait_for("indexée farm-003")
            live = subprocess.run(
                [sys.executable, "-m", "emplettes.cli", "status"], env=env, capture_output=True, text=True
            )
            assert f"planificateur : en marche (pid {process.pid}" in live.stdout, live.stdout
            sources.write_text("sources:\n  - id: Pas Valide\n")
            log = wait_for("fichier des sources refusé")
            assert "le dernier registre valide reste en vigueur (3 sources)" in log
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0
        assert "planificateur arrêté" in log_path.read_text()

    status = subprocess.run([sys.executable, "-m", "emplettes.cli", "status"], env=env, capture_output=True, text=True)
    assert status.returncode == 0
    lines = status.stdout.splitlines()
    assert lines[0].split()[:4] == ["SOURCE", "DERNIÈRE", "COLLECTE", "RÉSULTAT"]
    rows = [line for line in lines if line.startswith("farm-")]
    assert len(rows) == 3 and all(" réussie " in row and "complète" in row for row in rows), status.stdout
    # Each next run is an hour after its last one, however long this test took to get here.
    for row in rows:
        (ago,) = re.findall(r"il y a (\d+ (?:s|min))", row)
        (next_run,) = re.findall(r"dans (\d+ (?:s|min))", row)
        assert abs(_seconds(ago) + _seconds(next_run) - 3600) <= 60, row  # minutes are rounded
    assert lines[-1].startswith("planificateur : arrêté (pid")


@pytest.mark.e2e
def test_one_source_is_never_crawled_by_two_processes_at_once(tmp_path):
    from crawler.run import source_lock

    with ShopFarm(2) as farm:
        (tmp_path / "sources.yaml").write_text(farm.sources_yaml())
        busy, free = farm.shops
        lock = source_lock(config(tmp_path), busy.id)  # as the scheduler's crawl of it would
        try:
            env = {
                **os.environ,
                "DATA_DIR": str(tmp_path / "data"),
                "SOURCES_FILE": str(tmp_path / "sources.yaml"),
                "CRAWL_DELAY": "0",
            }
            result = subprocess.run(
                [sys.executable, "-m", "emplettes.cli", "crawl"], env=env, capture_output=True, text=True, timeout=120
            )
        finally:
            lock.close()
        assert f"{busy.id} : déjà en cours de collecte par un autre processus : ignorée" in result.stderr
        assert busy.hits == 0 and not (tmp_path / "data" / "runs" / busy.id).exists()
        assert len(list((tmp_path / "data" / "runs" / free.id).glob("*.jsonl"))) == 1
