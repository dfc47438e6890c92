"""Run files: what one crawl of one source produced, and how that crawl ended.

Layout (the contract with the crawler)::

    DATA_DIR/runs/<source_id>/<run_id>.jsonl   one record per line (product or shop)
    DATA_DIR/runs/<source_id>/<run_id>.json    the manifest, rewritten when the crawl ends

A run without a manifest, or whose manifest has no ``finished_at``, did not end: it is
still being written, or its crawler was killed. ``run_id`` strings sort chronologically.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator


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
    runs = [run_info(path) for path in runs_dir.glob("*/*.jsonl") if path.is_file()]
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
            if not raw.strip():
                continue
            try:
                data = json.loads(raw)
            except ValueError as exc:
                # Only the last line can lack its newline: the crawl was cut mid-write.
                if not raw.endswith(b"\n"):
                    yield RunLine(number, None, "truncated last line", truncated=True)
                else:
                    yield RunLine(number, None, f"invalid JSON: {exc}")
                continue
            if not isinstance(data, dict):
                yield RunLine(number, None, f"expected a JSON object, got {type(data).__name__}")
                continue
            yield RunLine(number, data)


def read_run(path: Path) -> Iterator[dict[str, Any]]:
    """The records of a run file as dicts (unvalidated), skipping unreadable lines."""
    for line in read_run_lines(path):
        if line.data is not None:
            yield line.data
