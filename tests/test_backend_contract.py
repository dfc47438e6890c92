"""The contract every search backend honours, run against real indexes (no mocks).

Each backend joins through ``BACKENDS``: tantivy always runs; Elasticsearch runs only when
``ELASTICSEARCH_URL`` points at a server (``pytest -m elasticsearch``). Expected results
are computed in Python from the catalogue of tests/backend_catalogue.py, so the assertions read as the rule.
"""

from __future__ import annotations

import math
import uuid
from decimal import Decimal

import pytest
from backend_catalogue import (
    BACKENDS,
    BY_ID,
    CATALOGUE,
    LAVAL,
    PRODUCTS,
    SHOP_RECORDS,
    SHOPS,
    Factory,
    everything,
    expected_facet,
    haversine_km,
    ids,
    matches,
    product_record,
    shop_record,
)

from indexer.backends.base import FACETS, Near, SearchBackend, SearchQuery
from indexer.load import write_batch

# ---------------------------------------------------------------------------- fixtures


@pytest.fixture(params=BACKENDS, scope="module")
def factory(request) -> Factory:
    return request.param


@pytest.fixture(scope="module")
def loaded(factory, tmp_path_factory) -> SearchBackend:
    """The catalogue, loaded once per backend; tests using it must not write."""
    backend = factory(tmp_path_factory.mktemp("catalogue") / "index")
    assert backend.upsert(SHOP_RECORDS + CATALOGUE) == len(SHOP_RECORDS) + len(CATALOGUE)
    yield backend
    backend.close()


@pytest.fixture
def fresh(factory, tmp_path) -> SearchBackend:
    """An empty index of its own, for tests that write."""
    backend = factory(tmp_path / f"index-{uuid.uuid4().hex[:8]}")
    yield backend
    backend.close()


# ---------------------------------------------------------------------------- text


def test_accents_and_case_are_folded(loaded):
    for text in ("theiere", "THÉIÈRE", "Théière", "théieres"):
        result = loaded.search(SearchQuery(text=text, per_page=50))
        names = [hit["name"] for hit in result.hits]
        assert "Théière en fonte japonaise" in names, text
        assert "Théière en terre cuite" in names, text


def test_plural_and_singular_find_each_other(loaded):
    singular = set(ids(loaded.search(SearchQuery(text="bougie", per_page=100))))
    plural = set(ids(loaded.search(SearchQuery(text="bougies", per_page=100))))
    assert singular == plural
    assert {"cire-meche-p22", "cire-meche-p23", "cire-meche-p24", "epicerie-lavalloise-p11"} <= singular


def test_name_matches_rank_above_description_only_matches(loaded):
    result = loaded.search(SearchQuery(text="théière", per_page=50))
    in_name = [("theier" in hit["name"].lower().replace("é", "e").replace("è", "e")) for hit in result.hits]
    assert any(in_name) and not all(in_name)  # the plateau and the book mention it only in text
    first_description_only = in_name.index(False)
    assert all(in_name[:first_description_only]) and not any(in_name[first_description_only:])


def test_words_are_and_ed(loaded):
    result = loaded.search(SearchQuery(text="bougie vanille", per_page=50))
    assert ids(result) == ["cire-meche-p22"]
    assert result.total == 1


def test_no_result_for_all_words_falls_back_to_any_word(loaded):
    result = loaded.search(SearchQuery(text="bougie xylophone", per_page=50))
    assert result.total > 0
    assert all("ougie" in hit["name"] + (hit["description"] or "") for hit in result.hits)


def test_stop_words_and_elisions_do_not_block_matches(loaded):
    assert "epicerie-lavalloise-p07" in ids(loaded.search(SearchQuery(text="l'huile d'olive")))
    assert "epicerie-lavalloise-p11" in ids(loaded.search(SearchQuery(text="bougie a la figue")))


def test_brand_and_category_are_searched(loaded):
    assert ids(loaded.search(SearchQuery(text="gallimard"))) == ["librairie-chateau-p28"]
    assert "jouets-antan-p33" in ids(loaded.search(SearchQuery(text="poupées")))


