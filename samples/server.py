"""Serve the sample shops, each on its own loopback host (127.0.1.N), in background threads.

Linux routes all of 127.0.0.0/8 to ``lo``, so binding 127.0.1.N needs no configuration.
Every shop listens on the same port; ``port=0`` picks a free one on the first host and
reuses it for the others (retrying with a fresh port if another process holds it on one
of them). Each server is werkzeug's threaded WSGI server; every request is recorded in
``SampleSites.requests`` so tests can check, e.g., that robots.txt was obeyed.
"""

from __future__ import annotations

import errno
import socket
import threading
from dataclasses import dataclass

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from samples.catalogue import ShopSpec
from samples.site import Site
from samples.themes import theme_for

DEFAULT_PORT = 8701
DEFAULT_HOST_PREFIX = "127.0.1."


@dataclass(frozen=True)
class LoggedRequest:
    shop_id: str
    method: str
    path: str  # with its query string
    status: int
    user_agent: str


class ShopApp:
    """The WSGI application of one shop: looks the path up in the rendered ``Site``."""

    def __init__(self, shop: ShopSpec, log: list[LoggedRequest], lock: threading.Lock):
        self.shop, self.site, self._log, self._lock = shop, None, log, lock

    def render(self, base_url: str) -> None:
        self.site: Site | None = theme_for(self.shop, base_url).build()

    def __call__(self, environ, start_response):
        request = Request(environ)
        page = self.site.lookup(request.path, request.args)
        response = Response(page.body, status=page.status, content_type=page.content_type)
        if page.location:
            response.headers["Location"] = page.location
        elif page.status == 200:
            response.headers["Last-Modified"] = "Sat, 01 Nov 2025 08:00:00 GMT"
            response.add_etag()
            response.make_conditional(request)  # 304 for the crawler's conditional requests
            response.headers.pop("Date", None)  # the server sends its own
        full_path = request.full_path.rstrip("?")
        with self._lock:
            self._log.append(
                LoggedRequest(self.shop.id, request.method, full_path, response.status_code, request.user_agent.string)
            )
        return response(environ, start_response)


def _listening_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock  # werkzeug duplicates the descriptor; the caller closes this one


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:  # the request log lives in SampleSites.requests
        pass


class SampleSites:
    """The sample shops on ``host_prefix + N`` (N = the shop's number), all on one port.

    >>> with SampleSites(port=0) as sites:
    ...     sites.base_urls["brulerie-des-halles"]    # 'http://127.0.1.1:41234/'
    """

    def __init__(
        self,
        port: int = DEFAULT_PORT,
        host_prefix: str = DEFAULT_HOST_PREFIX,
        shops: list[str] | None = None,
        *,
        quiet: bool = True,
        attempts: int = 5,
    ):
        from samples import SHOPS

        known = {s.id: s for s in SHOPS}
        unknown = [s for s in shops or () if s not in known]
        if unknown:
            raise KeyError(f"unknown sample shop(s): {', '.join(unknown)}")
        self.shops: list[ShopSpec] = [s for s in SHOPS if shops is None or s.id in shops]
        self.requested_port = port
        self.host_prefix = host_prefix
        self.quiet = quiet
        self.attempts = attempts
        self.port: int | None = None
        self.base_urls: dict[str, str] = {}
        self.requests: list[LoggedRequest] = []
        self._lock = threading.Lock()
        self._servers: list[tuple[BaseWSGIServer, threading.Thread]] = []

    def host(self, shop: ShopSpec) -> str:
        return f"{self.host_prefix}{shop.number}"

    def _bind_all(self, port: int) -> list[tuple[ShopSpec, BaseWSGIServer, ShopApp]]:
        bound: list[tuple[ShopSpec, BaseWSGIServer, ShopApp]] = []
        try:
            for shop in self.shops:
                app = ShopApp(shop, self.requests, self._lock)
                handler = _QuietHandler if self.quiet else WSGIRequestHandler
                # Bind the socket ourselves: werkzeug exits the process when it cannot bind.
                with _listening_socket(self.host(shop), port) as sock:
                    server = make_server(
                        self.host(shop),
                        sock.getsockname()[1],
                        app,
                        threaded=True,
                        request_handler=handler,
                        fd=sock.fileno(),
                    )
                port = server.port  # fixed by the first bind when port was 0
                bound.append((shop, server, app))
        except BaseException:
            for _, server, _ in bound:
                server.server_close()
            raise
        return bound

    def start(self) -> SampleSites:
        if self._servers:
            return self
        for attempt in range(self.attempts):
            try:
                bound = self._bind_all(self.requested_port)
                break
            except OSError as exc:
                # With a free port chosen by the first host, another process may hold it on a
                # later host: pick again. A fixed port that is taken is the caller's problem.
                if self.requested_port != 0 or exc.errno != errno.EADDRINUSE or attempt == self.attempts - 1:
                    raise
        self.port = bound[0][1].port if bound else self.requested_port
        for shop, server, app in bound:
            base_url = f"http://{self.host(shop)}:{self.port}/"
            app.render(base_url)
            self.base_urls[shop.id] = base_url
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True, name=f"sample-{shop.id}"
            )
            thread.start()
            self._servers.append((server, thread))
        return self

    def stop(self) -> None:
        for server, thread in self._servers:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
        self._servers.clear()

    def requests_to(self, shop_id: str) -> list[LoggedRequest]:
        with self._lock:
            return [r for r in self.requests if r.shop_id == shop_id]

    def __enter__(self) -> SampleSites:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
