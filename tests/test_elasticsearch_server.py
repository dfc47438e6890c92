"""Promises that only a running Elasticsearch server can prove (``ELASTICSEARCH_URL``).

An overloaded cluster answers 429 or 503: a small loopback proxy in front of the real
server answers that way for the first requests it sees, then forwards everything.
"""

from __future__ import annotations

import http.client
import http.server
import os
import threading
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from backend_catalogue import ES_TEST_PREFIX, ON_ELASTICSEARCH

from indexer.backends.base import SearchQuery
from indexer.backends.elasticsearch_backend import ElasticsearchBackend

pytestmark = ON_ELASTICSEARCH


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
