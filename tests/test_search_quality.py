"""Search quality: what residents type, and the products that must come first.

A realistic catalogue of Touraine, Blésois and Orléanais shops; each query lists groups of
product ids in order: every id of a group ranks above every id of the next group and above
all other hits (order inside a group is free). Runs on every backend of the contract suite
(Elasticsearch only with ``ELASTICSEARCH_URL``): the same words must find the same
products first on both.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from backend_catalogue import BACKENDS

from indexer.backends.base import SearchBackend, SearchQuery
from indexer.records import ProductRecord, ShopRecord

RUN = "20261115T060000Z-qual"

SHOPS = {
    "bougies-tours": ("L'Atelier des Bougies", "Tours", "37000", 47.3941, 0.6848),
    "the-tours": ("Le Comptoir du Thé", "Tours", "37000", 47.3905, 0.6901),
    "jouets-joue": ("Le Coffre à Jouets", "Joué-lès-Tours", "37300", 47.3523, 0.6632),
    "jouets-orleans": ("Jouets & Cie", "Orléans", "45000", 47.9025, 1.9090),
    "cycles-amboise": ("Cycles Amboisiens", "Amboise", "37400", 47.4125, 0.9820),
    "epicerie-blois": ("Épicerie du Château", "Blois", "41000", 47.5861, 1.3359),
    "mode-orleans": ("Boutique Coton & Laine", "Orléans", "45000", 47.9030, 1.9100),
}

# id: (shop, name, description, category, availability, price)
PRODUCTS: dict[str, tuple] = {
    "b1": ("bougies-tours", "Bougie parfumée figue", "Cire de soja, 40 heures.", "Bougies", "in_stock", "22"),
    "b2": ("bougies-tours", "Bougies parfumées vanille, lot de 2", "Cire végétale.", "Bougies", "in_stock", "30"),
    "b3": ("bougies-tours", "Bougie parfumée lavande", "Lavande de Provence.", "Bougies", "out_of_stock", "20"),
    "b4": ("bougies-tours", "Chandelle de table ivoire", "Chandelle en cire, 25 cm.", "Bougies", "in_stock", "6"),
    "b5": ("bougies-tours", "Photophore en verre", "Pour une bougie chauffe-plat.", "Décoration", "in_stock", "12"),
    "b6": (
        "bougies-tours",
        "Coffret cadeau Noël bougies",
        "Trois bougies de Noël parfumées à la cannelle.",
        "Coffrets",
        "preorder",
        "39",
    ),
    "t1": ("the-tours", "Théière en fonte japonaise", "Tetsubin émaillée, 0,8 L.", "Théières", "in_stock", "59.90"),
    "t2": ("the-tours", "Théière en verre", "Avec infuseur, 1 L.", "Théières", "out_of_stock", "29"),
    "t3": ("the-tours", "Thé vert sencha", "Thé du Japon, 100 g.", "Thés", "in_stock", "12"),
    "t4": ("the-tours", "Café moulu pur arabica", "Torréfié à Tours, 250 g.", "Cafés", "in_stock", "8.40"),
    "t5": ("the-tours", "Café en grains d'Éthiopie", "Moka Sidamo, 1 kg.", "Cafés", "out_of_stock", "24"),
    "t6": ("the-tours", "Tasse à café en porcelaine", "Porcelaine de Limoges.", "Tasses", "in_stock", "14"),
    "t7": ("the-tours", "Mug isotherme", "Pour le thé ou le café.", "Tasses", "in_stock", "19"),
    "t8": ("the-tours", "Cafetière à piston", "Un litre, verre et inox.", "Cafetières", "in_stock", "35"),
    "j1": (
        "jouets-joue",
        "Jouets en bois : train à tirer",
        "Hêtre massif, peinture à l'eau.",
        "Jouets en bois",
        "in_stock",
        "34",
    ),
    "j2": (
        "jouets-joue",
        "Jouet en bois cheval à bascule",
        "Fabriqué dans le Jura.",
        "Jouets en bois",
        "in_stock",
        "120",
    ),
    "j3": ("jouets-joue", "Puzzle en bois animaux", "Jouet d'éveil dès 2 ans.", "Jouets en bois", "in_stock", "18"),
    "j4": ("jouets-joue", "Jeu de quilles en bois", "Neuf quilles et deux boules.", "Jeux", "in_stock", "25"),
    "j5": ("jouets-joue", "Jeux de société : Carcassonne", "De 2 à 5 joueurs.", "Jeux", "in_stock", "29.90"),
    "j6": ("jouets-joue", "Peluche lapin", "Coton bio, 30 cm.", "Peluches", "in_stock", "22"),
    "j7": (
        "jouets-joue",
        "Vélo draisienne en bois",
        "Sans pédales, pour enfant dès 2 ans.",
        "Jouets en bois",
        "in_stock",
        "89",
    ),
    "o1": (
        "jouets-orleans",
        "Jouets en bois : garage",
        "Trois étages et un ascenseur.",
        "Jouets en bois",
        "in_stock",
        "59",
    ),
    "o2": ("jouets-orleans", "Dînette en bois", "Vingt pièces.", "Jouets en bois", "out_of_stock", "45"),
    "o3": ("jouets-orleans", "Jeu de cartes des sept familles", "Illustré à la main.", "Jeux", "in_stock", "9"),
    "c1": (
        "cycles-amboise",
        "Vélo enfant 16 pouces",
        "Bicyclette pour enfant de 4 à 6 ans.",
        "Vélos",
        "in_stock",
        "189",
    ),
    "c2": ("cycles-amboise", "Bicyclette de ville", "Cadre acier, 7 vitesses.", "Vélos", "in_stock", "449"),
    "c3": ("cycles-amboise", "Vélo électrique", "Batterie 500 Wh.", "Vélos", "preorder", "1599"),
    "c4": ("cycles-amboise", "Casque vélo enfant", "Taille 48-54 cm.", "Accessoires", "in_stock", "35"),
    "c5": ("cycles-amboise", "Antivol en U", "Acier trempé.", "Accessoires", "in_stock", "39"),
    "c6": ("cycles-amboise", "Sacoche de vélo", "Étanche, 20 L.", "Accessoires", "out_of_stock", "49"),
    "e1": (
        "epicerie-blois",
        "Huile d'olive vierge extra",
        "Première pression à froid, 50 cl.",
        "Huiles",
        "in_stock",
        "18",
    ),
    "e2": ("epicerie-blois", "Huile de noix", "Du Périgord, 25 cl.", "Huiles", "in_stock", "12"),
    "e3": ("epicerie-blois", "Olives vertes à l'ail", "Bocal de 200 g.", "Olives", "in_stock", "6"),
    "e4": ("epicerie-blois", "Vinaigre balsamique", "Idéal avec l'huile d'olive.", "Vinaigres", "in_stock", "9"),
    "e5": ("epicerie-blois", "Miel de châtaignier", "Récolté en Sologne.", "Miels", "in_stock", "11"),
    "e6": ("epicerie-blois", "Confiture de fraises", "Fraises de Touraine.", "Confitures", "in_stock", "6.50"),
    "e7": (
        "epicerie-blois",
        "Panier cadeau de Noël",
        "Foie gras, confitures et chocolats.",
        "Coffrets",
        "preorder",
        "65",
    ),
    "e8": ("epicerie-blois", "Chocolats de Noël", "Assortiment de pralinés.", "Chocolats", "in_stock", "15"),
    "e9": ("epicerie-blois", "Sel de Guérande", "Fleur de sel.", "Épices", "in_stock", "6.50"),
    "e10": ("epicerie-blois", "Savon à l'olive et à l'huile d'argan", "Saponifié à froid.", "Savons", "in_stock", "7"),
    "m1": ("mode-orleans", "Tee-shirt coton bio", "Col rond, unisexe.", "T-shirts", "in_stock", "25"),
    "m2": ("mode-orleans", "T-shirt enfant dinosaure", "Du 2 au 10 ans.", "T-shirts", "in_stock", "15"),
    "m3": ("mode-orleans", "Sweat à capuche", "Molleton gratté.", "Sweats", "in_stock", "49"),
    "m4": ("mode-orleans", "Chaussettes en laine", "Laine de mouton.", "Chaussettes", "in_stock", "12"),
    "m5": ("mode-orleans", "Écharpe en laine", "Laine mérinos.", "Écharpes", "out_of_stock", "35"),
    "m6": ("mode-orleans", "Pull marin rayé", "Maille de coton.", "Pulls", "in_stock", "79"),
    "m7": ("mode-orleans", "Chemise en lin", "Lin lavé.", "Chemises", "in_stock", "65"),
}


def _records() -> list[dict[str, Any]]:
    records = []
    for source_id, (name, town, postcode, lat, lon) in SHOPS.items():
        records.append(
            ShopRecord(
                id=f"{source_id}-shop",
                source_id=source_id,
                run_id=RUN,
                name=name,
                town=town,
                postcode=postcode,
                lat=lat,
                lon=lon,
            ).model_dump(mode="json")
        )
    for pid, (source_id, name, description, category, availability, price) in PRODUCTS.items():
        shop_name, town, postcode, lat, lon = SHOPS[source_id]
        records.append(
            ProductRecord(
                id=pid,
                source_id=source_id,
                run_id=RUN,
                shop_id=f"{source_id}-shop",
                shop_name=shop_name,
                town=town,
                postcode=postcode,
                lat=lat,
                lon=lon,
                name=name,
                description=description,
                category=category,
                availability=availability,
                price=Decimal(price),
                currency="EUR",
                url=f"https://{source_id}.example.fr/{pid}",
                first_seen="2026-11-01T08:00:00Z",
                last_seen="2026-11-15T06:00:00Z",
            ).model_dump(mode="json")
        )
    return records


# (query, groups of ids that must come first, in order; ids that must not be found)
CASES: list[tuple[str, list[set[str]], set[str]]] = [
    # singular, plural, accents, case
    # (a chandelle is a candle, by the synonyms file; the gift box names candles last)
    ("bougie", [{"b1", "b2"}, {"b3", "b4"}, {"b6"}], set()),
    ("bougies", [{"b1", "b2"}, {"b3", "b4"}, {"b6"}], set()),
    ("BOUGIES", [{"b1", "b2"}, {"b3", "b4"}, {"b6"}], set()),
    ("bougies parfumées", [{"b1", "b2"}, {"b3"}, {"b6"}], {"b4", "b5"}),
    ("bougie parfumee", [{"b1", "b2"}, {"b3"}, {"b6"}], {"b4", "b5"}),
    # (coffee itself before a coffee cup: the name starts with the word)
    ("cafe", [{"t4"}, {"t5", "t6"}], {"t8"}),
    ("café", [{"t4"}, {"t5", "t6"}], {"t8"}),
    ("cafés", [{"t4"}, {"t5", "t6"}], {"t8"}),
    ("cafetiere", [{"t8"}], set()),
    ("théiere", [{"t1"}, {"t2"}], set()),
    ("theiere", [{"t1"}, {"t2"}], set()),
    ("THÉIÈRES", [{"t1"}, {"t2"}], set()),
    ("theiere fonte", [{"t1"}], {"t2"}),
    # typos in words of 5+ letters
    ("theire", [{"t1"}, {"t2"}], set()),
    ("bougei", [{"b1", "b2"}], set()),
    ("chocolta", [{"e8"}], set()),
    ("bicylette", [{"c2"}], set()),
    # stop words and elision
    ("jouets en bois", [{"j1", "j2", "o1"}], set()),
    ("jouet bois", [{"j1", "j2", "o1"}], set()),
    ("l'huile d'olive", [{"e1"}, {"e10"}, {"e4"}], {"e2"}),
    ("huile olive", [{"e1"}, {"e10"}, {"e4"}], {"e2"}),
    ("huile", [{"e1", "e2"}], set()),
    ("olive", [{"e3"}, {"e1"}], set()),
    # a place in the words
    ("jouets en bois pres de tours", [{"j1", "j2"}], {"o1", "o2"}),
    ("jouets en bois près de Orléans", [{"o1"}], {"j1", "j2"}),
    ("bougies parfumées près de Tours", [{"b1", "b2"}, {"b3"}], set()),
    # synonyms, irregular plurals
    ("velo enfant", [{"c1"}, {"c4"}], {"c2", "c3"}),
    ("vélo", [{"c1", "j7"}, {"c3"}], set()),
    ("vélos", [{"c1", "j7"}, {"c3"}], set()),
    ("bicyclette", [{"c2"}], set()),
    ("tee shirt", [{"m1", "m2"}], set()),
    ("t-shirt", [{"m1", "m2"}], set()),
    ("tshirt", [{"m1", "m2"}], set()),
    ("tee-shirt enfant", [{"m2"}], {"m1"}),
    ("sweat-shirt", [{"m3"}], set()),
    ("chandelle", [{"b4"}], set()),
    ("doudou", [{"j6"}], set()),
    ("mug", [{"t7"}, {"t6"}], set()),
    ("jeux", [{"j4", "j5", "o3"}], set()),
    ("jeu de société", [{"j5"}], set()),
    ("cheval", [{"j2"}], set()),
    ("chevaux", [{"j2"}], set()),
    # seasonal
    ("cadeau noel", [{"b6", "e7"}], {"e8"}),
    ("cadeau de Noël", [{"b6", "e7"}], {"e8"}),
    ("chocolats noel", [{"e8"}, {"e7"}], set()),
    # everyday
    ("chaussettes laine", [{"m4"}], {"m5"}),
    ("laine", [{"m4"}, {"m5"}], set()),
    ("miel", [{"e5"}], set()),
    ("confiture fraise", [{"e6"}], set()),
    ("pull", [{"m6"}], set()),
    ("antivol", [{"c5"}], set()),
    ("thé vert", [{"t3"}], set()),
]


@pytest.fixture(params=BACKENDS, scope="module")
def catalogue(request, tmp_path_factory) -> SearchBackend:
    backend = request.param(tmp_path_factory.mktemp("quality") / "index")
    backend.upsert(_records())
    yield backend
    backend.close()


def test_there_are_enough_cases():
    assert len(CASES) >= 40


@pytest.mark.parametrize(("text", "groups", "absent"), CASES, ids=[case[0] for case in CASES])
def test_query_finds_the_right_products_first(catalogue, text, groups, absent):
    result = catalogue.search(SearchQuery(text=text, per_page=100))
    ranked = [hit["id"] for hit in result.hits]
    position = 0
    for group in groups:
        top = set(ranked[position : position + len(group)])
        assert top == group, f"{text!r}: expected {sorted(group)} at {position}, ranking is {ranked}"
        position += len(group)
    assert not absent & set(ranked), f"{text!r}: {sorted(absent & set(ranked))} should not be found"


def test_nonsense_finds_nothing(catalogue):
    assert catalogue.search(SearchQuery(text="xylophone")).total == 0


def test_in_stock_before_out_of_stock_among_equal_matches(catalogue):
    hits = catalogue.search(SearchQuery(text="bougie parfumée", per_page=100)).hits
    named = [h for h in hits if "parfum" in h["name"].lower()]
    availability = [h["availability"] for h in named]
    assert availability.index("out_of_stock") > max(i for i, a in enumerate(availability) if a == "in_stock")


def test_exact_phrase_before_scattered_words(catalogue):
    ranked = [h["id"] for h in catalogue.search(SearchQuery(text="huile d'olive", per_page=100)).hits]
    assert ranked.index("e1") < ranked.index("e10")  # "Savon à l'olive et à l'huile d'argan"


def test_ties_are_stable_across_pages(catalogue):
    everything = [h["id"] for h in catalogue.search(SearchQuery(text="bois", per_page=100)).hits]
    paged = []
    for page in range(1, 5):
        paged += [h["id"] for h in catalogue.search(SearchQuery(text="bois", per_page=3, page=page)).hits]
    assert paged == everything[: len(paged)]


def test_matched_words_of_names_are_highlighted_as_plain_segments(catalogue):
    hit = catalogue.search(SearchQuery(text="bougies parfumées")).hits[0]
    segments = hit["name_highlight"]
    assert "".join(piece for piece, _ in segments) == hit["name"]
    marked = {piece.lower() for piece, matched in segments if matched}
    assert {"bougie", "parfumée"} <= marked or {"bougies", "parfumées"} <= marked
    vélo = catalogue.search(SearchQuery(text="bicyclette")).hits
    c1 = next(h for h in vélo if h["id"] == "c1")
    assert ("Vélo", True) in c1["name_highlight"]  # a synonym is highlighted too
    typo = catalogue.search(SearchQuery(text="theire")).hits[0]
    assert typo["name_highlight"][0] == ("Théière", True)


def test_no_text_no_highlight(catalogue):
    assert all("name_highlight" not in h for h in catalogue.search(SearchQuery()).hits)


def test_an_unknown_place_is_not_searched_as_words(catalogue):
    from indexer.analysis import split_place

    assert split_place("jouets en bois pres de tours") == ("jouets en bois", "tours")
    assert split_place("bougies près d'Amboise") == ("bougies", "Amboise")
    assert split_place("près") == ("près", None)
    result = catalogue.search(SearchQuery(text="bougie près de Nulle-Part", per_page=100))
    assert {"b1", "b2"} <= {h["id"] for h in result.hits[:2]}
    assert all("distance_km" not in h for h in result.hits)
    near = catalogue.search(SearchQuery(text="vélo près d'Amboise", per_page=100))
    assert near.hits[0]["id"] == "c1" and all(h["distance_km"] <= 10 for h in near.hits)


def test_the_words_that_block_are_dropped_by_one_rule():
    """``relax_clauses``, the rule both backends follow when no product has every word."""
    from indexer.analysis import clauses_text, plan_words, relax_clauses

    products = [{"bougie", "figue"}, {"bougie", "vanille"}, {"bois", "jouet"}]

    def relaxed(text: str) -> tuple[str, str]:
        def count(subset) -> int:
            return sum(all(any(w in p for w in c.words) for c in subset) for p in products)

        kept, dropped = relax_clauses(plan_words(text), count)
        return clauses_text(kept), clauses_text(dropped)

    assert relaxed("savon en bois") == ("bois", "savon")  # a word no product has
    assert relaxed("bougie bois") == ("bougie", "bois")  # the rest with the most matches
    assert relaxed("figue vanille") == ("figue", "vanille")  # a tie: the later word goes
    assert relaxed("savon lessive") == ("", "savon lessive")  # nothing to keep
