"""A kind written in the registry (``kind: shopify``) whose endpoint fails or lists no
product: this run reads the site's own markup instead, says so in the run's manifest
(``detection.fallbacks``) and in ``status``, and leaves the registry as the chamber wrote
it. Real ``emplettes crawl`` / ``index`` / ``status`` subprocesses against a Shopify-like
shop served on 127.0.0.1 whose endpoint the test breaks and mends between crawls."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from loopback import served_pages

from indexer.backends.tantivy import TantivyBackend
from indexer.search import SearchQuery

pytestmark = pytest.mark.e2e

SHOPIFY_HEAD = '<script>var Shopify = Shopify || {}; Shopify.shop = "bougies.myshopify.com";</script>'
HOME = (
    "<!doctype html><html lang=fr><head><meta charset=utf-8><title>Bougies de Loire</title>"
    + SHOPIFY_HEAD
    + "</head><body><h1>Bougies de Loire</h1>{links}</body></html>"
)


def product_page(n: int) -> str:
    data = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": f"Bougie parfumée n°{n}",
        "sku": f"BG-{n}",
        "offers": {"@type": "Offer", "price": f"{10 + n}.50", "priceCurrency": "EUR", "availability": "InStock"},
    }
    return (
        f"<!doctype html><html lang=fr><head><meta charset=utf-8><title>Bougie {n}</title>"
        f'<script type="application/ld+json">{json.dumps(data)}</script></head>'
        f"<body><h1>Bougie parfumée n°{n}</h1></body></html>"
    )


def products_json(count: int) -> str:
    return json.dumps(
        {
            "products": [
                {
                    "id": 7000 + n,
                    "title": f"Bougie parfumée n°{n}",
                    "handle": f"bougie-{n}",
                    "body_html": "<p>Cire de colza.</p>",
                    "vendor": "Bougies de Loire",
                    "product_type": "Bougies",
                    "variants": [{"id": 8000 + n, "sku": f"BG-{n}", "price": f"{10 + n}.50", "available": True}],
                    "images": [],
                }
                for n in range(1, count + 1)
            ]
        }
    )


class ShopifyLikeShop:
    """The shop's answers, by path; a test changes them between crawls."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[int, str, str]] = {}
        self.asked: list[str] = []
        self.markup(3)
        self.endpoint(200, products_json(3))

    def markup(self, count: int) -> None:
        links = "".join(f'<a href="/products/bougie-{n}">Bougie {n}</a>' for n in range(1, count + 1))
        for path in [p for p in self.pages if p.startswith("/products/")]:
            del self.pages[path]  # the same dict the server reads
        self.pages["/"] = (200, "text/html; charset=utf-8", HOME.replace("{links}", links))
        for n in range(1, count + 1):
            self.pages[f"/products/bougie-{n}"] = (200, "text/html; charset=utf-8", product_page(n))

    def endpoint(self, status: int, body: str) -> None:
        self.pages["/products.json"] = (status, "application/json", body)


REGISTRY = """\
# Les bougies de la chambre : lues par Shopify, comme la boutique l'a demandé.
sources:
  - id: bougies
    name: Bougies de Loire
    url: {url}
    kind: shopify
    town: Tours
    postcode: "37000"
    allow_private: true
"""


@pytest.fixture
def place(tmp_path):
    shop = ShopifyLikeShop()
    with served_pages(shop.pages, shop.asked) as url:
        registry = tmp_path / "sources.yaml"
        registry.write_text(REGISTRY.format(url=url), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if k not in ("EMPLETTES_LANG",)}
        env.update(
            DATA_DIR=str(tmp_path / "data"), SOURCES_FILE=str(registry), CRAWL_DELAY="0", SEARCH_BACKEND="tantivy"
        )
        yield shop, registry, env, tmp_path / "data"


def emplettes(env: dict, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "emplettes.cli", *args], capture_output=True, text=True, timeout=300, env=env
    )
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    return done


def last_run(data_dir: Path) -> tuple[dict, list[dict]]:
    run_file = sorted((data_dir / "runs" / "bougies").glob("*.jsonl"))[-1]
    manifest = json.loads(run_file.with_suffix(".json").read_text(encoding="utf-8"))
    return manifest, [json.loads(line) for line in run_file.read_text(encoding="utf-8").splitlines()]


def indexed_names(data_dir: Path) -> set[str]:
    with TantivyBackend(data_dir / "index", readonly=True) as backend:
        return {hit["name"] for hit in backend.search(SearchQuery(per_page=100)).hits}


def crawl(env: dict) -> tuple[dict, list[dict]]:
    done = emplettes(env, "crawl")
    assert done.returncode == 0, done.stderr
    return last_run(Path(env["DATA_DIR"]))


