"""Requests made outside Scrapy (kind detection, `check`, `sources add`) end within
DOWNLOAD_TIMEOUT, body included: a shop dripping its answer one byte per second fails as
its own source's error and never holds back another shop.

Real servers on 127.0.0.1 (a raw socket server that drips, the farm's good shop), the real
commands in subprocesses. Subprocess timeouts guard against the hang these tests exist
for; nothing here measures time.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile_sites import ShopFarm

from crawler.fetch import DeadlinePassed, FetchError, TooLarge, fetch_url
from crawler.netguard import RefusedAddress


class DrippingShop:
    """Answers every request one byte per second, forever: in its headers (``headers``), in
    its body (``body``), or in a gzip body (``gzip``)."""

    def __init__(self, mode: str):
        self.mode = mode
        self.stopping = threading.Event()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._drip, args=(client,), daemon=True).start()

    def _drip(self, client: socket.socket) -> None:
        with contextlib.suppress(OSError), client:
            client.recv(65536)
            if self.mode == "headers":
                payload = b"HTTP/1.1 200 OK\r\n" + b"X-Lent: " + b"a" * 100_000
            else:
                encoding = b"Content-Encoding: gzip\r\n" if self.mode == "gzip" else b""
                client.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n" + encoding + b"\r\n")
                payload = gzip.compress(b"<html>" + b"x" * 100_000) if self.mode == "gzip" else b"<html>" * 100_000
            for byte in payload:
                if self.stopping.wait(1.0):
                    return
                client.sendall(bytes([byte]))

    def close(self) -> None:
        self.stopping.set()
        self.server.close()


@pytest.fixture(params=["headers", "body", "gzip"])
def dripping(request) -> Iterator[DrippingShop]:
    shop = DrippingShop(request.param)
    yield shop
    shop.close()


def test_one_request_to_a_dripping_shop_ends_at_its_deadline(dripping):
    with pytest.raises(DeadlinePassed):
        fetch_url(dripping.url, allow_private=True, timeout=2)


def test_the_address_guard_and_the_byte_cap_hold_for_every_request(tmp_path):
    with pytest.raises(RefusedAddress):
        fetch_url("http://127.0.0.1:9/", timeout=2)  # loopback, not allowed
    with pytest.raises(RefusedAddress):
        fetch_url("http://localhost:9/", timeout=2)
    with ShopFarm(1, {1: "gzip_bomb"}) as farm:
        with pytest.raises(TooLarge):
            fetch_url(farm.base_url(farm.shops[0]), allow_private=True, timeout=10, max_bytes=1_000_000)
        kept = fetch_url(farm.base_url(farm.shops[0]), allow_private=True, timeout=10, max_bytes=1000, truncate=True)
        assert kept.truncated and len(kept.body) == 1000
    with ShopFarm(1, {1: "redirect_loop"}) as farm, pytest.raises(FetchError):
        fetch_url(farm.base_url(farm.shops[0]), allow_private=True, timeout=10)
    with ShopFarm(1) as farm:
        odd = fetch_url(farm.base_url(farm.shops[0]) + "p/bougie-parfumée?prix=12,50 €", allow_private=True, timeout=10)
        assert odd.status == 404  # sent %-encoded, answered: not an error of the client
    with pytest.raises(FetchError):
        fetch_url("http://127.0.0.1:99999/", allow_private=True, timeout=2)


def emplettes(*args: str, data_dir: Path, sources: Path, timeout: float = 180) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "SOURCES_FILE": str(sources),
        "DOWNLOAD_TIMEOUT": "2",
        "CRAWL_DELAY": "0",
        "CRAWL_TIME_LIMIT": "120",
    }
    return subprocess.run(
        [sys.executable, "-m", "emplettes.cli", *args], capture_output=True, text=True, timeout=timeout, env=env
    )


def test_check_and_sources_add_give_up_on_a_dripping_shop(tmp_path):
    shop = DrippingShop("body")
    try:
        registry = tmp_path / "sources.yaml"
        registry.write_text("sources: []\n", encoding="utf-8")
        for command in (
            ["check", shop.url, "--allow-private"],
            ["check", shop.url, "--allow-private", "--kind", "website"],
            ["sources", "add", shop.url, "--allow-private", "--name", "Goutte", "--town", "Tours",
             "--postcode", "37000"],
        ):  # fmt: skip
            result = emplettes(*command, data_dir=tmp_path, sources=registry)
            assert result.returncode != 0, (command, result.stdout)
            assert "Traceback" not in result.stderr, result.stderr
        assert registry.read_text(encoding="utf-8") == "sources: []\n"  # nothing added
    finally:
        shop.close()


def test_a_dripping_shop_fails_as_its_own_error_and_the_good_shop_is_crawled(tmp_path):
    shop = DrippingShop("body")
    try:
        with ShopFarm(1) as farm:
            good = farm.shops[0]
            registry = tmp_path / "sources.yaml"
            text = farm.sources_yaml().replace("    kind: website\n", "")  # both detected
            text += (
                "  - id: goutte-a-goutte\n    name: Goutte à goutte\n"
                f'    url: {shop.url}\n    town: Tours\n    postcode: "37000"\n    allow_private: true\n'
            )
            registry.write_text(text, encoding="utf-8")
            result = emplettes("crawl", data_dir=tmp_path, sources=registry)
        assert "Traceback" not in result.stderr, result.stderr
        manifests = {
            path.parent.name: json.loads(path.read_text(encoding="utf-8"))
            for path in (tmp_path / "runs").glob("*/*.json")
        }
        assert manifests[good.id]["finish_reason"] == "finished"
        assert manifests[good.id]["products"] == good.products
        assert manifests["goutte-a-goutte"]["errors"].get("timeout", 0) >= 1
        assert manifests["goutte-a-goutte"]["products"] == 0
    finally:
        shop.close()


def test_under_the_scheduler_a_dripping_shop_never_holds_back_the_good_one(tmp_path):
    shop = DrippingShop("headers")
    data_dir = tmp_path / "data"
    registry = tmp_path / "sources.yaml"
    try:
        with ShopFarm(1) as farm:
            good = farm.shops[0]
            text = farm.sources_yaml(schedule="every 6h").replace("    kind: website\n", "")
            text += (
                "  - id: goutte-a-goutte\n    name: Goutte à goutte\n"
                f'    url: {shop.url}\n    town: Tours\n    postcode: "37000"\n    allow_private: true\n'
                '    schedule: "every 6h"\n'
            )
            registry.write_text(text, encoding="utf-8")
            env = {
                **os.environ,
                "DATA_DIR": str(data_dir),
                "SOURCES_FILE": str(registry),
                "DOWNLOAD_TIMEOUT": "2",
                "CRAWL_DELAY": "0",
                "SCHEDULE_JITTER": "0",
                "CRAWL_CONCURRENCY": "2",
                "SEARCH_BACKEND": "tantivy",
            }
            scheduler = subprocess.Popen(
                [sys.executable, "-m", "emplettes.cli", "schedule"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                deadline = time.monotonic() + 240
                while time.monotonic() < deadline and len(finished_runs(data_dir)) < 2:
                    time.sleep(0.5)
            finally:
                scheduler.terminate()
                scheduler.wait(timeout=60)
        runs = finished_runs(data_dir)
        assert runs[good.id]["finish_reason"] == "finished" and runs[good.id]["products"] == good.products
        assert runs["goutte-a-goutte"]["errors"].get("timeout", 0) >= 1
        status = subprocess.run(
            [sys.executable, "-m", "emplettes.cli", "status", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        lines = {row["source_id"]: row for row in map(json.loads, status.stdout.splitlines())}
        assert lines["goutte-a-goutte"]["last_run"]["errors"].get("timeout", 0) >= 1  # not "never"
        assert lines[good.id]["last_run"]["index_outcome"] == "complete"
    finally:
        shop.close()


def finished_runs(data_dir: Path) -> dict[str, dict]:
    runs = {}
    for path in (data_dir / "runs").glob("*/*.json"):
        with contextlib.suppress(OSError, ValueError):
            manifest = json.loads(path.read_text(encoding="utf-8"))
            if manifest.get("finished_at"):
                runs[path.parent.name] = manifest
    return runs
