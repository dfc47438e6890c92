"""Property tests: extraction functions take untrusted input and never raise."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.extract import PageExtraction, extract_page, parse_price
from crawler.extract.hours import normalise_opening_hours

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Fragments of real product markup, recombined and mangled by hypothesis.
FRAGMENTS = [
    "<html>",
    "<head>",
    "</head>",
    "<body>",
    "</body>",
    "</html>",
    "<div>",
    "</div>",
    "<span>",
    "</span>",
    '<script type="application/ld+json">',
    "</script>",
    '<meta property="og:type" content="product">',
    '<meta property="product:price:amount" content="',
    '<div itemscope itemtype="http://schema.org/Product">',
    '<span itemprop="name">',
    '<div itemprop="offers" itemscope itemtype="http://schema.org/Offer">',
    '<meta itemprop="price" content="',
    '<div vocab="https://schema.org/" typeof="Product">',
    '<span property="name">',
    '<base href="',
    '<link rel="canonical" href="',
    '"',
    "'",
    ">",
    "<",
    "&amp;",
    "&#0;",
    "&#x110000;",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    '"@type": "Product"',
    '"offers": ',
    '"price": ',
    '"@graph": [',
    '"hasVariant": [',
    '"@id": "#x"',
    "/*<![CDATA[*/",
    "/*]]>*/",
    "<!--",
    "-->",
    "1 299,00 €",
    "NaN",
    "Infinity",
    "1e999",
    "-5",
    "//",
    "javascript:alert(1)",
    "\x00",
    "\ufeff",
    "é",
    "\ud7ff",
]
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text(max_size=20)
    | st.sampled_from(["Product", "Offer", "AggregateOffer", "LocalBusiness", "InStock", "EUR", "12,50", {}]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "@type",
                    "@id",
                    "@graph",
                    "name",
                    "offers",
                    "price",
                    "priceCurrency",
                    "availability",
                    "image",
                    "url",
                    "brand",
                    "sku",
                    "gtin13",
                    "hasVariant",
                    "address",
                    "geo",
                    "openingHours",
                    "openingHoursSpecification",
                    "itemReviewed",
                    "itemListElement",
                    "item",
                    "lowPrice",
                    "priceSpecification",
                    "dayOfWeek",
                    "opens",
                    "closes",
                    "latitude",
                    "streetAddress",
                ]
            ),
            children,
            max_size=6,
        )
    ),
    max_leaves=25,
)


def _check(result: PageExtraction) -> None:
    assert isinstance(result, PageExtraction)
    for product in result.products:
        assert product["type"] == "product"
        assert product["availability"] in {"in_stock", "out_of_stock", "preorder", "unknown"}
    for shop in result.shops:
        assert shop["type"] == "shop"


@SETTINGS
@given(st.binary(max_size=2000))
def test_extract_page_never_raises_on_arbitrary_bytes(data):
    _check(extract_page(data, "https://example.fr/p"))


@SETTINGS
@given(st.text(max_size=2000), st.sampled_from(["https://example.fr/p", "", "not a url", "http://[::1"]))
def test_extract_page_never_raises_on_arbitrary_text(text, url):
    _check(extract_page(text, url))


@SETTINGS
@given(st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=8), max_size=60))
def test_extract_page_never_raises_on_mangled_markup(parts):
    _check(extract_page("".join(parts), "https://example.fr/p"))


@SETTINGS
@given(JSON_VALUES)
def test_extract_page_never_raises_on_odd_json_ld(value):
    html = f'<html><head><script type="application/ld+json">{json.dumps(value)}</script></head></html>'
    _check(extract_page(html, "https://example.fr/p"))


@SETTINGS
@given(
    st.one_of(st.none(), st.text(max_size=40), st.integers(), st.floats(allow_nan=True, allow_infinity=True)),
    st.one_of(st.none(), st.text(max_size=10)),
    st.sampled_from([None, ".", ","]),
)
def test_parse_price_never_raises(text, currency_hint, decimal_separator):
    amount, currency = parse_price(text, currency_hint, decimal_separator)
    assert amount is None or amount.is_finite()
    assert currency is None or (len(currency) == 3 and currency.isupper())


@SETTINGS
@given(
    st.lists(st.text(max_size=40), max_size=4), st.lists(st.tuples(JSON_VALUES, JSON_VALUES, JSON_VALUES), max_size=3)
)
def test_opening_hours_never_raise(texts, specifications):
    assert isinstance(normalise_opening_hours(texts, specifications), list)