@pytest.mark.parametrize(
    ("status", "body", "why"),
    [
        (500, "erreur", "shopify : products.json a répondu HTTP 500"),
        (200, '{"products": []}', "shopify : products.json ne liste aucun produit"),
        (200, '{"products": [{"title": ', "shopify : products.json est illisible"),
    ],
    ids=["endpoint-fails", "endpoint-empty", "endpoint-unreadable"],
)
def test_a_registered_shopify_whose_endpoint_fails_is_read_by_its_markup_for_that_run(place, status, body, why):
    shop, registry, env, _ = place
    written = registry.read_text(encoding="utf-8")
    shop.endpoint(status, body)
    manifest, records = crawl(env)
    assert manifest["kind"] == "website"
    assert manifest["detection"]["fallbacks"] == [why]
    assert "au lieu de shopify inscrit au registre" in manifest["detection"]["summary"]
    assert sorted(r["name"] for r in records if r["type"] == "product") == [
        "Bougie parfumée n°1",
        "Bougie parfumée n°2",
        "Bougie parfumée n°3",
    ]
    assert all("/products/bougie-" in r["url"] for r in records if r["type"] == "product")
    assert registry.read_text(encoding="utf-8") == written  # the chamber's choice stays written
    status_line = emplettes(env, "status")
    assert status_line.returncode == 0, status_line.stderr
    assert f"bougies : lue par le balisage des pages ({why})" in status_line.stdout
    (line,) = emplettes(env, "status", "--json").stdout.splitlines()
    assert json.loads(line)["last_run"]["fallbacks"] == [why]


def test_once_the_endpoint_answers_again_the_registered_kind_is_read_and_the_fallback_forgotten(place):
    shop, _, env, _ = place
    shop.endpoint(503, "maintenance")
    manifest, _ = crawl(env)
    assert manifest["kind"] == "website"
    shop.endpoint(200, products_json(3))
    manifest, records = crawl(env)
    assert manifest["kind"] == "shopify" and "detection" not in manifest
    assert len([r for r in records if r["type"] == "product"]) == 3
    assert "lue par le balisage" not in emplettes(env, "status").stdout


def test_a_failed_endpoint_whose_markup_fallback_finds_nothing_keeps_the_older_records(place):
    shop, _, env, data_dir = place
    manifest, _ = crawl(env)
    assert manifest["kind"] == "shopify" and manifest["products"] == 3
    assert emplettes(env, "index").returncode == 0
    before = indexed_names(data_dir)
    assert len(before) == 3
    shop.endpoint(500, "erreur")
    shop.markup(0)  # a redesign: the pages declare no product either
    manifest, _ = crawl(env)
    assert manifest["kind"] == "website" and manifest["products"] == 0
    assert manifest["detection"]["fallbacks"] == ["shopify : products.json a répondu HTTP 500"]
    assert manifest["finish_reason"] == "finished"
    indexed = emplettes(env, "index")
    assert indexed.returncode == 0, indexed.stderr
    assert indexed_names(data_dir) == before  # nothing swept


def test_a_registered_woocommerce_whose_store_api_fails_says_so_and_keeps_its_records(tmp_path):
    from samples.platforms import PlatformShop, PlatformSites

    shop = PlatformShop("woocommerce", n=5, id="cave")
    with PlatformSites([shop]) as sites:
        registry = tmp_path / "sources.yaml"
        registry.write_text(
            f"sources:\n  - id: cave\n    name: Cave\n    url: {sites.base_urls['cave']}\n    kind: woocommerce\n"
            '    town: Chinon\n    postcode: "37500"\n    allow_private: true\n',
            encoding="utf-8",
        )
        env = {**os.environ, "DATA_DIR": str(tmp_path / "data"), "SOURCES_FILE": str(registry), "CRAWL_DELAY": "0"}
        env["SEARCH_BACKEND"] = "tantivy"
        assert emplettes(env, "crawl").returncode == 0
        assert emplettes(env, "index").returncode == 0
        before = indexed_names(tmp_path / "data")
        assert len(before) == 5
        # The Store API answers 500 to the next check; the sample's pages declare no product.
        shop.faults["/wp-json/wc/store/v1/products"] = [500]
        assert emplettes(env, "crawl").returncode == 0
    run_file = sorted((tmp_path / "data" / "runs" / "cave").glob("*.jsonl"))[-1]
    manifest = json.loads(run_file.with_suffix(".json").read_text(encoding="utf-8"))
    assert manifest["kind"] == "website" and manifest["products"] == 0
    assert manifest["detection"]["fallbacks"] == ["woocommerce : l'API Store a répondu HTTP 500"]
    assert "cave : lue par le balisage des pages (woocommerce : l'API Store a répondu HTTP 500)" in (
        emplettes(env, "status").stdout
    )
    assert emplettes(env, "index").returncode == 0
    assert indexed_names(tmp_path / "data") == before  # nothing swept
