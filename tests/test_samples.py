"""The sample shop sites: served over real HTTP on 127.0.1.N, markup as the platforms emit
it, ground truth consistent with the pages, and sources.yaml in sync with the catalogue.

Markup is checked with extruct (and json5 for the broken shop), independently of the
project's own extractor, so these tests pin down the sites rather than the crawler.
"""

from __future__ import annotations

import html
import json
import re
import threading
from decimal import Decimal
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import extruct
import json5
import pytest
import requests
from protego import Protego

from samples import (
    SHOPS,
    SampleSites,
    demo_base_urls,
    expected_products,
    expected_shops,
    shop,
    sources_yaml,
    unreachable_products,
    write_sources_yaml,
)
from samples.federation import FEDERATION

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sites():
    with SampleSites(port=0) as running:
        yield running


def get(url: str, **kwargs) -> requests.Response:
    return requests.get(url, timeout=10, allow_redirects=False, **kwargs)


def products_of(sites, shop_id: str) -> list[dict]:
    return expected_products(sites.base_urls, shop_id)


# ---- the catalogue ------------------------------------------------------------------


def test_catalogue_is_big_and_varied_enough():
    assert len(SHOPS) >= 12
    assert len(expected_products()) >= 220
    assert len({s.style for s in SHOPS}) == 11
    assert len({s.town for s in SHOPS}) >= 10
    for spec in SHOPS:
        assert 15 <= len(spec.products) <= 25, spec.id
        assert spec.postcode[:2] in {"18", "28", "36", "37", "41", "45"}, spec.id  # Centre-Val de Loire
        assert 46.3 < spec.lat < 48.9 and 0.0 < spec.lon < 3.2, spec.id
    products = expected_products()
    assert {p["availability"] for p in products} == {"in_stock", "out_of_stock", "preorder", "unknown"}
    assert any(Decimal(p["price"]) >= 1000 for p in products)
    assert any(not p["price"].endswith(".00") for p in products)
    assert sum(1 for p in products if p["gtin"]) >= 40
    assert any("é" in p["name"] for p in products)


def test_generated_gtins_have_valid_check_digits():
    for product in expected_products():
        if product["gtin"]:
            digits = [int(d) for d in product["gtin"]]
            assert len(digits) == 13
            assert sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10 == 0, product


def test_unreachable_products_are_documented_and_excluded():
    hidden = unreachable_products()
    assert {p["hidden"] for p in hidden} == {"members_only", "server_error", "gone"}
    expected_urls = {p["url"] for p in expected_products()}
    assert not expected_urls & {p["url"] for p in hidden}


def test_expected_products_with_relative_urls_for_one_shop():
    records = expected_products("fromagerie-du-donjon")
    assert records == expected_products(shop_id="fromagerie-du-donjon")
    assert records[0]["url"] == "/fromages-de-chevre/1-sainte-maure-de-touraine-aop.html"
    assert records[0]["price"] == "9.20"
    with pytest.raises(KeyError):
        expected_products("no-such-shop")


# ---- serving --------------------------------------------------------------------------


def test_each_shop_has_its_own_loopback_host_on_one_port(sites):
    assert len(sites.base_urls) == len(SHOPS)
    hosts = {urlsplit(u).hostname for u in sites.base_urls.values()}
    assert hosts == {f"127.0.1.{s.number}" for s in SHOPS}
    assert {urlsplit(u).port for u in sites.base_urls.values()} == {sites.port}


def test_home_pages_have_navigation_and_info_pages(sites):
    for spec in SHOPS:
        response = get(sites.base_urls[spec.id])
        assert response.status_code == 200, spec.id
        page = response.text
        assert html.escape(spec.name, quote=False) in page.replace("&#39;", "'"), spec.id
        assert "<nav>" in page and "Mentions légales" in page, spec.id
        for label in ("À propos", "Contact"):
            href = re.search(rf'<a href="([^"]+)">{label}</a>', page).group(1)
            base = re.search(r'<base href="([^"]+)">', page)
            target = urljoin(urljoin(response.url, base.group(1)) if base else response.url, href)
            assert get(target).status_code == 200, (spec.id, target)


