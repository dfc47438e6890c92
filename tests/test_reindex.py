"""`emplettes reindex`: rebuild the index from run files, aside, then swap it in.

Real run files, a real tantivy index, the real command in a subprocess.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys

import pytest
import tantivy
from run_files import RUN1, RUN2, RUN3, manifest, product, shop, write_run

from config import Config
from indexer.backends.base import BackendUnavailable, SearchQuery
from indexer.backends.tantivy import TantivyBackend, storage, writing
from indexer.reindex import reindex, reindex_job, runs_to_rebuild
from indexer.runs import list_runs
from indexer.state import IndexState

RUN0 = "20261031T080000Z-zzzz"


def _index_dirs(folder) -> list[str]:
    """The index directories in ``folder`` (not the lock file beside the index)."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("index") and p.is_dir())


def _ids(backend) -> set[str]:
    result = backend.search(SearchQuery(per_page=1000))
    return {hit["id"] for hit in result.hits}


def test_runs_chosen_are_the_latest_good_run_and_the_finished_runs_after_it(tmp_path):
    runs = tmp_path / "runs"
    write_run(runs, RUN0, [product(0)])  # superseded by RUN1
    write_run(runs, RUN1, [product(1)])  # latest good run
    write_run(runs, RUN2, [product(2)], sidecar=manifest(RUN2, finish_reason="shutdown"))  # partial, newer
    write_run(runs, RUN3, [product(3)], sidecar=False)  # still being written
    write_run(
        runs, RUN0, [product(9, source_id="autre")], source_id="autre", sidecar=manifest(RUN0, "autre", pages=0)
    )  # never a good run: kept
    chosen, skipped = runs_to_rebuild(runs, 0.2)
    assert [(r.source_id, r.run_id) for r in chosen] == [("autre", RUN0), ("cire-meche", RUN1), ("cire-meche", RUN2)]
    assert sorted(r.run_id for r in skipped) == [RUN0, RUN3]


def test_reindex_replaces_the_index_and_open_readers_follow(tmp_path):
    runs = tmp_path / "runs"
    write_run(runs, RUN1, [shop()] + [product(n) for n in range(4)])
    write_run(runs, RUN2, [product(0, name="Bougie renommée")], sidecar=manifest(RUN2, finish_reason="shutdown"))
    writer = TantivyBackend(tmp_path / "index")
    writer.upsert([product(50, run_id=RUN1), product(51, run_id=RUN1)])  # nothing on disk says so any more
    reader = TantivyBackend(tmp_path / "index", readonly=True)
    assert _ids(reader) == {"cire-meche-50", "cire-meche-51"}

    report = reindex(runs, writer)
    assert report.products == 5 and len(report.runs) == 2
    expected = {f"cire-meche-{n}" for n in range(4)}
    assert _ids(writer) == expected
    assert _ids(reader) == expected  # the portal's reader sees the new index on its next search
    assert reader.get("cire-meche-0")["name"] == "Bougie renommée"
    assert writer.get("cire-meche-shop") is not None
    assert _index_dirs(tmp_path) == ["index"]  # nothing left over
    writer.upsert([product(7, run_id=RUN2)])  # still writable after the swap
    assert "cire-meche-7" in _ids(reader)
    reader.close()
    writer.close()


def test_reindex_rebuilds_an_index_built_with_another_schema(tmp_path):
    runs = tmp_path / "runs"
    write_run(runs, RUN1, [shop()] + [product(n) for n in range(3)])
    old = tmp_path / "index"
    old.mkdir()
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("title", stored=True)
    tantivy.Index(builder.build(), path=str(old))  # an index of an older release
    with pytest.raises(BackendUnavailable, match="emplettes reindex"):  # refused, never read
        TantivyBackend(old, readonly=True)
    config = Config(data_dir=tmp_path, search_backend="tantivy")
    report = reindex_job(config)
    assert report.products == 3
    with TantivyBackend(config.index_dir, readonly=True) as backend:
        assert backend.stats()["products"] == 3


def test_indexing_into_an_index_of_another_schema_says_to_run_reindex(tmp_path):
    import io

    from indexer.jobs import index_runs

    write_run(tmp_path / "runs", RUN1, [product(0)])
    (tmp_path / "index").mkdir()
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("title", stored=True)
    tantivy.Index(builder.build(), path=str(tmp_path / "index"))  # an index of an older release
    out = io.StringIO()
    with pytest.raises(BackendUnavailable):
        index_runs(Config(data_dir=tmp_path, search_backend="tantivy"), out=out)
    assert "emplettes reindex" in out.getvalue() and "Traceback" not in out.getvalue()


