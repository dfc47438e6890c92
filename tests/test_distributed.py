"""Distributed crawling: two crawl processes share one shop's queue in a real Redis.

Starts Debian's ``redis-server`` on 127.0.0.1 (skipped, with the reason, when the binary
or the ``[distributed]`` extra is absent: CI needs neither). Two ``emplettes crawl``
workers, each with its own DATA_DIR as two machines would have, crawl the same shop in
the same round: between them they read every product page, and no page is fetched twice
(robots.txt excepted: Scrapy's robots.txt middleware reads it once per process).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from hostile_sites import ShopFarm

pytestmark = [pytest.mark.redis, pytest.mark.e2e]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def redis_url(tmp_path):
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (Debian: apt-get install redis-server)")
    pytest.importorskip("scrapy_redis", reason="scrapy-redis is not installed (pip install 'emplettes[distributed]')")
    port = free_port()
    server = subprocess.Popen(
        [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)


class CountingFarm(ShopFarm):
    """The farm, counting every request by path (what each shop was asked, in order)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.requests: Counter[str] = Counter()

    def _app(self, shop):
        app = super()._app(shop)

        def counting(environ, start_response):
            self.requests[environ.get("PATH_INFO", "")] += 1
            return app(environ, start_response)

        return counting


def products_in(data_dir: Path, source_id: str) -> tuple[set[str], dict]:
    (run_file,) = (data_dir / "runs" / source_id).glob("*.jsonl")
    records = [json.loads(line) for line in run_file.read_text().splitlines() if line.strip()]
    manifest = json.loads(run_file.with_suffix(".json").read_text())
    return {r["url"] for r in records if r.get("type") == "product"}, manifest


def test_two_workers_share_one_shops_queue_without_fetching_a_page_twice(tmp_path, redis_url):
    with CountingFarm(1, products=60) as farm:
        shop = farm.shops[0]
        shop.delay = 0.15  # slow enough that both workers are up while pages remain
        (tmp_path / "sources.yaml").write_text(farm.sources_yaml())
        workers = []
        for name in ("worker1", "worker2"):
            env = {
                **os.environ,
                "DATA_DIR": str(tmp_path / name),
                "SOURCES_FILE": str(tmp_path / "sources.yaml"),
                "CRAWL_DELAY": "0",
                "REDIS_URL": redis_url,
                "CRAWL_ROUND": "test-round",
            }
            workers.append(
                subprocess.Popen(
                    [sys.executable, "-m", "emplettes.cli", "crawl"],
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
            )
        outputs = [worker.communicate(timeout=180)[0] for worker in workers]
        assert [w.returncode for w in workers] == [0, 0], outputs

        # robots.txt: once per worker by Scrapy's robots.txt middleware (outside the scheduler),
        # once through the shared queue where the spider reads its Sitemap: lines. Every other page once.
        expected = Counter({"/robots.txt": 2 + 1, "/sitemap.xml": 1, "/": 1, **{f"/p/{n}": 1 for n in range(1, 61)}})
        assert farm.requests == expected, farm.requests - expected

        one, manifest_one = products_in(tmp_path / "worker1", shop.id)
        two, manifest_two = products_in(tmp_path / "worker2", shop.id)
        assert one and two, "both workers took pages from the shared queue"
        assert not one & two and one | two == farm.expected_urls(shop)
        assert manifest_one["shared_queue"] == manifest_two["shared_queue"] == f"emplettes:test-round:{shop.id}"

    # Each worker's run holds part of the shop: indexed as additions, never sweeping.
    from indexer.load import PARTIAL, LoadReport, _sweep_decision
    from indexer.runs import run_info

    info = run_info(next((tmp_path / "worker1" / "runs" / shop.id).glob("*.jsonl")))
    sweep, outcome, why = _sweep_decision(info, LoadReport(path=info.path, source_id=shop.id, run_id=info.run_id), 0.2)
    assert (sweep, outcome) == (False, PARTIAL) and "collecte partagée" in why
