"""One small hand-written page per normalisation rule of ``extract_page``."""

from __future__ import annotations

import pytest

from crawler.extract import PageExtraction, extract_page
from crawler.extract.availability import normalise_availability
from crawler.extract.hours import normalise_opening_hours

PAGE_URL = "https://boutique.example.fr/produits/bol-gres"
PRODUCT_KEYS = {
    "type",
    "name",
    "price",
    "currency",
    "availability",
    "url",
    "image",
    "description",
    "brand",
    "sku",
    "gtin",
    "category",
}
SHOP_KEYS = {"type", "name", "url", "address", "postcode", "town", "lat", "lon", "telephone", "opening_hours"}


def page(head: str = "", body: str = "") -> str:
    return f"<!DOCTYPE html><html lang='fr'><head><meta charset='utf-8'>{head}</head><body>{body}</body></html>"


def jsonld(text: str) -> str:
    return f'<script type="application/ld+json">{text}</script>'


def only_product(result: PageExtraction) -> dict:
    assert len(result.products) == 1, result.products
    product = result.products[0]
    assert set(product) - {"price_high"} == PRODUCT_KEYS  # price_high only with several prices
    return product


# -- JSON-LD shapes ---------------------------------------------------------------


def test_product_inside_a_graph_with_id_references_is_found():
    html = page(
        jsonld("""{"@context": "https://schema.org", "@graph": [
        {"@type": "WebPage", "@id": "#page"},
        {"@type": "ImageObject", "@id": "#img", "url": "/img/bol.jpg"},
        {"@type": "Product", "name": "Bol en grès", "image": {"@id": "#img"},
         "offers": {"@type": "Offer", "price": "24.00", "priceCurrency": "EUR",
                    "availability": "https://schema.org/InStock"}}]}""")
    )
    product = only_product(extract_page(html, PAGE_URL))
    assert product["name"] == "Bol en grès"
    assert product["price"] == "24.00"
    assert product["currency"] == "EUR"
    assert product["availability"] == "in_stock"
    assert product["image"] == "https://boutique.example.fr/img/bol.jpg"
    assert product["url"] == PAGE_URL


def test_every_product_of_an_item_list_is_returned_on_a_listing_page():
    items = ",".join(
        f'{{"@type": "ListItem", "position": {i}, "item": {{"@type": "Product", "name": "Tasse {i}", '
        f'"url": "/produits/tasse-{i}", "offers": {{"@type": "Offer", "price": "{i}.50", "priceCurrency": "EUR"}}}}}}'
        for i in (1, 2, 3)
    )
    html = page(jsonld(f'{{"@context": "https://schema.org", "@type": "ItemList", "itemListElement": [{items}]}}'))
    products = extract_page(html, "https://boutique.example.fr/categorie/tasses").products
    assert [p["name"] for p in products] == ["Tasse 1", "Tasse 2", "Tasse 3"]
    assert [p["url"] for p in products] == [f"https://boutique.example.fr/produits/tasse-{i}" for i in (1, 2, 3)]
    assert [p["price"] for p in products] == ["1.50", "2.50", "3.50"]


def test_a_top_level_json_array_of_nodes_is_read():
    html = page(jsonld('[{"@type": "WebSite", "name": "x"}, {"@type": "Product", "name": "Vase", "sku": "V1"}]'))
    assert only_product(extract_page(html, PAGE_URL))["sku"] == "V1"


@pytest.mark.parametrize(
    "script",
    [
        '/*<![CDATA[*/{"@type": "Product", "name": "Vase", "sku": "V1",}/*]]>*/',
        '<!-- {"@type": "Product", "name": "Vase", "sku": "V1"} -->',
        '{"@type": "Product", // commentaire\n "name": "Vase", "sku": "V1", /* x */ }',
        '{"@type": "Product", "name": "Vase",\n "sku": "V1", "description": "ligne 1\nligne 2",}',
    ],
    ids=["cdata-and-trailing-comma", "html-comment", "js-comments", "raw-newline-in-string"],
)
def test_almost_json_is_read(script):
    product = only_product(extract_page(page(jsonld(script)), PAGE_URL))
    assert (product["name"], product["sku"]) == ("Vase", "V1")


