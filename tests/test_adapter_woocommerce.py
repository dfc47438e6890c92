"""WooCommerce Store API adapter: minor units, stock, pagination, malformed pages."""

from __future__ import annotations

import json

import pytest

from crawler.adapters import MalformedPayload, woocommerce

BASE = "https://cave.example.fr/"


def item(**changes) -> dict:
    product = {
        "id": 7,
        "name": "Chinon rouge 2022",
        "permalink": "https://cave.example.fr/produit/chinon-rouge/",
        "sku": "CH-22",
        "short_description": "<p>Cabernet franc &amp; tuffeau.</p>",
        "prices": {
            "price": "1290",
            "regular_price": "1490",
            "sale_price": "1290",
            "currency_code": "EUR",
            "currency_minor_unit": 2,
        },
        "is_in_stock": True,
        "is_on_backorder": False,
        "images": [{"src": "https://cave.example.fr/wp-content/uploads/chinon.jpg"}],
        "categories": [{"name": "Vins rouges"}],
        "brands": [{"name": "Domaine Baudry"}],
    }
    product.update(changes)
    return product


def test_store_product_fields():
    (product,) = woocommerce.parse(json.dumps([item()]), BASE, total_pages=1).products
    assert product == {
        "type": "product",
        "name": "Chinon rouge 2022",
        "price": "12.90",
        "currency": "EUR",
        "availability": "in_stock",
        "url": "https://cave.example.fr/produit/chinon-rouge/",
        "image": "https://cave.example.fr/wp-content/uploads/chinon.jpg",
        "description": "Cabernet franc & tuffeau.",
        "brand": "Domaine Baudry",
        "sku": "CH-22",
        "gtin": None,
        "category": "Vins rouges",
    }


@pytest.mark.parametrize(
    ("prices", "expected"),
    [
        ({"price": "1290", "currency_minor_unit": 2, "currency_code": "EUR"}, ("12.90", "EUR")),
        ({"price": "1290", "currency_minor_unit": 0, "currency_code": "JPY"}, ("1290.00", "JPY")),
        ({"price": "12900", "currency_minor_unit": 3, "currency_code": "TND"}, ("12.900", "TND")),
        (
            {
                "price": "1990",
                "currency_minor_unit": 2,
                "currency_code": "EUR",
                "price_range": {"min_amount": "1590", "max_amount": "2990"},
            },
            ("15.90", "EUR"),
        ),
        ({"price": "", "currency_code": "EUR"}, (None, None)),
    ],
)
def test_minor_units(prices, expected):
    (product,) = woocommerce.parse(json.dumps([item(prices=prices)]), BASE).products
    assert (product["price"], product["currency"]) == expected


def test_variable_product_price_range_gives_the_high_price():
    prices = {
        "price": "1990",
        "currency_minor_unit": 2,
        "currency_code": "EUR",
        "price_range": {"min_amount": "1590", "max_amount": "2990"},
    }
    (product,) = woocommerce.parse(json.dumps([item(prices=prices)]), BASE).products
    assert (product["price"], product["price_high"]) == ("15.90", "29.90")
    (simple,) = woocommerce.parse(json.dumps([item()]), BASE).products
    assert "price_high" not in simple


@pytest.mark.parametrize(
    ("flags", "availability"),
    [
        ({"is_in_stock": False}, "out_of_stock"),
        ({"is_in_stock": False, "is_on_backorder": True}, "preorder"),
        ({"is_in_stock": None}, "unknown"),
    ],
)
def test_stock(flags, availability):
    (product,) = woocommerce.parse(json.dumps([item(**flags)]), BASE).products
    assert product["availability"] == availability


def test_pagination_follows_total_pages_and_incremental_pulls():
    assert woocommerce.parse("[]", BASE, page=1, total_pages=5).next_url.endswith("per_page=100&page=2")
    assert woocommerce.parse("[]", BASE, page=5, total_pages=5).next_url is None
    url = woocommerce.first_request(BASE, modified_after="2026-11-01T00:00:00")
    assert "after=2026-11-01T00%3A00%3A00" in url and "date_column=modified" in url
    assert woocommerce.total_pages(b"7") == 7 and woocommerce.total_pages(None) is None


@pytest.mark.parametrize("body", ["<br /><b>Fatal error</b>", '{"code": "rest_no_route"}', '[{"name": "x"'])
def test_malformed_pages(body):
    with pytest.raises(MalformedPayload):
        woocommerce.parse(body, BASE)
