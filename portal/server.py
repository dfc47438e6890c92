"""Serving the portal with waitress, a production WSGI server in pure Python."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

from waitress import create_server, wasyncore


def make_server(app, host: str = "127.0.0.1", port: int = 8000, *, threads: int = 8):
    """A waitress server bound now (``port=0`` picks a free port: see ``server.effective_port``)."""
    return create_server(app, host=host, port=port, threads=threads, ident="emplettes")


def serve(app, host: str = "127.0.0.1", port: int = 8000, *, threads: int = 8) -> None:
    """Serve until interrupted (the caller announces the URL)."""
    server = make_server(app, host, port, threads=threads)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


@contextmanager
def serving_in_thread(app, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run the portal in a background thread; yields its base URL. For tests and the demo."""
    server = make_server(app, host, port, threads=4)
    thread = threading.Thread(target=server.run, name="emplettes-portal", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.effective_port}"
    finally:
        server.close()  # stop listening, then drop open keep-alive connections
        server.task_dispatcher.shutdown(timeout=5)
        wasyncore.close_all(server._map)
        thread.join(timeout=5)
