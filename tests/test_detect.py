"""Detection: platform markers (pure), polite probes and `emplettes check` on a home page."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from crawler.detect import advertised_feeds, detect, http_fetcher, platform_markers
from samples.platforms import PlatformShop, PlatformSites


@pytest.mark.parametrize(
    ("html", "headers", "platform"),
    [
        ('<link href="https://cdn.shopify.com/s/files/theme.css">', {}, "shopify"),
        ("<p>shop</p>", {"X-ShopId": "123"}, "shopify"),
        ("<script>Shopify.theme = {}</script>", {}, "shopify"),
        ("<link href='/wp-content/plugins/woocommerce/assets/x.css'>", {}, "woocommerce"),
        ('<script>var prestashop = {"currency":{}}</script>', {}, "prestashop"),
        ('<img src="https://static.wixstatic.com/media/a.jpg">', {}, "wix"),
        ('<script type="text/x-magento-init">{}</script>', {}, "magento"),
        ('<link href="https://static1.squarespace.com/static/x.css">', {}, "squarespace"),
        ("<h1>Chez Martin</h1>", {}, None),
    ],
)
def test_platform_markers(html, headers, platform):
    assert platform_markers(html, headers)[0] == platform


def test_advertised_feeds_skip_comment_feeds():
    html = (
        '<link rel="alternate" type="application/rss+xml" href="/comments/feed/">'
        '<link rel="alternate" type="application/rss+xml" href="/feeds/google.xml">'
        '<link rel="stylesheet" href="/a.css">'
    )
    assert advertised_feeds(html, "https://x.example/") == ["https://x.example/feeds/google.xml"]


SHOPS = [
    PlatformShop("shopify", n=137),
    PlatformShop("woocommerce", n=230),
    PlatformShop("feed-rss", n=12),
    PlatformShop("feed-tsv", n=5, id="plain"),
]


@pytest.fixture(scope="module")
def sites():
    with PlatformSites(SHOPS) as running:
        yield running


def test_detect_in_two_requests(sites):
    fetch = http_fetcher(allow_private=True)
    found = {shop.id: detect(sites.base_urls[shop.id], fetch) for shop in SHOPS}
    assert found["shopify"].summary() == "shopify (products.json, 137 produits)"
    assert found["woocommerce"].summary() == "woocommerce (Store API, 230 produits)"
    assert found["feed-rss"].kind == "feed" and found["feed-rss"].products == 12
    assert all(d.requests <= 2 for d in found.values())


def test_detect_falls_back_to_website_when_the_api_is_closed():
    pages = {
        "https://s.example/": (200, {}, b'<link href="https://cdn.shopify.com/x.css">'),
        "https://s.example/products.json?limit=250&page=1": (404, {}, b""),
    }
    found = detect("https://s.example/", lambda url: pages[url])
    assert found.kind == "website" and found.platform == "shopify"
    assert found.fallbacks == ["shopify : products.json a répondu HTTP 404"]


def run(*args):
    return subprocess.run([sys.executable, "-m", "emplettes.cli", *args], capture_output=True, text=True, timeout=120)


def test_check_on_a_home_page_says_what_it_detected_and_bounds_the_records(sites):
    result = run("check", sites.base_urls["shopify"], "--allow-private", "--limit", "3")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "détecté : shopify (products.json, 137 produits)"
    assert result.stdout.count("  produit : ") == 3
    as_json = run("check", sites.base_urls["woocommerce"], "--allow-private", "--json", "--limit", "5")
    records = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert len(records) == 5 and records[0]["currency"] == "EUR"
    assert "détecté : woocommerce (Store API, 230 produits)" in as_json.stderr


def test_a_feed_address_is_detected_as_a_feed(sites):
    found = detect(sites.base_urls["plain"] + "feeds/products.tsv", http_fetcher(allow_private=True))
    assert found.kind == "feed" and found.products == 5


def test_check_kind_forces_an_adapter(sites):
    feed_url = sites.base_urls["plain"] + "feeds/products.tsv"
    result = run("check", feed_url, "--allow-private", "--kind", "feed", "--json")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 5


def test_check_refuses_private_addresses_before_any_detection(sites):
    before = len(sites.requests_to("shopify"))
    result = run("check", sites.base_urls["shopify"])
    assert result.returncode == 2 and "adresse privée, locale ou de lien local" in result.stderr
    assert len(sites.requests_to("shopify")) == before


def test_check_on_a_website_home_page_reads_the_pages_it_links_to():
    from samples import SampleSites

    with SampleSites(port=0, shops=["fromagerie-du-donjon"]) as shops:
        result = run("check", shops.base_urls["fromagerie-du-donjon"], "--allow-private", "--limit", "3")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("détecté : website")
    assert result.stdout.count("  produit : ") >= 3


def test_check_says_why_a_shop_shows_nothing_and_what_to_add():
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/":
                body = (
                    b"<html><body><a href='/produit/1'>1</a> <a href='/produit/2'>2</a> "
                    b"<a href='/panier'>x</a></body></html>"
                )
            elif self.path.startswith("/produit/"):
                body = b"<html><body><h1>Vase</h1><p>12 euros</p></body></html>"
            else:
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = run("check", f"http://127.0.0.1:{server.server_address[1]}/", "--allow-private")
    finally:
        server.shutdown()
    assert result.returncode == 1
    assert "aucun balisage de produit schema.org ou OpenGraph sur 2 pages de" in result.stderr
    assert '"@type": "Product"' in result.stderr
