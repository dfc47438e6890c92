"""Style "opengraph": a public catalogue with OpenGraph product tags only (fleurs-de-leonie)."""

from __future__ import annotations

from samples.catalogue import slugify
from samples.markup import comma_decimal
from samples.themes.base import Theme


class OpenGraphTheme(Theme):
    """A public catalogue whose product pages carry only OpenGraph ``product:*`` tags.

    Prices are written the French way (``24,90``; every fourth product in its shortest
    hand-typed form, ``12,5`` or ``35``). There is no robots.txt (404) and no sitemap.
    """

    style = "opengraph"
    all_products_path = "/catalogue"
    og_availability = {"in_stock": "in stock", "out_of_stock": "out of stock", "preorder": "preorder"}

    def product_path(self, product):
        return f"/catalogue/{product.slug}"

    def category_path(self, category, page=1):
        return f"/catalogue/rayon/{slugify(category)}"

    def image_path(self, product):
        return f"/media/catalogue/{product.slug}.png"

    def robots(self):
        return None

    def product_markup(self, product):
        meta = [
            ("og:type", "product"),
            ("og:title", product.name),
            ("og:description", product.description),
            ("og:url", self.canonical(product)),
            ("og:image", self.image_url(product)),
            ("og:site_name", self.shop.name),
            ("og:locale", "fr_FR"),
            ("product:price:amount", comma_decimal(product.price, short=product.number % 4 == 0)),
            ("product:price:currency", product.currency),
            ("product:retailer_item_id", product.sku),
            ("product:brand", product.brand),
            ("product:category", product.category),
            ("product:condition", "new"),
        ]
        if product.availability in self.og_availability:
            meta.append(("product:availability", self.og_availability[product.availability]))
        return {"meta": meta, "canonical": None}
