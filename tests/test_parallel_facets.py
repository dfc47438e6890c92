"""Facet groups counted side by side on helper threads (``search_threads``, when the other
processes leave a core idle), and the shop facet of a broad search counted apart from
the other facets: the answers must be those of one thread counting everything in one pass.
Also: shop documents (schema 5) carry no words, so searches by words skip excluding them
and still never return them."""

from __future__ import annotations

import itertools
import os
import random
from decimal import Decimal

import pytest
from backend_catalogue import PRODUCTS, SHOPS, product_record, shop_record

from indexer.analysis import plan_words
from indexer.backends.base import SearchQuery
from indexer.backends.spare_core import SpareCore, _busy_seconds
from indexer.backends.tantivy import TantivyBackend, facets, searching

TEXTS = ["", "", "théière", "bougie", "the", "miel", "poupée", "thé vert", "bougie parfumée", "livre", "savon"]


def all_records() -> list[dict]:
    return [shop_record(source) for source in SHOPS] + [product_record(i) for i in range(len(PRODUCTS))]


def queries(seed: int = 4) -> list[SearchQuery]:
    rng = random.Random(seed)
    towns = sorted({shop["town"] for shop in SHOPS.values()})
    names = sorted(shop["name"] for shop in SHOPS.values())
    found = []
    for _ in range(150):
        filters = {}
        if rng.random() < 0.4:
            filters["town"] = tuple(rng.sample(towns, rng.choice([1, 2])))
        if rng.random() < 0.3:
            filters["availability"] = ("in_stock",)
        if rng.random() < 0.2:
            filters["shop"] = (rng.choice(names),)
        price = Decimal(rng.choice(["5", "20", "60"])) if rng.random() < 0.2 else None
        found.append(
            SearchQuery(
                text=rng.choice(TEXTS),
                filters=filters,
                price_max=price,
                per_page=5,
                sort=rng.choice(["relevance", "relevance", "price_asc", "newest"]),
                page=rng.choice([1, 1, 2]),
            )
        )
    return found


def answers(backend: TantivyBackend) -> list[tuple]:
    out = []
    for query in queries():
        result = backend.search(query)
        out.append((result.total, [hit["id"] for hit in result.hits], result.facets))
    return out


@pytest.fixture(scope="module")
def index_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("parallel") / "index"
    writer = TantivyBackend(path)
    writer.upsert(all_records())
    writer.close()
    return path


def test_threads_and_a_split_shop_facet_count_what_one_thread_counts(index_path, monkeypatch):
    monkeypatch.setattr(SpareCore, "available", lambda self: True)  # whatever else runs meanwhile
    one = answers(TantivyBackend(index_path, readonly=True, cache_size=0, search_threads=1))
    monkeypatch.setattr(facets, "SPLIT_SHOP_ABOVE", 0)  # every search splits its shop facet
    split = []
    original = TantivyBackend._aggregate_all
    monkeypatch.setattr(
        TantivyBackend,
        "_aggregate_all",
        lambda self, searcher, tasks, threads: split.append(len(tasks)) or original(self, searcher, tasks, threads),
    )
    parallel = TantivyBackend(index_path, readonly=True, cache_size=0, search_threads=2)
    assert answers(parallel) == one
    assert parallel._helpers is not None  # the helper threads did take part
    assert sum(1 for tasks in split if tasks >= 3) > 20  # ticked facets: several groups, shop apart
    assert sum(total for total, _, _ in one) > 500


def test_only_broad_searches_count_their_shop_facet_apart(index_path, monkeypatch):
    backend = TantivyBackend(index_path, readonly=True, cache_size=0)
    searcher = backend._searcher()
    plan = plan_words
    monkeypatch.setattr(facets, "SPLIT_SHOP_ABOVE", 3)
    assert backend._broad(searcher, [])  # no words: every product
    assert backend._broad(searcher, plan("bougie"))  # (5 products hold the word)
    assert not backend._broad(searcher, plan("gallimard"))  # one
    assert not backend._broad(searcher, plan("bougie gallimard"))  # at most what the rarer word holds
    assert not backend._broad(searcher, plan("xylophone"))


def test_words_never_find_a_shop_document(tmp_path):
    """Shops have no words in the index, and searches by words do not exclude them."""
    backend = TantivyBackend(tmp_path / "index", cache_size=0)
    backend.upsert(all_records())
    found = []
    # Shop names hold these words too ("La Théière Bleue", "Atelier Cire & Mèche").
    for text, price in itertools.product(["théière", "bleue", "atelier", "cire", "thé"], [None, Decimal("1000")]):
        result = backend.search(SearchQuery(text=text, price_max=price, per_page=100))
        assert all(hit["type"] == "product" for hit in result.hits), text
        assert result.total == len(result.hits)
        assert sum(value.count for value in result.facets["shop"]) == result.total
        found.append([hit["id"] for hit in result.hits])
    assert sum(map(len, found)) > 10