def test_robots_txt_per_platform(sites):
    robots = {s.id: get(sites.base_urls[s.id] + "robots.txt") for s in SHOPS}
    assert robots["fleurs-de-leonie"].status_code == 404  # a catalogue page with no robots.txt
    presta = Protego.parse(robots["fromagerie-du-donjon"].text)
    base = sites.base_urls["fromagerie-du-donjon"]
    assert not presta.can_fetch(base + "panier?add=1&id_product=3", "emplettes")
    assert not presta.can_fetch(base + "compte/ventes-privees", "emplettes")
    assert not presta.can_fetch(base + "3-fromages-de-chevre?order=product.price.asc", "emplettes")
    assert presta.can_fetch(base + "3-fromages-de-chevre?page=2", "emplettes")
    assert not list(presta.sitemaps)
    shopify = Protego.parse(robots["brulerie-des-halles"].text)
    assert list(shopify.sitemaps) == [sites.base_urls["brulerie-des-halles"] + "sitemap.xml"]
    assert "/wp-admin/" in robots["cave-du-vieux-chinon"].text
    assert "Sitemap:" not in robots["le-petit-ebeniste"].text  # sources.yaml names it instead


def _locs(xml: str) -> list[str]:
    return [html.unescape(u) for u in re.findall(r"<loc>(.*?)</loc>", xml)]


@pytest.mark.parametrize(
    ("shop_id", "index_path"),
    [
        ("brulerie-des-halles", "sitemap.xml"),
        ("maison-carnot", "sitemap.xml"),
        ("cave-du-vieux-chinon", "sitemap_index.xml"),
        ("confiserie-des-canaux", "sitemap_index.xml"),
        ("chandellerie-d-amboise", "sitemap.xml"),
    ],
)
def test_sitemap_indexes_lead_to_every_product(sites, shop_id, index_path):
    index = get(sites.base_urls[shop_id] + index_path)
    assert index.status_code == 200 and "<sitemapindex" in index.text
    assert index.headers["Content-Type"].startswith("application/xml")
    listed = set()
    for child in _locs(index.text):
        response = get(child)
        assert response.status_code == 200, child
        listed.update(_locs(response.text))
    assert {p["url"] for p in products_of(sites, shop_id)} <= listed


def test_flat_sitemaps_list_products_including_broken_links(sites):
    quincaillerie = _locs(get(sites.base_urls["quincaillerie-du-loir"] + "sitemap.xml").text)
    broken = {p["url"] for p in unreachable_products(sites.base_urls, "quincaillerie-du-loir")}
    assert broken <= set(quincaillerie)
    for shop_id in ("le-petit-ebeniste", "cycles-de-la-sauldre"):
        listed = set(_locs(get(sites.base_urls[shop_id] + "sitemap.xml").text))
        assert {p["url"] for p in products_of(sites, shop_id)} == listed


def test_every_expected_product_page_answers_and_names_its_product(sites):
    for product in expected_products(sites.base_urls):
        response = get(product["url"])
        assert response.status_code == 200, product["url"]
        assert html.escape(product["name"], quote=False).replace("'", "&#39;").replace('"', "&#34;") in response.text, (
            product["url"]
        )
        image = get(product["image"])
        assert image.status_code == 200 and image.headers["Content-Type"] == "image/png", product["image"]
        assert image.content.startswith(b"\x89PNG\r\n\x1a\n")


def test_unreachable_products_answer_as_documented(sites):
    status = {"server_error": 500, "gone": 404, "members_only": 200}
    for product in unreachable_products(sites.base_urls):
        assert get(product["url"]).status_code == status[product["hidden"]], product


def _declared(response: requests.Response) -> dict:
    return extruct.extract(
        response.text,
        base_url=response.url,
        syntaxes=["json-ld", "microdata", "rdfa", "opengraph"],
        uniform=True,
        errors="ignore",
    )


def _types(items: list[dict]) -> set[str]:
    return {
        t.rsplit("/", 1)[-1]
        for item in items
        for t in ([item.get("@type")] if isinstance(item.get("@type"), str) else item.get("@type") or [])
    }


