"""Style "itemlist": listings carry a JSON-LD ItemList of Products (librairie-le-chat-qui-lit)."""

from __future__ import annotations

from samples.catalogue import slugify
from samples.markup import json_ld, local_business
from samples.themes.base import Theme, _price


class ItemListTheme(Theme):
    """A bookshop whose listings declare a JSON-LD ``ItemList`` of Products (url, offers)."""

    style = "itemlist"
    info_paths = {"about": "/la-librairie", "contact": "/contact", "legal": "/mentions-legales"}
    account_links = [("Rechercher", "/recherche?q=")]

    def product_path(self, product):
        return f"/livre/{product.slug}" + (f"-{product.gtin}" if product.gtin else "")

    def category_path(self, category, page=1):
        return f"/rayon/{slugify(category)}"

    def image_path(self, product):
        return f"/couvertures/{product.gtin or product.slug}.png"

    def robots(self):
        return "User-agent: *\nDisallow: /recherche\nDisallow: /panier\n"

    def offer(self, product):
        offer = {
            "@type": "Offer",
            "price": _price(product.price),
            "priceCurrency": product.currency,
            "url": self.canonical(product),
        }
        if self.availability_url(product.availability):
            offer["availability"] = self.availability_url(product.availability)
        return offer

    def listing_markup(self, category, products):
        items = [
            {
                "@type": "ListItem",
                "position": position,
                "item": {
                    "@type": "Product",
                    "name": p.name,
                    "url": self.canonical(p),
                    "image": self.image_url(p),
                    **({"gtin13": p.gtin} if p.gtin else {}),
                    "offers": self.offer(p),
                },
            }
            for position, p in enumerate(products, start=1)
        ]
        document = {
            "@context": "https://schema.org",
            "@type": "ItemList",
            "name": category,
            "numberOfItems": len(items),
            "itemListElement": items,
        }
        return {"jsonld": [json_ld(document)]}

    def product_markup(self, product):
        node = {
            "@context": "https://schema.org",
            "@type": "Product",
            "name": product.name,
            "url": self.canonical(product),
            "image": self.image_url(product),
            "description": product.description,
            "sku": product.sku,
            **({"gtin13": product.gtin} if product.gtin else {}),
            "brand": {"@type": "Brand", "name": product.brand},
            "category": product.category,
            "offers": self.offer(product),
        }
        return {"jsonld": [json_ld(node)]}

    def shop_node(self):
        if not self.shop.business_type:
            return None
        return local_business(self.shop, self.url("/"), self.url(self.logo_path()), hours_as_text=True)
