"""The contract every search backend honours, run against real indexes (no mocks).

Each backend joins through ``BACKENDS``: tantivy always runs; Elasticsearch runs only when
``ELASTICSEARCH_URL`` points at a server (``pytest -m elasticsearch``). Expected results
are computed in Python from the catalogue below, so the assertions read as the rule.
"""

from __future__ import annotations

import math
import os
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from indexer.backends.base import FACETS, Near, SearchBackend, SearchQuery
from indexer.load import write_batch
from indexer.records import ProductRecord, ShopRecord

# ---------------------------------------------------------------------------- backends


def _tantivy(path: Path, readonly: bool = False) -> SearchBackend:
    from indexer.backends.tantivy import TantivyBackend

    return TantivyBackend(path, readonly=readonly)


def _elasticsearch(path: Path, readonly: bool = False) -> SearchBackend:
    from indexer.backends.elasticsearch_backend import ElasticsearchBackend

    # One alias per test directory (its versioned indices behind it), so tests do not see
    # each other's records; no replicas, so a one-node test cluster stays green.
    prefix = "emplettes-test-" + "".join(c if c.isalnum() else "-" for c in f"{path.parent.name}-{path.name}".lower())
    return ElasticsearchBackend(
        os.environ["ELASTICSEARCH_URL"],
        prefix=prefix[:200],
        api_key=os.environ.get("ELASTICSEARCH_API_KEY") or None,
        username=os.environ.get("ELASTICSEARCH_USERNAME") or None,
        password=os.environ.get("ELASTICSEARCH_PASSWORD") or None,
        ca_certs=os.environ.get("ELASTICSEARCH_CA_CERTS") or None,
        readonly=readonly,
        replicas=0,
    )


BACKENDS = [
    pytest.param(_tantivy, id="tantivy"),
    pytest.param(
        _elasticsearch,
        id="elasticsearch",
        marks=[
            pytest.mark.elasticsearch,
            pytest.mark.skipif(not os.environ.get("ELASTICSEARCH_URL"), reason="ELASTICSEARCH_URL is not set"),
        ],
    ),
]

Factory = Callable[..., SearchBackend]

# ---------------------------------------------------------------------------- catalogue

LAVAL = (48.0707, -0.7734)

# source id -> shop facts (the shop record and what its products inherit)
SHOPS: dict[str, dict[str, Any]] = {
    "theiere-bleue": dict(
        name="La Théière Bleue",
        town="Laval",
        postcode="53000",
        lat=48.0712,
        lon=-0.7700,
        categories=["Thé & café"],
        services=["click_and_collect", "gift_vouchers"],
    ),
    "epicerie-lavalloise": dict(
        name="Épicerie Fine Lavalloise",
        town="Laval",
        postcode="53000",
        lat=48.0690,
        lon=-0.7760,
        categories=["Épicerie fine"],
        services=["delivery"],
    ),
    "comptoir-changé": dict(
        name="Le Comptoir de Changé",
        town="Changé",
        postcode="53810",
        lat=48.0989,
        lon=-0.7906,
        categories=["Épicerie fine", "Thé & café"],
        services=[],
    ),
    # Inside the 10 km bounding box around Laval but 10.9 km away: the circle must drop it.
    "ferme-louverne": dict(
        name="Ferme de Louverné",
        town="Louverné",
        postcode="53950",
        lat=48.1407,
        lon=-0.6700,
        categories=["Épicerie fine"],
        services=["click_and_collect"],
    ),
    "cire-meche": dict(
        name="Atelier Cire & Mèche",
        town="Mayenne",
        postcode="53100",
        lat=48.3031,
        lon=-0.6136,
        categories=["Décoration"],
        services=["click_and_collect", "delivery"],
    ),
    "librairie-chateau": dict(
        name="Librairie du Château",
        town="Château-Gontier",
        postcode="53200",
        lat=47.8286,
        lon=-0.7028,
        categories=["Librairie"],
        services=["gift_vouchers"],
    ),
    "jouets-antan": dict(
        name="Jouets d'Antan",
        town="Évron",
        postcode="53600",
        lat=48.1561,
        lon=-0.4019,
        categories=["Jouets"],
        services=["delivery"],
    ),
    # A shop that publishes no coordinates: never in a "near" search.
    "bazar-craon": dict(
        name="Bazar de Craon",
        town="Craon",
        postcode="53400",
        lat=None,
        lon=None,
        categories=["Décoration"],
        services=[],
    ),
}

