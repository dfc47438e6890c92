"""Running ``emplettes crawl`` as a chamber does, for tests: registry in, run files out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def crawl_registry(tmp: Path, entries: list[str]) -> tuple[subprocess.CompletedProcess, dict, dict]:
    """Write ``entries`` (YAML list items) as the registry, crawl it in a subprocess, read each run.

    Returns the finished process; per source id, its records, manifest and run file; and the
    environment the crawl ran with (for further ``emplettes`` commands on the same data).
    """
    registry = tmp / "sources.yaml"
    registry.write_text("sources:\n" + "\n\n".join(entries) + "\n")
    env = {**os.environ, "DATA_DIR": str(tmp / "data"), "SOURCES_FILE": str(registry), "CRAWL_DELAY": "0"}
    result = subprocess.run(
        [sys.executable, "-m", "emplettes.cli", "crawl"], env=env, capture_output=True, text=True, timeout=300
    )
    runs = {}
    for run_dir in sorted((tmp / "data" / "runs").iterdir()):
        (run_file,) = run_dir.glob("*.jsonl")
        (manifest,) = run_dir.glob("*.json")
        records = [json.loads(line) for line in run_file.read_text().splitlines()]
        runs[run_dir.name] = (records, json.loads(manifest.read_text()), run_file)
    return result, runs, env


def run_demo(env: dict) -> subprocess.CompletedProcess:
    """``emplettes demo --no-serve`` on free ports, as a chamber tries it: crawl and index only."""
    return subprocess.run(
        [sys.executable, "-m", "emplettes.cli", "demo", "--no-serve", "--sites-port", "0"],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )


def registry_entry(source_id: str, url: str, town: str = "Tours", postcode: str = "37000") -> str:
    """A registry entry (for :func:`crawl_registry`) without ``kind``: the crawl detects it."""
    return (
        f"  - id: {source_id}\n    name: {source_id.title()}\n    url: {url}\n    town: {town}\n"
        f"    postcode: '{postcode}'\n    allow_private: true"
    )
