"""Indexing from run files: what ``emplettes reindex`` does, timed end to end.

    .venv/bin/python bench/reindex.py                      # 200,000 products, 1,000 shops
    .venv/bin/python bench/reindex.py --products 1000000   # the product owner's target size

Writes the seeded catalogue of ``bench/search.py`` as run files (one finished run per
shop, its shop record first, as a crawl writes them), then rebuilds a tantivy index from
them through :func:`indexer.reindex.reindex`: reading the JSON lines and validating every
record against the record schema (in a second process, ahead of the loader), upserting
and sweeping run by run, committing when what waits in memory fills its budget. Prints records/s for the
whole rebuild and for the reading and validating alone, and the loader's peak RSS.
``--direct`` also times tantivy directly on the same documents (their fields computed
beforehand, untimed): ``Document.from_dict`` and ``add_document`` on a writer with
tantivy's default threads, then one commit: what this machine's tantivy can index, the
reference of the issue's "indexing ≈ 28,000 docs/s".
Target: >= 15,000 docs/s. This prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import tantivy
from search import NOW, iso, make_products, make_shops, shop_records

from indexer.backends.tantivy import TantivyBackend
from indexer.backends.tantivy.documents import document_fields
from indexer.load import read_valid_run
from indexer.reindex import reindex
from indexer.runs import list_runs

RUN_ID = "20261120T080000Z-bench"


def write_runs(runs_dir: Path, n_products: int, n_shops: int, seed: int) -> int:
    """One finished run per shop; returns the number of records written."""
    rng = random.Random(seed)
    shops = make_shops(n_shops, rng)
    per_source: dict[str, list[str]] = {
        record["source_id"]: [json.dumps(record, ensure_ascii=False)] for record in shop_records(shops)
    }
    for record in make_products(n_products, shops, seed):
        per_source[record["source_id"]].append(json.dumps(record, ensure_ascii=False))
    written = 0
    for source_id, lines in per_source.items():
        folder = runs_dir / source_id
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{RUN_ID}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        (folder / f"{RUN_ID}.json").write_text(
            json.dumps(
                {
                    "source_id": source_id,
                    "run_id": RUN_ID,
                    "started_at": iso(NOW),
                    "finished_at": iso(NOW),
                    "finish_reason": "finished",
                    "pages": len(lines),
                    "page_errors": 0,
                    "items": len(lines),
                    "item_errors": 0,
                }
            ),
            encoding="utf-8",
        )
        written += len(lines)
    return written


def direct(runs, index_dir: Path) -> tuple[int, float]:
    """(documents, seconds) to index the runs' documents with tantivy directly."""
    shutil.rmtree(index_dir, ignore_errors=True)
    index_dir.mkdir(parents=True)
    backend = TantivyBackend(index_dir)  # for its schema and analyzers
    fields = [document_fields(record) for run in runs for record in read_valid_run(run.path)[1]]
    writer = backend._index.writer(1_000_000_000)
    start = time.perf_counter()
    for document in fields:
        writer.add_document(tantivy.Document.from_dict(document, backend.schema))
    writer.commit()
    writer.wait_merging_threads()
    spent = time.perf_counter() - start
    backend.close()
    shutil.rmtree(index_dir, ignore_errors=True)
    return len(fields), spent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=200_000)
    parser.add_argument("--shops", type=int, default=None, help="default: one per 200 products")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", type=Path, default=None, help="keep run files and index here")
    parser.add_argument("--direct", action="store_true", help="also time tantivy directly on the same documents")
    args = parser.parse_args(argv)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="emplettes-reindex-"))
    runs_dir, index_dir = workdir / "runs", workdir / "index"
    try:
        if not any(runs_dir.glob("*/*.jsonl")):
            start = time.perf_counter()
            records = write_runs(runs_dir, args.products, args.shops or max(10, args.products // 200), args.seed)
            print(
                f"wrote {records:,} records as run files in {time.perf_counter() - start:.1f} s ({runs_dir})",
                flush=True,
            )
            # Timed in a new process: this one's peak RSS is the generator's, not the loader's.
            again = [sys.executable, __file__, "--workdir", str(workdir)] + (["--direct"] if args.direct else [])
            return subprocess.run(again).returncode
        runs = list_runs(runs_dir)
        size = sum(run.path.stat().st_size for run in runs)
        print(f"{len(runs):,} runs, {size / 1e6:,.0f} MB of JSON lines")

        start = time.perf_counter()
        validated = 0
        for run in runs:
            validated += len(read_valid_run(run.path)[1])
        read = time.perf_counter() - start
        print(f"read and validate only: {validated / read:,.0f} records/s ({read:.1f} s)")

        shutil.rmtree(index_dir, ignore_errors=True)
        backend = TantivyBackend(index_dir)
        start = time.perf_counter()
        report = reindex(runs_dir, backend)
        spent = time.perf_counter() - start
        backend.close()
        print(
            f"reindex: {report.records / spent:,.0f} records/s ({report.records:,} records, {len(report.runs):,} "
            f"runs, {spent:.1f} s); index: {TantivyBackend(index_dir, readonly=True).stats()['products']:,} products"
        )
        print(
            f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB; "
            f"load average: {', '.join(f'{v:.2f}' for v in os.getloadavg())}"
        )
        if args.direct:
            documents, spent = direct(runs, workdir / "direct-index")
            print(f"tantivy directly, same documents: {documents / spent:,.0f} docs/s ({spent:.1f} s)")
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
