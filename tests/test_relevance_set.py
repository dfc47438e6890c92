"""The graded relevance set of issue 17 (bench/relevance/) is well formed, and the bench that
runs it (bench/relevance.py) measures what it says.

No score is asserted here: the figures belong to the search work (docs/benchmarks.md).
"""

from __future__ import annotations

import importlib.util
import math
import re
import sys
from pathlib import Path

import pytest
from backend_catalogue import BACKENDS, CATALOGUE, SHOP_RECORDS

from indexer.backends.common import haversine_km
from indexer.records import parse_record

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # bench/ is no installed package

from bench.relevance import catalogue as regional  # noqa: E402
from bench.relevance.judgments import (  # noqa: E402
    KINDS,
    Catalogue,
    JudgmentError,
    Query,
    fold,
    load_queries,
)
from bench.relevance.metrics import ndcg, reciprocal_rank  # noqa: E402

CENTRE_VAL_DE_LOIRE = ("18", "28", "36", "37", "41", "45")  # its departments' postcodes


@pytest.fixture(scope="module")
def built() -> regional.Catalogue:
    return regional.build()


@pytest.fixture(scope="module")
def queries(built) -> list[Query]:
    return load_queries(built.products)


def bench_script():
    """bench/relevance.py itself (its name is taken by the bench/relevance/ package)."""
    spec = importlib.util.spec_from_file_location("relevance_bench", ROOT / "bench" / "relevance.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["relevance_bench"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------------------- the catalogue


def test_catalogue_holds_sixty_shops_three_thousand_products_and_twenty_trades(built):
    assert len(built.shops) >= 60
    assert len(built.products) >= 3000
    assert len({shop.trade for shop in regional.SHOPS}) >= 20
    assert len({shop["town"] for shop in built.shops}) >= 15


def test_every_record_passes_the_loaders_validation(built):
    for record in built.shops + built.products:
        parsed = parse_record(record)
        assert parsed.model_dump(mode="json")["id"] == record["id"]
    ids = [record["id"] for record in built.shops + built.products]
    assert len(ids) == len(set(ids))


def test_every_product_belongs_to_a_shop_of_the_catalogue_with_its_facts(built):
    shops = {shop["id"]: shop for shop in built.shops}
    for product in built.products:
        shop = shops[product["shop_id"]]
        assert product["source_id"] == shop["source_id"]
        assert (product["shop_name"], product["town"], product["postcode"]) == (
            shop["name"],
            shop["town"],
            shop["postcode"],
        )
        assert product["categories"] == shop["categories"]


def test_shops_sit_in_their_towns_of_centre_val_de_loire(built):
    for shop in built.shops:
        town = regional.TOWNS[shop["town"]]
        assert shop["postcode"] == town.postcode and shop["postcode"][:2] in CENTRE_VAL_DE_LOIRE
        assert haversine_km(town.lat, town.lon, shop["lat"], shop["lon"]) < 1.5, shop["name"]


def test_the_same_seed_builds_the_same_catalogue():
    assert regional.build() == regional.build()


def test_products_are_named_like_shop_products_not_numbered(built):
    names = {product["name"] for product in built.products}
    assert len(names) >= 600  # a few formats of each product, several shops of each trade
    assert not [name for name in names if re.search(r"\b(produit|article|item)\s*\d", name, re.IGNORECASE)]
    assert all(product["description"] and product["category"] and product["price"] for product in built.products)
    assert len({product["brand"] for product in built.products if product["brand"]}) >= 60


def test_the_traps_of_issue_17_are_in_the_catalogue(built):
    def named(text):
        return [p for p in built.products if text in fold(p["name"])]

    assert named("poele a bois") and named("poele a frire")
    assert [p for p in built.products if (p["brand"] or "").startswith("Domaine des Bois")]
    assert named("sous-bois")
    glazed = [p for p in built.products if "email miel" in fold(p["description"] or "")]
    assert glazed and all("miel" not in fold(p["name"]) for p in glazed)
    assert not [p for p in built.products if "savon" in fold(p["name"] + " " + (p["description"] or ""))]
    assert named("biere de saison") and named("bouquet de saison")
    assert [p for p in named("machine expresso") if p["town"] == "Tours" and float(p["price"]) > 5000]
    assert named("pates") and named("pate de")
    assert "La Chandellerie d'Amboise" in {s["name"] for s in built.shops if s["id"] == "chandellerie-d-amboise"}
    # the same product in several towns
    assert len({p["town"] for p in named("miel d'acacia")}) >= 3


# ---------------------------------------------------------------------------- the queries


def test_the_set_holds_a_hundred_and_fifty_queries_of_every_kind(queries):
    assert len(queries) >= 150
    kinds = {kind for query in queries for kind in query.kinds}
    assert kinds == set(KINDS)
    assert sum(query.expect_none for query in queries) >= 5


def test_every_query_with_answers_has_a_product_graded_two_or_more(queries):
    lacking = [q.text for q in queries if not q.expect_none and max(q.grades.values(), default=0) < 2]
    assert not lacking


def test_queries_with_no_answer_name_nothing_the_catalogue_holds(built, queries):
    stop = {"de", "du", "des", "le", "la", "les", "en", "au", "aux", "a", "et", "pour", "l", "d"}
    texts = " ".join(
        " ".join(re.findall(r"\w+", fold(p["name"] + " " + (p["description"] or "")))) for p in built.products
    )
    for query in (q for q in queries if q.expect_none):
        assert not query.grades and not query.rules
        for word in set(re.findall(r"\w+", fold(query.text))) - stop:
            assert f" {word} " not in f" {texts} ", (query.text, word)


def test_a_product_takes_the_highest_grade_whose_rule_it_meets():
    products = [
        dict(CATALOGUE[8], id="honey-laval"),  # Miel de châtaignier, Laval
        dict(CATALOGUE[20], id="honey-louverne"),  # Miel de fleurs, Louverné
        dict(CATALOGUE[21], id="candle"),  # Bougie à la cire d'abeille
        dict(CATALOGUE[0], id="teapot"),
    ]
    rules = {
        3: [{"category": ["Miels"], "near": ["Tours", 400]}],  # Laval is 200 km from Tours
        2: [{"category": ["Miels"]}],
        1: [{"text": ["cire d'abeille", "ruches"]}],
    }
    assert Catalogue(products).grades(rules) == {"honey-laval": 3, "honey-louverne": 3, "candle": 1}
    rules[3] = [{"category": ["Miels"], "near": ["Tours", 15]}]
    assert Catalogue(products).grades(rules) == {"honey-laval": 2, "honey-louverne": 2, "candle": 1}
    assert Catalogue(products).grades({3: [{"name": ["miel", "bougie"], "brand": ["Absent"]}]}) == {}


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("- q: miel\n  kinds: [single]\n  grades:\n    3: {category: [Savons]}\n", "queries.yaml:1 grade 3: category"),
        ("- q: miel\n  kinds: [single]\n  grades:\n    3: {colour: [blue]}\n", "unknown predicate 'colour'"),
        ("- q: miel\n  kinds: [single]\n  grades:\n    3: {shop: [nowhere]}\n", "shop: 'nowhere'"),
        ("- q: miel\n  kinds: [single]\n  grades:\n    3: {near: [Paris, 10]}\n", "unknown town 'Paris'"),
        ("- q: miel\n  kinds: [single]\n  grades:\n    3: {name: [savon]}\n", "name: 'savon' is in no product"),
        ("- q: miel\n  kinds: [spelling]\n  grades:\n    3: {name: [miel]}\n", "queries.yaml:1: kinds"),
        ("- q: miel\n  kinds: [single]\n", "must say expect_none"),
        ("- q: miel\n  kinds: [single]\n  grades:\n    5: {name: [miel]}\n", "5 is not a grade"),
        ("- q: miel\n  kinds: [single]\n  expect_none: true\n- q: miel\n  kinds: [single]\n", "queries.yaml:4: q"),
    ],
)
def test_a_rule_the_catalogue_cannot_meet_is_refused_naming_file_and_line(built, tmp_path, entry, message):
    path = tmp_path / "queries.yaml"
    path.write_text(entry, encoding="utf-8")
    with pytest.raises(JudgmentError, match=re.escape(message)):
        load_queries(built.products, path)


