"""Promises that only a running Elasticsearch server can prove (``ELASTICSEARCH_URL``).

An overloaded cluster answers 429 or 503: a small loopback proxy in front of the real
server answers that way for the first requests it sees, then forwards everything.
"""

from __future__ import annotations

import http.client
import http.server
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from backend_catalogue import ES_TEST_PREFIX, ON_ELASTICSEARCH
from crawling import run_demo
from run_files import RUN1, product, shop, write_run

from indexer.backends.base import SearchQuery
from indexer.backends.elasticsearch_backend import ElasticsearchBackend, analysis_settings, mappings

pytestmark = ON_ELASTICSEARCH
ROOT = Path(__file__).resolve().parents[1]
# The shared server's scripts, as tests/with-elasticsearch finds them.
ES_HOME = Path(os.environ.get("ES_HOME", ROOT.parent / "shared" / "elasticsearch"))


class Overloaded:
    """A forwarding proxy to the real server that answers ``status`` instead, for the
    requests ``refuse(method, path, seen)`` picks (``seen``: requests so far on that path)."""

    def __init__(self, upstream: str, refuse: Callable[[str, str, int], int | None]) -> None:
        self.upstream = urlsplit(upstream)
        self.refuse = refuse
        self.seen: dict[str, int] = {}
        self.refused: list[tuple[str, str, int]] = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def forward(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                path = urlsplit(self.path).path
                with proxy.lock:
                    seen = proxy.seen[path] = proxy.seen.get(path, 0) + 1
                    status = proxy.refuse(self.command, path, seen)
                    if status:
                        proxy.refused.append((self.command, path, status))
                if status:
                    payload = (
                        b'{"error":{"type":"es_rejected_execution_exception","reason":"busy"},"status":%d}' % status
                    )
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("X-Elastic-Product", "Elasticsearch")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                upstream = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                upstream.request(self.command, self.path, body=body or None, headers=headers)
                answer = upstream.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                upstream.close()

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = forward

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def prefix() -> str:
    """A fresh alias; tests/conftest.py deletes everything named from ES_TEST_PREFIX."""
    return f"{ES_TEST_PREFIX}-server-{uuid.uuid4().hex[:8]}"


def products(n: int) -> list[dict]:
    return [
        {
            "type": "product",
            "id": f"busy-{i}",
            "source_id": "busy",
            "run_id": "20261206T080000Z-busy",
            "shop_id": "busy-shop",
            "shop_name": "Épicerie Débordée",
            "town": "Tours",
            "name": f"Bougie parfumée n°{i}",
            "price": "12.50",
            "currency": "EUR",
            "availability": "in_stock",
            "url": f"https://epicerie.example/p/{i}",
            "first_seen": "2026-12-06T08:00:00Z",
            "last_seen": "2026-12-06T08:00:00Z",
        }
        for i in range(n)
    ]


@pytest.mark.parametrize("status", [429, 503])
def test_an_overloaded_cluster_is_retried_with_back_off_and_nothing_is_lost(prefix, status):
    # The first two bulk requests are refused whole; the client waits and sends them again.
    proxy = Overloaded(
        os.environ["ELASTICSEARCH_URL"],
        lambda method, path, seen: status if path.endswith("/_bulk") and seen <= 2 else None,
    )
    try:
        backend = ElasticsearchBackend(proxy.url, prefix=prefix, replicas=0, chunk_size=20, initial_backoff=0.05)
        assert backend.upsert(products(60)) == 60
        assert backend.last_rejected == []
        assert backend.search(SearchQuery(text="bougie", per_page=100)).total == 60
        assert [s for _, p, s in proxy.refused if p.endswith("/_bulk")] == [status, status]
        assert proxy.seen["/_bulk"] == 3 + 2  # three chunks of 20, the first sent three times
        backend.close()
    finally:
        proxy.close()


def emplettes(command: str, data_dir: Path, url: str, prefix: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "SEARCH_BACKEND": "elasticsearch",
        "ELASTICSEARCH_URL": url,
        "ELASTICSEARCH_INDEX": prefix,
    }
    return subprocess.run(
        [sys.executable, "-m", "emplettes.cli", command], capture_output=True, text=True, timeout=timeout, env=env
    )


def test_reindex_moves_the_alias_while_searches_go_on_without_an_error_or_an_empty_page(tmp_path, prefix):
    url = os.environ["ELASTICSEARCH_URL"]
    write_run(tmp_path / "runs", RUN1, [shop()] + [product(n) for n in range(300)])
    assert emplettes("index", tmp_path, url, prefix).returncode == 0
    reader = ElasticsearchBackend(url, prefix=prefix, readonly=True)
    totals: list[int] = []
    errors: list[Exception] = []
    stop = threading.Event()

    def search_on() -> None:
        while not stop.is_set():
            try:
                totals.append(reader.search(SearchQuery(text="bougie parfumée", per_page=5)).total)
            except Exception as exc:  # any error at all is what this test is about
                errors.append(exc)

    searcher = threading.Thread(target=search_on)
    searcher.start()
    try:
        for _ in range(2):  # two swaps: the second also removes the first rebuild's version
            done = emplettes("reindex", tmp_path, url, prefix)
            assert done.returncode == 0, done.stderr
    finally:
        stop.set()
        searcher.join(timeout=30)
    versions = reader.client.indices.get_alias(name=prefix)
    reader.close()
    assert errors == []
    assert len(totals) > 10 and set(totals) == {300}  # never empty, never half-built
    assert len(versions) == 1  # one version behind the alias, the older ones deleted


def free_port_pair() -> int:
    """A port N, below the ephemeral range, with N (the server), N+1 (its proxy) and N+100
    (its transport) free now."""
    while True:
        port = random.randrange(20_000, 32_000)
        try:
            with socket.socket() as a, socket.socket() as b, socket.socket() as c:
                a.bind(("127.0.0.1", port))
                b.bind(("127.0.0.1", port + 1))
                c.bind(("127.0.0.1", port + 100))
        except OSError:
            continue
        return port


@pytest.fixture
def own_server() -> Iterator[tuple[str, Path]]:
    """A server of this test's own (it gets stopped): (proxy URL, its work dir)."""
    if not (ES_HOME / "start").exists():
        pytest.skip(f"no {ES_HOME}/start to run a server of this test's own")
    # Under /tmp itself: the server runs as its own user, who must reach the directory.
    work = Path(tempfile.mkdtemp(prefix="emplettes-es-test-", dir="/tmp"))
    work.chmod(0o755)
    env = {**os.environ, "ES_WORK": str(work), "ES_HEAP": "256m"}
    for _ in range(3):  # another process may take a port between the check and the start
        port = free_port_pair()
        started = subprocess.run(
            [str(ES_HOME / "start"), "--port", str(port)], capture_output=True, text=True, timeout=240, env=env
        )
        if started.returncode == 0:
            break
        subprocess.run([str(ES_HOME / "stop"), "--port", str(port)], capture_output=True, timeout=60, env=env)
    else:
        shutil.rmtree(work, ignore_errors=True)
        pytest.fail(f"could not start a second server: {started.stderr[-2000:]}")
    try:
        yield started.stdout.strip().splitlines()[-1].split("=", 1)[1], work
    finally:
        subprocess.run([str(ES_HOME / "stop"), "--port", str(port)], capture_output=True, timeout=60, env=env)
        shutil.rmtree(work, ignore_errors=True)


SOURCES, PER_SOURCE = 6, 1_000


def test_a_server_killed_mid_index_loses_nothing_and_duplicates_nothing(tmp_path, prefix, own_server):
    url, work = own_server
    runs = tmp_path / "runs"
    for n in range(SOURCES):
        source = f"source-{n}"
        write_run(
            runs, RUN1, [shop(source)] + [product(i, source_id=source) for i in range(PER_SOURCE)], source_id=source
        )
    indexing = subprocess.Popen(
        [sys.executable, "-m", "emplettes.cli", "index"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={
            **os.environ,
            "DATA_DIR": str(tmp_path),
            "SEARCH_BACKEND": "elasticsearch",
            "ELASTICSEARCH_URL": url,
            "ELASTICSEARCH_INDEX": prefix,
        },
    )
    pid = int((work / "es.pid").read_text())
    deadline = time.monotonic() + 120
    while "✓" not in (line := indexing.stderr.readline()) and time.monotonic() < deadline:  # one run in
        assert line or indexing.poll() is None, "the index command ended before a run was loaded"
    os.kill(pid, signal.SIGKILL)  # the server, by its pid, in the middle of the next runs
    _, err = indexing.communicate(timeout=300)
    loaded = 1 + err.count("✓")
    assert indexing.returncode == 1, err
    assert "Traceback" not in err
    assert "index de recherche indisponible" in err and "fichiers de collecte gardés" in err

    port = url.rsplit(":", 1)[1]
    restarted = subprocess.run(
        [str(ES_HOME / "start"), "--port", str(int(port) - 1)],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "ES_WORK": str(work), "ES_HEAP": "256m"},
    )
    assert restarted.returncode == 0, restarted.stderr[-2000:]
    again = emplettes("index", tmp_path, url, prefix)
    assert again.returncode == 0, again.stderr
    reader = ElasticsearchBackend(url, prefix=prefix, readonly=True)
    stats = reader.stats()
    reader.close()
    assert stats["products"] == SOURCES * PER_SOURCE  # every product once: ids are the documents' _id
    assert stats["sources"] == {f"source-{n}": PER_SOURCE for n in range(SOURCES)}
    # The runs loaded before the kill are not loaded again; the others are, each once.
    assert again.stderr.count("✓") == SOURCES - loaded


def test_records_the_cluster_refuses_are_named_with_their_source_and_the_rest_is_indexed(tmp_path, prefix):
    # A cluster whose index was set up by hand, with ``brand`` mapped as a date: the
    # products that have a brand pass the record schema and are refused by the server.
    url = os.environ["ELASTICSEARCH_URL"]
    setup = ElasticsearchBackend(url, prefix=prefix)
    setup.client.indices.create(
        index=f"{prefix}-v1",
        aliases={prefix: {"is_write_index": True}},
        mappings={**mappings(), "properties": {**mappings()["properties"], "brand": {"type": "date"}}},
        settings={"number_of_replicas": 0, "analysis": analysis_settings()},
    )
    setup.close()
    products = [product(n, brand="Cire & Mèche" if n in (3, 7) else None) for n in range(20)]
    write_run(tmp_path / "runs", RUN1, [shop(), *products])
    done = emplettes("index", tmp_path, url, prefix)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "(18 produits, 1 boutique), 2 rejetées" in done.stderr
    for n in (3, 7):
        assert f"fiche cire-meche-{n} de cire-meche refusée par l'index (400 mapper_parsing_exception" in done.stderr
    reader = ElasticsearchBackend(url, prefix=prefix, readonly=True)
    assert reader.stats()["products"] == 18
    reader.close()


def test_the_demo_runs_end_to_end_on_elasticsearch(tmp_path, prefix):
    # The whole product on the server: the sample shops crawled over HTTP, indexed into
    # Elasticsearch, then found through the backend the portal opens.
    env = {
        **os.environ,
        "DATA_DIR": str(tmp_path),
        "SEARCH_BACKEND": "elasticsearch",
        "ELASTICSEARCH_INDEX": prefix,
        "SOURCES_FILE": str(ROOT / "sources.yaml"),
    }
    done = run_demo(env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stdout + done.stderr
    assert "18 collectes indexées" in done.stdout
    assert "[complète]" in done.stdout and "[partielle]" not in done.stdout
    reader = ElasticsearchBackend(os.environ["ELASTICSEARCH_URL"], prefix=prefix, readonly=True)
    stats = reader.stats()
    found = reader.search(SearchQuery(text="bougie", per_page=5))
    reader.close()
    assert stats["products"] > 200 and len(stats["sources"]) == 18
    assert found.total > 0 and all(hit["url"].startswith("http://127.0.1.") for hit in found.hits)
