"""``kind: social`` over real HTTP: ``emplettes crawl`` (subprocess) reads a public catalogue
page and the OpenGraph-only product pages it links to, sends no cookie, never logs in, and
counts a page behind a login as a ``login_required`` error of the run; ``emplettes check``
says so too."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from crawling import crawl_registry

from samples.platforms import PlatformSites
from samples.social import SocialPage

PAGES = [SocialPage(n=6, id="atelier"), SocialPage(n=3, id="mur", login_wall=True), SocialPage(n=6, id="borne")]
FIELDS = ("name", "price", "currency", "availability", "url", "image", "sku", "brand")


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("social")
    with PlatformSites(PAGES, first=151) as sites:
        entries = [
            "\n".join(
                [
                    f"  - id: {page.id}",
                    f"    name: Atelier {page.id}",
                    f"    url: {sites.base_urls[page.id]}",
                    "    kind: social",
                    "    town: Amboise",
                    '    postcode: "37400"',
                    "    allow_private: true",
                ]
                + (["    max_pages: 2"] if page.id == "borne" else [])
            )
            for page in PAGES
        ]
        result, runs, env = crawl_registry(tmp, entries)
        yield result, runs, sites, env


def _products(runs, source_id):
    return [r for r in runs[source_id][0] if r["type"] == "product"]


def test_a_catalogue_page_and_the_opengraph_product_pages_it_links_to(crawled):
    result, runs, sites, _ = crawled
    assert result.returncode == 0, result.stderr
    found = {r["url"]: r for r in _products(runs, "atelier")}
    expected = PAGES[0].expected(sites.base_urls["atelier"])
    assert len(found) == len(_products(runs, "atelier")) == len(expected)
    for truth in expected:
        assert {k: found[truth["url"]][k] for k in FIELDS} == truth
    (shop,) = [r for r in runs["atelier"][0] if r["type"] == "shop"]
    assert (shop["name"], shop["town"]) == ("Atelier atelier", "Amboise")


def test_no_cookie_is_sent_and_no_login_is_attempted(crawled):
    _, _, sites, _ = crawled
    assert all(not page.cookies_seen for page in PAGES), [page.cookies_seen for page in PAGES]
    paths = [path for path, _ in sites.requests_to("atelier")]
    assert "/login/" not in paths, "a link to the login page is never followed"
    assert all(not p.startswith("/login/") or "next=" in p for p in paths), "only reached through a redirect"


def test_a_page_behind_a_login_is_a_login_required_error_in_the_manifest(crawled):
    _, runs, _, _ = crawled
    assert runs["atelier"][1]["errors"] == {"login_required": 1}  # /p/reserve-membres/ -> /login/
    assert runs["mur"][1]["errors"] == {"login_required": 1}
    assert _products(runs, "mur") == []
    assert [r["type"] for r in runs["mur"][0]] == ["shop"], "the shop is still named from the registry"


def test_max_pages_bounds_the_linked_pages(crawled):
    _, runs, sites, _ = crawled
    fetched = [p for p, _ in sites.requests_to("borne") if p.startswith("/p/")]
    assert len(fetched) == 2 and len(_products(runs, "borne")) == 2


def test_check_says_when_a_page_needs_a_login_and_reads_an_opengraph_page(crawled):
    _, _, sites, env = crawled

    def check(url, *args):
        return subprocess.run(
            [sys.executable, "-m", "emplettes.cli", "check", url, "--allow-private", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    walled = check(sites.base_urls["mur"])
    assert "se connecter" in walled.stdout + walled.stderr and "ne se connecte jamais" in walled.stdout + walled.stderr
    forced = check(sites.base_urls["mur"], "--kind", "social")
    assert "ne se connecte jamais" in forced.stderr and forced.returncode != 0, forced.stdout + forced.stderr
    page = check(sites.base_urls["atelier"] + "p/creation-2/", "--json")
    (product,) = [json.loads(line) for line in page.stdout.splitlines() if '"product"' in line]
    assert (product["price"], product["currency"], product["availability"], product["sku"]) == (
        "17.00",
        "EUR",
        "in_stock",
        "AT-002",
    )


def test_sources_add_writes_kind_social(crawled, tmp_path):
    _, _, sites, env = crawled
    registry = tmp_path / "sources.yaml"
    registry.write_text("# registre de la chambre\nsources: []\n")
    added = subprocess.run(
        [
            sys.executable,
            "-m",
            "emplettes.cli",
            "sources",
            "add",
            sites.base_urls["atelier"],
            "--kind",
            "social",
            "--town",
            "Amboise",
            "--postcode",
            "37400",
            "--file",
            str(registry),
            "--allow-private",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert added.returncode == 0, added.stderr
    assert "kind: social" in registry.read_text() and registry.read_text().startswith("# registre de la chambre")
