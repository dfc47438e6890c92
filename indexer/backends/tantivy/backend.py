"""The embedded search backend: a tantivy index in ``DATA_DIR/index``, no server needed.

Products and shops share one index (``type`` tells them apart). The class is assembled
from one module per role, each readable alone:

* ``schema``: the fields, and opening an index (one schema version: another is refused);
* ``documents``: record → document; ``cells``: geo, price and day cells (pure functions);
* ``storage``: directory, writer lock, generation, rebuild swap; ``cache``: what searches
  remember per generation, with one reset;
* ``writing``: upserts, deletes, the held-back bulk load;
* ``query``: words, filters and prices as engine queries; ``paging`` and ``geo``: the
  page for each sort, shortcuts beside the full sorts they agree with; ``facets``: counts;
  ``searching``: ``search`` put together.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import tantivy

from indexer.analysis import FOLDED, analyze, fold
from indexer.backends.common import rank_suggestions, suggestion_words
from indexer.backends.spare_core import SpareCore
from indexer.backends.tantivy.cache import SearchCache
from indexer.backends.tantivy.schema import build_schema
from indexer.backends.tantivy.searching import Searching
from indexer.backends.tantivy.storage import hit_count
from indexer.backends.tantivy.writing import Writing


class TantivyBackend(Writing, Searching):
    """Products and shops in one tantivy index; ``type`` tells them apart."""

    name = "tantivy"

    def __init__(
        self,
        path: Path,
        *,
        readonly: bool = False,
        writer_heap_bytes: int = 256_000_000,
        writer_threads: int = 0,
        facet_size: int = 50,
        cache_size: int = 256,
        search_threads: int = 2,
        open_index: bool = True,
    ) -> None:
        self.path = Path(path)
        self._meta_json = os.path.join(self.path, "meta.json")  # stat on every search: no Path joins
        self._threads = max(1, search_threads)
        self._helpers: tuple[int, ThreadPoolExecutor] | None = None
        self._spare_core = SpareCore()
        self.readonly = readonly
        self.facet_size = facet_size
        self._cache = SearchCache(cache_size)
        self._reloaded: tuple | None = None  # (index, generation) of the last reload()
        self._writer_heap = writer_heap_bytes
        self._writer_threads = writer_threads
        self._writer: tantivy.IndexWriter | None = None
        self._lock = threading.RLock()
        self._pending: dict[str, Any] | None = None
        self._pending_runs: dict[str, set] = {}
        self._held: dict[str, tuple] = {}
        self._held_ids: dict[str, set] = {}
        self._path_lock = None  # open file holding <path>.lock while this handle may write
        if not open_index:  # see for_rebuild()
            self.schema, self._directory = build_schema(), None
            return
        self._open()

    @property
    def cache_size(self) -> int:
        """Searches (and facet counts) remembered per index generation."""
        return self._cache.size

    def segments(self) -> int:
        """How many segments searchers read now: a rebuild leaves few (see writing), and
        tantivy merges the segments of later loads in the background."""
        return self._searcher().num_segments

    # ------------------------------------------------------------------ reading

    @staticmethod
    def _all(searcher: tantivy.Searcher, query: tantivy.Query) -> list[tantivy.DocAddress]:
        """Every matching document's address (unordered)."""
        count = hit_count(searcher.search(query, 1, count=True))
        if not count:
            return []
        return [address for _, address in searcher.search(query, count, count=False).hits]

    def get(self, record_id: str) -> dict[str, Any] | None:
        searcher = self._searcher()
        hits = searcher.search(self._term("id", record_id), 1, count=False).hits
        return self._records(searcher, [hits[0][1]])[0] if hits else None

    def shops(self) -> list[dict[str, Any]]:
        searcher = self._searcher()
        shops = self._records(searcher, self._all(searcher, self._term("type", "shop")))
        return sorted(shops, key=lambda s: (fold(s.get("town") or ""), fold(s["name"]), s["id"]))

    def stats(self) -> dict[str, Any]:
        searcher = self._searcher()
        products = self._term("type", "product")
        shops = hit_count(searcher.search(self._term("type", "shop"), 1, count=True))
        agg = searcher.aggregate(
            products, {"s": {"terms": {"field": "source_id", "size": 100_000, "segment_size": 100_000}}}
        )
        sources = {b["key"]: b["doc_count"] for b in agg["s"]["buckets"]}
        return {
            "products": hit_count(searcher.search(products, 1, count=True)),
            "shops": shops,
            "sources": dict(sorted(sources.items())),
        }

    def suggest(self, prefix: str, limit: int = 8) -> list[str]:
        tokens = analyze(prefix, FOLDED)
        if not tokens or limit <= 0:
            return []
        searcher = self._searcher()
        parts = []  # (name_words: products only)
        whole, last = suggestion_words(prefix, tokens)
        parts += [self._term("name_words", token) for token in whole]
        if last is not None:
            words = [w for w, _ in searcher.terms_with_prefix("name_words", last, limit=64)]
            if not words:
                return []
            parts.append(self._terms("name_words", words))
        agg = searcher.aggregate(
            self._and(parts),
            {"n": {"terms": {"field": "name_exact", "size": limit * 5, "segment_size": 1_000}}},
        )
        return rank_suggestions(((b["key"], b["doc_count"]) for b in agg["n"]["buckets"]), prefix, limit)

    def town_points(self) -> dict[str, tuple[str, list[tuple[float, float]]]]:
        """Kept per index generation whatever the cache size: every search with words looks
        for a town in them (indexer.places)."""
        generation = self._generation()
        kept = self._cache.of(generation) if generation else {}
        cached = kept.get("town_points")
        if cached is None:
            cached = kept["town_points"] = super().town_points()
        return cached
