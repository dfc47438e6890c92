"""Recrawls skip pages whose sitemap ``lastmod`` predates the last good run, and keep their records."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from crawler.recrawl import PreviousRun, parse_lastmod
from samples import SampleSites, expected_products, write_sources_yaml

SHOP = "brulerie-des-halles"  # Shopify-style sitemaps with lastmod on every entry


def crawl(data: Path, registry: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATA_DIR": str(data), "SOURCES_FILE": str(registry), "CRAWL_DELAY": "0"}
    return subprocess.run(
        [sys.executable, "-m", "emplettes.cli", "crawl", "--source", SHOP],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def runs(data: Path) -> list[tuple[dict, list[dict]]]:
    out = []
    for manifest in sorted((data / "runs" / SHOP).glob("*.json")):
        records = [json.loads(line) for line in manifest.with_suffix(".jsonl").read_text().splitlines()]
        out.append((json.loads(manifest.read_text()), [r for r in records if r["type"] == "product"]))
    return out


def test_second_crawl_reads_only_changed_pages_and_keeps_every_product(tmp_path):
    with SampleSites(port=0, shops=[SHOP]) as sites:
        registry = tmp_path / "sources.yaml"
        write_sources_yaml(registry, sites.base_urls)
        assert crawl(tmp_path / "data", registry).returncode == 0
        first_requests = len(sites.requests_to(SHOP))
        assert crawl(tmp_path / "data", registry).returncode == 0
        second = [r.path for r in sites.requests_to(SHOP)[first_requests:]]
        expected = {p["url"] for p in expected_products(sites.base_urls, SHOP)}
    (_first_manifest, first), (second_manifest, again) = runs(tmp_path / "data")
    assert {p["url"] for p in first} == {p["url"] for p in again} == expected
    assert not any(path.startswith("/products/") for path in second), "unchanged product pages are not fetched"
    assert all(p["run_id"] == second_manifest["run_id"] for p in again)
    firsts = {p["id"]: p["first_seen"] for p in first}
    assert all(firsts[p["id"]] == p["first_seen"] for p in again)
    assert second_manifest["finish_reason"] == "finished"


def test_lastmod_rules(tmp_path):
    assert parse_lastmod("2025-11-01") == datetime(2025, 11, 1, tzinfo=UTC)
    assert parse_lastmod("2025-11-01T08:00:00Z") == datetime(2025, 11, 1, 8, tzinfo=UTC)
    assert parse_lastmod("yesterday") is None and parse_lastmod(None) is None
    run = tmp_path / "r1"
    (tmp_path / "r1.json").write_text(
        json.dumps({"run_id": "r1", "finish_reason": "finished", "started_at": "2026-01-10T00:00:00Z", "pages": 10})
    )
    (tmp_path / "r1.jsonl").write_text(
        json.dumps({"type": "product", "url": "https://s.example/p/a", "id": "a"}) + "\n"
    )
    (tmp_path / "r2.json").write_text(
        json.dumps({"run_id": "r2", "finish_reason": "shutdown", "started_at": "2026-02-01T00:00:00Z"})
    )
    previous = PreviousRun.load(tmp_path, "r3")
    assert previous.run_id == "r1", "a run that did not finish is no baseline"
    assert previous.unchanged("https://s.example/p/a", "2026-01-01")
    assert previous.unchanged("https://s.example/p/a", "2026-01-09T23:00:00Z") is None  # within the safety margin
    assert previous.unchanged("https://s.example/p/a", None) is None
    assert previous.unchanged("https://s.example/p/b", "2020-01-01") is None  # never read: fetch it
    assert not run.exists()
