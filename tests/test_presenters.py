"""The results page's rules as pure functions: prices, freshness, "près de", spelling.

No app and no index here: each rule is called directly with its inputs (and ``now``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from indexer.backends.base import Near
from indexer.places import find_town, town_choices
from indexer.search import SearchQuery
from portal.alternatives import (
    did_you_mean,
    distance_km,
    nearby_towns,
    place_origin,
    spelling,
    spelling_prefixes,
    vocabulary,
)
from portal.formatting import freshness, parse_time, price_label, radius_label, service_label
from portal.presenters import product_view
from portal.query import parse_search, query_from_args

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)

TOWNS = {
    "tours": ("Tours", [(47.3936, 0.6892), (47.3900, 0.6880), (47.3650, 0.6960)]),
    "blois": ("Blois", [(47.5861, 1.3359)]),
    "amboise": ("Amboise", [(47.4125, 0.9820)]),
    "orleans": ("Orléans", [(47.9029, 1.9093)]),
    "chateau renault": ("Château-Renault", []),  # its shop publishes no coordinates
}


# ---------------------------------------------------------------------- prices


@pytest.mark.parametrize(
    ("price", "high", "expected"),
    [
        ("12.50", None, "12,50 €"),
        ("12.50", "19.90", "à partir de 12,50 €"),
        ("12.50", "12.5", "12,50 €"),  # one price is no range
        ("12.50", "9", "12,50 €"),  # nonsense range: the price alone
        ("12.50", "beaucoup", "12,50 €"),
        (None, "19.90", ""),
        ("1299", "1499", "à partir de 1 299,00 €"),
    ],
)
def test_price_label_says_a_partir_de_only_for_a_real_range(price, high, expected):
    assert price_label(price, high) == expected


def test_product_view_keeps_a_price_high_only_above_the_price():
    hit = {"id": "a", "name": "Pull", "price": "59", "price_high": "65", "url": "https://s.example/p"}
    view = product_view(hit)
    assert (view["price"], view["price_high"], view["price_display"]) == ("59.00", "65.00", "à partir de 59,00 €")
    for high in ("59.00", "12", "", None, True, "NaN", -5):
        view = product_view({**hit, "price_high": high})
        assert view["price_high"] is None and view["price_display"] == "59,00 €", high
    assert product_view({**hit, "price": None})["price_high"] is None


def test_product_view_services_and_last_seen_are_cleaned():
    hit = {
        "id": "a",
        "name": "Pull",
        "url": "https://s.example/p",
        "last_seen": "2026-11-23T12:00:00+00:00",
        "services": ["delivery", "<script>", "delivery", 3, "gift_vouchers"],
    }
    view = product_view(hit)
    assert view["services"] == ["delivery", "gift_vouchers"]
    assert view["last_seen"] == "2026-11-23T12:00:00Z"
    assert product_view({**hit, "services": "delivery", "last_seen": "hier"})["services"] == []
    assert product_view({**hit, "last_seen": "hier"})["last_seen"] is None


def test_service_labels_are_french():
    assert [service_label(s) for s in ("click_and_collect", "delivery", "gift_vouchers")] == [
        "Retrait en boutique",
        "Livraison",
        "Chèques cadeaux locaux acceptés",
    ]


# ---------------------------------------------------------------------- freshness


@pytest.mark.parametrize(
    ("ago", "expected"),
    [
        (timedelta(seconds=20), "prix vérifié à l'instant"),
        (timedelta(minutes=1), "prix vérifié il y a 1 min"),
        (timedelta(minutes=42, seconds=50), "prix vérifié il y a 42 min"),
        (timedelta(hours=1), "prix vérifié il y a 1 h"),
        (timedelta(hours=3, minutes=59), "prix vérifié il y a 3 h"),
        (timedelta(hours=23, minutes=59), "prix vérifié il y a 23 h"),
        (timedelta(days=1, hours=2), "prix vérifié il y a 1 jour"),
        (timedelta(days=2, hours=23), "prix vérifié il y a 2 jours"),
        (timedelta(days=59), "prix vérifié il y a 59 jours"),
        (timedelta(days=95), "prix vérifié il y a 3 mois"),
        (timedelta(minutes=-5), "prix vérifié à l'instant"),  # crawler clock ahead of the portal's
    ],
)
def test_freshness_in_french_with_plurals(ago, expected):
    assert freshness(NOW - ago, NOW) == expected


def test_freshness_reads_record_times_and_says_nothing_without_one():
    assert freshness("2026-11-23T12:00:00Z", NOW) == "prix vérifié il y a 3 h"
    assert freshness("2026-11-23T13:00:00+01:00", NOW) == "prix vérifié il y a 3 h"
    assert freshness("2026-11-23T12:00:00", NOW) == "prix vérifié il y a 3 h"  # naive: UTC, as records are written
    assert freshness("2026-11-21T12:00:00Z", NOW, price=False) == "vérifié il y a 2 jours"
    for missing in (None, "", "hier", 12):
        assert freshness(missing, NOW) == ""
    assert parse_time("2026-11-23T12:00:00Z") == datetime(2026, 11, 23, 12, tzinfo=UTC)


# ---------------------------------------------------------------------- près de [commune]


def test_find_town_ignores_accents_and_case_and_takes_the_median_point():
    tours = find_town(TOWNS, "  TOURS ")
    assert tours is not None and tours.name == "Tours"
    assert (tours.lat, tours.lon) == (47.3900, 0.6892)  # a far shop does not drag the centre out
    assert find_town(TOWNS, "orleans").name == "Orléans"
    assert find_town(TOWNS, "chateau-renault").lat is None
    assert find_town(TOWNS, "Atlantis") is None and find_town(TOWNS, "") is None


def test_town_choices_in_french_alphabetical_order():
    assert town_choices(TOWNS) == ["Amboise", "Blois", "Château-Renault", "Orléans", "Tours"]


def test_near_a_town_is_a_circle_around_it():
    query = query_from_args({"near": "Tours", "radius": "1"}, towns=TOWNS)
    assert query.near == Near(lat=47.3900, lon=0.6892, radius_km=1.0)
    assert query.sort == "relevance"  # nothing typed: the browse order (in stock, recently seen), not the price
    assert query_from_args({"near": "Tours", "q": "vélo"}, towns=TOWNS).sort == "relevance"
    assert query_from_args({"near": "Tours"}, towns=TOWNS).near.radius_km == 10.0
    assert query_from_args({"near": "Tours", "radius": "1000"}, towns=TOWNS).near.radius_km == 300.0


def test_near_a_town_wins_over_a_position_and_unknown_towns_are_noticed():
    both = query_from_args({"near": "Blois", "lat": "47.39", "lon": "0.69", "radius": "5"}, towns=TOWNS)
    assert (both.near.lat, both.near.lon, both.near.radius_km) == (47.5861, 1.3359, 5.0)
    for strict in (False, True):  # the page and the API both search everywhere and say so
        unknown, notices = parse_search({"near": "Atlantis", "q": "vélo"}, towns=TOWNS, strict=strict)
        assert unknown.near is None and unknown.text == "vélo" and notices.unknown_place == "Atlantis"
    assert query_from_args({"near": "Tours"}).near is None  # no towns given: nothing to resolve with


def test_near_a_town_without_coordinates_filters_on_the_town():
    query = query_from_args({"near": "Château-Renault", "town": "Tours"}, towns=TOWNS)
    assert query.near is None and query.filters["town"] == ("Tours", "Château-Renault")


def test_radius_labels():
    assert [radius_label(r) for r in (1, 5.0, 2.5, 0, "x")] == ["1 km", "5 km", "2,5 km", "", ""]


# ---------------------------------------------------------------------- zero results


def test_vocabulary_keeps_the_words_of_the_completed_prefixes():
    names = ["Bougie parfumée vanille", "BOUGIE parfumée figue", "Coffret de trois bougies", "Boîte à bijoux"]
    words = vocabulary(names, ["bou"])
    assert words == {"bougie": "bougie", "bougies": "bougies"}
    assert vocabulary(names)["parfumee"] == "parfumée"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bojgiie", "bougie"),
        ("bougie parfummée", "bougie parfumée"),
        ("Bougie", None),  # known word: nothing to correct
        ("zzzzzz", None),  # nothing close
        ("bougie 12", None),
        ("un vélo", None),
    ],
)
def test_did_you_mean(text, expected):
    words = {"bougie": "bougie", "bougies": "bougies", "parfumee": "parfumée", "velo": "vélo"}
    assert did_you_mean(text, words) == expected


def test_spelling_prefixes_are_three_then_two_letters():
    assert spelling_prefixes("Bojgiie parfummée de") == [["boj", "par"], ["bo", "pa"]]
    assert spelling_prefixes("a 12") == []


def test_spelling_asks_for_two_letter_prefixes_only_when_three_found_nothing():
    names = {
        "bou": ["Bougie parfumée vanille"],
        "bo": ["Bougie parfumée vanille", "Bottines en cuir"],
        "par": ["Bougie parfumée vanille"],
        "pa": ["Panier garni"],
    }
    asked: list[str] = []

    def complete(prefix: str) -> list[str]:
        asked.append(prefix)
        return names.get(prefix, [])

    assert spelling("bougei parfumée", complete) == "bougie parfumée"
    assert asked == ["bou", "par"]
    asked.clear()
    assert spelling("boigie", complete) == "bougie"  # "boi" completes to nothing: then "bo"
    assert asked == ["boi", "bo"]
    assert spelling("zzzzzz", complete) is None


def test_distance_between_towns():
    assert distance_km((47.3936, 0.6892), (47.5861, 1.3359)) == pytest.approx(53.0, abs=1.0)  # Tours–Blois
    assert distance_km((47.39, 0.69), (47.39, 0.69)) == 0


def test_nearby_towns_nearest_first_with_their_distance():
    counts = [("Orléans", 3), ("Blois", 4), ("Amboise", 1), ("Tours", 2), ("Château-Renault", 5), ("Vide", 0)]
    towns = nearby_towns(counts, TOWNS, origin=(47.3900, 0.6892), exclude=["tours"])
    assert [t["name"] for t in towns] == ["Amboise", "Blois", "Orléans", "Château-Renault"]
    assert towns[0]["distance_km"] == pytest.approx(22.0, abs=1.0) and towns[-1]["distance_km"] is None
    by_count = nearby_towns(counts, TOWNS, origin=None)
    assert [t["name"] for t in by_count][:2] == ["Château-Renault", "Blois"]


def test_place_origin_is_the_circle_or_the_one_ticked_town():
    assert place_origin(SearchQuery(near=Near(47.0, 1.0, 5)), TOWNS) == (47.0, 1.0)
    assert place_origin(SearchQuery(filters={"town": ("Blois",)}), TOWNS) == (47.5861, 1.3359)
    assert place_origin(SearchQuery(filters={"town": ("Blois", "Tours")}), TOWNS) is None
    assert place_origin(SearchQuery(), TOWNS) is None


def test_plurals_follow_the_french_rule_without_a_catalogue():
    from portal.i18n import ngettext

    assert [ngettext("%(num)s produit", "%(num)s produits", n) for n in (0, 1, 2)] == [
        "0 produit",
        "1 produit",
        "2 produits",
    ]
