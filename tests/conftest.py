"""Shared fixtures.

Portal: a real tantivy index of ~30 realistic (and a few hostile) records, served by the
real app under waitress on a free port; used by test_portal.py and test_portal_browser.py.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest

from indexer.records import ProductRecord, ShopRecord

# Every test client is 127.0.0.1: one API rate-limit bucket for the whole session would
# fail unrelated tests. tests/test_security.py turns the limit on for its own apps.
os.environ.setdefault("API_RATE_LIMIT", "off")
os.environ.setdefault("CLICK_COUNT_LIMIT", "off")  # every test client is 127.0.0.1

HOSTILE_NAME = 'Bougie <script>alert("xss")</script> vanille'
HOSTILE_URL = "javascript:alert(document.cookie)"

_SHOPS = [
    # id, name, town, postcode, lat, lon, categories, services
    ("boite-a-livres", "La Boîte à Livres", "Tours", "37000", 47.3936, 0.6892, ["Librairie"], ["click_and_collect"]),
    (
        "senteurs-loire",
        "Senteurs de Loire",
        "Blois",
        "41000",
        47.5861,
        1.3359,
        ["Décoration", "Bougies"],
        ["click_and_collect", "gift_vouchers"],
    ),
    ("chaussures-martin", "Chaussures Martin", "Orléans", "45000", 47.9029, 1.9093, ["Chaussures"], ["delivery"]),
    (
        "epicerie-berry",
        "Épicerie fine du Berry",
        "Bourges",
        "18000",
        47.0810,
        2.3988,
        ["Épicerie"],
        ["click_and_collect", "delivery"],
    ),
    ("cycles-tourangeaux", "Cycles Tourangeaux", "Tours", "37000", 47.3900, 0.6880, ["Vélos"], ["delivery"]),
    (
        "atelier-hostile",
        "Atelier <img src=x onerror=alert(1)>",
        "Amboise",
        "37400",
        47.4125,
        0.9820,
        ["Décoration"],
        [],
    ),
]

_PRODUCTS = [
    # shop, name, price, availability, category, brand
    ("boite-a-livres", "Le Petit Prince, édition illustrée", "12.50", "in_stock", "Livres", "Gallimard"),
    ("boite-a-livres", "Atlas des châteaux de la Loire", "29.90", "in_stock", "Livres", "Ouest-France"),
    ("boite-a-livres", "Carnet de voyage Loire à vélo", "9.00", "out_of_stock", "Papeterie", None),
    ("boite-a-livres", "Roman policier tourangeau", "21", "preorder", "Livres", "Éditions du Val"),
    ("boite-a-livres", "Bande dessinée Rabelais", "15.95", "in_stock", "Livres", None),
    ("boite-a-livres", "Marque-pages en cuir", "4.50", "unknown", "Papeterie", None),
    ("senteurs-loire", "Bougie parfumée vanille", "18.00", "in_stock", "Bougies", "Senteurs de Loire"),
    ("senteurs-loire", "Bougie parfumée figue", "18.00", "out_of_stock", "Bougies", "Senteurs de Loire"),
    ("senteurs-loire", "Diffuseur de parfum lavande", "32.00", "in_stock", "Parfums d'intérieur", None),
    ("senteurs-loire", HOSTILE_NAME, "14.00", "in_stock", "Bougies", None),
    ("senteurs-loire", "Coffret de trois bougies", "45.00", "preorder", "Bougies", "Senteurs de Loire"),
    ("chaussures-martin", "Bottines en cuir femme", "129.00", "in_stock", "Chaussures", "Paraboot"),
    ("chaussures-martin", "Baskets en toile", "59.90", "in_stock", "Chaussures", "Le Coq Sportif"),
    ("chaussures-martin", "Chaussons en laine", "35.00", "out_of_stock", "Chaussons", None),
    ("chaussures-martin", "Mocassins homme", "149.00", "in_stock", "Chaussures", "Heschung"),
    ("chaussures-martin", "Cirage incolore", "6.90", "unknown", "Entretien", None),
    ("epicerie-berry", "Lentilles vertes du Berry", "4.20", "in_stock", "Épicerie", None),
    ("epicerie-berry", "Crottin de Chavignol AOP", "3.10", "in_stock", "Fromages", None),
    ("epicerie-berry", "Sancerre blanc 2023", "19.50", "in_stock", "Vins", None),
    ("epicerie-berry", "Confiture de poires", "6.50", "out_of_stock", "Épicerie", None),
    ("epicerie-berry", "Miel de Sologne", "11.00", "in_stock", "Épicerie", None),
    ("epicerie-berry", "Panier garni de Noël", None, "unknown", "Coffrets", None),
    ("cycles-tourangeaux", "Vélo électrique Loire à Vélo", "1299.00", "in_stock", "Vélos", "Moustache"),
    ("cycles-tourangeaux", "Vélo de ville femme", "549.00", "preorder", "Vélos", "Gitane"),
    ("cycles-tourangeaux", "Casque de vélo urbain", "69.00", "in_stock", "Accessoires", "Abus"),
    ("cycles-tourangeaux", "Antivol en U", "39.90", "out_of_stock", "Accessoires", "Abus"),
    ("cycles-tourangeaux", "Sacoche de porte-bagages", "79.00", "in_stock", "Accessoires", "Ortlieb"),
    ("atelier-hostile", "Vase en céramique", "42.00", "in_stock", "Décoration", None),
    ("atelier-hostile", "Photophore en verre", "16.00", "in_stock", "Décoration", None),
]

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def portal_records() -> list[dict]:
    """Shop and product records as the indexer receives them (validated, JSON-ready),
    plus one product whose URLs bypassed validation: the portal must not trust the index."""
    shops = {row[0]: row for row in _SHOPS}
    records: list[dict] = []
    for shop_id, name, town, postcode, lat, lon, categories, services in _SHOPS:
        hostile = shop_id == "atelier-hostile"
        records.append(
            ShopRecord(
                id=shop_id,
                source_id=shop_id,
                run_id="r1",
                name=name,
                url=HOSTILE_URL if hostile else f"https://{shop_id}.example/",
                address=f"{len(name)} rue Nationale",
                postcode=postcode,
                town=town,
                lat=lat,
                lon=lon,
                telephone="02 47 00 00 00",
                opening_hours=["Mo-Sa 09:30-19:00"],
                categories=categories,
                services=services,
            ).model_dump(mode="json")
        )
    for i, (shop_id, name, price, availability, category, brand) in enumerate(_PRODUCTS):
        _, shop_name, town, postcode, lat, lon, categories, services = shops[shop_id]
        slug = f"produit-{i:02d}"
        record = ProductRecord(
            id=f"{shop_id}-{slug}",
            source_id=shop_id,
            run_id="r1",
            shop_id=shop_id,
            shop_name=shop_name,
            shop_url=f"https://{shop_id}.example/",
            town=town,
            postcode=postcode,
            lat=lat,
            lon=lon,
            categories=categories,
            services=services,
            name=name,
            brand=brand,
            category=category,
            description=f"{name}. Disponible chez {shop_name}, {town}. " * 3,
            price=price,
            currency="EUR" if price else None,
            availability=availability,
            url=f"https://{shop_id}.example/produits/{slug}",
            image=f"https://{shop_id}.example/images/{slug}.jpg",
            first_seen=NOW - timedelta(days=i),
            last_seen=NOW,
        ).model_dump(mode="json")
        if shop_id == "atelier-hostile" and name.startswith("Vase"):
            record.update(url=HOSTILE_URL, image="javascript:alert(2)", shop_url=HOSTILE_URL)
        records.append(record)
    return records


@pytest.fixture(scope="session")
def portal_config(tmp_path_factory):
    """A data directory whose index holds :func:`portal_records`."""
    from emplettes.config import Config
    from indexer.backends.tantivy import TantivyBackend

    config = Config(data_dir=tmp_path_factory.mktemp("portal-data"))
    with TantivyBackend(config.index_dir) as backend:
        backend.upsert(portal_records())
    return config


@pytest.fixture(scope="session")
def portal_url(portal_config):
    """Base URL of the real portal (opening the index itself, read-only) under waitress."""
    from portal import create_app
    from portal.server import serving_in_thread

    with serving_in_thread(create_app(portal_config)) as url:
        yield url