def test_filters_no_shop_matches_need_no_exclusion_of_the_shops(index_path, monkeypatch):
    """Availability and shop_id: shops have neither, so such a search skips excluding them;
    the facet counted without that filter counts the shops under "", never shown."""
    rng = random.Random(8)
    values = {
        "availability": ["in_stock", "out_of_stock", "preorder"],
        "shop_id": [f"{source}-shop" for source in SHOPS],
    }
    searches = []
    for _ in range(80):
        filters = {
            name: tuple(rng.sample(choices, rng.choice([1, 2])))
            for name, choices in values.items()
            if rng.random() < 0.6
        }
        if rng.random() < 0.4:
            filters["town"] = (rng.choice(sorted({shop["town"] for shop in SHOPS.values()})),)
        searches.append(
            SearchQuery(
                text=rng.choice(["", "", "bougie"]),
                filters=filters,
                per_page=50,
                sort=rng.choice(["relevance", "price_asc"]),
            )
        )
    backend = TantivyBackend(index_path, readonly=True, cache_size=0)
    narrowed = [backend.search(query) for query in searches]
    monkeypatch.setattr(searching, "PRODUCT_FILTERS", ())  # exclude the shops every time
    excluded = [backend.search(query) for query in searches]
    for query, got, expected in zip(searches, narrowed, excluded, strict=False):
        assert (got.total, got.hits, got.facets) == (expected.total, expected.hits, expected.facets), query
        assert all(hit["type"] == "product" for hit in got.hits)
    assert sum(result.total for result in excluded) > 100


def test_a_helper_thread_only_when_the_other_processes_leave_a_core_idle():
    now, busy, own = [100.0], [5_000.0], [10.0]
    spare = SpareCore(cores=2, read=lambda: busy[0], clock=lambda: now[0], own=lambda: own[0])

    def after(seconds: float, machine: float, mine: float) -> bool:
        now[0] += seconds
        busy[0] += machine
        own[0] += mine
        return spare.available()

    assert not spare.available()  # nothing measured yet
    assert after(1.0, 1.1, 1.0)  # this process busy, the others at 0.1 core
    assert after(1.0, 1.9, 1.8)  # this process on two cores: still its own
    assert after(0.1, 0.2, 0.0)  # read again only every half second: the last answer holds
    assert not after(1.0, 1.8, 1.0)  # the others take 0.8 core (another worker serving)
    assert after(1.0, 1.3, 1.0)  # 0.3 core
    assert not SpareCore(cores=1).available()
    assert not SpareCore(cores=4, read=lambda: None).available()  # no /proc/stat: one thread


def test_busy_time_is_read_from_proc_stat(tmp_path):
    stat = tmp_path / "stat"
    stat.write_text("cpu  100 20 30 400 50 6 7 8 0 0\ncpu0 50 10 15 200 25 3 3 4 0 0\n")
    assert _busy_seconds(str(stat)) == (100 + 20 + 30 + 6 + 7 + 8) / os.sysconf("SC_CLK_TCK")
    assert _busy_seconds(str(tmp_path / "missing")) is None


@pytest.mark.parametrize("ticked", [("in_stock",), ("out_of_stock",), ("in_stock", "preorder")])
def test_browsing_by_availability_counts_from_a_table_per_generation(index_path, ticked):
    """No words, price, place or other filter: the facets come from a table computed once
    per index generation and availability, and are the counts of the products themselves."""
    backend = TantivyBackend(index_path, readonly=True)
    result = backend.search(SearchQuery(filters={"availability": ticked}, per_page=100))
    kept = backend._cache.of(backend.cache_token())
    assert any(key[0] == "browse counts" and key[2] == tuple(sorted(ticked)) for key in kept)  # the table served it
    products = [product_record(i) for i in range(len(PRODUCTS))]
    chosen = [p for p in products if p["availability"] in ticked]
    assert result.total == len(chosen) == len(result.hits) > 0
    assert {hit["id"] for hit in result.hits} == {p["id"] for p in chosen}

    def counts(records, field):
        found: dict[str, int] = {}
        for record in records:
            values = record[field] if isinstance(record[field], list) else [record[field]]
            for value in set(values):
                found[value] = found.get(value, 0) + 1
        return found

    shown = {name: {v.value: v.count for v in values if v.count} for name, values in result.facets.items()}
    assert shown["town"] == counts(chosen, "town")
    assert shown["shop"] == counts(chosen, "shop_name")
    assert shown["category"] == counts(chosen, "categories")
    assert shown["availability"] == counts(products, "availability")  # disjunctive: every product
