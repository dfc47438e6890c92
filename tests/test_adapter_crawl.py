"""Platform adapters over real HTTP: ``emplettes crawl`` (real Scrapy, subprocess) against
sample Shopify, WooCommerce and feed endpoints (``samples.platforms``) that answer with the
platforms' payload shapes, paginate, rate-limit, fail and send malformed pages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from crawling import crawl_registry

from samples.platforms import PlatformShop, PlatformSites

FIELDS = (
    "name",
    "price",
    "currency",
    "availability",
    "url",
    "image",
    "brand",
    "category",
    "sku",
    "gtin",
    "description",
)

SHOPS = [
    # 500 products; the second page is rate-limited once (429, then it answers)
    PlatformShop("shopify", n=500, id="shopify-500", faults={"/products.json?limit=250&page=2": [429]}),
    # kind left out of the registry: detected; no currency anywhere on the home page
    PlatformShop("shopify", n=3, id="shopify-detected", currency_on_home=False),
    # no currency on the home page, but /meta.json says it
    PlatformShop("shopify", n=3, id="shopify-meta", currency_on_home=False, meta_json=True),
    # the second page is truncated JSON: a clear error, pages 1 and 3 kept
    PlatformShop("shopify", n=600, id="shopify-malformed", faults={"/products.json?limit=250&page=2": ["malformed"]}),
    PlatformShop("woocommerce", n=500, id="woo-500"),
    # page 3 answers 500 every time (retries spent): that page is lost, the others kept
    PlatformShop(
        "woocommerce",
        n=250,
        id="woo-errors",
        faults={"/wp-json/wc/store/v1/products?per_page=100&page=3": [500, 500, 500, 500]},
    ),
    # page 2 is a PHP fatal error instead of JSON
    PlatformShop(
        "woocommerce",
        n=250,
        id="woo-malformed",
        faults={"/wp-json/wc/store/v1/products?per_page=100&page=2": ["malformed"]},
    ),
    PlatformShop("feed-rss", n=40, id="feed-rss"),
    PlatformShop("feed-atom", n=40, id="feed-atom"),
    PlatformShop("feed-tsv", n=40, id="feed-tsv"),
    PlatformShop("feed-csv", n=40, id="feed-csv"),
    PlatformShop("feed-rss", n=10, id="feed-broken", faults={"/feeds/products.rss": ["malformed"]}),
    # a chamber platform: 25 products of three shops, read with the chamber's selectors
    PlatformShop("chamber", n=75, id="vitrines", faults={"/produit/produit-7/": [500, 500, 500]}),
    # 1,300 products: six pages and the empty one, deeper than Scrapy's DEPTH_LIMIT
    PlatformShop("shopify", n=1300, id="shopify-large"),
]
KINDS = {"shopify-detected": None, "feed-rss": None}  # detected; the others declare their kind


def _kind(shop: PlatformShop) -> str:
    return "feed" if shop.kind.startswith("feed") else "platform" if shop.kind == "chamber" else shop.kind


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("adapters")
    with PlatformSites(SHOPS) as sites:
        entries = []
        for shop in SHOPS:
            url = sites.base_urls[shop.id]
            lines = [
                f"  - id: {shop.id}",
                f"    name: Boutique {shop.id}",
                f"    url: {url}",
                "    town: Tours",
                '    postcode: "37000"',
                "    allow_private: true",
            ]
            kind = KINDS.get(shop.id, _kind(shop))
            if kind:
                lines.append(f"    kind: {kind}")
            if kind == "platform":
                lines.append(f"    platform: {json.dumps(shop.PLATFORM_CONFIG, ensure_ascii=False)}")
            if kind == "feed" and shop.id != "feed-atom":  # feed-atom: found from the home page's <link>
                lines.append(f"    feed: {url}feeds/products.{shop.kind.split('-')[1]}")
            entries.append("\n".join(lines))
        result, runs, _ = crawl_registry(tmp, entries)
        yield result, runs, sites, {s.id: s for s in SHOPS}


def products(runs, shop_id):
    return [r for r in runs[shop_id][0] if r["type"] == "product"]


def assert_exact(found: list[dict], expected: list[dict]):
    by_url = {r["url"]: r for r in found}
    assert len(by_url) == len(found) == len(expected)
    for truth in expected:
        record = by_url[truth["url"]]
        assert {k: record[k] for k in FIELDS} == {k: truth[k] for k in FIELDS}


def test_crawl_runs_every_source(crawled):
    result, _runs, _, _ = crawled
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "shop_id",
    ["shopify-500", "shopify-large", "shopify-meta", "woo-500", "feed-rss", "feed-atom", "feed-tsv", "feed-csv"],
)
def test_every_product_every_field(crawled, shop_id):
    _, runs, sites, shops = crawled
    assert_exact(products(runs, shop_id), shops[shop_id].expected(sites.base_urls[shop_id]))
    shop_records = [r for r in runs[shop_id][0] if r["type"] == "shop"]
    assert len(shop_records) == 1 and shop_records[0]["name"] == f"Boutique {shop_id}"
    assert runs[shop_id][1]["finish_reason"] == "finished"


@pytest.mark.parametrize("shop_id", ["feed-rss", "feed-atom"])
def test_local_inventory_fields_reach_the_run_file_and_the_index(crawled, shop_id, tmp_path):
    from indexer.backends.tantivy import TantivyBackend
    from indexer.load import load_run

    _, runs, _, _ = crawled
    found = products(runs, shop_id)
    assert found and all(
        (r["store_code"], r["pickup_method"], r["pickup_sla"]) == ("TOURS-1", "buy", "same_day") for r in found
    )
    backend = TantivyBackend(tmp_path / "index")
    try:
        report = load_run(runs[shop_id][2], backend)
        assert report.records == len(found) + 1 and not report.rejected
        stored = backend.get(found[0]["id"])
    finally:
        getattr(backend, "close", lambda: None)()
    assert (stored["store_code"], stored["pickup_method"], stored["pickup_sla"]) == ("TOURS-1", "buy", "same_day")


def test_shopify_costs_three_listing_requests_for_500_products_and_retries_a_429(crawled):
    _, runs, sites, _ = crawled
    listing = [(p, s) for p, s in sites.requests_to("shopify-500") if p.startswith("/products.json")]
    assert listing == [
        ("/products.json?limit=1&page=1", 200),  # kind: shopify is checked first (one product), see detect.py
        ("/products.json?limit=250&page=1", 200),
        ("/products.json?limit=250&page=2", 429),
        ("/products.json?limit=250&page=2", 200),
        ("/products.json?limit=250&page=3", 200),  # the empty page that ends the listing
    ]
    assert not any(p.startswith("/products/") for p, _ in sites.requests_to("shopify-500")), "no product page read"
    assert runs["shopify-500"][1]["page_errors"] == 0


def test_woocommerce_reads_total_pages_and_costs_five_requests_for_500_products(crawled):
    _, _, sites, _ = crawled
    listing = sorted(p for p, s in sites.requests_to("woo-500") if p.startswith("/wp-json/"))
    checked = "/wp-json/wc/store/v1/products?per_page=1&page=1"  # kind: woocommerce is checked first (one product)
    assert listing == sorted([checked] + [f"/wp-json/wc/store/v1/products?per_page=100&page={n}" for n in range(1, 6)])


def test_a_shopify_shop_is_detected_and_its_unknown_currency_is_not_guessed(crawled):
    _, runs, sites, shops = crawled
    found = products(runs, "shopify-detected")
    assert_exact(found, shops["shopify-detected"].expected(sites.base_urls["shopify-detected"]))
    assert all(r["currency"] is None and r["price"] for r in found)


def test_an_advertised_feed_is_found_from_the_home_page(crawled):
    _, runs, sites, _ = crawled
    assert any(p == "/feeds/products.atom" for p, _ in sites.requests_to("feed-atom"))
    assert len(products(runs, "feed-rss")) == 40  # kind detected, feed: given


@pytest.mark.parametrize(
    ("shop_id", "kept", "error"),
    [
        ("shopify-malformed", 350, "malformed_payload"),  # pages 1 (250) and 3 (100) of 600
        ("woo-errors", 200, "http_500"),
        ("woo-malformed", 150, "malformed_payload"),
        ("feed-broken", 0, "malformed_payload"),
    ],
)
def test_a_broken_page_is_a_clear_error_and_the_rest_is_kept(crawled, shop_id, kept, error):
    _, runs, sites, shops = crawled
    found = products(runs, shop_id)
    manifest = runs[shop_id][1]
    assert len(found) == kept
    assert manifest["errors"].get(error) == 1, manifest["errors"]
    assert manifest["finish_reason"] == "finished"
    truth = {p["url"]: p for p in shops[shop_id].expected(sites.base_urls[shop_id])}
    for record in found:  # what was kept is right
        assert {k: record[k] for k in FIELDS} == {k: truth[record["url"]][k] for k in FIELDS}


def test_a_chamber_platform_attributes_each_product_to_its_own_shop(crawled):
    _, runs, sites, shops = crawled
    records, manifest, _ = runs["vitrines"]
    base = sites.base_urls["vitrines"]
    truth = {p["url"]: p for p in shops["vitrines"].chamber_expected(base)}
    found = [r for r in records if r["type"] == "product"]
    assert len(found) == 74 and manifest["errors"] == {"http_500": 1}  # product 7 answers 500
    (failed,) = manifest["failed_urls"]["http_500"]  # the address, for the chamber's dashboard
    assert failed.startswith(base) and "/produit-7/" in failed
    for record in found:
        expected = truth[record["url"]]
        assert {
            k: record[k] for k in ("name", "price", "currency", "availability", "image", "description", "shop_name")
        } == {
            k: expected[k] for k in ("name", "price", "currency", "availability", "image", "description", "shop_name")
        }
        assert record["source_id"] == "vitrines" and record["shop_id"].startswith("vitrines--")
    sellers = {r["name"]: r for r in records if r["type"] == "shop"}
    assert set(sellers) == {"Boutique vitrines", "Fromagerie du Château", "Librairie Labbé", "Cycles Blésois"}
    assert sellers["Cycles Blésois"]["town"] == "Vineuil" and sellers["Cycles Blésois"]["postcode"] == "41350"
    assert sellers["Librairie Labbé"]["town"] == "Tours"  # the platform's own town by default
    assert {r["shop_id"] for r in found} == {s["id"] for n, s in sellers.items() if n != "Boutique vitrines"}
    paths = [p for p, _ in sites.requests_to("vitrines")]
    assert "/produits/?page=8" in paths and not any("utm_source" in p for p in paths)


def test_a_shop_whose_products_json_is_not_json_costs_one_request_and_is_read_by_its_markup():
    """A products.json that is not JSON (a password page, a proxy's HTML) is asked once."""
    shop = PlatformShop("shopify", n=10, id="shopify-html", faults={"/products.json": ["malformed"] * 50})
    import tempfile

    with tempfile.TemporaryDirectory() as tmp, PlatformSites([shop]) as sites:
        registry = Path(tmp) / "sources.yaml"
        registry.write_text(
            f"sources:\n  - id: shopify-html\n    name: S\n    url: {sites.base_urls['shopify-html']}\n"
            '    town: Tours\n    postcode: "37000"\n    kind: shopify\n    allow_private: true\n'
        )
        env = {**os.environ, "DATA_DIR": str(Path(tmp) / "data"), "SOURCES_FILE": str(registry), "CRAWL_DELAY": "0"}
        subprocess.run([sys.executable, "-m", "emplettes.cli", "crawl"], env=env, capture_output=True, timeout=300)
        (manifest,) = (Path(tmp) / "data" / "runs" / "shopify-html").glob("*.json")
        written = json.loads(manifest.read_text())
        listing = [p for p, _ in sites.requests_to("shopify-html") if p.startswith("/products.json")]
    # The check before the crawl (one product) finds it unreadable: that run reads the pages'
    # markup instead, and products.json is not asked again (see test_registered_fallback.py).
    assert listing == ["/products.json?limit=1&page=1"]
    assert written["kind"] == "website"
    assert written["detection"]["fallbacks"] == ["shopify : products.json est illisible"]