# ---------------------------------------------------------------------------- the metrics


def test_ndcg_and_reciprocal_rank_on_a_hand_computed_ranking():
    judgments = {"a": 3, "b": 2, "c": 0, "d": 1}
    # ranked c, a, d: gains 0, 7, 1 at ranks 1-3; the ideal is a, b, d: gains 7, 3, 1
    got = (7 / math.log2(3) + 1 / 2) / (7 + 3 / math.log2(3) + 1 / 2)
    assert ndcg(["c", "a", "d"], judgments) == pytest.approx(got)
    assert ndcg(["c", "a", "d"], judgments) == pytest.approx(0.5234, abs=1e-4)
    assert ndcg(["a", "b", "d"], judgments) == pytest.approx(1.0)
    assert ndcg(["a", "b", "d", "x"], judgments, k=1) == pytest.approx(1.0)
    assert ndcg([], judgments) == 0.0
    assert ndcg(["a"], {}) == 0.0  # nothing relevant: no ideal to reach
    assert reciprocal_rank(["c", "d", "b", "a"], judgments) == pytest.approx(1 / 3)  # d is graded 1 only
    assert reciprocal_rank(["c", "d"], judgments) == 0.0


@pytest.mark.parametrize("factory", BACKENDS)
def test_the_bench_asks_the_portal_and_counts_what_it_answers(factory, tmp_path):
    bench = bench_script()
    tiny = regional.Catalogue(shops=list(SHOP_RECORDS), products=list(CATALOGUE))
    judge = Catalogue(tiny.products)

    def query(text, rules=None, expect_none=False):
        q = Query(text, ("single",), rules or {}, expect_none)
        q.grades = judge.grades(q.rules)
        return q

    asked = [
        query("fonte", {3: [{"name": ["fonte"]}]}),  # one teapot: found first, a perfect ranking
        query("parapluie", expect_none=True),
        query("xylophone", {3: [{"name": ["Toupie en bois"]}]}),  # has an answer the words cannot find
        query("théière près de Laval", {3: [{"name": ["théière"], "near": ["Tours", 400]}]}),
    ]
    backend = factory(tmp_path / "index")
    try:
        bench.write_runs(tiny, tmp_path / "runs")
        bench.load(backend, tmp_path / "runs")
        answers = bench.ask_all(backend, tmp_path / "portal", asked)
    finally:
        backend.close()
    fonte, parapluie, xylophone, near = answers
    assert fonte.ids == [CATALOGUE[0]["id"]] and fonte.ndcg == pytest.approx(1.0) and fonte.rr == 1.0
    assert parapluie.total == 0
    assert xylophone.total == 0 and xylophone.ndcg == 0.0
    # "près de Laval" resolved by the portal: Laval's and Changé's teapots, not the words "Laval"
    assert near.ids and all(products_town in ("Laval", "Changé") for products_town in (h["town"] for h in near.hits))
    figures = bench.summary(answers)
    assert figures["zero_results"] == ["xylophone"]
    assert figures["no_answer_answered"] == []
    assert figures["mrr"] == pytest.approx((1.0 + 0.0 + near.rr) / 3)