def test_empty_text_matches_every_product_and_no_shop(loaded):
    hits = everything(loaded, SearchQuery(per_page=7))
    assert sorted(hit["id"] for hit in hits) == sorted(BY_ID)
    assert all(hit["type"] == "product" for hit in hits)


@pytest.mark.parametrize(
    "text",
    [
        '"',
        '"théière',
        "name:théière",
        "(bougie",
        "bougie)",
        "a AND",
        "OR",
        "NOT",
        "-",
        "+bougie -vanille",
        "*",
        "bou*",
        "?",
        "\\",
        "[1 TO 5]",
        "{}",
        "prix:>10",
        "~2",
        "^3",
        "théière^10",
        "' OR 1=1 --",
        "%",
        "&&||!",
        "\x00",
        "🕯️ bougie",
        "   ",
        "é" * 600,
        "le la les de",
        "/regex/",
    ],
)
def test_hostile_query_strings_do_not_crash(loaded, text):
    result = loaded.search(SearchQuery(text=text))
    assert result.total >= 0
    assert loaded.suggest(text) is not None


# ---------------------------------------------------------------------------- filters and facets


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"town": ("Laval",)},
        {"town": ("Laval", "Mayenne")},
        {"town": ("Laval",), "availability": ("in_stock",)},
        {"category": ("Épicerie fine",)},
        {"services": ("delivery", "gift_vouchers"), "availability": ("in_stock", "preorder")},
        {"shop": ("Atelier Cire & Mèche",), "category": ("Décoration",)},
        {"town": ("Nowhere",)},
    ],
    ids=lambda f: ",".join(f"{k}={'|'.join(v)}" for k, v in f.items()) or "none",
)
def test_filters_and_disjunctive_facet_counts_are_exact(loaded, filters):
    result = loaded.search(SearchQuery(filters=filters, per_page=100))
    expected = [r for r in CATALOGUE if matches(r, filters)]
    assert result.total == len(expected)
    assert sorted(ids(result)) == sorted(r["id"] for r in expected)
    assert set(result.facets) == set(FACETS)
    for name in FACETS:
        others = {k: v for k, v in filters.items() if k != name}
        counts = expected_facet([r for r in CATALOGUE if matches(r, others)], name)
        for value in filters.get(name, ()):
            counts.setdefault(value, 0)
        got = result.facets[name]
        assert {fv.value: fv.count for fv in got} == counts, name
        assert [(-fv.count, fv.value) for fv in got] == sorted((-fv.count, fv.value) for fv in got)
        assert {fv.value for fv in got if fv.selected} == set(filters.get(name, ()))


@pytest.mark.parametrize(
    "filters",
    [
        {"town": ("Laval",)},
        {"town": ("Laval", "Mayenne"), "availability": ("in_stock",)},
        {"category": ("Décoration",), "services": ("delivery",)},
        # Ticked values are data, never query syntax, whatever they contain.
        {"shop": ("Atelier Cire & Mèche", 'x" OR town:"Laval', "back\\slash\\", "(*)")},
    ],
    ids=lambda f: ",".join(f"{k}={'|'.join(v)}" for k, v in f.items()),
)
def test_disjunctive_facet_counts_with_words_are_exact(loaded, filters):
    matched = everything(loaded, SearchQuery(text="bougie", per_page=100))
    result = loaded.search(SearchQuery(text="bougie", filters=filters, per_page=100))
    expected = [r for r in matched if matches(r, filters)]
    assert result.total == len(expected)
    assert sorted(ids(result)) == sorted(r["id"] for r in expected)
    for name in FACETS:
        others = {k: v for k, v in filters.items() if k != name}
        counts = expected_facet([r for r in matched if matches(r, others)], name)
        for value in filters.get(name, ()):
            counts.setdefault(value, 0)
        assert {fv.value: fv.count for fv in result.facets[name]} == counts, name


