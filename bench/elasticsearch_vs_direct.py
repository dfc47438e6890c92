"""The Elasticsearch backend beside the same work done with the client directly.

    ELASTICSEARCH_URL=http://127.0.0.1:9201 .venv/bin/python bench/elasticsearch_vs_direct.py --products 100000
    tests/with-elasticsearch .venv/bin/python bench/elasticsearch_vs_direct.py --products 300000

Uses the search benchmark's seeded catalogue (``bench/search.py``) and, in one run:

* **indexing**: after a warm-up bulk, best of two rounds (each side first once), the
  records through the loader's ``write_batch``
  inside ``bulk()``, as ``emplettes index`` writes them (first-seen lookup, engine fields,
  one refresh at the end; reading and validating the run file left out)
  into one alias, and the very same documents through ``elasticsearch.helpers.bulk`` into
  another index of the same template, then one refresh: records/s of each, and the ratio;
* **search**: the faceted queries of the search benchmark through
  ``ElasticsearchBackend.search`` (which may first probe whether every word is found, then
  reads hits and facets), and the final request body of each query sent directly with the
  client (``client.search``), in turn, best of ``--repeats``: p50/p95/p99 of each, and the
  ratio of the medians; beside them the server's own time (the ``took`` of every request a
  search sent), which a proxy in between does not change;
* the server's heap in use after each phase (``_nodes/stats/jvm``).

The targets (issue 16): indexing at least 0.8x the direct bulk, search at most 1.2x the
direct request. This prints figures; it asserts nothing. The indices it makes are deleted
at the end.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from search import faceted_queries, make_products, make_shops, percentiles, shop_records

from indexer.analysis import plan_words
from indexer.backends.base import SearchQuery
from indexer.backends.elasticsearch_backend import (
    ElasticsearchBackend,
    document,
    index_template,
    search_body,
    text_query,
)
from indexer.load import BATCH_SIZE, write_batch


def heap_mb(client) -> float:
    nodes = client.nodes.stats(metric="jvm")["nodes"]
    return sum(n["jvm"]["mem"]["heap_used_in_bytes"] for n in nodes.values()) / 2**20


def records(n_products: int, n_shops: int, seed: int) -> list[dict]:
    shops = make_shops(n_shops, random.Random(seed))
    return shop_records(shops) + list(make_products(n_products, shops, seed))


def index_through_the_project(backend: ElasticsearchBackend, batch: list[dict]) -> float:
    """As the loader writes a run: batches of ``BATCH_SIZE``, each with its ``first_seen``
    lookup, inside one ``bulk()`` (one refresh at the end)."""
    start = time.perf_counter()
    with backend.bulk():
        for at in range(0, len(batch), BATCH_SIZE):
            write_batch(backend, batch[at : at + BATCH_SIZE])
    return time.perf_counter() - start


def drop(client, prefix: str) -> None:
    """An alias's indices and its template, gone."""
    client.indices.delete(index=f"{prefix}-v*", ignore_unavailable=True)
    client.options(ignore_status=404).indices.delete_index_template(name=f"{prefix}-template")


def index_directly(client, prefix: str, batch: list[dict], chunk_size: int) -> float:
    from elasticsearch import helpers

    template = index_template(prefix, shards=1, replicas=0)
    client.indices.put_index_template(name=f"{prefix}-template", **template)
    index = f"{prefix}-v1"
    client.indices.create(index=index, aliases={prefix: {}})
    start = time.perf_counter()
    actions = ({"_op_type": "index", "_index": index, "_id": r["id"], "_source": document(r)} for r in batch)
    helpers.bulk(client, actions, chunk_size=chunk_size)
    client.indices.refresh(index=index)
    return time.perf_counter() - start


def direct_body(query: SearchQuery, backend: ElasticsearchBackend) -> dict:
    """The request the backend ends up sending for ``query`` (no probe, no post-processing)."""
    clauses = plan_words(query.text)
    return search_body(query, text_query(clauses, "strict"), facet_size=backend.facet_size)


class ServerTime:
    """Sums the server's own ``took`` of every search the client sends: the time
    Elasticsearch spent, whatever the network or a proxy in between adds."""

    def __init__(self, client) -> None:
        self.client, self.search, self.took = client, client.search, 0

    def __enter__(self) -> ServerTime:
        def search(**kwargs):
            answer = self.search(**kwargs)
            self.took += answer["took"]
            return answer

        self.client.search = search
        return self

    def __exit__(self, *exc) -> None:
        self.client.search = self.search


