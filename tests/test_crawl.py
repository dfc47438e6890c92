"""Crawl behaviour on single sample shops: page budget, address guard, discovery modes.

Real Scrapy in a subprocess (``emplettes crawl``) against sample sites served over HTTP.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from samples import SampleSites, expected_products, write_sources_yaml

SHOPS = ["fromagerie-du-donjon", "brulerie-des-halles"]


@pytest.fixture(scope="module")
def sites():
    with SampleSites(port=0, shops=SHOPS) as running:
        yield running


def crawl(tmp_path: Path, sites: SampleSites, **changes) -> tuple[subprocess.CompletedProcess, dict[str, dict]]:
    """Crawl the sample shops with registry fields changed per source id, return the manifests."""
    registry = tmp_path / "sources.yaml"
    write_sources_yaml(registry, sites.base_urls)
    yaml = YAML()
    doc = yaml.load(registry)
    for entry in doc["sources"]:
        entry.update(changes.get(entry["id"].replace("-", "_"), {}))
    yaml.dump(doc, registry)
    env = {**os.environ, "DATA_DIR": str(tmp_path / "data"), "SOURCES_FILE": str(registry), "CRAWL_DELAY": "0"}
    result = subprocess.run(
        [sys.executable, "-m", "emplettes.cli", "crawl"], env=env, capture_output=True, text=True, timeout=300
    )
    manifests = {
        m["source_id"]: m for m in (json.loads(p.read_text()) for p in (tmp_path / "data" / "runs").glob("*/*.json"))
    }
    return result, manifests


def products_in_run(tmp_path: Path, source_id: str) -> list[dict]:
    (run_file,) = (tmp_path / "data" / "runs" / source_id).glob("*.jsonl")
    return [r for r in map(json.loads, run_file.read_text().splitlines()) if r["type"] == "product"]


def test_sources_on_private_addresses_are_refused_without_allow_private(tmp_path, sites):
    before = len(sites.requests_to("brulerie-des-halles"))
    _result, manifests = crawl(tmp_path, sites, brulerie_des_halles={"allow_private": False})
    refused = manifests["brulerie-des-halles"]
    assert refused["pages"] == 0 and refused["items"] == 1  # the registry's shop record only
    assert refused["refused_private"] >= 1
    assert len(sites.requests_to("brulerie-des-halles")) == before, "not a single request reached the shop"
    log = next((tmp_path / "data" / "logs").glob("*.log")).read_text()
    assert "adresse privée, locale ou de lien local" in log
    assert manifests["fromagerie-du-donjon"]["items"] > 1, "other sources are not affected"


def test_the_page_budget_bounds_a_crawl_and_the_run_still_finishes(tmp_path, sites):
    result, manifests = crawl(tmp_path, sites, fromagerie_du_donjon={"max_pages": 4})
    assert result.returncode == 0, result.stderr
    bounded = manifests["fromagerie-du-donjon"]
    assert bounded["finish_reason"] == "finished"
    # robots.txt, home, sitemap probes and the home page again for links, then at most 4 pages
    assert bounded["pages"] <= 4 + 5
    assert len(products_in_run(tmp_path, "fromagerie-du-donjon")) <= 4


def test_sites_without_sitemap_are_discovered_by_following_links(tmp_path, sites):
    _result, _manifests = crawl(tmp_path, sites)
    found = {p["url"] for p in products_in_run(tmp_path, "fromagerie-du-donjon")}
    expected = {p["url"] for p in expected_products(sites.base_urls, "fromagerie-du-donjon")}
    assert found == expected
    paths = [r.path for r in sites.requests_to("fromagerie-du-donjon")]
    assert any("page=2" in p for p in paths), "category pagination is followed"


def test_sitemap_shops_are_read_from_their_sitemaps_not_by_wandering(tmp_path, sites):
    before = len(sites.requests_to("brulerie-des-halles"))
    _result, _manifests = crawl(tmp_path, sites)
    paths = [r.path for r in sites.requests_to("brulerie-des-halles")[before:]]
    assert "/sitemap.xml" in paths and any("sitemap_products" in p for p in paths)
    found = {p["url"] for p in products_in_run(tmp_path, "brulerie-des-halles")}
    assert found == {p["url"] for p in expected_products(sites.base_urls, "brulerie-des-halles")}
    assert not any(p.startswith("/collections") and "page=" in p for p in paths), "no link-following needed"
    assert not any(p.startswith(("/sitemap_pages", "/sitemap_collections")) for p in paths), "only product sitemaps"


def test_a_yoast_sitemap_index_is_narrowed_to_its_product_sitemap(tmp_path):
    with SampleSites(port=0, shops=["cave-du-vieux-chinon"]) as sites:
        crawl(tmp_path, sites)
        paths = [r.path for r in sites.requests_to("cave-du-vieux-chinon")]
    assert "/product-sitemap.xml" in paths
    assert "/page-sitemap.xml" not in paths and "/product_cat-sitemap.xml" not in paths
    found = {p["url"] for p in products_in_run(tmp_path, "cave-du-vieux-chinon")}
    assert found == {p["url"] for p in expected_products(sites.base_urls, "cave-du-vieux-chinon")}
