"""End to end, real parts only: sample shop sites over HTTP → Scrapy → run files → tantivy → portal.

The sample sites run on 127.0.1.x (one host per shop) in this process; the crawl and the
indexing run as the ``emplettes`` command in subprocesses, exactly as a chamber runs them;
the portal is queried over HTTP.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from samples import SampleSites, expected_products, write_sources_yaml

pytestmark = pytest.mark.e2e


def emplettes(*args: str, env: dict, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "emplettes.cli", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    """Serve the sample shops, crawl them all, index the runs: shared by the tests below."""
    root = tmp_path_factory.mktemp("e2e")
    with SampleSites(port=0) as sites:
        sources = root / "sources.yaml"
        write_sources_yaml(sources, sites.base_urls)
        env = {**os.environ, "DATA_DIR": str(root / "data"), "SOURCES_FILE": str(sources), "CRAWL_DELAY": "0"}
        crawl = emplettes("crawl", env=env)
        assert crawl.returncode == 0, crawl.stderr
        index = emplettes("index", env=env)
        assert index.returncode == 0, index.stderr
        yield {"root": root, "env": env, "sites": sites, "crawl": crawl, "index": index}


@pytest.fixture(scope="module")
def portal(crawled):
    """The real portal app over the index the ``emplettes index`` subprocess built."""
    from config import Config
    from portal import create_app
    from portal.server import serving_in_thread

    with serving_in_thread(create_app(Config(data_dir=crawled["root"] / "data"))) as base:
        yield base


def _manifests(root: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((root / "data" / "runs").glob("*/*.json"))]


def test_every_source_gets_a_run_file_and_a_finished_manifest(crawled):
    manifests = _manifests(crawled["root"])
    sources = {m["source_id"] for m in manifests}
    assert len(sources) >= 12
    for manifest in manifests:
        assert manifest["finished_at"], manifest
        assert manifest["finish_reason"] == "finished", manifest
        run_file = crawled["root"] / "data" / "runs" / manifest["source_id"] / f"{manifest['run_id']}.jsonl"
        lines = run_file.read_text().splitlines()
        assert len(lines) == manifest["items"]
        assert json.loads(lines[0])["type"] in ("product", "shop")


def test_crawl_prints_progress_per_source(crawled):
    assert "✓" in crawled["crawl"].stderr
    assert "fiches de" in crawled["crawl"].stderr


def test_every_reachable_sample_product_is_indexed_with_its_shop_link(crawled, portal):
    expected = expected_products(crawled["sites"].base_urls)
    assert len(expected) >= 200
    found = requests.get(portal + "/api/search", params={"per_page": 50}, timeout=10).json()
    assert found["total"] == len(expected)
    missing = []
    for product in expected:
        hits = requests.get(portal + "/api/search", params={"q": product["name"], "per_page": 50}, timeout=10).json()
        urls = {hit["url"] for hit in hits["results"]}
        if product["url"] not in urls:
            missing.append(product["name"])
    assert not missing, f"{len(missing)} products not found by name: {missing[:10]}"


def test_crawled_fields_match_the_sample_shops_ground_truth(crawled):
    """Every field the sample markup declares arrives intact in the run files."""
    crawled_products = {}
    for run_file in (crawled["root"] / "data" / "runs").glob("*/*.jsonl"):
        for line in run_file.read_text().splitlines():
            record = json.loads(line)
            if record["type"] == "product":
                crawled_products[record["url"]] = record
    mismatches = []
    for expected in expected_products(crawled["sites"].base_urls):
        record = crawled_products[expected["url"]]
        for field in (
            "name",
            "price",
            "price_high",
            "currency",
            "availability",
            "image",
            "sku",
            "gtin",
            "brand",
            "category",
            "description",
        ):
            want = expected.get(field) or None
            if field == "name" and "<script>" in (want or ""):
                want = "Bougie vanille"  # markup in a name is dropped as data (see the hostile test)
            if (record.get(field) or None) != want:
                mismatches.append((expected["shop_id"], field, want, record.get(field)))
    assert not mismatches, mismatches[:10]


def test_search_links_out_to_the_product_page_on_the_shops_own_site(crawled, portal):
    product = next(p for p in expected_products(crawled["sites"].base_urls) if p.get("price"))
    body = requests.get(portal + "/api/search", params={"q": product["name"]}, timeout=10).json()
    first = body["results"][0]
    assert first["url"] == product["url"]
    assert urlsplit(first["url"]).hostname == urlsplit(crawled["sites"].base_urls[product["shop_id"]]).hostname
    assert first["shop"]["id"] == product["shop_id"]
    page = requests.get(portal + "/", params={"q": product["name"]}, timeout=10).text
    assert f'href="/go/{first["id"]}"' in page  # out through /go/, which counts the click
    hop = requests.get(portal + f"/go/{first['id']}", allow_redirects=False, timeout=10)
    assert hop.headers["Location"] == product["url"]


def test_robots_txt_is_read_first_and_obeyed_on_every_shop(crawled):
    from protego import Protego

    sites = crawled["sites"]
    for shop_id, base in sites.base_urls.items():
        logged = sites.requests_to(shop_id)
        assert logged and logged[0].path == "/robots.txt", f"{shop_id}: robots.txt must come first"
        robots = requests.get(base + "robots.txt", timeout=5)
        rules = Protego.parse(robots.text if robots.ok else "")
        for request in logged:
            assert "emplettes/" in request.user_agent and "+http" in request.user_agent
            assert rules.can_fetch(base.rstrip("/") + request.path, request.user_agent), (shop_id, request.path)


def test_broken_pages_are_counted_against_their_source_and_the_rest_kept(crawled):
    manifests = {m["source_id"]: m for m in _manifests(crawled["root"])}
    broken = [m for m in manifests.values() if m["page_errors"]]
    assert broken, "the broken sample shop should report its failed pages"
    for manifest in broken:
        assert manifest["items"] > 0, "a few broken pages must not lose the shop's other products"
        assert manifest["errors"], "errors are recorded by kind"


def test_hostile_product_names_stay_inert_text(crawled, portal):
    """The sample candle shop names a product ``Bougie <script>alert("xss")</script> vanille``.

    Extraction keeps names as plain text (markup in a name is data, never kept); the portal
    escapes whatever reaches it (see test_portal.py for raw ``<script>`` records).
    """
    hostile = next(p for p in expected_products(crawled["sites"].base_urls) if "<script>" in p["name"])
    hits = requests.get(portal + "/api/search", params={"q": "bougie vanille"}, timeout=10).json()["results"]
    record = next(hit for hit in hits if hit["url"] == hostile["url"])
    assert "<" not in record["name"] and record["name"].startswith("Bougie")
    page = requests.get(portal + "/", params={"q": "bougie vanille"}, timeout=10).text
    assert "<script>alert" not in page and 'alert("xss")' not in page


def test_reindexing_the_same_runs_changes_nothing(crawled, portal):
    before = requests.get(portal + "/api/search", timeout=10).json()["total"]
    again = emplettes("index", env=crawled["env"])
    assert again.returncode == 0, again.stderr
    assert requests.get(portal + "/api/search", timeout=10).json()["total"] == before
