"""The tantivy shop facet is counted on a u64 hash of the shop name (see
``shop_name_hash``): its values and counts must be exactly those of the names, also
at ties across the cut and after a commit; an index built before the field existed is
refused (rebuilt by `emplettes reindex`).
"""

from __future__ import annotations

from collections import Counter

import pytest
import tantivy
from backend_catalogue import PRODUCTS, product_record

from indexer.backends.base import BackendUnavailable, SearchQuery
from indexer.backends.tantivy import TantivyBackend

# 3 shops with 3 products, then 40 shops with 1 (ties far past the facet's cut).
SHOP_NAMES = [f"Boutique {n:02d}" for n in range(3) for _ in range(3)] + [f"Échoppe {n:02d}" for n in range(40)]
RECORDS = [product_record(i % len(PRODUCTS), id=f"p-{i}", shop_name=name) for i, name in enumerate(SHOP_NAMES)]


def expected(records: list[dict], size: int) -> list[tuple[str, int]]:
    counts = Counter(record["shop_name"] for record in records)
    return sorted(counts.items(), key=lambda vc: (-vc[1], vc[0]))[:size]


def shop_facet(backend: TantivyBackend, **query) -> list[tuple[str, int]]:
    result = backend.search(SearchQuery(facets=("shop",), **query))
    return [(value.value, value.count) for value in result.facets["shop"]]


def test_shop_counts_are_exact_when_ties_run_past_the_cut(tmp_path):
    backend = TantivyBackend(tmp_path / "index", facet_size=5)
    backend.upsert(RECORDS)
    assert shop_facet(backend) == expected(RECORDS, 5)
    assert shop_facet(backend, filters={"town": (RECORDS[0]["town"],)}) == expected(
        [r for r in RECORDS if r["town"] == RECORDS[0]["town"]], 5
    )


def test_a_ticked_shop_below_the_cut_keeps_its_count(tmp_path):
    # One shop with 3 products, 6 with 2 (tied at the cut of 2), one with 1 (ticked).
    names = ["Atelier"] * 3 + [f"Boutique {n}" for n in range(6) for _ in range(2)] + ["Échoppe"]
    records = [product_record(i % len(PRODUCTS), id=f"p-{i}", shop_name=name) for i, name in enumerate(names)]
    backend = TantivyBackend(tmp_path / "index", facet_size=2)
    backend.upsert(records)
    result = backend.search(SearchQuery(facets=("shop",), filters={"shop": ("Échoppe",)}))
    shown = [(value.value, value.count, value.selected) for value in result.facets["shop"]]
    assert shown == [("Atelier", 3, False), ("Boutique 0", 2, False), ("Échoppe", 1, True)]
    assert result.total == 1


def test_a_shop_added_by_another_process_is_named(tmp_path):
    writer = TantivyBackend(tmp_path / "index")
    writer.upsert(RECORDS[:10])
    reader = TantivyBackend(tmp_path / "index", readonly=True)
    assert shop_facet(reader) == expected(RECORDS[:10], 50)
    new = [product_record(0, id=f"new-{n}", shop_name="Nouvelle boutique") for n in range(5)]
    writer.upsert(new)
    assert shop_facet(reader) == expected(RECORDS[:10] + new, 50)
    reader._cache.of(reader.cache_token())["shop names"] = {}  # a name table older than the searcher
    town = new[0]["town"]
    assert shop_facet(reader, filters={"town": (town,)}) == expected(
        [r for r in RECORDS[:10] + new if r["town"] == town], 50
    )


def test_an_index_built_without_the_hash_field_is_refused(tmp_path):
    (tmp_path / "index").mkdir()
    older = tantivy.SchemaBuilder()  # an index of an earlier release: other fields
    older.add_text_field("id", fast=True, tokenizer_name="raw")
    older.add_text_field("shop_name", fast=True, tokenizer_name="raw")
    tantivy.Index(older.build(), path=str(tmp_path / "index"))
    with pytest.raises(BackendUnavailable, match="emplettes reindex"):
        TantivyBackend(tmp_path / "index", facet_size=5)