def test_facets_can_be_limited(loaded):
    result = loaded.search(SearchQuery(facets=("town",)))
    assert list(result.facets) == ["town"]
    assert loaded.search(SearchQuery(facets=())).facets == {}


def test_facets_follow_the_text(loaded):
    result = loaded.search(SearchQuery(text="bougie", per_page=100))
    towns = {fv.value: fv.count for fv in result.facets["town"]}
    assert towns == expected_facet(result.hits, "town")
    assert sum(towns.values()) == result.total


def test_price_range_is_inclusive_and_skips_unpriced(loaded):
    result = loaded.search(SearchQuery(price_min=Decimal("6.50"), price_max=Decimal("12.50"), per_page=100))
    expected = {r["id"] for r in CATALOGUE if r["price"] and Decimal("6.50") <= Decimal(r["price"]) <= Decimal("12.50")}
    assert set(ids(result)) == expected and result.total == len(expected)
    only_min = loaded.search(SearchQuery(price_min=Decimal("40"), per_page=100))
    assert {h["id"] for h in only_min.hits} == {r["id"] for r in CATALOGUE if r["price"] and Decimal(r["price"]) >= 40}


# ---------------------------------------------------------------------------- geo


def test_near_keeps_exactly_the_circle_and_counts_it(loaded):
    near = Near(lat=LAVAL[0], lon=LAVAL[1], radius_km=10)
    result = loaded.search(SearchQuery(near=near, per_page=100, sort="distance"))
    inside = [r for r in CATALOGUE if r["lat"] is not None and haversine_km(*LAVAL, r["lat"], r["lon"]) <= 10]
    assert sorted(ids(result)) == sorted(r["id"] for r in inside)
    assert result.total == len(inside)
    assert not any(hit["town"] == "Louverné" for hit in result.hits)  # in the box, out of the circle
    # Facets under a geo filter are exact too.
    assert {fv.value: fv.count for fv in result.facets["town"]} == expected_facet(inside, "town")
    assert {fv.value: fv.count for fv in result.facets["category"]} == expected_facet(inside, "category")
    distances = [hit["distance_km"] for hit in result.hits]
    assert distances == sorted(distances)
    for hit in result.hits:
        assert hit["distance_km"] == round(haversine_km(*LAVAL, hit["lat"], hit["lon"]), 1)


def test_near_with_text_filters_and_pages(loaded):
    near = Near(lat=LAVAL[0], lon=LAVAL[1], radius_km=15)
    query = SearchQuery(text="thé", near=near, sort="distance", per_page=2, filters={"availability": ("in_stock",)})
    hits = everything(loaded, query)
    assert hits and all(h["availability"] == "in_stock" for h in hits)
    assert [h["distance_km"] for h in hits] == sorted(h["distance_km"] for h in hits)
    wider = loaded.search(SearchQuery(text="thé", near=Near(LAVAL[0], LAVAL[1], 100), per_page=100))
    assert all("distance_km" in hit for hit in wider.hits)
    assert len(wider.hits) > len(hits)


def test_near_other_sorts_keep_the_circle(loaded):
    near = Near(lat=LAVAL[0], lon=LAVAL[1], radius_km=10)
    result = loaded.search(SearchQuery(near=near, sort="price_asc", per_page=100))
    assert {h["town"] for h in result.hits} <= {"Laval", "Changé"}
    assert all("distance_km" in h for h in result.hits)


# ---------------------------------------------------------------------------- sorts and pages


def _price(hit):
    return Decimal(hit["price"]) if hit["price"] is not None else None


@pytest.mark.parametrize("sort", ["price_asc", "price_desc"])
def test_price_sorts_put_unpriced_last(loaded, sort):
    hits = everything(loaded, SearchQuery(sort=sort, per_page=6))
    prices = [_price(h) for h in hits]
    priced = [p for p in prices if p is not None]
    assert prices[: len(priced)] == priced  # every None after every price
    assert priced == sorted(priced, reverse=sort == "price_desc")
    assert len(prices) - len(priced) == sum(1 for r in CATALOGUE if r["price"] is None)