# (source, name, description, brand, category, price, availability, first_seen day)
PRODUCTS: list[tuple] = [
    (
        "theiere-bleue",
        "Théière en fonte japonaise",
        "Théière traditionnelle, 0,8 L, émaillée à l'intérieur.",
        "Tetsubin",
        "Théières",
        "59.90",
        "in_stock",
        3,
    ),
    (
        "theiere-bleue",
        "Théière en verre avec infuseur",
        "Verre borosilicaté, 1 L.",
        None,
        "Théières",
        "29.00",
        "in_stock",
        4,
    ),
    (
        "theiere-bleue",
        "Thé vert Sencha bio",
        "Thé vert du Japon, sachet de 100 g.",
        "Jardins de Gaïa",
        "Thés",
        "12.50",
        "in_stock",
        5,
    ),
    ("theiere-bleue", "Thé noir Earl Grey", "Bergamote de Calabre, 100 g.", None, "Thés", "9.90", "out_of_stock", 6),
    (
        "theiere-bleue",
        "Plateau de service en bois",
        "Idéal pour servir le thé avec votre théière préférée.",
        None,
        "Service",
        "24.00",
        "in_stock",
        7,
    ),
    (
        "theiere-bleue",
        "Tasse en porcelaine",
        "Porcelaine de Limoges, 20 cl.",
        "Bernardaud",
        "Tasses",
        "18.00",
        "preorder",
        8,
    ),
    ("theiere-bleue", "Coffret cadeau découverte", "Trois thés et une tasse.", None, "Coffrets", None, "unknown", 9),
    (
        "epicerie-lavalloise",
        "Huile d'olive vierge extra",
        "Huile d'olive de Provence, 50 cl.",
        "Moulin Castelas",
        "Huiles",
        "18.00",
        "in_stock",
        1,
    ),
    ("epicerie-lavalloise", "Miel de châtaignier", "Miel de la Mayenne, 500 g.", None, "Miels", "11.00", "in_stock", 2),
    (
        "epicerie-lavalloise",
        "Confiture de fraises",
        "Fraises de Plougastel, 350 g.",
        "Maison Francis Miot",
        "Confitures",
        "6.50",
        "in_stock",
        3,
    ),
    (
        "epicerie-lavalloise",
        "Café moulu pur arabica",
        "Torréfié à Laval, 250 g.",
        None,
        "Cafés",
        "8.40",
        "out_of_stock",
        4,
    ),
    (
        "epicerie-lavalloise",
        "Bougie parfumée à la figue",
        "Cire de soja, 40 heures.",
        None,
        "Bougies",
        "22.00",
        "in_stock",
        5,
    ),
    ("epicerie-lavalloise", "Sel de Guérande", "Fleur de sel, 125 g.", None, "Épices", "6.50", "in_stock", 6),
    (
        "epicerie-lavalloise",
        "Panier garni du terroir",
        "Rillettes, cidre et fromages de la Mayenne.",
        None,
        "Paniers",
        None,
        "preorder",
        7,
    ),
    ("comptoir-changé", "Thé blanc Pai Mu Tan", "Thé blanc de Chine, 50 g.", None, "Thés", "14.00", "in_stock", 2),
    (
        "comptoir-changé",
        "Théière en terre cuite",
        "Théière artisanale tournée à la main.",
        None,
        "Théières",
        "42.00",
        "in_stock",
        5,
    ),
    (
        "comptoir-changé",
        "Confiture d'abricots",
        "Abricots du Roussillon, 350 g.",
        None,
        "Confitures",
        "6.50",
        "out_of_stock",
        8,
    ),
    ("comptoir-changé", "Café en grains d'Éthiopie", "Moka Sidamo, 1 kg.", None, "Cafés", "24.00", "in_stock", 9),
    ("ferme-louverne", "Cidre fermier brut", "Cidre de la ferme, 75 cl.", None, "Cidres", "4.80", "in_stock", 1),
    ("ferme-louverne", "Rillettes de canard", "Bocal de 180 g.", None, "Charcuterie", "7.20", "in_stock", 2),
    ("ferme-louverne", "Miel de fleurs", "Miel crémeux, 500 g.", None, "Miels", "9.50", "in_stock", 3),
    ("ferme-louverne", "Bougie à la cire d'abeille", "Cire de nos ruches.", None, "Bougies", None, "in_stock", 4),
    (
        "cire-meche",
        "Bougie parfumée vanille",
        "Bougie coulée à la main, cire végétale.",
        None,
        "Bougies",
        "19.00",
        "in_stock",
        2,
    ),
    ("cire-meche", "Lot de 3 bougies chauffe-plat", "Bougies sans parfum.", None, "Bougies", "5.00", "in_stock", 3),
    ("cire-meche", "Bougies de Noël", "Coffret de bougies rouges.", None, "Bougies", "15.00", "preorder", 10),
    ("cire-meche", "Photophore en verre", "Pour vos bougies chauffe-plat.", None, "Décoration", "12.00", "in_stock", 4),
    ("cire-meche", "Diffuseur de parfum", "Parfum d'ambiance, 100 ml.", None, "Parfums", "27.00", "out_of_stock", 5),
    ("cire-meche", "Savon au lait d'ânesse", "Savon saponifié à froid.", None, "Savons", "7.50", "in_stock", 6),
    (
        "librairie-chateau",
        "Le Petit Prince",
        "Antoine de Saint-Exupéry, édition Folio.",
        "Gallimard",
        "Romans",
        "8.20",
        "in_stock",
        1,
    ),
    (
        "librairie-chateau",
        "Guide des randonnées en Mayenne",
        "Quarante balades commentées.",
        None,
        "Guides",
        "19.90",
        "in_stock",
        2,
    ),
    ("librairie-chateau", "Carnet de notes", "Papier recyclé, 96 pages.", None, "Papeterie", "5.00", "in_stock", 3),
    (
        "librairie-chateau",
        "L'art du thé",
        "Histoire de la théière et des thés du monde.",
        None,
        "Beaux livres",
        "35.00",
        "in_stock",
        4,
    ),
    (
        "librairie-chateau",
        "Bande dessinée Astérix",
        "Astérix chez les Bretons.",
        "Albert René",
        "BD",
        "10.95",
        "out_of_stock",
        5,
    ),
    ("jouets-antan", "Poupée en tissu", "Poupée de chiffon cousue main.", None, "Poupées", "34.00", "in_stock", 1),
    (
        "jouets-antan",
        "Jeu de société Carcassonne",
        "Jeu de plateau, 2 à 5 joueurs.",
        "Z-Man",
        "Jeux",
        "29.90",
        "in_stock",
        2,
    ),
    ("jouets-antan", "Toupie en bois", "Bois de hêtre massif.", None, "Jouets en bois", "6.50", "in_stock", 3),
    ("jouets-antan", "Cheval à bascule", "Cheval en bois peint.", None, "Jouets en bois", None, "preorder", 4),
    (
        "jouets-antan",
        "Puzzle 1000 pièces Mont-Saint-Michel",
        "Puzzle en carton recyclé.",
        "Ravensburger",
        "Puzzles",
        "15.00",
        "in_stock",
        5,
    ),
    ("bazar-craon", "Lampe en rotin", "Abat-jour tressé.", None, "Luminaires", "45.00", "in_stock", 6),
    ("bazar-craon", "Bougie pilier blanche", "Bougie de 20 cm.", None, "Bougies", "8.00", "in_stock", 7),
]

