"""Adapters read untrusted payloads: whatever a shop sends, they return products or raise
MalformedPayload, and every product they return has the shape the records expect."""

from __future__ import annotations

import contextlib
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.adapters import PRODUCT_KEYS, MalformedPayload, feeds, shopify, woocommerce

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BASE = "https://boutique.example.fr/"

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.sampled_from(["12.50", "1290", "-3", "NaN", "1e400", "//cdn/x.jpg", "javascript:alert(1)"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=6)),
    max_leaves=12,
)
SHOPIFY_KEYS = [
    "title",
    "handle",
    "body_html",
    "vendor",
    "product_type",
    "variants",
    "images",
    "price",
    "available",
    "image",
]
VARIANT_KEYS = ["price", "available", "sku", "barcode"]
WOO_KEYS = ["name", "permalink", "prices", "is_in_stock", "is_on_backorder", "images", "categories", "brands", "sku"]


def shaped(keys, values):
    return st.dictionaries(st.sampled_from(keys), values, max_size=len(keys))


def check(products):
    for product in products:
        assert set(product) == set(PRODUCT_KEYS)
        assert product["availability"] in ("in_stock", "out_of_stock", "preorder", "unknown")
        assert product["price"] is None or (isinstance(product["price"], str) and not product["price"].startswith("-"))
        for key in ("url", "image"):
            assert product[key] is None or product[key].startswith(("http://", "https://"))


@SETTINGS
@given(
    st.lists(
        st.one_of(
            shaped(SHOPIFY_KEYS, st.one_of(json_values, st.lists(shaped(VARIANT_KEYS, json_values), max_size=3))),
            json_values,
        ),
        max_size=4,
    )
)
def test_shopify_never_crashes(products):
    with contextlib.suppress(MalformedPayload):
        check(shopify.parse(json.dumps({"products": products}), BASE, currency="EUR").products)


@SETTINGS
@given(
    st.lists(
        st.one_of(
            shaped(
                WOO_KEYS,
                st.one_of(
                    json_values, shaped(["price", "currency_code", "currency_minor_unit", "price_range"], json_values)
                ),
            ),
            json_values,
        ),
        max_size=4,
    )
)
def test_woocommerce_never_crashes(products):
    with contextlib.suppress(MalformedPayload):
        check(woocommerce.parse(json.dumps(products), BASE).products)


FEED_PIECES = [
    "<g:price>",
    "</g:price>",
    "<item>",
    "</item>",
    "<g:title>x</g:title>",
    "8,30 EUR",
    "\t",
    ";",
    ",",
    "\n",
    "title",
    "price",
    "g:link",
    "\ufeff",
    "<entry>",
    "</entry>",
    '"',
    "<![CDATA[",
    "]]>",
    "&amp;",
    "&bogus;",
]


@SETTINGS
@given(
    st.lists(st.one_of(st.sampled_from(FEED_PIECES), st.text(max_size=8)), max_size=40),
    st.sampled_from(["", '<rss xmlns:g="http://base.google.com/ns/1.0"><channel>', "id,title,price,link\n"]),
)
def test_feeds_never_crash(pieces, prefix):
    body = (prefix + "".join(pieces)).encode("utf-8", "surrogatepass")
    with contextlib.suppress(MalformedPayload):
        check(feeds.parse(body, BASE).products)
