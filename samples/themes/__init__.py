"""One theme per platform style: URL layout, robots.txt, sitemaps and product markup.

Adding a style is adding one module here (a ``Theme`` subclass) and listing it below.
Every sample shop is a ``Theme`` rendered for its base URL. The base class builds what
every shop site has (home, listings, product pages, à propos / contact / mentions légales,
images, robots.txt); each subclass changes only what the platform it imitates does
differently. The same methods give the ground truth (``canonical``, ``image_url``), so the
pages and ``expected_products`` cannot drift apart.

| style        | imitates                       | product markup                                  | discovery                         |
|--------------|--------------------------------|-------------------------------------------------|-----------------------------------|
| shopify      | Shopify (Dawn)                 | JSON-LD Product, offers per variant, OpenGraph  | robots.txt → sitemap index        |
| woocommerce  | WooCommerce + Yoast SEO        | JSON-LD @graph (WebPage, Organization, Product) | robots.txt → sitemap_index.xml    |
| prestashop   | PrestaShop 1.7 classic theme   | microdata, price in ``content``                 | links only, ``?page=2``, robots   |
| rdfa         | hand-made site                 | RDFa Lite (vocab/typeof/property)               | links only                        |
| opengraph    | public catalogue page          | OpenGraph ``product:*`` only, comma prices      | links only, no robots.txt         |
| itemlist     | bookshop site                  | JSON-LD ItemList on listings + Product pages    | links only                        |
| dual         | custom theme                   | the same Product in JSON-LD *and* microdata     | sitemap named in sources.yaml     |
| broken       | old home-grown CMS, ISO-8859-1 | almost-JSON JSON-LD, invalid HTML, 500, 404     | links + sitemap                   |
| prices       | small shop site                | microdata with printed prices, AggregateOffer   | robots.txt → sitemap              |
| wix          | Wix                            | JSON-LD with ``Offers``/``Availability`` keys   | robots.txt → sitemap index        |
| relative     | shop in a sub-folder           | relative URLs, ``<base href>``, tracking links  | links only                        |
"""

from __future__ import annotations

from samples.catalogue import ShopSpec
from samples.themes.base import Theme
from samples.themes.broken import BrokenTheme
from samples.themes.dual import DualTheme
from samples.themes.itemlist import ItemListTheme
from samples.themes.opengraph import OpenGraphTheme
from samples.themes.prestashop import PrestaShopTheme
from samples.themes.prices import PricesTheme
from samples.themes.rdfa import RdfaTheme
from samples.themes.relative import RelativeTheme
from samples.themes.shopify import ShopifyTheme
from samples.themes.wix import WixTheme
from samples.themes.woocommerce import WooCommerceTheme

THEMES: dict[str, type[Theme]] = {
    theme.style: theme
    for theme in (
        ShopifyTheme,
        WooCommerceTheme,
        PrestaShopTheme,
        RdfaTheme,
        OpenGraphTheme,
        ItemListTheme,
        DualTheme,
        BrokenTheme,
        PricesTheme,
        WixTheme,
        RelativeTheme,
    )
}


def theme_for(shop: ShopSpec, base_url: str) -> Theme:
    return THEMES[shop.style](shop, base_url)
