"""Loading run files: a good run replaces its source's records, nothing else ever shrinks them.

Real run files and manifests in tmp_path, a real tantivy index, a real state database.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from run_files import RUN1, RUN2, RUN3, SOURCE, manifest, product, shop, write_run

from indexer.backends.base import BackendUnavailable, SearchQuery
from indexer.backends.tantivy import TantivyBackend
from indexer.load import COMPLETE, EMPTY, PARTIAL, UNFINISHED, load_pending, load_run, pending_runs
from indexer.runs import list_runs, read_run, run_completed_well, run_info
from indexer.state import IndexState


@pytest.fixture
def runs_dir(tmp_path) -> Path:
    return tmp_path / "runs"


@pytest.fixture
def backend(tmp_path):
    backend = TantivyBackend(tmp_path / "index")
    yield backend
    backend.close()


@pytest.fixture
def state(tmp_path):
    state = IndexState(tmp_path / "state.sqlite3")
    yield state
    state.close()


def source_ids(backend) -> set[str]:
    hits = backend.search(SearchQuery(per_page=1000, facets=())).hits
    return {hit["id"] for hit in hits}


def test_good_run_sweeps_older_records(runs_dir, backend, state):
    load_run(write_run(runs_dir, RUN1, [shop()] + [product(n) for n in range(5)]), backend, state=state)
    report = load_run(write_run(runs_dir, RUN2, [shop()] + [product(n) for n in range(3)]), backend, state=state)
    assert report.outcome == COMPLETE and report.completed_well
    assert (report.records, report.products, report.shops, report.swept) == (4, 3, 1, 2)
    assert source_ids(backend) == {f"{SOURCE}-{n}" for n in range(3)}
    assert backend.get(f"{SOURCE}-0")["run_id"] == RUN2
    assert backend.get(f"{SOURCE}-shop") is not None


def test_sweep_leaves_other_sources_alone(runs_dir, backend):
    load_run(write_run(runs_dir, RUN1, [product(1, source_id="autre")], source_id="autre"), backend)
    load_run(write_run(runs_dir, RUN2, [product(1)]), backend)
    assert source_ids(backend) == {"autre-1", f"{SOURCE}-1"}


@pytest.mark.parametrize(
    ("sidecar", "outcome"),
    [
        (manifest(RUN2, finish_reason="shutdown"), PARTIAL),
        (manifest(RUN2, finish_reason="closespider_timeout"), PARTIAL),
        (manifest(RUN2, pages=10, page_errors=3), PARTIAL),  # 30 % of pages failed
        (manifest(RUN2, pages=0), PARTIAL),
        (manifest(RUN2, finished_at=None), UNFINISHED),  # written at start, never rewritten
        (None, UNFINISHED),  # killed before the manifest
    ],
    ids=["shutdown", "timeout", "page-errors", "no-pages", "not-finished", "no-sidecar"],
)
def test_bad_runs_never_shrink_the_index(runs_dir, backend, state, sidecar, outcome):
    load_run(write_run(runs_dir, RUN1, [product(n) for n in range(5)]), backend, state=state)
    path = write_run(runs_dir, RUN2, [product(0, name="Bougie renommée")], sidecar=sidecar or False)
    report = load_run(path, backend, state=state)
    assert report.outcome == outcome and not report.completed_well and report.swept == 0
    assert report.reason
    assert source_ids(backend) == {f"{SOURCE}-{n}" for n in range(5)}
    assert backend.get(f"{SOURCE}-0")["name"] == "Bougie renommée"  # but its records are refreshed


def test_run_with_too_many_invalid_lines_does_not_sweep(runs_dir, backend):
    load_run(write_run(runs_dir, RUN1, [product(n) for n in range(5)]), backend)
    lines = [product(0), {"type": "product", "id": "x"}, "not json", {"type": "product", "id": "y"}]
    report = load_run(write_run(runs_dir, RUN2, lines), backend, max_error_ratio=0.2)
    assert report.outcome == PARTIAL and report.swept == 0
    assert len(source_ids(backend)) == 5


def test_good_run_without_valid_record_does_not_empty_the_source(runs_dir, backend):
    load_run(write_run(runs_dir, RUN1, [product(n) for n in range(5)]), backend)
    report = load_run(write_run(runs_dir, RUN2, []), backend)
    assert report.outcome == EMPTY and report.swept == 0
    assert len(source_ids(backend)) == 5


def test_invalid_lines_are_reported_with_line_numbers_and_valid_ones_kept(runs_dir, backend):
    lines = [
        product(1),
        "{broken json",
        product(2) | {"price": "-3"},
        product(3) | {"url": "ftp://nope"},
        [1, 2, 3],
        product(4, source_id="autre-source"),
        product(5),
        "",
    ]
    lines += [product(n) for n in range(10, 40)]  # enough valid lines to stay under the error ratio
    report = load_run(write_run(runs_dir, RUN1, lines), backend)
    assert report.records == 32 and report.rejected == 5
    numbers = [number for number, _ in report.errors]
    assert numbers == [2, 3, 4, 5, 6]
    messages = dict(report.errors)
    assert messages[2] == "JSON invalide à la colonne 2 : nom de champ attendu"
    assert messages[3] == "price : doit valoir au moins 0"
    assert messages[4] == "url : ne correspond pas à la forme attendue (^https?://)"
    assert "autre-source" in messages[6]
    assert report.outcome == COMPLETE
    assert f"{SOURCE}-1" in source_ids(backend) and f"{SOURCE}-5" in source_ids(backend)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"type": "gadget"}, "fiche : type inconnu 'gadget' ; valeurs possibles : 'product', 'shop'"),
        ({"last_seen": "hier"}, "last_seen : doit être une date ISO 8601 (2026-12-06T09:30:00Z)"),
        ({"price": "douze"}, "price : doit être un nombre"),
        ({"name": ""}, "name : ne peut pas être vide"),
    ],
)
def test_a_rejected_line_is_reported_in_french(runs_dir, backend, change, message):
    lines = [product(1) | change] + [product(n) for n in range(10, 20)]
    report = load_run(write_run(runs_dir, RUN1, lines), backend)
    assert report.errors == [(1, message)]


def test_a_byte_order_mark_before_the_first_line_is_no_error(runs_dir, backend):
    path = write_run(runs_dir, RUN1, [product(1), product(2)])
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    report = load_run(path, backend)
    assert report.rejected == 0 and report.records == 2


def test_truncated_last_line_is_tolerated(runs_dir, backend):
    cut = json.dumps(product(9))[:57]
    path = write_run(runs_dir, RUN1, [product(1), product(2)], tail=cut, sidecar=False)
    assert [r["id"] for r in read_run(path)] == [f"{SOURCE}-1", f"{SOURCE}-2"]
    report = load_run(path, backend)
    assert report.truncated and report.rejected == 0 and report.records == 2


def test_record_run_id_comes_from_the_file(runs_dir, backend):
    load_run(write_run(runs_dir, RUN1, [product(1, run_id="something-else")]), backend)
    assert backend.get(f"{SOURCE}-1")["run_id"] == RUN1


def test_list_runs_and_completion(runs_dir):
    write_run(runs_dir, RUN2, [product(1)])
    write_run(runs_dir, RUN1, [product(1)], sidecar=manifest(RUN1, finish_reason="shutdown"))
    write_run(runs_dir, RUN3, [product(1)], sidecar=False)
    (runs_dir / SOURCE / "junk.json.tmp").write_text("{")
    runs = list_runs(runs_dir)
    assert [r.run_id for r in runs] == [RUN1, RUN2, RUN3]
    assert [r.finished for r in runs] == [True, True, False]
    assert [run_completed_well(r, 0.2) for r in runs] == [False, True, False]
    assert runs[1].pages == 40 and runs[1].source_id == SOURCE
    assert list_runs(runs_dir / "missing") == []


def test_unreadable_manifest_means_unfinished(runs_dir):
    path = write_run(runs_dir, RUN1, [product(1)], sidecar=False)
    path.with_suffix(".json").write_text('{"finished_at": "2026-11-0')  # being rewritten
    assert not run_info(path).finished


def test_pending_runs_and_state(runs_dir, backend, state):
    write_run(runs_dir, RUN1, [product(n) for n in range(4)])
    write_run(runs_dir, RUN2, [product(n) for n in range(2)], sidecar=manifest(RUN2, finish_reason="shutdown"))
    write_run(runs_dir, RUN1, [product(1, source_id="autre")], source_id="autre")
    write_run(runs_dir, RUN3, [product(n) for n in range(3)], sidecar=False)  # still crawling
    pending = pending_runs(runs_dir, state)
    assert [(r.source_id, r.run_id) for r in pending] == [("autre", RUN1), (SOURCE, RUN1), (SOURCE, RUN2)]

    reports = load_pending(runs_dir, backend, state)
    assert [r.outcome for r in reports] == [COMPLETE, COMPLETE, PARTIAL]
    assert pending_runs(runs_dir, state) == []
    assert len(source_ids(backend)) == 5  # the partial run did not sweep
    rows = state.runs(SOURCE)
    assert [(r.run_id, r.outcome, r.records) for r in rows] == [(RUN2, PARTIAL, 2), (RUN1, COMPLETE, 4)]

    # The crawl ends: its run becomes pending, then indexed, and sweeps.
    (runs_dir / SOURCE / f"{RUN3}.json").write_text(json.dumps(manifest(RUN3)))
    assert [r.run_id for r in pending_runs(runs_dir, state)] == [RUN3]
    [report] = load_pending(runs_dir, backend, state)
    assert report.swept == 1 and source_ids(backend) == {"autre-1"} | {f"{SOURCE}-{n}" for n in range(3)}


def test_runs_older_than_the_latest_indexed_are_skipped(runs_dir, backend, state):
    load_run(write_run(runs_dir, RUN2, [product(1)]), backend, state=state)
    write_run(runs_dir, RUN1, [product(1), product(2)])  # a late manifest from an older crawl
    assert pending_runs(runs_dir, state) == []


def test_state_persists_across_processes(tmp_path, runs_dir, backend):
    with IndexState(tmp_path / "s.sqlite3") as state:
        load_run(write_run(runs_dir, RUN1, [product(1)]), backend, state=state)
    with IndexState(tmp_path / "s.sqlite3") as state:
        assert state.is_indexed(SOURCE, RUN1)
        assert pending_runs(runs_dir, state) == []


class DownBackend(TantivyBackend):
    def upsert(self, records, **kwargs):
        raise BackendUnavailable("index locked by another process")


def test_unavailable_backend_marks_nothing_indexed(tmp_path, runs_dir, state):
    write_run(runs_dir, RUN1, [product(1)])
    down = DownBackend(tmp_path / "down-index")
    with pytest.raises(BackendUnavailable):
        load_pending(runs_dir, down, state)
    down.close()
    assert not state.is_indexed(SOURCE, RUN1)
    assert [r.run_id for r in pending_runs(runs_dir, state)] == [RUN1]


def test_second_writer_process_is_unavailable_not_a_crash(tmp_path):
    import subprocess
    import sys
    import textwrap

    path = tmp_path / "locked-index"
    first = TantivyBackend(path)
    first.upsert([product(1)])  # holds the writer lock
    code = textwrap.dedent(f"""
        import sys
        from indexer.backends.base import BackendUnavailable
        from indexer.backends.tantivy import TantivyBackend
        backend = TantivyBackend({str(path)!r})
        assert backend.search(__import__("indexer.backends.base").backends.base.SearchQuery()).total == 1
        try:
            backend.delete_source("x")
        except BackendUnavailable as exc:
            print("unavailable:", exc)
            sys.exit(0)
        sys.exit(1)
    """)
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60)
    first.close()
    assert done.returncode == 0, done.stderr
    assert "unavailable" in done.stdout
