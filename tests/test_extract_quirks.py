"""Platform quirks the structured-data (website) spider must survive, one page shape per
platform, as the platforms emit them: Wix, PrestaShop, Magento, Squarespace. Each page goes
through :func:`extract_page`, the function :class:`WebsiteSpider` calls on every page, and
the last test runs a page through the spider itself (a real ``HtmlResponse``)."""

from __future__ import annotations

from scrapy.http import HtmlResponse, Request

from crawler.extract import extract_page
from crawler.registry import Source
from crawler.spiders.website import WebsiteSpider

URL = "https://boutique.example.fr/produit"


def page(head: str = "", body: str = "", body_attrs: str = "") -> str:
    return (
        f"<!DOCTYPE html><html lang='fr'><head><meta charset='utf-8'>{head}</head>"
        f"<body{body_attrs}>{body}</body></html>"
    )


def jsonld(text: str) -> str:
    return f'<script type="application/ld+json">{text}</script>'


# -- Wix: capitalised keys, a list of Offers, full-URL Availability ------------------------

WIX = page(
    jsonld("""{"@context": "https://schema.org/", "@type": "Product", "name": "Bougie Figue",
    "image": [{"@type": "ImageObject", "contentUrl": "https://static.wixstatic.com/media/bougie.jpg"}],
    "sku": "BOUG-FIG", "brand": {"@type": "Brand", "name": "Atelier Cire"},
    "Offers": [{"@type": "Offer", "price": "18.5", "priceCurrency": "EUR",
                "Availability": "https://schema.org/InStock", "url": "https://boutique.example.fr/product-page/bougie-figue"}]}""")
)


def test_wix_capitalised_offers_list_and_availability_url():
    (product,) = extract_page(WIX, URL).products
    assert (
        product["name"],
        product["price"],
        product["currency"],
        product["availability"],
        product["sku"],
        product["brand"],
    ) == ("Bougie Figue", "18.50", "EUR", "in_stock", "BOUG-FIG", "Atelier Cire")


# -- PrestaShop: review modules declare a Product per miniature on category pages ------------


def _miniature(i: int) -> str:
    return (
        f'<article class="product-miniature"><div itemscope itemtype="https://schema.org/Product">'
        f'<meta itemprop="name" content="Fromage {i}"><div itemprop="aggregateRating" itemscope '
        f'itemtype="https://schema.org/AggregateRating"><meta itemprop="ratingValue" content="4.{i}">'
        f'<meta itemprop="reviewCount" content="{i + 3}"></div></div>'
        f'<a href="/fromages/{i}-fromage.html">Fromage {i}</a><span class="price">{i},50 €</span></article>'
    )


def test_prestashop_category_pseudo_products_are_dropped():
    html = page(
        jsonld(
            '{"@type": "BreadcrumbList", "itemListElement": [{"@type": "ListItem", "position": 1, "name": "Fromages"}]}'
        ),
        "".join(_miniature(i) for i in range(1, 6)),
    )
    assert extract_page(html, "https://boutique.example.fr/12-fromages").products == []


def test_prestashop_product_page_keeps_the_real_product_beside_a_rating_only_one():
    real = (
        '<div itemscope itemtype="https://schema.org/Product"><h1 itemprop="name">Sainte-Maure AOP</h1>'
        '<div itemprop="offers" itemscope itemtype="https://schema.org/Offer">'
        '<span itemprop="price" content="7.9">7,90 €</span>'
        '<meta itemprop="priceCurrency" content="EUR"><link itemprop="availability" href="https://schema.org/InStock"></div></div>'
    )
    (product,) = extract_page(page(body=real + _miniature(1)), URL).products
    assert (product["name"], product["price"], product["availability"]) == ("Sainte-Maure AOP", "7.90", "in_stock")


# -- Magento: the Product scope on <body>; a carousel's names and prices inside it ------------


def test_magento_body_scope_does_not_take_the_carousel_names_or_prices():
    body = (
        '<div class="page-title"><h1 itemprop="name">Théière fonte 0,8 L</h1></div>'
        '<meta itemprop="sku" content="TH-08"><div itemprop="offers" itemscope itemtype="http://schema.org/Offer">'
        '<meta itemprop="price" content="34.5"><meta itemprop="priceCurrency" content="EUR">'
        '<link itemprop="availability" href="http://schema.org/InStock"></div>'
        '<div class="block related"><ol>'
        + "".join(
            f'<li><strong itemprop="name">Tasse {i}</strong><span class="price">{i},00 €</span></li>' for i in range(3)
        )
        + "</ol></div>"
    )
    html = page(body=body, body_attrs=' itemscope itemtype="http://schema.org/Product"')
    (product,) = extract_page(html, URL).products
    assert (product["name"], product["price"], product["sku"]) == ("Théière fonte 0,8 L", "34.50", "TH-08")


# -- Squarespace: an empty LocalBusiness node on every page -----------------------------------

SQUARESPACE_BUSINESS = (
    '{"@context": "http://schema.org", "@type": "LocalBusiness", "address": "", '
    '"image": "https://static1.squarespace.com/static/logo.png", "openingHours": ", , , , , , "}'
)


def test_squarespace_empty_local_business_is_dropped_and_the_product_kept():
    product = jsonld(
        '{"@context": "http://schema.org/", "@type": "Product", "name": "Vase grès", '
        '"offers": {"@type": "Offer", "price": "45.00", "priceCurrency": "EUR", "availability": "InStock"}}'
    )
    website = jsonld(
        '{"@context": "http://schema.org", "@type": "WebSite", "name": "Poterie", "url": "https://poterie.example.fr"}'
    )
    result = extract_page(page(website + jsonld(SQUARESPACE_BUSINESS) + product), URL)
    assert result.shops == []
    assert [(p["name"], p["price"]) for p in result.products] == [("Vase grès", "45.00")]
    named = SQUARESPACE_BUSINESS.replace('"address": ""', '"name": "Poterie", "address": ""')
    assert extract_page(page(jsonld(named)), URL).shops == []


# -- through the spider ----------------------------------------------------------------------


def test_the_website_spider_reads_a_wix_page_into_a_record():
    source = Source(
        id="atelier-cire", name="Atelier Cire", url="https://boutique.example.fr/", town="Tours", postcode="37000"
    )
    spider = WebsiteSpider(source, "run-1")
    response = HtmlResponse(URL, body=WIX.encode(), encoding="utf-8", request=Request(URL))
    (record,) = [r for r in spider.parse_page(response) if isinstance(r, dict)]
    assert (record["name"], record["price"], record["availability"], record["shop_id"], record["url"]) == (
        "Bougie Figue",
        "18.50",
        "in_stock",
        "atelier-cire",
        "https://boutique.example.fr/product-page/bougie-figue",
    )
