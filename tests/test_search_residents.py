"""What residents type on the demo's 13 shops and 240 products (issue 17, "Why"), asked of
the real portal over HTTP, page and JSON API, on each backend: the same answers on both.

The demo's catalogue is ``samples/catalogue.yaml`` (tests/demo_catalogue.py), indexed
through each backend's own ``upsert``.
"""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from backend_catalogue import on_elasticsearch
from bs4 import BeautifulSoup
from demo_catalogue import demo_records
from served_portal import PORTAL_BACKENDS, served_portal

RECORDS = demo_records()
PRODUCTS = [r for r in RECORDS if r["type"] == "product"]
TOY_SHOP = "le-petit-ebeniste"  # categories: jouets, jeux en bois
CANDLE_SHOP = "chandellerie-d-amboise"


@pytest.fixture(scope="module", params=PORTAL_BACKENDS)
def demo(request, tmp_path_factory):
    """The portal over the demo's catalogue, on each backend."""
    with served_portal(RECORDS, tmp_path_factory.mktemp("demo-data"), request.param) as (url, _, _):
        yield url


def api(base: str, status: int = 200, **params) -> dict:
    response = requests.get(f"{base}/api/search", params={"per_page": "50", **params}, timeout=10)
    assert response.status_code == status, response.text[:300]
    return response.json()


def page(base: str, **params) -> tuple[BeautifulSoup, str]:
    """The results page (after the redirect a place typed in the words leads to), and its URL."""
    response = requests.get(f"{base}/recherche", params={"per_page": "50", **params}, timeout=10)
    assert response.status_code == 200, response.text[:300]
    return BeautifulSoup(response.text, "html.parser"), response.url


def names(body: dict) -> list[str]:
    return [r["name"] for r in body["results"]]


def card_names(soup: BeautifulSoup) -> list[str]:
    return [a.get_text(" ", strip=True) for a in soup.select("li.product .product-name a")]


def count_shown(soup: BeautifulSoup) -> int:
    return int(soup.select_one(".results-count").get_text().split()[0].replace("\u202f", "").replace("\xa0", ""))


# ---------------------------------------------------------------- 1. what finds a product


@pytest.mark.parametrize("typed", ["jouet", "jouets", "Jouets"])
def test_jouet_finds_the_toy_shops_products_through_its_shop_category(demo, typed):
    toys = {p["name"] for p in PRODUCTS if p["shop_id"] == TOY_SHOP}
    body = api(demo, q=typed)
    assert body["total"] == len(toys) and set(names(body)) == toys
    soup, _ = page(demo, q=typed)
    assert count_shown(soup) == len(toys) and set(card_names(soup)) <= toys


def test_jouet_en_bois_finds_wooden_toys_not_a_stove_a_wine_or_a_cheese(demo):
    body = api(demo, q="jouet en bois")
    assert body["total"] and {r["shop"]["id"] for r in body["results"]} == {TOY_SHOP}
    assert "Poêle à bois 8 kW" not in names(body)
    assert body["notices"]["words"] is None  # every word matched: nothing to say
    soup, _ = page(demo, q="jouet en bois")
    assert "Poêle à bois" not in soup.get_text() and not soup.select(".search-notice--words")


def test_miel_puts_the_products_named_for_honey_before_a_glaze_of_that_colour(demo):
    ranked = names(api(demo, q="miel"))
    named = [n for n in ranked if "miel" in n.lower()]
    assert ranked[: len(named)] == named and len(named) == 2  # "Miel de Beauce…", "Pot à miel…"
    assert ranked.index("Saladier en grès 3 L") >= len(named)  # "émail miel": in its description only


def test_name_ranks_before_category_before_brand_and_shop_before_description(demo):
    ranked = names(api(demo, q="bougie"))
    by_name = [n for n in ranked if "bougie" in n.lower()]
    assert ranked[: len(by_name)] == by_name  # every name match before any other match
    assert {p["name"] for p in PRODUCTS if "bougie" in p["name"].lower()} <= set(by_name)


