"""OpenGraph (``og:*``, ``product:*``) tags into a product record."""

from __future__ import annotations

from extruct.opengraph import OpenGraphExtractor

# og:type values that announce a product page
_PRODUCT_TYPES = {"product", "og:product", "product.item", "products"}


def extract_opengraph(tree) -> dict[str, list[str]]:
    """All OpenGraph properties of the page, each with its values in page order."""
    properties: dict[str, list[str]] = {}
    for item in OpenGraphExtractor().extract_items(tree):
        for name, value in item["properties"]:
            if value and value.strip():
                properties.setdefault(name.strip().lower(), []).append(value.strip())
    return properties


def og_first(properties: dict[str, list[str]], *names: str) -> str | None:
    for name in names:
        values = properties.get(name)
        if values:
            return values[0]
    return None


def is_product_page(properties: dict[str, list[str]]) -> bool:
    og_type = (og_first(properties, "og:type") or "").lower()
    types = {t.lower() for t in properties.get("og:type", [])}
    return (
        bool(types & _PRODUCT_TYPES)
        or og_type.endswith(":product")
        or bool(og_first(properties, "product:price:amount", "og:price:amount", "product:sale_price:amount"))
    )


def opengraph_product(properties: dict[str, list[str]]) -> dict | None:
    """The raw product facts declared in OpenGraph, as a schema.org-shaped node.

    Returned in the same shape as JSON-LD so one normaliser handles both; the
    sale price wins over the regular one because it is what the buyer pays.
    """
    if not is_product_page(properties):
        return None
    price = og_first(properties, "product:sale_price:amount", "product:price:amount", "og:price:amount")
    if price == og_first(properties, "product:sale_price:amount"):
        currency = og_first(properties, "product:sale_price:currency", "product:price:currency", "og:price:currency")
    else:
        currency = og_first(properties, "product:price:currency", "og:price:currency")
    offer = {
        "@type": "Offer",
        "price": price,
        "priceCurrency": currency,
        "availability": og_first(properties, "product:availability", "og:availability"),
    }
    return {
        "@type": "Product",
        "name": og_first(properties, "og:title"),
        "url": og_first(properties, "og:url"),
        "image": properties.get("og:image:secure_url") or properties.get("og:image") or properties.get("og:image:url"),
        "description": og_first(properties, "og:description"),
        "brand": og_first(properties, "product:brand", "og:brand"),
        "sku": og_first(properties, "product:retailer_item_id", "product:sku"),
        "gtin": og_first(properties, "product:gtin", "product:ean", "product:upc", "product:isbn"),
        "category": og_first(properties, "product:category"),
        "offers": offer,
    }
