"""Serving the portal: waitress in one process, or gunicorn with several worker processes.

Searching is CPU work in Python and tantivy, so one process uses about one core whatever
its thread count (the GIL); ``workers > 1`` runs gunicorn, which forks that many processes,
each building its own app and opening the index on its first request. waitress stays the
single-process default: pure Python, no fork, also fine on Windows and in tests.
docs/operations.md says which shape to run; docs/benchmarks.md has the measured trade-off.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from waitress import create_server, wasyncore


def settled(app):
    """``app``, with every object built so far moved out of the garbage collector's
    reach (``gc.freeze``): the modules and templates of a portal process live as long
    as it does, and scanning them made each full collection a pause of tens of ms in
    the middle of a request. Called once per serving process, after the app is built."""
    gc.collect()
    gc.freeze()
    return app


def make_server(app, host: str = "127.0.0.1", port: int = 8000, *, threads: int = 8):
    """A waitress server bound now (``port=0`` picks a free port: see ``server.effective_port``).

    X-Forwarded-* headers are passed through untouched: :mod:`portal.proxies` alone decides
    whether to believe them (``TRUSTED_PROXIES``), under waitress and gunicorn alike.
    """
    return create_server(
        app, host=host, port=port, threads=threads, ident="emplettes", clear_untrusted_proxy_headers=False
    )


def serve(app, host: str = "127.0.0.1", port: int = 8000, *, threads: int = 8) -> None:
    """Serve until interrupted (the caller announces the URL)."""
    server = make_server(app, host, port, threads=threads)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


def gunicorn_options(host: str, port: int, workers: int, threads: int) -> dict:
    """gunicorn settings for ``workers`` processes of ``threads`` threads (sync workers for 1)."""
    return {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread" if threads > 1 else "sync",
        "preload_app": False,  # each worker opens the index itself, after the fork
        "forwarded_allow_ips": "",  # X-Forwarded-*: portal.proxies decides (TRUSTED_PROXIES)
        "proc_name": "emplettes-portal",
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "timeout": 60,
        "graceful_timeout": 10,
    }


def serve_workers(app_factory: Callable[[], object], host: str, port: int, *, workers: int, threads: int = 1) -> None:
    """Serve with gunicorn: ``workers`` processes, each calling ``app_factory()`` once."""
    from gunicorn.app.base import BaseApplication

    options = gunicorn_options(host, port, workers, threads)

    class PortalApplication(BaseApplication):
        def load_config(self):
            for name, value in options.items():
                self.cfg.set(name, value)

        def load(self):
            return settled(app_factory())

    PortalApplication().run()


@contextmanager
def serving_in_thread(app, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run the portal in a background thread; yields its base URL. For tests and the demo."""
    server = make_server(app, host, port, threads=4)
    stopping = threading.Event()

    def run() -> None:
        try:
            server.run()
        except (OSError, ValueError):  # select() on a socket closed under it while stopping: the expected end
            if not stopping.is_set():
                raise

    thread = threading.Thread(target=run, name="emplettes-portal", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.effective_port}"
    finally:
        stopping.set()
        server.task_dispatcher.shutdown(timeout=5)
        # Close the listening socket and the open keep-alive connections from the loop's own
        # thread, woken through its trigger: closed from here, the loop would sleep on in
        # poll() until its timeout (a second) before seeing that nothing is left to serve.
        try:
            server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
            thread.join(timeout=30)  # closing from here while the loop still runs would race it
        except OSError:  # its pipe already closed (seen once, EBADF): only closing from here is left
            pass
        wasyncore.close_all(server._map)  # no-op once the loop closed everything
        thread.join(timeout=5)  # its poll() sees the closed sockets and the loop ends
