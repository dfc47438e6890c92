"""What the indexer has done: one row per indexed run, in ``DATA_DIR/state.sqlite3``.

``index`` with no arguments loads "every finished run not yet indexed"; this table is how
it knows. WAL mode lets the portal's dashboard read while a loader writes.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS indexed_runs (
    source_id  TEXT NOT NULL,
    run_id     TEXT NOT NULL,
    path       TEXT NOT NULL,
    indexed_at TEXT NOT NULL,
    records    INTEGER NOT NULL DEFAULT 0,  -- valid records upserted
    rejected   INTEGER NOT NULL DEFAULT 0,  -- lines that failed validation
    swept      INTEGER NOT NULL DEFAULT 0,  -- older records deleted after a good run
    outcome    TEXT NOT NULL,               -- see indexer.load.Outcome
    PRIMARY KEY (source_id, run_id)
);
-- Written by the scheduler (`emplettes schedule`): when each source runs next. Also its
-- persistent job store: a restarted scheduler resumes these times (misfires coalesced).
CREATE TABLE IF NOT EXISTS schedule (
    source_id   TEXT PRIMARY KEY,
    schedule    TEXT NOT NULL,              -- as written in sources.yaml
    next_run_at TEXT,                       -- ISO 8601 UTC; NULL while a run is going on
    updated_at  TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class IndexedRun:
    source_id: str
    run_id: str
    path: str
    indexed_at: str
    records: int
    rejected: int
    swept: int
    outcome: str


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class IndexState:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        with self._db:
            self._db.executescript(SCHEMA)

    def __enter__(self) -> IndexState:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def record_run(
        self,
        source_id: str,
        run_id: str,
        path: Path | str,
        *,
        records: int,
        rejected: int,
        swept: int,
        outcome: str,
    ) -> None:
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO indexed_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (source_id, run_id, str(path), _now(), records, rejected, swept, outcome),
            )

    def is_indexed(self, source_id: str, run_id: str) -> bool:
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM indexed_runs WHERE source_id = ? AND run_id = ?", (source_id, run_id)
            ).fetchone()
        return row is not None

    def indexed_keys(self) -> set[tuple[str, str]]:
        with self._lock:
            return {(r[0], r[1]) for r in self._db.execute("SELECT source_id, run_id FROM indexed_runs")}

    def outcomes(self) -> dict[tuple[str, str], str]:
        """(source_id, run_id) -> load outcome, for every indexed run."""
        with self._lock:
            return {(r[0], r[1]): r[2] for r in self._db.execute("SELECT source_id, run_id, outcome FROM indexed_runs")}

    def latest_indexed(self) -> dict[str, str]:
        """source_id -> most recent run id indexed. A run id later than now (indexed before
        such ids were refused) is not "the latest": it would hold every later run back."""
        from indexer.runs import run_id_in_future

        with self._lock:
            rows = self._db.execute("SELECT source_id, run_id FROM indexed_runs").fetchall()
        latest: dict[str, str] = {}
        for source_id, run_id in rows:
            if not run_id_in_future(run_id) and run_id > latest.get(source_id, ""):
                latest[source_id] = run_id
        return latest

    def runs(self, source_id: str | None = None, limit: int | None = None) -> list[IndexedRun]:
        """Indexed runs, newest first."""
        sql = "SELECT * FROM indexed_runs"
        args: list[Any] = []
        if source_id is not None:
            sql += " WHERE source_id = ?"
            args.append(source_id)
        sql += " ORDER BY run_id DESC, source_id"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        with self._lock:
            return [IndexedRun(**dict(row)) for row in self._db.execute(sql, args)]

    # -- the scheduler's table -------------------------------------------------------------

    def set_next_run(self, source_id: str, schedule: str, next_run_at: datetime | None) -> None:
        when = (
            next_run_at.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
            if next_run_at
            else None
        )
        with self._lock, self._db:
            self._db.execute("INSERT OR REPLACE INTO schedule VALUES (?, ?, ?, ?)", (source_id, schedule, when, _now()))

    def forget_schedule(self, source_id: str) -> None:
        with self._lock, self._db:
            self._db.execute("DELETE FROM schedule WHERE source_id = ?", (source_id,))

    def schedules(self) -> dict[str, tuple[str, datetime | None]]:
        """source_id -> (schedule, next run time in UTC or None)."""
        with self._lock:
            rows = self._db.execute("SELECT source_id, schedule, next_run_at FROM schedule").fetchall()
        return {
            source_id: (schedule, datetime.fromisoformat(when.replace("Z", "+00:00")) if when else None)
            for source_id, schedule, when in rows
        }


def open_state(config=None) -> IndexState:
    from config import Config

    return IndexState((config or Config()).state_db)