def test_an_unreadable_script_does_not_hide_the_others():
    html = page(jsonld("{not json at all") + jsonld('{"@type": "Product", "name": "Vase", "sku": "V1"}'))
    assert only_product(extract_page(html, PAGE_URL))["name"] == "Vase"


def test_html_entities_inside_json_ld_are_decoded():
    html = page(
        jsonld("""{"@type": "Product", "name": "Noir &amp; Argent l&#039;original",
        "description": "&lt;p&gt;Un &lt;strong&gt;bol&lt;/strong&gt; &amp;amp; sa soucoupe&lt;/p&gt;",
        "image": "https://cdn.example.fr/i.jpg?w=80&amp;h=80", "sku": "B1"}""")
    )
    product = only_product(extract_page(html, PAGE_URL))
    assert product["name"] == "Noir & Argent l'original"
    assert product["description"] == "Un bol & sa soucoupe"
    assert product["image"] == "https://cdn.example.fr/i.jpg?w=80&h=80"


def test_wix_capitalised_properties_and_lowercase_types_are_understood():
    html = page(
        jsonld("""{"@context": "https://schema.org/", "@type": "product", "name": "Savon",
        "brand": {"@type": "brand", "name": "Savonnerie du Port"},
        "Offers": {"@type": "Offer", "price": "6.90", "priceCurrency": "EUR", "Availability": "OutOfStock"}}""")
    )
    product = only_product(extract_page(html, PAGE_URL))
    assert (product["price"], product["availability"], product["brand"]) == (
        "6.90",
        "out_of_stock",
        "Savonnerie du Port",
    )


def test_product_nested_in_aggregate_rating_item_reviewed_is_found():
    html = page(
        jsonld("""{"@type": "AggregateRating", "ratingValue": 4.5, "reviewCount": 12,
        "itemReviewed": {"@type": "Product", "name": "Micro-ondes",
        "offers": {"@type": "AggregateOffer", "lowPrice": 109.0, "highPrice": 129.0, "priceCurrency": "EUR"}}}""")
    )
    product = only_product(extract_page(html, PAGE_URL))
    assert (product["name"], product["price"]) == ("Micro-ondes", "109.00")


# -- offers -------------------------------------------------------------------------


def test_aggregate_offer_gives_the_low_price_and_in_stock_if_any_offer_is():
    html = page(
        jsonld("""{"@type": "Product", "name": "Thé", "offers": {"@type": "AggregateOffer",
        "lowPrice": "5.29", "highPrice": "9.56", "priceCurrency": "EUR", "offers": [
        {"@type": "Offer", "price": "9.56", "availability": "http://schema.org/OutOfStock"},
        {"@type": "Offer", "price": "5.29", "availability": "http://schema.org/InStock"}]}}""")
    )
    product = only_product(extract_page(html, PAGE_URL))
    assert (product["price"], product["currency"], product["availability"]) == ("5.29", "EUR", "in_stock")
    assert product["price_high"] == "9.56"


def test_offer_arrays_give_the_lowest_price():
    html = page(
        jsonld("""{"@type": "Product", "name": "Café", "offers": [
        {"@type": "Offer", "price": 39.98, "priceCurrency": "EUR", "availability": "SoldOut"},
        {"@type": "Offer", "price": 19.99, "priceCurrency": "EUR", "availability": "SoldOut"}]}""")
    )
    product = only_product(extract_page(html, PAGE_URL))
    assert (product["price"], product["availability"]) == ("19.99", "out_of_stock")
    assert product["price_high"] == "39.98"


def test_aggregate_offer_high_price_alone_makes_a_range():
    html = page(
        jsonld("""{"@type": "Product", "name": "Micro-ondes", "offers": {"@type": "AggregateOffer",
        "lowPrice": 109.0, "highPrice": "129", "priceCurrency": "EUR", "offerCount": 3}}""")
    )
    product = only_product(extract_page(html, PAGE_URL))
    assert (product["price"], product["price_high"]) == ("109.00", "129.00")


