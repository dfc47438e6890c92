"""The catalogue the backend tests share, the backends they run against (``BACKENDS``),
and the expected results computed from it in Python.

Each backend joins through ``BACKENDS``: tantivy always runs; Elasticsearch runs only when
``ELASTICSEARCH_URL`` points at a server (``pytest -m elasticsearch``).
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

from indexer.backends.base import FACETS, SearchBackend, SearchQuery
from indexer.records import ProductRecord, ShopRecord

# ---------------------------------------------------------------------------- backends

# What every index, alias and template of this test process is named from: the pytest-xdist
# worker (each numbers its temporary directories from 0) and a token of this run.
# tests/conftest.py deletes them when the session ends.
ES_TEST_PREFIX = f"emplettes-test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-{uuid.uuid4().hex[:8]}"


def _tantivy(path: Path, readonly: bool = False) -> SearchBackend:
    from indexer.backends.tantivy import TantivyBackend

    return TantivyBackend(path, readonly=readonly)


def _elasticsearch(path: Path, readonly: bool = False) -> SearchBackend:
    from indexer.backends.elasticsearch_backend import ElasticsearchBackend

    # One alias per test directory (its versioned indices behind it), so tests do not see
    # each other's records; ES_TEST_PREFIX keeps other workers and earlier runs (and their
    # older mappings) out. No replicas, so a one-node test cluster stays green.
    place = "".join(c if c.isalnum() else "-" for c in f"{path.parent.name}-{path.name}".lower())
    prefix = f"{ES_TEST_PREFIX}-{place}"
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


# The marks of a test that needs a running Elasticsearch server.
ON_ELASTICSEARCH = [
    pytest.mark.elasticsearch,
    pytest.mark.skipif(
        not os.environ.get("ELASTICSEARCH_URL"),
        reason="no Elasticsearch: ELASTICSEARCH_URL is unset (make test starts ../shared/elasticsearch when present)",
    ),
]


def on_elasticsearch(test):
    """Decorates one test with :data:`ON_ELASTICSEARCH`."""
    for mark in ON_ELASTICSEARCH:
        test = mark(test)
    return test


BACKENDS = [
    pytest.param(_tantivy, id="tantivy"),
    pytest.param(
        _elasticsearch,
        id="elasticsearch",
        marks=ON_ELASTICSEARCH,
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