def paired_search(backend: ElasticsearchBackend, client, index: str, queries, repeats: int):
    """Each query through the backend, then its final body sent directly, in turn, best of
    ``repeats``: wall milliseconds and the server's milliseconds of each side."""
    wall: tuple[list[float], list[float]] = ([], [])
    server: tuple[list[float], list[float]] = ([], [])
    for query in queries:
        body = direct_body(query, backend)
        best, took = [math.inf, math.inf], [math.inf, math.inf]
        for _ in range(repeats):
            for side in (0, 1):
                with ServerTime(client) as timer:
                    start = time.perf_counter()
                    if side == 0:
                        backend.search(query)
                    else:
                        client.search(index=index, **body)
                    best[side] = min(best[side], (time.perf_counter() - start) * 1000)
                took[side] = min(took[side], timer.took)
        for side in (0, 1):
            wall[side].append(best[side])
            server[side].append(took[side])
    return wall, server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("ELASTICSEARCH_URL"), help="default: ELASTICSEARCH_URL")
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300, help="timed faceted queries")
    parser.add_argument("--repeats", type=int, default=3, help="best of N for each query and side")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    if not args.url:
        parser.error("no Elasticsearch: set ELASTICSEARCH_URL, pass --url, or run under tests/with-elasticsearch")

    n_shops = max(10, args.products // 200)
    batch = records(args.products, n_shops, args.seed)
    tag = f"{os.getpid()}"
    project_prefix, direct_prefix = f"bench-project-{tag}", f"bench-direct-{tag}"
    backend = None
    try:
        backend = ElasticsearchBackend(args.url, prefix=project_prefix, replicas=0)
        client = backend.client
        version = client.info()["version"]["number"]
        print(f"Elasticsearch {version} at {args.url}: {args.products:,} products, {n_shops:,} shops")
        print(f"heap in use before: {heap_mb(client):,.0f} MB")

        # A first bulk warms the server (JIT, caches, merges) for both sides alike; then each
        # side is timed twice, first and second in turn, and keeps its best time.
        warm_up = f"bench-warm-up-{tag}"
        index_directly(client, warm_up, batch[:20_000], chunk_size=backend.chunk_size)
        project_times = [index_through_the_project(backend, batch)]
        direct_times = [index_directly(client, direct_prefix, batch, chunk_size=backend.chunk_size)]
        again = ElasticsearchBackend(args.url, prefix=f"{project_prefix}-again", replicas=0)
        direct_times.append(index_directly(client, f"{direct_prefix}-again", batch, chunk_size=backend.chunk_size))
        project_times.append(index_through_the_project(again, batch))
        again.close()
        for prefix in (warm_up, f"{project_prefix}-again", f"{direct_prefix}-again"):
            drop(client, prefix)
        project_s, direct_s = min(project_times), min(direct_times)
        project_rate, direct_rate = len(batch) / project_s, len(batch) / direct_s
        print(f"indexing  project {project_rate:9,.0f} records/s ({project_s:6.1f} s)")
        print(f"          direct  {direct_rate:9,.0f} records/s ({direct_s:6.1f} s)  helpers.bulk, same documents")
        print(f"          ratio   {project_rate / direct_rate:.2f}x the direct bulk (target >= 0.8x)")
        print(f"heap in use after indexing: {heap_mb(client):,.0f} MB")

        queries = faceted_queries(make_shops(n_shops, random.Random(args.seed)), random.Random(7), args.queries)
        for query in queries[:20]:  # warm both sides' caches alike
            backend.search(query)
            client.search(index=direct_prefix, **direct_body(query, backend))
        (mine, direct), (mine_took, direct_took) = paired_search(backend, client, direct_prefix, queries, args.repeats)
        print(f"search    project {percentiles(mine)}")
        print(f"          direct  {percentiles(direct)}")
        ratio = statistics.median(mine) / statistics.median(direct)
        print(f"          ratio   {ratio:.2f}x the direct request at p50 (target <= 1.2x)")
        print(f"  server  project {percentiles(mine_took)}  (Elasticsearch's own 'took')")
        print(f"          direct  {percentiles(direct_took)}")
        print(f"heap in use after searching: {heap_mb(client):,.0f} MB")
    finally:
        if backend is not None:
            for prefix in (project_prefix, direct_prefix):
                drop(backend.client, prefix)
            backend.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