def test_one_price_or_equal_prices_make_no_range():
    single = page(
        jsonld("""{"@type": "Product", "name": "Bol", "offers": {"@type": "Offer",
        "price": "12.50", "priceCurrency": "EUR"}}""")
    )
    assert "price_high" not in only_product(extract_page(single, PAGE_URL))
    same = page(
        jsonld("""{"@type": "Product", "name": "Bol", "offers": [
        {"@type": "Offer", "price": "12.50", "priceCurrency": "EUR"},
        {"@type": "Offer", "price": "12.5", "priceCurrency": "EUR"}]}""")
    )
    assert "price_high" not in only_product(extract_page(same, PAGE_URL))


def test_offers_in_another_currency_make_no_range():
    html = page(
        jsonld("""{"@type": "Product", "name": "Montre", "offers": [
        {"@type": "Offer", "price": "100", "priceCurrency": "EUR"},
        {"@type": "Offer", "price": "130", "priceCurrency": "CHF"},
        {"@type": "Offer", "price": "120", "priceCurrency": "EUR"}]}""")
    )
    product = only_product(extract_page(html, PAGE_URL))
    assert (product["price"], product["currency"], product["price_high"]) == ("100.00", "EUR", "120.00")


def test_variants_of_a_product_group_give_the_price_range():
    html = page(
        jsonld("""{"@type": "ProductGroup", "name": "Pull marin", "hasVariant": [
        {"@type": "Product", "name": "Pull marin S",
         "offers": {"@type": "Offer", "price": "59", "priceCurrency": "EUR"}},
        {"@type": "Product", "name": "Pull marin XL",
         "offers": {"@type": "Offer", "price": "65", "priceCurrency": "EUR"}}]}""")
    )
    product = next(p for p in extract_page(html, PAGE_URL).products if p["name"] == "Pull marin")
    assert (product["price"], product["price_high"]) == ("59.00", "65.00")


def test_price_only_in_price_specification_skips_the_list_price():
    html = page(
        jsonld("""{"@type": "Product", "name": "Mangeoire", "offers": {"@type": "Offer",
        "availability": "https://schema.org/BackOrder", "priceSpecification": [
        {"@type": "UnitPriceSpecification", "price": "249.00", "priceCurrency": "EUR",
         "priceType": "https://schema.org/ListPrice"},
        {"@type": "UnitPriceSpecification", "price": "149.00", "priceCurrency": "EUR"}]}}""")
    )
    product = only_product(extract_page(html, PAGE_URL))
    assert (product["price"], product["currency"], product["availability"]) == ("149.00", "EUR", "preorder")
    assert "price_high" not in product  # a list price is not a dearer offer


def test_an_empty_offer_price_stays_none_without_dropping_the_product():
    html = page(
        jsonld("""{"@type": "Product", "name": "Applique", "offers": {"@type": "Offer",
        "price": {}, "priceCurrency": "USD", "availability": "http://schema.org/OutOfStock"}}""")
    )
    product = only_product(extract_page(html, PAGE_URL))
    assert (product["price"], product["currency"], product["availability"]) == (None, "USD", "out_of_stock")


def test_a_product_group_takes_price_and_stock_from_its_variants():
    html = page(
        jsonld("""{"@type": "ProductGroup", "name": "Boucle", "sku": "TX06", "productGroupID": 123,
        "hasVariant": [
          {"@type": "Product", "sku": "TX06BT", "offers": {"@type": "Offer", "price": "335", "priceCurrency": "USD",
           "availability": "https://schema.org/OutOfStock"}},
          {"@type": "Product", "sku": "TX06CC", "offers": {"@type": "Offer", "price": "325", "priceCurrency": "USD",
           "availability": "https://schema.org/InStock"}}]}""")
    )
    product = only_product(extract_page(html, PAGE_URL))
    assert (product["sku"], product["price"], product["availability"]) == ("TX06", "325.00", "in_stock")


