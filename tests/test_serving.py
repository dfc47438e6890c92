"""The production servers really serve: `emplettes serve` (waitress, or gunicorn with
--workers), the documented gunicorn command on portal.wsgi, and the benchmark's parts."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def start(command: list[str], portal_config, port: int) -> subprocess.Popen:
    env = {**os.environ, "DATA_DIR": str(portal_config.data_dir), "API_RATE_LIMIT": "off"}
    proc = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read().decode()
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                return proc
        except requests.ConnectionError:
            time.sleep(0.2)
    proc.kill()
    pytest.fail("server did not answer in 30 s")


def stop(proc: subprocess.Popen) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise


def check_serves(base: str) -> None:
    page = requests.get(base + "/recherche?q=bougie", timeout=10)
    assert page.status_code == 200 and "Bougie parfumée vanille" in page.text
    assert page.headers["X-Frame-Options"] == "DENY"
    api = requests.get(base + "/api/search?q=livre", timeout=10)
    assert api.status_code == 200 and api.json()["total"] >= 1


@pytest.mark.skipif(sys.platform == "win32", reason="gunicorn is for Unix")
def test_serve_with_workers_runs_gunicorn_worker_processes(portal_config):
    port = free_port()
    proc = start(
        [sys.executable, "-m", "emplettes.cli", "serve", "--port", str(port), "--workers", "2"], portal_config, port
    )
    try:
        check_serves(f"http://127.0.0.1:{port}")
        workers = children(proc.pid)
        assert len(workers) == 2, workers
    finally:
        assert stop(proc) == 0
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]  # the workers went with it
    assert b"gunicorn, 2 processus" in proc.stdout.read()


def test_serve_default_is_waitress_in_one_process(portal_config):
    port = free_port()
    proc = start(
        [sys.executable, "-m", "emplettes.cli", "serve", "--port", str(port), "--threads", "4"], portal_config, port
    )
    try:
        check_serves(f"http://127.0.0.1:{port}")
        assert children(proc.pid) == []
    finally:
        stop(proc)
    assert b"waitress, 4 fils" in proc.stdout.read()


@pytest.mark.skipif(sys.platform == "win32", reason="gunicorn is for Unix")
def test_documented_gunicorn_command_serves_portal_wsgi(portal_config):
    port = free_port()
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = start(
        [str(gunicorn), "--workers", "2", "--bind", f"127.0.0.1:{port}", "portal.wsgi:app"], portal_config, port
    )
    try:
        check_serves(f"http://127.0.0.1:{port}")
    finally:
        stop(proc)


def test_serve_refuses_zero_workers(portal_config):
    from emplettes.cli import main

    assert main(["serve", "--workers", "0"]) == 2


# ---------------------------------------------------------------- bench/portal.py


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_portal", ROOT / "bench" / "portal.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_portal"] = module
    spec.loader.exec_module(module)
    return module


WRK_OUTPUT = """Running 10s test @ http://127.0.0.1:8000
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     6.12ms    3.01ms  45.10ms   80.00%
    Req/Sec   650.00     50.00   700.00     70.00%
  Latency Distribution
     50%    5.50ms
     75%    7.00ms
     90%    9.80ms
     99%    1.02s
  6500 requests in 10.00s, 130.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:    650.12