def test_newest_sort(loaded):
    hits = everything(loaded, SearchQuery(sort="newest", per_page=9))
    seen = [h["first_seen"] for h in hits]
    assert seen == sorted(seen, reverse=True)


def test_pages_partition_the_results_stably(loaded):
    for sort in ("relevance", "price_asc", "newest"):
        for text in ("", "bougie", "thé"):
            all_at_once = ids(loaded.search(SearchQuery(text=text, sort=sort, per_page=100)))
            paged = [h["id"] for h in everything(loaded, SearchQuery(text=text, sort=sort, per_page=3))]
            assert paged == all_at_once, (sort, text)
            assert len(set(paged)) == len(paged)


def test_pagination_totals_and_past_the_end(loaded):
    first = loaded.search(SearchQuery(per_page=10))
    assert first.total == len(CATALOGUE) and len(first.hits) == 10 and first.pages == math.ceil(len(CATALOGUE) / 10)
    last = loaded.search(SearchQuery(per_page=10, page=first.pages))
    assert len(last.hits) == len(CATALOGUE) - 10 * (first.pages - 1)
    beyond = loaded.search(SearchQuery(per_page=10, page=first.pages + 5))
    assert beyond.hits == [] and beyond.total == len(CATALOGUE)


def test_hits_are_the_records_as_loaded(loaded):
    result = loaded.search(SearchQuery(text="théière fonte"))
    first = {k: v for k, v in result.hits[0].items() if k != "name_highlight"}
    assert first == BY_ID["theiere-bleue-p00"]
    assert ("fonte", True) in result.hits[0]["name_highlight"]
    assert result.hits[0]["price"] == "59.90"


def test_distance_sort_without_near_is_relevance(loaded):
    assert ids(loaded.search(SearchQuery(text="bougie", sort="distance"))) == ids(
        loaded.search(SearchQuery(text="bougie"))
    )


# ---------------------------------------------------------------------------- lookups


def test_get_returns_products_and_shops(loaded):
    assert loaded.get("cire-meche-p22") == BY_ID["cire-meche-p22"]
    shop = loaded.get("cire-meche-shop")
    assert shop["type"] == "shop" and shop["name"] == "Atelier Cire & Mèche"
    assert loaded.get("nope") is None


def test_shops_are_listed_by_town_then_name(loaded):
    shops = loaded.shops()
    assert len(shops) == len(SHOPS)
    assert all(shop["type"] == "shop" for shop in shops)
    assert [s["town"] for s in shops] == [
        "Changé",
        "Château-Gontier",
        "Craon",
        "Évron",
        "Laval",
        "Laval",
        "Louverné",
        "Mayenne",
    ]
    assert [s["name"] for s in shops if s["town"] == "Laval"] == ["Épicerie Fine Lavalloise", "La Théière Bleue"]


def test_stats(loaded):
    stats = loaded.stats()
    assert stats["products"] == len(CATALOGUE)
    assert stats["shops"] == len(SHOPS)
    assert stats["sources"] == {s: sum(1 for p in PRODUCTS if p[0] == s) for s in SHOPS}


def test_suggest_completes_product_names(loaded):
    assert "Théière en fonte japonaise" in loaded.suggest("theie")
    assert "Théière en fonte japonaise" in loaded.suggest("Théière en f")
    suggestions = loaded.suggest("boug")
    assert suggestions and all("bougie" in s.lower() for s in suggestions)
    assert len(suggestions) == len(set(suggestions))
    assert suggestions[0].lower().startswith("boug")  # names starting with it come first
    assert len(loaded.suggest("b", limit=3)) <= 3
    assert loaded.suggest("") == [] and loaded.suggest("zzzz") == []


# ---------------------------------------------------------------------------- writing


