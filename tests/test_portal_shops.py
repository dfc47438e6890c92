"""Shop pages, the directory, and what search engines read (sitemap, robots.txt, OpenSearch),
over real HTTP against a real tantivy index served by waitress."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from portal_samples import extra_records, portal_records
from served_portal import PORTAL_BACKENDS, served_portal

PUBLIC = "https://emplettes.region.example"
TILES = "https://tiles.invalid/{z}/{x}/{y}.png"


@pytest.fixture(scope="module", params=PORTAL_BACKENDS)
def shops_url(request, tmp_path_factory):
    """The portal with maps and a public address configured."""
    with served_portal(
        portal_records() + extra_records(),
        tmp_path_factory.mktemp("shops-data"),
        request.param,
        public_url=PUBLIC + "/",
        map_tile_url=TILES,
        map_attribution="© les contributeurs OpenStreetMap",
        api_rate_limit="off",
    ) as (url, _, _):
        yield url


def get(base: str, path: str, status: int = 200) -> requests.Response:
    response = requests.get(base + path, timeout=10, allow_redirects=False)
    assert response.status_code == status, (path, response.status_code)
    return response


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def hrefs(html: str, pattern: str = "") -> list[str]:
    return [unescape(h) for h in re.findall(r'href="([^"]*)"', html) if pattern in unescape(h)]


def json_block(html: str, block_id: str):
    match = re.search(rf'<script type="application/json" id="{block_id}">(.*?)</script>', html, re.S)
    assert match, block_id
    return json.loads(match.group(1))


# --------------------------------------------------------------------------- shop page


def test_shop_page_says_who_where_when_and_how_to_call(shops_url):
    html = get(shops_url, "/boutique/grande-librairie").text
    text = text_of(html)
    assert "<h1>La Grande Librairie</h1>" in html
    assert "1 place Plumereau" in text and "37000 Tours" in text
    assert 'href="tel:+33247112233"' in html
    assert "Ouvert maintenant · 24 h/24" in text
    assert "Retrait en boutique" in text and "Chèques cadeaux locaux" in text
    assert "click_and_collect" not in text and "gift_vouchers" not in text
    assert 'href="https://grande-librairie.example/"' in html
    assert f'<link rel="canonical" href="{PUBLIC}/boutique/grande-librairie">' in html
    # The week in French, day by day.
    assert re.search(r"<th scope=\"row\">lundi</th><td>00:00 – 24:00</td>", html)


def test_hours_table_and_status_from_the_crawler_format(shops_url):
    html = get(shops_url, "/boutique/boite-a-livres").text  # "Mo-Sa 09:30-19:00"
    rows = re.findall(r'<th scope="row">([^<]+)</th><td>([^<]+)</td>', html)
    assert rows == [(d, "09:30 – 19:00") for d in ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi")] + [
        ("dimanche", "Fermé")
    ]
    status = re.search(r'<p class="opening-status[^"]*">([^<]+)</p>', html).group(1)
    assert status.startswith(("Ouvert maintenant · ferme à 19:00", "Fermé · ouvre "))


def test_unreadable_hours_are_shown_as_written(shops_url):
    html = get(shops_url, "/boutique/fromagerie-vague").text
    assert "<li>Ouvert quand il fait beau</li>" in html
    assert re.search(r'<th scope="row">lundi</th><td>09:00 – 12:00</td>', html)


def test_hostile_shop_fields_stay_text_and_its_bad_link_is_dropped(shops_url):
    html = get(shops_url, "/boutique/atelier-hostile").text
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "javascript:" not in html
    points = json_block(html, "carte-boutique-points")
    assert points[0]["name"] == "Atelier <img src=x onerror=alert(1)>"  # data, drawn with textContent
    assert "<img" not in re.search(r'id="carte-boutique-points">(.*?)</script>', html, re.S).group(1)


def test_products_are_searchable_within_the_shop(shops_url):
    html = get(shops_url, "/boutique/boite-a-livres?q=atlas").text
    names = [text_of(h) for h in re.findall(r'<h3 class="product-name">(.*?)</h3>', html, re.S)]
    assert names == ["Atlas des châteaux de la Loire"]
    assert 'value="atlas"' in html and "1 produit pour « atlas »" in text_of(html)
    # Another shop's products never appear, even when they match.
    html = get(shops_url, "/boutique/boite-a-livres?q=bougie").text
    assert "Bougie" not in text_of(html).replace("« bougie »", "")
    assert "/recherche?q=bougie" in hrefs(html, "/recherche")


def test_shop_pagination_keeps_the_search(shops_url):
    html = get(shops_url, "/boutique/grande-librairie?q=livre").text
    assert "30 produits pour « livre »" in text_of(html)
    next_link = next(h for h in hrefs(html, "page=2") if "/boutique/grande-librairie" in h)
    assert parse_qs(urlsplit(next_link).query) == {"q": ["livre"], "page": ["2"]}
    page2 = get(shops_url, next_link).text
    assert 'aria-current="page" href="/boutique/grande-librairie?q=livre&amp;page=2"' in page2


def test_product_links_go_out_through_go(shops_url):
    html = get(shops_url, "/boutique/grande-librairie").text
    outs = hrefs(html, "/go/")
    assert outs and all(h.startswith("/go/grande-librairie-livre-") for h in outs)
    assert not hrefs(html, "grande-librairie.example/livres")
    response = get(shops_url, outs[0], 302)
    assert response.headers["Location"].startswith("https://grande-librairie.example/livres/")


def test_a_shop_known_only_from_its_products_has_a_page(shops_url):
    html = get(shops_url, "/boutique/orphelin").text
    assert "<h1>Boutique Orpheline</h1>" in html and "Tasse en grès" in html


def test_unknown_shops_and_product_ids_are_not_found(shops_url):
    assert "Page introuvable" in get(shops_url, "/boutique/nulle-part", 404).text
    get(shops_url, "/boutique/grande-librairie-livre-01", 404)


def test_shop_map_data_comes_from_json_not_script(shops_url):
    html = get(shops_url, "/boutique/grande-librairie").text
    assert f'data-tiles="{TILES}"' in html and "© les contributeurs OpenStreetMap" in html
    assert json_block(html, "carte-boutique-points") == [
        {
            "lat": 47.395,
            "lon": 0.684,
            "name": "La Grande Librairie",
            "town": "Tours",
            "url": "/boutique/grande-librairie",
        }
    ]
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert all(
        body.strip() == "" or 'type="application/json"' in attrs or 'type="application/ld+json"' in attrs
        for attrs, body in scripts
    )
    assert re.search(r'<script src="/static/vendor/leaflet/leaflet[.\w]*\.js" defer>', html)


def test_without_map_tiles_the_map_is_the_bundled_region_and_nothing_leaves_the_portal(portal_url):
    for path in ("/boutique/boite-a-livres", "/boutiques"):
        html = get(portal_url, path).text
        assert "data-tiles" not in html and "La Boîte à Livres" in html
        (geo,) = re.findall(r'data-geo="([^"]+)"', html)
        assert re.fullmatch(r"/static/geo/centre-val-de-loire\.[0-9a-f]{8}\.json", geo), geo
        assert "IGN Admin Express et INSEE, Licence Ouverte" in html
        assets = re.findall(r'<(?:script|link rel="stylesheet")[^>]*?(?:src|href)="([^"]+)"', html)
        assert assets and all(a.startswith("/static/") for a in assets), assets  # all the portal's own
    region = get(portal_url, geo).json()
    assert len(region["departements"]) == 6 and len(region["communes"]) > 1700
    assert {d["code"] for d in region["departements"]} == {"18", "28", "36", "37", "41", "45"}
    assert "Licence Ouverte" in region["licence"]


def test_canonical_urls_use_the_request_host_without_public_url(portal_url):
    html = get(portal_url, "/boutique/boite-a-livres?q=atlas&page=1").text
    assert f'<link rel="canonical" href="{portal_url}/boutique/boite-a-livres">' in html


# --------------------------------------------------------------------------- directory


def _directory_groups(html: str) -> dict[str, list[str]]:
    groups = {}
    for section in re.findall(r'<section class="directory-town".*?</section>', html, re.S):
        town = re.search(r"<h2[^>]*>([^<]+)<", section).group(1).strip()
        groups[town] = re.findall(r'<h3 class="shop-card-name"><a href="[^"]+">([^<]+)</a>', section)
    return groups


def test_directory_lists_every_shop_by_town(shops_url):
    html = get(shops_url, "/boutiques").text
    groups = _directory_groups(html)
    assert list(groups) == ["Amboise", "Blois", "Bourges", "Orléans", "Tours", "Vendôme"]
    assert groups["Tours"] == ["Cycles Tourangeaux", "La Boîte à Livres", "La Grande Librairie"]
    assert "8 boutiques" in text_of(html)
    assert "/boutique/grande-librairie" in hrefs(html, "/boutique/")
    assert "30 produits au catalogue" in text_of(html)
    assert f'<link rel="canonical" href="{PUBLIC}/boutiques">' in html


def test_directory_filters_by_town_and_category_with_plain_links(shops_url):
    html = get(shops_url, "/boutiques").text
    tours = next(iter(hrefs(html, "town=Tours")))
    html = get(shops_url, tours).text
    assert list(_directory_groups(html)) == ["Tours"] and "Les boutiques de Tours" in html
    # Category chips are counted within the chosen town.
    librairie = next(iter(hrefs(html, "category=Librairie")))
    assert parse_qs(urlsplit(librairie).query) == {"town": ["Tours"], "category": ["Librairie"]}
    assert re.search(r'Librairie <span class="count">2</span>', html)
    html = get(shops_url, librairie).text
    assert _directory_groups(html) == {"Tours": ["La Boîte à Livres", "La Grande Librairie"]}
    assert 'chip--active" href="/boutiques?town=Tours&amp;category=Librairie" aria-current="true"' in html
    # Points on the map are the shops listed.
    assert [p["name"] for p in json_block(html, "carte-boutiques-points")] == [
        "La Boîte à Livres",
        "La Grande Librairie",
    ]


def test_directory_filters_forgive_case_and_accents(shops_url):
    html = get(shops_url, "/boutiques?town=vendome").text
    assert _directory_groups(html) == {"Vendôme": ["Fromagerie Vague"]}


def test_directory_with_nothing_matching_says_so(shops_url):
    html = get(shops_url, "/boutiques?town=Tours&category=Fromages").text
    assert "Aucune boutique ne correspond à ces filtres." in html and 'href="/boutiques"' in html


# ------------------------------------------------------------------ discovery files


def test_robots_txt_points_to_the_sitemap_and_keeps_bots_off_go_and_api(shops_url):
    response = get(shops_url, "/robots.txt")
    assert response.headers["Content-Type"].startswith("text/plain")
    lines = response.text.splitlines()
    assert "Disallow: /go/" in lines and "Disallow: /api/" in lines
    assert f"Sitemap: {PUBLIC}/sitemap.xml" in lines


def test_favicon_ico_leads_to_the_hashed_icon(shops_url):
    response = requests.get(f"{shops_url}/favicon.ico", allow_redirects=False, timeout=10)
    assert response.status_code == 301
    assert re.fullmatch(r"/static/favicon\.[0-9a-f]{8}\.svg", response.headers["Location"])
    icon = requests.get(shops_url + response.headers["Location"], timeout=10)
    assert icon.status_code == 200 and icon.headers["Content-Type"].startswith("image/svg+xml")


def test_sitemap_lists_home_directory_and_every_shop_page(shops_url):
    response = get(shops_url, "/sitemap.xml")
    assert response.headers["Content-Type"].startswith("application/xml")
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = [loc.text for loc in ET.fromstring(response.content).findall("s:url/s:loc", ns)]
    shops = [r["id"] for r in portal_records() + extra_records() if r["type"] == "shop"]
    assert locs[:2] == [f"{PUBLIC}/", f"{PUBLIC}/boutiques"]
    assert sorted(locs[2:]) == sorted(f"{PUBLIC}/boutique/{s}" for s in shops)


def test_sitemap_uses_the_request_host_without_public_url(portal_url):
    root = ET.fromstring(get(portal_url, "/sitemap.xml").content)
    locs = [e.text for e in root.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert locs and all(loc.startswith(portal_url + "/") for loc in locs)


def test_opensearch_description_lets_browsers_search_and_suggest(shops_url):
    home = get(shops_url, "/").text
    assert re.search(r'<link rel="search" type="application/opensearchdescription\+xml" href="/opensearch.xml"', home)
    response = get(shops_url, "/opensearch.xml")
    assert response.headers["Content-Type"].startswith("application/opensearchdescription+xml")
    root = ET.fromstring(response.content)
    ns = "{http://a9.com/-/spec/opensearch/1.1/}"
    assert root.find(f"{ns}ShortName").text == "Nos emplettes"
    templates = {u.get("type"): u.get("template") for u in root.findall(f"{ns}Url")}
    assert templates["text/html"] == f"{PUBLIC}/recherche?q={{searchTerms}}"
    suggest = templates["application/x-suggestions+json"]
    assert suggest == f"{PUBLIC}/api/suggest?format=opensearch&q={{searchTerms}}"
    # The same templates, followed on this server, answer as browsers expect.
    local = suggest.replace(PUBLIC, shops_url).replace("{searchTerms}", "boug")
    answer = requests.get(local, timeout=5)
    assert answer.headers["Content-Type"].startswith("application/x-suggestions+json")
    query, suggestions = answer.json()
    assert query == "boug" and "Bougie parfumée vanille" in suggestions
    results = get(shops_url, templates["text/html"].replace(PUBLIC, "").replace("{searchTerms}", "bougie")).text
    assert "Bougie parfumée vanille" in results


def test_a_long_directory_is_paged_keeping_its_filters(shops_url, monkeypatch):
    import portal.shops

    monkeypatch.setattr(portal.shops, "DIRECTORY_PER_PAGE", 2)  # the server runs in this process
    html = get(shops_url, "/boutiques?town=Tours").text
    assert sum(len(v) for v in _directory_groups(html).values()) == 2 and "Page 1 sur 2" in html
    next_page = hrefs(html, "page=2")[0]
    assert parse_qs(urlsplit(next_page).query) == {"town": ["Tours"], "page": ["2"]}
    html = get(shops_url, next_page).text
    assert _directory_groups(html) == {"Tours": ["La Grande Librairie"]} and "Page 2 sur 2" in html
    assert get(shops_url, "/boutiques?town=Tours&page=99").text.count("shop-card-name") == 1  # the last page