def test_availability_only_breaks_ties(demo):
    """An out-of-stock product named for the words ranks above an in-stock product that
    only mentions them in its description."""
    ranked = api(demo, q="bougie")["results"]
    first_description_only = next(i for i, r in enumerate(ranked) if "bougie" not in r["name"].lower())
    assert all("bougie" in r["name"].lower() for r in ranked[:first_description_only])
    named_availability = [r["availability"] for r in ranked[:first_description_only]]
    assert "in_stock" in named_availability


# ---------------------------------------------------------------- 2. every word counts


def test_a_word_no_product_has_is_dropped_and_said_on_the_page_and_in_the_api(demo):
    body = api(demo, q="savon en bois")
    words = body["notices"]["words"]
    assert words["dropped"] == ["savon"] and words["searched"] == "bois"
    assert words["message"] == "Aucun produit pour « savon en bois » ; voici les résultats pour « bois »"
    assert body["total"] == api(demo, q="bois")["total"] > 0
    soup, _ = page(demo, q="savon en bois")
    notice = soup.select_one(".search-notice--words")
    assert (
        notice.get_text(" ", strip=True) == "Aucun produit pour « savon en bois » ; voici les résultats pour « bois »"
    )
    assert count_shown(soup) == body["total"]


def test_words_that_all_match_are_never_relaxed_into_noise(demo):
    """Every content word must match: "bougie figue" finds what has both words (the fig
    candles first), not every candle and every fig."""
    body = api(demo, q="bougie figue")
    figs = {p["name"] for p in PRODUCTS if "figue" in (p["name"] + " " + (p["description"] or "")).lower()}
    assert body["total"] and set(names(body)) <= figs
    assert all("figue" in n.lower() for n in names(body)[:2])


# ---------------------------------------------------------------- 3. places


@pytest.mark.parametrize(
    ("typed", "town", "words"), [("vin Chinon", "Chinon", "vin"), ("vin à Chinon", "Chinon", "vin")]
)
def test_a_town_named_in_the_words_is_searched_around(demo, typed, town, words):
    body = api(demo, q=typed)
    assert body["total"] and {r["town"] for r in body["results"]} == {town}
    assert body["notices"]["place"] == {"name": town, "found": True, "message": None, "towns": []}
    assert body["total"] == api(demo, q=words, near=town)["total"]
    soup, url = page(demo, q=typed)
    assert parse_qs(urlsplit(url).query) == {"q": [words], "near": [town], "per_page": ["50"]}  # as near=
    assert count_shown(soup) == body["total"]


@pytest.mark.parametrize("typed", ["miel Tours", "miel à Blois", "miel près de Tours"])
def test_miel_in_a_town_without_honey_finds_none_there_and_offers_the_nearest_towns(demo, typed):
    body = api(demo, q=typed)
    assert body["total"] == 0  # no honey from Chartres passed off as Tours's
    assert "Chartres" in [t["name"] for t in body["notices"]["alternatives"]["towns"]]  # said in the API too
    soup, _ = page(demo, q=typed)
    offered = [a.get_text(" ", strip=True) for a in soup.select(".alternatives--towns a")]
    assert offered and any(o.startswith("Chartres") for o in offered)


@pytest.mark.parametrize("params", [{"q": "miel près de Vierzon"}, {"q": "miel", "near": "Paris"}])
def test_an_unknown_place_is_said_with_the_communes_that_have_matches(demo, params):
    place = params.get("near") or "Vierzon"
    body = api(demo, **params)
    notice = body["notices"]["place"]
    assert notice["found"] is False and notice["name"] == place
    assert body["total"] == api(demo, q="miel")["total"] > 0  # the words, searched everywhere
    assert "Chartres" in {t["name"] for t in notice["towns"]} and all(t["count"] > 0 for t in notice["towns"])
    soup, _ = page(demo, **params)
    said = soup.select_one(".search-notice--place")
    assert f"Aucun commerce inscrit à « {place} »" in said.get_text(" ", strip=True)
    link = next(a for a in said.select("a") if a.get_text().startswith("Chartres"))
    assert parse_qs(urlsplit(link["href"]).query) == {"q": ["miel"], "near": ["Chartres"], "per_page": ["50"]}