def test_a_loaded_batch_replaces_and_keeps_first_seen(fresh):
    """The loader writes a batch (write_batch): upsert replaces by id, and the first_seen
    the backend reports for the ids already there is kept."""
    fresh.upsert([product_record(0)])
    newer = product_record(
        0,
        run_id="20261102T080000Z-bbbb",
        name="Théière en fonte noire",
        price=Decimal("49"),
        first_seen="2026-11-02T08:00:00Z",
    )
    assert fresh.first_seen(["theiere-bleue-p00", "unknown"]) == {"theiere-bleue-p00": "2026-10-03T09:00:00Z"}
    assert write_batch(fresh, [newer]) == 1
    got = fresh.get("theiere-bleue-p00")
    assert got["name"] == "Théière en fonte noire" and got["price"] == "49.00"
    assert got["first_seen"] == "2026-10-03T09:00:00Z"
    assert got["run_id"] == "20261102T080000Z-bbbb"
    assert fresh.stats()["products"] == 1
    assert fresh.search(SearchQuery(text="japonaise")).total == 0
    assert fresh.search(SearchQuery(text="noire")).total == 1


def test_upsert_of_a_batch_with_duplicate_ids_keeps_one(fresh):
    fresh.upsert([product_record(1), product_record(1, name="Théière en verre 1,5 L")])
    assert fresh.stats()["products"] == 1
    assert fresh.get("theiere-bleue-p01")["name"] == "Théière en verre 1,5 L"


def test_delete_source_keeps_the_given_run(fresh):
    old, new = "20261101T080000Z-aaaa", "20261102T080000Z-bbbb"
    cire = [i for i, p in enumerate(PRODUCTS) if p[0] == "cire-meche"]
    fresh.upsert([shop_record("cire-meche", old)] + [product_record(i, run_id=old) for i in cire])
    fresh.upsert([product_record(i, run_id=old) for i, p in enumerate(PRODUCTS) if p[0] == "jouets-antan"])
    # The new run saw the shop and all products but the last one.
    fresh.upsert([shop_record("cire-meche", new)] + [product_record(i, run_id=new) for i in cire[:-1]])
    assert fresh.delete_source("cire-meche", keep_run=new) == 1
    assert fresh.get(f"cire-meche-p{cire[-1]:02d}") is None
    assert fresh.stats()["sources"]["cire-meche"] == len(cire) - 1
    assert fresh.get("cire-meche-shop") is not None
    assert fresh.stats()["sources"]["jouets-antan"] == 5  # other sources untouched
    assert fresh.delete_source("cire-meche") == len(cire)  # products and shop
    assert "cire-meche" not in fresh.stats()["sources"]
    assert fresh.delete_source("unknown-source") == 0


def test_bulk_load_keeps_the_rules_of_single_loads(fresh):
    """Within bulk() (a rebuild) nothing need be visible before the end, but a later run
    still replaces an earlier one's records, keeps their first_seen, and its sweep sees
    records written moments before."""
    old, new = "20261101T080000Z-aaaa", "20261102T080000Z-bbbb"
    cire = [i for i, p in enumerate(PRODUCTS) if p[0] == "cire-meche"]
    with fresh.bulk():
        fresh.upsert([shop_record("cire-meche", old)] + [product_record(i, run_id=old) for i in cire])
        assert fresh.delete_source("cire-meche", keep_run=old) == 0
        write_batch(fresh, [product_record(i, run_id=new, first_seen="2026-11-02T08:00:00Z") for i in cire[:-1]])
        fresh.upsert([shop_record("cire-meche", new)])
        assert fresh.delete_source("cire-meche", keep_run=new) == 1  # the product the new run lacks
    stats = fresh.stats()
    assert stats["sources"] == {"cire-meche": len(cire) - 1} and stats["shops"] == 1  # each once
    assert fresh.get(f"cire-meche-p{cire[-1]:02d}") is None
    kept = fresh.get(f"cire-meche-p{cire[0]:02d}")
    assert kept["run_id"] == new and kept["first_seen"] == product_record(cire[0])["first_seen"]


