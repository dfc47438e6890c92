"""Values computed once per index generation: the pages that read the whole catalogue.

The directory (``/boutiques``), the home page's counts and the sitemap read every shop or
count every product; the index changes a few times a day. Computed on each request, they
made ``/boutiques`` a lever against the portal: eight clients asking for it in a loop
slowed every resident's search thirtyfold (issue 18). Each value here is computed once
per generation of the index (the backend's :meth:`generation`: tantivy's commit, the
Elasticsearch index's visible writes) and served from memory until the next one; while
one thread computes, the others asking for the same value wait for it instead of
computing it again. Kept per process: a gunicorn worker computes each value once.

A backend that cannot say its generation gets its values recomputed every
:data:`FALLBACK_SECONDS`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from flask import current_app

from indexer.search import SearchBackend

EXTENSION = "emplettes.generations"
FALLBACK_SECONDS = 60.0

T = TypeVar("T")


class PerGeneration:
    """``name`` -> (generation, when, value), one lock per name."""

    def __init__(self, fallback_seconds: float = FALLBACK_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.fallback_seconds = fallback_seconds
        self.clock = clock
        self._values: dict[Hashable, tuple[Any, float, Any]] = {}
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()

    def _fresh(self, name: Hashable, generation: Any) -> tuple[bool, Any]:
        kept = self._values.get(name)
        if kept is None or kept[0] != generation:
            return False, None
        if generation is None and self.clock() - kept[1] >= self.fallback_seconds:
            return False, None
        return True, kept[2]

    def get(self, name: Hashable, generation: Any, compute: Callable[[], T]) -> T:
        found, value = self._fresh(name, generation)
        if found:
            return value
        with self._guard:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:  # one computation per name at a time; the others wait and reuse it
            found, value = self._fresh(name, generation)
            if found:
                return value
            value = compute()
            self._values[name] = (generation, self.clock(), value)
            return value


def init_app(app) -> None:
    app.extensions[EXTENSION] = PerGeneration()


def generation_of(backend: SearchBackend) -> Any:
    """The backend's generation; None when it cannot say (values then expire by time)."""
    generation = getattr(backend, "generation", None)
    return generation() if callable(generation) else backend.cache_token()


def per_generation(backend: SearchBackend, name: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``, or the value it gave at this generation of ``backend``'s index."""
    store: PerGeneration = current_app.extensions[EXTENSION]
    return store.get((id(backend), name), generation_of(backend), compute)


def all_shops(backend: SearchBackend) -> list[dict[str, Any]]:
    """Every shop record, read once per index generation (directory, sitemap, API)."""
    return per_generation(backend, "shops", backend.shops)
