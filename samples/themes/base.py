"""The base theme: what every shop website has, and the hooks platforms override."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from samples.catalogue import ProductSpec, ShopSpec, slugify
from samples.images import placeholder_png
from samples.markup import AVAILABILITY_LABEL, SCHEMA_AVAILABILITY, euros, hours_in_french, json_ld, local_business
from samples.site import Page, Site

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)

HTML = "text/html; charset=utf-8"
XML = "application/xml; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
PNG = "image/png"


def _price(amount: Decimal) -> str:
    return f"{amount:.2f}"


class Theme:
    """A plain shop website; subclasses imitate one platform each."""

    style = "base"
    charset = "utf-8"
    base_href: str | None = None
    schema = "https://schema.org/"
    product_template = "product.html"
    info_paths = {"about": "/a-propos", "contact": "/contact", "legal": "/mentions-legales"}
    all_products_path: str | None = None  # a listing of the whole catalogue, when the platform has one
    account_links: list[tuple[str, str]] = []  # header links (cart, account): robots.txt often disallows them

    def __init__(self, shop: ShopSpec, base_url: str):
        self.shop = shop
        self.base = base_url.rstrip("/")

    # ---- URL layout (site-absolute paths) ------------------------------------------

    def product_path(self, product: ProductSpec) -> str:
        return f"/produits/{product.slug}"

    def category_path(self, category: str, page: int = 1) -> str:
        path = f"/rayons/{slugify(category)}"
        return path if page == 1 else f"{path}?page={page}"

    def image_path(self, product: ProductSpec) -> str:
        return f"/images/{product.slug}.png"

    def logo_path(self) -> str:
        return "/images/logo.png"

    def product_link(self, product: ProductSpec, where: str) -> str:
        """The href a listing or the home page uses for a product (``where``: home, listing)."""
        return self.href(self.product_path(product))

    def cart_link(self, product: ProductSpec) -> str | None:
        return None

    # ---- addresses -----------------------------------------------------------------

    def url(self, path: str) -> str:
        return self.base + path

    def href(self, path: str) -> str:
        return path

    def canonical(self, product: ProductSpec) -> str:
        return self.url(self.product_path(product))

    def image_url(self, product: ProductSpec) -> str:
        return self.url(self.image_path(product))

    # ---- documents -----------------------------------------------------------------

    def robots(self) -> str | None:
        return "User-agent: *\nDisallow:\n"

    def sitemaps(self) -> dict[str, str]:
        return {}

    def product_markup(self, product: ProductSpec) -> dict:
        """Template variables declaring the product: ``jsonld`` blocks, ``meta`` (OpenGraph), ``md``…"""
        return {}

    def listing_markup(self, category: str, products: list[ProductSpec]) -> dict:
        return {}

    def shop_node(self) -> dict | None:
        """The shop's schema.org node on its home and contact pages (None: not declared)."""
        if not self.shop.business_type:
            return None
        return local_business(self.shop, self.url("/"), self.url(self.logo_path()))

    def shop_jsonld(self) -> list[Markup]:
        node = self.shop_node()
        return [json_ld(node)] if node else []

    # ---- rendering -----------------------------------------------------------------

    def listed(self, category: str) -> list[ProductSpec]:
        """Products shown in a category listing (members-only ones are not)."""
        return [p for p in self.shop.products_in(category) if p.hidden != "members_only"]

    def pages_of(self, category: str) -> list[list[ProductSpec]]:
        items, size = self.listed(category), self.shop.page_size
        return [items[i : i + size] for i in range(0, len(items), size)] or [[]]

    def nav(self) -> list[tuple[str, str]]:
        return [(c, self.href(self.category_path(c))) for c in self.shop.product_categories]

    def footer(self) -> list[tuple[str, str]]:
        labels = {"about": "À propos", "contact": "Contact", "legal": "Mentions légales"}
        return [(labels[k], self.href(p)) for k, p in self.info_paths.items()]

    def render(self, template: str, **context) -> bytes:
        defaults = {
            "shop": self.shop,
            "theme": self,
            "href": self.href,
            "home": self.href("/"),
            "nav": self.nav(),
            "footer": self.footer(),
            "account_links": [(label, self.href(path)) for label, path in self.account_links],
            "charset": self.charset,
            "base_href": self.base_href,
            "jsonld": [],
            "meta": [],
            "canonical": None,
            "extra_html": "",
            "euros": euros,
        }
        html = _env.get_template(template).render({**defaults, **context})
        return html.encode(self.charset, "xmlcharrefreplace")

    def html(self, template: str, status: int = 200, **context) -> Page:
        return Page(self.render(template, **context), f"text/html; charset={self.charset}", status)

    def product_page(self, product: ProductSpec) -> Page:
        category = product.category
        context = {
            "p": product,
            "title": f"{product.name} – {self.shop.name}",
            "canonical": self.canonical(product),
            "image": self.href(self.image_path(product)),
            "breadcrumb": [("Accueil", self.href("/")), (category, self.href(self.category_path(category)))],
            "cart": self.cart_link(product),
            "availability": AVAILABILITY_LABEL[product.availability],
            "variants": [(v.label, euros(v.price), AVAILABILITY_LABEL[v.availability]) for v in product.variants],
        }
        context.update(self.product_markup(product))
        return self.html(self.product_template, **context)

    def listing_page(self, category: str, number: int, pages: list[list[ProductSpec]], path: str | None = None) -> Page:
        products = pages[number - 1]
        cards = [(p, self.product_link(p, "listing"), self.href(self.image_path(p))) for p in products]
        pagination = (
            [(n, self.href(self.category_path(category, n))) for n in range(1, len(pages) + 1)]
            if len(pages) > 1
            else []
        )
        return self.html(
            "listing.html",
            title=f"{category} – {self.shop.name}",
            heading=category,
            cards=cards,
            pagination=pagination,
            current=number,
            canonical=self.url(path or self.category_path(category, number)),
            **self.listing_markup(category, products),
        )

    def home_page(self) -> Page:
        featured = [self.shop.products_in(c)[0] for c in self.shop.product_categories]
        cards = [(p, self.product_link(p, "home"), self.href(self.image_path(p))) for p in featured if not p.hidden]
        return self.html(
            "home.html",
            title=f"{self.shop.name} – {self.shop.trade} à {self.shop.town}",
            cards=cards,
            all_products=self.href(self.all_products_path) if self.all_products_path else None,
            jsonld=self.shop_jsonld(),
        )

    def info_page(self, kind: str) -> Page:
        shop = self.shop
        titles = {"about": f"À propos de {shop.name}", "contact": "Nous trouver", "legal": "Mentions légales"}
        paragraphs = {
            "about": [
                shop.description,
                (
                    f"Vous nous trouverez {shop.address} à {shop.town}. "
                    "Tous nos produits sont aussi disponibles en boutique."
                ),
            ],
            "contact": [],
            "legal": [
                (
                    f"Éditeur du site : {shop.name}, {shop.address}, {shop.postcode} {shop.town}. "
                    f"Téléphone : {shop.telephone}."
                ),
                (
                    f"SIRET : {int(hashlib.sha1(shop.id.encode()).hexdigest(), 16) % 10**14:014d}. "
                    "Directeur de la publication : le gérant."
                ),
                "Ce site est une boutique d'exemple du projet emplettes : les produits ne sont pas à vendre.",
            ],
        }
        return self.html(
            "info.html",
            title=f"{titles[kind]} – {shop.name}",
            heading=titles[kind],
            paragraphs=paragraphs[kind],
            contact=kind == "contact",
            hours=hours_in_french(shop.hours),
            jsonld=self.shop_jsonld() if kind == "contact" else [],
        )

    def not_found_page(self) -> Page:
        return self.html(
            "info.html",
            status=404,
            title="Page introuvable",
            heading="Page introuvable",
            paragraphs=["Cette page n'existe pas ou plus."],
            contact=False,
            hours=[],
        )

    def extra_pages(self, site: Site) -> None:
        """Platform-specific documents (cart, account, aliases…)."""

    def build(self) -> Site:
        site = Site(self.not_found_page())
        site.add("/", self.home_page())
        for category in self.shop.product_categories:
            pages = self.pages_of(category)
            for number in range(1, len(pages) + 1):
                site.add(self.category_path(category, number), self.listing_page(category, number, pages))
        if self.all_products_path:
            products = [p for p in self.shop.products if p.hidden != "members_only"]
            site.add(
                self.all_products_path, self.listing_page("Tous les produits", 1, [products], self.all_products_path)
            )
        for product in self.shop.products:
            if product.hidden not in ("gone",):
                site.add(self.product_path(product), self.product_page(product))
            site.add(self.image_path(product).split("?")[0], Page(placeholder_png(product.name), PNG))
        site.add(self.logo_path(), Page(placeholder_png(self.shop.name, 96), PNG))
        for kind, path in self.info_paths.items():
            site.add(path, self.info_page(kind))
        robots = self.robots()
        if robots is not None:
            site.add("/robots.txt", Page(robots.encode(), TEXT))
        for path, xml in self.sitemaps().items():
            site.add(path, Page(xml.encode(), XML))
        self.extra_pages(site)
        return site

    # ---- small helpers for subclasses ----------------------------------------------

    def availability_url(self, availability: str, scheme: str | None = None) -> str | None:
        name = SCHEMA_AVAILABILITY.get(availability)
        return None if name is None else (scheme or self.schema) + name

    def product_entries(self) -> list[tuple[str, str | None, str | None]]:
        return [
            (self.canonical(p), self.image_url(p), p.name) for p in self.shop.products if p.hidden != "members_only"
        ]
