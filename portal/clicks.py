"""Outbound clicks counted per shop per day, for the chamber's dashboard.

Only ``(day, shop_id, count)`` is stored: no address, no browser, no cookie, nothing that
could tell one resident from another. The store is a small SQLite file in the data
directory, in WAL mode so several portal processes can count at once; a write waits at
most :data:`BUSY_TIMEOUT` for the lock, and any failure is logged and swallowed: a
resident on their way to a shop is never kept waiting by the statistics.

    counter = ClickCounter(config.data_dir / "clicks.sqlite3")
    counter.count("boite-a-livres")
    read_clicks(config.data_dir / "clicks.sqlite3", since=date(2026, 11, 1))
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

log = logging.getLogger(__name__)

FILENAME = "clicks.sqlite3"
BUSY_TIMEOUT = 0.5  # seconds; a click beyond that is dropped, the redirect goes on
LOCAL_TIME = ZoneInfo("Europe/Paris")  # the chamber's days, not UTC's

SCHEMA = """
CREATE TABLE IF NOT EXISTS clicks (
    day TEXT NOT NULL,          -- YYYY-MM-DD, Europe/Paris
    shop_id TEXT NOT NULL,
    count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, shop_id)
) WITHOUT ROWID
"""
INCREMENT = (
    "INSERT INTO clicks (day, shop_id, count) VALUES (?, ?, 1) "
    "ON CONFLICT (day, shop_id) DO UPDATE SET count = count + 1"
)


def today(now: datetime | None = None) -> str:
    """The local calendar day a click belongs to."""
    return (now or datetime.now(LOCAL_TIME)).astimezone(LOCAL_TIME).date().isoformat()


def _connect(path: Path, *, create: bool) -> sqlite3.Connection:
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False)
    if create:
        conn.execute("PRAGMA journal_mode=WAL")  # persistent: readers never block the counter
        conn.execute("PRAGMA synchronous=NORMAL")  # a power cut may lose the last clicks, never corrupt
        conn.execute(SCHEMA)
    return conn


class ClickCounter:
    """Counts clicks into one SQLite file; one connection per thread, opened on first use."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._local = threading.local()

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = _connect(self.path, create=True)
        return conn

    def count(self, shop_id: str, *, day: str | None = None) -> bool:
        """Add one click; ``False`` (logged) when it could not be written."""
        try:
            self._connection().execute(INCREMENT, (day or today(), shop_id))
            return True
        except (sqlite3.Error, OSError) as exc:
            log.warning("click not counted for %r: %s", shop_id, exc)
            self._local.conn = None  # reopen next time (file moved, disk back...)
            return False


@dataclass(frozen=True)
class DailyClicks:
    day: str
    shop_id: str
    count: int


def read_clicks(
    path: Path,
    *,
    since: date | None = None,
    until: date | None = None,
    shop_id: str | None = None,
) -> list[DailyClicks]:
    """Clicks per shop per day (``since``/``until`` inclusive), oldest day first.

    Only reads: the dashboard can read while portals count (WAL). No file yet means no clicks.
    """
    path = Path(path)
    if not path.exists():
        return []
    where, params = [], []
    if since:
        where.append("day >= ?")
        params.append(since.isoformat())
    if until:
        where.append("day <= ?")
        params.append(until.isoformat())
    if shop_id:
        where.append("shop_id = ?")
        params.append(shop_id)
    sql = "SELECT day, shop_id, count FROM clicks"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY day, shop_id"
    conn = _connect(path, create=False)
    try:
        return [DailyClicks(day, shop, int(count)) for day, shop, count in conn.execute(sql, params)]
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return []
        raise
    finally:
        conn.close()