def test_failed_rebuild_leaves_the_index_untouched(tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    write_run(runs, RUN1, [product(n) for n in range(3)])
    backend = TantivyBackend(tmp_path / "index")
    backend.upsert([product(40, run_id=RUN1)])

    import indexer.reindex as module

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(module, "load_run", broken)
    with contextlib.suppress(RuntimeError):
        reindex(runs, backend)
    assert _ids(backend) == {"cire-meche-40"}
    assert _index_dirs(tmp_path) == ["index"]
    backend.close()


def test_a_failed_rebuild_records_no_run_as_indexed(tmp_path, monkeypatch):
    """The runs a failed rebuild loaded are not in the index searches use: `emplettes index`
    must still load them, so the state learns of them only once the new index is in."""
    runs = tmp_path / "runs"
    write_run(runs, RUN1, [product(0)])
    write_run(runs, RUN1, [product(1, source_id="autre")], source_id="autre", sidecar=manifest(RUN1, "autre"))
    backend = TantivyBackend(tmp_path / "index")
    state = IndexState(tmp_path / "state.sqlite3")

    import indexer.reindex as module

    real = module.load_run
    calls = []

    def fails_on_the_second_run(*args, **kwargs):
        calls.append(args[0])
        if len(calls) == 2:
            raise BackendUnavailable("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(module, "load_run", fails_on_the_second_run)
    with pytest.raises(BackendUnavailable):
        reindex(runs, backend, state=state)
    assert state.indexed_keys() == set() and _ids(backend) == set()

    monkeypatch.setattr(module, "load_run", real)
    reindex(runs, backend, state=state)
    assert state.indexed_keys() == {("cire-meche", RUN1), ("autre", RUN1)}
    assert _ids(backend) == {"cire-meche-0", "autre-1"}
    state.close()
    backend.close()


def _commit_every(monkeypatch, records: int) -> None:
    """A bulk load commits once this many records are held back or added."""
    monkeypatch.setattr(writing, "BULK_HELD_MAX", records)
    monkeypatch.setattr(writing, "BULK_PENDING_MAX", records)


def test_a_rebuild_commits_in_batches_and_a_failure_keeps_nothing_half_loaded(tmp_path, monkeypatch):
    _commit_every(monkeypatch, 3)
    backend = TantivyBackend(tmp_path / "index")
    with backend.bulk():
        backend.upsert([product(n) for n in range(2)])
        assert backend.stats()["products"] == 0  # not committed yet
        backend.upsert([product(n) for n in range(2, 4)])
        assert backend.stats()["products"] == 4  # 4 >= 3 pending: committed
        backend.upsert([product(3, name="Bougie renommée"), product(4)])
    assert backend.stats()["products"] == 5 and backend.get("cire-meche-3")["name"] == "Bougie renommée"

    with pytest.raises(RuntimeError), backend.bulk():  # noqa: PT012  (the loader dies inside the bulk)
        backend.upsert([product(5), product(0, name="Bougie perdue")])
        raise RuntimeError("the loader died")
    assert backend.stats()["products"] == 5 and backend.get("cire-meche-0")["name"] != "Bougie perdue"
    backend.upsert([product(6)])  # the writer is still usable
    assert backend.stats()["products"] == 6
    backend.close()


def test_a_bulk_load_commits_when_held_documents_or_added_ids_reach_their_budget(tmp_path, monkeypatch):
    """What a bulk load keeps in memory until a commit (held documents, added ids) has a
    budget each; until one is reached, nothing is committed, whatever the other holds."""
    monkeypatch.setattr(writing, "BULK_HELD_MAX", 3)
    monkeypatch.setattr(writing, "BULK_PENDING_MAX", 5)
    backend = TantivyBackend(tmp_path / "index")
    in_stock = [product(n, availability="in_stock") for n in range(4)]
    with backend.bulk():
        backend.upsert([*in_stock, product(10), product(11)])  # 4 added, 2 held
        assert backend.stats()["products"] == 0
        backend.upsert([product(12)])  # 3 held: committed
        assert backend.stats()["products"] == 7
        backend.upsert([product(n, availability="in_stock") for n in range(20, 24)] + [product(13)])
        assert backend.stats()["products"] == 7  # 4 added, 1 held
        backend.upsert([product(24, availability="in_stock")])  # 5 added: committed
        assert backend.stats()["products"] == 13
    assert backend.stats()["products"] == 13
    backend.close()


def test_a_rebuilt_index_is_one_segment(tmp_path):
    """Searches read one segment faster than several: a rebuild commits once, from one
    indexing thread."""
    runs = tmp_path / "runs"
    for source in ["a", "b", "c", "d"]:
        write_run(
            runs,
            RUN1,
            [product(i, source_id=source) for i in range(50)],
            source_id=source,
            sidecar=manifest(RUN1, source),
        )
    backend = TantivyBackend(tmp_path / "index")
    reindex(runs, backend)
    assert backend.stats()["products"] == 200
    assert backend.segments() == 1
    backend.close()


def test_run_files_read_ahead_in_another_process_load_the_same(tmp_path, monkeypatch):
    """A big rebuild reads and validates run files in a second process; what it loads,
    rejects and reports must be what the loader would have found reading them itself."""
    import indexer.reindex as module

    runs = tmp_path / "runs"
    write_run(runs, RUN1, [shop()] + [product(n) for n in range(5)] + ["{not json", {"type": "product", "id": "x"}])
    write_run(
        runs, RUN2, [product(1, name="Bougie renommée"), product(9)], sidecar=manifest(RUN2, finish_reason="shutdown")
    )
    write_run(
        runs,
        RUN1,
        [product(n, source_id="autre") for n in range(3)],
        source_id="autre",
        sidecar=manifest(RUN1, "autre"),
    )

    def rebuild(name: str) -> tuple[list, dict]:
        backend = TantivyBackend(tmp_path / name)
        report = reindex(runs, backend)
        found = {hit["id"]: hit for hit in backend.search(SearchQuery(per_page=100)).hits}
        backend.close()
        return [
            (r.source_id, r.run_id, r.records, r.rejected, r.errors, r.outcome, r.swept) for r in report.runs
        ], found

    inline = rebuild("inline")
    submitted = []

    class CountingPool(module.ProcessPoolExecutor):
        def submit(self, fn, *args, **kwargs):
            submitted.append(args[0])
            return super().submit(fn, *args, **kwargs)

    monkeypatch.setattr(module, "ProcessPoolExecutor", CountingPool)
    monkeypatch.setattr(module, "READ_AHEAD_ABOVE_BYTES", 0)
    monkeypatch.setattr(module, "READ_AHEAD_BYTES", 1)  # one run ahead at a time
    ahead = rebuild("ahead")
    assert len(submitted) == 3  # every run was read by the other process
    assert ahead == inline
    assert [run[3] for run in inline[0]] == [0, 2, 0]  # rejected lines: "autre", then cire-meche's two runs
    assert len(inline[1]) == 9 and inline[1]["cire-meche-1"]["name"] == "Bougie renommée"


def test_runs_indexed_during_a_rebuild_are_in_the_new_index(tmp_path, monkeypatch):
    """`emplettes index` may run while `emplettes reindex` builds: what it loads meanwhile
    must not vanish with the index the rebuild replaces."""
    import indexer.reindex as module

    runs = tmp_path / "runs"
    write_run(runs, RUN1, [product(n) for n in range(3)])
    backend = TantivyBackend(tmp_path / "index")
    state = IndexState(tmp_path / "state.sqlite3")
    real = module.load_run

    def a_loader_runs_meanwhile(path, *args, **kwargs):
        if not (runs / "autre").exists():
            newer = write_run(runs, RUN2, [product(0, name="Bougie renommée"), product(1), product(2)])
            other_source = write_run(
                runs, RUN2, [product(7, source_id="autre")], source_id="autre", sidecar=manifest(RUN2, "autre")
            )
            loader = TantivyBackend(tmp_path / "index")  # as another process would
            for run_file in (newer, other_source):
                real(run_file, loader, state=state)
            loader.close()
        return real(path, *args, **kwargs)

    monkeypatch.setattr(module, "load_run", a_loader_runs_meanwhile)
    report = reindex(runs, backend, state=state)
    assert [(r.source_id, r.run_id) for r in report.runs] == [
        ("cire-meche", RUN1),
        ("autre", RUN2),
        ("cire-meche", RUN2),
    ]
    assert _ids(backend) == {"cire-meche-0", "cire-meche-1", "cire-meche-2", "autre-7"}
    assert backend.get("cire-meche-0")["name"] == "Bougie renommée"
    assert state.indexed_keys() == {("cire-meche", RUN1), ("cire-meche", RUN2), ("autre", RUN2)}
    state.close()
    backend.close()


def test_a_rebuild_waits_for_the_loader_then_gives_up_leaving_the_index_as_it_was(tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    write_run(runs, RUN1, [product(n) for n in range(3)])
    loader = TantivyBackend(tmp_path / "index")
    loader.upsert([product(40, run_id=RUN1)])  # holds the right to write until closed
    rebuilder = TantivyBackend(tmp_path / "index")
    with pytest.raises(BackendUnavailable):
        rebuilder.upsert([product(41)])  # two writers never
    monkeypatch.setattr(storage, "REBUILD_LOCK_WAIT", 0.5)
    with pytest.raises(BackendUnavailable, match="un autre processus indexe"):
        reindex(runs, rebuilder)
    assert _ids(rebuilder) == {"cire-meche-40"}
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("index")) == ["index", "index.lock"]
    loader.close()
    reindex(runs, rebuilder)  # the loader is done: the swap goes ahead
    assert _ids(rebuilder) == {"cire-meche-0", "cire-meche-1", "cire-meche-2"}
    rebuilder.close()


def test_a_loader_opened_before_a_swap_writes_into_the_new_index(tmp_path):
    """Through the index that is there when it starts writing, not the one it opened, which
    the rebuild replaced."""
    runs = tmp_path / "runs"
    write_run(runs, RUN1, [product(n) for n in range(3)])
    with TantivyBackend(tmp_path / "index") as before:
        before.upsert([product(50)])  # not in the run files: gone after the rebuild
    loader = TantivyBackend(tmp_path / "index")  # opened, not yet writing
    reindex(runs, TantivyBackend(tmp_path / "index"))
    loader.upsert([product(9, run_id=RUN2)])
    loader.close()
    with TantivyBackend(tmp_path / "index", readonly=True) as reader:
        assert _ids(reader) == {"cire-meche-0", "cire-meche-1", "cire-meche-2", "cire-meche-9"}


def test_a_sweep_in_bulk_counts_only_what_goes(tmp_path, monkeypatch):
    _commit_every(monkeypatch, 3)
    backend = TantivyBackend(tmp_path / "index")
    with backend.bulk():
        backend.upsert([product(n, run_id=RUN1) for n in range(4)])  # committed: 4 >= 3
        backend.upsert([product(n, run_id=RUN2) for n in range(2)])  # pending, replacing two
        assert backend.delete_source("cire-meche", keep_run=RUN2) == 2
        backend.upsert([product(5, run_id=RUN2)])
    assert _ids(backend) == {"cire-meche-0", "cire-meche-1", "cire-meche-5"}
    assert backend.get("cire-meche-0")["first_seen"] == product(0)["first_seen"]
    backend.close()


def test_reindex_command(tmp_path):
    runs = tmp_path / "runs"
    write_run(runs, RUN1, [shop()] + [product(n) for n in range(3)])
    env = {**os.environ, "DATA_DIR": str(tmp_path), "SEARCH_BACKEND": "tantivy"}
    done = subprocess.run(
        [sys.executable, "-m", "emplettes.cli", "reindex"], capture_output=True, text=True, timeout=120, env=env
    )
    assert done.returncode == 0, done.stderr
    assert "reconstruit depuis 1 collecte : 3 produits" in done.stderr
    assert len(list_runs(runs)) == 1
    with TantivyBackend(tmp_path / "index", readonly=True) as backend:
        assert backend.stats()["products"] == 3


AVAILABILITIES = ["in_stock", "out_of_stock", "in_stock", "preorder", "unknown", "in_stock"]


def _mixed_runs(runs) -> None:
    """Three sources, products of every availability; later runs flip some, add some, drop some."""
    for source in ("a", "b", "c"):
        first = [shop(source)] + [
            product(
                i,
                source_id=source,
                availability=AVAILABILITIES[i % 6],
                first_seen=f"2026-10-{1 + i % 28:02d}T08:00:00Z",
            )
            for i in range(30)
        ]
        write_run(runs, RUN1, first, source_id=source, sidecar=manifest(RUN1, source))
        later = [shop(source)] + [
            product(i, source_id=source, availability=AVAILABILITIES[(i + 1) % 6], name=f"Bougie {i} v2")
            for i in range(10, 40)
        ]
        finish = "shutdown" if source == "a" else "finished"  # a: partial (adds), b/c: complete (sweeps)
        write_run(runs, RUN2, later, source_id=source, sidecar=manifest(RUN2, source, finish_reason=finish))


def _everything(backend) -> dict[str, tuple]:
    hits = backend.search(SearchQuery(per_page=1000, facets=())).hits
    return {hit["id"]: (hit.get("availability"), hit["first_seen"], hit["name"]) for hit in hits}


@pytest.mark.parametrize("commit_every", [1_000_000, 25])
def test_a_rebuild_writes_in_stock_products_and_the_others_as_separate_segments(tmp_path, monkeypatch, commit_every):
    """Same records as loading the runs one by one (replacements across availabilities,
    first_seen kept), committed at once or in many batches; committed at once, two
    segments: one where every product is in stock, one where none is."""
    from indexer.load import load_run

    _commit_every(monkeypatch, commit_every)
    runs = tmp_path / "runs"
    _mixed_runs(runs)
    one_by_one = TantivyBackend(tmp_path / "plain")
    for run in runs_to_rebuild(runs, 0.2)[0]:
        load_run(run.path, one_by_one, max_error_ratio=0.2)
    rebuilt = TantivyBackend(tmp_path / "index")
    reindex(runs, rebuilt)
    expected = _everything(one_by_one)
    assert _everything(rebuilt) == expected
    assert {a for a, _, _ in expected.values()} == {"in_stock", "out_of_stock", "preorder", "unknown"}
    assert len(expected) == 40 + 30 + 30  # a: both runs (the second partial); b, c: their second run
    assert rebuilt.stats()["shops"] == 3
    one_by_one.close()
    if commit_every >= len(expected):  # (many small segments: tantivy merges them as it likes)
        searcher = rebuilt._searcher()
        assert searcher.num_segments == 2
        in_stock = searcher.search(rebuilt._term("availability", "in_stock"), 1000).hits
        rest = tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Must, tantivy.Query.all_query()),
                (tantivy.Occur.MustNot, rebuilt._term("availability", "in_stock")),
            ]
        )
        others = searcher.search(rest, 1000).hits
        assert {a.segment_ord for _, a in in_stock}.isdisjoint({a.segment_ord for _, a in others})
        assert len(in_stock) + len(others) == 100 + 3
    rebuilt.close()


