"""Run files: what one crawl of one source produced, and how that crawl ended.

Layout (the contract with the crawler)::

    DATA_DIR/runs/<source_id>/<run_id>.jsonl   one record per line (product or shop)
    DATA_DIR/runs/<source_id>/<run_id>.json    the manifest, rewritten when the crawl ends

A run without a manifest, or whose manifest has no ``finished_at``, did not end: it is
still being written, or its crawler was killed. ``run_id`` strings sort chronologically.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from config.i18n import _
from config.reasons import json_reason

# How far ahead of this machine's clock a run id may be (another worker's clock drifting):
# beyond, the id is wrong, and since ids sort chronologically a run named in 2099 would
# stay "the latest" of its source for ever.
RUN_ID_SKEW = timedelta(minutes=5)


def run_id_time(run_id: str) -> datetime | None:
    """When a crawler-made run id (``20261123T140501Z-3fa2``) says its run started."""
    try:
        return datetime.strptime(run_id[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def run_id_in_future(run_id: str, now: datetime | None = None) -> bool:
    """The run id names a moment later than now (beyond :data:`RUN_ID_SKEW`): refused."""
    moment = run_id_time(run_id)
    return moment is not None and moment > (now or datetime.now(UTC)) + RUN_ID_SKEW


@dataclass
class RunInfo:
    source_id: str
    run_id: str
    path: Path  # the .jsonl run file
    manifest: dict[str, Any] | None = None  # the .json sidecar, None when absent or unreadable

    @property
    def manifest_path(self) -> Path:
        return self.path.with_suffix(".json")

    @property
    def finished(self) -> bool:
        """The crawl ended (well or not): its run file is complete."""
        return bool(self.manifest and self.manifest.get("finished_at"))

    @property
    def finish_reason(self) -> str | None:
        return (self.manifest or {}).get("finish_reason")

    def count(self, name: str) -> int:
        try:
            return int((self.manifest or {}).get(name) or 0)
        except (TypeError, ValueError):
            return 0

    @property
    def pages(self) -> int:
        return self.count("pages")

    @property
    def page_errors(self) -> int:
        return self.count("page_errors")

    @property
    def items(self) -> int:
        return self.count("items")

    @property
    def item_errors(self) -> int:
        return self.count("item_errors")


@dataclass
class RunLine:
    """One line of a run file: parsed JSON, or why it could not be parsed."""

    number: int  # 1-based, as editors show it
    data: dict[str, Any] | None
    error: str | None = None
    truncated: bool = False  # the unterminated last line of a run cut short


def run_info(path: Path) -> RunInfo:
    """The run of one ``<source_id>/<run_id>.jsonl`` file, with its manifest if readable."""
    path = Path(path)
    manifest = None
    sidecar = path.with_suffix(".json")
    try:
        manifest = json.loads(sidecar.read_text(encoding="utf-8"))
        if not isinstance(manifest, dict):
            manifest = None
    except (OSError, ValueError):
        manifest = None  # absent, or being rewritten: treated as not finished
    return RunInfo(source_id=path.parent.name, run_id=path.stem, path=path, manifest=manifest)


def list_runs(runs_dir: Path) -> list[RunInfo]:
    """Every run file under ``runs_dir``, oldest first (by run id, then source)."""
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        return []
    paths = {path for path in runs_dir.glob("*/*.jsonl") if path.is_file()}
    # A crawl killed before its first record has a manifest and no run file (the feed
    # export creates it lazily): it is a run all the same, to be recorded.
    paths |= {path.with_suffix(".jsonl") for path in runs_dir.glob("*/*.json") if path.is_file()}
    runs = [run_info(path) for path in paths]
    return sorted(runs, key=lambda run: (run.run_id, run.source_id))


def run_completed_well(info: RunInfo, max_error_ratio: float) -> bool:
    """Did the crawl finish normally with few enough failed pages to trust its absences?"""
    if not info.finished or info.finish_reason != "finished":
        return False
    if info.pages <= 0:
        return False
    return info.page_errors / max(info.pages, 1) <= max_error_ratio


def read_run_lines(path: Path) -> Iterator[RunLine]:
    """Every non-blank line of a run file, parsed; never raises on bad content.

    A last line without its newline that does not parse is a crawl cut short mid-write:
    it is reported as ``truncated`` rather than as an invalid record.
    """
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):  # streamed: run files can be large
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]  # a byte-order mark, as some editors write: not part of the record
            if not raw.strip():
                continue
            try:
                # orjson: faster than json.loads; stricter too (NaN, Infinity and numbers
                # past a double's range are invalid JSON, and rejected as such).
                data = orjson.loads(raw)
            except ValueError as exc:
                # Only the last line can lack its newline: the crawl was cut mid-write.
                if not raw.endswith(b"\n"):
                    yield RunLine(number, None, "truncated last line", truncated=True)
                else:
                    yield RunLine(number, None, json_reason(exc))
                continue
            if not isinstance(data, dict):
                yield RunLine(number, None, _("un objet JSON était attendu, pas %(type)s", type=type(data).__name__))
                continue
            yield RunLine(number, data)


def read_run(path: Path) -> Iterator[dict[str, Any]]:
    """The records of a run file as dicts (unvalidated), skipping unreadable lines."""
    for line in read_run_lines(path):
        if line.data is not None:
            yield line.data


# Finish reasons written by :func:`finalize_run` for a crawl that could not write its own.
KILLED = "killed"  # the crawl process died (kill -9, out of memory, machine restart)
TIMED_OUT = "timeout"  # the scheduler killed it at its wall-clock limit


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _pid_alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    try:  # a zombie (killed, not yet reaped by its parent) is dead for our purpose
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def finalize_run(info: RunInfo, reason: str) -> RunInfo:
    """Close the manifest of a run whose crawler died without closing it.

    The run file keeps what was written before the end (its last line may be cut); the
    manifest gains ``finished_at``, ``finish_reason`` (``killed``/``timeout``) and counts
    read from the run file. The indexer then loads it like any partial run: its records
    are added or refreshed, nothing older is removed.
    """
    import os

    manifest = dict(info.manifest or {"source_id": info.source_id, "run_id": info.run_id})
    items = products = 0
    if info.path.exists():
        for line in read_run_lines(info.path):
            if line.data is not None:
                items += 1
                products += line.data.get("type") == "product"
    manifest.update(finished_at=_now(), finish_reason=reason, items=items, products=products)
    manifest.setdefault("pages", 0)
    manifest.setdefault("page_errors", 0)
    manifest.setdefault("errors", {})
    sidecar = info.manifest_path
    tmp = sidecar.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, sidecar)
    return run_info(info.path)


def reap_dead_runs(runs_dir: Path, *, pid: int | None = None, reason: str = KILLED) -> list[RunInfo]:
    """Finalize unfinished runs whose crawler process (on this machine) is gone.

    With ``pid``: only that process's runs, whether it is alive or not (the scheduler
    calls this after killing a crawl at its time limit).
    """
    import socket

    here = socket.gethostname()
    reaped = []
    for run in list_runs(runs_dir):
        if run.finished or not run.manifest:
            continue
        run_pid = run.manifest.get("pid")
        if not isinstance(run_pid, int) or run.manifest.get("host", here) != here:
            continue  # another machine's crawl: only it can tell
        if pid is not None:
            if run_pid != pid:
                continue
        elif _pid_alive(run_pid):
            continue
        reaped.append(finalize_run(run, reason))
    return reaped


def prune_runs(runs_dir: Path, indexed: dict[tuple[str, str], str], *, keep: int = 10) -> list[RunInfo]:
    """Delete old run files, keeping per source the newest ``keep`` runs and every run the
    index may still need: the latest run indexed as complete, everything after it, and any
    run not indexed yet. ``indexed`` maps (source_id, run_id) to its load outcome.

    A year of daily crawls of 500 shops is 180 000 files otherwise; the runs kept are
    enough to rebuild the index (``emplettes reindex``) and to show recent history.
    """
    by_source: dict[str, list[RunInfo]] = {}
    for run in list_runs(runs_dir):
        by_source.setdefault(run.source_id, []).append(run)
    removed = []
    for runs in by_source.values():  # oldest first
        complete = [
            r.run_id
            for r in runs
            if indexed.get((r.source_id, r.run_id)) == "complete" and not run_id_in_future(r.run_id)
        ]
        floor = complete[-1] if complete else ""
        for run in runs[: max(0, len(runs) - keep)]:
            if run.run_id >= floor or (run.source_id, run.run_id) not in indexed or not run.finished:
                continue
            for path in (run.path, run.manifest_path):
                path.unlink(missing_ok=True)
            removed.append(run)
    return removed
