"""A rebuild killed with -9 leaves nothing behind for long: its reading process dies with
it, and the next `emplettes index` or `reindex` removes its directory and lock.

Real run files (large enough for the rebuild to read them ahead in a second process), the
real `emplettes reindex` in a subprocess killed with SIGKILL, then the real commands.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from run_files import RUN1, product, shop, write_run

from indexer.reindex import READ_AHEAD_ABOVE_BYTES


def environment(data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "SEARCH_BACKEND": "tantivy",
        "SOURCES_FILE": str(data_dir / "none"),
    }


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_for(condition, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def leftovers(data_dir: Path) -> list[str]:
    return sorted(p.name for p in data_dir.iterdir() if p.name.startswith(("index.rebuild-", "index.old-")))


@pytest.fixture(scope="module")
def run_files(tmp_path_factory) -> Path:
    runs = tmp_path_factory.mktemp("runs")
    blurb = "Cire d'abeille coulée à la main, mèche de coton, parfum de figue et de cèdre. " * 25
    for source in ("cire-meche", "cire-nord", "cire-sud", "cire-est"):
        records = [shop(source)] + [product(n, source_id=source, description=blurb) for n in range(4000)]
        write_run(runs, RUN1, records, source_id=source)
    assert sum(p.stat().st_size for p in runs.glob("*/*.jsonl")) > READ_AHEAD_ABOVE_BYTES
    return runs


@pytest.mark.parametrize("next_command", ["index", "reindex"])
def test_a_rebuild_killed_with_sigkill_is_cleaned_up_by_the_next_command(tmp_path, run_files, next_command):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "runs").symlink_to(run_files)
    env = environment(data_dir)
    rebuild = subprocess.Popen(
        [sys.executable, "-m", "emplettes.cli", "reindex"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # the reading process (and multiprocessing's resource tracker) started, the new index begun
        wait_for(lambda: len(children(rebuild.pid)) >= 2 and leftovers(data_dir), "the rebuild to be under way")
        helpers = children(rebuild.pid)
        rebuild.send_signal(signal.SIGKILL)
        rebuild.wait(timeout=30)
    finally:
        if rebuild.poll() is None:
            rebuild.kill()
            rebuild.wait()
    wait_for(lambda: not any(alive(pid) for pid in helpers), "the rebuild's helper processes to end", timeout=30)
    assert leftovers(data_dir)  # the killed rebuild's directory is still there...

    result = subprocess.run(
        [sys.executable, "-m", "emplettes.cli", next_command], env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr
    assert leftovers(data_dir) == []  # ...until the next command
    assert not list(data_dir.glob("index.rebuild-*.lock"))
    assert "reconstruction interrompue" in result.stderr
