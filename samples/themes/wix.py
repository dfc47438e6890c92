"""Style "wix": Wix-like JSON-LD and the availability spellings seen in the wild (chandellerie-d-amboise)."""

from __future__ import annotations

import hashlib

from samples.catalogue import slugify
from samples.markup import SCHEMA_AVAILABILITY, json_ld, sitemap_index, urlset
from samples.themes.base import Theme


class WixTheme(Theme):
    """Wix-like pages: ``/product-page/<slug>``, ImageObject images, and the availability
    spellings seen in the wild, by product number: Wix's capitalised ``Offers`` and
    ``Availability`` keys, bare ``InStock``, ``https://schema.org/…``, ``http://schema.org/…``."""

    style = "wix"
    all_products_path = "/boutique"

    def product_path(self, product):
        return f"/product-page/{product.slug}"

    def category_path(self, category, page=1):
        return f"/category/{slugify(category)}"

    def image_path(self, product):
        digest = hashlib.sha1(product.name.encode()).hexdigest()
        return f"/media/8f2c41_{digest[:32]}~mv2.png"

    def robots(self):
        return f"User-agent: *\nAllow: /\nDisallow: *?lightbox=\n\nSitemap: {self.url('/sitemap.xml')}\n"

    def sitemaps(self):
        categories = [(self.url(self.category_path(c)), None, None) for c in self.shop.product_categories]
        pages = [(self.url("/"), None, None)] + [(self.url(p), None, None) for p in self.info_paths.values()]
        return {
            "/sitemap.xml": sitemap_index(
                [
                    self.url("/store-products-sitemap.xml"),
                    self.url("/store-categories-sitemap.xml"),
                    self.url("/pages-sitemap.xml"),
                ]
            ),
            "/store-products-sitemap.xml": urlset(self.product_entries()),
            "/store-categories-sitemap.xml": urlset(categories),
            "/pages-sitemap.xml": urlset(pages),
        }

    def product_markup(self, product):
        form = product.number % 4
        name = SCHEMA_AVAILABILITY.get(product.availability)
        availability = (
            None
            if name is None
            else (
                "https://schema.org/" + name if form in (0, 2) else name if form == 1 else "http://schema.org/" + name
            )
        )
        offers_key, availability_key = ("Offers", "Availability") if form == 0 else ("offers", "availability")
        offer = {
            "@type": "Offer",
            "url": self.canonical(product),
            "priceCurrency": product.currency,
            "price": format(product.price.normalize(), "f"),  # Wix trims zeros: "24.9", "12"
            "seller": {"@type": "Organization", "name": self.shop.name},
        }
        if availability:
            offer[availability_key] = availability
        node = {
            "@context": "https://schema.org/",
            "@type": "Product",
            "name": product.name,
            "description": product.description,
            "image": [{"@type": "ImageObject", "contentUrl": self.image_url(product), "width": 48, "height": 48}],
            "sku": product.sku,
            "brand": {"@type": "Brand", "name": product.brand},
            "category": product.category,
            offers_key: offer,
        }
        return {"jsonld": [json_ld(node)]}
