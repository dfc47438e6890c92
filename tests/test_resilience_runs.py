"""Run records without crawling: killed runs found and closed, outcomes, status table, pruning.

Real run files and manifests in tmp_path, a real state database and tantivy index, real
(dead and alive) processes.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from run_files import manifest, product, shop, write_run

from indexer.backends.tantivy import TantivyBackend
from indexer.load import EMPTY, load_run
from indexer.runlog import run_records, source_statuses, status_table
from indexer.runs import list_runs, prune_runs, reap_dead_runs, run_info
from indexer.state import IndexState

SOURCE = "cire-meche"


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_run_whose_crawler_died_is_closed_as_killed_with_what_it_wrote(tmp_path):
    runs = tmp_path / "runs"
    unfinished = dict(finished_at=None, finish_reason=None, host=socket.gethostname())
    dead = write_run(
        runs,
        "20261101T080000Z-aaaa",
        [shop(), product(1), product(2)],
        tail='{"type": "prod',
        sidecar=manifest("20261101T080000Z-aaaa", pid=dead_pid(), **unfinished),
    )
    alive = write_run(
        runs,
        "20261102T080000Z-bbbb",
        [shop()],
        sidecar=manifest("20261102T080000Z-bbbb", pid=os.getpid(), **unfinished),
    )
    elsewhere = write_run(
        runs,
        "20261103T080000Z-cccc",
        [shop()],
        sidecar=manifest("20261103T080000Z-cccc", pid=dead_pid(), **{**unfinished, "host": "other-machine"}),
    )
    (reaped,) = reap_dead_runs(runs)
    assert reaped.path == dead and reaped.finish_reason == "killed" and reaped.finished
    assert reaped.manifest["products"] == 2 and reaped.manifest["items"] == 3  # the cut line is not counted
    assert not run_info(alive).finished and not run_info(elsewhere).finished

    with IndexState(tmp_path / "state.sqlite3") as state:
        outcomes = {r.run_id[-4:]: r.outcome for r in run_records(runs, state)}
    assert outcomes == {"aaaa": "killed", "bbbb": "running", "cccc": "killed"}


def test_a_killed_run_that_wrote_nothing_is_still_a_run(tmp_path):
    runs = tmp_path / "runs" / SOURCE
    runs.mkdir(parents=True)
    (runs / "20261101T080000Z-aaaa.json").write_text(
        json.dumps(manifest("20261101T080000Z-aaaa", finished_at=None, pid=dead_pid(), host=socket.gethostname()))
    )
    (run,) = list_runs(tmp_path / "runs")
    assert not run.path.exists()
    (reaped,) = reap_dead_runs(tmp_path / "runs")
    with TantivyBackend(tmp_path / "index") as backend, IndexState(tmp_path / "state.sqlite3") as state:
        report = load_run(reaped.path, backend, state=state)
        assert report.records == 0 and report.swept == 0
        (record,) = run_records(tmp_path / "runs", state)
    assert record.outcome == "killed" and record.indexed


def test_a_run_without_any_product_never_empties_a_shop(tmp_path):
    runs = tmp_path / "runs"
    with TantivyBackend(tmp_path / "index") as backend, IndexState(tmp_path / "state.sqlite3") as state:
        load_run(write_run(runs, "20261101T080000Z-aaaa", [shop(), product(1), product(2)]), backend, state=state)
        report = load_run(write_run(runs, "20261102T080000Z-bbbb", [shop()]), backend, state=state)
        assert report.outcome == EMPTY and report.swept == 0 and "aucun produit" in report.reason
        assert backend.stats()["products"] == 2


def test_status_lists_each_source_with_its_last_run_and_next_run(tmp_path):
    runs = tmp_path / "runs"
    write_run(runs, "20261101T080000Z-aaaa", [shop(), product(1)])
    write_run(
        runs,
        "20261102T080000Z-bbbb",
        [shop(), product(1)],
        sidecar=manifest(
            "20261102T080000Z-bbbb", page_errors=20, errors={"http_500": 12, "timeout": 8}, products=1, bytes=12345
        ),
    )
    with TantivyBackend(tmp_path / "index") as backend, IndexState(tmp_path / "state.sqlite3") as state:
        load_run(runs / SOURCE / "20261101T080000Z-aaaa.jsonl", backend, state=state)
        state.set_next_run(SOURCE, "every 6h", datetime.now(UTC) + timedelta(hours=5, minutes=1))
        statuses = source_statuses(runs, state, [SOURCE, "never-crawled"])
    last = statuses[0].last_run
    assert (last.run_id, last.outcome, last.indexed, last.errors) == (
        "20261102T080000Z-bbbb",
        "partial",
        False,
        {"http_500": 12, "timeout": 8},
    )
    assert statuses[0].last_ok_run == "20261101T080000Z-aaaa"
    assert last.duration == 600 and last.bytes == 12345
    table = status_table(statuses).splitlines()
    assert table[0].split() == [
        "SOURCE",
        "DERNIÈRE",
        "COLLECTE",
        "RÉSULTAT",
        "PAGES",
        "PRODUITS",
        "ERREURS",
        "INDEXÉE",
        "PROCHAINE",
    ]
    assert "partielle" in table[1] and "http_500×12, timeout×8" in table[1] and table[1].rstrip().endswith("dans 5 h")
    assert " non " in table[1]  # not indexed yet
    assert table[2].split()[:2] == ["never-crawled", "jamais"]
    assert json.dumps([s.to_json() for s in statuses])  # what the portal's dashboard reads


def test_old_run_files_are_pruned_but_never_one_the_index_still_needs(tmp_path):
    runs = tmp_path / "runs"
    ids = [f"202611{d:02d}T080000Z-{d:04d}" for d in range(1, 9)]
    for run_id in ids:
        write_run(runs, run_id, [shop(), product(1)])
    outcomes = {(SOURCE, r): "complete" for r in ids[:3]}
    outcomes |= {(SOURCE, r): "partial" for r in ids[3:6]}  # ids[6:] not indexed yet
    removed = prune_runs(runs, outcomes, keep=2)
    assert [r.run_id for r in removed] == ids[:2], "only runs before the latest complete one go"
    left = [r.run_id for r in list_runs(runs)]
    assert left == ids[2:]
    assert not (runs / SOURCE / f"{ids[0]}.json").exists()


def test_the_scheduler_heartbeat_tells_running_stopped_and_silent_apart(tmp_path):
    from indexer.runlog import scheduler_line, scheduler_status

    assert scheduler_status(tmp_path)["state"] == "never started"
    beat = tmp_path / "scheduler" / "heartbeat.json"
    beat.parent.mkdir()
    now = datetime.now(UTC)

    def write(**changes):
        data = dict(
            pid=os.getpid(),
            host=socket.gethostname(),
            started_at="2026-11-23T03:00:00Z",
            seen_at=now.isoformat(),
            running=True,
            poll=5,
            crawling=["cave"],
            index_pending=True,
        )
        beat.write_text(json.dumps({**data, **changes}))

    write()
    status = scheduler_status(tmp_path)
    assert status["state"] == "running"
    line = scheduler_line(status)
    assert line.startswith("planificateur : en marche (pid ")
    assert "collecte en cours : cave" in line and "l'indexation attend l'index de recherche" in line
    write(seen_at=(now - timedelta(minutes=5)).isoformat())
    assert scheduler_status(tmp_path)["state"] == "not responding"
    write(pid=dead_pid())
    assert scheduler_status(tmp_path)["state"] == "not responding"
    write(running=False)
    assert scheduler_status(tmp_path)["state"] == "stopped"