RUN = "20261101T080000Z-aaaa"


def shop_record(source_id: str, run_id: str = RUN) -> dict[str, Any]:
    facts = SHOPS[source_id]
    return ShopRecord(
        id=f"{source_id}-shop",
        source_id=source_id,
        run_id=run_id,
        url=f"https://{source_id}.example.fr/",
        **facts,
    ).model_dump(mode="json")


def product_record(index: int, run_id: str = RUN, **changes: Any) -> dict[str, Any]:
    source_id, name, description, brand, category, price, availability, day = PRODUCTS[index]
    shop = SHOPS[source_id]
    data = dict(
        id=f"{source_id}-p{index:02d}",
        source_id=source_id,
        run_id=run_id,
        shop_id=f"{source_id}-shop",
        shop_name=shop["name"],
        shop_url=f"https://{source_id}.example.fr/",
        town=shop["town"],
        postcode=shop["postcode"],
        lat=shop["lat"],
        lon=shop["lon"],
        categories=shop["categories"],
        services=shop["services"],
        name=name,
        description=description,
        brand=brand,
        category=category,
        price=Decimal(price) if price else None,
        currency="EUR" if price else None,
        availability=availability,
        url=f"https://{source_id}.example.fr/produit/{index}",
        image=f"https://{source_id}.example.fr/img/{index}.jpg",
        first_seen=f"2026-10-{day:02d}T09:00:00Z",
        last_seen="2026-11-01T08:00:00Z",
    )
    data.update(changes)
    return ProductRecord(**data).model_dump(mode="json")


CATALOGUE: list[dict[str, Any]] = [product_record(i) for i in range(len(PRODUCTS))]
SHOP_RECORDS: list[dict[str, Any]] = [shop_record(source_id) for source_id in SHOPS]
BY_ID = {record["id"]: record for record in CATALOGUE}


# ---------------------------------------------------------------------------- reference


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


def matches(record: dict, filters: dict[str, tuple[str, ...]]) -> bool:
    for name, values in filters.items():
        value = record[FACETS[name]]
        have = set(value) if isinstance(value, list) else {value}
        if not have & set(values):
            return False
    return True


def expected_facet(records: list[dict], name: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for record in records:
        value = record[FACETS[name]]
        for v in value if isinstance(value, list) else [value]:
            if v is not None:
                counts[v] = counts.get(v, 0) + 1
    return counts


def ids(result) -> list[str]:
    return [hit["id"] for hit in result.hits]


def everything(backend: SearchBackend, query: SearchQuery) -> list[dict]:
    """Every hit of a query, following pages."""
    first = backend.search(query)
    hits = list(first.hits)
    for page in range(2, first.pages + 1):
        hits += backend.search(SearchQuery(**{**query.__dict__, "page": page})).hits
    assert len(hits) == first.total
    return hits


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
        with pytest.raises(Exception):
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
