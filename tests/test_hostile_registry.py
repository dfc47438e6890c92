"""Hostile registry files: refused quickly with FILE:LINE, never a traceback, never a frozen scheduler.

Every command runs for real (``python -m emplettes.cli``) in a subprocess; the scheduler is
a real ``emplettes schedule`` process stopped with SIGTERM. The subprocess timeouts are
guards against a hang (the failure these tests exist for), not measurements.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ENTRY = """\
sources:
  - id: epicerie
    name: Épicerie du Port
    url: http://127.0.0.1:9/
    allow_private: true
    town: Blois
    postcode: "41000"
    schedule: every 6h
"""


def laughs(indent: str, name: str = "c") -> str:
    """Nine levels of nine aliases each: 9^9 values once expanded, in under a kilobyte."""
    lines = [f"{indent}- &{name}0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"{indent}- &{name}{n} [" + ", ".join([f"*{name}{n - 1}"] * 9) + "]" for n in range(1, 9)]
    return "\n".join(lines) + "\n"


# (name, file content, line the message must name)
HOSTILE: list[tuple[str, bytes, int]] = [
    ("laughs-in-categories", (ENTRY + "    categories:\n" + laughs("      ")).encode(), 14),
    ("laughs-in-an-unknown-field", (ENTRY + "    surprise:\n" + laughs("      ", "s")).encode(), 14),
    (
        "laughs-as-a-mapping-merge",
        (ENTRY + "    geo: &g {lat: 1, lon: 2}\n" + "    x: [" + ", ".join(["*g"] * 5000) + "]\n").encode(),
        10,
    ),
    ("alias-of-itself", (ENTRY + "    categories: &me [a, *me]\n").encode(), 9),
    ("byte-0xff", ENTRY.encode().replace(b"Blois", b"Bl\xffois"), 6),
    ("nul-byte", ENTRY.encode().replace(b"Blois", b"Bl\x00ois"), 6),
    ("bom-then-0xfe", b"\xef\xbb\xbf" + ENTRY.encode().replace(b"Port", b"Po\xfert"), 3),
    ("deep-flow-nesting", (ENTRY + "    categories: " + "[" * 50_000 + "]" * 50_000 + "\n").encode(), 9),
    ("deep-flow-mappings", (ENTRY + "    geo: " + "{a: " * 50_000 + "1" + "}" * 50_000 + "\n").encode(), 9),
    ("deep-block-nesting", (ENTRY + "    categories:\n      " + "- " * 50_000 + "x\n").encode(), 10),
]


def emplettes(*args: str, data_dir: Path, sources: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATA_DIR": str(data_dir), "SOURCES_FILE": str(sources)}
    return subprocess.run(
        [sys.executable, "-m", "emplettes.cli", *args], capture_output=True, text=True, timeout=timeout, env=env
    )


@pytest.mark.parametrize(
    ("content", "line"), [(content, line) for _, content, line in HOSTILE], ids=[name for name, _, _ in HOSTILE]
)
def test_a_hostile_registry_is_refused_with_file_and_line_never_a_traceback(tmp_path, content, line):
    path = tmp_path / "sources.yaml"
    path.write_bytes(content)
    result = emplettes("sources", "validate", str(path), data_dir=tmp_path, sources=path)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and "unexpected error" not in result.stderr
    assert result.stderr.startswith(f"{path}:{line}: yaml : "), result.stderr
    # `status` reads the same file: it answers (every source seen) instead of hanging
    status = emplettes("status", data_dir=tmp_path, sources=path)
    assert status.returncode == 0 and "Traceback" not in status.stderr, status.stderr
    # `sources add` refuses to edit it, naming the same line, before any request
    add = emplettes("sources", "add", "http://127.0.0.1:9/", "--allow-private", data_dir=tmp_path, sources=path)
    assert add.returncode == 1 and f"{path}:{line}: yaml : " in add.stderr, add.stderr
    assert "unexpected error" not in add.stderr


def test_shared_anchors_within_the_bound_still_load(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text(
        "defaults:\n  services: &services [click_and_collect, delivery]\n"
        + ENTRY
        + "    services: *services\n    categories: &cats [épicerie, vrac]\n"
        + ENTRY.split("\n", 1)[1].replace("epicerie", "epicerie-2")
        + "    categories: *cats\n",
        encoding="utf-8",
    )
    result = emplettes("sources", "validate", str(path), data_dir=tmp_path, sources=path)
    assert result.returncode == 0, result.stderr


def heartbeat(data_dir: Path) -> dict:
    try:
        return json.loads((data_dir / "scheduler" / "heartbeat.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def wait_for(condition, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.2)


def test_a_running_scheduler_keeps_its_registry_through_a_billion_laughs_and_stops_on_sigterm(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text(ENTRY, encoding="utf-8")
    env = {
        **os.environ,
        "DATA_DIR": str(tmp_path / "data"),
        "SOURCES_FILE": str(path),
        "SCHEDULE_JITTER": "0",
    }
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "emplettes.cli", "schedule"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "schedule.log", "wb"),  # noqa: SIM115 (closed with the process)
    )
    data_dir = tmp_path / "data"
    try:
        wait_for(lambda: heartbeat(data_dir).get("sources") == 1, "the scheduler to load the registry")
        draft = tmp_path / "draft.yaml"
        draft.write_text(ENTRY + "    categories:\n" + laughs("      "), encoding="utf-8")
        later = time.time_ns() + 2_000_000_000
        os.utime(draft, ns=(later, later))
        os.replace(draft, path)
        wait_for(lambda: heartbeat(data_dir).get("registry_error"), "the edit to be refused")
        refused = heartbeat(data_dir)
        assert refused["registry_error"].startswith(f"{path}:14: yaml : ")
        assert refused["sources"] == 1  # the last good registry stays in force
        # still alive: its heartbeat goes on
        wait_for(lambda: heartbeat(data_dir).get("seen_at", "") > refused["seen_at"], "a later heartbeat")
        status = emplettes("status", data_dir=data_dir, sources=path)
        assert status.returncode == 0, status.stderr
        assert "fichier des sources refusé" in status.stdout and f"{path}:14" in status.stdout
        scheduler.send_signal(signal.SIGTERM)
        assert scheduler.wait(timeout=60) == 0
        assert heartbeat(data_dir)["running"] is False
    finally:
        if scheduler.poll() is None:
            scheduler.kill()
            scheduler.wait()
    log = (tmp_path / "schedule.log").read_text(encoding="utf-8", errors="replace")
    assert "fichier des sources refusé" in log and "Traceback" not in log
