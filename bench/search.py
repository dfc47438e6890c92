"""Search benchmark of the embedded (tantivy) backend on a synthetic French catalogue.

    .venv/bin/python bench/search.py                      # 200,000 products
    .venv/bin/python bench/search.py --products 1000000   # the product owner's target size

Generates a seeded catalogue (shops clustered around the towns of a region, their shop
records, products named from French vocabulary), indexes it through
``TantivyBackend.upsert`` in batches of ``--batch`` records, one commit each (docs/s), then
times faceted searches and 10 km geo searches sorted by distance through
``TantivyBackend.search`` and prints p50/p95/p99 in ms and the peak RSS.

Targets at 1M products: faceted p50 about 2-3 ms, p99 <= 13 ms; geo p99 <= 36 ms;
indexing >= 15,000 docs/s. This prints figures; it asserts nothing.

``bench/reindex.py --workdir DIR`` builds the same catalogue the way ``emplettes reindex``
does (the products in stock and the rest as two segments, not about ten); ``--index DIR/index
--keep`` times searches on it.

The machine may be shared: the load average and a fixed loop's CPU time are printed
before each round, and ``--rounds N`` repeats the timed sets so the quietest round can be
read. ``--against OLD.py`` compares this code with an old copy of tantivy_backend.py query
by query, in turn, best of 3 (A/B). ``--direct`` also times the same searches written with
tantivy directly (the reference of the targets). A browse with no words, price or place
(and no filter, or an availability filter alone) reads its facet counts from a table
computed once per index generation (commit); the "browse all" line says so.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from indexer.backends.base import Near, SearchQuery
from indexer.backends.tantivy import TantivyBackend

# (town, lat, lon, weight): a region of small towns around a few cities.
TOWNS = [
    ("Nantes", 47.2184, -1.5536, 30),
    ("Angers", 47.4784, -0.5632, 16),
    ("Le Mans", 48.0061, 0.1996, 15),
    ("Saint-Nazaire", 47.2735, -2.2138, 7),
    ("Cholet", 47.0600, -0.8786, 6),
    ("La Roche-sur-Yon", 46.6706, -1.4260, 6),
    ("Laval", 48.0707, -0.7734, 6),
    ("Saumur", 47.2600, -0.0769, 3),
    ("Rezé", 47.1833, -1.5500, 4),
    ("Saint-Herblain", 47.2122, -1.6497, 4),
    ("Les Sables-d'Olonne", 46.4969, -1.7831, 3),
    ("Mayenne", 48.3031, -0.6136, 2),
    ("Château-Gontier", 47.8286, -0.7028, 2),
    ("Évron", 48.1561, -0.4019, 1),
    ("Sablé-sur-Sarthe", 47.8397, -0.3336, 2),
    ("La Flèche", 47.6975, -0.0756, 2),
    ("Fontenay-le-Comte", 46.4669, -0.8064, 1),
    ("Challans", 46.8467, -1.8781, 2),
    ("Ancenis", 47.3656, -1.1772, 1),
    ("Segré", 47.6864, -0.8722, 1),
    ("Guérande", 47.3281, -2.4292, 2),
    ("Pornic", 47.1153, -2.1031, 1),
    ("Clisson", 47.0869, -1.2822, 1),
    ("Mamers", 48.3497, 0.3697, 1),
    ("Craon", 47.8486, -0.9497, 1),
    ("Luçon", 46.4553, -1.1650, 1),
]
CATEGORIES = [
    "Épicerie fine",
    "Décoration",
    "Librairie",
    "Jouets",
    "Mode",
    "Thé & café",
    "Cave",
    "Fromagerie",
    "Bijouterie",
    "Jardinerie",
    "Quincaillerie",
    "Sport",
    "Beauté",
    "Fleuriste",
    "Papeterie",
]
SERVICES = ["click_and_collect", "delivery", "gift_vouchers"]
# product kind -> (declared category, materials/qualifiers)
KINDS = {
    "bougie": ("Bougies", ["parfumée", "à la vanille", "en cire de soja", "de Noël", "chauffe-plat"]),
    "théière": ("Théières", ["en fonte", "en verre", "en porcelaine", "japonaise", "en terre cuite"]),
    "thé": ("Thés", ["vert", "noir", "blanc", "Earl Grey", "Sencha bio", "fumé"]),
    "café": ("Cafés", ["moulu", "en grains", "pur arabica", "d'Éthiopie", "décaféiné"]),
    "miel": ("Miels", ["de châtaignier", "de fleurs", "de lavande", "d'acacia", "crémeux"]),
    "confiture": ("Confitures", ["de fraises", "d'abricots", "de figues", "extra", "de myrtilles"]),
    "savon": ("Savons", ["au lait d'ânesse", "d'Alep", "de Marseille", "surgras", "à l'huile d'olive"]),
    "poupée": ("Poupées", ["en tissu", "de chiffon", "en porcelaine", "articulée"]),
    "puzzle": ("Puzzles", ["1000 pièces", "500 pièces", "en bois", "pour enfants"]),
    "livre": ("Livres", ["de cuisine", "jeunesse", "d'art", "de poche", "illustré"]),
    "écharpe": ("Accessoires", ["en laine", "en cachemire", "en soie", "tricotée main"]),
    "pull": ("Vêtements", ["en laine", "marinière", "col roulé", "en coton bio"]),
    "vase": ("Décoration", ["en céramique", "en verre soufflé", "en grès", "design"]),
    "lampe": ("Luminaires", ["en rotin", "de chevet", "à poser", "industrielle"]),
    "fromage": ("Fromages", ["de chèvre", "affiné", "au lait cru", "fermier"]),
    "vin": ("Vins", ["rouge", "blanc", "rosé", "de Loire", "bio"]),
    "cidre": ("Cidres", ["brut", "doux", "fermier"]),
    "bracelet": ("Bijoux", ["en argent", "en perles", "en cuir", "doré"]),
    "carnet": ("Papeterie", ["de notes", "en papier recyclé", "à spirale", "pointillé"]),
    "sécateur": ("Jardin", ["de jardin", "à lames croisées", "ergonomique"]),
    "ballon": ("Sport", ["de football", "de basket", "de rugby"]),
    "crème": ("Beauté", ["hydratante", "pour les mains", "de nuit", "bio"]),
    "bouquet": ("Fleurs", ["de roses", "de saison", "champêtre"]),
    "couteau": ("Cuisine", ["de chef", "à pain", "pliant", "en acier"]),
}
WORDS = [
    "fabriqué",
    "en",
    "France",
    "artisanal",
    "local",
    "qualité",
    "cadeau",
    "idéal",
    "fait",
    "main",
    "traditionnel",
    "recette",
    "maison",
    "produit",
    "naturel",
    "édition",
    "limitée",
    "atelier",
    "savoir-faire",
    "durable",
    "garantie",
    "conseil",
    "boutique",
    "Mayenne",
    "Loire",
    "Anjou",
    "Vendée",
    "Sarthe",
    "région",
    "terroir",
    "famille",
    "collection",
    "nouveauté",
]
BRANDS = [
    "Maison Durand",
    "Atelier Loire",
    "Les Jardins de Gaïa",
    "Ravensburger",
    "Gallimard",
    "Le Petit Marseillais",
    "Saint James",
    "Armor Lux",
    "Bernardaud",
    "Opinel",
    "Fiskars",
    "Mariage Frères",
]
AVAILABILITY = ["in_stock"] * 7 + ["out_of_stock"] * 2 + ["preorder", "unknown"]
NOW = datetime(2026, 11, 20, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def make_shops(n_shops: int, rng: random.Random) -> list[dict]:
    weights = [t[3] for t in TOWNS]
    shops = []
    for i in range(n_shops):
        town, lat, lon, _ = rng.choices(TOWNS, weights)[0]
        spread = 0.03 if rng.random() < 0.8 else 0.12  # most shops in town, some in villages around
        cats = rng.sample(CATEGORIES, rng.choice([1, 1, 2]))
        shops.append(
            dict(
                id=f"shop{i:05d}",
                source_id=f"src{i:05d}",
                name=f"{rng.choice(['Chez', 'Atelier', 'Maison', 'Comptoir', 'Boutique'])} "
                f"{rng.choice(['Paul', 'Léa', 'des Arts', 'du Marché', 'Lucie', 'Hugo', 'de la Place', 'Sophie'])} {i}",
                town=town,
                lat=round(lat + rng.gauss(0, spread), 5),
                lon=round(lon + rng.gauss(0, spread * 1.5), 5),
                categories=cats,
                services=rng.sample(SERVICES, rng.randint(0, 3)),
            )
        )
    return shops


def shop_records(shops: list[dict]) -> list[dict]:
    """The shops' own records: every crawl run starts with one, so a real index has them."""
    return [
        {
            "type": "shop",
            "id": shop["id"],
            "source_id": shop["source_id"],
            "run_id": "20261120T080000Z-bench",
            "name": shop["name"],
            "url": "https://example.fr/",
            "town": shop["town"],
            "lat": shop["lat"],
            "lon": shop["lon"],
            "categories": shop["categories"],
            "services": shop["services"],
            "description": f"{shop['name']}, boutique de {shop['town']} : {', '.join(shop['categories'])}.",
            "opening_hours": ["Mo-Sa 09:30-19:00"],
            "last_seen": iso(NOW),
        }
        for shop in shops
    ]


