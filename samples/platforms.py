"""Sample shops run on hosted platforms: Shopify, WooCommerce, product feeds.

Where ``samples.themes`` imitate shop *pages*, these imitate the platforms' *APIs and
feeds*, with the payload shapes the platforms publish: Shopify's ``/products.json``
(variants, prices as strings, no currency), WooCommerce's Store API (prices in minor
units, ``X-WP-TotalPages``), Google Merchant Center feeds (RSS 2.0 ``g:``, Atom, TSV/CSV).
Each shop has ``n`` generated products whose truth is :meth:`PlatformShop.expected`, and
can be told to misbehave on given requests (``faults``): answer 429 or 500 a few times,
or send a malformed page::

    with PlatformSites([PlatformShop("shopify", n=500)]) as sites:
        sites.base_urls["shopify"]          # http://127.0.1.101:PORT/
        sites.requests                      # every (shop, path?query, status)
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from xml.sax.saxutils import escape

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from samples.images import placeholder_png
from samples.server import _listening_socket, _QuietHandler

CATEGORIES = ["Épicerie", "Bougies", "Vins", "Papeterie"]
BRANDS = ["Maison Carnot", None, "Ateliers de Loire"]


@dataclass
class PlatformShop:
    kind: str  # shopify | woocommerce | feed-rss | feed-atom | feed-tsv | feed-csv | chamber
    n: int = 20
    id: str | None = None
    currency_on_home: bool = True  # Shopify: does the home page declare the currency?
    meta_json: bool = False  # Shopify: does /meta.json answer (with the shop's currency)?
    faults: dict[str, list] = field(default_factory=dict)  # "path?query" -> [429, 500, "malformed", ...]
    edited: dict[int, datetime] = field(default_factory=dict)  # product -> when its price went up by 1.00
    removed: set[int] = field(default_factory=set)  # products the shop has withdrawn
    # Installed in a sub-folder ("/boutique/" for WordPress, a market's "/fr-fr/" for Shopify):
    # the shop, its API and its pages live under it, and its pages say so.
    prefix: str = ""
    titles: list[tuple[str, str]] = field(default_factory=list)  # (name, category): real-looking products

    def __post_init__(self):
        self.id = self.id or self.kind
        self._lock = threading.Lock()
        if self.titles:
            self.n = len(self.titles)

    # -- the catalogue ------------------------------------------------------------------------

    def item(self, i: int) -> dict:
        """Product i (1-based): two variants for every third product, the first out of stock."""
        price = Decimal(300 + 137 * i) / 100 + (1 if i in self.edited else 0)
        variants = [(price, i % 4 != 0)]
        if i % 3 == 0:
            variants = [(price + 2, False), (price, True)]  # the cheaper one in stock
        title, category = (
            self.titles[i - 1]
            if self.titles
            else (f"Produit local n°{i} — édition « Loire »", CATEGORIES[i % len(CATEGORIES)])
        )
        return {
            "handle": f"produit-{i}",
            "title": title,
            "price": price,
            "variants": variants,
            "available": any(a for _, a in variants),
            "sku": f"SKU-{i:04d}",
            "gtin": _ean13(376000000000 + i) if i % 2 else None,
            "brand": BRANDS[i % len(BRANDS)],
            "category": category,
            "description": f"Fabriqué à Tours. Lot {i} & cie.",
        }

    def modified(self, i: int) -> datetime:
        return self.edited.get(i, datetime(2025, 10, 1, 10, 0, tzinfo=UTC))

    def ids(self) -> list[int]:
        return [i for i in range(1, self.n + 1) if i not in self.removed]

    def expected(self, base_url: str) -> list[dict]:
        out = []
        for i in self.ids():
            item = self.item(i)
            out.append(
                {
                    "name": item["title"],
                    "price": f"{min(p for p, _ in item['variants']):.2f}",
                    "currency": "EUR" if (self.kind != "shopify" or self.currency_on_home or self.meta_json) else None,
                    "availability": "in_stock" if item["available"] else "out_of_stock",
                    "url": self.product_url(base_url, item),
                    "image": f"{base_url}cdn/produit-{i}.jpg"
                    if self.kind != "shopify"
                    else f"{base_url}cdn/shop/files/produit-{i}.jpg",
                    "brand": item["brand"],
                    "category": item["category"],
                    "sku": item["sku"] if self.kind != "shopify" or len(item["variants"]) == 1 else f"{item['sku']}-2",
                    "gtin": item["gtin"],
                    "description": item["description"],
                }
            )
        return out

    def product_url(self, base_url: str, item: dict) -> str:
        if self.kind == "shopify":
            return f"{base_url}products/{item['handle']}"
        return f"{base_url}produit/{item['handle']}/"

    # -- documents ------------------------------------------------------------------------------

    def home(self, base_url: str) -> tuple[bytes, dict]:
        head, headers = "", {}
        if self.kind == "shopify":
            head = (
                '<link rel="preconnect" href="https://cdn.shopify.com">\n'
                '<script>var Shopify = Shopify || {}; Shopify.shop = "boutique.myshopify.com"; '
                'Shopify.theme = {"name":"Dawn","id":1};'
                + (' Shopify.currency = {"active":"EUR","rate":"1.0"};' if self.currency_on_home else "")
                + (f' Shopify.routes = {{}}; Shopify.routes.root = "{self.prefix}";' if self.prefix else "")
                + "</script>"
            )
            headers = {"X-ShopId": "60000001", "X-Shopify-Stage": "production"}
        elif self.kind == "woocommerce":
            # WordPress names its REST root, absolute, in a header and a tag (a sub-folder install too).
            head = (
                f'<link rel="https://api.w.org/" href="{base_url}wp-json/">\n'
                f"<link rel='stylesheet' href='{base_url}wp-content/plugins/woocommerce/assets/css/woocommerce.css'>"
            )
            headers = {"Link": f'<{base_url}wp-json/>; rel="https://api.w.org/"'}
        elif self.kind.startswith("feed"):
            fmt = self.kind.split("-")[1]
            mime = {"rss": "application/rss+xml", "atom": "application/atom+xml"}.get(fmt, "text/tab-separated-values")
            # A blog's feed first, as WordPress themes write it: the product feed must still be the one read.
            head = (
                '<link rel="alternate" type="application/rss+xml" title="Le blog" href="/feed/">'
                f'<link rel="alternate" type="{mime}" title="Flux produits" href="/feeds/products.{fmt}">'
            )
        html = (
            f"<!doctype html><html lang=fr><head><meta charset=utf-8><title>Boutique {self.id}</title>{head}"
            f"</head><body><h1>Boutique {self.id}</h1>"
            + ('<nav><a href="/produits/">Tous les produits</a></nav>' if self.kind == "chamber" else "")
            + "</body></html>"
        )
        return html.encode(), headers

    def shopify_page(self, base_url: str, limit: int, page: int) -> bytes:
        start = (page - 1) * limit
        products = []
        for i in range(start + 1, min(self.n, start + limit) + 1):
            item = self.item(i)
            products.append(
                {
                    "id": 7000000000 + i,
                    "title": item["title"],
                    "handle": item["handle"],
                    "body_html": f"<p>{escape(item['description'])}</p>",
                    "published_at": "2025-10-01T10:00:00+02:00",
                    "vendor": item["brand"] or "",
                    "product_type": item["category"],
                    "tags": ["local", "tours"],
                    "variants": [
                        {
                            "id": 44000000000 + i * 10 + k,
                            "title": "Default Title" if len(item["variants"]) == 1 else f"Taille {k}",
                            "sku": item["sku"] if len(item["variants"]) == 1 else f"{item['sku']}-{k}",
                            "requires_shipping": True,
                            "available": available,
                            "price": f"{price:.2f}",
                            "compare_at_price": None,
                            "barcode": item["gtin"] or "",
                            "position": k,
                        }
                        for k, (price, available) in enumerate(item["variants"], start=1)
                    ],
                    "images": [
                        {
                            "id": 3000 + i,
                            # Shopify serves a shop's files from its own domain too; tests never leave 127.0.0.1
                            "src": f"{base_url}cdn/shop/files/produit-{i}.jpg",
                            "position": 1,
                        }
                    ],
                    "options": [{"name": "Title", "position": 1}],
                }
            )
        return json.dumps({"products": products}, ensure_ascii=False).encode()

    def woo_page(self, base_url: str, ids: list[int]) -> bytes:
        out = []
        for i in ids:
            item = self.item(i)
            low = min(p for p, _ in item["variants"])
            prices = {
                "price": str(int(low * 100)),
                "regular_price": str(int(low * 100)),
                "sale_price": str(int(low * 100)),
                "price_range": None,
                "currency_code": "EUR",
                "currency_symbol": "€",
                "currency_minor_unit": 2,
                "currency_decimal_separator": ",",
                "currency_thousand_separator": " ",
                "currency_prefix": "",
                "currency_suffix": " €",
            }
            if len(item["variants"]) > 1:
                high = max(p for p, _ in item["variants"])
                prices["price_range"] = {"min_amount": str(int(low * 100)), "max_amount": str(int(high * 100))}
            out.append(
                {
                    "id": i,
                    "name": item["title"],
                    "slug": item["handle"],
                    "type": "variable" if len(item["variants"]) > 1 else "simple",
                    "permalink": self.product_url(base_url, item),
                    "sku": item["sku"],
                    "short_description": f"<p>{escape(item['description'])}</p>",
                    "description": "<p>Long.</p>",
                    "prices": prices,
                    "is_purchasable": True,
                    "is_in_stock": item["available"],
                    "is_on_backorder": False,
                    "images": [
                        {
                            "id": 900 + i,
                            "src": f"{base_url}cdn/produit-{i}.jpg",
                            "thumbnail": f"{base_url}cdn/produit-{i}-300x300.jpg",
                            "alt": "",
                        }
                    ],
                    "categories": [
                        {"id": 15, "name": item["category"], "slug": "c", "link": f"{base_url}categorie/c/"}
                    ],
                    "brands": [{"id": 3, "name": item["brand"], "slug": "b"}] if item["brand"] else [],
                    "tags": [],
                    "attributes": [],
                    "variations": [],
                    **({"global_unique_id": item["gtin"]} if item["gtin"] else {}),
                }
            )
        return json.dumps(out, ensure_ascii=False).encode()

    def feed(self, base_url: str, fmt: str) -> tuple[bytes, str]:
        items = [self.item(i) for i in range(1, self.n + 1)]

        def price(item, comma=False):
            low = min(p for p, _ in item["variants"])
            high = max(p for p, _ in item["variants"])

            def text(d):
                return (f"{d:.2f}".replace(".", ",") if comma else f"{d:.2f}") + " EUR"

            return text(high), (text(low) if high != low else "")

        if fmt in ("rss", "atom"):
            entries = []
            for n, item in enumerate(items):
                regular, sale = price(item, comma=n % 2 == 1)
                link = self.product_url(base_url, item)
                fields = (
                    f"<g:id>{item['sku']}</g:id><g:title>{escape(item['title'])}</g:title>"
                    f"<g:description>{escape(item['description'])}</g:description>"
                    + (f"<link>{link}</link>" if fmt == "rss" else f'<link rel="alternate" href="{link}"/>')
                    + f"<g:image_link>{base_url}cdn/produit-{n + 1}.jpg</g:image_link>"
                    f"<g:price>{regular}</g:price>"
                    + (f"<g:sale_price>{sale}</g:sale_price>" if sale else "")
                    + f"<g:availability>{'in stock' if item['available'] else 'out of stock'}</g:availability>"
                    + (f"<g:brand>{escape(item['brand'])}</g:brand>" if item["brand"] else "")
                    + (f"<g:gtin>{item['gtin']}</g:gtin>" if item["gtin"] else "")
                    + f"<g:product_type>Maison &gt; {escape(item['category'])}</g:product_type>"
                    "<g:shipping><g:country>FR</g:country><g:price>4.90 EUR</g:price></g:shipping>"
                    "<g:store_code>TOURS-1</g:store_code><g:pickup_method>buy</g:pickup_method>"
                    "<g:pickup_sla>same day</g:pickup_sla>"
                )
                entries.append(f"<item>{fields}</item>" if fmt == "rss" else f"<entry>{fields}</entry>")
            if fmt == "rss":
                body = (
                    '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:g="http://base.google.com/ns/1.0">'
                    f"<channel><title>Boutique</title><link>{base_url}</link><description>Produits</description>"
                    + "".join(entries)
                    + "</channel></rss>"
                )
                return body.encode(), "application/rss+xml; charset=utf-8"
            body = (
                '<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" '
                'xmlns:g="http://base.google.com/ns/1.0"><title>Boutique</title>'
                f'<link rel="self" href="{base_url}feeds/products.atom"/><updated>2025-11-01T08:00:00Z</updated>'
                + "".join(entries)
                + "</feed>"
            )
            return body.encode(), "application/atom+xml; charset=utf-8"
        # TSV (tabs, header "g:"-prefixed) or CSV (semicolons, a BOM, a trailing delimiter on
        # every data row: the header is one column short, as spreadsheet exports often are).
        sep = "\t" if fmt == "tsv" else ";"
        header = [
            "id",
            "title",
            "description",
            "link",
            "image_link",
            "price",
            "sale_price",
            "availability",
            "brand",
            "gtin",
            "product_type",
        ]
        if fmt == "tsv":
            header = ["g:" + h if h != "id" else "ID" for h in header]
        lines = [sep.join(header)]
        for n, item in enumerate(items):
            regular, sale = price(item, comma=fmt == "csv")
            cells = [
                item["sku"],
                item["title"],
                item["description"],
                self.product_url(base_url, item),
                f"{base_url}cdn/produit-{n + 1}.jpg",
                regular,
                sale,
                "in_stock" if item["available"] else "out_of_stock",
                item["brand"] or "",
                item["gtin"] or "",
                item["category"],
            ]
            if fmt == "csv":
                cells = ['"' + c.replace('"', '""') + '"' if sep in c or '"' in c else c for c in cells]
            lines.append(sep.join(cells) + (sep if fmt == "csv" else ""))
        body = "\n".join(lines) + "\n"
        return (("\ufeff" + body).encode() if fmt == "csv" else body.encode()), "text/plain; charset=utf-8"

    # -- a chamber-run platform (kind "chamber"): many shops on one site -------------------------

    SELLERS = ["Fromagerie du Château", "Librairie Labbé", "Cycles Blésois"]
    PLATFORM_CONFIG = {
        "listings": ["/produits/"],
        "product_links": "article.carte a.lien::attr(href)",
        "next_page": "a[rel=next]::attr(href)",
        "shop_name": ".vendeur a::text",
        "shop_link": ".vendeur a::attr(href)",
        "fields": {
            "name": "h1.titre::text",
            "price": ".prix::text",
            "availability": ".stock::text",
            "image": "img.photo::attr(src)",
            "description": "//div[@class='texte']",
        },
        "shops": {"Cycles Blésois": {"town": "Vineuil", "postcode": "41350"}},
    }
    PER_LISTING = 10

    def seller(self, i: int) -> str:
        return self.SELLERS[i % len(self.SELLERS)]

    def chamber_expected(self, base_url: str) -> list[dict]:
        out = []
        for i in range(1, self.n + 1):
            item = self.item(i)
            out.append(
                {
                    "name": item["title"],
                    "price": f"{item['price']:.2f}",
                    "currency": "EUR",
                    "availability": "in_stock" if item["variants"][-1][1] else "out_of_stock",
                    "url": f"{base_url}produit/{item['handle']}/",
                    "image": f"{base_url}media/produit-{i}.jpg",
                    "shop_name": self.seller(i),
                    "description": item["description"],
                }
            )
        return out

    def chamber_page(self, base_url: str, path: str, page: int) -> bytes | None:
        if path == "/produits/":
            pages = max(1, -(-self.n // self.PER_LISTING))
            if page > pages:
                return None
            first = (page - 1) * self.PER_LISTING + 1
            cards = "".join(
                f'<article class="carte"><a class="lien" href="/produit/produit-{i}/?utm_source=vitrine">'
                f'{escape(self.item(i)["title"])}</a><span class="prix">{self.item(i)["price"]:.2f} €</span></article>'
                for i in range(first, min(self.n, first + self.PER_LISTING - 1) + 1)
            )
            following = f'<a rel="next" href="/produits/?page={page + 1}">Suivant</a>' if page < pages else ""
            return (
                f"<!doctype html><html lang=fr><head><meta charset=utf-8><title>Produits</title></head><body>"
                f"<main>{cards}</main><nav>{following}</nav></body></html>"
            ).encode()
        if path.startswith("/produit/produit-"):
            try:
                i = int(path.strip("/").rsplit("-", 1)[1])
            except ValueError:
                return None
            if not 1 <= i <= self.n:
                return None
            item = self.item(i)
            in_stock = item["variants"][-1][1]
            url = f"{base_url}produit/{item['handle']}/"
            markup = ""
            if i % 2:  # half the pages declare schema.org markup, the others only show it
                markup = (
                    '<script type="application/ld+json">'
                    + json.dumps(
                        {
                            "@context": "https://schema.org",
                            "@type": "Product",
                            "name": item["title"],
                            "url": url,
                            "image": f"{base_url}media/produit-{i}.jpg",
                            "description": item["description"],
                            "offers": {
                                "@type": "Offer",
                                "price": f"{item['price']:.2f}",
                                "priceCurrency": "EUR",
                                "availability": "https://schema.org/" + ("InStock" if in_stock else "OutOfStock"),
                            },
                        },
                        ensure_ascii=False,
                    )
                    + "</script>"
                )
            seller = self.seller(i)
            shown_price = f"{item['price']:.2f}".replace(".", ",")
            return (
                f"<!doctype html><html lang=fr><head><meta charset=utf-8><title>{escape(item['title'])}</title>"
                f"{markup}</head>"
                f'<body><h1 class="titre">{escape(item["title"])}</h1><img class="photo" src="/media/produit-{i}.jpg">'
                f'<p class="prix">{shown_price} €</p>'
                f'<p class="stock">{"En stock" if in_stock else "Épuisé"}</p>'
                f'<div class="texte">{escape(item["description"])}</div>'
                f'<p class="vendeur">Vendu par <a href="/boutique/{seller.lower().replace(" ", "-")}/">'
                f"{escape(seller)}</a></p>"
                "</body></html>"
            ).encode()
        return None

    # -- WSGI -----------------------------------------------------------------------------------

    def respond(self, request: Request, base_url: str) -> Response:
        key = request.full_path.rstrip("?")
        with self._lock:
            planned = self.faults.get(key) or self.faults.get(request.path)
            fault = planned.pop(0) if planned else None
        if isinstance(fault, int):
            return Response(
                b"Too Many Requests" if fault == 429 else b"error",
                status=fault,
                headers={"Retry-After": "0"} if fault == 429 else {},
            )
        path = request.path
        if path == "/robots.txt":
            return Response(b"User-agent: *\nDisallow: /cart\nDisallow: /checkout\n", content_type="text/plain")
        if self.prefix:  # the shop lives under its sub-folder: the rest of the host is not its own
            if not path.startswith(self.prefix):
                return Response(b"", status=302, headers={"Location": self.prefix})
            path, base_url = "/" + path[len(self.prefix) :], base_url + self.prefix.lstrip("/")
        if path == "/":
            body, headers = self.home(base_url)
            return Response(body, content_type="text/html; charset=utf-8", headers=headers)
        if self.kind == "shopify" and path == "/meta.json" and self.meta_json:
            return Response(
                json.dumps(
                    {
                        "id": 60000001,
                        "name": f"Boutique {self.id}",
                        "city": "Tours",
                        "province": None,
                        "country": "FR",
                        "currency": "EUR",
                        "domain": "boutique.example.fr",
                        "url": base_url.rstrip("/"),
                        "myshopify_domain": "boutique.myshopify.com",
                        "description": "",
                        "ships_to_countries": ["FR"],
                        "money_format": "{{amount_with_comma_separator}} €",
                        "published_collections_count": 3,
                        "published_products_count": self.n,
                    }
                ),
                content_type="application/json; charset=utf-8",
            )
        if self.kind == "shopify" and path == "/products.json":
            limit = max(1, min(250, int(request.args.get("limit", 30))))
            page = max(1, int(request.args.get("page", 1)))
            body = self.shopify_page(base_url, limit, page)
            if fault == "malformed":
                body = body[: len(body) // 2]
            return Response(body, content_type="application/json; charset=utf-8")
        if self.kind == "woocommerce" and path == "/wp-json/wc/store/v1/products":
            per_page = max(1, min(100, int(request.args.get("per_page", 10))))
            page = max(1, int(request.args.get("page", 1)))
            ids = self.ids()
            if request.args.get("after") and request.args.get("date_column") == "modified":  # WooCommerce 8+
                after = datetime.fromisoformat(request.args["after"]).replace(tzinfo=UTC)
                ids = [i for i in ids if self.modified(i) > after]
            pages = max(1, -(-len(ids) // per_page))
            if page > pages:
                return Response(
                    json.dumps(
                        {
                            "code": "rest_post_invalid_page_number",
                            "message": "Le nombre de pages demandé est plus grand que le nombre de pages disponibles.",
                            "data": {"status": 400},
                        }
                    ),
                    status=400,
                    content_type="application/json",
                )
            body = self.woo_page(base_url, ids[(page - 1) * per_page : page * per_page])
            if fault == "malformed":
                body = b"<br />\n<b>Fatal error</b>: Allowed memory size exhausted" + body[:40]
            return Response(
                body,
                content_type="application/json; charset=UTF-8",
                headers={"X-WP-Total": str(len(ids)), "X-WP-TotalPages": str(pages)},
            )
        if self.kind == "chamber":
            body = self.chamber_page(base_url, path, max(1, int(request.args.get("page", 1))))
            if body is not None:
                return Response(body, content_type="text/html; charset=utf-8")
        if self.kind.startswith("feed") and path.startswith("/feeds/products."):
            fmt = path.rsplit(".", 1)[1]
            body, ctype = self.feed(base_url, fmt)
            if fault == "malformed":
                body = body[: len(body) // 2]
            return Response(body, content_type=ctype)
        if path.startswith(("/cdn/", "/media/")) and path.endswith(".jpg"):  # the products' pictures
            return Response(placeholder_png(path), content_type="image/png")
        return Response(b"<h1>404</h1>", status=404, content_type="text/html")


def _ean13(stem: int) -> str:
    """A valid EAN-13 from a 12-digit stem (the check digit computed, not invented)."""
    digits = f"{stem:012d}"
    total = sum(int(d) * (3 if k % 2 else 1) for k, d in enumerate(digits))
    return digits + str((10 - total % 10) % 10)


class PlatformSites:
    """The platform shops, each on its own loopback host 127.0.1.(101+k), one free port."""

    def __init__(self, shops: list, host_prefix: str = "127.0.1.", first: int = 101, port: int = 0):
        self.shops = shops
        self.port = port
        self.host_prefix, self.first = host_prefix, first
        self.base_urls: dict[str, str] = {}
        self.requests: list[tuple[str, str, int]] = []
        self._servers = []
        self._lock = threading.Lock()

    def _app(self, shop: PlatformShop):
        def app(environ, start_response):
            request = Request(environ)
            response = shop.respond(request, self.base_urls[shop.id])
            with self._lock:
                self.requests.append((shop.id, request.full_path.rstrip("?"), response.status_code))
            return response(environ, start_response)

        return app

    def start(self) -> PlatformSites:
        port = self.port
        for k, shop in enumerate(self.shops):
            host = f"{self.host_prefix}{self.first + k}"
            with _listening_socket(host, port) as sock:
                server = make_server(
                    host,
                    sock.getsockname()[1],
                    self._app(shop),
                    threaded=True,
                    request_handler=_QuietHandler,
                    fd=sock.fileno(),
                )
            port = server.port
            self.base_urls[shop.id] = f"http://{host}:{port}/"
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
            thread.start()
            self._servers.append((server, thread))
        return self

    def stop(self) -> None:
        for server, thread in self._servers:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
        self._servers.clear()

    def requests_to(self, shop_id: str) -> list[tuple[str, int]]:
        with self._lock:
            return [(path, status) for sid, path, status in self.requests if sid == shop_id]

    def __enter__(self) -> PlatformSites:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
