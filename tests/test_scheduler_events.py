"""The scheduler's limits, proved by what actually runs, not by its job settings.

The real ``CrawlScheduler`` (real APScheduler, real subprocesses, real state database)
runs a stand-in crawl command: a tiny Python script that writes a ``start`` marker, sleeps
a known time, then writes an ``end`` marker. A real crawl's duration depends on the shop
and the machine's load; the stand-in's does not, so overlaps (or their absence) are
certain and each test takes seconds. The stand-in also records which sources the
registry snapshot it was given lists (what a real crawl would read).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.events import EVENT_JOB_MAX_INSTANCES

from config import Config
from emplettes.scheduler import CrawlScheduler

STAND_IN_CRAWL = """\
import os, sys, time
markers, source, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
with open(os.environ["SOURCES_FILE"], encoding="utf-8") as registry:
    ids = sorted(l.split(":", 1)[1].strip() for l in registry if l.strip().startswith("- id:"))
def mark(what):
    with open(os.path.join(markers, source + ".log"), "a") as out:
        out.write(f"{what} {time.time():.4f} {os.getpid()} {','.join(ids)}\\n")
mark("start")
time.sleep(seconds)
mark("end")
"""

ENTRY = """\
  - id: {id}
    name: Boutique {id}
    url: http://127.0.2.1:9/{id}
    town: Tours
    postcode: "37000"
    allow_private: true
    schedule: "{schedule}"
