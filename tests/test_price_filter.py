"""Price filters on the embedded backend: read as a few price cells (whole euros, tens,
hundreds...) plus an exact check of the one-euro cells at the ends, they select exactly
the products the plain range selects, bounds included, whatever the bounds."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
import tantivy
from backend_catalogue import PRODUCTS, product_record

from indexer.backends.base import BackendUnavailable, SearchQuery
from indexer.backends.tantivy import TantivyBackend, query
from indexer.backends.tantivy.cells import decimal_cells, decimal_cover

PRICES = [
    "0",
    "0.01",
    "0.99",
    "1",
    "9.99",
    "10",
    "10.5",
    "12.345",
    "19.99",
    "20",
    "20.01",
    "99.99",
    "100",
    "149.5",
    "999.99",
    "1000",
    "1250",
    "25000",
    "9999999.99",
]


def records(count: int = 300, seed: int = 3) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        price = rng.choice(PRICES) if i % 3 else f"{rng.uniform(0, 300):.2f}"
        out.append(product_record(i % len(PRODUCTS), id=f"p-{i}", price=Decimal(price) if i % 17 else None))
    return out


def bounds(seed: int = 5) -> list[tuple[Decimal | None, Decimal | None]]:
    rng = random.Random(seed)
    edges = [None, *PRICES, "5", "12.3", "12.35", "12.34", "150", "300", "20000000"]
    pairs = []
    for _ in range(400):
        low, high = rng.choice(edges), rng.choice(edges)
        low, high = (Decimal(v) if v is not None else None for v in (low, high))
        if low is not None and high is not None and low > high:
            low, high = high, low
        if low is not None or high is not None:
            pairs.append((low, high))
    return pairs


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    backend = TantivyBackend(tmp_path_factory.mktemp("prices") / "index", cache_size=0)
    backend.upsert(records())
    return backend


def selected(backend: TantivyBackend, low, high) -> tuple[int, list[str]]:
    result = backend.search(SearchQuery(price_min=low, price_max=high, per_page=1_000, sort="price_asc"))
    return result.total, [hit["id"] for hit in result.hits]


def test_price_cells_select_what_the_exact_range_selects(index, monkeypatch):
    with_cells = [selected(index, low, high) for low, high in bounds()]
    monkeypatch.setattr(query, "decimal_cover", lambda low, high: None)  # the whole column
    exact = [selected(index, low, high) for low, high in bounds()]
    for (low, high), got, expected in zip(bounds(), with_cells, exact, strict=False):
        assert got == expected, (low, high)
    assert sum(total for total, _ in exact) > 10_000  # the ranges do select products


def test_a_range_is_a_few_cells_and_its_two_end_euros():
    cells, partial = decimal_cover(9.99, 150.0)
    assert len(cells) == 14 and len(partial) == 2  # 10-99 € as 9 tens, 100-149 € as 5 tens
    assert decimal_cover(12.3, 12.8) == ([], decimal_cells(12.0)[:1])
    assert decimal_cover(-1.0, 5.0) is None and decimal_cover(5.0, 4.0) is None  # the exact range then


def test_an_index_without_price_cells_is_refused(tmp_path):
    (tmp_path / "index").mkdir()
    older = tantivy.SchemaBuilder()  # an index of an earlier release: other fields
    older.add_text_field("id", fast=True, tokenizer_name="raw")
    older.add_float_field("price", indexed=True, fast=True)
    tantivy.Index(older.build(), path=str(tmp_path / "index"))
    with pytest.raises(BackendUnavailable, match="emplettes reindex"):
        TantivyBackend(tmp_path / "index")
