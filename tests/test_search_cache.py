"""The embedded backend answers a repeated search from its caches, and never with a page
from before the last commit: both caches are keyed by the index generation."""

from __future__ import annotations

import gc
from decimal import Decimal

from backend_catalogue import PRODUCTS, product_record

from indexer.backends.base import SearchQuery
from indexer.backends.tantivy import TantivyBackend

RECORDS = [product_record(i % len(PRODUCTS), id=f"p-{i}") for i in range(12)]


def counting_locate(backend: TantivyBackend) -> list[SearchQuery]:
    calls: list[SearchQuery] = []
    locate = backend._locate

    def spy(searcher, query, generation):
        calls.append(query)
        return locate(searcher, query, generation)

    backend._locate = spy
    return calls


def test_a_repeated_search_reads_only_the_documents_again(tmp_path):
    backend = TantivyBackend(tmp_path / "index")
    backend.upsert(RECORDS)
    calls = counting_locate(backend)
    query = SearchQuery(text=RECORDS[0]["name"].split()[0], per_page=5)
    first, second = backend.search(query), backend.search(query)
    assert len(calls) == 1
    assert second == first and second.hits is not first.hits  # callers get their own copies
    backend.search(SearchQuery(text=query.text, per_page=5, page=2))
    backend.search(SearchQuery(text=query.text, per_page=5, sort="price_asc"))
    assert len(calls) == 3  # another page or sort is another search


def test_a_commit_by_another_process_is_seen_by_the_next_search(tmp_path):
    writer = TantivyBackend(tmp_path / "index")
    writer.upsert(RECORDS[:6])
    reader = TantivyBackend(tmp_path / "index", readonly=True)
    query = SearchQuery(per_page=50)
    assert reader.search(query).total == 6
    writer.upsert(RECORDS[6:])
    after = reader.search(query)
    assert after.total == 12
    assert {hit["id"] for hit in after.hits} == {record["id"] for record in RECORDS}


def test_without_a_cache_every_search_is_located_anew(tmp_path):
    backend = TantivyBackend(tmp_path / "index", cache_size=0)
    backend.upsert(RECORDS)
    calls = counting_locate(backend)
    query = SearchQuery(per_page=5)
    backend.search(query)
    backend.search(query)
    assert len(calls) == 2


def test_cached_searches_leave_little_for_the_garbage_collector_to_scan(tmp_path):
    """A portal process keeps thousands of searches; as objects (facet values, lists) they
    made every full collection a pause of 0.3 s in the middle of a request."""
    backend = TantivyBackend(tmp_path / "index", cache_size=1_000)
    records = [product_record(i % len(PRODUCTS), id=f"p-{i}", shop_name=f"Boutique {i}") for i in range(80)]
    backend.upsert(records)
    words = sorted({word for record in records for word in record["name"].split() if len(word) > 3})
    queries = [SearchQuery(text=word, per_page=5, page=page) for word in words for page in (1, 2, 3)]
    queries += [SearchQuery(price_max=Decimal(n), per_page=5) for n in range(1, 80)]
    backend.search(queries[0])
    gc.collect()
    before = len(gc.get_objects())
    for query in queries:
        backend.search(query)
    gc.collect()
    tracked = len(gc.get_objects()) - before
    assert len(backend._cache.searches) >= 0.9 * len(queries)
    # Each cached search costs the collector a handful of objects (its planned words and
    # cache key), not one per facet value.
    assert tracked < 8 * len(queries), tracked
