"""Style "rdfa": a hand-made site in RDFa Lite (atelier-terre-des-marais)."""

from __future__ import annotations

from samples.catalogue import slugify
from samples.themes.base import Theme, _price


class RdfaTheme(Theme):
    """A hand-made site in RDFa Lite: relative links, ``.html`` files, no sitemap."""

    style = "rdfa"
    product_template = "product_rdfa.html"
    info_paths = {"about": "/atelier.html", "contact": "/contact.html", "legal": "/mentions-legales.html"}
    all_products_path = "/catalogue.html"

    def product_path(self, product):
        return f"/pieces/{product.slug}.html"

    def category_path(self, category, page=1):
        return f"/catalogue-{slugify(category)}.html"

    def image_path(self, product):
        return f"/images/pieces/{product.slug}.png"

    def product_markup(self, product):
        return {
            "image": f"../images/pieces/{product.slug}.png",  # relative to /pieces/<slug>.html
            "price_content": _price(product.price),
            "availability_url": self.availability_url(product.availability),
        }
