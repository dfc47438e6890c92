"""Small loopback helpers for command tests: a port nobody listens on, a one-page site."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def one_page_site(html: str) -> Iterator[str]:
    """Serve ``html`` at every path of 127.0.0.1:<port> (robots.txt: 404); yields the base URL."""

    class EveryPath(dict):
        def get(self, path, default=None):
            return (404, "text/plain", "") if path == "/robots.txt" else (200, "text/html; charset=utf-8", html)

    with served_pages(EveryPath()) as url:
        yield url


@contextmanager
def served_pages(pages: dict[str, tuple[int, str, str]], asked: list[str] | None = None) -> Iterator[str]:
    """Serve ``pages`` (path without query -> status, content type, body) on 127.0.0.1:<port>,
    read at each request so a test may change them between crawls; 404 elsewhere. Every
    path asked is appended to ``asked``. Yields the base URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if asked is not None:
                asked.append(self.path)
            status, content_type, body = pages.get(self.path.split("?", 1)[0], (404, "text/html", "<h1>absente</h1>"))
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
