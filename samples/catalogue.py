"""The sample shops as data: ``catalogue.yaml`` loaded into ``ShopSpec`` / ``ProductSpec``.

Derived fields are computed here, deterministically, so the served pages and the ground
truth (``expected_products``) can never disagree: slugs from names, SKUs from the shop's
prefix, GTIN-13s with a valid check digit, the "from" price and overall availability of
products with variants.

A few products are *hidden* on purpose: a correct, polite crawler cannot reach them, so
they are left out of ``expected_products`` (``unreachable_products`` lists them):

``members_only``  linked only from ``/compte/…``, which robots.txt disallows
                  (fromagerie-du-donjon, PrestaShop-like);
``server_error``  its page answers HTTP 500 (quincaillerie-du-loir);
``gone``          withdrawn: still linked and in the sitemap, but the page answers 404
                  (quincaillerie-du-loir).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from ruamel.yaml import YAML

CATALOGUE_FILE = Path(__file__).with_name("catalogue.yaml")

AVAILABILITIES = ("in_stock", "out_of_stock", "preorder", "unknown")
HIDDEN_REASONS = {
    "members_only": "linked only from /compte/, which robots.txt disallows",
    "server_error": "its product page answers HTTP 500",
    "gone": "withdrawn: linked and listed in the sitemap, but its page answers 404",
}
STYLES = (
    "shopify",
    "woocommerce",
    "prestashop",
    "rdfa",
    "opengraph",
    "itemlist",
    "dual",
    "broken",
    "prices",
    "wix",
    "relative",
)


@dataclass(frozen=True)
class Variant:
    label: str
    price: Decimal
    availability: str


@dataclass(frozen=True)
class ProductSpec:
    slug: str
    name: str
    price: Decimal  # the selling price; with variants, the lowest ("from") price
    currency: str
    availability: str  # with variants: in_stock if any variant is, else preorder if any is, ...
    description: str
    brand: str | None
    category: str
    sku: str
    gtin: str | None
    number: int  # 1-based position in the shop, used for platform-style ids
    variants: tuple[Variant, ...] = ()
    hidden: str | None = None  # a key of HIDDEN_REASONS

    @property
    def price_text(self) -> str:
        """``"12.50"``: the ground-truth form of the price."""
        return format(self.price.quantize(Decimal("0.01")), "f")


@dataclass(frozen=True)
class ShopSpec:
    id: str
    number: int  # N of the loopback host 127.0.1.N
    name: str
    style: str
    trade: str
    town: str
    postcode: str
    address: str
    telephone: str
    lat: float
    lon: float
    hours: tuple[str, ...]  # schema.org openingHours syntax, e.g. "Tu-Sa 09:30-19:00"
    categories: tuple[str, ...]  # registry categories (sources.yaml)
    services: tuple[str, ...]
    schedule: str
    description: str
    business_type: str | None  # schema.org type declared on home/contact pages; None: no shop markup
    sitemap_in_registry: bool  # the sitemap is not in robots.txt: sources.yaml names it
    page_size: int
    options: dict  # theme options, documented on the theme (e.g. WooCommerce ``offer_price``)
    products: tuple[ProductSpec, ...] = field(repr=False)

    @property
    def product_categories(self) -> list[str]:
        """The shop's own navigation (rayons), in catalogue order."""
        return list(dict.fromkeys(p.category for p in self.products))

    def products_in(self, category: str) -> list[ProductSpec]:
        return [p for p in self.products if p.category == category]

    def product(self, slug: str) -> ProductSpec:
        return next(p for p in self.products if p.slug == slug)


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text.replace("œ", "oe").replace("Œ", "Oe"))
    ascii_text = ascii_text.encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def gtin13(prefix: str, number: int) -> str:
    """A GTIN-13 (EAN-13) with a valid check digit, e.g. ``gtin13("376014502", 7)``."""
    body = (prefix + str(number).zfill(12 - len(prefix)))[:12]
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _overall_availability(values: list[str]) -> str:
    for wanted in ("in_stock", "preorder", "out_of_stock"):
        if wanted in values:
            return wanted
    return "unknown"


def _product(shop: dict, category: str, number: int, raw: dict) -> ProductSpec:
    name = raw["name"]
    availability = raw.get("stock", "in_stock")
    variants = tuple(
        Variant(str(v["label"]), Decimal(v["price"]), v.get("stock", "in_stock")) for v in raw.get("variants") or ()
    )
    price = Decimal(raw["price"])
    if variants:
        price = min(v.price for v in variants)
        availability = _overall_availability([v.availability for v in variants])
    gtin = raw.get("gtin", shop.get("gtins") == "all")
    if gtin is True:
        gtin = gtin13(shop["gtin_prefix"], number)
    problems = [
        f"{shop['id']}/{name}: {what}"
        for what, bad in (
            ("price must be a string like '12.50'", not re.fullmatch(r"\d+\.\d{2}", str(raw["price"]))),
            (f"unknown stock {availability!r}", availability not in AVAILABILITIES),
            (f"unknown hidden reason {raw.get('hidden')!r}", raw.get("hidden") not in (None, *HIDDEN_REASONS)),
        )
        if bad
    ]
    if problems:
        raise ValueError("; ".join(problems))
    return ProductSpec(
        slug=raw.get("slug") or slugify(name),
        name=name,
        price=price,
        currency="EUR",
        availability=availability,
        description=raw["description"],
        brand=raw.get("brand", shop.get("brand")),
        category=category,
        sku=raw.get("sku") or f"{shop['sku_prefix']}-{number:03d}",
        gtin=str(gtin) if gtin else None,
        number=number,
        variants=variants,
        hidden=raw.get("hidden"),
    )


def _shop(number: int, raw: dict) -> ShopSpec:
    products: list[ProductSpec] = []
    for category, items in raw["catalogue"].items():
        for item in items:
            products.append(_product(raw, category, len(products) + 1, item))
    slugs = [p.slug for p in products]
    if len(set(slugs)) != len(slugs):
        raise ValueError(f"{raw['id']}: two products share a slug")
    if raw["style"] not in STYLES:
        raise ValueError(f"{raw['id']}: unknown style {raw['style']!r}")
    return ShopSpec(
        id=raw["id"],
        number=number,
        name=raw["name"],
        style=raw["style"],
        trade=raw["trade"],
        town=raw["town"],
        postcode=str(raw["postcode"]),
        address=raw["address"],
        telephone=raw["telephone"],
        lat=float(raw["geo"]["lat"]),
        lon=float(raw["geo"]["lon"]),
        hours=tuple(raw.get("hours") or ()),
        categories=tuple(raw.get("categories") or ()),
        services=tuple(raw.get("services") or ()),
        schedule=raw.get("schedule", "daily"),
        description=raw["description"],
        business_type=raw.get("business_type"),
        sitemap_in_registry=bool(raw.get("sitemap_in_registry")),
        page_size=int(raw.get("page_size", 12)),
        options=dict(raw.get("options") or {}),
        products=tuple(products),
    )


def load_catalogue(path: Path = CATALOGUE_FILE) -> list[ShopSpec]:
    data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    return [_shop(number, raw) for number, raw in enumerate(data["shops"], start=1)]