@pytest.mark.parametrize(
    ("style", "syntax"),
    [
        ("shopify", "json-ld"),
        ("woocommerce", "json-ld"),
        ("prestashop", "microdata"),
        ("rdfa", "rdfa"),
        ("itemlist", "json-ld"),
        ("prices", "microdata"),
        ("wix", "json-ld"),
        ("relative", "json-ld"),
    ],
)
def test_product_pages_declare_the_product_in_the_platform_syntax(sites, style, syntax):
    spec = next(s for s in SHOPS if s.style == style)
    product = products_of(sites, spec.id)[1]
    declared = _declared(get(product["url"]))
    items = declared[syntax]
    if style == "woocommerce":
        items = items[0]["@graph"]
        assert {"WebPage", "Organization", "Product"} <= _types(items)
    assert "Product" in _types(items), (style, declared)
    if syntax == "rdfa":  # extruct returns RDFa as expanded JSON-LD
        items = [{"name": v["@value"]} for i in items for v in i.get("https://schema.org/name", [])]
    names = {html.unescape(str(i.get("name"))) for i in items}
    assert product["name"] in names
    if syntax != "json-ld":
        assert "Product" not in _types(declared["json-ld"])


def test_opengraph_only_pages(sites):
    for product in products_of(sites, "fleurs-de-leonie"):
        declared = _declared(get(product["url"]))
        assert not declared["json-ld"] and not declared["microdata"]
        og = dict(declared["opengraph"][0])
        assert og["@type"] == "product" and og["og:url"] == product["url"]
        assert Decimal(og["product:price:amount"].replace(",", ".")) == Decimal(product["price"])
        assert "," in og["product:price:amount"] or "." not in og["product:price:amount"]
        assert og["product:retailer_item_id"] == product["sku"]
        assert ("product:availability" in og) == (product["availability"] != "unknown")


def test_itemlist_listings_carry_products_with_url_and_offers(sites):
    spec = shop("librairie-le-chat-qui-lit")
    listing = get(sites.base_urls[spec.id] + "rayon/romans-et-classiques")
    itemlist = _declared(listing)["json-ld"][0]
    assert itemlist["@type"] == "ItemList"
    items = [e["item"] for e in itemlist["itemListElement"]]
    expected = [p for p in products_of(sites, spec.id) if p["category"] == "Romans et classiques"]
    assert [(i["url"], i["offers"]["price"]) for i in items] == [(p["url"], p["price"]) for p in expected]


def test_dual_shop_declares_the_same_product_twice(sites):
    product = products_of(sites, "le-petit-ebeniste")[0]
    declared = _declared(get(product["url"]))
    (jsonld,) = [i for i in declared["json-ld"] if i["@type"] == "Product"]
    (microdata,) = declared["microdata"]
    assert jsonld["name"] == microdata["name"] == product["name"]
    assert jsonld["sku"] == microdata["sku"] == product["sku"]
    assert jsonld["url"] == microdata["url"] == product["url"]


def test_french_printed_prices_and_variant_offers(sites):
    pages = ""
    for product in products_of(sites, "cycles-de-la-sauldre"):
        response = get(product["url"])
        pages += response.text
        (item,) = _declared(response)["microdata"]
        offers = item["offers"] if isinstance(item["offers"], list) else [item["offers"]]
        printed = [o.get("price") or o.get("lowPrice") for o in offers]
        amounts = [Decimal(re.sub(r"[^\d,]", "", t).replace(",", ".")) for t in printed]
        assert min(amounts) == Decimal(product["price"]), product["name"]
    for text in ("1\u00a0299,00\u00a0€", "2\u202f190,00\u00a0€", "2 899,00\u00a0€", '"price">12,5<', '"price">6,5<'):
        assert text in pages
    aggregate = _declared(get(products_of(sites, "cycles-de-la-sauldre")[2]["url"]))["microdata"][0]["offers"]
    assert aggregate["@type"] == "AggregateOffer" and aggregate["offerCount"] == "3"


def test_availability_spellings_on_the_wix_like_shop(sites):
    spellings = set()
    for product in products_of(sites, "chandellerie-d-amboise"):
        (node,) = _declared(get(product["url"]))["json-ld"]
        offer = node.get("offers") or node["Offers"]
        value = offer.get("availability") or offer.get("Availability")
        if value:
            spellings.add(("Offers" in node, value.split(":")[0] if value.startswith("http") else "bare"))
    assert spellings == {(True, "https"), (False, "bare"), (False, "https"), (False, "http")}