Transfer/sec:     13.00MB
"""


def test_bench_reads_wrk_figures(bench):
    result = bench.parse_wrk(WRK_OUTPUT)
    assert (result.p50, result.p90, result.p99) == (5.5, 9.8, 1020.0)
    assert result.rps == 650.12 and result.requests == 6500
    assert result.errors == 4 + 3


def test_bench_urls_are_distinct_and_valid_for_the_strict_api(bench):
    import random
    from urllib.parse import parse_qsl

    from werkzeug.datastructures import MultiDict

    from portal.query import query_from_args

    shops = bench.make_shops(50, random.Random(42))
    urls = bench.bench_urls(shops, 42, 300)
    assert len(urls) == len(set(urls)) == 300
    from indexer.analysis import fold

    towns: dict = {}
    for shop in shops:  # what backend.town_points() makes of the bench's shop records
        towns.setdefault(fold(shop["town"]), (shop["town"], []))[1].append((shop["lat"], shop["lon"]))
    queries = [query_from_args(MultiDict(parse_qsl(qs)), strict=True, towns=towns) for qs in urls]
    assert sum(1 for q in queries if q.near) >= 60
    assert sum(1 for qs in urls if "near=" in qs) >= 20  # the town picker, the others "près de moi"
    assert sum(1 for q in queries if q.text) >= 150
    assert sum(1 for q in queries if q.filters) >= 100
    assert len({q.sort for q in queries}) >= 4
    assert any(q.page > 1 for q in queries)
    script = bench.lua_script("/api/search", urls)
    assert script.count('\n"/api/search') == 300
    assert script.index("miel") < script.index("radius=") or "miel" not in script  # the simplest first


def test_bench_zipf_traffic_repeats_popular_searches_and_is_seeded(bench):
    draws = bench.zipf_draws(20_000, 1.0, 10_000, seed=42)
    assert draws == bench.zipf_draws(20_000, 1.0, 10_000, seed=42)
    assert draws.count(0) > draws.count(9) > draws.count(999)  # P(rank r) ~ 1/r
    assert 0.2 < len(set(draws)) / len(draws) < 0.5  # most requests repeat an earlier search
    keys = [str(rank) for rank in draws]
    assert bench.cache_hit_ratio(keys, 2, 4096, seed=42, skip=2_000) > 0.5
    assert bench.cache_hit_ratio(keys, 2, 0, seed=42) == 0


def test_bench_cache_model_gives_no_hit_to_a_cycle_longer_than_the_cache(bench):
    """The old bench's traffic: 600 URLs in turn against 256 entries per process."""
    keys = [str(n % 600) for n in range(6000)]
    assert bench.cache_hit_ratio(keys, 1, 256, seed=1) == 0
    assert bench.cache_hit_ratio(keys, 1, 1000, seed=1) == pytest.approx(0.9)


def test_bench_facet_key_ignores_sort_and_page_as_the_backend_cache_does(bench):
    assert bench.facet_key("q=miel&town=Laval&sort=price_asc&page=3") == "q=miel&town=Laval"
    assert bench.facet_key("q=pages&sorting=x") == "q=pages&sorting=x"


def test_bench_script_sends_the_drawn_order_from_a_given_position(bench, tmp_path):
    """wrk itself runs the script against a tiny server that records the paths it gets."""
    import http.server
    import shutil
    import threading

    if not shutil.which("wrk"):
        pytest.skip("wrk not installed (apt-get install wrk)")
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            seen.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        script = tmp_path / "zipf.lua"
        script.write_text(bench.lua_script("/api/search", ["q=a", "q=b", "q=c"], [2, 0, 0, 1]))
        bench.run_wrk(f"http://127.0.0.1:{server.server_port}", script, duration=1, connections=1, threads=1, start=1)
    finally:
        server.shutdown()
    assert seen[:5] == ["/api/search?q=a", "/api/search?q=a", "/api/search?q=b", "/api/search?q=c", "/api/search?q=a"]


# ---------------------------------------------------------------- compression


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip, deflate, br", True),
        ("br;q=1.0, gzip;q=0.8", True),
        ("GZIP", True),
        ("*", True),
        ("gzip;q=0", False),
        ("identity", False),
        ("", False),
        (None, False),
        ("*;q=0", False),
        ("br, *;q=0.1", True),
        ("gzip;q=0, *", False),
        ("gzip;q=abc", False),
    ],
)
def test_accepts_gzip(header, expected):
    from portal.compression import accepts_gzip

    assert accepts_gzip(header) is expected


@pytest.mark.parametrize("path", ["/recherche?q=bougie", "/api/search?q=bougie"])
def test_pages_and_json_are_gzipped_for_browsers_that_accept_it(portal_url, path):
    import gzip

    compressed = requests.get(
        portal_url + path, headers={"Accept-Encoding": "gzip, deflate, br"}, stream=True, timeout=10
    )
    body = gzip.decompress(compressed.raw.read())
    plain = requests.get(portal_url + path, headers={"Accept-Encoding": "identity"}, timeout=10)
    assert compressed.headers["Content-Encoding"] == "gzip"
    assert int(compressed.headers["Content-Length"]) < len(body) / 3
    assert "Content-Encoding" not in plain.headers
    assert body == plain.content
    assert "Accept-Encoding" in compressed.headers["Vary"] and "Accept-Encoding" in plain.headers["Vary"]


def test_small_responses_stay_plain(portal_url):
    response = requests.get(portal_url + "/healthz", headers={"Accept-Encoding": "gzip"}, stream=True, timeout=10)
    assert "Content-Encoding" not in response.headers


def test_bench_counts_the_cpu_of_a_process_and_its_children(bench):
    before = bench.process_tree_cpu(os.getpid())
    code = "sum(i * i for i in range(3_000_000)); print('done', flush=True); import time; time.sleep(5)"
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    try:
        assert child.stdout.readline() == b"done\n"  # it has worked, and is still our child
        assert bench.process_tree_cpu(os.getpid()) - before >= 0.05
    finally:
        child.kill()
        child.wait()
