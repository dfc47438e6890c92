"""The residents' portal: pure formatting and query parsing, then the real app over HTTP.

The HTTP tests talk to the real app under waitress (``portal_url`` below), over a real
index of ~30 records, two of them hostile (a ``<script>`` in a product name,
``javascript:`` URLs): the embedded one, then Elasticsearch when a server is there.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from bs4 import BeautifulSoup
from portal_samples import HOSTILE_NAME, portal_records
from served_portal import PORTAL_BACKENDS, served_portal
from werkzeug.datastructures import MultiDict

from indexer.backends.base import Near
from portal.formatting import (
    availability_label,
    format_distance,
    format_price,
    safe_url,
    shorten,
    tel_href,
)
from portal.query import BadQuery, query_from_args
from portal.security import CONTENT_SECURITY_POLICY
from portal.templating import page_window


@pytest.fixture(scope="module", params=PORTAL_BACKENDS)
def portal_url(request, tmp_path_factory):
    with served_portal(portal_records(), tmp_path_factory.mktemp("portal-data"), request.param) as (url, _, _):
        yield url


PRODUCTS = [r for r in portal_records() if r["type"] == "product"]
SHOPS = [r for r in portal_records() if r["type"] == "shop"]


# ---------------------------------------------------------------------- formatting


@pytest.mark.parametrize(
    ("price", "currency", "expected"),
    [
        (Decimal("12.5"), "EUR", "12,50 €"),
        ("12.50", "EUR", "12,50 €"),
        ("1299", "EUR", "1 299,00 €"),
        (Decimal("1299.00"), None, "1 299,00 €"),
        ("1234567.8", "EUR", "1 234 567,80 €"),
        ("999.999", "EUR", "999,999 €"),  # more decimals than cents: kept, not rounded
        ("12.500", "EUR", "12,50 €"),  # feeds write three decimals: still cents
        ("10.000", "EUR", "10,00 €"),
        ("1e30", "EUR", ""),  # beyond any price and the decimal context: nothing, not a 500
        ("0", "EUR", "0,00 €"),
        ("12.5", "USD", "12,50 USD"),
        ("12.5", "chf", "12,50 CHF"),
        (7, "EUR", "7,00 €"),
        (None, "EUR", ""),
        ("", "EUR", ""),
        ("douze", "EUR", ""),
        ("NaN", "EUR", ""),
    ],
)
def test_format_price(price, currency, expected):
    assert format_price(price, currency) == expected


def test_availability_labels_are_french():
    assert availability_label("in_stock") == "En stock"
    assert availability_label("out_of_stock") == "Rupture de stock"
    assert availability_label("preorder") == "En précommande"
    assert availability_label("unknown") == "Disponibilité non précisée"
    assert availability_label(None) == "Disponibilité non précisée"
    assert availability_label("<b>bizarre</b>") == "Disponibilité non précisée"


@pytest.mark.parametrize(
    "url",
    ["https://boutique.example/p/1", "http://boutique.example/p?a=1&b=2", "  https://boutique.example/  "],
)
def test_safe_url_keeps_http_links(url):
    assert safe_url(url) == url.strip()


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "java\nscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "//evil.example/x",
        "/relative/path",
        "https://",
        "https:\\\\evil.example",
        "ftp://files.example/x",
        "",
        None,
        42,
    ],
)
def test_safe_url_refuses_everything_else(url):
    assert safe_url(url) is None


def test_small_formatters():
    assert shorten("un  deux\ntrois", 50) == "un deux trois"
    assert shorten("Bougie parfumée à la vanille de Madagascar", 20) == "Bougie parfumée à la…"
    assert shorten(None) == ""
    assert tel_href("02 47 00 00 00") == "tel:0247000000"
    assert tel_href("+33 (0)2 47 00 00 00") == "tel:+330247000000"
    assert tel_href("javascript:alert(1)") is None
    assert format_distance(0.84) == "0,8 km"
    assert format_distance(12.4) == "12 km"
    assert format_distance("loin") == ""


def test_page_window():
    assert page_window(1, 1) == [1]
    assert page_window(1, 3) == [1, 2, 3]
    assert page_window(10, 20) == [1, None, 8, 9, 10, 11, 12, None, 20]
    assert page_window(2, 20) == [1, 2, 3, 4, None, 20]


# ---------------------------------------------------------------------- query parsing


def test_query_defaults():
    query = query_from_args(MultiDict())
    assert (query.text, query.filters, query.sort, query.page, query.per_page) == ("", {}, "relevance", 1, 20)
    assert query.price_min is None and query.price_max is None and query.near is None


def test_query_repeatable_filters_and_cleanup():
    args = MultiDict(
        [
            ("q", "  bougie\x00  vanille "),
            ("town", "Tours"),
            ("town", "Blois"),
            ("town", "Tours"),
            ("town", " "),
            ("availability", "in_stock"),
            ("services", "delivery"),
            ("unknown", "x"),
        ]
    )
    query = query_from_args(args)
    assert query.text == "bougie vanille"
    assert query.filters == {"town": ("Tours", "Blois"), "availability": ("in_stock",), "services": ("delivery",)}


def test_query_accepts_a_plain_mapping():
    query = query_from_args({"q": "vélo", "town": ["Tours", "Blois"], "page": "2"})
    assert query.text == "vélo" and query.filters == {"town": ("Tours", "Blois")} and query.page == 2


def test_query_prices_french_or_english_decimals():
    query = query_from_args({"price_min": "10,5", "price_max": "1 299 €"})
    assert query.price_min == Decimal("10.5") and query.price_max == Decimal("1299")
    swapped = query_from_args({"price_min": "50", "price_max": "10"})
    assert (swapped.price_min, swapped.price_max) == (Decimal("10"), Decimal("50"))


def test_query_lenient_ignores_bad_values():
    query = query_from_args(
        {
            "page": "deux",
            "per_page": "beaucoup",
            "price_min": "gratuit",
            "price_max": "-5",
            "sort": "hasard",
            "lat": "nord",
            "lon": "2",
        }
    )
    assert (query.page, query.per_page, query.sort) == (1, 20, "relevance")
    assert query.price_min is None and query.price_max is None and query.near is None


def test_query_clamps_ranges():
    assert query_from_args({"page": "0"}).page == 1
    assert query_from_args({"page": "-3"}).page == 1
    assert query_from_args({"page": "99999999"}).page == 10_000 // 20
    assert query_from_args({"per_page": "500"}).per_page == 50
    assert query_from_args({"per_page": "0"}).per_page == 1
    assert len(query_from_args({"q": "x" * 1000}).text) == 200
    assert len(query_from_args({"town": [f"t{i}" for i in range(100)]}).filters["town"]) == 20


def test_query_near_me():
    query = query_from_args({"lat": "47.39", "lon": "0.69"})
    assert query.near == Near(lat=47.39, lon=0.69, radius_km=20.0)
    assert query.sort == "distance"  # nearest first when there are no words to rank by
    query = query_from_args({"lat": "47.39", "lon": "0.69", "radius": "5", "q": "vélo"})
    assert query.near == Near(47.39, 0.69, 5.0) and query.sort == "relevance"
    assert query_from_args({"lat": "47.39", "lon": "0.69", "radius": "99999"}).near.radius_km == 300
    assert query_from_args({"lat": "95", "lon": "0"}).near is None
    assert query_from_args({"sort": "distance"}).sort == "relevance"


@pytest.mark.parametrize(
    ("args", "parameter"),
    [
        ({"page": "deux"}, "page"),
        ({"per_page": "x"}, "per_page"),
        ({"price_min": "gratuit"}, "price_min"),
        ({"price_max": "-1"}, "price_max"),
        ({"price_min": "20", "price_max": "10"}, "price_min"),
        ({"sort": "hasard"}, "sort"),
        ({"sort": "distance"}, "sort"),
        ({"lat": "47"}, "lat"),
        ({"lat": "91", "lon": "0"}, "lat"),
        ({"lat": "inf", "lon": "0"}, "lat"),
    ],
)
def test_query_strict_names_the_bad_parameter(args, parameter):
    with pytest.raises(BadQuery, match=parameter):
        query_from_args(args, strict=True)


# ---------------------------------------------------------------------- over HTTP


def get(base: str, path: str, **params) -> requests.Response:
    return requests.get(base + path, params=params, timeout=10)


def api(base: str, **params) -> dict:
    response = get(base, "/api/search", **params)
    assert response.status_code == 200, response.text
    return response.json()


def soup(response: requests.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def all_ids(base: str, **params) -> list[str]:
    ids, page = [], 1
    while True:
        data = api(base, per_page=50, page=page, **params)
        ids += [r["id"] for r in data["results"]]
        if page >= data["pages"]:
            return ids
        page += 1


def test_home_page(portal_url):
    response = get(portal_url, "/")
    assert response.status_code == 200
    page = soup(response)
    assert page.html["lang"] == "fr"
    text = page.get_text(" ", strip=True)
    assert "Nos emplettes sont nos emplois !" in text
    assert "Cherchez parmi les produits des commerces de la région, achetez chez eux." in text
    form = page.find("form", role="search")
    assert form["action"] == "/recherche" and form["method"] == "get" and form.find("input", attrs={"name": "q"})
    assert f"{len(PRODUCTS)} produits" in text


def test_home_with_a_query_redirects_to_the_results(portal_url):
    response = requests.get(portal_url + "/?q=bougie&town=Blois", allow_redirects=False, timeout=10)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/recherche?q=bougie&town=Blois")


def test_api_search_shape(portal_url):
    data = api(portal_url, q="vélo électrique")
    assert list(data) == ["total", "page", "per_page", "pages", "results", "facets", "notices"]
    assert data["total"] >= 1 and data["page"] == 1 and data["per_page"] == 20
    first = data["results"][0]
    assert list(first) == [
        "id",
        "name",
        "price",
        "price_display",
        "currency",
        "availability",
        "availability_label",
        "url",
        "image",
        "image_small",
        "image_large",
        "description",
        "brand",
        "category",
        "shop",
        "town",
        "postcode",
        "distance_km",
        "price_high",
        "services",
        "last_seen",
    ]
    assert first["name"] == "Vélo électrique Loire à Vélo"
    assert first["price"] == "1299.00" and first["price_display"] == "1 299,00 €" and first["currency"] == "EUR"
    assert first["availability"] == "in_stock" and first["availability_label"] == "En stock"
    assert first["url"] == "https://cycles-tourangeaux.example/produits/produit-22"
    assert first["image"].startswith("https://cycles-tourangeaux.example/images/")
    assert first["shop"] == {
        "id": "cycles-tourangeaux",
        "name": "Cycles Tourangeaux",
        "url": "https://cycles-tourangeaux.example/",
    }
    assert first["town"] == "Tours" and first["postcode"] == "37000" and first["distance_km"] is None
    assert first["price_high"] is None and first["services"] == ["delivery"]
    assert first["last_seen"] == "2026-11-20T09:00:00Z"
    assert len(first["description"]) <= 181
    assert set(data["facets"]) == {"town", "category", "availability", "shop", "services"}
    for values in data["facets"].values():
        for value in values:
            assert {"value", "count", "selected"} <= set(value)


def test_api_product_without_price(portal_url):
    [hit] = api(portal_url, q="panier garni")["results"][:1]
    assert (
        hit["price"] is None
        and hit["price_display"] == ""
        and hit["availability_label"] == "Disponibilité non précisée"
    )


def test_facet_counts_match_the_records(portal_url):
    data = api(portal_url)
    assert data["total"] == len(PRODUCTS)
    towns = {f["value"]: f["count"] for f in data["facets"]["town"]}
    expected = {}
    for record in PRODUCTS:
        expected[record["town"]] = expected.get(record["town"], 0) + 1
    assert towns == expected
    availability = {f["value"]: (f["count"], f["label"]) for f in data["facets"]["availability"]}
    assert availability["out_of_stock"] == (
        sum(r["availability"] == "out_of_stock" for r in PRODUCTS),
        "Rupture de stock",
    )


def test_filters_and_disjunctive_facets(portal_url):
    data = api(portal_url, town="Tours", per_page=50)
    assert data["total"] == sum(r["town"] == "Tours" for r in PRODUCTS)
    assert {r["town"] for r in data["results"]} == {"Tours"}
    towns = {f["value"]: f for f in data["facets"]["town"]}
    assert towns["Tours"]["selected"] is True and towns["Blois"]["selected"] is False
    assert towns["Blois"]["count"] == sum(r["town"] == "Blois" for r in PRODUCTS)  # other towns stay countable

    both = api(portal_url, town=["Tours", "Blois"], per_page=50)  # OR within a filter
    assert both["total"] == sum(r["town"] in ("Tours", "Blois") for r in PRODUCTS)

    narrowed = api(portal_url, town="Tours", availability="in_stock", per_page=50)  # AND across filters
    assert narrowed["total"] == sum(r["town"] == "Tours" and r["availability"] == "in_stock" for r in PRODUCTS)
    assert {r["availability"] for r in narrowed["results"]} == {"in_stock"}

    services = api(portal_url, services="gift_vouchers", per_page=50)
    assert services["total"] == sum("gift_vouchers" in r["services"] for r in PRODUCTS)


def test_price_range(portal_url):
    data = api(portal_url, price_min="10", price_max="20", per_page=50)
    expected = [r for r in PRODUCTS if r["price"] is not None and 10 <= Decimal(r["price"]) <= 20]
    assert data["total"] == len(expected)
    assert all(Decimal("10") <= Decimal(r["price"]) <= Decimal("20") for r in data["results"])


def test_sorts(portal_url):
    ascending = [Decimal(r["price"]) for r in api(portal_url, sort="price_asc", per_page=50)["results"] if r["price"]]
    assert ascending == sorted(ascending) and len(ascending) == sum(r["price"] is not None for r in PRODUCTS)
    descending = [Decimal(r["price"]) for r in api(portal_url, sort="price_desc", per_page=50)["results"] if r["price"]]
    assert descending == sorted(descending, reverse=True)
    newest = api(portal_url, sort="newest", per_page=3)["results"]
    by_first_seen = sorted(PRODUCTS, key=lambda r: r["first_seen"], reverse=True)
    assert [r["id"] for r in newest] == [r["id"] for r in by_first_seen[:3]]


def test_pagination(portal_url):
    first = api(portal_url, per_page=10)
    assert first["pages"] == math.ceil(len(PRODUCTS) / 10)
    ids = []
    for page in range(1, first["pages"] + 1):
        data = api(portal_url, per_page=10, page=page)
        assert data["page"] == page and len(data["results"]) <= 10
        ids += [r["id"] for r in data["results"]]
    assert sorted(ids) == sorted(r["id"] for r in PRODUCTS)  # every product once
    assert api(portal_url, per_page=500)["per_page"] == 50


def test_near_me(portal_url):
    data = api(portal_url, lat="47.39", lon="0.69", radius="5", per_page=50)  # Tours
    assert data["total"] == sum(r["town"] == "Tours" for r in PRODUCTS)
    distances = [r["distance_km"] for r in data["results"]]
    assert all(d is not None and d <= 5 for d in distances) and distances == sorted(distances)


@pytest.mark.parametrize(
    "params",
    [
        {"page": "deux"},
        {"price_min": "gratuit"},
        {"sort": "hasard"},
        {"lat": "91", "lon": "0"},
        {"lat": "47"},
        {"price_min": "30", "price_max": "10"},
    ],
)
def test_api_rejects_bad_parameters(portal_url, params):
    response = get(portal_url, "/api/search", **params)
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("application/json")
    assert next(iter(params)) in response.json()["error"]


def test_html_tolerates_bad_parameters(portal_url):
    response = get(portal_url, "/recherche", q="bougie", page="deux", price_min="gratuit", sort="hasard")
    assert response.status_code == 200
    assert "Bougie parfumée vanille" in response.text


def test_results_page(portal_url):
    response = get(portal_url, "/recherche", q="vélo électrique")
    assert response.status_code == 200
    page = soup(response)
    card = page.select_one("li.product")
    assert card.select_one(".product-name").get_text().strip() == "Vélo électrique Loire à Vélo"
    price = card.select_one("span.price")
    assert price.get_text() == "1 299,00 €"
    assert card.select_one(".badge").get_text(strip=True) == "En stock"
    out = card.select_one(".product-name a")
    assert out["href"] == "/go/cycles-tourangeaux-produit-22"  # counted, then redirected to the shop
    assert "noopener" in out["rel"] and "nofollow" in out["rel"]
    redirect = requests.get(portal_url + out["href"], allow_redirects=False, timeout=10)
    assert (
        redirect.status_code in (302, 303)
        and redirect.headers["Location"] == "https://cycles-tourangeaux.example/produits/produit-22"
    )
    see = card.select_one("a.button--out")
    assert see["href"] == out["href"] and see.get_text(strip=True).startswith("Voir chez Cycles Tourangeaux")
    shop = card.select_one(".product-shop a")
    assert shop["href"] == "/boutique/cycles-tourangeaux" and shop.get_text() == "Cycles Tourangeaux"
    assert "Tours" in card.select_one(".product-shop").get_text()
    # The crawler stored no copy of this image: a placeholder, never the shop's image URL
    # (stored images: tests/test_images.py).
    assert card.select_one("img") is None and card.select_one(".product-image-none") is not None


def test_results_page_facets_sort_and_pagination_keep_parameters(portal_url):
    response = get(portal_url, "/recherche", availability="in_stock", sort="price_asc", per_page="5")
    page = soup(response)
    facet = page.select_one('fieldset.facet--availability input[value="in_stock"]')
    assert facet.has_attr("checked")
    assert page.select_one('fieldset.facet--availability input[value="preorder"]') is not None
    assert page.select_one('select[name="sort"] option[selected]')["value"] == "price_asc"
    assert page.select_one('form#filtres input[name="per_page"]')["value"] == "5"
    next_link = page.select_one(".pagination a[rel=next]")
    assert next_link.get_text(strip=True).startswith("Suivant")
    params = parse_qs(urlsplit(next_link["href"]).query)
    assert params == {"availability": ["in_stock"], "sort": ["price_asc"], "per_page": ["5"], "page": ["2"]}

    second = soup(requests.get(portal_url + next_link["href"], timeout=10))
    assert second.select_one(".pagination [aria-current=page]").get_text() == "2"
    previous = parse_qs(urlsplit(second.select_one(".pagination a[rel=prev]")["href"]).query)
    assert "page" not in previous and previous["sort"] == ["price_asc"]


def test_page_past_the_end_shows_the_last_page(portal_url):
    page = soup(get(portal_url, "/recherche", per_page="10", page="999"))
    assert page.select_one(".pagination [aria-current=page]").get_text() == str(math.ceil(len(PRODUCTS) / 10))
    assert page.select("li.product")


def test_hostile_product_name_is_escaped(portal_url):
    response = get(portal_url, "/recherche", q="bougie")
    assert response.status_code == 200
    assert '<script>alert("xss")</script>' not in response.text
    assert "&lt;script&gt;" in response.text
    names = [n.get_text().strip() for n in soup(response).select(".product-name")]
    assert HOSTILE_NAME in names  # shown as text, in full
    shop_page = get(portal_url, "/boutique/atelier-hostile")
    assert "<img src=x onerror" not in shop_page.text and "&lt;img src=x onerror" in shop_page.text


def test_javascript_urls_never_reach_a_link(portal_url):
    for path, params in [("/recherche", {"town": "Amboise"}), ("/boutique/atelier-hostile", {})]:
        response = get(portal_url, path, **params)
        assert response.status_code == 200
        assert "javascript:" not in response.text.lower()
        for tag in soup(response).find_all(["a", "img"]):
            for attribute in ("href", "src"):
                if tag.has_attr(attribute):
                    assert re.match(r"^(https?://|/|\?|#|tel:)", tag[attribute]), tag
    [vase] = list(api(portal_url, q="vase")["results"])
    assert vase["url"] is None and vase["image"] is None and vase["shop"]["url"] is None


# Data islands (structured data, the map's points): never run, so outside script-src.
DATA_SCRIPTS = ("application/ld+json", "application/json")


def test_no_inline_script_or_style(portal_url):
    for path in ["/", "/recherche?q=bougie", "/boutique/senteurs-loire", "/recherche?q=zzzz"]:
        page = soup(requests.get(portal_url + path, timeout=10))
        scripts = [s for s in page.find_all("script") if s.get("type") not in DATA_SCRIPTS]
        assert all(script.has_attr("src") and not script.string for script in scripts)
        assert not page.find_all("style") and not page.find_all(style=True)
        assert not [t for t in page.find_all(True) if any(a.startswith("on") for a in t.attrs)]


def test_security_headers_everywhere(portal_url):
    for path in ["/", "/recherche?q=x", "/api/search", "/static/style.css", "/nulle-part", "/healthz"]:
        headers = requests.get(portal_url + path, timeout=10).headers
        assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, path
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY and "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY


def test_empty_state(portal_url):
    response = get(portal_url, "/recherche", q="zzzinconnu", town="Tours")
    assert response.status_code == 200
    page = soup(response)
    empty = page.select_one(".empty-state")
    assert "Aucun produit ne correspond à « zzzinconnu »" in empty.get_text()
    removal = [a for a in empty.find_all("a") if "Tours" in a.get_text()]
    assert removal and parse_qs(urlsplit(removal[0]["href"]).query) == {"q": ["zzzinconnu"]}
    assert "mot plus général" in empty.get_text()


def test_shop_page(portal_url):
    response = get(portal_url, "/boutique/senteurs-loire")
    assert response.status_code == 200
    page = soup(response)
    text = page.get_text(" ", strip=True)
    assert page.h1.get_text() == "Senteurs de Loire"
    for expected in [
        "rue Nationale",
        "41000 Blois",
        "02 47 00 00 00",
        "09:30",
        "Retrait en boutique",
        "Chèques cadeaux locaux acceptés",
    ]:
        assert expected in text
    assert page.find("a", href="https://senteurs-loire.example/")
    assert page.find("a", href="tel:0247000000")
    cards = page.select("li.product")
    assert len(cards) == sum(r["shop_id"] == "senteurs-loire" for r in PRODUCTS)
    assert get(portal_url, "/boutique/nulle-part").status_code == 404


def test_suggest(portal_url):
    response = get(portal_url, "/api/suggest", q="boug")
    assert response.status_code == 200
    suggestions = response.json()["suggestions"]
    assert "Bougie parfumée vanille" in suggestions
    assert get(portal_url, "/api/suggest", q="").json() == {"suggestions": []}
    assert get(portal_url, "/api/suggest", q="boug", limit="x").status_code == 400


def test_healthz_and_errors(portal_url):
    health = get(portal_url, "/healthz").json()
    assert health["status"] == "ok" and health["products"] == len(PRODUCTS) and health["shops"] == len(SHOPS)
    missing = get(portal_url, "/nulle-part")
    assert missing.status_code == 404 and "Page introuvable" in missing.text
    api_missing = get(portal_url, "/api/nulle-part")
    assert api_missing.status_code == 404 and "error" in api_missing.json()


# ---------------------------------------------------------------------- before the first crawl


def test_empty_catalogue(tmp_path):
    from config import Config
    from indexer.backends.tantivy import TantivyBackend
    from portal import create_app
    from portal.server import serving_in_thread

    backend = TantivyBackend(tmp_path / "index")
    with serving_in_thread(create_app(Config(data_dir=tmp_path), backend)) as base:
        for path in ["/", "/recherche?q=bougie"]:
            response = get(base, path)
            assert response.status_code == 200
            assert "Le catalogue est en cours de constitution…" in response.text
        assert api(base, q="bougie")["total"] == 0
    backend.close()


def test_index_not_built_yet(tmp_path):
    """Without an index the portal still answers, and finds the index once it exists."""
    from config import Config
    from portal import create_app
    from portal.server import serving_in_thread

    config = Config(data_dir=tmp_path / "pas-encore")
    with serving_in_thread(create_app(config)) as base:
        home = get(base, "/")
        assert home.status_code == 200 and "Le catalogue est en cours de constitution…" in home.text
        results = get(base, "/recherche", q="bougie")
        assert results.status_code in (200, 503) and "Le catalogue est en cours de constitution…" in results.text
        assert get(base, "/api/search").status_code in (200, 503)
        assert get(base, "/healthz").status_code in (200, 503)

        # The first indexing run (another process in real life) shows up at the next request.
        from indexer.backends.tantivy import TantivyBackend

        with TantivyBackend(config.index_dir) as writer:
            writer.upsert(portal_records())
        assert api(base)["total"] == len(PRODUCTS)
        assert "Vélo électrique Loire à Vélo" in get(base, "/recherche", q="vélo").text


def test_backend_unavailable(tmp_path):
    """An index that cannot be read (disk, Elasticsearch down): friendly page, JSON 503."""
    from config import Config
    from indexer.search import BackendUnavailable, SearchBackend
    from portal import create_app
    from portal.server import serving_in_thread

    class Down(SearchBackend):
        def _down(self, *args, **kwargs):
            raise BackendUnavailable("index unreachable")

        upsert = first_seen = delete_source = search = suggest = get = shops = stats = _down

    with serving_in_thread(create_app(Config(data_dir=tmp_path), Down())) as base:
        results = get(base, "/recherche", q="bougie")
        assert results.status_code == 503 and "Le catalogue est en cours de constitution…" in results.text
        assert get(base, "/").status_code == 200
        for path in ["/api/search", "/api/suggest?q=bou", "/healthz"]:
            response = get(base, path)
            assert response.status_code == 503 and response.headers["Content-Type"].startswith("application/json")


# ---------------------------------------------------------------- rendering speed-ups, same output


@pytest.mark.parametrize("record_id", ["p1", "src:abc/123", "é à ?#%&=+", "a b", "x%2Fy", "../etc"])
def test_link_for_builds_what_url_for_builds(record_id):
    from flask import url_for

    from portal import create_app
    from portal.templating import link_for

    app = create_app(backend=object())  # no search: only routes are built
    for script_root in ("", "/portail"):
        with app.test_request_context("/recherche", base_url=f"http://localhost{script_root}"):
            for _ in range(2):  # the second call uses the route built by the first
                assert link_for("go.product", record_id=record_id) == url_for("go.product", record_id=record_id)
                assert link_for("shops.shop", shop_id=record_id) == url_for("shops.shop", shop_id=record_id)


def test_templates_read_dict_keys_as_jinja_does():
    """Keys first on dicts, but only where Jinja's attribute-first lookup gives the key too."""
    import jinja2

    from portal import create_app
    from portal.presenters import ProductView

    class Attributes(dict):
        def __getattr__(self, name):
            return "attribute"

    app = create_app(backend=object())
    view = ProductView(name="clé", items="a key")
    view.name_segments = [("clé", True)]
    render = app.jinja_env.from_string(
        "{{ d.value }} {{ d.items is callable }} {{ d.missing is undefined }} {{ v.name }} {{ v.name_segments|length }}"
        " {{ v.items is callable }} {{ a.value }} {{ a.other }}"
    )
    values = dict(d={"value": 1, "items": 2}, v=view, a=Attributes(value="key"))
    with app.test_request_context("/"):
        out = render.render(**values)
    assert out == "1 True True clé 1 True attribute attribute"
    plain = jinja2.Environment(autoescape=True).from_string(
        "{{ d.value }} {{ d.items is callable }} {{ d.missing is undefined }} {{ v.name }} {{ v.name_segments|length }}"
        " {{ v.items is callable }} {{ a.value }} {{ a.other }}"
    )
    assert plain.render(**values) == out  # what Jinja's own lookup gives


def test_search_cache_size_setting_reaches_the_backend(tmp_path, monkeypatch):
    from config import Config
    from indexer.backends.tantivy import TantivyBackend
    from indexer.search import open_backend

    TantivyBackend(tmp_path / "index").close()
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    assert Config().search_cache_size == 4096
    monkeypatch.setenv("SEARCH_CACHE_SIZE", "10")
    backend = open_backend(Config(), readonly=True)
    try:
        assert backend.cache_size == 10
    finally:
        backend.close()