def _lenient_json(text: str):
    text = text.strip()
    text = re.sub(r"^(//|/\*)<!\[CDATA\[(\*/)?|(//|/\*)\]\]>(\*/)?$", "", text, flags=re.M)
    return json5.loads(text)


def test_broken_shop_json_ld_is_recoverable_and_matches_the_truth(sites):
    defects = set()
    for product in products_of(sites, "quincaillerie-du-loir"):
        response = get(product["url"])
        assert response.headers["Content-Type"] == "text/html; charset=iso-8859-1"
        script = re.search(r'<script type="application/ld\+json">(.*?)</script>', response.text, re.S).group(1)
        with pytest.raises(json.JSONDecodeError):
            json.loads(script)  # never plain JSON
        node = _lenient_json(script)
        assert html.unescape(node["name"]) == product["name"]
        assert Decimal(str(node["offers"]["price"])) == Decimal(product["price"])
        defects |= {
            d
            for d, sign in (("cdata", r"CDATA"), ("comment", r"/\* "), ("comma", r",\s*[}\]]"))
            if re.search(sign, script)
        }
        defects |= {"entity"} if "&#039;" in script or "&amp;" in script else set()
    assert defects == {"cdata", "comment", "comma", "entity"}


def test_hostile_name_is_escaped_in_html_and_raw_in_json_ld(sites):
    (product,) = [p for p in products_of(sites, "chandellerie-d-amboise") if "<script>" in p["name"]]
    page = get(product["url"]).text
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert" in page
    (node,) = _declared(get(product["url"]))["json-ld"]
    assert node["name"] == 'Bougie <script>alert("xss")</script> vanille'


def test_prestashop_is_discovered_through_paginated_categories(sites):
    base = sites.base_urls["fromagerie-du-donjon"]
    first, second = get(base + "3-fromages-de-chevre"), get(base + "3-fromages-de-chevre?page=2")
    assert first.status_code == second.status_code == 200
    assert 'href="/3-fromages-de-chevre?page=2"' in first.text
    linked = set(re.findall(r'href="(/fromages-de-chevre/[^"]+)"', first.text + second.text))
    chevre = {
        urlsplit(p["url"]).path
        for p in products_of(sites, "fromagerie-du-donjon")
        if p["category"] == "Fromages de chèvre"
    }
    assert linked == chevre
    assert get(base + "3-fromages-de-chevre?page=7").status_code == 404
    assert (
        'href="/compte"' in first.text
        and "/panier?add=" in get(products_of(sites, "fromagerie-du-donjon")[0]["url"]).text
    )


def test_relative_urls_base_href_and_tracking_links(sites):
    base = sites.base_urls["comptoir-beauceron"]
    home = get(base).text
    assert '<base href="/boutique/">' in home
    tracked = re.findall(r'href="(produit/[^"]+\?utm_source=[^"]+)"', home)
    assert tracked
    product = products_of(sites, "comptoir-beauceron")[0]
    page = get(urljoin(base + "boutique/", html.unescape(tracked[0])))
    assert page.status_code == 200
    assert f'<link rel="canonical" href="{product["url"]}">' in page.text
    assert '"url": "produit/' in page.text and "?utm" not in product["url"]
    assert get(product["image"]).status_code == 200


def test_shops_with_business_markup_declare_it_on_home_and_contact(sites):
    shops = {s["shop_id"]: s for s in expected_shops(sites.base_urls)}
    assert len(shops) >= 6
    for shop_id, truth in shops.items():
        nodes = [n for n in _declared(get(sites.base_urls[shop_id]))["json-ld"] if n.get("@type") == truth["@type"]]
        assert nodes, shop_id
        node = nodes[0]
        assert node["address"]["postalCode"] == shop(shop_id).postcode
        assert node["geo"]["latitude"] == shop(shop_id).lat
        assert node.get("openingHoursSpecification") or node.get("openingHours")


