"""Redirects: never replayed from the HTTP cache, and a loop or an over-long chain is a
failed page in every run, so a run made of them never passes for a good one.

A real shop on 127.0.0.1 whose product pages redirect as the test says, real crawls
(`emplettes crawl`, one Scrapy process per run, sharing DATA_DIR's HTTP cache as recrawls
do), real indexing and `emplettes status`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

PRODUCTS = 6


class RedirectingShop:
    """A shop of six products; ``redirects`` maps a product number to where its page sends
    visitors (another page's path) and with which status, for as long as the test says."""

    def __init__(self) -> None:
        self.redirects: dict[int, tuple[int, str]] = {}
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.base = f"http://127.0.0.1:{self.server.port}/"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    def app(self, environ, start_response):
        path = Request(environ).path
        if path == "/robots.txt":
            return Response(f"User-agent: *\nSitemap: {self.base}sitemap.xml\n")(environ, start_response)
        if path == "/sitemap.xml":
            urls = "".join(f"<url><loc>{self.base}p/{n}</loc></url>" for n in range(1, PRODUCTS + 1))
            body = f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
            return Response(body, content_type="application/xml")(environ, start_response)
        if path == "/":
            store = {"@context": "https://schema.org", "@type": "Store", "name": "La Boucle", "url": self.base}
            return self.page("La Boucle", store)(environ, start_response)
        name = path.rsplit("/", 1)[-1]
        if path.startswith("/p/") and name.isdigit() and 1 <= int(name) <= PRODUCTS:
            number = int(name)
            if number in self.redirects:
                status, target = self.redirects[number]
                response = Response("", status=status)
                response.headers["Location"] = target
                return response(environ, start_response)
            return self.page(f"Bougie n°{number}", self.product(number))(environ, start_response)
        if path.startswith("/etape/"):  # a chain of redirects, one hop per page
            hop = int(name)
            response = Response("", status=301)
            response.headers["Location"] = f"/etape/{hop + 1}"
            return response(environ, start_response)
        return Response("introuvable", status=404)(environ, start_response)

    def product(self, number: int) -> dict:
        url = f"{self.base}p/{number}"
        return {
            "@context": "https://schema.org",
            "@type": "Product",
            "name": f"Bougie n°{number}",
            "url": url,
            "offers": {"@type": "Offer", "price": f"{10 + number}.00", "priceCurrency": "EUR", "url": url},
        }

    @staticmethod
    def page(title: str, data: dict) -> Response:
        html = (
            f'<!doctype html><html lang="fr"><head><title>{title}</title>'
            f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script></head>'
            f"<body><h1>{title}</h1></body></html>"
        )
        return Response(html, content_type="text/html; charset=utf-8")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def shop() -> Iterator[RedirectingShop]:
    served = RedirectingShop()
    yield served
    served.close()


def emplettes(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DATA_DIR": str(tmp_path / "data"),
        "SOURCES_FILE": str(tmp_path / "sources.yaml"),
        "CRAWL_DELAY": "0",
        "SEARCH_BACKEND": "tantivy",
    }
    return subprocess.run(
        [sys.executable, "-m", "emplettes.cli", *args], capture_output=True, text=True, timeout=300, env=env
    )


def crawl(tmp_path: Path, shop: RedirectingShop) -> dict:
    """One run of the shop, indexed; its manifest with the indexer's outcome."""
    (tmp_path / "sources.yaml").write_text(
        "sources:\n  - id: la-boucle\n    name: La Boucle\n"
        f"    url: {shop.base}\n    kind: website\n    town: Tours\n"
        '    postcode: "37000"\n    allow_private: true\n',
        encoding="utf-8",
    )
    before = set((tmp_path / "data" / "runs" / "la-boucle").glob("*.json"))
    result = emplettes(tmp_path, "crawl", "--source", "la-boucle", "--index")
    assert "Traceback" not in result.stderr, result.stderr
    (new,) = set((tmp_path / "data" / "runs" / "la-boucle").glob("*.json")) - before
    manifest = json.loads(new.read_text(encoding="utf-8"))
    status = emplettes(tmp_path, "status", "--json")
    manifest["status"] = json.loads(status.stdout.splitlines()[0])["last_run"]
    return manifest


def test_pages_redirecting_to_each_other_fail_and_the_run_cannot_sweep(tmp_path, shop):
    good = crawl(tmp_path, shop)
    assert good["products"] == PRODUCTS and good["status"]["index_outcome"] == "complete"
    shop.redirects = {1: (302, "/p/2"), 2: (302, "/p/1"), 3: (302, "/p/4"), 4: (302, "/p/3")}
    looping = crawl(tmp_path, shop)
    assert looping["errors"].get("redirect_loop") == 4, looping["errors"]
    assert looping["status"]["outcome"] == "partial" and looping["status"]["index_outcome"] == "partial"
    assert looping["products"] == 2


def test_a_chain_of_redirects_fails_each_page_that_starts_it(tmp_path, shop):
    shop.redirects = dict.fromkeys(range(1, 4), (301, "/etape/1"))  # three pages into one endless chain
    chained = crawl(tmp_path, shop)
    assert chained["errors"].get("redirect_loop") == 3, chained["errors"]
    assert chained["status"]["outcome"] == "partial"


def test_a_301_is_asked_again_at_the_next_run(tmp_path, shop):
    # A shop mid-migration: its product pages 301 in a circle for one run, then are fixed.
    shop.redirects = {1: (301, "/p/2"), 2: (301, "/p/1")}
    first = crawl(tmp_path, shop)
    assert first["errors"].get("redirect_loop") == 2
    shop.redirects = {}
    second = crawl(tmp_path, shop)
    assert second["errors"] == {} and second["products"] == PRODUCTS
    assert second["status"]["index_outcome"] == "complete"
