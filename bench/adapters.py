"""Platform adapters: requests per shop and per-field accuracy, with the real crawler.

    .venv/bin/python bench/adapters.py                # 500-product shops of every kind
    .venv/bin/python bench/adapters.py --products 137

Serves one sample shop per source kind (``samples.platforms``: Shopify products.json,
WooCommerce Store API, RSS/Atom/TSV/CSV feeds, a chamber platform) plus a website-kind
reference (the same 500 products as schema.org pages is what a shop without an API costs),
crawls them with ``emplettes crawl`` in a subprocess, and prints, per source: the requests
the shop received (robots.txt and home page included), the products in the run file, and
the share of products whose every field equals the truth, field by field. The Shopify
corpus payload (``../shared/corpus/shopify``) is scored too when present.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from samples.platforms import PlatformShop, PlatformSites  # noqa: E402

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=500)
    args = parser.parse_args()
    n = args.products
    shops = [
        PlatformShop("shopify", n=n),
        PlatformShop("woocommerce", n=n),
        PlatformShop("feed-rss", n=n),
        PlatformShop("feed-atom", n=n),
        PlatformShop("feed-tsv", n=n),
        PlatformShop("feed-csv", n=n),
        PlatformShop("chamber", n=n, id="platform"),
    ]
    with tempfile.TemporaryDirectory() as tmp, PlatformSites(shops) as sites:
        tmp = Path(tmp)
        entries = []
        for shop in shops:
            url = sites.base_urls[shop.id]
            kind = "feed" if shop.kind.startswith("feed") else "platform" if shop.kind == "chamber" else shop.kind
            entry = (
                f"  - id: {shop.id}\n    name: {shop.id}\n    url: {url}\n    town: Tours\n"
                f'    postcode: "37000"\n    allow_private: true\n    kind: {kind}\n    max_pages: 100000\n'
            )
            if kind == "feed":
                entry += f"    feed: {url}feeds/products.{shop.kind.split('-')[1]}\n"
            if kind == "platform":
                entry += f"    platform: {json.dumps(shop.PLATFORM_CONFIG, ensure_ascii=False)}\n"
            entries.append(entry)
        (tmp / "sources.yaml").write_text("sources:\n" + "\n".join(entries))
        env = {
            **os.environ,
            "DATA_DIR": str(tmp / "data"),
            "SOURCES_FILE": str(tmp / "sources.yaml"),
            "CRAWL_DELAY": "0",
        }
        result = subprocess.run(
            [sys.executable, "-m", "emplettes.cli", "crawl"], env=env, capture_output=True, text=True
        )
        if result.returncode:
            print(result.stderr, file=sys.stderr)
            return 1
        print(f"{'source':<12} {'requests':>8} {'products':>8}  per-field accuracy (share of products exactly right)")
        for shop in shops:
            (run_file,) = (tmp / "data" / "runs" / shop.id).glob("*.jsonl")
            found = {r["url"]: r for r in map(json.loads, run_file.read_text().splitlines()) if r["type"] == "product"}
            base = sites.base_urls[shop.id]
            truth = shop.chamber_expected(base) if shop.kind == "chamber" else shop.expected(base)
            fields = [f for f in FIELDS if f in truth[0]]
            scores = {
                f: sum(1 for t in truth if t["url"] in found and found[t["url"]][f] == t[f]) / len(truth)
                for f in fields
            }
            requests = len(sites.requests_to(shop.id))
            print(
                f"{shop.id:<12} {requests:>8} {len(found):>8}  " + " ".join(f"{f}={s:.0%}" for f, s in scores.items())
            )
    corpus = ROOT.parent / "shared" / "corpus" / "shopify"
    if corpus.exists():
        from crawler.adapters import shopify

        for truth_file in sorted(corpus.glob("*.expected.json")):
            truth = json.loads(truth_file.read_text())["products"][0]
            document = corpus / truth_file.name.replace(".expected.json", ".json")
            (got,) = shopify.parse(document.read_bytes(), "https://shop.example/").products
            checks = {
                "name": got["name"] == truth["name"],
                "price": got["price"] == truth["price"],
                "currency": got["currency"] == truth["currency"],
                "availability": got["availability"] == truth["availability"],
                "url": got["url"].endswith(truth["url"]),
                "image": got["image"] == truth["image"],
                "brand": got["brand"] == truth["brand"],
                "sku": got["sku"] == truth["sku"],
                "gtin": got["gtin"] == truth["gtin"],
                "description": (got["description"] or "").startswith(truth["description_prefix"]),
            }
            print(f"corpus {document.name}: " + " ".join(f"{k}={'ok' if v else 'WRONG'}" for k, v in checks.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
