"""``emplettes sources add URL``: detect, append a commented entry, keep the chamber's file."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.registry import load_registry
from crawler.sources_add import AddError, add_source
from samples.platforms import PlatformShop, PlatformSites

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sites():
    with PlatformSites([PlatformShop("shopify", n=30), PlatformShop("feed-rss", n=4)]) as running:
        yield running


@pytest.fixture
def registry(tmp_path):
    path = tmp_path / "sources.yaml"
    shutil.copy(REPO / "sources.yaml", path)
    return path


def test_add_keeps_every_byte_of_the_chambers_file_and_appends_a_valid_entry(sites, registry):
    before = registry.read_text()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "emplettes.cli",
            "sources",
            "add",
            sites.base_urls["shopify"],
            "--file",
            str(registry),
            "--town",
            "Tours",
            "--postcode",
            "37000",
            "--allow-private",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ},
    )
    assert result.returncode == 0, result.stderr
    assert "detected: shopify (products.json, 30 produits)" in result.stdout
    after = registry.read_text()
    assert after.startswith(before), "comments, order and layout are kept"
    added = after[len(before) :]
    assert (
        "# ajouté par « emplettes sources add »" in added and "kind: shopify" in added and 'postcode: "37000"' in added
    )
    loaded = load_registry(registry)
    assert loaded.sources[-1].id == "boutique-shopify" and loaded.sources[-1].kind == "shopify"
    assert len(loaded.sources) == len(load_registry(REPO / "sources.yaml").sources) + 1


def test_add_a_feed_shop_records_its_feed(sites, registry):
    added = add_source(registry, sites.base_urls["feed-rss"], town="Blois", postcode="41000", allow_private=True)
    source = load_registry(registry).get(added.id)
    assert source.kind == "feed" and source.feed.endswith("/feeds/products.rss")


def test_add_refuses_duplicates_and_missing_address_without_touching_the_file(sites, registry):
    add_source(registry, sites.base_urls["shopify"], town="Tours", postcode="37000", allow_private=True)
    before = registry.read_text()
    with pytest.raises(AddError, match="already registered"):
        add_source(registry, sites.base_urls["shopify"], town="Tours", postcode="37000", allow_private=True)
    with pytest.raises(AddError, match="--town and --postcode"):
        add_source(registry, sites.base_urls["feed-rss"], allow_private=True)
    with pytest.raises(AddError, match="postcode"):
        add_source(registry, sites.base_urls["feed-rss"], town="Blois", postcode="4100", allow_private=True)
    assert registry.read_text() == before