def test_missing_values_are_no_facet_value(fresh):
    """A product without town, categories or services counts in no such value, and
    filtering on a real value never finds it."""
    bare = product_record(0, id="sans-ville", town=None, postcode=None, categories=[], services=[])
    fresh.upsert([shop_record("theiere-bleue"), bare, product_record(1)])
    result = fresh.search(SearchQuery())
    assert result.total == 2
    for name in ("town", "category", "services"):
        assert all(value.value for value in result.facets[name]), name
    assert [(v.value, v.count) for v in result.facets["town"]] == [(SHOPS["theiere-bleue"]["town"], 1)]
    assert fresh.search(SearchQuery(filters={"town": (SHOPS["theiere-bleue"]["town"],)})).total == 1


def test_a_word_one_typo_away_ranks_before_one_two_typos_away(fresh):
    """A word no product has ("saucison") finds the one it is one edit from ("saucisson") first."""
    from indexer.backends.common import record_key

    saisons = sorted((f"saison-{n}" for n in range(20)), key=record_key)[:2]
    saucissons = sorted((f"saucisson-{n}" for n in range(20)), key=record_key)[-2:]
    assert max(map(record_key, saisons)) < min(map(record_key, saucissons)), "the tie-break alone puts saison first"
    plain = dict(description=None, brand=None, category=None, availability="in_stock")
    fresh.upsert(
        [
            shop_record("theiere-bleue"),
            product_record(0, id=saisons[0], name="Chocolats de saison", **plain),
            product_record(0, id=saisons[1], name="Bière de saison", **plain),
            product_record(0, id=saucissons[0], name="Saucisson sec", **plain),
            product_record(0, id=saucissons[1], name="Saucisson à l'ail", **plain),
        ]
    )
    assert ids(fresh.search(SearchQuery(text="saucison"))) == [*saucissons, *saisons]


def test_empty_index(fresh):
    result = fresh.search(SearchQuery(text="bougie", near=Near(*LAVAL, 10), sort="distance"))
    assert result.total == 0 and result.hits == []
    assert fresh.stats() == {"products": 0, "shops": 0, "sources": {}}
    assert fresh.suggest("bou") == [] and fresh.shops() == []


def test_readonly_instance_sees_the_writers_commits(factory, tmp_path):
    path = tmp_path / "shared-index"
    writer = factory(path)
    reader = factory(path, readonly=True)
    try:
        assert reader.search(SearchQuery()).total == 0
        writer.upsert(CATALOGUE[:5])
        assert reader.search(SearchQuery()).total == 5
        writer.delete_source("theiere-bleue")
        assert reader.search(SearchQuery()).total == 0
        with pytest.raises(PermissionError, match="lecture seule"):
            reader.upsert(CATALOGUE[:1])
    finally:
        reader.close()
        writer.close()


def test_near_is_exact_on_scattered_points(fresh):
    """Points scattered around the circle's edge: counts, membership and order all exact."""
    import random

    rng = random.Random(7)
    records = []
    for n in range(400):
        lat, lon = LAVAL[0] + rng.uniform(-0.35, 0.35), LAVAL[1] + rng.uniform(-0.5, 0.5)
        records.append(product_record(n % len(PRODUCTS), id=f"geo-{n:03d}", lat=lat, lon=lon))
    fresh.upsert(records)
    for radius in (0.5, 3, 10, 24.9):
        near = Near(LAVAL[0], LAVAL[1], radius)
        expected = sorted(
            (haversine_km(*LAVAL, r["lat"], r["lon"]), r["id"])
            for r in records
            if haversine_km(*LAVAL, r["lat"], r["lon"]) <= radius
        )
        result = fresh.search(SearchQuery(near=near, sort="distance", per_page=1000))
        assert result.total == len(expected), radius
        assert sorted(ids(result)) == sorted(i for _, i in expected)
        distances = [h["distance_km"] for h in result.hits]
        assert distances == sorted(distances)
        assert sum(fv.count for fv in result.facets["availability"]) == len(expected)
        if expected:
            paged = [h["id"] for h in everything(fresh, SearchQuery(near=near, sort="distance", per_page=7))]
            assert paged == ids(result)
