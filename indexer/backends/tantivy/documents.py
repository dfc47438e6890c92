"""Record → tantivy document: the fields one record is indexed under.

Products of one crawl run share their shop's fields, so those are computed once per shop
(:func:`_shop_fields`, cached) and the rest per record: a rebuild is bound by this
process's Python thread. The record itself is stored whole, as compact JSON, and is
what a search returns.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

import orjson

from indexer.analysis import name_head
from indexer.backends.base import TEXT_SOURCES
from indexer.backends.common import TIE_BITS, TIE_MASK, browse_rank, record_key
from indexer.backends.tantivy.cells import cached_geo_cells, day_cells, decimal_cells, key_bucket, point_term, seen_day
from indexer.backends.tantivy.schema import (
    DENSE_FIELDS,
    KEY_BUCKET,
    PRICE_CELL,
    SEEN_CELL,
    SET_FIELDS,
    SET_SEPARATOR,
    SHOP_HASH,
    shop_name_hash,
)
from indexer.records import price_string

NULL_PRICE = 1 << 62  # sorts after every real price in both directions
_SHOP_RAW_FIELDS = ("source_id", "run_id", "shop_id", "shop_name", "town")  # (as document_fields passes them)
_OWN_RAW_FIELDS = ("id", "type", "availability")


def epoch_seconds(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):  # (no cache: a catalogue's first_seen are mostly distinct)
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return int(value.timestamp())
    return int(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return price_string(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {value!r}")


def encode_record(record: dict[str, Any]) -> bytes:
    """The stored copy of a record as compact UTF-8 JSON (orjson: a rebuild is bound by
    this Python thread)."""
    return orjson.dumps(record, default=_json_default, option=orjson.OPT_PASSTHROUGH_DATETIME)


def decode_record(stored: Any) -> dict[str, Any]:
    return orjson.loads(stored)


@lru_cache(maxsize=65_536)
def _value_set(values: tuple) -> tuple:
    return tuple(v for v in dict.fromkeys(values) if v)


@lru_cache(maxsize=16_384)
def _shop_fields(
    is_product: bool, raw: tuple, lat: Any, lon: Any, categories: tuple, services: tuple
) -> dict[str, Any]:
    """The fields a document takes from its shop: every product of a run shares them.
    Read-only (lists shared by the documents of a shop)."""
    fields: dict[str, Any] = {}
    for name, value in zip(_SHOP_RAW_FIELDS, raw, strict=False):
        if value is not None and value != "":
            fields[name] = value if isinstance(value, str) else str(value)
    # Every document gets a value in every column a facet or a geo search counts, ""
    # for none (never shown): a column every document fills is counted faster than a
    # sparse one (no missing-value index to walk), and the shops' few thousand
    # documents made them all sparse.
    for name in DENSE_FIELDS:
        fields.setdefault(name, "")
    for name, values in (("categories", categories), ("services", services)):
        values = _value_set(values)
        if values:
            fields[name] = list(values)
        fields[SET_FIELDS[name]] = SET_SEPARATOR.join(sorted(values))  # "": the empty set
    fields["loc"] = ""
    if lat is not None and lon is not None:
        lat, lon = fields["lat"], fields["lon"] = float(lat), float(lon)
        if is_product:  # geo searches are product searches: shops get no cells
            fields["geo_cell"] = list(cached_geo_cells(lat, lon))
            fields["loc"] = point_term(lat, lon)
    fields[SHOP_HASH] = shop_name_hash(fields["shop_name"]) if fields["shop_name"] else 0  # dense too
    return fields


@lru_cache(maxsize=65_536)  # prices repeat across a catalogue
def _price_fields(price: str) -> tuple:
    """(price as float, its cells, its cents shifted for the sort keys)."""
    exact = Decimal(price)
    value = float(exact)
    return value, decimal_cells(value), int((exact * 100).to_integral_value()) << TIE_BITS


def _product_fields(record: dict[str, Any], fields: dict[str, Any], tie: int) -> None:
    """What only products carry: the name as words and head, price and its cells, the
    sort keys (the tie bits of the key break ties) and the first_seen day cells."""
    name = record["name"]
    fields["name_exact"] = fields["name_words"] = name
    head = name_head(name)
    if head:
        fields["name_head"] = head
    price = record.get("price")
    if price is not None and price != "":
        fields["price"], fields[PRICE_CELL], cents = _price_fields(str(price))
        fields["sort_price_asc"] = fields["sort_price_desc"] = cents | tie
    else:
        fields["sort_price_asc"] = NULL_PRICE | tie
        fields["sort_price_desc"] = -NULL_PRICE + tie
    fields["sort_newest"] = (fields.get("first_seen", 0) << TIE_BITS) | tie
    fields["sort_browse"] = (browse_rank(record) << TIE_BITS) | tie
    if "first_seen" in fields:
        fields[SEEN_CELL] = day_cells(seen_day(fields["first_seen"]))


def document_fields(record: dict[str, Any]) -> dict[str, Any]:
    """The tantivy fields of one record (a plain dict: ``Document.from_dict`` builds the
    document)."""
    get = record.get
    is_product = get("type") == "product"
    categories, services = get("categories"), get("services")
    fields = dict(
        _shop_fields(
            is_product,
            (get("source_id"), get("run_id"), get("shop_id"), get("shop_name"), get("town")),
            get("lat"),
            get("lon"),
            tuple(categories) if categories else (),
            tuple(services) if services else (),
        )
    )
    key = fields["key"] = record_key(record["id"])
    for name in _OWN_RAW_FIELDS:
        value = get(name)
        if value is not None and value != "":
            fields[name] = value if isinstance(value, str) else str(value)
    fields.setdefault("availability", "")
    if is_product:  # shops are listed, never searched by words
        for name, source in TEXT_SOURCES.items():
            value = get(source)
            if value:
                fields[name] = value
    for name in ("first_seen", "last_seen"):
        seconds = epoch_seconds(get(name))
        if seconds is not None:
            fields[name] = seconds
    fields["name_exact"] = ""
    if is_product:
        _product_fields(record, fields, key & TIE_MASK)
    fields[KEY_BUCKET] = key_bucket(key)
    fields["record"] = encode_record(record)
    return fields
