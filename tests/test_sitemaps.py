"""Sitemap indexes: only the product sitemaps are followed when the index names any."""

from __future__ import annotations

import pytest

from crawler.sitemaps import is_product_sitemap, product_sitemaps

B = "https://boutique.example.fr"


@pytest.mark.parametrize(
    "loc",
    [
        f"{B}/sitemap_products_1.xml?from=1&to=9999999999",  # Shopify
        f"{B}/fr/sitemap_products_2.xml",  # Shopify, a second page / a market
        f"{B}/product-sitemap.xml",  # Yoast (WooCommerce)
        f"{B}/product-sitemap2.xml",
        f"{B}/store-products-sitemap.xml",  # Wix Stores
        f"{B}/wp-sitemap-posts-product-1.xml",  # WordPress core sitemaps
        f"{B}/sitemap-produits.xml",  # hand-made, in French
        f"{B}/xmlsitemap.php?type=products&page=1",  # BigCommerce
    ],
)
def test_product_sitemaps_are_recognised(loc):
    assert is_product_sitemap(loc)


@pytest.mark.parametrize(
    "loc",
    [
        f"{B}/sitemap_pages_1.xml",
        f"{B}/sitemap_collections_1.xml",
        f"{B}/sitemap_blogs_1.xml",
        f"{B}/page-sitemap.xml",
        f"{B}/post-sitemap.xml",
        f"{B}/product_cat-sitemap.xml",
        f"{B}/product_tag-sitemap.xml",
        f"{B}/wp-sitemap-taxonomies-product_cat-1.xml",
        f"{B}/pages-sitemap.xml",
        f"{B}/store-categories-sitemap.xml",
        f"{B}/1_fr_0_sitemap.xml",
        f"{B}/products/sitemap.xml",  # "products" in a folder, not the file name
    ],
)
def test_other_sitemaps_are_not_product_sitemaps(loc):
    assert not is_product_sitemap(loc)


def test_an_index_with_product_sitemaps_is_narrowed_to_them():
    shopify = [
        f"{B}/sitemap_products_1.xml?from=1&to=9",
        f"{B}/sitemap_pages_1.xml",
        f"{B}/sitemap_collections_1.xml",
        f"{B}/sitemap_blogs_1.xml",
    ]
    assert product_sitemaps(shopify) == [shopify[0]]
    yoast = [
        {"loc": f"{B}/page-sitemap.xml", "lastmod": "2025-01-01"},
        {"loc": f"{B}/product-sitemap.xml"},
        {"loc": f"{B}/product-sitemap2.xml"},
        {"loc": f"{B}/product_cat-sitemap.xml"},
    ]
    assert product_sitemaps(yoast) == yoast[1:3]  # Scrapy's entries (dicts) are kept as they are


def test_an_index_without_product_sitemaps_is_followed_whole():
    prestashop = [f"{B}/1_fr_0_sitemap.xml", f"{B}/1_en_0_sitemap.xml"]
    assert product_sitemaps(prestashop) == prestashop
    assert product_sitemaps(iter([])) == []
