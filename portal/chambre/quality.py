"""Data quality of a shop's products, and the JSON-LD block that would complete them.

Pure functions over product records (as the index holds them): the dashboard's quality
pages and the public shop mirror (:mod:`portal.mirror`) both use them, so a shop owner and
their chamber read the same figures and the same advice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from portal.i18n import _

# field -> is it there in a record? One test per field, shared by the shares and the advice.
FIELDS: dict[str, Any] = {
    "price": lambda r: bool(r.get("price")),
    "availability": lambda r: r.get("availability") not in (None, "", "unknown"),
    "image": lambda r: bool(r.get("image")),
    "brand": lambda r: bool(r.get("brand")),
    "gtin": lambda r: bool(r.get("gtin")),
    "description": lambda r: bool((r.get("description") or "").strip()),
}

# What each missing field costs the shop on the portal, in the words of its staff.
LABELS = {
    "price": "prix",
    "availability": "disponibilité",
    "image": "photo",
    "brand": "marque",
    "gtin": "code-barres (GTIN)",
    "description": "description",
}
WHY = {
    "price": "sans prix, le produit n'apparaît ni dans les tris par prix ni dans les filtres de prix",
    "availability": "les habitants filtrent souvent sur « en stock » : un produit sans disponibilité en sort",
    "image": "une fiche sans photo est beaucoup moins cliquée",
    "brand": "les habitants cherchent par marque",
    "gtin": "le code-barres permet de retrouver le même produit d'une boutique à l'autre",
    "description": "les mots de la description servent à la recherche",
}
# Weights of the score: price and availability decide whether a product can be found at all.
WEIGHTS = {"price": 3, "availability": 2, "image": 2, "brand": 1, "gtin": 1, "description": 1}
AVAILABILITY_URLS = {
    "in_stock": "https://schema.org/InStock",
    "out_of_stock": "https://schema.org/OutOfStock",
    "preorder": "https://schema.org/PreOrder",
}


@dataclass
class Quality:
    products: int = 0
    present: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))

    def add(self, record: dict[str, Any]) -> None:
        self.products += 1
        for name, test in FIELDS.items():
            self.present[name] += bool(test(record))

    def merge(self, other: Quality) -> Quality:
        """The quality of both sets of products together."""
        merged = Quality(self.products + other.products)
        merged.present = {name: self.present[name] + other.present[name] for name in FIELDS}
        return merged

    def share(self, name: str) -> float:
        return self.present[name] / self.products if self.products else 0.0

    @property
    def score(self) -> int:
        """0-100: the weighted share of fields present."""
        if not self.products:
            return 0
        total = sum(WEIGHTS.values())
        return round(100 * sum(WEIGHTS[n] * self.share(n) for n in FIELDS) / total)

    @property
    def gain(self) -> int:
        """Points of score the shop would gain by filling everything in."""
        return 100 - self.score if self.products else 0

    @property
    def missing(self) -> list[str]:
        """Fields some products lack, the costliest first."""
        lacking = [n for n in FIELDS if self.present[n] < self.products]
        return sorted(lacking, key=lambda n: -WEIGHTS[n] * (1 - self.share(n)))

    def missing_labels(self, limit: int = 3) -> list[str]:
        return [_(LABELS[name]) for name in self.missing[:limit]]

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "field": name,
                "label": _(LABELS[name]),
                "present": self.present[name],
                "percent": round(100 * self.share(name)),
                "why": _(WHY[name]),
            }
            for name in FIELDS
        ]


def quality_of(records: list[dict[str, Any]]) -> Quality:
    quality = Quality()
    for record in records:
        if record.get("type", "product") == "product":
            quality.add(record)
    return quality


def fields_present(record: dict[str, Any]) -> int:
    return sum(bool(test(record)) for test in FIELDS.values())


def example_product(records: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The product to build the example from: the one lacking the most, among those with a name."""
    named = [r for r in records if r.get("name") and r.get("type", "product") == "product"]
    if not named:
        return None
    return min(named, key=fields_present)


def json_ld(product: dict[str, Any] | None, shop_name: str | None = None) -> str:
    """The ``<script type="application/ld+json">`` block for ``product``: its own values, and
    a French placeholder (« À COMPLÉTER ») where one is missing. Returned as text to show in
    a ``<pre>``: autoescaping makes it inert there, and ``<``/``>``/``&`` are written as
    JSON escapes so the block stays safe once pasted into a page."""
    product = product or {}

    def fill(value: Any, placeholder: str) -> Any:
        return value if value not in (None, "", []) else placeholder

    offers: dict[str, Any] = {
        "@type": "Offer",
        "price": fill(product.get("price"), "À COMPLÉTER, ex. 12.50"),
        "priceCurrency": product.get("currency") or "EUR",
        "availability": AVAILABILITY_URLS.get(product.get("availability") or "", "https://schema.org/InStock"),
    }
    if product.get("url"):
        offers["url"] = product["url"]
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": fill(product.get("name"), "Nom du produit"),
        "description": fill(product.get("description"), "À COMPLÉTER : quelques phrases sur le produit"),
        "image": fill(product.get("image"), "À COMPLÉTER : https://votre-boutique.fr/photo.jpg"),
        "brand": {"@type": "Brand", "name": fill(product.get("brand"), "À COMPLÉTER : la marque")},
        "gtin13": fill(product.get("gtin"), "À COMPLÉTER : le code-barres à 13 chiffres"),
        "offers": offers,
    }
    if shop_name:
        offers["seller"] = {"@type": "LocalBusiness", "name": shop_name}
    text = json.dumps(data, ensure_ascii=False, indent=2)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f'<script type="application/ld+json">\n{text}\n</script>'