def test_one_product_per_variant_node_is_folded_into_one_product():
    variants = ",".join(
        f'{{"@type": "Product", "name": "T-SHIRT CÔTELÉ", "sku": "62233813-{size}", '
        f'"offers": {{"@type": "Offer", "price": "7.95", "priceCurrency": "EUR", "availability": "{state}"}}}}'
        for size, state in (("9", "OutOfStock"), ("12", "InStock"), ("18", "InStock"))
    )
    product = only_product(extract_page(page(jsonld(f"[{variants}]")), PAGE_URL))
    assert (product["sku"], product["price"], product["availability"]) == ("62233813-9", "7.95", "in_stock")


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        ("http://schema.org/InStock", "in_stock"),
        ("https://schema.org/LimitedAvailability", "in_stock"),
        ("InStock", "in_stock"),
        ("in stock", "in_stock"),
        ("In Stock", "in_stock"),
        ("instock", "in_stock"),
        ("in_stock", "in_stock"),
        ("schema:OnlineOnly", "in_stock"),
        ("OutOfStock", "out_of_stock"),
        ("http://schema.org/SoldOut", "out_of_stock"),
        ("Discontinued", "out_of_stock"),
        ("oos", "out_of_stock"),
        ("out of stock", "out_of_stock"),
        ("PreOrder", "preorder"),
        ("https://schema.org/PreSale", "preorder"),
        ("BackOrder", "preorder"),
        ("backorder", "preorder"),
        ("", None),
        ("peut-être", None),
        (None, None),
    ],
)
def test_availability_forms_map_to_four_values(declared, expected):
    assert normalise_availability(declared) == expected


def test_nothing_declared_means_unknown_availability():
    html = page(jsonld('{"@type": "Product", "name": "Vase", "offers": {"price": "10", "priceCurrency": "EUR"}}'))
    assert only_product(extract_page(html, PAGE_URL))["availability"] == "unknown"


# -- URLs ---------------------------------------------------------------------------


def test_relative_urls_resolve_against_base_href_and_canonical_wins():
    html = page(
        '<base href="https://cdn.example.fr/boutique/"><link rel="canonical" href="/produits/bol">',
        '<div itemscope itemtype="https://schema.org/Product"><span itemprop="name">Bol</span>'
        '<img itemprop="image" src="img/bol.jpg"><a itemprop="url" href="produits/bol?ref=x">lien</a>'
        '<div itemprop="offers" itemscope itemtype="https://schema.org/Offer">'
        '<meta itemprop="price" content="12.5"><meta itemprop="priceCurrency" content="EUR"></div></div>',
    )
    result = extract_page(html, "https://boutique.example.fr/p?id=3")
    product = only_product(result)
    assert result.canonical_url == "https://cdn.example.fr/produits/bol"
    assert product["url"] == "https://cdn.example.fr/produits/bol"
    assert product["image"] == "https://cdn.example.fr/boutique/img/bol.jpg"
    assert product["price"] == "12.50"


def test_protocol_relative_images_get_https():
    html = page(jsonld('{"@type": "Product", "name": "Vase", "sku": "V", "image": ["//cdn.example.fr/v.jpg"]}'))
    assert only_product(extract_page(html, PAGE_URL))["image"] == "https://cdn.example.fr/v.jpg"


# -- several syntaxes -----------------------------------------------------------------


def test_the_same_product_in_json_ld_and_microdata_is_one_record():
    html = page(
        jsonld(
            '{"@type": "Product", "name": "Sérum", '
            '"offers": {"@type": "Offer", "price": "130", "priceCurrency": "EUR"}}'
        ),
        '<div itemscope itemtype="http://schema.org/Product"><meta itemprop="sku" content="030-VE">'
        '<link itemprop="url" href="https://boutique.example.fr/serum/"></div>',
    )
    result = extract_page(html, "https://boutique.example.fr/serum/")
    product = only_product(result)
    assert (product["name"], product["price"], product["sku"]) == ("Sérum", "130.00", "030-VE")
    assert result.syntaxes == ["json-ld", "microdata"]


