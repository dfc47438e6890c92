"""Hostile run files: a run id from a wrong clock, a run carrying another source's ids.

Real run files, a real tantivy index, the real commands (`emplettes index`, `reindex`,
`status`) in subprocesses; the namespace rule also runs against every backend.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from backend_catalogue import BACKENDS
from run_files import RUN1, manifest, product, shop, write_run
from served_portal import PORTAL_BACKENDS, served_portal

from indexer.backends.base import SearchQuery
from indexer.backends.tantivy import TantivyBackend
from indexer.load import load_run
from indexer.state import IndexState

FUTURE = "20990101T000000Z-bad0"


def recent_run_id(minutes_ago: int = 1) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes_ago)).strftime("%Y%m%dT%H%M%SZ") + "-0001"


def emplettes(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATA_DIR": str(data_dir), "SEARCH_BACKEND": "tantivy", "SOURCES_FILE": str(data_dir / "none")}
    return subprocess.run(
        [sys.executable, "-m", "emplettes.cli", *args], capture_output=True, text=True, timeout=300, env=env
    )


def indexed_ids(data_dir: Path) -> set[str]:
    with TantivyBackend(data_dir / "index", readonly=True) as backend:
        return {hit["id"] for hit in backend.search(SearchQuery(per_page=1000)).hits}


def test_a_run_id_from_a_wrong_clock_is_refused_and_never_freezes_its_source(tmp_path):
    runs = tmp_path / "runs"
    write_run(runs, RUN1, [shop(), product(1), product(2)])
    write_run(runs, FUTURE, [shop(), product(3)], sidecar=manifest(FUTURE))
    first = emplettes(tmp_path, "index")
    assert first.returncode == 0, first.stderr
    assert FUTURE in first.stderr and "futur" in first.stderr  # said, in French
    assert indexed_ids(tmp_path) == {"cire-meche-1", "cire-meche-2"}
    with IndexState(tmp_path / "state.sqlite3") as state:
        assert ("cire-meche", FUTURE) not in state.indexed_keys()
        # As the code before this rule did: the 2099 run recorded as indexed, and complete.
        state.record_run(
            "cire-meche",
            FUTURE,
            runs / "cire-meche" / f"{FUTURE}.jsonl",
            records=2,
            rejected=0,
            swept=0,
            outcome="complete",
        )

    later = recent_run_id()
    write_run(runs, later, [shop(), product(4)], sidecar=manifest(later))
    second = emplettes(tmp_path, "index")
    assert second.returncode == 0, second.stderr
    assert "rien à indexer" not in second.stderr
    assert indexed_ids(tmp_path) == {"cire-meche-4"}  # loaded, and it swept

    rebuilt = emplettes(tmp_path, "reindex")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert indexed_ids(tmp_path) == {"cire-meche-4"}  # the 2099 run is not "the latest good run"

    status = emplettes(tmp_path, "status", "--json")
    assert status.returncode == 0, status.stderr
    assert f'"run_id": "{later}"' in status.stdout and FUTURE not in status.stdout
    history = emplettes(tmp_path, "status", "--runs", "cire-meche")
    assert f"{FUTURE}  datée dans le futur" in history.stdout


@pytest.mark.parametrize("open_backend", BACKENDS)
def test_a_run_writes_and_sweeps_only_its_own_sources_records(tmp_path, open_backend):
    runs = tmp_path / "runs"
    backend = open_backend(tmp_path / "index")
    try:
        victim = product(1, source_id="cave-vouvray", url="https://vouvray.example.fr/p/1")
        load_run(write_run(runs, RUN1, [shop("cave-vouvray"), victim], source_id="cave-vouvray"), backend)
        # A run of another shop carrying that product's id...
        forged = product(7, id="cave-vouvray-1", url="https://cire.example.fr/p/forged", name="Contrefaçon")
        report = load_run(
            write_run(runs, recent_run_id(), [shop(), *(product(n) for n in range(2, 7)), forged]), backend
        )
        assert report.rejected == 1 and "cave-vouvray-1" in report.errors[0][1]
        assert report.outcome == "complete"  # 1 bad line of 4: this run sweeps, its own records only
        # ...and one of "cave", whose id is a prefix of "cave-vouvray": the id looks like its own.
        posing = product(8, source_id="cave", id="cave-vouvray-1", url="https://cave.example.fr/x", name="Autre")
        lines = [shop("cave"), *(product(n, source_id="cave") for n in range(2, 7)), posing]
        report = load_run(write_run(runs, recent_run_id(), lines, source_id="cave"), backend)
        assert report.rejected == 1 and report.outcome == "complete"
        kept = backend.get("cave-vouvray-1")
        assert kept is not None and kept["source_id"] == "cave-vouvray" and kept["url"] == victim["url"]
        assert backend.get("cire-meche-2") is not None and backend.get("cave-3") is not None
    finally:
        backend.close()


@pytest.mark.parametrize("backend", PORTAL_BACKENDS)
def test_go_follows_a_product_only_within_its_own_source(tmp_path, backend):
    # As the loader before the namespace rule left them: the fromagerie's product id
    # overwritten by a record of cave-vouvray pointing at cave-vouvray's own site.
    own = product(1, source_id="cave", url="https://cave.example.fr/p/1", source_url="https://cave.example.fr/")
    taken = product(2, source_id="cave-vouvray", id="fromagerie-2", url="https://vouvray.example.fr/p/x")
    taken["source_url"] = "https://vouvray.example.fr/"
    with served_portal([own, taken], tmp_path, backend) as (url, _, _):
        followed = requests.get(f"{url}/go/cave-1", allow_redirects=False, timeout=10)
        assert followed.status_code == 302 and followed.headers["Location"] == "https://cave.example.fr/p/1"
        refused = requests.get(f"{url}/go/fromagerie-2", allow_redirects=False, timeout=10)
        assert refused.status_code == 404 and "Location" not in refused.headers
