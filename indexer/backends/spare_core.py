"""Whether this machine has a core the other processes leave idle.

A search can count its facet groups on a second thread (``SEARCH_THREADS``): a lone
resident's slow searches then wait less, but when every core is busy serving other
requests the same work on two threads only costs more CPU (fewer requests served per
second: see docs/benchmarks.md).
So the helper thread is used only when, over the last half second, the machine's other
processes left at least ``SPARE`` of a core idle beside this process. Linux only
(``/proc/stat``); elsewhere, one thread.
"""

from __future__ import annotations

import os
import threading
import time

SPARE = 0.5  # of a core, idle beside this process, for a second thread to be worth it
SAMPLE_EVERY = 0.5  # seconds between two readings of /proc/stat


def _busy_seconds(path: str = "/proc/stat") -> float | None:
    """CPU seconds every core spent busy since boot (all but idle and iowait)."""
    try:
        with open(path, "rb") as stat:
            fields = stat.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != b"cpu":
        return None
    ticks = [int(value) for value in fields[1:]]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class SpareCore:
    """``available()``: True when the other processes left a core to spare lately."""

    def __init__(
        self, cores: int | None = None, read=_busy_seconds, clock=time.monotonic, own=time.process_time
    ) -> None:
        self.cores = cores or os.cpu_count() or 1
        self._read, self._clock, self._own = read, clock, own
        self._lock = threading.Lock()
        self._last: tuple[float, float, float] | None = None
        self._spare = False

    def available(self) -> bool:
        if self.cores < 2:
            return False
        now = self._clock()
        last = self._last
        if last is not None and now - last[0] < SAMPLE_EVERY:
            return self._spare
        with self._lock:
            busy, own = self._read(), self._own()
            if busy is None:
                return False
            if last is not None and now > last[0]:
                others = max(0.0, (busy - last[1]) - (own - last[2])) / (now - last[0])
                # This process's searching thread takes one core; the helper needs another.
                self._spare = self.cores - 1 - others >= SPARE
            self._last = (now, busy, own)
            return self._spare
