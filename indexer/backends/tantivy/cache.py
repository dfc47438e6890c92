"""What searches remember about one index state, and its one reset.

Everything cached here is a pure function of the index generation (it changes with every
commit, see ``storage``): searches and facet counts in two LRU caches keyed by the
generation, the rest (tables of counts, shop names, term counts) in one slot that a new
generation empties. ``reset`` forgets all of it: after a rebuild's swap, the generation
of the new directory might equal one seen before.

Values are kept as nested tuples of strings and numbers, which the garbage collector
stops tracking: thousands of cached searches as objects made every full collection of a
portal worker slow.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

DOC_FREQS_MAX = 100_000  # term counts kept per generation before starting again


class LRU:
    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: Hashable) -> Any:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        return None

    def put(self, key: Hashable, value: Any) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)


class SearchCache:
    """``searches``: a located page per search; ``facets``: facet counts (and the total)
    per search without its sort and page; :meth:`of`: one generation's other values."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.reset()

    def reset(self) -> None:
        self.searches = LRU(self.size)
        self.facets = LRU(self.size)
        self._slot: tuple[Any, dict] = (None, {})

    def of(self, generation: Any) -> dict:
        """The values kept for ``generation``: a fresh dict when the generation changed.
        Callers store only what they computed with a searcher that saw that generation."""
        slot = self._slot
        if slot[0] != generation:
            slot = self._slot = (generation, {})
        return slot[1]

    def doc_freqs(self, generation: Any) -> dict:
        """{(field, term): documents holding it} at ``generation`` (None: unknown, nothing kept)."""
        if generation is None:
            return {}
        known = self.of(generation).setdefault("doc_freqs", {})
        if len(known) > DOC_FREQS_MAX:
            known.clear()
        return known