"""


def registry(**schedules: str) -> str:
    return "defaults:\n  schedule: daily\nsources:\n" + "".join(
        ENTRY.format(id=i, schedule=s) for i, s in schedules.items()
    )


def write_registry(path: Path, text: str) -> None:
    """Save as an editor does, in one move (the scheduler polling meanwhile never reads half
    a file), with the mtime moved on: two edits within one clock tick must still be seen."""
    draft = path.with_name(path.name + ".draft")
    draft.write_text(text)
    later = time.time_ns() + 2_000_000_000
    os.utime(draft, ns=(later, later))
    os.replace(draft, path)


class StandIn:
    def __init__(self, tmp_path: Path, seconds: float):
        self.markers = tmp_path / "markers"
        self.markers.mkdir()
        self.script = tmp_path / "stand_in_crawl.py"
        self.script.write_text(STAND_IN_CRAWL)
        self.command = [sys.executable, str(self.script), str(self.markers), "{source}", str(seconds)]

    def events(self, source: str) -> list[tuple[str, float, str]]:
        path = self.markers / f"{source}.log"
        if not path.exists():
            return []
        rows = [line.split(" ") for line in path.read_text().splitlines()]
        return [(what, float(when), ids) for what, when, _pid, ids in rows]

    def runs(self, source: str) -> list[tuple[float, float | None]]:
        """(start, end) of each run of a source; end None while it runs."""
        runs: list[tuple[float, float | None]] = []
        for what, when, _ids in self.events(source):
            if what == "start":
                runs.append((when, None))
            else:
                runs[-1] = (runs[-1][0], when)
        return runs

    def starts(self, source: str) -> int:
        return len(self.runs(source))

    def ends(self, source: str) -> int:
        return sum(1 for _, end in self.runs(source) if end is not None)


def scheduler_for(tmp_path: Path, stand_in: StandIn, *, concurrency: int = 2, poll: float = 0.2) -> CrawlScheduler:
    config = Config(
        data_dir=tmp_path / "data",
        sources_file=tmp_path / "sources.yaml",
        crawl_concurrency=concurrency,
        schedule_jitter=0,
        crawl_delay=0,
    )
    return CrawlScheduler(config, poll=poll, first_run_spread=0, crawl_command=stand_in.command, wall_limit=30)


def wait_until(condition, timeout: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what or condition}"
        time.sleep(0.05)


def max_overlap(intervals: list[tuple[float, float]]) -> int:
    edges = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    running = peak = 0
    for _, step in edges:  # at equal times an end (-1) sorts before a start (+1)
        running += step
        peak = max(peak, running)
    return peak


def test_a_source_triggered_again_while_it_runs_does_not_start_twice(tmp_path):
    stand_in = StandIn(tmp_path, seconds=2.0)
    (tmp_path / "sources.yaml").write_text(registry(a="every 6h"))  # never crawled: due at once
    scheduler = scheduler_for(tmp_path, stand_in)
    skipped: list[str] = []
    scheduler.scheduler.add_listener(lambda event: skipped.append(event.job_id), EVENT_JOB_MAX_INSTANCES)
    scheduler.start()
    try:
        wait_until(lambda: stand_in.starts("a") == 1, what="the first run")
        assert scheduler.run_now("a")  # a chamber (or a misfire) asks again while it runs
        wait_until(lambda: len(skipped) == 1, what="the second start to be refused")
        assert scheduler.run_now("a")
        wait_until(lambda: len(skipped) == 2, what="the third start to be refused")
        wait_until(lambda: stand_in.ends("a") == 1, what="the first run to end")
        time.sleep(0.5)
        assert stand_in.starts("a") == 1, stand_in.runs("a")  # refused starts are dropped, not queued

        assert scheduler.run_now("a")  # once it is over, the source runs again
        wait_until(lambda: stand_in.ends("a") == 2, what="the next run")
    finally:
        scheduler.stop()
    (_first_start, first_end), (second_start, _) = stand_in.runs("a")
    assert second_start >= first_end
    assert skipped == ["a", "a"]


def test_no_more_than_crawl_concurrency_crawls_run_at_once(tmp_path):
    stand_in = StandIn(tmp_path, seconds=1.0)
    sources = [f"s{n}" for n in range(6)]
    (tmp_path / "sources.yaml").write_text(registry(**dict.fromkeys(sources, "every 6h")))  # all due now
    scheduler = scheduler_for(tmp_path, stand_in, concurrency=2)
    scheduler.start()
    try:
        wait_until(lambda: all(stand_in.ends(s) == 1 for s in sources), timeout=40, what="every source to run")
    finally:
        scheduler.stop()
    intervals = [run for s in sources for run in stand_in.runs(s)]
    assert len(intervals) == 6  # each source ran once
    assert max_overlap(intervals) == 2  # never three at once, but two did run side by side
    assert scheduler.peak_running == 2
    # the six 1 s crawls took three rounds, not one
    assert max(end for _, end in intervals) - min(start for start, _ in intervals) >= 2.9


def test_runs_missed_while_the_scheduler_was_down_run_once_on_restart(tmp_path):
    stand_in = StandIn(tmp_path, seconds=0.3)
    (tmp_path / "sources.yaml").write_text(registry(missed="every 6h", upcoming="every 6h"))
    for source in ("missed", "upcoming"):
        (tmp_path / "data" / "runs" / source).mkdir(parents=True)  # both crawled before
    before = scheduler_for(tmp_path, stand_in)
    assert before.reload_registry()
    # The scheduler was down for 30 hours: five runs of "missed" were due meanwhile.
    before.state.set_next_run("missed", "every 6h", datetime.now(UTC) - timedelta(hours=30))
    before.stop()

    after = scheduler_for(tmp_path, stand_in)  # the restart
    after.start()
    try:
        wait_until(lambda: stand_in.ends("missed") == 1, what="the missed run")
        time.sleep(1.5)  # several polls: any other catch-up run would have started by now
        after.tick()
        assert stand_in.starts("missed") == 1, stand_in.runs("missed")  # coalesced: one run, not five
        assert stand_in.starts("upcoming") == 0  # its next run, kept across the restart, is 6 h away
        next_run = after.state.schedules()["missed"][1]
        assert timedelta(hours=5, minutes=59) < next_run - datetime.now(UTC) <= timedelta(hours=6)
    finally:
        after.stop()


def test_registry_edits_are_followed_while_running_and_an_invalid_file_changes_nothing(tmp_path):
    stand_in = StandIn(tmp_path, seconds=0.2)
    path = tmp_path / "sources.yaml"
    path.write_text(registry(a="every 6h", b="every 6h"))
    for source in ("a", "b"):
        (tmp_path / "data" / "runs" / source).mkdir(parents=True)  # crawled before: next run in 6 h
    scheduler = scheduler_for(tmp_path, stand_in, poll=0.1)
    loop = threading.Thread(target=scheduler.run_forever, daemon=True)  # as `emplettes schedule` does
    loop.start()
    try:
        wait_until(lambda: scheduler.registry is not None and scheduler.scheduler.running, what="start")
        assert {job.id for job in scheduler.scheduler.get_jobs()} == {"a", "b"}

        write_registry(path, registry(a="every 2h", c="every 6h"))  # a changed, b removed, c added
        wait_until(lambda: stand_in.ends("c") == 1, what="the added source to run")  # never crawled: now
        jobs = {job.id: job for job in scheduler.scheduler.get_jobs()}
        assert set(jobs) == {"a", "c"}
        assert jobs["a"].trigger.interval == timedelta(hours=2)
        assert scheduler.run_now("b") is False and stand_in.starts("b") == 0
        assert stand_in.events("c")[0][2] == "a,c"  # the crawl read the new registry

        write_registry(path, registry(a="every 2h", c="every 6h").replace('"37000"', '"370"', 1))
        wait_until(lambda: scheduler.registry_error is not None, what="the invalid file to be refused")
        assert "sources.yaml:" in scheduler.registry_error and "postcode" in scheduler.registry_error
        assert {job.id for job in scheduler.scheduler.get_jobs()} == {"a", "c"}
        assert scheduler.run_now("a")  # crawls go on with the last valid registry
        wait_until(lambda: stand_in.ends("a") == 1, what="a crawl under the invalid file")
        assert stand_in.events("a")[0][2] == "a,c"

        write_registry(path, registry(a="every 2h", c="every 6h", d="every 6h"))  # fixed, and d joins
        wait_until(lambda: stand_in.ends("d") == 1, what="the source added after the fix")
        assert scheduler.registry_error is None
    finally:
        scheduler.request_stop()
        loop.join(timeout=30)
    assert not loop.is_alive()
