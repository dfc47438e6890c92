"""Do speed changes to the tantivy backend leave search results exactly as they were?

    .venv/bin/python bench/search_equivalence.py --dump before.jsonl   # with the old code
    .venv/bin/python bench/search_equivalence.py --check before.jsonl  # with the new code

Runs a few hundred seeded queries (the benchmark's faceted and geo sets, plus prices,
services, shops, typos, deep pages and place names) through ``TantivyBackend.search`` on the
benchmark's catalogue and writes, per query, everything a caller sees: total, ids in order,
facet values/counts/selection, highlights and distances. ``--check`` compares and prints the
first differences; it exits 1 when anything differs. Each query runs twice (the facet
cache on, then served from it) and once more on a backend without a cache.

Compare on one index: a rebuild changes the segment layout, and a group of equally scored
products larger than the tie window keeps the engine's (layout) order. To check a change
to indexing, build with the new code, dump with the old one on that index
(``--backend-file old_tantivy_backend.py --dump``), then ``--check`` with the new code.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.search import (
    CATEGORIES,
    SERVICES,
    TOWNS,
    backend_class_from,
    faceted_queries,
    geo_queries,
    make_products,
    make_shops,
)
from indexer.backends.base import Near, SearchQuery
from indexer.backends.tantivy import TantivyBackend


def extra_queries(shops: list[dict], rng: random.Random, n: int) -> list[SearchQuery]:
    texts = [
        "",
        "bougei",
        "theiere fonte",
        "confitures d'abricot",
        "miel lavande bio",
        "pul laine",
        "bougie vanille noel",
        "carnet papier",
        "couteau opinel",
        "ballon rugby",
        "velo",
        "xyzzy",
        "savon marseille",
        "cafe",
        "thé",
        "cadeau artisanal",
        "vin de loire",
        "fromages chevre",
        "bouquet roses",
        "lampe",
        "bougies près de Nantes",
        "miel près de Laval",
        "poupee porcelaine",
    ]
    queries = []
    for _ in range(n):
        filters: dict[str, tuple[str, ...]] = {}
        roll = rng.random()
        if roll < 0.2:
            filters["shop"] = (rng.choice(shops)["name"],)
        elif roll < 0.3:
            filters["shop_id"] = (rng.choice(shops)["id"],)
        if rng.random() < 0.25:
            filters["services"] = tuple(rng.sample(SERVICES, rng.choice([1, 2])))
        if rng.random() < 0.25:
            filters["category"] = tuple(rng.sample(CATEGORIES, rng.choice([1, 2])))
        if rng.random() < 0.3:
            filters["town"] = tuple(rng.sample([t[0] for t in TOWNS], rng.choice([1, 2, 3])))
        if rng.random() < 0.2:
            filters["availability"] = tuple(rng.sample(["in_stock", "preorder", "out_of_stock", "unknown"], 2))
        price_min = Decimal(rng.choice(["5", "10.5", "20"])) if rng.random() < 0.2 else None
        price_max = Decimal(rng.choice(["15", "30", "99.99"])) if rng.random() < 0.2 else None
        near = None
        if rng.random() < 0.3:
            _, lat, lon, _ = rng.choice(TOWNS)
            near = Near(lat + rng.gauss(0, 0.02), lon + rng.gauss(0, 0.02), rng.choice([1, 5, 10, 25]))
        sorts = ["relevance", "price_asc", "price_desc", "newest"] + (["distance"] * 2 if near else [])
        facets = rng.choice([("town", "category", "availability", "shop", "services"), ("town", "shop"), ()])
        queries.append(
            SearchQuery(
                text=rng.choice(texts),
                filters=filters,
                price_min=price_min,
                price_max=price_max,
                near=near,
                sort=rng.choice(sorts),
                page=rng.choice([1, 1, 2, 5, 40]),
                per_page=rng.choice([20, 20, 50, 0]),
                facets=facets,
            )
        )
    return queries


def all_queries(shops: list[dict], seed: int) -> list[SearchQuery]:
    rng = random.Random(seed + 7)
    return (
        faceted_queries(shops, rng, 150)
        + geo_queries(rng, 80)
        + extra_queries(shops, rng, 220)
        + [SearchQuery(per_page=20, page=p) for p in (1, 2, 3, 50)]
        + [SearchQuery(per_page=20, page=1, sort=s) for s in ("price_asc", "price_desc", "newest")]
    )


def describe(query: SearchQuery) -> dict:
    data = asdict(query)
    return json.loads(json.dumps(data, default=str))


def outcome(backend: TantivyBackend, query: SearchQuery) -> dict:
    result = backend.search(query)
    return {
        "total": result.total,
        "ids": [hit["id"] for hit in result.hits],
        "highlights": [hit.get("name_highlight") for hit in result.hits],
        "distances": [hit.get("distance_km") for hit in result.hits],
        "facets": {name: [[v.value, v.count, v.selected] for v in values] for name, values in result.facets.items()},
    }


def normalise(data):
    return json.loads(json.dumps(data))  # tuples -> lists, as read back from the file


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--dump", type=Path)
    mode.add_argument("--check", type=Path)
    parser.add_argument("--products", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--index", type=Path, default=Path("/tmp/emplettes-equivalence-200k"))
    parser.add_argument("--rebuild", action="store_true", help="rebuild the index even if it exists")
    parser.add_argument("--backend-file", type=Path, help="another tantivy_backend.py to run (an old copy)")
    args = parser.parse_args(argv)
    backend_class = backend_class_from(args.backend_file) if args.backend_file else TantivyBackend

    rng = random.Random(args.seed)
    shops = make_shops(max(10, args.products // 200), rng)
    if args.rebuild and args.index.exists():
        import shutil

        shutil.rmtree(args.index)
    backend = backend_class(args.index)
    if not backend.stats()["products"]:
        print(f"indexing {args.products:,} products into {args.index}")
        done = 0
        while done < args.products:
            batch = list(make_products(min(20_000, args.products - done), shops, args.seed, done))
            backend.upsert(batch)
            done += len(batch)
        backend.upsert(
            [
                {**s, "type": "shop", "run_id": "20261120T080000Z-bench", "shop_url": "https://example.fr/"}
                for s in shops[:50]
            ]
        )
    backend.close()
    cached = backend_class(args.index, readonly=True)
    uncached = backend_class(args.index, readonly=True, cache_size=0)

    queries = all_queries(shops, args.seed)
    rows = []
    for query in queries:
        first = outcome(cached, query)
        again = outcome(cached, query)
        plain = outcome(uncached, query)
        if again != first or plain != first:
            print(f"cache changes the result of {describe(query)}")
            return 1
        rows.append({"query": describe(query), "result": normalise(first)})
    print(
        f"{len(rows)} queries, {sum(r['result']['total'] for r in rows):,} hits in all, "
        f"{sum(len(r['result']['ids']) for r in rows):,} shown"
    )

    if args.dump:
        with args.dump.open("w") as out:
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(f"written to {args.dump}")
        return 0
    expected = [json.loads(line) for line in args.check.open()]
    if len(expected) != len(rows):
        print(f"{len(expected)} queries in {args.check}, {len(rows)} now")
        return 1
    differ = 0
    kinds: dict[str, int] = {}
    for old, new in zip(expected, rows, strict=False):
        if old["query"] != new["query"]:
            print("query sets differ (seed or generator changed)")
            return 1
        if old["result"] != new["result"]:
            differ += 1
            for key in old["result"]:
                if old["result"][key] != new["result"][key]:
                    kinds[key] = kinds.get(key, 0) + 1
            if differ <= 5:
                print(f"DIFFERS: {old['query']}")
                for key in old["result"]:
                    if old["result"][key] != new["result"][key]:
                        print(f"  {key}: was {str(old['result'][key])[:300]}")
                        print(f"  {' ' * len(key)}  now {str(new['result'][key])[:300]}")
    print("identical" if not differ else f"{differ} of {len(rows)} queries differ ({kinds})")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
