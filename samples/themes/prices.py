"""Style "prices": microdata prices as printed in French, offers per variant (cycles-de-la-sauldre)."""

from __future__ import annotations

from decimal import Decimal

from samples.catalogue import slugify
from samples.markup import NBSP, NNBSP, comma_decimal, euros, urlset
from samples.themes.base import Theme


class PricesTheme(Theme):
    """A small shop site whose microdata prices are the printed text: ``1 299,00 €``
    (no-break or narrow no-break thousands separators), ``12,5``. Products with variants
    declare one Offer per variant when prices are equal, an AggregateOffer otherwise."""

    style = "prices"
    schema = "http://schema.org/"
    product_template = "product_microdata.html"
    info_paths = {"about": "/a-propos.html", "contact": "/contact.html", "legal": "/mentions-legales.html"}

    def product_path(self, product):
        return f"/catalogue/{slugify(product.category)}/{product.slug}.html"

    def category_path(self, category, page=1):
        return f"/catalogue/{slugify(category)}/"

    def image_path(self, product):
        return f"/media/catalog/product/{product.slug[0]}/{product.slug}.png"

    def robots(self):
        return f"User-agent: *\nDisallow: /checkout/\nDisallow: /customer/\nSitemap: {self.url('/sitemap.xml')}\n"

    def sitemaps(self):
        return {"/sitemap.xml": urlset(self.product_entries())}

    def printed(self, amount: Decimal, number: int) -> str:
        text = f"{amount:.2f}"
        if amount < 20 and text.endswith("0") and not text.endswith("00"):
            return comma_decimal(amount, short=True)  # "12,5", as typed in the back office
        return euros(amount, thousands=(NNBSP, NBSP, " ")[number % 3])

    def product_markup(self, product):
        n = product.number
        if not product.variants:
            offers = [
                {
                    "type": "Offer",
                    "prices": [("price", self.printed(product.price, n), None)],
                    "availability": self.availability_url(product.availability),
                }
            ]
        elif len({v.price for v in product.variants}) == 1:
            offers = [
                {
                    "type": "Offer",
                    "label": v.label,
                    "prices": [("price", self.printed(v.price, n), None)],
                    "availability": self.availability_url(v.availability),
                }
                for v in product.variants
            ]
        else:
            prices = [v.price for v in product.variants]
            offers = [
                {
                    "type": "AggregateOffer",
                    "prices": [
                        ("lowPrice", self.printed(min(prices), n), None),
                        ("highPrice", self.printed(max(prices), n), None),
                    ],
                    "count": len(prices),
                    "availability": self.availability_url(product.availability),
                }
            ]
        return {"md": {"scheme": self.schema, "url": self.canonical(product), "offers": offers}}
