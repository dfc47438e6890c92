"""Style "woocommerce": WooCommerce with Yoast SEO (cave-du-vieux-chinon, confiserie-des-canaux)."""

from __future__ import annotations

from samples.catalogue import slugify
from samples.markup import json_ld, sitemap_index, urlset
from samples.themes.base import Theme, _price


class WooCommerceTheme(Theme):
    """WooCommerce with Yoast SEO: one JSON-LD ``@graph``, PHP-escaped slashes, Yoast sitemaps.

    Shop option ``offer_price: specification`` imitates WooCommerce ≥ 8, whose simple
    products carry their price only in ``priceSpecification``. Variable products declare
    an ``AggregateOffer`` (lowPrice/highPrice) whose availability is the parent's.
    """

    style = "woocommerce"
    schema = "http://schema.org/"
    info_paths = {"about": "/a-propos/", "contact": "/contact/", "legal": "/mentions-legales/"}
    all_products_path = "/boutique/"
    account_links = [("Mon compte", "/mon-compte/"), ("Panier", "/panier/")]

    def product_path(self, product):
        return f"/produit/{product.slug}/"

    def category_path(self, category, page=1):
        path = f"/categorie-produit/{slugify(category)}/"
        return path if page == 1 else f"{path}page/{page}/"

    def image_path(self, product):
        return f"/wp-content/uploads/2024/{1 + product.number % 12:02d}/{product.slug}.png"

    def cart_link(self, product):
        return f"/panier/?add-to-cart={1000 + product.number}"

    def robots(self):
        return (
            "User-agent: *\nDisallow: /wp-admin/\nAllow: /wp-admin/admin-ajax.php\n"
            "Disallow: /panier/\nDisallow: /commande/\nDisallow: /mon-compte/\n\n"
            f"Sitemap: {self.url('/sitemap_index.xml')}\n"
        )

    def sitemaps(self):
        categories = [(self.url(self.category_path(c)), None, None) for c in self.shop.product_categories]
        pages = [(self.url("/"), None, None)] + [(self.url(p), None, None) for p in self.info_paths.values()]
        return {
            "/sitemap_index.xml": sitemap_index(
                [self.url("/page-sitemap.xml"), self.url("/product-sitemap.xml"), self.url("/product_cat-sitemap.xml")]
            ),
            "/page-sitemap.xml": urlset(pages),
            "/product-sitemap.xml": urlset(self.product_entries()),
            "/product_cat-sitemap.xml": urlset(categories),
        }

    def offer(self, product):
        url, seller = self.canonical(product), {"@type": "Organization", "name": self.shop.name, "url": self.url("/")}
        availability = self.availability_url(product.availability)
        if availability and product.availability == "preorder":
            availability = self.schema + "BackOrder"  # WooCommerce's "on backorder" status
        if product.variants:
            prices = [v.price for v in product.variants]
            offer = {
                "@type": "AggregateOffer",
                "lowPrice": _price(min(prices)),
                "highPrice": _price(max(prices)),
                "offerCount": len(prices),
                "priceCurrency": product.currency,
            }
        elif self.shop_option("offer_price") == "specification":
            offer = {
                "@type": "Offer",
                "priceSpecification": [
                    {
                        "@type": "UnitPriceSpecification",
                        "price": _price(product.price),
                        "priceCurrency": product.currency,
                        "valueAddedTaxIncluded": True,
                        "validThrough": "2026-12-31",
                    }
                ],
            }
        else:
            offer = {
                "@type": "Offer",
                "price": _price(product.price),
                "priceValidUntil": "2026-12-31",
                "priceSpecification": {
                    "price": _price(product.price),
                    "priceCurrency": product.currency,
                    "valueAddedTaxIncluded": "true",
                },
                "priceCurrency": product.currency,
            }
        if availability:
            offer["availability"] = availability
        offer.update({"url": url, "seller": seller})
        return offer

    def shop_option(self, name):
        return self.shop.options.get(name)

    def product_markup(self, product):
        url, home = self.canonical(product), self.url("/")
        image = self.image_url(product)
        graph = [
            {
                "@type": "WebPage",
                "@id": url,
                "url": url,
                "name": f"{product.name} - {self.shop.name}",
                "isPartOf": {"@id": home + "#website"},
                "primaryImageOfPage": {"@id": url + "#primaryimage"},
                "datePublished": "2024-03-12T09:41:07+00:00",
                "breadcrumb": {"@id": url + "#breadcrumb"},
                "inLanguage": "fr-FR",
            },
            {
                "@type": "ImageObject",
                "@id": url + "#primaryimage",
                "url": image,
                "contentUrl": image,
                "width": 48,
                "height": 48,
            },
            {
                "@type": "BreadcrumbList",
                "@id": url + "#breadcrumb",
                "itemListElement": [
                    {"@type": "ListItem", "position": 1, "name": "Accueil", "item": home},
                    {
                        "@type": "ListItem",
                        "position": 2,
                        "name": product.category,
                        "item": self.url(self.category_path(product.category)),
                    },
                    {"@type": "ListItem", "position": 3, "name": product.name},
                ],
            },
            {
                "@type": "WebSite",
                "@id": home + "#website",
                "url": home,
                "name": self.shop.name,
                "publisher": {"@id": home + "#organization"},
                "inLanguage": "fr-FR",
            },
            {
                "@type": "Organization",
                "@id": home + "#organization",
                "name": self.shop.name,
                "url": home,
                "logo": {"@type": "ImageObject", "url": self.url(self.logo_path())},
            },
            {
                "@type": "Product",
                "@id": url + "#product",
                "name": product.name,
                "url": url,
                "description": product.description,
                "image": image,
                "sku": product.sku,
                **({"gtin13": product.gtin} if product.gtin else {}),
                "brand": {"@type": "Brand", "name": product.brand},
                "category": product.category,
                "offers": [self.offer(product)],
                "mainEntityOfPage": {"@id": url},
            },
        ]
        document = {"@context": "https://schema.org", "@graph": graph}
        return {"jsonld": [json_ld(document, escape_slashes=True)]}

    def extra_pages(self, site):
        site.add(
            "/panier/",
            self.html(
                "info.html", title="Panier", heading="Panier", paragraphs=["Votre panier est actuellement vide."]
            ),
        )
        site.add(
            "/mon-compte/",
            self.html("info.html", title="Mon compte", heading="Mon compte", paragraphs=["Identifiez-vous."]),
        )
