"""Relevance of the portal's search on the graded set of issue 17 (bench/relevance/).

    .venv/bin/python bench/relevance.py                          # tantivy (+ Elasticsearch if ELASTICSEARCH_URL)
    .venv/bin/python bench/relevance.py --backend tantivy
    .venv/bin/python bench/relevance.py --query "miel Tours"     # one query's results, graded (repeatable)
    .venv/bin/python bench/relevance.py --json > relevance.json  # machine output

Builds the regional catalogue (:mod:`bench.relevance.catalogue`) as run files (one finished
run per shop) and loads them as ``emplettes reindex`` does (``indexer.reindex``, each run
through ``indexer.load.load_run``) into each backend: the embedded tantivy index in a
temporary directory, and Elasticsearch when ``ELASTICSEARCH_URL`` is set (under an
``emplettes-relevance-<token>`` prefix, deleted afterwards). Then asks every query of
``bench/relevance/queries.yaml`` of the portal itself, through its JSON API
(``/api/search?q=...``, the portal app over the backend, no HTTP server): the place words
(« près de Tours », « miel Tours »), corrections and fallbacks are whatever the portal does.

Prints per backend: NDCG@10 and MRR (first result graded 2 or more) over the queries that
have answers, the zero-result rate (those queries answered with nothing, counted apart),
the queries with no answer that still got results, NDCG@10 per kind of query, and the worst
queries with their top 3. Then the share of queries whose top 10 is the same on both
backends. The reference beside the figures, measured in the same run: a search that knows
no French (products whose name holds every word of the query as typed, accents and case
ignored, in catalogue order). This prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from statistics import fmean
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.relevance.catalogue import RUN_ID, TRADES, Catalogue, build  # noqa: E402
from bench.relevance.judgments import JudgmentError, Query, fold, load_queries  # noqa: E402
from bench.relevance.metrics import RELEVANT, ndcg, reciprocal_rank  # noqa: E402
from config import Config  # noqa: E402
from indexer.load import COMPLETE  # noqa: E402
from indexer.reindex import reindex  # noqa: E402
from indexer.search import BackendUnavailable, SearchBackend  # noqa: E402

TOP = 10
ES_PREFIX = "emplettes-relevance"


# ---------------------------------------------------------------------------- building


def write_runs(catalogue: Catalogue, runs_dir: Path) -> list[Path]:
    """One finished run per shop, as the crawler leaves it: the JSON lines and the manifest."""
    paths = []
    for source_id, records in catalogue.by_source().items():
        directory = runs_dir / source_id
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{RUN_ID}.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
        manifest = {
            "source_id": source_id,
            "run_id": RUN_ID,
            "started_at": "2026-12-01T06:00:00Z",
            "finished_at": "2026-12-01T06:05:00Z",
            "finish_reason": "finished",
            "pages": len(records),
            "page_errors": 0,
            "items": len(records),
            "item_errors": 0,
        }
        (directory / f"{RUN_ID}.json").write_text(json.dumps(manifest), encoding="utf-8")
        paths.append(path)
    return paths


def load(backend: SearchBackend, runs_dir: Path) -> None:
    """The runs into ``backend`` as ``emplettes reindex`` loads them (``load_run`` per run,
    into a fresh index swapped in at the end)."""
    report = reindex(runs_dir, backend)
    for run in report.runs:
        if run.rejected or run.outcome != COMPLETE:
            raise SystemExit(f"{run.path}: {run.summary()}; first errors: {run.errors[:3]}")


@contextmanager
def tantivy_backend(workdir: Path) -> Iterator[SearchBackend]:
    from indexer.backends.tantivy import TantivyBackend

    backend = TantivyBackend(workdir / "tantivy-index")
    try:
        yield backend
    finally:
        backend.close()


@contextmanager
def elasticsearch_backend(config: Config) -> Iterator[SearchBackend]:
    from indexer.backends.elasticsearch_backend import ElasticsearchBackend

    prefix = f"{ES_PREFIX}-{uuid.uuid4().hex[:8]}"
    backend = ElasticsearchBackend(
        config.elasticsearch_url,
        prefix=prefix,
        api_key=config.elasticsearch_api_key or None,
        username=config.elasticsearch_username or None,
        password=config.elasticsearch_password or None,
        ca_certs=config.elasticsearch_ca_certs or None,
        replicas=0,  # a one-node cluster stays green
    )
    try:
        yield backend
    finally:
        try:  # the versioned indices behind the alias, and their template
            backend.client.indices.delete(index=f"{prefix}-v*", ignore_unavailable=True)
            backend.client.options(ignore_status=404).indices.delete_index_template(name=f"{prefix}-template")
        except Exception as exc:  # the figures stand whatever happens here
            print(f"Elasticsearch indices left behind ({prefix}-*): {exc}", file=sys.stderr)
        backend.close()


# ---------------------------------------------------------------------------- searching


@dataclass
class Answer:
    query: Query
    ids: list[str]
    total: int
    extra: dict[str, Any] = field(default_factory=dict)  # what else the API said (notices, places)
    hits: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ndcg(self) -> float:
        return ndcg(self.ids, self.query.grades, TOP)

    @property
    def rr(self) -> float:
        return reciprocal_rank(self.ids, self.query.grades)


def portal_search(client: Any, text: str) -> dict[str, Any]:
    """The portal's answer to ``q=text``: its JSON API, the same query parsing, place
    resolution and search as the results page."""
    response = client.get("/api/search", query_string={"q": text, "per_page": TOP})
    if response.status_code != 200:
        return {"total": 0, "results": [], "status": response.status_code, "error": response.get_json(silent=True)}
    return response.get_json()


def ask_all(backend: SearchBackend, workdir: Path, queries: list[Query]) -> list[Answer]:
    from portal import create_app

    app = create_app(Config(data_dir=workdir / "portal-data", api_rate_limit="off"), backend=backend)
    client = app.test_client()
    answers = []
    for query in queries:
        data = portal_search(client, query.text)
        hits = data.get("results") or []
        extra = {k: v for k, v in data.items() if k not in ("total", "page", "per_page", "pages", "results", "facets")}
        answers.append(Answer(query, [h["id"] for h in hits][:TOP], int(data.get("total") or 0), extra, hits))
    return answers


def reference(catalogue: Catalogue, queries: list[Query]) -> list[Answer]:
    """Products whose name holds every word of the query as typed (accents and case
    ignored), in catalogue order: what a search that knows no French finds."""
    names = [(p["id"], " " + " ".join(re.findall(r"\w+", fold(p["name"]))) + " ") for p in catalogue.products]
    answers = []
    for query in queries:
        words = re.findall(r"\w+", fold(query.text))
        found = [i for i, name in names if words and all(f" {w} " in name for w in words)]
        answers.append(Answer(query, found[:TOP], len(found)))
    return answers


# ---------------------------------------------------------------------------- figures


def summary(answers: list[Answer]) -> dict[str, Any]:
    judged = [a for a in answers if not a.query.expect_none]
    empty = [a for a in answers if a.query.expect_none]
    kinds: dict[str, list[float]] = {}
    for answer in judged:
        for kind in answer.query.kinds:
            kinds.setdefault(kind, []).append(answer.ndcg)
    return {
        "ndcg@10": fmean(a.ndcg for a in judged),
        "mrr": fmean(a.rr for a in judged),
        "queries": len(judged),
        "zero_results": [a.query.text for a in judged if a.total == 0],
        "no_answer_queries": len(empty),
        "no_answer_answered": [a.query.text for a in empty if a.total > 0],
        "ndcg_by_kind": {kind: fmean(values) for kind, values in sorted(kinds.items())},
    }


def describe(hit_id: str, grades: dict[str, int], products: dict[str, dict]) -> str:
    p = products.get(hit_id, {})
    return f"[{grades.get(hit_id, 0)}] {p.get('name', hit_id)} — {p.get('shop_name', '?')}, {p.get('town', '?')}"


def print_backend(name: str, answers: list[Answer], products: dict[str, dict], worst: int, ref: dict | None) -> None:
    s = summary(answers)
    print(f"\n== {name}")
    zero, judged = len(s["zero_results"]), s["queries"]
    line = f"  NDCG@10 {s['ndcg@10']:.3f}   MRR {s['mrr']:.3f}   zero results {zero}/{judged} ({zero / judged:.1%})"
    print(line)
    if ref:
        print(f"  reference (name words as typed): NDCG@10 {ref['ndcg@10']:.3f}   MRR {ref['mrr']:.3f}")
    if s["zero_results"]:
        print("  queries with answers that got none: " + ", ".join(f"« {q} »" for q in s["zero_results"]))
    answered = s["no_answer_answered"]
    print(f"  queries with no answer that got results: {len(answered)}/{s['no_answer_queries']}", end="")
    print(("  (" + ", ".join(f"« {q} »" for q in answered) + ")") if answered else "")
    print("  NDCG@10 by kind: " + ", ".join(f"{k} {v:.2f}" for k, v in s["ndcg_by_kind"].items()))
    print(f"  worst {worst}:")
    for answer in sorted((a for a in answers if not a.query.expect_none), key=lambda a: (a.ndcg, a.query.text))[:worst]:
        print(f"    {answer.ndcg:.2f}  « {answer.query.text} »  ({answer.total} results)")
        for hit_id in answer.ids[:3]:
            print(f"          {describe(hit_id, answer.query.grades, products)}")


def identical_share(first: list[Answer], second: list[Answer]) -> tuple[int, list[str]]:
    different = [a.query.text for a, b in zip(first, second, strict=True) if a.ids != b.ids]
    return len(first) - len(different), different


def print_query(name: str, answer: Answer, products: dict[str, dict]) -> None:
    grades = answer.query.grades
    print(
        f"\n== {name}: « {answer.query.text} »  {answer.total} results, NDCG@10 {answer.ndcg:.3f}, RR {answer.rr:.2f}"
    )
    if answer.extra:
        print("  the API also said: " + json.dumps(answer.extra, ensure_ascii=False)[:400])
    for rank, hit_id in enumerate(answer.ids, start=1):
        print(f"  {rank:2}. {describe(hit_id, grades, products)}")
    missed = sorted((g, i) for i, g in grades.items() if g >= RELEVANT and i not in answer.ids)
    if missed:
        best = sorted(missed, key=lambda gi: -gi[0])[:5]
        print(f"  not in the top {TOP}: {len(missed)} products graded {RELEVANT}+, such as:")
        for _, hit_id in best:
            print(f"      {describe(hit_id, grades, products)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("tantivy", "elasticsearch", "both"), default=None)
    parser.add_argument(
        "--query",
        action="append",
        help="show this query's results with their grades (it need not be in the set); repeatable",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--worst", type=int, default=15, help="how many of the worst queries to list (15)")
    args = parser.parse_args(argv)

    config = Config()
    names = {"tantivy": ["tantivy"], "elasticsearch": ["elasticsearch"], "both": ["tantivy", "elasticsearch"]}[
        args.backend or ("both" if config.elasticsearch_url else "tantivy")
    ]
    if "elasticsearch" in names and not config.elasticsearch_url:
        parser.error("--backend elasticsearch needs ELASTICSEARCH_URL")

    catalogue = build()
    products = {p["id"]: p for p in catalogue.products}
    try:
        queries = load_queries(catalogue.products)
    except JudgmentError as exc:
        print(f"bench/relevance/{exc}", file=sys.stderr)
        return 2
    if args.query:
        known = {q.text: q for q in queries}
        queries = [
            known.get(text) or Query(text, ("single",), {}, note="not in the set: no grades") for text in args.query
        ]

    workdir = Path(tempfile.mkdtemp(prefix="emplettes-relevance-"))
    results: dict[str, list[Answer]] = {}
    timings: dict[str, float] = {}
    try:
        write_runs(catalogue, workdir / "runs")
        for name in names:
            started = time.perf_counter()
            opened = tantivy_backend(workdir) if name == "tantivy" else elasticsearch_backend(config)
            try:
                with opened as backend:
                    load(backend, workdir / "runs")
                    results[name] = ask_all(backend, workdir / name, queries)
            except BackendUnavailable as exc:
                print(f"{name}: unavailable: {exc}", file=sys.stderr)
                return 2
            timings[name] = time.perf_counter() - started
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    if args.query:
        for n in range(len(queries)):
            for name, answers in results.items():
                print_query(name, answers[n], products)
        return 0

    ref = summary(reference(catalogue, queries))
    both = len(results) == 2
    same, different = identical_share(*results.values()) if both else (0, [])
    if args.json:
        out = {
            "queries": len(queries),
            "products": len(catalogue.products),
            "shops": len(catalogue.shops),
            "reference": ref,
            "backends": {
                name: {
                    **summary(answers),
                    "seconds": round(timings[name], 1),
                    "per_query": [
                        {"q": a.query.text, "ndcg@10": round(a.ndcg, 4), "rr": a.rr, "total": a.total, "top": a.ids}
                        for a in answers
                    ],
                }
                for name, answers in results.items()
            },
        }
        if both:
            out["identical_top10"] = {"share": same / len(queries), "different": different}
        print(json.dumps(out, ensure_ascii=False, indent=1))
        return 0

    expect_none = sum(q.expect_none for q in queries)
    print(
        f"Relevance set: {len(queries)} queries ({expect_none} with no answer), {len(catalogue.products)} products, "
        f"{len(catalogue.shops)} shops, {len(TRADES)} trades; grades 0-3, relevant from {RELEVANT}"
    )
    for name, answers in results.items():
        print_backend(f"{name} (built and asked in {timings[name]:.1f} s)", answers, products, args.worst, ref)
    if both:
        print(f"\nidentical top {TOP} on both backends: {same}/{len(queries)} ({same / len(queries):.1%})")
        if different:
            print(
                "  different: " + ", ".join(f"« {q} »" for q in different[:40]) + (" …" if len(different) > 40 else "")
            )
    return 0


if __name__ == "__main__":
    os.environ.setdefault("API_RATE_LIMIT", "off")
    sys.exit(main())
