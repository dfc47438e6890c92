"""Which sitemaps of a sitemap index are worth reading: the product ones, when there are any.

Shop platforms split their sitemap index by content type: Shopify lists
``sitemap_products_1.xml`` beside pages, collections and blogs, Yoast (WooCommerce)
``product-sitemap.xml`` beside ``page-``, ``post-`` and ``product_cat-sitemap.xml``, Wix
``store-products-sitemap.xml`` beside ``pages-`` and ``blog-posts-sitemap.xml``. When an
index names product sitemaps, only those are followed: the other sitemaps list pages that
declare no product, and reading them would spend the run's page budget for nothing. An
index that names none (PrestaShop's numbered sitemaps, a hand-made site) is followed whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TypeVar
from urllib.parse import urlsplit

# "product" or "produit" in the sitemap's file name (or query, e.g. ``?type=products``) ...
_PRODUCT = re.compile(r"produ(?:ct|it)", re.I)
# ... but not a taxonomy of products: Yoast/WordPress ``product_cat``, ``product_tag``,
# ``product_brand``, ``product-category``, attribute sitemaps (``pa_couleur``).
_TAXONOMY = re.compile(r"produ(?:ct|it)s?[_-]?(?:cat|tag|brand|marque|attribute|collection|type)|taxonom|\bpa_", re.I)

Entry = TypeVar("Entry", str, dict)


def is_product_sitemap(loc: str) -> bool:
    """Does a sitemap's address say it lists product pages?"""
    parts = urlsplit(loc.strip())
    name = parts.path.rstrip("/").rsplit("/", 1)[-1] + ("?" + parts.query if parts.query else "")
    return bool(_PRODUCT.search(name)) and not _TAXONOMY.search(name)


def product_sitemaps(entries: Iterable[Entry]) -> list[Entry]:
    """The product sitemaps of an index's entries when it names any, else every entry.

    ``entries`` are addresses or Scrapy sitemap entries (dicts with a ``loc``).
    """
    entries = list(entries)
    products = [e for e in entries if is_product_sitemap(e if isinstance(e, str) else e.get("loc") or "")]
    return products or entries