def test_opengraph_fills_what_microdata_lacks():
    html = page(
        '<meta property="og:type" content="product"><meta property="og:title" content="Évier inox">'
        '<meta property="og:image" content="//img.example.fr/evier.jpg">'
        '<meta property="product:price:amount" content="329.99"><meta property="product:price:currency" content="EUR">'
        '<meta property="product:availability" content="in stock">'
        '<meta property="og:description" content="Achetez vite">',
        '<div itemscope itemtype="http://schema.org/Product"><h1 itemprop="name">Évier inox</h1>'
        '<meta itemprop="sku" content="127"></div>',
    )
    product = only_product(extract_page(html, PAGE_URL))
    assert (product["price"], product["currency"], product["availability"]) == ("329.99", "EUR", "in_stock")
    assert product["image"] == "https://img.example.fr/evier.jpg"
    assert product["description"] is None  # og:description is the page blurb, not the product text


def test_opengraph_only_product_page():
    html = page(
        '<meta property="og:type" content="product"><meta property="og:title" content="Sac à dos 40L">'
        '<meta property="og:url" content="https://boutique.example.fr/sac">'
        '<meta property="product:retailer_item_id" content="SAC40">'
        '<meta property="og:price:amount" content="39,99"><meta property="og:price:currency" content="EUR">'
        '<meta property="product:availability" content="oos">'
    )
    result = extract_page(html, "https://boutique.example.fr/sac?utm_source=x")
    product = only_product(result)
    assert (product["name"], product["price"], product["currency"]) == ("Sac à dos 40L", "39.99", "EUR")
    assert (product["sku"], product["availability"], product["url"]) == (
        "SAC40",
        "out_of_stock",
        "https://boutique.example.fr/sac",
    )
    assert result.syntaxes == ["opengraph"]


def test_related_product_carousel_is_not_returned():
    related = "".join(
        f'<div itemscope itemtype="http://schema.org/Product"><span itemprop="name">Autre {i}</span>'
        f'<div itemprop="offers" itemscope itemtype="http://schema.org/Offer"><span itemprop="price">44,99</span>'
        f'<meta itemprop="priceCurrency" content="EUR"></div></div>'
        for i in range(5)
    )
    main = (
        '<section itemscope itemtype="http://schema.org/Product"><h1 itemprop="name">Montre Casio</h1>'
        '<span itemprop="productID">Ca304103</span><div itemprop="offers" itemscope itemtype="http://schema.org/Offer">'
        '<span itemprop="price" content="259.00">259 €</span>'
        '<span itemprop="priceCurrency" content="EUR">€</span></div></section>'
    )
    product = only_product(extract_page(page(body=main + related), PAGE_URL))
    assert (product["name"], product["price"], product["sku"]) == ("Montre Casio", "259.00", "Ca304103")


def test_product_scope_on_body_keeps_the_first_name_not_the_carousel_names():
    html = (
        "<html><head></head><body itemscope itemtype='http://schema.org/Product'>"
        "<h1 itemprop='name'>Code du travail</h1><meta itemprop='sku' content='978'>"
        "<div itemprop='offers' itemscope itemtype='http://schema.org/Offer'>"
        "<span itemprop='price'> 71,91 € 79,90 € </span><meta itemprop='priceCurrency' content='EUR'></div>"
        "<ul><li><a itemprop='name'>Autre livre</a></li><li><a itemprop='name'>Encore un</a></li></ul></body></html>"
    )
    product = only_product(extract_page(html, PAGE_URL))
    assert (product["name"], product["price"]) == ("Code du travail", "71.91")


def test_microdata_french_price_text_and_lowercase_property_names():
    html = page(
        body=(
            '<div itemscope itemtype="http://schema.org/Product"><span itemprop="name">Canapé</span>'
            '<meta itemprop="sku" content="C1"><div itemprop="offers" itemscope itemtype="http://schema.org/Offer">'
            '<span itemprop="price">1 299,00 €</span><meta itemprop="pricecurrency" content="eur">'
            '<link itemprop="availability" href="http://schema.org/InStock"></div></div>'
        )
    )
    product = only_product(extract_page(html, PAGE_URL))
    assert (product["price"], product["currency"], product["availability"]) == ("1299.00", "EUR", "in_stock")


