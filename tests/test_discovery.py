"""Discovery by the platforms' own signals: WordPress's REST root (sub-folder installs),
Shopify's market sub-folders, advertised feeds, and the fall back to the next kind when an
endpoint or a feed fails or lists nothing, said in the run and in ``check``."""

from __future__ import annotations

import json
import subprocess
import sys
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
from corpus import html_documents, require_corpus
from crawling import crawl_registry, registry_entry
from loopback import served_pages

from crawler.adapters import shopify, woocommerce
from crawler.detect import advertised_feeds, detect, http_fetcher, platform_markers
from samples.platforms import PlatformShop, PlatformSites

# -- the signals, read from a page (pure) ----------------------------------------------------


def test_the_rest_root_comes_from_the_link_header_then_the_tag():
    header = {
        "Link": '<https://cave.fr/boutique/wp-json/>; rel="https://api.w.org/", <https://cave.fr/?p=2>; rel=shortlink'
    }
    assert woocommerce.rest_root("", header, "https://cave.fr/boutique/") == "https://cave.fr/boutique/wp-json/"
    tag = '<link rel="https://api.w.org/" href="/boutique/wp-json/">'
    assert woocommerce.rest_root(tag, {}, "https://cave.fr/boutique/") == "https://cave.fr/boutique/wp-json/"
    assert woocommerce.rest_root("<p>no WordPress here</p>", {"Link": ""}, "https://x.fr/") is None
    assert (
        woocommerce.rest_root('<link rel="https://api.w.org/" href="javascript:alert(1)">', {}, "https://x.fr/") is None
    )


def test_the_store_api_is_read_under_the_announced_root():
    assert woocommerce.products_url("https://cave.fr/", root="https://cave.fr/boutique/wp-json/", per_page=1) == (
        "https://cave.fr/boutique/wp-json/wc/store/v1/products?per_page=1&page=1"
    )
    # WordPress without pretty permalinks announces ?rest_route=/: the route travels in the query
    assert woocommerce.products_url("https://cave.fr/", 2, root="https://cave.fr/?rest_route=/") == (
        "https://cave.fr/?rest_route=%2Fwc%2Fstore%2Fv1%2Fproducts&per_page=100&page=2"
    )
    assert woocommerce.products_url("https://cave.fr/x/").startswith("https://cave.fr/wp-json/wc/store/v1/products?")


@pytest.mark.parametrize(
    ("url", "html", "root"),
    [
        ("https://epicerie.fr/", None, "https://epicerie.fr/"),
        ("https://epicerie.fr/fr-fr/", None, "https://epicerie.fr/fr-fr/"),
        ("https://epicerie.fr/fr/collections/all", None, "https://epicerie.fr/fr/"),
        ("https://epicerie.fr/collections/all", None, "https://epicerie.fr/"),
        ("https://epicerie.fr/", '<script>Shopify.routes.root = "/be-nl/";</script>', "https://epicerie.fr/be-nl/"),
        ("https://epicerie.fr/fr-fr/", "<script>Shopify.routes.root = '/';</script>", "https://epicerie.fr/"),
        ("https://epicerie.fr/", '<script>Shopify.routes.root = "//evil.example/";</script>', "https://epicerie.fr/"),
    ],
)
def test_a_shopify_shops_root_is_its_market_sub_folder(url, html, root):
    assert shopify.shop_root(url, html) == root
    assert shopify.products_url(root) == root + "products.json?limit=250&page=1"


def test_advertised_feeds_put_product_feeds_first_and_leave_comment_feeds_out():
    html = (
        '<link rel="alternate" type="application/rss+xml" title="Le blog" href="/feed/">'
        '<link rel="alternate" type="application/rss+xml" title="Vase Comments Feed" href="/produit/vase/feed/">'
        '<link rel="alternate" type="application/rss+xml" title="Flux produits" href="/flux.xml">'
        '<a href="/exports/google-shopping.xml">Flux Google Shopping</a>'
    )
    assert advertised_feeds(html, "https://x.fr/") == [
        "https://x.fr/flux.xml",
        "https://x.fr/exports/google-shopping.xml",
        "https://x.fr/feed/",
    ]


# -- the signals on real pages (../shared/corpus) --------------------------------------------


def _platform_documents(platform: str):
    require_corpus()
    return [d for d in html_documents() if (d.expected.get("platform") or "").startswith(platform)]


