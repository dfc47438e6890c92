"""`emplettes demo` shows the whole federation: every kind of source detected (not forced
where detection is the point), crawled, indexed, and found on the portal's results page."""

from __future__ import annotations

import os
import re

import pytest
import requests
from crawling import run_demo

pytestmark = pytest.mark.e2e

FEDERATION_KINDS = {
    "epicerie-des-tanneurs": ("shopify", 8, "shopify (products.json, 8 produits)"),
    "cave-saint-martin": ("woocommerce", 7, "woocommerce (Store API, 7 produits)"),
    "sabots-du-berry": ("feed", 6, "/feeds/products.rss, 6 produits)"),
    "vitrines-de-blois": ("platform", 12, "type inscrit au registre"),
    "atelier-de-loire": ("social", 6, "type inscrit au registre"),
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("demo")
    env = {**os.environ, "DATA_DIR": str(data_dir), "SEARCH_BACKEND": "tantivy", "CRAWL_DELAY": "0"}
    env.pop("SOURCES_FILE", None)  # the committed demo registry
    done = run_demo(env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stdout + done.stderr
    table = done.stdout.split("Sources, type lu et produits :", 1)[1]
    rows = {}
    for line in table.splitlines():
        match = re.match(r"  (\S+)\s+(\w+)\s+(\d+) produits?\s+(.*)$", line)
        if match:
            rows[match.group(1)] = (match.group(2), int(match.group(3)), match.group(4))
    return data_dir, rows, done.stdout


def test_the_demo_prints_each_sources_detected_kind_and_product_count(demo):
    _, rows, _ = demo
    assert len(rows) == 18
    for source_id, (kind, products, how) in FEDERATION_KINDS.items():
        assert rows[source_id][:2] == (kind, products), rows[source_id]
        assert rows[source_id][2].endswith(how) or how in rows[source_id][2]
    markup = {sid: row for sid, row in rows.items() if sid not in FEDERATION_KINDS}
    assert len(markup) == 13
    assert all(kind == "website" and products > 10 for kind, products, _ in markup.values()), markup


def test_the_results_page_shows_products_of_every_kind(demo):
    from config import Config
    from portal import create_app
    from portal.server import serving_in_thread

    data_dir, _, _ = demo
    # one query per kind of source, and the shop it must show (the chamber's platform
    # attributes each product to the shop selling it)
    queries = {
        "website": ("bougie", "Chandellerie"),
        "shopify": ("vinaigre estragon", "Épicerie des Tanneurs"),
        "woocommerce": ("Cheverny", "Cave Saint-Martin"),
        "feed": ("sabots peuplier", "Sabots du Berry"),
        "platform": ("Selles-sur-Cher", "Fromagerie du Château"),
        "social": ("création atelier", "Atelier de Loire"),
    }
    app = create_app(Config(data_dir=data_dir, search_backend="tantivy"))
    with serving_in_thread(app) as url:
        for kind, (words, shop_name) in queries.items():
            page = requests.get(f"{url}/recherche", params={"q": words}, timeout=30)
            assert page.status_code == 200
            assert shop_name in page.text, f"{kind}: {shop_name} not on the results for {words!r}"


def test_a_platform_shop_placed_by_its_town_is_on_the_map_at_its_towns_centre(demo):
    import json

    from indexer.communes import communes

    data_dir, _, _ = demo
    (run,) = sorted((data_dir / "runs" / "vitrines-de-blois").glob("*.jsonl"))[-1:]
    records = [json.loads(line) for line in run.read_text(encoding="utf-8").splitlines() if line.strip()]
    (cycles,) = [r for r in records if r.get("type") == "shop" and r.get("name") == "Cycles Blésois"]
    vineuil = next(c for c in communes().with_postcode("41350") if c.name == "Vineuil")
    assert (cycles["town"], cycles["postcode"]) == ("Vineuil", "41350")
    assert (cycles["lat"], cycles["lon"]) == (vineuil.lat, vineuil.lon)  # the registry gave no point
