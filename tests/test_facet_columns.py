"""The embedded backend fills every facet column of every document ("" for no value, never
shown): a dense column is counted faster. The "" bucket must never cost a shown value its
place or its count."""

from __future__ import annotations

from backend_catalogue import PRODUCTS, product_record

from indexer.backends.base import SearchQuery
from indexer.backends.tantivy import TantivyBackend


def test_products_without_a_town_take_no_place_in_the_town_facet(tmp_path):
    towns = [None, None, None, "Laval", "Laval", "Mayenne"]
    records = [product_record(i % len(PRODUCTS), id=f"p-{i}", town=town, postcode=None) for i, town in enumerate(towns)]
    backend = TantivyBackend(tmp_path / "index", facet_size=2)
    backend.upsert(records)
    shown = backend.search(SearchQuery(facets=("town",))).facets["town"]
    assert [(v.value, v.count) for v in shown] == [("Laval", 2), ("Mayenne", 1)]
    ticked = backend.search(SearchQuery(facets=("town",), filters={"town": ("Mayenne",)})).facets["town"]
    assert [(v.value, v.count, v.selected) for v in ticked] == [("Laval", 2, False), ("Mayenne", 1, True)]
    backend.close()
