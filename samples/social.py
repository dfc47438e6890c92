"""Sample social and catalogue pages (``kind: social``), served like ``samples.platforms``.

A public catalogue page (``og:type website``) links to product pages that carry only
OpenGraph ``product:*`` tags (comma decimals, ``in stock`` words, ``retailer_item_id``),
as a shop's page on a social network or a hosted catalogue does. The catalogue sets a
session cookie, and one of its links leads behind a login (302 to ``/login/``, a page
with a password field); with ``login_wall=True`` the catalogue itself is behind it.
Every ``Cookie`` header received is kept in ``cookies_seen``: a crawler must send none::

    with PlatformSites([SocialPage(n=6)]) as sites:
        sites.base_urls["social"]
"""

from __future__ import annotations

import threading
from decimal import Decimal
from xml.sax.saxutils import escape, quoteattr

from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response


class SocialPage:
    def __init__(self, n: int = 6, id: str = "social", login_wall: bool = False):
        self.n, self.id, self.login_wall = n, id, login_wall
        self.cookies_seen: list[str] = []
        self._lock = threading.Lock()

    def item(self, i: int) -> dict:
        return {
            "handle": f"creation-{i}",
            "title": f"Création n°{i} « Atelier de Loire »",
            "sku": f"AT-{i:03d}",
            "price": Decimal(1200 + 250 * i) / 100,
            "available": i % 3 != 0,
            "brand": "Atelier de Loire",
        }

    def expected(self, base_url: str) -> list[dict]:
        return [
            {
                "name": item["title"],
                "price": f"{item['price']:.2f}",
                "currency": "EUR",
                "availability": "in_stock" if item["available"] else "out_of_stock",
                "url": f"{base_url}p/{item['handle']}/",
                "image": f"{base_url}img/{item['handle']}.jpg",
                "sku": item["sku"],
                "brand": item["brand"],
            }
            for item in map(self.item, range(1, self.n + 1))
        ]

    @staticmethod
    def _page(title: str, meta: list[tuple[str, str]], body: str) -> bytes:
        tags = "".join(f"<meta property={quoteattr(k)} content={quoteattr(v)}>" for k, v in meta)
        return (
            f"<!doctype html><html lang=fr><head><meta charset=utf-8><title>{escape(title)}</title>{tags}</head>"
            f"<body>{body}</body></html>"
        ).encode()

    def catalogue(self, base_url: str) -> bytes:
        links = "".join(
            f'<li><a href="/p/{self.item(i)["handle"]}/">{escape(self.item(i)["title"])}</a></li>'
            for i in range(1, self.n + 1)
        )
        return self._page(
            "Atelier de Loire — catalogue",
            [("og:type", "website"), ("og:title", "Atelier de Loire")],
            f"<h1>Atelier de Loire</h1><ul>{links}</ul>"
            '<p><a href="/p/reserve-membres/">Réservé aux membres</a> · <a href="/login/">Se connecter</a>'
            ' · <a href="https://autre-reseau.example/atelier">Ailleurs</a></p>',
        )

    def product_page(self, base_url: str, i: int) -> bytes:
        item = self.item(i)
        price = f"{item['price']:.2f}".replace(".", ",")
        return self._page(
            item["title"],
            [
                ("og:type", "product"),
                ("og:title", item["title"]),
                ("og:url", f"{base_url}p/{item['handle']}/"),
                ("og:image", f"{base_url}img/{item['handle']}.jpg"),
                ("product:price:amount", price),
                ("product:price:currency", "EUR"),
                ("product:availability", "in stock" if item["available"] else "out of stock"),
                ("product:retailer_item_id", item["sku"]),
                ("product:brand", item["brand"]),
            ],
            f"<h1>{escape(item['title'])}</h1><p>{price} €</p><a href='/'>Catalogue</a>",
        )

    def login_page(self) -> bytes:
        return self._page(
            "Connexion",
            [("og:type", "website"), ("og:title", "Connexion")],
            '<form method="post" action="/login/"><input name="email"><input type="password" name="password">'
            "<button>Se connecter</button></form>",
        )

    def respond(self, request: Request, base_url: str) -> Response:
        if request.headers.get("Cookie"):
            with self._lock:
                self.cookies_seen.append(request.headers["Cookie"])
        path = request.path
        if path == "/robots.txt":
            return Response(b"User-agent: *\nAllow: /\n", content_type="text/plain")
        if path == "/login/":
            return Response(self.login_page(), content_type="text/html; charset=utf-8")
        if path == "/" and not self.login_wall:
            response = Response(self.catalogue(base_url), content_type="text/html; charset=utf-8")
            response.set_cookie("session", "visitor-1", httponly=True)
            return response
        if path == "/" or path == "/p/reserve-membres/":
            return redirect(f"/login/?next={path}", code=302)
        if path.startswith("/p/creation-"):
            try:
                i = int(path.removeprefix("/p/creation-").rstrip("/"))
            except ValueError:
                i = 0
            if 1 <= i <= self.n:
                return Response(self.product_page(base_url, i), content_type="text/html; charset=utf-8")
        return Response(b"<h1>404</h1>", status=404, content_type="text/html")