def make_products(n: int, shops: list[dict], seed: int, start: int = 0):
    rng = random.Random(seed * 1_000_003 + start)
    kinds = list(KINDS)
    for i in range(start, start + n):
        shop = shops[int(len(shops) * rng.random() ** 1.3)]  # a few big catalogues, many small ones
        kind = rng.choice(kinds)
        category, qualifiers = KINDS[kind]
        name = f"{kind.capitalize()} {rng.choice(qualifiers)}"
        if rng.random() < 0.3:
            name += f" {rng.choice(['n°', 'réf. ', 'modèle '])}{rng.randint(1, 99)}"
        description = " ".join(rng.choices(WORDS, k=rng.randint(8, 30))) + f". {kind} {rng.choice(qualifiers)}."
        price = None if rng.random() < 0.05 else f"{math.exp(rng.gauss(3.0, 0.9)):.2f}"
        first_seen = NOW - timedelta(seconds=rng.randint(0, 365 * 86400))
        yield {
            "type": "product",
            "id": f"{shop['source_id']}-{i:08d}",
            "source_id": shop["source_id"],
            "run_id": "20261120T080000Z-bench",
            "shop_id": shop["id"],
            "shop_name": shop["name"],
            "shop_url": "https://example.fr/",
            "town": shop["town"],
            "postcode": None,
            "lat": shop["lat"],
            "lon": shop["lon"],
            "categories": shop["categories"],
            "services": shop["services"],
            "name": name,
            "description": description,
            "brand": rng.choice(BRANDS) if rng.random() < 0.25 else None,
            "category": category,
            "sku": None,
            "gtin": None,
            "price": price,
            "currency": "EUR" if price else None,
            "availability": rng.choice(AVAILABILITY),
            "url": f"https://example.fr/p/{i}",
            "image": None,
            "first_seen": iso(first_seen),
            "last_seen": iso(NOW),
        }


