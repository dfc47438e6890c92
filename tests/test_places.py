""" "Près de <commune>" means one place, whichever way it is asked.

The results page (``/recherche?q=bougie près de Chinon``, redirected to ``near=Chinon``),
the JSON API with ``near=Chinon``, and the JSON API with the place typed in the words (left
to the backend) all search around the same point: the median of the town's shops, which
:mod:`indexer.places` computes for all of them. Chinon here has two shops in its centre and
one in a hamlet 30 km east: the mean of the three lies 10 km east of the centre, so a 10 km
search around the mean would miss the centre's shops and answer differently.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
from bs4 import BeautifulSoup
from served_portal import PORTAL_BACKENDS, served_portal

from indexer.backends.common import haversine_km
from indexer.places import (
    TOWN_RADIUS_KM,
    Town,
    TypedPlace,
    find_town,
    resolve_place,
    town_centre,
    typed_place,
    typed_town,
)
from indexer.records import ProductRecord, ShopRecord
from indexer.search import Near, SearchQuery

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)

# id, name, town, lat, lon
SHOPS = [
    ("chinon-halle", "Bougies de la Halle", "Chinon", 47.1670, 0.2420),
    ("chinon-quai", "Le Quai aux Lumières", "Chinon", 47.1680, 0.2430),
    ("chinon-hameau", "Cire du Hameau", "Chinon", 47.1675, 0.6420),  # 30 km east, same commune
    ("beaumont-cire", "Ciergerie de Beaumont", "Beaumont", 47.1690, 0.3080),  # 5 km east of Chinon
    ("saumur-meche", "La Mèche de Saumur", "Saumur", 47.2600, -0.0770),  # 25 km west
    ("ligre-atelier", "Atelier de Ligré", "Ligré", None, None),  # no coordinates published
]
PRODUCTS = [
    ("chinon-halle", "Bougie parfumée vanille", "12.00"),
    ("chinon-halle", "Bougie de cire d'abeille", "9.50"),
    ("chinon-halle", "Photophore en verre", "15.00"),
    ("chinon-quai", "Bougie parfumée figue", "14.00"),
    ("chinon-quai", "Lanterne en fer forgé", "39.00"),
    ("chinon-hameau", "Bougie de cire d'abeille brute", "7.00"),
    ("chinon-hameau", "Bougie parfumée lavande", "11.00"),
    ("beaumont-cire", "Bougie d'église", "5.50"),
    ("beaumont-cire", "Bougie parfumée vanille bourbon", "16.00"),
    ("saumur-meche", "Bougie parfumée vanille", "13.00"),
    ("ligre-atelier", "Bougie sculptée", "22.00"),
]
COORDINATES = {shop_id: (lat, lon) for shop_id, _, _, lat, lon in SHOPS}


def place_records() -> list[dict]:
    shops = {row[0]: row for row in SHOPS}
    records = [
        ShopRecord(id=shop_id, source_id=shop_id, run_id="r1", name=name, town=town, lat=lat, lon=lon).model_dump(
            mode="json"
        )
        for shop_id, name, town, lat, lon in SHOPS
    ]
    for i, (shop_id, name, price) in enumerate(PRODUCTS):
        _, shop_name, town, lat, lon = shops[shop_id]
        records.append(
            ProductRecord(
                id=f"{shop_id}-p{i:02d}",
                source_id=shop_id,
                run_id="r1",
                shop_id=shop_id,
                shop_name=shop_name,
                town=town,
                lat=lat,
                lon=lon,
                name=name,
                price=price,
                currency="EUR",
                availability="in_stock",
                url=f"https://{shop_id}.example/p{i:02d}",
                first_seen=NOW - timedelta(days=i),
                last_seen=NOW,
            ).model_dump(mode="json")
        )
    return records


@pytest.fixture(scope="module", params=PORTAL_BACKENDS)
def places_url(request, tmp_path_factory):
    data = tmp_path_factory.mktemp("places-data")
    with served_portal(place_records(), data, request.param, api_rate_limit="off") as (url, _, _):
        yield url


def page_ids(base: str, **params) -> list[str]:
    response = requests.get(f"{base}/recherche", params={**params, "per_page": "50"}, timeout=10)
    assert response.status_code == 200, response.text[:300]
    soup = BeautifulSoup(response.text, "html.parser")
    return [a["href"].removeprefix("/go/") for a in soup.select("li.product .product-name a")]


def api_ids(base: str, **params) -> list[str]:
    response = requests.get(f"{base}/api/search", params={**params, "per_page": "50"}, timeout=10)
    assert response.status_code == 200, response.text[:300]
    return [hit["id"] for hit in response.json()["results"]]


# -------------------------------------------------------------------------- one rule


def test_the_centre_of_a_town_is_the_median_of_its_shops_not_the_mean():
    points = [COORDINATES[s] for s in ("chinon-halle", "chinon-quai", "chinon-hameau")]
    lat, lon = town_centre(points)
    assert (lat, lon) == (47.1675, 0.2430)
    mean = (sum(p[0] for p in points) / 3, sum(p[1] for p in points) / 3)
    # The mean lies outside the radius from the centre's shops; the median next to them.
    assert haversine_km(*mean, *COORDINATES["chinon-halle"]) > TOWN_RADIUS_KM
    assert haversine_km(lat, lon, *COORDINATES["chinon-halle"]) < 1


def test_the_backends_resolve_a_typed_place_as_the_pages_do():
    class Towns:
        def town_points(self):
            return {
                "chinon": ("Chinon", [COORDINATES[s] for s in ("chinon-halle", "chinon-quai", "chinon-hameau")]),
                "ligre": ("Ligré", []),
            }

    towns = Towns().town_points()
    assert find_town(towns, " CHINON\t") == Town("Chinon", 47.1675, 0.2430)
    assert typed_town("bougie  près de chinon", towns) == ("bougie", Town("Chinon", 47.1675, 0.2430))
    assert typed_town("bougie près de Atlantis", towns) is None and typed_town("bougie", towns) is None
    resolved = resolve_place(Towns(), SearchQuery(text="bougie près de Chinon"))  # type: ignore[arg-type]
    assert (resolved.text.strip(), resolved.near) == ("bougie", Near(47.1675, 0.2430, TOWN_RADIUS_KM))
    resolved = resolve_place(Towns(), SearchQuery(text="bougie près de Ligre", filters={"town": ("Tours",)}))  # type: ignore[arg-type]
    assert (resolved.near, resolved.filters) == (None, {"town": ("Tours", "Ligré")})
    unknown = SearchQuery(text="bougie près de Atlantis")  # a place, but no town of the shops: not searched as words
    assert resolve_place(Towns(), unknown) == SearchQuery(text="bougie")  # type: ignore[arg-type]


# -------------------------------------------------------------- the page and the API


@pytest.mark.parametrize(
    ("words", "town"),
    [
        ("bougie", "Chinon"),  # mean and median differ: 10 km around the mean misses the centre
        ("bougie parfumée", "chinon"),
        ("Bougies vanille", "CHINON"),
        ("bougie", "Beaumont"),  # one shop: its point
        ("bougie", "Saumur"),
        ("bougie", "Ligré"),  # no coordinates: the town, as a filter
        ("", "Chinon"),  # no words: nearest first
    ],
)
def test_the_page_and_the_api_find_the_same_products_in_the_same_order(places_url, words, town):
    typed_on_the_page = page_ids(places_url, q=f"{words} près de {town}")  # redirected to near=
    picked_on_the_page = page_ids(places_url, q=words, near=town)
    picked_in_the_api = api_ids(places_url, q=words, near=town)
    typed_in_the_api = api_ids(places_url, q=f"{words} près de {town}")  # resolved by the backend
    assert typed_on_the_page, (words, town)
    assert typed_on_the_page == picked_on_the_page == picked_in_the_api == typed_in_the_api


@pytest.mark.parametrize("radius", ["1", "25"])
def test_a_radius_applies_to_a_typed_place_on_the_page_and_in_the_api(places_url, radius):
    on_the_page = page_ids(places_url, q="bougie près de Chinon", radius=radius)
    in_the_api = api_ids(places_url, q="bougie près de Chinon", radius=radius)
    assert on_the_page == in_the_api == api_ids(places_url, q="bougie", near="Chinon", radius=radius)
    assert ("beaumont-cire-p07" in in_the_api) is (radius == "25")  # 5 km from Chinon's centre


def test_pres_de_chinon_searches_around_its_centre_not_its_hamlet(places_url):
    found = api_ids(places_url, q="bougie près de Chinon")
    shops = {product_id.rsplit("-p", 1)[0] for product_id in found}
    assert shops == {"chinon-halle", "chinon-quai", "beaumont-cire"}
    assert page_ids(places_url, q="bougie", near="Chinon") == found
    assert {i.rsplit("-p", 1)[0] for i in api_ids(places_url, q="bougie près de Ligré")} == {"ligre-atelier"}


def test_which_words_name_a_place():
    towns = {
        "tours": ("Tours", [(47.39, 0.69)]),
        "blois": ("Blois", [(47.59, 1.34)]),
        "chinon": ("Chinon", [(47.17, 0.24)]),
        "joue les tours": ("Joué-lès-Tours", [(47.35, 0.66)]),
    }
    tours, blois = Town("Tours", 47.39, 0.69), Town("Blois", 47.59, 1.34)
    assert typed_place("miel Tours", towns) == TypedPlace("miel", tours)
    assert typed_place("miel à Blois", towns) == TypedPlace("miel", blois)
    assert typed_place("miel bio près de Tours", towns) == TypedPlace("miel bio", tours)
    assert typed_place("jouets Joué-lès-Tours", towns).town.name == "Joué-lès-Tours"  # the longest name
    assert typed_place("miel près de Vierzon", towns) == TypedPlace("miel", unknown="Vierzon")
    assert typed_place("Chinon", towns) is None  # no other word: a word
    assert typed_place("Chinon rouge", towns) is None  # first: it names the thing
    assert typed_place("nougat de Tours", towns) is None  # after "de": where the thing comes from
    assert typed_place("miel en pot", towns) is None
