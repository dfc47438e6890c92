"""The records the portal tests serve, built once here for every test module.

- :func:`portal_records`: ~30 realistic (and a few hostile) shop and product records, the
  index of the session's portal (conftest's ``portal_url``);
- :func:`results_records`: those plus a cheese shop 2.8 km south of Tours's centre (inside
  5 km, outside 1 km) with "à partir de" prices checked hours and days ago (``results_url``);
- :func:`extra_records`: shops with the hours and shapes the first set lacks (shop pages).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from indexer.records import ProductRecord, ShopRecord

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


FROMAGERIE = "fromagerie-fontaines"


def results_records(now: datetime | None = None) -> list[dict]:
    now = now or datetime.now(UTC)
    shop = dict(
        source_id=FROMAGERIE,
        run_id="r1",
        source_url=f"https://{FROMAGERIE}.example/",
        town="Tours",
        postcode="37200",
        lat=47.3650,
        lon=0.6960,
        categories=["Fromagerie"],
        services=["click_and_collect", "delivery", "gift_vouchers"],
    )
    records = portal_records()
    records.append(
        ShopRecord(
            id=FROMAGERIE, name="Fromagerie des Fontaines", url=f"https://{FROMAGERIE}.example/", **shop
        ).model_dump(mode="json")
    )
    for slug, name, price, high, seen in [
        ("sainte-maure", "Sainte-Maure de Touraine AOP", "6.50", "12.90", timedelta(hours=3, minutes=10)),
        ("plateau", "Plateau de fromages de Touraine", "25.00", None, timedelta(days=2, hours=1)),
        ("selles", "Selles-sur-Cher AOP", None, None, timedelta(minutes=20)),
    ]:
        records.append(
            ProductRecord(
                id=f"{FROMAGERIE}-{slug}",
                shop_id=FROMAGERIE,
                shop_name="Fromagerie des Fontaines",
                shop_url=f"https://{FROMAGERIE}.example/",
                name=name,
                price=price,
                price_high=high,
                currency="EUR" if price else None,
                availability="in_stock",
                category="Fromages",
                url=f"https://{FROMAGERIE}.example/produits/{slug}",
                image=f"https://{FROMAGERIE}.example/{slug}.jpg",
                first_seen=now - seen,
                last_seen=now - seen,
                **shop,
            ).model_dump(mode="json")
        )
    return records


RESULTS_PRODUCTS = [r for r in results_records() if r["type"] == "product"]
CENTRAL_TOURS = {r["id"] for r in RESULTS_PRODUCTS if r["town"] == "Tours" and r["shop_id"] != FROMAGERIE}


def extra_records() -> list[dict]:
    """Shops with the hours and shapes :func:`portal_records` lacks (products seen at ``NOW``)."""
    shops = [
        ShopRecord(
            id="grande-librairie",
            source_id="grande-librairie",
            run_id="r1",
            name="La Grande Librairie",
            url="https://grande-librairie.example/",
            address="1 place Plumereau",
            postcode="37000",
            town="Tours",
            lat=47.395,
            lon=0.684,
            telephone="+33 2 47 11 22 33",
            opening_hours=["Mo-Su 00:00-24:00"],
            categories=["Librairie"],
            services=["click_and_collect", "gift_vouchers"],
        ),
        ShopRecord(
            id="fromagerie-vague",
            source_id="fromagerie-vague",
            run_id="r1",
            name="Fromagerie Vague",
            town="Vendôme",
            opening_hours=["Ouvert quand il fait beau", "Mo-Fr 09:00-12:00"],
            categories=["Fromages"],
        ),
    ]
    records = [s.model_dump(mode="json") for s in shops]
    records.extend(
        ProductRecord(
            id=f"grande-librairie-livre-{i:02d}",
            source_id="grande-librairie",
            run_id="r1",
            shop_id="grande-librairie",
            shop_name="La Grande Librairie",
            shop_url="https://grande-librairie.example/",
            town="Tours",
            name=f"Livre de poche numéro {i}",
            price="7.50",
            currency="EUR",
            availability="in_stock",
            url=f"https://grande-librairie.example/livres/{i}",
            first_seen=NOW,
            last_seen=NOW,
        ).model_dump(mode="json")
        for i in range(30)
    )
    # A shop known only from its products (its own record not crawled yet).
    records.append(
        ProductRecord(
            id="orphelin-1",
            source_id="orphelin",
            run_id="r1",
            shop_id="orphelin",
            shop_name="Boutique Orpheline",
            shop_url="https://orphelin.example/",
            town="Chinon",
            name="Tasse en grès",
            price="12",
            url="https://orphelin.example/tasse",
            first_seen=NOW,
            last_seen=NOW,
        ).model_dump(mode="json")
    )
    return records