def test_shopify_cents_in_microdata_are_fixed_when_the_visible_price_confirms():
    card = (
        '<article itemscope itemtype="http://schema.org/Product"><meta itemprop="name" content="Trio baume">'
        '<meta itemprop="url" content="https://shop.example.com/products/trio">'
        '<div itemprop="offers" itemscope itemtype="http://schema.org/Offer">'
        '<meta itemprop="priceCurrency" content="USD">'
        '<meta itemprop="price" content="4995"><meta itemprop="availability" content="In Stock"></div>'
        "<p>Sale price €49,95</p></article>"
    )
    html = page('<link rel="preconnect" href="https://cdn.shopify.com">', card)
    product = only_product(extract_page(html, "https://shop.example.com/collections/sets"))
    assert (product["price"], product["currency"]) == ("49.95", "EUR")


def test_large_integer_prices_are_left_alone_outside_shopify():
    html = page(
        jsonld('{"@type": "Product", "name": "Piano", "offers": {"price": "1599", "priceCurrency": "EUR"}}'),
        '<div itemscope itemtype="http://schema.org/Product"><meta itemprop="name" content="Piano">'
        '<div itemprop="offers" itemscope itemtype="http://schema.org/Offer"><meta itemprop="price" content="1599">'
        "</div><p>€15,99 livraison</p></div>",
    )
    assert only_product(extract_page(html, PAGE_URL))["price"] == "1599.00"


def test_rdfa_lite_product_is_read():
    html = page(
        body=(
            '<div vocab="https://schema.org/" typeof="Product"><span property="name">Pichet</span>'
            '<img property="image" src="/pichet.jpg">'
            '<span property="brand" typeof="Brand"><span property="name">Gien</span></span>'
            '<div property="offers" typeof="Offer"><span property="price" content="45.00">45 €</span>'
            '<meta property="priceCurrency" content="EUR"><link property="availability" href="https://schema.org/InStock"></div></div>'
        )
    )
    result = extract_page(html, PAGE_URL)
    product = only_product(result)
    assert (product["name"], product["price"], product["currency"]) == ("Pichet", "45.00", "EUR")
    assert (product["brand"], product["availability"]) == ("Gien", "in_stock")
    assert product["image"] == "https://boutique.example.fr/pichet.jpg"
    assert "rdfa" in result.syntaxes


# -- what must not become a product -----------------------------------------------------


def test_pseudo_product_with_only_a_name_and_rating_is_dropped():
    html = page(
        jsonld("""{"@type": "Product", "name": "Barbecue charbon", "description": "Nos barbecues",
        "aggregateRating": {"@type": "AggregateRating", "ratingValue": "4.8", "reviewCount": "120"}}""")
    )
    assert extract_page(html, "https://boutique.example.fr/11-barbecue-charbon").products == []


def test_services_in_an_offer_catalog_are_not_products():
    html = page(
        jsonld("""{"@type": "LocalBusiness", "name": "Gym", "hasOfferCatalog": {"@type": "OfferCatalog",
        "itemListElement": [{"@type": "Offer", "itemOffered": {"@type": "Service", "name": "Réparation"}}]}}""")
    )
    assert extract_page(html, PAGE_URL).products == []


def test_template_placeholders_are_not_values():
    html = page(
        body=(
            '<div itemscope itemtype="http://schema.org/Product"><span itemprop="name">Brassière</span>'
            '<span itemprop="brand">$metabrand</span><meta itemprop="sku" content="VE900"></div>'
        )
    )
    assert only_product(extract_page(html, PAGE_URL))["brand"] is None


def test_hostile_markup_in_values_is_returned_as_plain_text():
    html = page(
        jsonld(
            # "<\/script>" as JSON encoders write it: a raw "</script>" would end the element
            '{"@type": "Product", "name": "Bol <script>alert(1)<\\/script><b>rouge<\\/b>",'
            ' "sku": "B<img src=x onerror=alert(1)>1",'
            '"description": "&lt;script&gt;document.cookie&lt;/script&gt;Très beau", "image": "javascript:alert(1)"}'
        )
    )
    product = only_product(extract_page(html, PAGE_URL))
    assert product["name"] == "Bol rouge"
    assert product["description"] == "Très beau"
    assert product["sku"] == "B1"
    assert product["image"] is None
    for value in product.values():
        assert "<" not in str(value) and "alert" not in str(value)


