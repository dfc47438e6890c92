"""The ``emplettes`` command as chambers use it: help, registry validation, page preview."""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading

import pytest

PAGE = """<!doctype html><html lang="fr"><head><title>Théière</title>
<link rel="canonical" href="/produits/theiere-fonte">
<script type="application/ld+json">
{"@context": "https://schema.org", "@type": "Product", "name": "Théière en fonte 0,8 L",
 "sku": "TH-08", "image": "/img/theiere.jpg", "brand": {"@type": "Brand", "name": "Maison Thé"},
 "offers": {"@type": "Offer", "price": "34.50", "priceCurrency": "EUR",
            "availability": "https://schema.org/InStock"}}
</script>
<script type="application/ld+json">
{"@context": "https://schema.org", "@type": "Store", "name": "Le Comptoir du Thé",
 "telephone": "02 47 00 00 00",
 "address": {"@type": "PostalAddress", "streetAddress": "12 rue Colbert", "postalCode": "37000",
             "addressLocality": "Tours", "addressCountry": "FR"}}
</script></head><body><h1>Théière en fonte</h1></body></html>"""

PRODUCT_KEYS = {
    "type",
    "name",
    "price",
    "currency",
    "availability",
    "url",
    "image",
    "description",
    "brand",
    "sku",
    "gtin",
    "category",
}
SHOP_KEYS = {"type", "name", "url", "address", "postcode", "town", "lat", "lon", "telephone", "opening_hours"}


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "emplettes.cli", *args], capture_output=True, text=True, timeout=120, env=env
    )


@pytest.fixture(scope="module")
def page_server():
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/redirect":
                self.send_response(302)
                self.send_header("Location", "http://127.0.0.1:1/elsewhere")
                self.end_headers()
                return
            body = PAGE.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_help_explains_every_command_and_the_configuration():
    out = run("--help").stdout
    for name in ("demo", "crawl", "index", "serve", "sources", "check", "DATA_DIR", "SOURCES_FILE", "PORT"):
        assert name in out
    for command in (["demo"], ["crawl"], ["index"], ["serve"], ["sources", "validate"], ["check"]):
        result = run(*command, "--help")
        assert result.returncode == 0 and "usage : emplettes" in result.stdout


def test_sources_validate_reports_lines_and_fields(tmp_path):
    bad = tmp_path / "sources.yaml"
    bad.write_text("sources:\n  - id: x\n    name: X\n    url: https://x.fr\n    town: Tours\n    postcode: abc\n")
    result = run("sources", "validate", str(bad))
    assert result.returncode == 1
    assert f'{bad}:6: postcode : un code postal a cinq chiffres, entre guillemets ("37000")' in result.stderr
    assert "rien n'a été chargé" in result.stderr


def test_the_bundled_registry_is_valid():
    result = run("sources", "validate", "sources.yaml")
    assert result.returncode == 0, result.stderr
    assert "sources, toutes valides" in result.stdout


def test_check_file_prints_stable_json_lines(tmp_path):
    page = tmp_path / "theiere.html"
    page.write_text(PAGE, encoding="utf-8")
    result = run(
        "check", str(page), "--json", "--base-url", "https://comptoir.example.fr/produits/theiere-fonte?utm_source=x"
    )
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    product = next(r for r in records if r["type"] == "product")
    shop = next(r for r in records if r["type"] == "shop")
    assert set(product) == PRODUCT_KEYS and set(shop) == SHOP_KEYS
    assert product["name"] == "Théière en fonte 0,8 L"
    assert product["price"] == "34.50" and product["currency"] == "EUR"
    assert product["availability"] == "in_stock"
    assert product["url"] == "https://comptoir.example.fr/produits/theiere-fonte"
    assert product["image"] == "https://comptoir.example.fr/img/theiere.jpg"
    assert product["brand"] == "Maison Thé"
    assert shop["town"] == "Tours" and shop["postcode"] == "37000"


def test_check_refuses_loopback_unless_allowed(page_server):
    refused = run("check", page_server + "/theiere", "--json")
    assert refused.returncode == 2
    assert "adresse privée, locale ou de lien local" in refused.stderr and refused.stdout == ""
    allowed = run("check", page_server + "/theiere", "--json", "--allow-private")
    assert allowed.returncode == 0, allowed.stderr
    assert json.loads(allowed.stdout.splitlines()[0])["name"] == "Théière en fonte 0,8 L"


def test_check_explains_a_page_without_markup(tmp_path):
    page = tmp_path / "vide.html"
    page.write_text("<html><body><h1>Bienvenue</h1></body></html>")
    result = run("check", str(page))
    assert result.returncode == 1
    assert "aucun balisage de produit schema.org" in result.stderr and '"@type": "Product"' in result.stderr


def test_check_unknown_file_is_a_clear_error():
    result = run("check", "no-such-page.html")
    assert result.returncode == 2 and "fichier introuvable" in result.stderr


def test_the_kinds_a_command_accepts_are_the_registrys_own_but_platform():
    from typing import get_args

    from crawler.registry import Kind
    from emplettes.cli import KINDS

    assert set(KINDS) == set(get_args(Kind)) - {"platform"}