def backend_class_from(path: Path) -> type:
    """``TantivyBackend`` of a module file outside the package: an old copy of the
    one-module backend (``tantivy_backend.py``), for A/B runs. Methods the interface
    gained since that copy (never timed here) raise NotImplementedError."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("other_tantivy_backend", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    backend_class = module.TantivyBackend
    missing = getattr(backend_class, "__abstractmethods__", frozenset())
    if missing:

        def not_in_this_copy(self, *args, **kwargs):
            raise NotImplementedError(f"{path.name} predates this method")

        backend_class = type(backend_class.__name__, (backend_class,), dict.fromkeys(missing, not_in_this_copy))
    return backend_class


def percentiles(samples: list[float], cpu: list[float] | None = None) -> str:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    line = (
        f"p50 {statistics.median(ordered):6.2f} ms  p95 {pick(0.95):6.2f} ms  p99 {pick(0.99):6.2f} ms  "
        f"max {ordered[-1]:6.2f} ms  (n={len(ordered)})"
    )
    if cpu:  # CPU time of the process (every thread a search uses)
        cpu = sorted(cpu)
        line += f"  cpu p50 {statistics.median(cpu):5.2f} p99 {cpu[min(len(cpu) - 1, int(0.99 * len(cpu)))]:6.2f}"
    return line


def paired(backend, other, queries: list[SearchQuery], repeats: int = 3) -> tuple[list[float], list[float]]:
    """Each query timed on ``backend`` then ``other`` in turn, ``repeats`` times; the best
    time of each: what this machine's swings in speed (up to 2x within minutes) change
    least, and both versions meet the same swings."""
    mine, theirs = [], []
    for query in queries:
        best = [math.inf, math.inf]
        for _ in range(repeats):
            for side, searcher in enumerate((backend, other)):
                start = time.perf_counter()
                searcher.search(query)
                best[side] = min(best[side], (time.perf_counter() - start) * 1000)
        mine.append(best[0])
        theirs.append(best[1])
    return mine, theirs


def machine_speed() -> float:
    """Seconds of CPU a fixed Python loop takes (best of 3): this machine's speed varies by
    up to 2x within minutes, so each round prints it beside its figures."""

    def loop() -> float:
        start, total = time.process_time(), 0
        for i in range(5_000_000):
            total += i
        return time.process_time() - start

    return min(loop() for _ in range(3))


def faceted_queries(shops: list[dict], rng: random.Random, n: int) -> list[SearchQuery]:
    texts = [
        "",
        "",
        "bougie",
        "théière",
        "thé vert",
        "miel",
        "confiture de fraises",
        "savon",
        "poupee",
        "puzzle bois",
        "livre",
        "pull laine",
        "vase",
        "fromage de chevre",
        "vin rouge",
        "cadeau",
        "artisanal",
        "écharpes",
        "lampe rotin",
        "café grains",
        "couteaux",
        "bougies parfumées",
    ]
    queries = []
    for _ in range(n):
        filters: dict[str, tuple[str, ...]] = {}
        if rng.random() < 0.5:
            filters["town"] = tuple(rng.sample([t[0] for t in TOWNS[:12]], rng.choice([1, 1, 2])))
        if rng.random() < 0.3:
            filters["category"] = (rng.choice(CATEGORIES),)
        if rng.random() < 0.3:
            filters["availability"] = ("in_stock",)
        sort = rng.choice(["relevance"] * 6 + ["price_asc", "price_desc", "newest"])
        queries.append(
            SearchQuery(
                text=rng.choice(texts), filters=filters, sort=sort, per_page=20, page=rng.choice([1, 1, 1, 2, 3])
            )
        )
    return queries


def geo_queries(rng: random.Random, n: int) -> list[SearchQuery]:
    queries = []
    for _ in range(n):
        _town, lat, lon, _ = rng.choices(TOWNS, [t[3] for t in TOWNS])[0]
        text = rng.choice(["", "", "bougie", "miel", "thé", "cadeau"])
        queries.append(
            SearchQuery(
                text=text,
                near=Near(lat + rng.gauss(0, 0.01), lon + rng.gauss(0, 0.01), 10),
                sort="distance",
                per_page=20,
            )
        )
    return queries


class Direct:
    """The same searches written with tantivy directly, the way its documentation shows:
    the words through ``parse_query`` on the text fields (BM25), filters as terms, one
    aggregation of the five facets over the matches (not disjunctive: a ticked value
    hides the others), one search for the page, sorted by the engine. The reference the
    project's own search call is compared with."""

    def __init__(self, path: Path) -> None:
        import tantivy

        from indexer.analysis import register_analyzers
        from indexer.backends.base import FACETS, FIELD_WEIGHTS, FILTERS

        self.tantivy, self.index = tantivy, tantivy.Index.open(str(path))
        register_analyzers(self.index)
        self.schema, self.filters, self.fields = self.index.schema, FILTERS, list(FIELD_WEIGHTS)
        self.spec = {name: {"terms": {"field": field, "size": 50}} for name, field in FACETS.items()}

    def search(self, query: SearchQuery) -> SimpleNamespace:
        tantivy = self.tantivy
        Occur, Query = tantivy.Occur, tantivy.Query
        parts = [(Occur.Must, Query.term_query(self.schema, "type", "product"))]
        if query.text:
            parts.append((Occur.Must, self.index.parse_query(query.text, self.fields, conjunction_by_default=True)))
        for name, values in query.filters.items():
            terms = [(Occur.Should, Query.term_query(self.schema, self.filters[name], v)) for v in values]
            parts.append((Occur.Must, Query.boolean_query(terms)))
        full = Query.boolean_query(parts)
        searcher = self.index.searcher()
        searcher.aggregate(full, self.spec)
        sort = {
            "price_asc": ("sort_price_asc", tantivy.Order.Asc),
            "price_desc": ("sort_price_desc", tantivy.Order.Desc),
            "newest": ("sort_newest", tantivy.Order.Desc),
        }.get(query.sort)
        if sort:
            result = searcher.search(full, query.per_page, offset=query.offset, order_by_field=sort[0], order=sort[1])
        else:
            result = searcher.search(full, query.per_page, offset=query.offset)
        return SimpleNamespace(total=result.count)


