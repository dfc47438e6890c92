"""The results page over real HTTP: cards, "près de [commune]", chips, pagination, zero results.

A real index (the embedded one, then Elasticsearch when a server is there) of the shared
portal records plus a cheese shop 2.8 km south of
Tours's centre (inside 5 km, outside 1 km) whose products have several offers ("à partir
de") and were checked hours and days ago (freshness), served by the real app under waitress.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from bs4 import BeautifulSoup
from portal_samples import CENTRAL_TOURS, FROMAGERIE, RESULTS_PRODUCTS, results_records
from served_portal import PORTAL_BACKENDS, served_portal


@pytest.fixture(scope="module", params=PORTAL_BACKENDS)
def results_url(request, tmp_path_factory):
    """The portal over :func:`portal_samples.results_records`, on each backend."""
    with served_portal(results_records(), tmp_path_factory.mktemp("results-data"), request.param) as (url, _, _):
        yield url


def page(base: str, path: str = "/recherche", **params) -> BeautifulSoup:
    response = requests.get(base + path, params=params, timeout=10)
    assert response.status_code == 200, response.text[:500]
    return BeautifulSoup(response.text, "html.parser")


def params_of(href: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(href).query)


def card_ids(soup: BeautifulSoup) -> set[str]:
    return {a["href"].removeprefix("/go/") for a in soup.select("li.product .product-name a")}


def all_card_ids(base: str, **params) -> set[str]:
    ids, soup = set(), page(base, per_page="50", **params)
    ids |= card_ids(soup)
    assert soup.select_one(".pagination a[rel=next]") is None  # one page holds them all
    return ids


# ---------------------------------------------------------------------- cards


def test_card_shows_a_partir_de_services_and_freshness(results_url):
    card = page(results_url, q="sainte-maure").select_one("li.product")
    assert card.select_one(".product-name").get_text().strip() == "Sainte-Maure de Touraine AOP"
    assert card.select_one(".product-name mark")  # the matched words are highlighted
    assert card.select_one(".price").get_text() == "à partir de 6,50 €"
    assert card.select_one(".badge").get_text(strip=True) == "En stock"
    assert [s.get_text() for s in card.select(".services li")] == [
        "Retrait en boutique",
        "Livraison",
        "Chèques cadeaux locaux acceptés",
    ]
    fresh = card.select_one(".freshness time")
    assert fresh.get_text() == "prix vérifié il y a 3 h"
    assert fresh["datetime"].endswith("Z")
    assert "Fromagerie des Fontaines" in card.select_one(".product-shop").get_text()
    assert card.select_one(".product-shop .town").get_text() == "Tours"
    for link in card.select(".product-name a, a.button--out"):
        assert link["href"] == f"/go/{FROMAGERIE}-sainte-maure" and set(link["rel"]) == {"nofollow", "noopener"}
    hop = requests.get(results_url + f"/go/{FROMAGERIE}-sainte-maure", allow_redirects=False, timeout=10)
    assert hop.headers["Location"] == f"https://{FROMAGERIE}.example/produits/sainte-maure"


def test_single_price_and_days_old_and_no_price(results_url):
    plateau = page(results_url, q="plateau de fromages").select_one("li.product")
    assert plateau.select_one(".price").get_text() == "25,00 €"
    assert plateau.select_one(".freshness").get_text(strip=True) == "prix vérifié il y a 2 jours"
    selles = page(results_url, q="selles-sur-cher").select_one("li.product")
    assert selles.select_one(".price").get_text(strip=True) == "Prix en boutique"
    assert selles.select_one(".freshness").get_text(strip=True) == "vérifié il y a 20 min"


def test_distance_shows_when_searching_near_a_place(results_url):
    cards = page(results_url, near="Tours", radius="5").select("li.product")
    distances = [c.select_one(".distance").get_text() for c in cards]
    assert distances and all(d.endswith(" km") for d in distances)
    assert page(results_url, q="bougie").select_one("li.product .distance") is None


# ---------------------------------------------------------------------- près de [commune]


def test_near_a_town_within_1_km_keeps_only_the_town_centre(results_url):
    soup = page(results_url, near="Tours", radius="1", per_page="50")
    assert card_ids(soup) == CENTRAL_TOURS  # the cheese shop 2.8 km south is out
    distances = [float(d.get_text().split()[0].replace(",", ".")) for d in soup.select("li.product .distance")]
    assert max(distances) <= 1.0  # all within 1 km (in the browse order: in stock first, not nearest first)
    assert soup.h1.get_text(strip=True) == "Près de Tours"
    assert soup.select_one('select[name="near"] option[selected]')["value"] == "Tours"
    assert soup.select_one('select[name="radius"] option[selected]')["value"] == "1"
    assert soup.select_one('select[name="sort"] option[selected]')["value"] == "relevance"  # the browse order


def test_near_a_town_wider_radii_reach_further(results_url):
    five = all_card_ids(results_url, near="Tours", radius="5")
    assert five == CENTRAL_TOURS | {r["id"] for r in RESULTS_PRODUCTS if r["shop_id"] == FROMAGERIE}
    wide = all_card_ids(results_url, near="tours", radius="25")  # the town's name, any case or accents
    towns = {r["town"] for r in RESULTS_PRODUCTS if r["id"] in wide}
    assert towns == {"Tours", "Amboise"}  # Amboise is 22 km away, Blois 53 km


def test_a_place_typed_in_the_box_becomes_the_picker_place(results_url):
    response = requests.get(
        results_url + "/recherche",
        params={"q": "livre près de tours", "radius": "5"},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302
    assert params_of(response.headers["Location"]) == {"q": ["livre"], "radius": ["5"], "near": ["Tours"]}
    soup = page(results_url, response.headers["Location"])
    assert soup.select_one(".chips--active a").get_text(" ", strip=True).startswith("Près de Tours, 5 km")
    unknown = requests.get(
        results_url + "/recherche", params={"q": "livre près de Atlantis"}, allow_redirects=False, timeout=10
    )
    assert unknown.status_code == 200  # not a town of the registered shops: plain words


def test_unknown_town_is_ignored(results_url):
    soup = page(results_url, near="Atlantis", q="bougie")
    assert soup.select("li.product") and not soup.select(".chip--active")


def test_place_chip_removes_the_place_and_keeps_the_rest(results_url):
    soup = page(results_url, q="livre", near="Tours", radius="5", availability="in_stock")
    chips = {a.get_text(" ", strip=True): a["href"] for a in soup.select(".chips--active a")}
    [place] = [href for text, href in chips.items() if text.startswith("Près de Tours, 5 km")]
    assert params_of(place) == {"q": ["livre"], "availability": ["in_stock"]}
    [stock] = [href for text, href in chips.items() if text.startswith("Disponibilité : En stock")]
    assert params_of(stock) == {"q": ["livre"], "near": ["Tours"], "radius": ["5"]}


def test_pagination_keeps_the_place_and_every_filter(results_url):
    soup = page(results_url, near="Tours", radius="25", availability="in_stock", per_page="3")
    next_link = soup.select_one(".pagination a[rel=next]")
    assert params_of(next_link["href"]) == {
        "near": ["Tours"],
        "radius": ["25"],
        "availability": ["in_stock"],
        "per_page": ["3"],
        "page": ["2"],
    }
    second = page(results_url, next_link["href"])
    assert second.select_one(".pagination [aria-current=page]").get_text() == "2"
    assert second.select_one('select[name="near"] option[selected]')["value"] == "Tours"
    facet_form = second.select_one("form#filtres")
    assert facet_form.select_one('input[name="per_page"]')["value"] == "3"


def test_facet_filter_then_remove_its_chip(results_url):
    soup = page(results_url, q="bougie", availability="in_stock")
    assert {c.select_one(".badge").get_text(strip=True) for c in soup.select("li.product")} == {"En stock"}
    chip = soup.select_one(".chips--active a")
    assert params_of(chip["href"]) == {"q": ["bougie"]}
    assert len(page(results_url, chip["href"]).select("li.product")) > len(soup.select("li.product"))


def test_a_chip_for_a_value_typed_with_extra_spaces_still_removes_it(results_url):
    soup = page(results_url, q="bougie", availability=" in_stock ")
    chip = soup.select_one(".chips--active a")
    assert params_of(chip["href"]) == {"q": ["bougie"]}


def test_near_me_position_shows_a_removable_chip_and_the_radius(results_url):
    soup = page(results_url, lat="47.394", lon="0.685", radius="5")
    chip = soup.select_one(".chips--active a")
    assert chip.get_text(" ", strip=True).startswith("Autour de moi, 5 km")
    assert params_of(chip["href"]) == {}
    form = soup.select_one("form#filtres")
    assert form.select_one('input[name="lat"]')["value"] == "47.394"
    assert form.select_one('select[name="radius"] option[selected]')["value"] == "5"


# ---------------------------------------------------------------------- zero results


def test_zero_results_suggests_a_spelling(results_url):
    soup = page(results_url, q="bojgiie")
    empty = soup.select_one(".empty-state")
    assert "Aucun produit ne correspond à « bojgiie »" in empty.get_text()
    link = empty.select_one(".did-you-mean a")
    assert link.get_text() == "bougie" and params_of(link["href"]) == {"q": ["bougie"]}
    assert page(results_url, link["href"]).select("li.product")


def test_zero_results_near_a_town_offers_other_towns_nearest_first(results_url):
    empty = page(results_url, q="bougie", near="Tours", radius="1").select_one(".empty-state")
    towns = empty.select(".alternatives--towns a")
    # (5: the candle shop's diffuser too, its shop's category being "Bougies")
    assert [a.get_text(" ", strip=True) for a in towns] == ["Blois (53 km) 5 produits"]
    assert params_of(towns[0]["href"]) == {"q": ["bougie"], "town": ["Blois"]}
    assert page(results_url, towns[0]["href"]).select("li.product")
    wider = [a for a in empty.find_all("a") if "25 km" in a.get_text()]
    assert wider and params_of(wider[0]["href"]) == {"q": ["bougie"], "near": ["Tours"], "radius": ["25"]}


def test_zero_results_in_a_town_offers_the_other_towns_by_distance(results_url):
    empty = page(results_url, category="Décoration", town="Tours").select_one(".empty-state")
    assert "Aucun produit ne correspond à ces filtres" in empty.get_text()
    towns = [a.get_text(" ", strip=True) for a in empty.select(".alternatives--towns a")]
    assert [t.split(" (")[0] for t in towns] == ["Amboise", "Blois"]  # 22 km, then 53 km


def test_zero_results_in_a_category_offers_broader_categories(results_url):
    empty = page(results_url, q="bougie", category="Librairie").select_one(".empty-state")
    categories = {
        a.get_text(" ", strip=True).split(" ")[0]: a["href"] for a in empty.select(".alternatives--categories a")
    }
    assert "Bougies" in categories
    assert params_of(categories["Bougies"]) == {"q": ["bougie"], "category": ["Bougies"]}


def test_zero_results_keeps_it_kind_without_alternatives(results_url):
    empty = page(results_url, q="zzzinconnu").select_one(".empty-state")
    assert "Aucun produit ne correspond à « zzzinconnu »" in empty.get_text()
    assert empty.select_one(".did-you-mean") is None and not empty.select(".alternatives")
    assert empty.find("a", href="/recherche")


# ---------------------------------------------------------------------- home


def test_home_offers_the_near_a_town_form_and_browsing(results_url):
    soup = page(results_url, "/")
    form = soup.select_one("form.near-form")
    assert form["action"] == "/recherche" and form["method"] == "get"
    options = [o["value"] for o in form.select('select[name="near"] option')]
    assert options == ["", "Amboise", "Blois", "Bourges", "Orléans", "Tours"]
    assert [o["value"] for o in form.select('select[name="radius"] option')] == ["1", "5", "10", "25"]
    assert form.select_one('select[name="radius"] option[selected]')["value"] == "10"
    towns = [a.get_text(" ", strip=True) for a in soup.select(".browse-block a")]
    assert any(t.startswith("Tours") for t in towns) and any(t.startswith("Bougies") for t in towns)
    # Submitted as a browser without JavaScript would: empty fields included.
    results = page(results_url, "/recherche", q="", near="Tours", radius="1")
    assert card_ids(results) <= CENTRAL_TOURS and results.select("li.product")


def test_api_results_carry_the_range_services_and_freshness_time(results_url):
    data = requests.get(results_url + "/api/search", params={"q": "sainte-maure"}, timeout=10).json()
    first = data["results"][0]
    assert (first["price"], first["price_high"], first["price_display"]) == ("6.50", "12.90", "à partir de 6,50 €")
    assert first["services"] == ["click_and_collect", "delivery", "gift_vouchers"]
    seen = datetime.fromisoformat(first["last_seen"].replace("Z", "+00:00"))
    assert timedelta(hours=3) < datetime.now(UTC) - seen < timedelta(hours=4)
    near = requests.get(
        results_url + "/api/search", params={"near": "Tours", "radius": "1", "per_page": "50"}, timeout=10
    )
    assert {r["id"] for r in near.json()["results"]} == CENTRAL_TOURS