# ---------------------------------------------------------------- 4. corrections


def test_savon_is_not_corrected_into_another_word(demo):
    soup, _ = page(demo, q="savon")
    assert count_shown(soup) == 0
    assert soup.select_one(".did-you-mean") is None  # never « saison »
    assert api(demo, q="savon")["notices"]["alternatives"]["spelling"] is None


def test_a_misspelt_word_is_corrected_into_one_that_finds_products(demo):
    soup, _ = page(demo, q="bojgiie")
    link = soup.select_one(".did-you-mean a")
    assert link is not None and link.get_text() == "bougie"
    assert api(demo, q="bojgiie")["notices"]["alternatives"]["spelling"] == "bougie"
    assert api(demo, q="bougie")["total"]


# ---------------------------------------------------------------- 5. browsing without words


def test_browsing_a_town_puts_products_in_stock_first_never_the_dearest_first(demo):
    body = api(demo, near="Tours")
    prices = [Decimal(r["price"]) for r in body["results"] if r["price"]]
    assert body["total"] and prices[0] != max(prices)  # the 5,290 € espresso machine is not first
    ranks = [r["availability"] == "in_stock" for r in body["results"]]
    assert ranks == sorted(ranks, reverse=True)
    soup, _ = page(demo, near="Tours")
    assert card_names(soup)[0] == names(body)[0] and card_names(soup)[0] != "Machine espresso Linea Mini"


def test_browsing_everything_is_in_stock_first_and_not_by_price(demo):
    body = api(demo)
    availability = [r["availability"] == "in_stock" for r in body["results"]]
    assert availability == sorted(availability, reverse=True)
    prices = [Decimal(r["price"]) for r in body["results"] if r["price"]]
    assert prices != sorted(prices, reverse=True) and prices != sorted(prices)


# ---------------------------------------------------------------- 6. shop=


def test_shop_accepts_the_shop_id_and_the_name(demo):
    candles = sum(p["shop_id"] == CANDLE_SHOP for p in PRODUCTS)
    assert api(demo, shop=CANDLE_SHOP)["total"] == candles
    assert api(demo, shop="La Chandellerie d'Amboise")["total"] == candles
    soup, _ = page(demo, shop=CANDLE_SHOP)
    assert count_shown(soup) == candles


def test_an_unknown_shop_is_a_400_in_the_api_and_said_on_the_page(demo):
    body = api(demo, 400, shop="chandellerie-de-nulle-part")
    assert body["error"].startswith("shop : aucune boutique « chandellerie-de-nulle-part »")
    soup, _ = page(demo, shop="chandellerie-de-nulle-part")
    said = soup.select_one(".search-notice--shop").get_text(" ", strip=True)
    assert said == "Aucune boutique « chandellerie-de-nulle-part » : ce filtre est ignoré."


# ---------------------------------------------------------------- the same on both backends

WHY = [
    {"q": "jouet"},
    {"q": "jouets"},
    {"q": "jouet en bois"},
    {"q": "savon en bois"},
    {"q": "miel"},
    {"q": "miel Tours"},
    {"q": "vin Chinon"},
    {"q": "miel près de Vierzon"},
    {"q": "miel", "near": "Paris"},
    {"q": "savon"},
    {"q": "bojgiie"},
    {"near": "Tours"},
    {},
    {"shop": CANDLE_SHOP},
]


@on_elasticsearch
def test_both_backends_answer_the_issues_examples_alike(tmp_path_factory):
    """Same total, same top ten in the same order, same notices, for every example."""
    with (
        served_portal(RECORDS, tmp_path_factory.mktemp("alike-tantivy"), "tantivy") as (embedded, _, _),
        served_portal(RECORDS, tmp_path_factory.mktemp("alike-es"), "elasticsearch") as (cluster, _, _),
    ):
        for params in WHY:
            one, other = api(embedded, **params), api(cluster, **params)
            assert one["total"] == other["total"], params
            assert [r["id"] for r in one["results"][:10]] == [r["id"] for r in other["results"][:10]], params
            assert one["notices"] == other["notices"], params
