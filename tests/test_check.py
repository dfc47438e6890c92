"""`emplettes check` can be trusted: on a home page it samples the shop's product pages
whatever ``--limit`` is, and agrees with a real crawl; a bad target is one French line."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from crawling import crawl_registry, registry_entry

from samples import SampleSites, expected_products

pytestmark = pytest.mark.e2e

# Shops whose home page declares no product and links to category pages before product
# pages: with --limit 2, an earlier check read two pages and reported "no markup".
SHOPS = ["chandellerie-d-amboise", "atelier-terre-des-marais", "le-petit-ebeniste"]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "emplettes.cli", "check", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )


def product_urls(stdout: str) -> list[str]:
    lines = stdout.splitlines()
    return [lines[k + 1].strip() for k, line in enumerate(lines) if line.startswith("  produit : ")]


@pytest.fixture(scope="module")
def shops():
    with SampleSites(port=0, shops=SHOPS) as sites:
        yield sites


@pytest.mark.parametrize("shop_id", SHOPS)
def test_check_with_a_small_limit_finds_products_on_a_home_page(shops, shop_id):
    result = run(shops.base_urls[shop_id], "--allow-private", "--limit", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "aucun balisage" not in result.stdout + result.stderr
    found = product_urls(result.stdout)
    assert len(found) == 2
    assert set(found) <= {p["url"] for p in expected_products(shops.base_urls, shop_id)}


def test_check_agrees_with_a_real_crawl_of_the_same_shop(shops, tmp_path):
    shop_id = SHOPS[0]
    url = shops.base_urls[shop_id]
    checked = run(url, "--allow-private", "--limit", "5")
    assert checked.returncode == 0, checked.stderr
    result, runs, _env = crawl_registry(
        tmp_path,
        [registry_entry(shop_id, url, "Amboise", "37400")],
    )
    assert result.returncode == 0, result.stderr[-2000:]
    records, manifest, _run_file = runs[shop_id]
    crawled = {r["url"] for r in records if r["type"] == "product"}
    assert manifest["products"] == len(crawled) >= 10
    assert set(product_urls(checked.stdout)) <= crawled
    assert len(product_urls(checked.stdout)) == 5


@pytest.mark.parametrize(
    ("target", "says"),
    [
        ("", "rien à vérifier"),
        ("   ", "rien à vérifier"),
        ("https://", "adresse sans nom d'hôte"),
        ("page-absente.html", "fichier introuvable"),
        ("http://boutique-inexistante.invalid/", "impossible de joindre boutique-inexistante.invalid : nom de domaine"),
        ("http://127.0.0.1:9/", "impossible de joindre 127.0.0.1 : la connexion a été refusée"),
    ],
)
def test_a_target_that_cannot_be_read_is_one_french_line_and_exit_2(target, says):
    result = run(target, "--allow-private")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and says in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_a_directory_is_one_french_line_and_exit_2(tmp_path):
    result = run(str(tmp_path))
    assert result.returncode == 2
    assert result.stderr == f"check : {tmp_path} est un dossier : donnez l'adresse d'une page ou un fichier HTML\n"


def test_an_unreadable_gzip_file_is_one_line(tmp_path):
    page = tmp_path / "page.html.gz"
    page.write_bytes(b"not gzip at all")
    result = run(str(page))
    assert result.returncode == 2 and "lecture impossible" in result.stderr and "Traceback" not in result.stderr


def test_check_follows_a_category_page_to_its_products():
    # No sitemap, a home page linking to a category, the category to its product pages:
    # the crawl finds the product two links away, and check must too.
    import http.server
    import threading

    pages = {
        "/": b"<html><body><a href='/rayon/bougies'>Bougies</a> <a href='/contact'>Contact</a></body></html>",
        "/rayon/bougies": b"<html><body><a href='/fiche/bougie-figue'>Bougie figue</a></body></html>",
        "/contact": b"<html><body><p>02 47 00 00 00</p></body></html>",
        "/fiche/bougie-figue": (
            b'<html><head><script type="application/ld+json">{"@context": "https://schema.org", "@type": "Product",'
            b' "name": "Bougie figue", "offers": {"@type": "Offer", "price": "18.50", "priceCurrency": "EUR"}}'
            b"</script></head><body><h1>Bougie figue</h1></body></html>"
        ),
    }

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = pages.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body or b"absent")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = run(f"http://127.0.0.1:{server.server_address[1]}/", "--allow-private", "--limit", "1")
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 0, result.stderr
    assert "  produit : Bougie figue — 18,50 € — disponibilité inconnue" in result.stdout


def test_check_agrees_with_the_crawl_on_every_kind_of_source(tmp_path):
    from samples.federation import FEDERATION, FederationSites, federation_entries

    with FederationSites(port=0) as sites:
        urls = {shop.id: sites.base_urls[shop.id] for shop in FEDERATION}
        result, runs, _env = crawl_registry(tmp_path, [federation_entries(urls)])
        assert result.returncode == 0, result.stderr[-2000:]
        for shop in FEDERATION:
            checked = run(urls[shop.id], "--allow-private", "--limit", "2")
            assert checked.returncode == 0, (shop.id, checked.stdout, checked.stderr)
            crawled = {r["url"] for r in runs[shop.id][0] if r["type"] == "product"}
            found = product_urls(checked.stdout)
            assert len(found) == 2 and set(found) <= crawled, (shop.id, found)
