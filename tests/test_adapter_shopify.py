"""Shopify adapter: pure functions over products.json / product.js payloads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.adapters import MalformedPayload, shopify

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "shopify"
BASE = "https://boutique.example.fr/"


def payload(*products) -> bytes:
    return json.dumps({"products": list(products)}).encode()


def raw(**changes) -> dict:
    product = {
        "id": 1,
        "title": "Café de Tours 250 g",
        "handle": "cafe-de-tours",
        "body_html": "<p>Torréfié <b>ici</b>.</p>",
        "vendor": "Brûlerie des Halles",
        "product_type": "Café",
        "tags": ["bio"],
        "variants": [
            {"id": 11, "sku": "CAF-1", "price": "9.50", "available": False, "barcode": "3760123456789"},
            {"id": 12, "sku": "CAF-2", "price": "8.30", "available": True, "barcode": ""},
        ],
        "images": [{"src": "//cdn.shopify.com/s/files/1/cafe.jpg?v=1"}, {"src": "//cdn.shopify.com/s/files/1/b.jpg"}],
    }
    product.update(changes)
    return product


def test_variants_fold_into_one_product_lowest_price_in_stock_if_any():
    (product,) = shopify.parse(payload(raw()), BASE, currency="EUR").products
    assert product == {
        "type": "product",
        "name": "Café de Tours 250 g",
        "price": "8.30",
        "price_high": "9.50",
        "currency": "EUR",
        "availability": "in_stock",
        "url": "https://boutique.example.fr/products/cafe-de-tours",
        "image": "https://cdn.shopify.com/s/files/1/cafe.jpg?v=1",
        "description": "Torréfié ici.",
        "brand": "Brûlerie des Halles",
        "sku": "CAF-2",
        "gtin": None,
        "category": "Café",
    }


def test_variants_at_one_price_make_no_range():
    variants = [{"sku": "A", "price": "5.00", "available": True}, {"sku": "B", "price": "5.0", "available": True}]
    (product,) = shopify.parse(payload(raw(variants=variants)), BASE, currency="EUR").products
    assert product["price"] == "5.00" and "price_high" not in product


def test_product_js_price_range_in_cents():
    single = raw(variants=[], price_min=1250, price_max=1990)
    (product,) = shopify.parse(json.dumps(single).encode(), BASE, currency="EUR").products
    assert (product["price"], product["price_high"]) == ("12.50", "19.90")


def test_all_variants_sold_out_is_out_of_stock():
    variants = [{"sku": "A", "price": "5.00", "available": False}, {"sku": "B", "price": "4.00", "available": False}]
    (product,) = shopify.parse(payload(raw(variants=variants)), BASE, currency="EUR").products
    assert product["availability"] == "out_of_stock" and product["price"] == "4.00"


def test_currency_is_never_guessed():
    page = shopify.parse(payload(raw()), BASE, currency=None)
    assert page.products[0]["currency"] is None and page.products[0]["price"] == "8.30"
    assert any("currency" in w for w in page.warnings)


@pytest.mark.parametrize(
    ("html", "currency"),
    [
        ('<script>Shopify.currency = {"active":"EUR","rate":"1.0"};</script>', "EUR"),
        ('<meta property="og:price:currency" content="EUR">', "EUR"),
        ('<script>var meta = {"product":{}, "currency":"CHF"};</script>', "CHF"),
        ("<p>Bienvenue</p>", None),
        ('<script>Shopify.currency = {"active":"XYZ"};</script>', None),
    ],
)
def test_currency_from_the_shop_pages(html, currency):
    assert shopify.currency_from_html(html) == currency


def test_pagination_until_an_empty_page_within_the_page_cap():
    page = shopify.parse(payload(raw()), BASE, page=1, currency="EUR")
    assert page.next_url == "https://boutique.example.fr/products.json?limit=250&page=2"
    assert shopify.parse(payload(), BASE, page=2).next_url is None
    capped = shopify.parse(payload(raw()), BASE, page=3, max_pages=3, currency="EUR")
    assert capped.next_url is None and any("page cap" in w for w in capped.warnings)


@pytest.mark.parametrize(
    "body", [b'{"products": [{"title": "x"', b"<html>Too many requests</html>", b'{"errors": "Not Found"}', b"[]"]
)
def test_malformed_pages_raise_a_clear_error(body):
    with pytest.raises(MalformedPayload):
        shopify.parse(body, BASE)


def test_products_without_title_or_with_junk_fields_are_skipped_or_tolerated():
    junk = raw(variants=[{"price": "abc", "available": "yes"}, "x"], images=None, handle=None, vendor=None)
    products = shopify.parse(payload({"handle": "no-title"}, junk, 42), BASE, currency="EUR").products
    assert len(products) == 1 and products[0]["price"] is None and products[0]["availability"] == "unknown"


@pytest.mark.skipif(not CORPUS.exists(), reason="corpus ../shared/corpus/shopify absent")
def test_real_product_js_payload_matches_the_corpus_ground_truth():
    document = CORPUS / "theme-scripts-ratio-eight.product.js.json"
    truth = json.loads((CORPUS / "theme-scripts-ratio-eight.product.js.expected.json").read_text())["products"][0]
    (product,) = shopify.parse(document.read_bytes(), "https://tk-narrative.myshopify.com/").products
    assert product["name"] == truth["name"]
    assert product["price"] == truth["price"]  # cents in product.js: 52000 -> 520.00, the lowest variant
    assert product["currency"] == truth["currency"]  # None: the payload does not say
    assert product["availability"] == truth["availability"]
    assert product["url"].endswith(truth["url"])
    assert product["image"] == truth["image"]
    assert product["description"].startswith(truth["description_prefix"])
    assert product["brand"] == truth["brand"]
    assert product["sku"] == truth["sku"] and product["gtin"] == truth["gtin"]


def test_currency_from_meta_json():
    assert shopify.currency_from_meta(b'{"name": "Boutique", "currency": "EUR"}') == "EUR"
    assert shopify.currency_from_meta(b"<html>") is None and shopify.currency_from_meta(b"[]") is None