# -- shops ----------------------------------------------------------------------------------


def test_local_business_becomes_a_shop_with_normalised_hours():
    html = page(
        jsonld("""{"@context": "https://schema.org", "@type": "Bakery", "name": "Boulangerie Martin",
        "url": "/", "telephone": "+33 4 75 00 00 00",
        "address": {"@type": "PostalAddress", "streetAddress": "12 rue des Halles", "postalCode": "26000",
                    "addressLocality": "Valence", "addressCountry": "FR"},
        "geo": {"@type": "GeoCoordinates", "latitude": "44.9334", "longitude": 4.8924},
        "openingHoursSpecification": [
          {"@type": "OpeningHoursSpecification",
           "dayOfWeek": ["https://schema.org/Tuesday", "Wednesday", "Thursday", "Friday"],
           "opens": "07:00:00", "closes": "19:30:00"},
          {"@type": "OpeningHoursSpecification", "dayOfWeek": "Saturday", "opens": "7:00", "closes": "13:00"}]}""")
    )
    result = extract_page(html, "https://boulangerie-martin.example.fr/contact")
    assert result.products == []
    assert len(result.shops) == 1
    shop = result.shops[0]
    assert set(shop) == SHOP_KEYS
    assert shop == {
        "type": "shop",
        "name": "Boulangerie Martin",
        "url": "https://boulangerie-martin.example.fr/",
        "address": "12 rue des Halles",
        "postcode": "26000",
        "town": "Valence",
        "lat": 44.9334,
        "lon": 4.8924,
        "telephone": "+33 4 75 00 00 00",
        "opening_hours": ["Tu-Fr 07:00-19:30", "Sa 07:00-13:00"],
    }


def test_microdata_restaurant_with_several_opening_hours():
    html = page(
        body=(
            '<div itemscope itemtype="http://schema.org/Restaurant"><h1 itemprop="name">GreatFood</h1>'
            '<div itemprop="address" itemscope itemtype="http://schema.org/PostalAddress">'
            '<span itemprop="streetAddress">1901 Lemur Ave</span><span itemprop="addressLocality">Sunnyvale</span>'
            '<span itemprop="postalCode">94086</span></div><span itemprop="telephone">(408) 714-1489</span>'
            '<meta itemprop="openingHours" content="Mo-Sa 11:00-14:30">'
            '<meta itemprop="openingHours" content="Mo-Th 17:00-21:30"></div>'
        )
    )
    shop = extract_page(html, "").shops[0]
    assert (shop["name"], shop["town"], shop["postcode"]) == ("GreatFood", "Sunnyvale", "94086")
    assert shop["opening_hours"] == ["Mo-Sa 11:00-14:30", "Mo-Th 17:00-21:30"]


def test_free_text_address_is_split_into_street_postcode_and_town():
    html = page(
        jsonld(
            '{"@type": "LocalBusiness", "name": "Fleurs", "address": "3 place du Marché\\n07000 Privas\\nFrance",'
            ' "openingHours": ", , , , , Sa 10:00-14:00, "}'
        )
    )
    shop = extract_page(html, PAGE_URL).shops[0]
    assert (shop["address"], shop["postcode"], shop["town"]) == ("3 place du Marché", "07000", "Privas")
    assert shop["opening_hours"] == ["Sa 10:00-14:00"]