def test_real_shopify_and_woocommerce_pages_show_their_platform():
    for platform, marker in (("Shopify", "shopify"), ("WooCommerce", "woocommerce")):
        documents = _platform_documents(platform)
        assert len(documents) >= 5, platform
        missed = [d.name for d in documents if platform_markers(d.read_bytes())[0] != marker]
        assert not missed, f"{platform} pages read as something else: {missed}"


def test_real_wordpress_pages_announce_their_rest_root():
    announced = {}
    for document in _platform_documents("WooCommerce") + _platform_documents("WordPress"):
        root = woocommerce.rest_root(document.read_bytes(), {}, document.url)
        if root is not None:
            announced[document.name] = root
            origin = "{0.scheme}://{0.netloc}".format(urlsplit(document.url))
            assert root == origin + "/wp-json/", document.name
    assert len(announced) >= 4, announced  # the others were captured without their <head> links


def test_no_real_pages_comment_feed_is_taken_for_a_product_feed():
    for document in _platform_documents("WooCommerce"):
        for feed in advertised_feeds(document.read_bytes(), document.url):
            assert not feed.rstrip("/").endswith("/feed") or urlsplit(feed).path == "/feed/", (document.name, feed)


def test_a_real_shopify_payload_read_in_a_market_links_to_the_markets_pages():
    require_corpus()
    from corpus import CORPUS

    payload = (CORPUS / "shopify" / "theme-scripts-ratio-eight.product.js.json").read_bytes()
    (found,) = shopify.parse(payload, "https://ratio.example/fr-fr/", currency="EUR").products
    assert found["url"].startswith("https://ratio.example/fr-fr/products/")


# -- detection over HTTP: sub-folders and fall backs --------------------------------------------


SHOPS = [
    PlatformShop("woocommerce", n=23, id="cave", prefix="/boutique/"),
    PlatformShop("shopify", n=9, id="epicerie", prefix="/fr-fr/"),
    PlatformShop("shopify", n=4, id="ferme", faults={"/products.json": [404] * 20}),
]


@pytest.fixture(scope="module")
def sites():
    with PlatformSites(SHOPS, first=121) as running:
        yield running


def test_woocommerce_in_a_sub_folder_is_read_under_its_announced_root(sites):
    base = sites.base_urls["cave"]
    found = detect(base + "boutique/", http_fetcher(allow_private=True))
    assert found.summary() == "woocommerce (Store API, 23 produits)"
    assert found.root == base + "boutique/wp-json/"
    # registered by the host's root, the redirect leads to the shop, which names its root
    assert detect(base, http_fetcher(allow_private=True)).root == base + "boutique/wp-json/"


def test_a_shopify_market_sub_folder_is_read_at_its_root(sites):
    base = sites.base_urls["epicerie"]
    found = detect(base + "fr-fr/", http_fetcher(allow_private=True))
    assert (found.kind, found.products, found.root) == ("shopify", 9, base + "fr-fr/")
    assert any(path.startswith("/fr-fr/products.json") for path, _ in sites.requests_to("epicerie"))


def test_a_closed_api_falls_back_to_the_pages_and_says_why(sites):
    found = detect(sites.base_urls["ferme"], http_fetcher(allow_private=True))
    assert (found.kind, found.platform) == ("website", "shopify")
    assert found.fallbacks == ["shopify : products.json a répondu HTTP 404"]


# -- a page whose signals lead nowhere, then to a feed: the crawl and check agree -----------


RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:g="http://base.google.com/ns/1.0"><channel><title>Ferme</title>
{items}</channel></rss>"""
ITEM = (
    "<item><g:id>F-{i}</g:id><g:title>Terrine de la ferme n°{i}</g:title><link>{base}p/{i}</link>"
    "<g:price>{i}.50 EUR</g:price><g:availability>in stock</g:availability></item>"
)


HOME = (
    "<html><head><script>Shopify.shop = 'ferme.myshopify.com';</script>"
    '<link rel="alternate" type="application/rss+xml" title="Produits" href="/produits.xml">'
    '<link rel="alternate" type="application/rss+xml" title="Flux produits vide" href="/vide.xml">'
    "</head><body><h1>Ferme</h1>"
    '<a href="/exports/google-shopping.xml">Google Shopping</a></body></html>'
)


@contextmanager
def shop_with_broken_signals():
    """Shopify markers but products.json closed; a first advertised feed that fails, an
    empty one, then a good Merchant feed: detection must pass over three before it."""

    pages: dict[str, tuple[int, str, str]] = {}
    with served_pages(pages) as base:
        pages.update(
            {
                "/": (200, "text/html; charset=utf-8", HOME),
                "/produits.xml": (500, "text/plain", "erreur"),
                "/vide.xml": (200, "application/rss+xml", RSS.format(items="")),
                "/exports/google-shopping.xml": (
                    200,
                    "application/rss+xml",
                    RSS.format(items="".join(ITEM.format(i=i, base=base) for i in range(1, 4))),
                ),
                "/robots.txt": (200, "text/plain", "User-agent: *\nAllow: /\n"),
            }
        )
        yield base


def test_failed_and_empty_feeds_fall_back_to_the_next_one_in_detection_check_and_the_run(tmp_path):
    with shop_with_broken_signals() as url:
        found = detect(url, http_fetcher(allow_private=True))
        assert (found.kind, found.products, found.feed_url) == ("feed", 3, url + "exports/google-shopping.xml")
        assert found.fallbacks == [
            "shopify : products.json a répondu HTTP 404",
            f"flux {url}produits.xml : HTTP 500",
            f"flux {url}vide.xml : aucun produit",
        ]

        checked = subprocess.run(
            [sys.executable, "-m", "emplettes.cli", "check", url, "--allow-private", "--limit", "2"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert checked.returncode == 0, checked.stderr
        assert f"détecté : feed ({url}exports/google-shopping.xml, 3 produits)" in checked.stdout
        assert "repli : shopify : products.json a répondu HTTP 404" in checked.stdout
        assert checked.stdout.count("  produit : Terrine de la ferme") == 2

        result, runs, _env = crawl_registry(
            tmp_path,
            [registry_entry("ferme", url, "Tours", "37000")],
        )
    assert result.returncode == 0, result.stderr[-2000:]
    records, manifest, _run_file = runs["ferme"]
    assert manifest["kind"] == "feed" and manifest["products"] == 3
    assert manifest["detection"]["feed_url"] == url + "exports/google-shopping.xml"
    assert "shopify : products.json a répondu HTTP 404" in manifest["detection"]["fallbacks"]
    assert sorted(r["name"] for r in records if r["type"] == "product") == [
        f"Terrine de la ferme n°{i}" for i in range(1, 4)
    ]


def test_a_crawl_of_a_sub_folder_woocommerce_shop_detects_it_and_reads_every_product(sites, tmp_path):
    base = sites.base_urls["cave"]
    result, runs, _env = crawl_registry(
        tmp_path,
        [registry_entry("cave", base + "boutique/", "Vendôme", "41100")],
    )
    assert result.returncode == 0, result.stderr[-2000:]
    records, manifest, _run_file = runs["cave"]
    assert manifest["kind"] == "woocommerce" and manifest["products"] == 23
    assert manifest["detection"]["root"] == base + "boutique/wp-json/"
    urls = {r["url"] for r in records if r["type"] == "product"}
    assert urls == {p["url"] for p in SHOPS[0].expected(base + "boutique/")}
    assert json.loads((tmp_path / "data" / "detected" / "cave.json").read_text())["kind"] == "woocommerce"


def test_a_detected_kind_that_finds_nothing_is_detected_again_at_the_next_crawl(tmp_path):
    # products.json answers the detection's probe, then fails for the crawl itself.
    shop = PlatformShop("shopify", n=3, id="volage", faults={"/products.json": ["ok"] + [500] * 8})
    with PlatformSites([shop], first=131) as running:
        base = running.base_urls["volage"]
        result, runs, _env = crawl_registry(tmp_path, [registry_entry("volage", base)])
    assert result.returncode == 0, result.stderr[-2000:]
    _records, manifest, _run_file = runs["volage"]
    assert manifest["kind"] == "shopify" and manifest["products"] == 0
    assert manifest["detection"]["summary"] == "shopify (products.json, 3 produits)"
    assert not (tmp_path / "data" / "detected" / "volage.json").exists()  # forgotten: detect again next time


def test_a_crawl_of_a_shopify_market_reads_its_products_under_the_market(sites, tmp_path):
    base = sites.base_urls["epicerie"]
    result, runs, _env = crawl_registry(tmp_path, [registry_entry("epicerie", base + "fr-fr/")])
    assert result.returncode == 0, result.stderr[-2000:]
    records, manifest, _run_file = runs["epicerie"]
    assert manifest["kind"] == "shopify" and manifest["detection"]["root"] == base + "fr-fr/"
    products = [r for r in records if r["type"] == "product"]
    assert {p["url"] for p in products} == {p["url"] for p in SHOPS[1].expected(base + "fr-fr/")}
    assert all(p["url"].startswith(base + "fr-fr/products/") and p["currency"] == "EUR" for p in products)
