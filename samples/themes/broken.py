"""Style "broken": an old home-grown CMS whose markup is almost right (quincaillerie-du-loir)."""

from __future__ import annotations

import json

from markupsafe import Markup

from samples.catalogue import slugify
from samples.markup import php_entities, urlset, with_trailing_commas
from samples.site import Page
from samples.themes.base import Theme


class BrokenTheme(Theme):
    """An old home-grown CMS in ISO-8859-1, with the defects real shop sites have.

    JSON-LD: every string HTML-escaped (``&amp;``, ``&#039;``), prices as JSON numbers,
    and per product (by number) trailing commas, ``/* */`` and ``//`` comments, or a CDATA
    wrapper. Some pages have invalid HTML, one is cut short; the ``server_error`` product
    answers 500 and the ``gone`` one 404, both still linked and in the sitemap.
    """

    style = "broken"
    charset = "iso-8859-1"
    info_paths = {"about": "/qui-sommes-nous.html", "contact": "/contact.html", "legal": "/mentions-legales.html"}

    def product_path(self, product):
        return f"/articles/{product.number}-{product.slug}.html"

    def category_path(self, category, page=1):
        return f"/rayons/{slugify(category)}.html"

    def image_path(self, product):
        return f"/photos/art{product.number:04d}.png"

    def robots(self):
        return f"User-agent: *\nDisallow: /admin/\nDisallow: /stats/\n\nSitemap: {self.url('/sitemap.xml')}\n"

    def sitemaps(self):
        categories = [(self.url(self.category_path(c)), None, None) for c in self.shop.product_categories]
        return {"/sitemap.xml": urlset(categories + self.product_entries())}

    def jsonld_text(self, product) -> str:
        availability = self.availability_url(product.availability)
        offer = {
            "@type": "Offer",
            "price": float(product.price),
            "priceCurrency": product.currency,
            "url": self.canonical(product),
        }
        if availability:
            offer["availability"] = availability
        node = php_entities(
            {
                "@context": "https://schema.org",
                "@type": "Product",
                "name": product.name,
                "description": product.description,
                "image": self.image_url(product),
                "sku": product.sku,
                **({"gtin13": product.gtin} if product.gtin else {}),
                "brand": {"@type": "Brand", "name": product.brand},
                "category": product.category,
                "offers": offer,
            }
        )
        text = json.dumps(node, ensure_ascii=False, indent=2).replace("</", "<\\/")
        defect = product.number % 3
        if defect == 0:
            return with_trailing_commas(text)
        if defect == 1:
            text = text.replace('"offers"', '// prix TTC, mis à jour chaque nuit\n  "offers"')
            return "/* Fiche article générée par NetCatalogue 3.2 */\n" + text
        if product.number % 2:
            return "/*<![CDATA[*/\n" + text + "\n/*]]>*/"
        return "//<![CDATA[\n" + text + "\n//]]>"

    def product_markup(self, product):
        extra = ""
        if product.number % 4 == 0:
            # Unclosed and stray tags, an unquoted attribute, as pasted from a word processor.
            extra = (
                "<div class=promo><p>Promo <b>-10 % sur tout le rayon<p>jusqu'à samedi</div></span>"
                "<table><tr><td>Retrait en magasin<td>sous 2 h</table></table><li>Garantie 2 ans"
            )
        return {"jsonld": [Markup(self.jsonld_text(product))], "extra_html": Markup(extra)}

    def product_page(self, product):
        if product.hidden == "server_error":
            body = (
                "<html><head><title>Erreur</title></head><body><h1>Erreur interne du serveur</h1>"
                "<p>Warning: mysqli_connect(): (HY000/1040): Too many connections "
                "in /var/www/catalogue/article.php on line 12</p>"
            )
            return Page(body.encode(self.charset), f"text/html; charset={self.charset}", 500)
        page = super().product_page(product)
        if product.number == 5:
            # Cut short by a proxy timeout: no footer, no closing tags.
            page = Page(page.body[: page.body.index(b"<footer")], page.content_type, page.status)
        return page
