"""The record schema: one definition, exported as JSON Schema, validated at the boundary."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from indexer.records import parse_record, price_string, product_id, record_json_schema

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "docs" / "record.schema.json"

PRODUCT = {
    "type": "product",
    "id": "cave-1",
    "source_id": "cave",
    "shop_id": "cave",
    "shop_name": "Cave du Vieux Chinon",
    "name": "Chinon rouge « Les Picasses » 2020",
    "url": "https://cave.example.fr/produit/chinon-picasses",
    "price": "14.5",
    "currency": "EUR",
    "availability": "in_stock",
}


def test_published_json_schema_matches_the_models():
    assert json.loads(SCHEMA_FILE.read_text()) == record_json_schema(), (
        "docs/record.schema.json is stale: regenerate it from indexer.records.record_json_schema()"
    )


def test_prices_keep_two_decimals_unless_more_were_declared():
    assert parse_record(PRODUCT).model_dump(mode="json")["price"] == "14.50"
    assert price_string(Decimal("1299")) == "1299.00"
    assert price_string(Decimal("0.125")) == "0.125"
    assert price_string(Decimal("12.500")) == "12.50" and price_string(Decimal("10.000")) == "10.00"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"url": "javascript:alert(1)"}, "url"),
        ({"availability": "maybe"}, "availability"),
        ({"currency": "euro"}, "currency"),
        ({"price": "-3"}, "price"),
        ({"name": ""}, "name"),
        ({"image": "data:image/png;base64,AAAA"}, "image"),
    ],
)
def test_invalid_records_are_rejected_naming_the_field(change, field):
    with pytest.raises(ValidationError) as caught:
        parse_record({**PRODUCT, **change})
    assert any(field in map(str, error["loc"]) for error in caught.value.errors())


def test_product_ids_are_stable_per_source_and_url():
    url = PRODUCT["url"]
    assert product_id("cave", url) == product_id("cave", url, sku="X")
    assert product_id("cave", url) != product_id("autre", url)
    assert product_id("cave", None, sku="A1") != product_id("cave", None, sku="A2")


def test_price_high_is_kept_only_above_the_price():
    ranged = parse_record({**PRODUCT, "price": "9.5", "price_high": "19"}).model_dump(mode="json")
    assert (ranged["price"], ranged["price_high"]) == ("9.50", "19.00")
    for high in ("9.50", "5", None):
        assert parse_record({**PRODUCT, "price": "9.5", "price_high": high}).price_high is None
    assert parse_record({**PRODUCT, "price": None, "price_high": "19"}).price_high is None


def test_source_url_is_an_http_url():
    record = parse_record({**PRODUCT, "source_url": "https://cave.example.fr/"})
    assert record.source_url == "https://cave.example.fr/"
    with pytest.raises(ValidationError):
        parse_record({**PRODUCT, "source_url": "javascript:alert(1)"})
