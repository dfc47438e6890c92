"""Style "shopify": Shopify (Dawn) product pages and sitemaps (brulerie-des-halles, maison-carnot)."""

from __future__ import annotations

from samples.catalogue import slugify
from samples.markup import comma_decimal, json_ld, sitemap_index, urlset
from samples.themes.base import Theme, _price


class ShopifyTheme(Theme):
    """Shopify (Dawn): ``/products/<handle>``, collections, sitemap index, offers per variant."""

    style = "shopify"
    schema = "http://schema.org/"
    info_paths = {"about": "/pages/a-propos", "contact": "/pages/contact", "legal": "/policies/legal-notice"}
    all_products_path = "/collections/all"
    account_links = [("Compte", "/account/login"), ("Panier", "/cart")]

    def product_path(self, product):
        return f"/products/{product.slug}"

    def category_path(self, category, page=1):
        path = f"/collections/{slugify(category)}"
        return path if page == 1 else f"{path}?page={page}"

    def image_path(self, product):
        return f"/cdn/shop/files/{product.slug}.png?v=17{product.number:08d}"

    def product_link(self, product, where):
        # Collection pages link inside the collection; the canonical is /products/<handle>.
        if where == "listing":
            return f"/collections/{slugify(product.category)}/products/{product.slug}"
        return self.product_path(product)

    def variant_id(self, product, index):
        return 44_700_000_000_000 + self.shop.number * 100_000 + product.number * 10 + index

    def robots(self):
        return (
            "# we use Shopify as our ecommerce platform\n\n"
            "User-agent: *\nDisallow: /admin\nDisallow: /cart\nDisallow: /orders\nDisallow: /checkouts/\n"
            "Disallow: /checkout\nDisallow: /account\nDisallow: /collections/*sort_by*\nDisallow: /search\n"
            f"Sitemap: {self.url('/sitemap.xml')}\n"
        )

    def sitemaps(self):
        collections = [(self.url(self.category_path(c)), None, None) for c in self.shop.product_categories]
        pages = [(self.url(p), None, None) for p in self.info_paths.values()]
        return {
            "/sitemap.xml": sitemap_index(
                [
                    self.url("/sitemap_products_1.xml?from=1&to=9999999999"),
                    self.url("/sitemap_pages_1.xml"),
                    self.url("/sitemap_collections_1.xml"),
                ]
            ),
            "/sitemap_products_1.xml": urlset(self.product_entries()),
            "/sitemap_pages_1.xml": urlset(pages),
            "/sitemap_collections_1.xml": urlset(collections),
        }

    def product_markup(self, product):
        url = self.canonical(product)
        variants = product.variants or [None]
        offers = []
        for index, variant in enumerate(variants, start=1):
            availability = variant.availability if variant else product.availability
            offer = {
                "@type": "Offer",
                "@id": f"{url}#offer-{index}",
                "price": _price(variant.price if variant else product.price),
                "priceCurrency": product.currency,
                "sku": f"{product.sku}-{index}" if variant else product.sku,
                "url": f"{url}?variant={self.variant_id(product, index)}",
            }
            if self.availability_url(availability):
                offer["availability"] = self.availability_url(availability)
            offers.append(offer)
        node = {
            "@context": "http://schema.org/",
            "@type": "Product",
            "@id": f"{url}#product",
            "name": product.name,
            "url": url,
            "image": [self.image_url(product)],
            "description": product.description,
            "sku": product.sku,
            "brand": {"@type": "Brand", "name": product.brand},
            "category": product.category,
            "offers": offers,
        }
        if product.gtin:
            node["gtin13"] = product.gtin
        meta = [
            ("og:site_name", self.shop.name),
            ("og:url", url),
            ("og:title", product.name),
            ("og:type", "product"),
            ("og:description", product.description),
            ("og:image", self.image_url(product)),
            ("og:price:amount", comma_decimal(product.price)),
            ("og:price:currency", product.currency),
        ]
        return {"jsonld": [json_ld(node)], "meta": meta}

    def shop_jsonld(self):
        organization = {
            "@context": "http://schema.org",
            "@type": "Organization",
            "name": self.shop.name,
            "logo": self.url(self.logo_path()),
            "url": self.url("/"),
        }
        return [json_ld(organization), *super().shop_jsonld()]

    def extra_pages(self, site):
        site.add(
            "/cart",
            self.html("info.html", title="Panier", heading="Votre panier", paragraphs=["Votre panier est vide."]),
        )
        site.add(
            "/account/login",
            self.html("info.html", title="Connexion", heading="Connexion", paragraphs=["Connectez-vous."]),
        )
        for product in self.shop.products:
            # The same page inside each collection, as Shopify serves it.
            site.add(self.product_link(product, "listing"), self.product_page(product))