def time_queries(backend, queries: list[SearchQuery]) -> tuple[list[float], list[int], list[float]]:
    times, totals, cpu = [], [], []
    for query in queries:
        start, start_cpu = time.perf_counter(), time.process_time()
        result = backend.search(query)
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        totals.append(result.total)
    return times, totals, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=200_000)
    parser.add_argument("--shops", type=int, default=None, help="default: one per 200 products")
    parser.add_argument("--queries", type=int, default=500, help="timed queries per set")
    parser.add_argument("--batch", type=int, default=20_000, help="records per upsert call (one commit each)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--index", type=Path, default=None, help="index directory (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="reuse an existing --index instead of rebuilding")
    parser.add_argument("--rounds", type=int, default=1, help="repeat the timed sets (compare with the load)")
    parser.add_argument("--backend-file", type=Path, help="time another tantivy_backend.py (an old copy: A/B)")
    parser.add_argument(
        "--direct",
        action="store_true",
        help="also time the faceted searches written with tantivy directly (class Direct)",
    )
    parser.add_argument("--threads", type=int, default=2, help="search_threads of the timed backend")
    parser.add_argument(
        "--against",
        type=Path,
        help="another tantivy_backend.py (an old copy): time both on the same queries, "
        "in turn, best of 3 each, and stop there (A/B)",
    )
    args = parser.parse_args(argv)
    backend_class = backend_class_from(args.backend_file) if args.backend_file else TantivyBackend

    rng = random.Random(args.seed)
    shops = make_shops(args.shops or max(10, args.products // 200), rng)
    workdir = None
    if args.index is None:
        workdir = Path(tempfile.mkdtemp(prefix="emplettes-bench-"))
        args.index = workdir / "index"
    try:
        backend = backend_class(args.index)
        if not (args.keep and backend.stats()["products"]):
            print(f"indexing {args.products:,} products from {len(shops):,} shops into {args.index}")
            start = time.perf_counter()
            backend.upsert(shop_records(shops))
            spent = time.perf_counter() - start
            done = 0
            while done < args.products:
                batch = list(make_products(min(args.batch, args.products - done), shops, args.seed, done))
                start = time.perf_counter()
                backend.upsert(batch)
                spent += time.perf_counter() - start
                done += len(batch)
            start = time.perf_counter()
            backend.close()  # waits for merges, as a loader exiting would
            merge = time.perf_counter() - start
            backend = backend_class(args.index)
            print(
                f"indexing: {args.products / spent:,.0f} docs/s ({spent:.1f} s in upsert, "
                f"then {merge:.1f} s waiting for merges)"
            )
        # The facet cache is off for the timed sets: random queries repeat, and the figures
        # should be what an uncached query costs. The warm-cache line shows the cached path.
        threads = {"search_threads": args.threads} if not args.backend_file else {}
        reader = backend_class(args.index, readonly=True, cache_size=0, **threads)
        cached = backend_class(args.index, readonly=True, **threads)
        direct = Direct(args.index) if args.direct else None
        segments = (
            reader.segments() if hasattr(reader, "segments") else reader._index.searcher().num_segments
        )  # (old copy)
        print(f"index: {reader.stats()['products']:,} products, {segments} segments")

        qrng = random.Random(args.seed + 1)
        warm = faceted_queries(shops, qrng, 50) + geo_queries(qrng, 20)
        time_queries(reader, warm)
        if args.against:
            other = backend_class_from(args.against)(args.index, readonly=True, cache_size=0)
            time_queries(other, warm)
            for label, queries in (
                ("faceted", faceted_queries(shops, qrng, args.queries)),
                ("geo 10 km", geo_queries(qrng, args.queries)),
            ):
                mine, theirs = paired(reader, other, queries)
                print(f"{label:9s} this code:     {percentiles(mine)}")
                print(f"{label:9s} {args.against.name[:13]:13s}  {percentiles(theirs)}")
            print(f"fixed loop: {machine_speed():.3f} s CPU")
            return 0

        faceted = faceted_queries(shops, qrng, args.queries)
        plain = [q for q in faceted if not q.filters and q.text]
        browse = [SearchQuery(per_page=20, page=1 + n % 3) for n in range(50)]
        geo = geo_queries(qrng, args.queries)
        for round_ in range(1, args.rounds + 1):
            load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
            print(
                f"round {round_}/{args.rounds}, load average (1, 5, 15 min): {load}; "
                f"fixed loop: {machine_speed():.3f} s CPU"
            )
            times, totals, cpu = time_queries(reader, faceted)
            print(
                f"faceted (all 5 facets, disjunctive): {percentiles(times, cpu)}  median hits "
                f"{statistics.median(totals):,.0f}"
            )
            if direct is not None:
                times, _, cpu = time_queries(direct, faceted)
                print(f"  same searches, tantivy directly:    {percentiles(times, cpu)}")
            times, _, cpu = time_queries(reader, plain)
            print(f"  of which text only, no filter:      {percentiles(times, cpu)}")
            times, _, cpu = time_queries(reader, browse)
            table = "  (counts: per-generation table)" if hasattr(reader, "_browse_counts") else ""
            print(f"  browse all (no text), with facets:  {percentiles(times, cpu)}{table}")
            times, _, cpu = time_queries(cached, browse)
            print(f"  same, facet cache warm:              {percentiles(times, cpu)}")
            times, totals, cpu = time_queries(reader, geo)
            print(
                f"geo 10 km, sort=distance, facets:     {percentiles(times, cpu)}  median hits "
                f"{statistics.median(totals):,.0f}  max hits {max(totals):,}"
            )

        start = time.perf_counter()
        for prefix in ["b", "bo", "bou", "boug", "the", "thei", "mie", "pu", "con", "sav"] * 10:
            reader.suggest(prefix)
        print(f"suggest: {(time.perf_counter() - start) * 10:.2f} ms per call (mean)")

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS: {peak:,.0f} MB")
        reader.close()
        cached.close()
        backend.close()
    finally:
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
