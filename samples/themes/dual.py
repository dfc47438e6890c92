"""Style "dual": each product declared twice, in JSON-LD and in microdata (le-petit-ebeniste)."""

from __future__ import annotations

from samples.catalogue import slugify
from samples.markup import euros, json_ld, urlset
from samples.themes.base import Theme, _price


class DualTheme(Theme):
    """A custom theme declaring each product twice (JSON-LD in ``<head>``, microdata in
    the body): a crawler must return one product per page. robots.txt names no sitemap;
    ``sources.yaml`` gives it."""

    style = "dual"
    product_template = "product_microdata.html"
    info_paths = {"about": "/notre-atelier", "contact": "/contact", "legal": "/mentions-legales"}

    def product_path(self, product):
        return f"/jouets/{product.slug}"

    def category_path(self, category, page=1):
        return f"/boutique/{slugify(category)}"

    def image_path(self, product):
        return f"/images/produits/{product.slug}.png"

    def sitemaps(self):
        return {"/sitemap.xml": urlset(self.product_entries())}

    def product_markup(self, product):
        availability = self.availability_url(product.availability)
        offer = {
            "@type": "Offer",
            "price": _price(product.price),
            "priceCurrency": product.currency,
            "url": self.canonical(product),
        }
        if availability:
            offer["availability"] = availability
        node = {
            "@context": "https://schema.org/",
            "@type": "Product",
            "name": product.name,
            "url": self.canonical(product),
            "image": self.image_url(product),
            "description": product.description,
            "sku": product.sku,
            **({"gtin13": product.gtin} if product.gtin else {}),
            "brand": {"@type": "Brand", "name": product.brand},
            "category": product.category,
            "offers": offer,
        }
        md_offer = {
            "type": "Offer",
            "prices": [("price", euros(product.price), _price(product.price))],
            "availability": availability,
        }
        return {
            "jsonld": [json_ld(node, indent=2)],
            "md": {"scheme": self.schema, "url": self.canonical(product), "offers": [md_offer]},
        }
