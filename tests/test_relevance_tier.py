"""The relevance shortcut of the embedded backend (the page read from the top-scoring tier
in key order, first in a few key buckets) gives exactly the page that scoring every
match and sorting by (score, key) gives, on a seeded catalogue of a few thousand products
with big groups of equal scores, synonyms, typos, filters, places and deep pages."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from indexer.backends.base import Near, SearchQuery
from indexer.backends.common import record_key
from indexer.backends.tantivy import TantivyBackend, paging
from indexer.backends.tantivy.cells import KEY_BUCKETS, key_bucket
from indexer.backends.tantivy.schema import KEY_BUCKET
from indexer.records import ProductRecord

TOWNS = [("Tours", 47.394, 0.684), ("Blois", 47.586, 1.335), ("Amboise", 47.411, 0.983), ("Chinon", 47.167, 0.242)]
KINDS = {
    "bougie": ["parfumée", "à la vanille", "de Noël"],
    "théière": ["en fonte", "en verre"],
    "vélo": ["enfant", "de ville"],
    "tee-shirt": ["en coton bio", "rayé"],
    "miel": ["de lavande", "de fleurs"],
    "huile": ["d'olive", "de noix"],
    "puzzle": ["en bois", "1000 pièces"],
    "jouet": ["en bois", "musical"],
}
WORDS = [
    "cadeau",
    "artisanal",
    "local",
    "fait",
    "main",
    "bois",
    "coton",
    "lavande",
    "noël",
    "vanille",
    "recette",
    "maison",
]
AVAILABILITY = ["in_stock"] * 6 + ["out_of_stock"] * 2 + ["preorder", "unknown"]


def catalogue(n: int = 4_000, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    shops = [
        dict(
            id=f"shop{i}",
            name=f"Boutique {i}",
            town=TOWNS[i % 4],
            services=rng.sample(["click_and_collect", "delivery", "gift_vouchers"], rng.randint(0, 2)),
        )
        for i in range(40)
    ]
    records = []
    for i in range(n):
        shop = shops[int(len(shops) * rng.random() ** 1.5)]
        kind = rng.choice(list(KINDS))
        town, lat, lon = shop["town"]
        name = f"{kind.capitalize()} {rng.choice(KINDS[kind])}" if rng.random() < 0.9 else f"Coffret {kind}"
        price = Decimal(f"{rng.uniform(2, 90):.2f}")
        records.append(
            ProductRecord(
                id=f"{shop['id']}-{i:05d}",
                source_id=shop["id"],
                run_id="20261120T080000Z-tier",
                shop_id=shop["id"],
                shop_name=shop["name"],
                shop_url=f"https://{shop['id']}.example.fr/",
                town=town,
                lat=lat,
                lon=lon,
                categories=["Cadeaux"],
                services=shop["services"],
                name=name,
                description=" ".join(rng.choices(WORDS, k=6)) + f". {kind}.",
                brand=rng.choice([None, None, None, "Atelier Loire", "Maison Bois"]),
                category=rng.choice(["Décoration", "Jouets", "Épicerie"]),
                price=price,
                currency="EUR",
                availability=rng.choice(AVAILABILITY),
                url=f"https://{shop['id']}.example.fr/p/{i}",
                first_seen="2026-10-01T09:00:00Z",
                last_seen="2026-11-01T08:00:00Z",
            ).model_dump(mode="json")
        )
    return records


QUERIES = [
    SearchQuery(text="bougie", per_page=20),  # over a thousand equal top scores
    SearchQuery(text="bougies", page=3, per_page=20),
    SearchQuery(text="cadeau", per_page=20),  # descriptions only
    SearchQuery(text="bois", per_page=10, page=2),  # names, brands and descriptions
    SearchQuery(text="jouet en bois", per_page=20),  # stop word, phrase bonus
    SearchQuery(text="jouets bois", per_page=20),
    SearchQuery(text="bicyclette", per_page=20),  # synonym of vélo
    SearchQuery(text="t-shirt", per_page=20),
    SearchQuery(text="bougei", per_page=20),  # typo: the fuzzy mode
    SearchQuery(text="miel xyzzy", per_page=20),  # no product has both: the "any" mode
    SearchQuery(text="l'huile", per_page=20),
    SearchQuery(text="coffret", per_page=20),  # a word few names start with
    SearchQuery(text="bougie", filters={"availability": ("out_of_stock",)}, per_page=20),
    SearchQuery(text="bougie", filters={"availability": ("preorder", "out_of_stock")}, per_page=20),
    SearchQuery(text="bougie", filters={"town": ("Blois",), "services": ("delivery",)}, per_page=20),
    SearchQuery(text="théière", price_min=Decimal("10"), price_max=Decimal("40"), per_page=20),
    SearchQuery(text="vélo", near=Near(47.394, 0.684, 5), per_page=20),
    SearchQuery(text="puzzle", per_page=50, page=4),
    SearchQuery(text="bougie", per_page=20, facets=()),  # no facets: counted apart
]


def pages(backend: TantivyBackend) -> list[tuple]:
    found = []
    for query in QUERIES:
        result = backend.search(query)
        found.append((result.total, [hit["id"] for hit in result.hits]))
    return found


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    backend = TantivyBackend(tmp_path_factory.mktemp("tier") / "index", cache_size=0)
    backend.upsert(catalogue())
    return backend


def test_the_tier_page_is_the_page_of_every_match_scored(index, monkeypatch):
    # A small index: key buckets even for a few hundred matches.
    monkeypatch.setattr(paging, "TIER_BUCKETS_ABOVE", 50)
    monkeypatch.setattr(paging, "TIER_BUCKETS_MAX", KEY_BUCKETS)
    taken, bucketed = [], []
    tier_page, terms = index._tier_page, index._terms

    def spy_terms(field, values):
        if field == KEY_BUCKET:
            bucketed.append(field)
        return terms(field, values)

    monkeypatch.setattr(index, "_terms", spy_terms)

    def spy(*args, **kwargs):
        page = tier_page(*args, **kwargs)
        taken.append(page is not None)
        return page

    monkeypatch.setattr(index, "_tier_page", spy)
    fast = pages(index)
    monkeypatch.setattr(index, "_top_tier", lambda *args, **kwargs: None)  # score every match
    monkeypatch.setattr(paging, "TIE_WINDOW", 1_000_000)  # and see every tie
    reference = pages(index)
    for query, got, expected in zip(QUERIES, fast, reference, strict=False):
        assert got == expected, query
    assert sum(taken) >= len(QUERIES) // 2, "the shortcut was hardly taken: this test checks nothing"
    assert len(bucketed) >= len(QUERIES) // 2, "the key buckets were hardly read"
    assert any(total > 1_000 and ids for total, ids in fast)


def test_equal_scores_are_ordered_by_key_however_many(index):
    result = index.search(SearchQuery(text="bougie", per_page=20))
    keys = [record_key(hit["id"]) for hit in result.hits]
    top = [hit for hit in result.hits if hit["availability"] == "in_stock" and hit["name"].startswith("Bougie")]
    assert len(top) == 20 and keys == sorted(keys)


def test_key_buckets_follow_key_order():
    keys = [*sorted(record_key(f"p-{i}") for i in range(2000)), -(1 << 63), (1 << 63) - 1]
    buckets = [key_bucket(key) for key in sorted(keys)]
    assert buckets == sorted(buckets)
    assert buckets[0] == 0 and buckets[-1] == KEY_BUCKETS - 1
