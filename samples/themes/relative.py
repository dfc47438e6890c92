"""Style "relative": a shop in a sub-folder, relative URLs and tracking links (comptoir-beauceron)."""

from __future__ import annotations

from samples.catalogue import slugify
from samples.markup import json_ld
from samples.themes.base import Theme, _price


class RelativeTheme(Theme):
    """A shop installed in ``/boutique/``: every page has ``<base href="/boutique/">`` and
    relative links; links to products carry tracking parameters (``utm_*``, ``srsltid``);
    the canonical link gives the clean URL; JSON-LD ``url`` and ``image`` are relative."""

    style = "relative"
    base_href = "/boutique/"
    info_paths = {
        "about": "/boutique/a-propos.html",
        "contact": "/boutique/contact.html",
        "legal": "/boutique/mentions-legales.html",
    }

    def product_path(self, product):
        return f"/boutique/produit/{product.slug}.html"

    def category_path(self, category, page=1):
        return f"/boutique/rayon/{slugify(category)}.html"

    def image_path(self, product):
        return f"/boutique/img/produits/{product.slug}.png"

    def logo_path(self):
        return "/boutique/img/logo.png"

    def href(self, path):
        if path.startswith(self.base_href):
            return path[len(self.base_href) :] or "./"
        return path

    def product_link(self, product, where):
        tracking = (
            "utm_source=site&utm_medium=vitrine&utm_campaign=accueil"
            if where == "home"
            else f"srsltid=AfmBOo{product.number:04d}x"
        )
        return f"{self.href(self.product_path(product))}?{tracking}"

    def robots(self):
        return "User-agent: *\nDisallow: /boutique/recherche\n"

    def product_markup(self, product):
        offer = {
            "@type": "Offer",
            "price": _price(product.price),
            "priceCurrency": product.currency,
            "url": self.href(self.product_path(product)),
        }
        if self.availability_url(product.availability):
            offer["availability"] = self.availability_url(product.availability)
        node = {
            "@context": "https://schema.org",
            "@type": "Product",
            "name": product.name,
            "url": self.href(self.product_path(product)),
            "image": self.href(self.image_path(product)),
            "description": product.description,
            "sku": product.sku,
            **({"gtin13": product.gtin} if product.gtin else {}),
            "brand": {"@type": "Brand", "name": product.brand},
            "category": product.category,
            "offers": offer,
        }
        return {"jsonld": [json_ld(node)]}

    def extra_pages(self, site):
        site.add("/boutique/", self.home_page())
