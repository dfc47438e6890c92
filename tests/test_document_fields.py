"""What the embedded backend indexes per record (``document_fields``): the fields a
product takes from its shop are computed once per shop and shared, so these tests check
that sharing never lets one record's fields leak into another's."""

from __future__ import annotations

import gc

import pytest
from backend_catalogue import product_record, shop_record
from run_files import RUN1, product, write_run

from indexer.backends.base import SearchQuery
from indexer.backends.common import record_key
from indexer.backends.tantivy import TantivyBackend
from indexer.backends.tantivy.cells import decimal_cells, geo_cells, seen_day
from indexer.backends.tantivy.documents import document_fields
from indexer.backends.tantivy.schema import PRICE_CELL, RAW_FIELDS, SEEN_CELL, TEXT_FIELDS
from indexer.reindex import reindex


def test_a_product_fills_every_raw_and_text_field():
    fields = document_fields(product_record(0))
    assert set(RAW_FIELDS) <= set(fields)
    assert set(TEXT_FIELDS) <= set(fields)
    assert fields["availability"] == product_record(0)["availability"]


def test_products_of_one_shop_share_its_fields_and_keep_their_own():
    first, second = product_record(0), product_record(1)
    assert first["source_id"] == second["source_id"]
    a, b = document_fields(first), document_fields(second)
    for name in ("source_id", "run_id", "shop_id", "shop_name", "town", "geo_cell", "loc", "categories_set"):
        assert a[name] == b[name]
    for name in ("id", "key", "name", "name_exact", "record", "sort_price_asc", "sort_newest"):
        assert a[name] != b[name]
    assert a["key"] == record_key(first["id"])
    assert a[PRICE_CELL] == decimal_cells(float(first["price"]))


def test_a_shop_that_moves_gets_the_cells_of_its_new_place():
    here = product_record(0)
    moved = dict(here, lat=here["lat"] + 0.5, town="Ailleurs")
    a, b = document_fields(here), document_fields(moved)
    assert b["geo_cell"] == geo_cells(moved["lat"], moved["lon"]) != a["geo_cell"]
    assert (a["town"], b["town"]) == (here["town"], "Ailleurs")
    # The shared part is not changed by a document built from it.
    assert document_fields(here)["geo_cell"] == geo_cells(here["lat"], here["lon"])


def test_a_product_without_price_shop_or_dates_sorts_last_and_fills_empty_columns():
    record = dict(product_record(0), price=None, town=None, lat=None, lon=None, categories=[], first_seen=None)
    fields = document_fields(record)
    assert "price" not in fields and PRICE_CELL not in fields and SEEN_CELL not in fields
    assert fields["sort_price_asc"] >= 1 << 62 and fields["sort_price_desc"] < 0
    assert (fields["town"], fields["loc"], fields["categories_set"]) == ("", "", "")
    assert "geo_cell" not in fields and "lat" not in fields


def test_shop_documents_carry_no_words():
    shop = shop_record(product_record(0)["source_id"])
    assert not set(TEXT_FIELDS) & set(document_fields(shop))
    assert "geo_cell" not in document_fields(shop)  # geo searches are product searches


def test_first_seen_cells_and_sort_key_follow_the_record():
    record = product_record(0, first_seen="2026-10-05T09:00:00+00:00")
    fields = document_fields(record)
    assert fields[SEEN_CELL] == decimal_cells(seen_day(fields["first_seen"]))
    assert fields["first_seen"] == document_fields(dict(record, first_seen="2026-10-05T09:00:00Z"))["first_seen"]
    assert fields["sort_newest"] >> 20 == fields["first_seen"]


@pytest.mark.parametrize("fail", [False, True])
def test_a_rebuild_restores_the_cycle_collector(tmp_path, monkeypatch, fail):
    runs = tmp_path / "runs"
    write_run(runs, RUN1, [product(1, RUN1)])
    backend = TantivyBackend(tmp_path / "index")
    if fail:

        def broken(*args, **kwargs):
            assert not gc.isenabled()  # paused while loading
            raise RuntimeError("disk full")

        monkeypatch.setattr(TantivyBackend, "upsert", broken)
    try:
        if fail:
            with pytest.raises(RuntimeError):
                reindex(runs, backend)
        else:
            reindex(runs, backend)
            assert backend.search(SearchQuery()).total == 1
        assert gc.isenabled()
    finally:
        backend.close()