@pytest.mark.parametrize(
    "node",
    [
        '{"@type": "LocalBusiness", "name": "Boutique", "address": "", "openingHours": ", , , , , , "}',
        (
            '{"@type": "Store", "name": "Boutique", "address": {"streetAddress": "[%=ADDRESS_LINE_1%]",'
            ' "addressLocality": "[%=CITY%]", "postalCode": "[%=ZIP%]"}}'
        ),
        '{"@type": "Organization", "name": "Marque", "logo": "/logo.png"}',
    ],
    ids=["empty-address", "template-placeholders", "organization-without-address"],
)
def test_template_or_addressless_business_nodes_do_not_yield_a_shop(node):
    assert extract_page(page(jsonld(node)), PAGE_URL).shops == []


def test_organization_and_local_business_for_the_same_shop_are_one_shop():
    html = page(
        jsonld("""[{"@type": "Organization", "name": "Gym",
        "address": {"streetAddress": "2520 Cir", "postalCode": "91320"},
        "contactPoint": {"telephone": "+1-888"}},
        {"@type": "LocalBusiness", "name": "Gym", "address": {"streetAddress": "2520 Cir", "postalCode": "91320"},
         "openingHours": "Mo-Fr 08:00-18:00", "geo": {"latitude": 34.18, "longitude": -118.9}}]""")
    )
    shops = extract_page(html, PAGE_URL).shops
    assert len(shops) == 1
    assert (shops[0]["opening_hours"], shops[0]["lat"], shops[0]["telephone"]) == (
        ["Mo-Fr 08:00-18:00"],
        34.18,
        "+1-888",
    )


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        (["Mo, Tu, We, Th,Fr08:00-17:00"], ["Mo-Fr 08:00-17:00"]),
        (["Mo-Sa 11:00-14:30", "Fr-Sa 17:00-22:00"], ["Mo-Sa 11:00-14:30", "Fr-Sa 17:00-22:00"]),
        (["Lundi au vendredi 9h-19h"], ["Mo-Fr 09:00-19:00"]),
        (["Mo,We,Fr 10:00-12:00"], ["Mo,We,Fr 10:00-12:00"]),
        ([", , , , , , "], []),
    ],
)
def test_opening_hours_strings_are_normalised(declared, expected):
    assert normalise_opening_hours(declared) == expected


def test_specification_with_only_a_day_name_keeps_the_days():
    assert normalise_opening_hours([], [({"name": "Mon to Fri"}, None, None)]) == ["Mo-Fr"]


# -- page-level flags and robustness -------------------------------------------------------------


def test_login_wall_is_flagged():
    html = page(
        '<meta property="og:type" content="website"><title>Connexion - Ma boutique</title>',
        '<form><input type="email" name="login"><input type="password" name="pwd"></form>',
    )
    result = extract_page(html, "https://boutique.example.fr/account/login")
    assert result.login_required is True
    assert result.products == []


def test_product_page_is_not_a_login_wall_even_with_a_login_modal():
    html = page(jsonld('{"@type": "Product", "name": "Vase", "sku": "V"}'), '<input type="password">')
    assert extract_page(html, PAGE_URL).login_required is False


def test_a_login_pop_up_on_an_ordinary_page_is_not_a_login_wall():
    html = page(
        "<title>Location de matériel</title>",
        '<div id="login-form-popup"><input type="password" name="password"></div><p>Nos services</p>',
    )
    assert extract_page(html, "https://salle.example.fr/services/location/").login_required is False


@pytest.mark.parametrize("html", [b"", "", b"   ", b"\x00\xff\xfe", "<html", "<<<>>>", b"<?xml version='1.0'?><x/>"])
def test_empty_or_garbage_input_gives_an_empty_extraction(html):
    result = extract_page(html, PAGE_URL)
    assert result.products == [] and result.shops == []


def test_str_input_with_an_xml_declaration_is_accepted():
    html = "<?xml version='1.0' encoding='utf-8'?>" + page(jsonld('{"@type": "Product", "name": "Épée", "sku": "E"}'))
    assert only_product(extract_page(html, PAGE_URL))["name"] == "Épée"


def test_declared_latin1_encoding_is_honoured():
    html = page(jsonld('{"@type": "Product", "name": "Théière", "sku": "T"}')).replace("utf-8", "iso-8859-1")
    assert only_product(extract_page(html.encode("latin-1"), PAGE_URL))["name"] == "Théière"