def test_woocommerce_redirects_missing_trailing_slash_and_supports_conditional_requests(sites):
    product = products_of(sites, "cave-du-vieux-chinon")[0]
    response = get(product["url"].rstrip("/"))
    assert response.status_code == 301 and response.headers["Location"].endswith(urlsplit(product["url"]).path)
    first = get(product["url"])
    again = get(product["url"], headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_requests_are_logged_per_shop(sites):
    get(sites.base_urls["maison-carnot"] + "robots.txt", headers={"User-Agent": "emplettes-test"})
    logged = sites.requests_to("maison-carnot")
    assert any(r.path == "/robots.txt" and r.status == 200 and r.user_agent == "emplettes-test" for r in logged)


# ---- sources.yaml ---------------------------------------------------------------------


def test_committed_sources_yaml_matches_the_catalogue():
    committed = (ROOT / "sources.yaml").read_text(encoding="utf-8")
    assert committed == sources_yaml(demo_base_urls()), "regenerate: python -m samples --write-sources sources.yaml"


def test_sources_yaml_validates_and_lists_every_shop():
    from crawler.registry import load_registry

    registry = load_registry(ROOT / "sources.yaml")
    markup = [s for s in registry.sources if s.id not in {f.id for f in FEDERATION}]
    assert [s.id for s in sorted(markup, key=lambda s: shop(s.id).number)] == [s.id for s in SHOPS]
    for source in markup:
        spec = shop(source.id)
        assert source.url == f"http://127.0.1.{spec.number}:8701/"
        assert source.allow_private is True
        assert (source.town, source.postcode, source.name) == (spec.town, spec.postcode, spec.name)
        assert (source.geo.lat, source.geo.lon) == (spec.lat, spec.lon)
        assert source.services == list(spec.services)
    assert registry.get("le-petit-ebeniste").sitemap == "http://127.0.1.7:8701/sitemap.xml"
    # The federation's platform shops: kinds left to detection, but where no page can tell.
    federation = {s.id: s for s in registry.sources if s.id in {f.id for f in FEDERATION}}
    assert set(federation) == {f.id for f in FEDERATION}
    assert {s.id: s.kind for s in federation.values()} == {
        "epicerie-des-tanneurs": None,
        "cave-saint-martin": None,
        "sabots-du-berry": None,
        "vitrines-de-blois": "platform",
        "atelier-de-loire": "social",
    }
    assert federation["cave-saint-martin"].url.endswith("/boutique/")
    assert federation["epicerie-des-tanneurs"].url.endswith("/fr-fr/")


def test_write_sources_yaml_points_at_the_running_sites(sites, tmp_path):
    from crawler.registry import load_registry

    path = tmp_path / "sources.yaml"
    write_sources_yaml(path, sites.base_urls)
    registry = load_registry(path)
    assert {s.id: s.url for s in registry.sources} == sites.base_urls
    subset = {k: v for k, v in sites.base_urls.items() if k in ("maison-carnot", "fleurs-de-leonie")}
    write_sources_yaml(path, subset)
    assert {s.id for s in load_registry(path).sources} == set(subset)


# ---- lifecycle ------------------------------------------------------------------------


def test_a_subset_starts_and_stops_cleanly():
    before = threading.active_count()
    running = SampleSites(port=0, shops=["fleurs-de-leonie", "maison-carnot"]).start()
    url = running.base_urls["maison-carnot"]
    assert list(running.base_urls) == ["fleurs-de-leonie", "maison-carnot"]
    assert get(url).status_code == 200
    port = running.port
    running.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=2)
    assert threading.active_count() <= before
    with SampleSites(port=port, shops=["maison-carnot"]) as again:  # the port is free again
        assert get(again.base_urls["maison-carnot"]).status_code == 200


def test_unknown_shop_is_an_error():
    with pytest.raises(KeyError):
        SampleSites(shops=["boulangerie-fantome"])


def test_a_taken_port_is_reported_and_nothing_is_left_bound():
    import socket

    with socket.socket() as squatter:
        squatter.bind(("127.0.1.2", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        with pytest.raises(OSError, match="in use"):
            SampleSites(port=port, shops=["brulerie-des-halles", "cave-du-vieux-chinon"]).start()
    with SampleSites(port=port, shops=["brulerie-des-halles"]) as sites:  # the first host was released
        assert get(sites.base_urls["brulerie-des-halles"]).status_code == 200
