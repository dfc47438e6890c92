"""WooCommerce recrawls ask only for what changed, and fall back to a full pull when the
shop's count says products were withdrawn."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from samples.platforms import PlatformShop, PlatformSites

FIELDS = (
    "name",
    "price",
    "currency",
    "availability",
    "url",
    "image",
    "brand",
    "category",
    "sku",
    "gtin",
    "description",
)


def crawl(tmp: Path, registry: Path) -> list[dict]:
    env = {**os.environ, "DATA_DIR": str(tmp / "data"), "SOURCES_FILE": str(registry), "CRAWL_DELAY": "0"}
    result = subprocess.run(
        [sys.executable, "-m", "emplettes.cli", "crawl"], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    newest = sorted((tmp / "data" / "runs" / "cave").glob("*.jsonl"))[-1]
    return [r for r in map(json.loads, newest.read_text().splitlines()) if r["type"] == "product"]


def exact(found: list[dict], expected: list[dict]) -> bool:
    by_url = {r["url"]: {k: r[k] for k in FIELDS} for r in found}
    return len(by_url) == len(found) and by_url == {e["url"]: {k: e[k] for k in FIELDS} for e in expected}


def test_incremental_then_full_when_products_were_withdrawn(tmp_path):
    shop = PlatformShop("woocommerce", n=250, id="cave")
    with PlatformSites([shop]) as sites:
        base = sites.base_urls["cave"]
        registry = tmp_path / "sources.yaml"
        registry.write_text(
            f"sources:\n  - id: cave\n    name: Cave\n    url: {base}\n    kind: woocommerce\n"
            '    town: Chinon\n    postcode: "37500"\n    allow_private: true\n'
        )

        def api_requests(since: int) -> list[str]:
            # Each crawl of `kind: woocommerce` first checks the Store API with one product
            # (crawler.detect.check_registered): not part of the listing counted here.
            asked = [p for p, _ in sites.requests_to("cave")[since:] if p.startswith("/wp-json/")]
            assert asked[0] == "/wp-json/wc/store/v1/products?per_page=1&page=1", asked
            return asked[1:]

        first = crawl(tmp_path, registry)
        assert exact(first, shop.expected(base))
        assert len(api_requests(0)) == 3  # full pull: 3 pages

        now = datetime.now(UTC)
        shop.edited = {5: now, 17: now}  # two prices went up
        seen = len(sites.requests_to("cave"))
        second = crawl(tmp_path, registry)
        asked = api_requests(seen)
        assert exact(second, shop.expected(base)), "the two changes are read, the 248 others carried"
        assert len(asked) == 2 and "per_page=1&" in asked[0] and "date_column=modified" in asked[1]
        assert {r["url"]: r["price"] for r in second}[f"{base}produit/produit-5/"] == "10.85"
        firsts = {r["id"]: r["first_seen"] for r in first}
        assert all(r["first_seen"] == firsts[r["id"]] for r in second)

        shop.removed = {250}
        seen = len(sites.requests_to("cave"))
        third = crawl(tmp_path, registry)
        assert exact(third, shop.expected(base)) and len(third) == 249, "the withdrawn product is gone"
        assert any("date_column" not in p and "page=3" in p for p in api_requests(seen)), "fell back to a full pull"
