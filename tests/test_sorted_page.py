"""Pages sorted on price, first seen or key (no words) over many matches are sought among
the lowest (highest) cells of the sort value first (``paging.Paging._sorted_page``): they
must be the very pages a sort of every match gives, boundary cents, ties, missing prices
and dates included."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
import tantivy
from backend_catalogue import PRODUCTS, product_record

from indexer.backends.base import BackendUnavailable, SearchQuery
from indexer.backends.tantivy import TantivyBackend, paging
from indexer.backends.tantivy.cells import CELL_LIMIT, KEY_BUCKETS
from indexer.backends.tantivy.query import PRODUCTS as PRODUCTS_ONLY
from indexer.backends.tantivy.schema import PRICE_CELL

# Cents that round across a euro (1.9999 -> 200 cents, like 2.00) and repeated prices.
PRICES = [
    "0.5",
    "1",
    "1.9999",
    "2",
    "2",
    "2.0001",
    "2.5",
    "3.9999",
    "4",
    "9.99",
    "10",
    "10",
    "11.5",
    "99.9999",
    "100",
    "1000",
    "9999.9999",
    "10000",
    "25000",
]
SORTS = ["price_asc", "price_desc", "newest", "relevance"]
DAYS = [
    "2019-12-31T23:59:59Z",
    "2020-01-01T00:00:00Z",
    "2024-05-01T12:00:00Z",
    "2026-10-01T09:00:00Z",
    "2026-10-01T09:00:00Z",
    "2026-11-02T00:00:00Z",
    "2047-05-20T00:00:00Z",
    "2060-01-01T00:00:00Z",
]


def records(count: int = 1_500, seed: int = 11) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        price = rng.choice(PRICES) if i % 2 else f"{rng.lognormvariate(3, 1.2):.2f}"
        seen = rng.choice(DAYS) if i % 3 else f"2026-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}T08:00:00Z"
        record = product_record(
            i % len(PRODUCTS), id=f"p-{i}", price=Decimal(price) if i % 13 else None, first_seen=seen
        )
        if i % 29 == 0:
            del record["first_seen"]
        out.append(record)
    return out


def queries(seed: int = 2) -> list[SearchQuery]:
    rng = random.Random(seed)
    found = []
    for _ in range(400):
        filters = {"availability": ("in_stock",)} if rng.random() < 0.3 else {}
        low = Decimal(rng.choice(["1", "2", "10"])) if rng.random() < 0.2 else None
        found.append(
            SearchQuery(
                filters=filters,
                price_min=low,
                sort=rng.choice(SORTS),
                page=rng.choice([1, 1, 2, 3, 9]),
                per_page=rng.choice([1, 5, 10]),
            )
        )
    return found


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    backend = TantivyBackend(tmp_path_factory.mktemp("sorted") / "index", cache_size=0)
    backend.upsert(records())
    return backend


def pages(backend: TantivyBackend, found: list[SearchQuery]) -> list[tuple[int, list[str]]]:
    out = []
    for query in found:
        result = backend.search(query)
        out.append((result.total, [hit["id"] for hit in result.hits]))
    return out


def test_pages_from_the_cells_are_the_pages_of_a_full_sort(index, monkeypatch):
    monkeypatch.setattr(paging, "SORT_CELLS_ABOVE", 0)  # every search of this small index tries them
    monkeypatch.setattr(paging, "TIER_BUCKETS_MAX", KEY_BUCKETS)  # however many buckets
    taken = []
    original = TantivyBackend._sorted_page

    def recording(self, *args):
        page = original(self, *args)
        taken.append(page is not None)
        return page

    monkeypatch.setattr(TantivyBackend, "_sorted_page", recording)
    from_cells = pages(index, queries())
    monkeypatch.setattr(TantivyBackend, "_sorted_page", lambda self, *args: None)  # sort every match
    full = pages(index, queries())
    for query, got, expected in zip(queries(), from_cells, full, strict=False):
        assert got == expected, query
    assert len(taken) > 120 and sum(taken) > 0.8 * len(taken), (sum(taken), len(taken))  # not vacuous
    assert sum(len(ids) for _, ids in full) > 1_000


def test_a_page_ending_on_the_boundary_cent_is_sorted_in_full(tmp_path, monkeypatch):
    """1.9999 EUR sorts as 200 cents like 2 EUR, with the key deciding between them, but it
    is in the cell below 2 EUR: a page ending on 200 cents is not taken from one side."""
    backend = TantivyBackend(tmp_path / "index", cache_size=0)
    prices = ["1.5", "25"] + ["1.9999"] * 6 + ["2"] * 6
    backend.upsert([product_record(0, id=f"p-{i}", price=Decimal(p)) for i, p in enumerate(prices)])
    monkeypatch.setattr(TantivyBackend, "_cell_bound", lambda self, searcher, field, want, ascending: 2)
    searcher = backend._searcher()
    for sort, order in (("price_asc", tantivy.Order.Asc), ("price_desc", tantivy.Order.Desc)):
        field = f"sort_{sort}"
        everything = backend.search(SearchQuery(sort=sort, per_page=len(prices))).hits
        expected = [hit["id"] for hit in everything[:7]]
        assert {hit["price"] for hit in everything[1:7]} == {"1.9999", "2.00"}  # both sides share 200 cents
        # The total only sizes the cells; the bound is fixed at 2 EUR above.
        page = backend._sorted_page(searcher, [PRODUCTS_ONLY], sort, field, order, 0, 7, 10**6)
        assert page is None or [r["id"] for r in backend._records(searcher, page)] == expected, sort
        # One product short of the boundary, the cells answer, and right.
        page = backend._sorted_page(searcher, [PRODUCTS_ONLY], sort, field, order, 0, 1, 10**6)
        assert [r["id"] for r in backend._records(searcher, page)] == expected[:1], sort


def test_cell_bounds_are_the_smallest_that_hold_what_is_wanted(index):
    searcher = index._searcher()
    prices = sorted(float(r["price"]) for r in records() if r.get("price") is not None)
    below_limit = sum(1 for p in prices if p < CELL_LIMIT)
    for want in (1, 5, 40, 300, below_limit):
        bound = index._cell_bound(searcher, PRICE_CELL, want, ascending=True)
        assert sum(1 for p in prices if p < bound) >= want > sum(1 for p in prices if p < bound - 1), want
    for want in (1, 5, 40, 300, len(prices)):
        bound = index._cell_bound(searcher, PRICE_CELL, want, ascending=False)
        assert sum(1 for p in prices if p >= bound) >= want, want
        assert bound == CELL_LIMIT or sum(1 for p in prices if p >= bound + 1) < want, want
    # The prices from CELL_LIMIT up share one cell: never below a bound.
    assert index._cell_bound(searcher, PRICE_CELL, below_limit + 1, ascending=True) is None


def test_an_index_without_seen_cells_is_refused(tmp_path):
    (tmp_path / "index").mkdir()
    older = tantivy.SchemaBuilder()  # an index of an earlier release: other fields
    older.add_text_field("id", fast=True, tokenizer_name="raw")
    older.add_integer_field("price_cell", indexed=True)
    tantivy.Index(older.build(), path=str(tmp_path / "index"))
    with pytest.raises(BackendUnavailable, match="emplettes reindex"):
        TantivyBackend(tmp_path / "index", cache_size=0)