def test_a_failure_after_a_sweep_in_bulk_loses_no_product(tmp_path):
    """A held replacement is committed with the delete of the version it replaces."""
    backend = TantivyBackend(tmp_path / "index")
    backend.upsert([product(0, run_id=RUN1, availability="in_stock"), product(1, run_id=RUN1, availability="in_stock")])
    with pytest.raises(RuntimeError), backend.bulk():  # noqa: PT012  (the loader dies inside the bulk)
        backend.upsert([product(0, run_id=RUN2, availability="out_of_stock")])  # held back
        assert backend.delete_source("cire-meche", keep_run=RUN2) == 1  # product 1 goes
        raise RuntimeError("the loader died on the next run")
    found = {hit["id"]: (hit["run_id"], hit["availability"]) for hit in backend.search(SearchQuery(per_page=10)).hits}
    assert found == {"cire-meche-0": (RUN2, "out_of_stock")}
    backend.close()


def test_a_held_record_that_fails_at_the_commit_leaves_nothing_in_the_writer(tmp_path):
    backend = TantivyBackend(tmp_path / "index")
    bad = product(2, availability="out_of_stock")
    bad["price"] = "abc"  # (past validation: only a broken caller sends this)
    # The price that fails to convert: decimal.InvalidOperation (an ArithmeticError) or ValueError.
    with pytest.raises((ArithmeticError, ValueError)), backend.bulk():
        backend.upsert([product(0, availability="in_stock"), product(1, availability="out_of_stock"), bad])
    backend.upsert([product(9)])  # the next commit of this handle publishes nothing half written
    assert _ids(backend) <= {"cire-meche-0", "cire-meche-9"} and "cire-meche-1" not in _ids(backend)
    backend.close()
