"""A farm of small shop sites on loopback, some of them hostile, for resilience tests and the bench.

Each shop listens on its own host ``127.0.2.N`` (Linux routes 127/8 to ``lo``), all on
one port. A good shop is what the website spider expects: robots.txt naming a sitemap,
a home page with LocalBusiness JSON-LD, one page per product with Product JSON-LD. A
shop's ``mode`` makes it misbehave on its home and product pages (robots.txt and the
sitemap stay sane, so the crawler reaches the hostile pages):

==================  ====================================================  ==================
mode                what the shop does                                    expected error
==================  ====================================================  ==================
``http500``         answers 500                                           ``http_500``
``timeout``         answers after ``slow`` seconds (> DOWNLOAD_TIMEOUT)    ``timeout``
``redirect_loop``   redirects forever to a new URL                        ``redirect_loop``
``huge``            a 50 MB page (Content-Length announced)               ``too_large``
``gzip_bomb``       64 KB of gzip inflating to 64 MB                      ``decompression_too_large``
``invalid_html``    200 text/html with binary junk, broken JSON-LD        ``unparseable_html``
``http429``         429 with Retry-After: 1, forever                      ``http_429``
``http503_long``    503 with Retry-After: 3600 (not waited for)           ``http_503``
``drop``            closes the connection without answering               ``connection``
``http404``         the whole shop is gone                                ``http_404``
==================  ====================================================  ==================

Good shops can also be made to fail some product pages (``failing``, a set of product
numbers answering 500) or to answer slowly (``delay``), at any time while serving.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import socket
import threading
import time
from dataclasses import dataclass, field

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

HOSTILE_MODES = (
    "http500",
    "timeout",
    "redirect_loop",
    "huge",
    "gzip_bomb",
    "invalid_html",
    "http429",
    "http503_long",
    "drop",
    "http404",
)
EXPECTED_ERROR = {
    "http500": "http_500",
    "timeout": "timeout",
    "redirect_loop": "redirect_loop",
    "huge": "too_large",
    "gzip_bomb": "decompression_too_large",
    "invalid_html": "unparseable_html",
    "http429": "http_429",
    "http503_long": "http_503",
    "drop": "connection",
    "http404": "http_404",
}
HUGE = 50 * 1024 * 1024
_BOMB: bytes | None = None


def gzip_bomb() -> bytes:
    global _BOMB
    if _BOMB is None:
        _BOMB = gzip.compress(b"\0" * (64 * 1024 * 1024), compresslevel=9)
    return _BOMB


@dataclass
class FarmShop:
    number: int
    products: int = 3
    mode: str = "good"
    failing: set[int] = field(default_factory=set)  # product numbers answering 500
    delay: float = 0.0  # seconds before each product page
    slow: float = 6.0  # the "timeout" mode's wait
    revision: int = 1  # bump to change every price (a new run must see new data)
    hits: int = 0
    log: list[tuple[float, str, int]] = field(default_factory=list)  # (monotonic time, path, status)

    @property
    def id(self) -> str:
        return (
            f"farm-{self.number:03d}"
            if self.mode == "good"
            else f"farm-{self.number:03d}-{self.mode.replace('_', '-')}"
        )

    def product_name(self, n: int) -> str:
        return f"Produit {n} de la boutique {self.number}"

    def price(self, n: int) -> str:
        return f"{self.number + n + self.revision / 100:.2f}"


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:
        pass

    def log_error(self, *args, **kwargs) -> None:
        pass


class ShopFarm:
    """``count`` shops on 127.0.2.1.., the listed ones misbehaving (``modes``: number -> mode)."""

    def __init__(
        self,
        count: int,
        modes: dict[int, str] | None = None,
        *,
        products: int = 3,
        host_prefix: str = "127.0.2.",
        slow: float = 6.0,
    ):
        modes = modes or {}
        self.shops = [
            FarmShop(
                n, products=products if modes.get(n, "good") == "good" else 2, mode=modes.get(n, "good"), slow=slow
            )
            for n in range(1, count + 1)
        ]
        self.host_prefix = host_prefix
        self.port: int | None = None
        self._servers: list = []

    def host(self, shop: FarmShop) -> str:
        return f"{self.host_prefix}{shop.number}"

    def base_url(self, shop: FarmShop) -> str:
        return f"http://{self.host(shop)}:{self.port}/"

    def shop(self, shop_id: str) -> FarmShop:
        return next(s for s in self.shops if s.id == shop_id)

    @property
    def good(self) -> list[FarmShop]:
        return [s for s in self.shops if s.mode == "good"]

    @property
    def hostile(self) -> list[FarmShop]:
        return [s for s in self.shops if s.mode != "good"]

    # -- serving ---------------------------------------------------------------------------

    def start(self) -> ShopFarm:
        for attempt in range(5):
            try:
                self._bind_all()
                break
            except OSError:
                self.stop()
                if attempt == 4:
                    raise
        return self

    def _bind_all(self) -> None:
        port = 0
        for shop in self.shops:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((self.host(shop), port))
                sock.listen(128)
                server = make_server(
                    self.host(shop),
                    sock.getsockname()[1],
                    self._app(shop),
                    threaded=True,
                    request_handler=_Quiet,
                    fd=sock.fileno(),
                )
            finally:
                sock.close()
            port = server.port
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
            thread.start()
            self._servers.append((server, thread))
        self.port = port

    def stop(self) -> None:
        for server, thread in self._servers:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
        self._servers.clear()

    def __enter__(self) -> ShopFarm:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- registry --------------------------------------------------------------------------

    def sources_yaml(self, shops: list[FarmShop] | None = None, *, schedule: str | None = None) -> str:
        lines = ["defaults:", "  schedule: daily", "sources:"]
        for shop in shops if shops is not None else self.shops:
            lines += [
                f"  - id: {shop.id}",
                f"    name: Boutique {shop.number}",
                f"    url: {self.base_url(shop)}",
                "    kind: website",
                "    town: Tours",
                '    postcode: "37000"',
                "    allow_private: true",
            ]
            if schedule:
                lines.append(f'    schedule: "{schedule}"')
        return "\n".join(lines) + "\n"

    def expected_urls(self, shop: FarmShop) -> set[str]:
        return {f"{self.base_url(shop)}p/{n}" for n in range(1, shop.products + 1)}

    # -- the application -------------------------------------------------------------------

    def _app(self, shop: FarmShop):
        farm = self

        def app(environ, start_response):
            request = Request(environ)
            shop.hits += 1
            base = farm.base_url(shop)
            path = request.path
            if path == "/robots.txt":
                body = f"User-agent: *\nDisallow: /compte/\nSitemap: {base}sitemap.xml\n"
                return Response(body, content_type="text/plain")(environ, start_response)
            if path == "/sitemap.xml":
                urls = "".join(f"<url><loc>{base}p/{n}</loc></url>" for n in range(1, shop.products + 1))
                body = (
                    f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
                )
                return Response(body, content_type="application/xml")(environ, start_response)
            if shop.mode != "good" and (path == "/" or path.startswith("/p/")):
                return farm._misbehave(shop, request, environ, start_response)
            if path == "/":
                return Response(_home(shop, base), content_type="text/html; charset=utf-8")(environ, start_response)
            if path.startswith("/p/") and path[3:].isdigit() and 1 <= int(path[3:]) <= shop.products:
                n = int(path[3:])
                if shop.delay:
                    time.sleep(shop.delay)
                if n in shop.failing:
                    shop.log.append((time.monotonic(), path, 500))
                    return Response("erreur", status=500)(environ, start_response)
                return Response(_product(shop, base, n), content_type="text/html; charset=utf-8")(
                    environ, start_response
                )
            return Response("introuvable", status=404)(environ, start_response)

        return app

    def _misbehave(self, shop: FarmShop, request: Request, environ, start_response):
        mode = shop.mode
        if mode == "redirect_file":  # to a non-HTTP scheme
            response = Response("", status=302)
            response.headers["Location"] = "file:///etc/passwd"
            return response(environ, start_response)
        if mode == "retry_after_once":  # each page: 503 + Retry-After: 2 the first time, then fine
            if not any(path == request.path and status == 503 for _, path, status in shop.log):
                shop.log.append((time.monotonic(), request.path, 503))
                response = Response("maintenance", status=503)
                response.headers["Retry-After"] = "2"
                return response(environ, start_response)
            shop.log.append((time.monotonic(), request.path, 200))
            base = self.base_url(shop)
            page = _home(shop, base) if request.path == "/" else _product(shop, base, int(request.path[3:]))
            return Response(page, content_type="text/html; charset=utf-8")(environ, start_response)
        if mode == "http500":
            return Response("erreur interne", status=500)(environ, start_response)
        if mode == "http404":
            return Response("introuvable", status=404)(environ, start_response)
        if mode == "timeout":
            time.sleep(shop.slow)
            return Response("trop tard", content_type="text/html")(environ, start_response)
        if mode == "redirect_loop":
            hop = int(request.args.get("hop", "0")) + 1
            response = Response("", status=302)
            response.headers["Location"] = f"{request.base_url}?hop={hop}"
            return response(environ, start_response)
        if mode == "huge":
            chunk = b"<p>" + b"x" * (1024 * 1024 - 7) + b"</p>\n"

            def body():
                for _ in range(HUGE // len(chunk)):
                    yield chunk

            start_response(
                "200 OK", [("Content-Type", "text/html"), ("Content-Length", str(HUGE // len(chunk) * len(chunk)))]
            )
            return body()
        if mode == "gzip_bomb":
            bomb = gzip_bomb()
            start_response(
                "200 OK",
                [("Content-Type", "text/html"), ("Content-Encoding", "gzip"), ("Content-Length", str(len(bomb)))],
            )
            return [bomb]
        if mode == "invalid_html":
            junk = (
                b'\x00\xff\xfe<html><head><script type=\'application/ld+json\'>{"@type": "Product", "name": '
                b'"Cass\xe9", "offers": {"price": </script><<<>>><div <div <table></p></html' + bytes(range(256)) * 20
            )
            start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
            return [junk]
        if mode in ("http429", "http503_long"):
            status, wait = (429, "1") if mode == "http429" else (503, "3600")
            response = Response("plus tard", status=status)
            response.headers["Retry-After"] = wait
            return response(environ, start_response)
        if mode == "drop":
            sock = environ.get("werkzeug.socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            start_response("200 OK", [("Content-Type", "text/html")])
            return [b""]
        raise ValueError(mode)


def _home(shop: FarmShop, base: str) -> str:
    data = {
        "@context": "https://schema.org",
        "@type": "Store",
        "name": f"Boutique {shop.number}",
        "url": base,
        "address": {"@type": "PostalAddress", "addressLocality": "Tours", "postalCode": "37000"},
    }
    links = "".join(f'<li><a href="/p/{n}">{shop.product_name(n)}</a></li>' for n in range(1, shop.products + 1))
    return (
        f'<!doctype html><html lang="fr"><head><title>Boutique {shop.number}</title>'
        f'<script type="application/ld+json">{json.dumps(data)}</script></head>'
        f"<body><h1>Boutique {shop.number}</h1><ul>{links}</ul></body></html>"
    )


def _product(shop: FarmShop, base: str, n: int) -> str:
    data = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": shop.product_name(n),
        "sku": f"S{shop.number}-{n}",
        "description": f"Un bel article numéro {n}.",
        "url": f"{base}p/{n}",
        "offers": {
            "@type": "Offer",
            "price": shop.price(n),
            "priceCurrency": "EUR",
            "availability": "https://schema.org/InStock",
            "url": f"{base}p/{n}",
        },
    }
    return (
        f'<!doctype html><html lang="fr"><head><title>{shop.product_name(n)}</title>'
        f'<link rel="canonical" href="{base}p/{n}">'
        f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script></head>'
        f"<body><h1>{shop.product_name(n)}</h1><p>{shop.price(n)} €</p></body></html>"
    )
