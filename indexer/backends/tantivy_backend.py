"""The embedded search backend: a tantivy index in ``DATA_DIR/index``, no server needed.

Notes on tantivy 0.27 that shape this module (see also ARCHITECTURE.md):

* The French analyzers are not stored in the index; ``register_analyzers`` runs on every
  open, in every process.
* Ids are deleted through a raw *text* field (a term delete on u64 silently does nothing).
* There is no geo query, and range queries on the lat/lon fast fields scan the whole column
  (about 10 ms per million documents). Products carry instead a quadtree of cells
  (``geo_cell``, one term per level) and their exact point as a term (``loc``). A circle is
  "cells fully inside" OR "points of the boundary cells within the radius", the points
  found by a terms aggregation and their haversine distance computed in Python: totals and
  facet counts computed by the engine stay exact, and no document is fetched for it.
* Facet counts come from ``Searcher.aggregate`` terms aggregations: the facets without a
  selected value over the full query, each facet with a selected value without its own
  filter (disjunctive), one call per group; a plain browse reads a table of counts
  computed once per index generation. The shop facet (thousands of
  values in every segment) is counted on ``shop_name_hash``, a u64 fast field, and the
  buckets mapped back to names: a terms aggregation on a str field looks every bucket
  of every segment up in that segment's dictionary, about twice the cost at 9 segments.
* Text is scored with the constants of :mod:`indexer.backends.base` (``const_score`` and
  ``disjunction_max`` queries), not BM25, so both backends rank alike; the query words are
  planned once in :func:`indexer.analysis.plan_words` (synonyms, plurals, typos).
* After ``emplettes reindex`` swaps a rebuilt directory into ``path``, readers reopen it.
* Ties are broken by ``key`` so pages do not shuffle: sort fields are i64 composites of the
  sort value and 20 bits of the key, and score ties are re-sorted in Python.
* Scoring is the costly part of a search (a scored intersection reads 5-10x slower than
  the same filter counted), so a relevance page is first looked for in the top tier of
  scores, a plain filter read in key order (``_top_tier``); ``key_bucket`` (an indexed
  slice of the key range) lets a tier of many thousand products be read a few buckets
  at a time. Only when that tier is smaller than the page is every match scored.
* Likewise a page sorted on price, first seen or (without words) key is first sought
  among the matches in the lowest (highest) price cells, days or key buckets expected to
  hold it (``_sorted_page``), not by sorting every match.
* The engine releases the GIL while it aggregates: a search's facet groups (and the shop
  facet of a broad search) are counted side by side on ``search_threads`` threads when
  the other processes leave a core idle (:mod:`indexer.backends.spare_core`).
* Shop documents carry no words (schema 5), so a search by words or price needs no
  exclusion of the shops (2.8 of the 4.2 ms it took to count "artisanal" at 1M).
* A rebuild writes the products in stock and the other documents as separate segments
  (``bulk``): the "in stock" filter, the most used, then costs no intersection (a term
  found in every document of a segment, or in none, is read as all or nothing).
* Only one process may hold the writer; it is opened lazily and never by a read-only
  instance (the portal). Readers call ``reload()`` (about 0.2 ms at 1M products) before a
  read when ``meta.json`` changed, to see other processes' commits.
"""

from __future__ import annotations

import bisect
import contextlib
import fcntl
import hashlib
import heapq
import math
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson
import tantivy
from tantivy import Document, FieldType, Index, Occur, Order, Query

from indexer.analysis import (
    FOLDED,
    FRENCH,
    Clause,
    analyze,
    fold,
    highlight_segments,
    name_head,
    plan_words,
    register_analyzers,
    word_forms,
)
from indexer.backends.base import (
    AVAILABILITY_BONUS,
    FACETS,
    FIELD_WEIGHTS,
    FILTERS,
    FUZZY_FACTOR,
    HEAD_BONUS,
    PHRASE_BONUS,
    SYNONYM_FACTOR,
    BackendUnavailable,
    FacetValue,
    Near,
    SearchBackend,
    SearchQuery,
    SearchResult,
    validate_query,
)
from indexer.backends.common import (
    KM_PER_DEGREE_LAT,
    MAX_PER_PAGE,
    MAX_RESULT_WINDOW,
    TIE_BITS,
    TIE_MASK,
    haversine_km,
    record_key,
)
from indexer.backends.spare_core import SpareCore
from indexer.places import resolve_place
from indexer.records import price_string

# Text fields a resident's words are matched against, with their weights (shared with
# Elasticsearch: see base.FIELD_WEIGHTS).
TEXT_FIELDS: dict[str, float] = FIELD_WEIGHTS

# Filter names -> raw fields (facets, plus shop_id/source_id for shop pages and chambers).
FILTER_FIELDS: dict[str, str] = FILTERS

# Raw (untokenised) string fields: exact filters, facets and deletes.
RAW_FIELDS: tuple[str, ...] = (
    "id",
    "type",
    "source_id",
    "run_id",
    "shop_id",
    "shop_name",
    "town",
    "categories",
    "services",
    "availability",
    "name_exact",
    "categories_set",
    "services_set",
    "loc",
)
MULTI_FIELDS = ("categories", "services")
_DENSE_FIELDS = ("town", "availability", "shop_name")  # facet columns of record fields (see _shop_fields)
# Multi-valued facets are counted on one single-valued field holding the doc's whole set
# ("Déco\x1fJouets"), then split in Python: 10-20x faster than a terms aggregation on the
# multi-valued field, and still exact (each value appears once per set).
SET_FIELDS = {"categories": "categories_set", "services": "services_set"}
# Filters no shop document matches (shops have no availability and no shop_id): with one of
# them, a search needs no exclusion of the shops. The facet then counted without that
# filter (disjunctive) counts shops too, under "" (no value), which is never shown.
PRODUCT_FILTERS = ("availability", "shop_id")
SET_SEPARATOR = "\x1f"

# Like Elasticsearch's max_result_window: deep pages cost memory, nobody reads them.
# A bulk load (``emplettes reindex``) commits only when what it keeps in memory until a
# commit reaches one of these counts, not once per run: a commit costs about 17 ms (a third
# of a rebuild from one run per shop) and ends two segments (see bulk()), and searches read
# few segments faster (at 1M products, 2 segments against 11: faceted p50 5.4 against 7.0
# ms; 2 against 4: p50 3.91 against 4.14 ms, p99 13.1 against 13.7). Kept: the documents
# held back (about 2.5 kB each) and the ids of the records added (about 170 MB per million).
BULK_HELD_MAX = 500_000
BULK_PENDING_MAX = 2_000_000
# A rebuild's writer: one indexing thread and a large memory budget, so that each commit
# of the rebuild leaves two segments, the products in stock and the rest (see bulk();
# tantivy ends a segment whenever a thread's budget fills, and merges only later, in the
# background). The budget is a ceiling, taken as it fills.
REBUILD_WRITER_HEAP = 2_000_000_000
REBUILD_LOCK_WAIT = 1800.0  # seconds a rebuild waits for a loader to finish before its swap
TIE_WINDOW = 2_048  # documents fetched to see the end of a group of equal scores
BROWSE_WINDOW = 1_000  # products of a plain browse kept per sort and index generation
KEY_BUCKET = "key_bucket"  # indexed: the products of the smallest keys, without reading every key
KEY_BUCKET_BITS = 12
KEY_BUCKETS = 1 << KEY_BUCKET_BITS
SEEK_BONUS_BELOW = 60_000  # matches under which bonuses are sought per match (see _with_bonus)
TIER_BUCKETS_ABOVE = 20_000  # matches above which the top tier is first sought in a few key buckets
TIER_BUCKETS_MAX = KEY_BUCKETS // 16  # more buckets than this read about as much as the whole tier
# Price filters and price sorts as terms: a range query on the price column reads all of
# it (22 ms at 1M). Decimal cells: a value's units, tens, hundreds and thousands.
PRICE_CELL = "price_cell"  # cells of 1, 10, 100 and 1,000 EUR
SEEN_CELL = "seen_cell"  # cells of 1, 10, 100 and 1,000 days of first_seen since SEEN_EPOCH
SEEN_EPOCH = 1_577_836_800  # 2020-01-01T00:00:00Z
CELL_LEVELS = 4
CELL_LIMIT = 10**CELL_LEVELS  # values from 10,000 up share one cell
# Matches above which a page sorted on price, first seen or key is first sought among the
# lowest (highest) cells expected to hold four times the page: the engine then sorts a
# few hundred documents instead of every match (15 against 0.1-1 ms at 270,000 matches).
SORT_CELLS_ABOVE = 20_000
# Matches above which a search's shop facet, the costliest to count (5,000 shops at 1M
# products), is counted in a second pass beside the other facets when a second core is
# there (search_threads). 0, 30,000 and 100,000 timed alike at 1M: the highest spends that
# extra pass on the fewest searches.
SPLIT_SHOP_ABOVE = 100_000

_NULL_PRICE = 1 << 62  # sorts after every real price in both directions


def _neg_score(hit: tuple) -> float:
    return -hit[0]


# Geo cells: a quadtree of lat/lon cells, every level indexed on each located document.
# Level 0 cells are 1.28° x 1.92° (about 140 km square in France); level 9 cells 0.0025° x
# 0.00375° (about 280 m). A circle becomes cells fully inside (matched by the engine) plus
# a thin ring of boundary cells whose documents get an exact distance in Python.
GEO_LEVELS = 10
_CELL_LAT = [1.28 / (1 << level) for level in range(GEO_LEVELS)]
_CELL_LON = [1.92 / (1 << level) for level in range(GEO_LEVELS)]


def _cell_id(level: int, iy: int, ix: int) -> int:
    return (level << 40) | (iy << 20) | ix


@lru_cache(maxsize=65_536)  # a shop's products share its point
def _geo_cells(lat: float, lon: float) -> tuple[int, ...]:
    return tuple(geo_cells(lat, lon))


def geo_cells(lat: float, lon: float) -> list[int]:
    """The cell of every level holding this point."""
    return [
        _cell_id(level, int((lat + 90.0) // _CELL_LAT[level]), int((lon + 180.0) // _CELL_LON[level]))
        for level in range(GEO_LEVELS)
    ]


def _loc(lat: float, lon: float) -> str:
    """A point as a term; repr round-trips floats exactly, so distances computed from the
    term equal distances computed from the document's fast fields."""
    return f"{lat!r},{lon!r}"


def _approx_km(lat0: float, lon0: float, lat: float, lon: float) -> float:
    # Equirectangular at the mean latitude: within 0.1 % of haversine at these scales.
    dx = (lon - lon0) * math.cos(math.radians((lat + lat0) / 2))
    return KM_PER_DEGREE_LAT * math.hypot(lat - lat0, dx)


def geo_cover(lat0: float, lon0: float, radius_km: float) -> tuple[list[int], list[int]]:
    """Cells covering a circle: (fully inside, straddling the boundary).

    Classification keeps a safety margin, so a cell called inside is inside and a cell
    left out is outside; only boundary cells need exact distances.
    """
    finest = GEO_LEVELS - 1
    while finest > 0 and _CELL_LAT[finest] * KM_PER_DEGREE_LAT < radius_km / 40:
        finest -= 1
    start = max(0, finest - 5)
    margin = 0.002 * radius_km + 0.005
    dlat = radius_km / KM_PER_DEGREE_LAT
    dlon = min(180.0, radius_km / (KM_PER_DEGREE_LAT * max(math.cos(math.radians(lat0)), 1e-6)))
    slat, slon = _CELL_LAT[start], _CELL_LON[start]
    stack = [
        (start, iy, ix)
        for iy in range(int((lat0 - dlat + 90) // slat), int((lat0 + dlat + 90) // slat) + 1)
        for ix in range(int((lon0 - dlon + 180) // slon), int((lon0 + dlon + 180) // slon) + 1)
    ]
    inner: list[int] = []
    boundary: list[int] = []
    # _approx_km inlined (same operations, so the same cells): this loop is the hot part
    # of a geo search. What depends on a cell's row alone (latitudes, cosines) or on its
    # column alone is computed once per row or column, not once per cell.
    cos, radians, hypot, k = math.cos, math.radians, math.hypot, KM_PER_DEGREE_LAT
    outside, within = radius_km + margin, radius_km - margin
    middle = cos(radians((lat0 + lat0) / 2))
    rows: dict[tuple[int, int], tuple] = {}
    columns: dict[tuple[int, int], tuple] = {}
    while stack:
        level, iy, ix = stack.pop()
        row = rows.get((level, iy))
        if row is None:
            la0 = iy * _CELL_LAT[level] - 90.0
            la1 = la0 + _CELL_LAT[level]
            c0, c1 = cos(radians((la0 + lat0) / 2)), cos(radians((la1 + lat0) / 2))
            # The cell's nearest latitude to the centre: min(max(lat0, la0), la1).
            near = (la0 - lat0, c0) if lat0 < la0 else ((la1 - lat0, c1) if lat0 > la1 else (lat0 - lat0, middle))
            row = rows[(level, iy)] = (*near, c0, c1, la0 - lat0, la1 - lat0)
        column = columns.get((level, ix))
        if column is None:
            lo0 = ix * _CELL_LON[level] - 180.0
            lo1 = lo0 + _CELL_LON[level]
            lo = lo0 if lon0 < lo0 else (lo1 if lon0 > lo1 else lon0)
            column = columns[(level, ix)] = (lo - lon0, lo0 - lon0, lo1 - lon0)
        e, c, c0, c1, e0, e1 = row
        d, d0, d1 = column
        if k * hypot(e, d * c) > outside:
            continue
        if (
            k * hypot(e0, d0 * c0) < within
            and k * hypot(e0, d1 * c0) < within
            and k * hypot(e1, d0 * c1) < within
            and k * hypot(e1, d1 * c1) < within
        ):
            inner.append((level << 40) | (iy << 20) | ix)
        elif level == finest:
            boundary.append((level << 40) | (iy << 20) | ix)
        else:
            level += 1
            stack += (
                (level, 2 * iy, 2 * ix),
                (level, 2 * iy, 2 * ix + 1),
                (level, 2 * iy + 1, 2 * ix),
                (level, 2 * iy + 1, 2 * ix + 1),
            )
    return inner, boundary


class _Products:
    """The type of :data:`PRODUCTS`."""

    def __repr__(self) -> str:
        return "PRODUCTS"


PRODUCTS = _Products()  # a part of TantivyBackend._and(): "products only, not shops"


def _keep_first_seen(record: dict[str, Any], previous: Any) -> None:
    """A product indexed before keeps its older ``first_seen``: "nouveautés" sorts by when a
    product first appeared, not by its latest crawl."""
    if record.get("type") != "product" or not previous:
        return
    new = _epoch_seconds(record.get("first_seen"))
    if new is None or _epoch_seconds(previous) < new:
        record["first_seen"] = previous


@lru_cache(maxsize=65_536)
def _value_set(values: tuple) -> tuple:
    return tuple(v for v in dict.fromkeys(values) if v)


def _epoch_seconds(value: Any) -> int | None:
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


def _encode_record(record: dict[str, Any]) -> bytes:
    """The stored copy of a record as compact UTF-8 JSON. orjson, not json: 10x faster,
    and a rebuild is bound by this Python thread (1.4 against 13 µs per record)."""
    return orjson.dumps(record, default=_json_default, option=orjson.OPT_PASSTHROUGH_DATETIME)


SHOP_HASH = "shop_name_hash"
ALL_BUCKETS = 65_000  # as "segment_size": above any facet's cardinality, so counts stay exact


@lru_cache(maxsize=65_536)
def shop_name_hash(name: str) -> int:
    """A stable 63-bit number per shop name, never 0 (0: no shop name)."""
    return max(int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big") >> 1, 1)


SCHEMA_VERSION = 5


def build_schema(version: int = SCHEMA_VERSION) -> tantivy.Schema:
    """The index schema; older versions are still opened: 1 has no ``shop_name_hash``
    (its shop facet is counted on the str field), 2 no ``key_bucket`` (its relevance
    pages are found without the key-ordered shortcut of :meth:`TantivyBackend._tier_page`), 3 no
    ``price_cell`` (its price filters read the whole price column), 4 no ``seen_cell`` (its
    "newest" pages sort every match) and words in its shop documents (which searches by
    words must then exclude)."""
    sb = tantivy.SchemaBuilder()
    for name in RAW_FIELDS:
        sb.add_text_field(name, fast=True, tokenizer_name="raw", index_option="basic")
    for name in TEXT_FIELDS:
        # Positions in names only: the phrase bonus ("huile d'olive" side by side).
        sb.add_text_field(name, tokenizer_name=FRENCH, index_option="position" if name == "name" else "freq")
    sb.add_text_field("name_words", tokenizer_name=FOLDED, index_option="basic")
    sb.add_text_field("name_head", tokenizer_name="raw", index_option="basic")  # first stem of the name
    for name in ("price", "lat", "lon"):
        sb.add_float_field(name, indexed=True, fast=True)
    sb.add_integer_field("key", indexed=True, fast=True)
    sb.add_integer_field("geo_cell", indexed=True)
    for name in ("first_seen", "last_seen", "sort_price_asc", "sort_price_desc", "sort_newest"):
        sb.add_integer_field(name, fast=True)
    sb.add_bytes_field("record", stored=True)
    if version >= 2:
        sb.add_unsigned_field(SHOP_HASH, fast=True)
    if version >= 3:
        sb.add_unsigned_field(KEY_BUCKET, indexed=True)
    if version >= 4:
        sb.add_integer_field(PRICE_CELL, indexed=True)
    if version >= 5:
        sb.add_integer_field(SEEN_CELL, indexed=True)
    return sb.build()


def key_bucket(key: int) -> int:
    """Which of the ``KEY_BUCKETS`` equal slices of the signed key range ``key`` is in:
    bucket order is key order."""
    return (key + (1 << 63)) >> (64 - KEY_BUCKET_BITS)


def _decimal_cell(level: int, index: int) -> int:
    return (level << 40) | index


_DECIMAL_LEVELS = tuple((level << 40, 10**level) for level in range(CELL_LEVELS))
_CELL_OVERFLOW = _decimal_cell(CELL_LEVELS, 0)  # every value from CELL_LIMIT up


def decimal_cells(value: float) -> list[int]:
    """The value's cell at each level (its whole units, tens, hundreds, thousands), or
    the one overflow cell of the rare values from CELL_LIMIT up; none below 0."""
    if value >= CELL_LIMIT:
        return [_CELL_OVERFLOW]
    if value < 0:
        return []
    units = int(value)
    return [tag | units // width for tag, width in _DECIMAL_LEVELS]


def seen_day(seconds: int) -> int:
    """Whole days from SEEN_EPOCH to ``seconds`` (negative before it)."""
    return (seconds - SEEN_EPOCH) // 86_400


def decimal_cover(low: float | None, high: float | None) -> tuple[list[int], list[int]] | None:
    """(cells whose every value is within [low, high], cells partly within it): a range
    of prices (or days) as a few terms, like the geo cells; the products of the partial
    cells (the one-unit cells at the ends, the overflow cell) are checked against the
    exact range. None: a bound the cells cannot express."""
    low = 0.0 if low is None else low
    if not 0 <= low <= (math.inf if high is None else high) or (high is not None and math.isinf(high)):
        return None
    top = CELL_LIMIT if high is None else min(high, CELL_LIMIT)
    first, last = math.ceil(low), math.floor(top) - 1  # whole euros [i, i+1) within the range
    ends = sorted({math.floor(low), math.floor(top)})
    partial = [_decimal_cell(0, i) for i in ends if not first <= i <= last and i < CELL_LIMIT]
    if high is None or high >= CELL_LIMIT:
        partial.append(_CELL_OVERFLOW)
    cells: list[int] = []
    level = 0
    while first <= last:
        if level == CELL_LEVELS - 1:
            cells += [_decimal_cell(level, i) for i in range(first, last + 1)]
            break
        up, down = -(-first // 10) * 10, (last + 1) // 10 * 10  # the whole tens inside
        if up >= down:
            cells += [_decimal_cell(level, i) for i in range(first, last + 1)]
            break
        cells += [_decimal_cell(level, i) for i in (*range(first, up), *range(down, last + 1))]
        first, last, level = up // 10, down // 10 - 1, level + 1
    return cells, partial


# Products of one crawl run share their shop's fields: computed once per shop (see
# _shop_fields), the rest per record. A rebuild is bound by this process's thread.
_SHOP_RAW_FIELDS = ("source_id", "run_id", "shop_id", "shop_name", "town")  # (as document_fields passes them)
_OWN_RAW_FIELDS = ("id", "type", "availability")


@lru_cache(maxsize=16_384)
def _shop_fields(
    version: int, is_product: bool, raw: tuple, lat: Any, lon: Any, categories: tuple, services: tuple
) -> dict[str, Any]:
    """The fields a document takes from its shop: every product of a run shares them.
    Read-only (lists shared by the documents of a shop)."""
    fields: dict[str, Any] = {}
    for name, value in zip(_SHOP_RAW_FIELDS, raw, strict=False):
        if value is not None and value != "":
            fields[name] = value if isinstance(value, str) else str(value)
    # Every document gets a value in every column a facet or a geo search counts, ""
    # for none (never shown): a column every document fills is counted 3-6x faster
    # than a sparse one (no missing-value index to walk), and the shops' few thousand
    # documents made them all sparse.
    for name in _DENSE_FIELDS:
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
            fields["geo_cell"] = list(_geo_cells(lat, lon))
            fields["loc"] = _loc(lat, lon)
    if version >= 2:  # every document: a dense column is counted faster
        fields[SHOP_HASH] = shop_name_hash(fields["shop_name"]) if fields["shop_name"] else 0
    return fields


@lru_cache(maxsize=65_536)  # prices repeat across a catalogue
def _price_fields(price: str, cells: bool) -> tuple:
    """(price as float, its cells or None, its cents shifted for the sort keys)."""
    exact = Decimal(price)
    value = float(exact)
    return value, (decimal_cells(value) if cells else None), int((exact * 100).to_integral_value()) << TIE_BITS


@lru_cache(maxsize=65_536)
def _day_cells(day: int) -> list[int]:
    return decimal_cells(day)


def document_fields(record: dict[str, Any], version: int = SCHEMA_VERSION) -> dict[str, Any]:
    """The tantivy fields of one record (a plain dict: ``Document.from_dict`` builds the
    document), for an index of schema ``version``."""
    get = record.get
    is_product = get("type") == "product"
    categories, services = get("categories"), get("services")
    fields = dict(
        _shop_fields(
            version,
            is_product,
            (get("source_id"), get("run_id"), get("shop_id"), get("shop_name"), get("town")),
            get("lat"),
            get("lon"),
            tuple(categories) if categories else (),
            tuple(services) if services else (),
        )
    )
    key = fields["key"] = record_key(record["id"])
    tie = key & TIE_MASK
    for name in _OWN_RAW_FIELDS:
        value = get(name)
        if value is not None and value != "":
            fields[name] = value if isinstance(value, str) else str(value)
    fields.setdefault("availability", "")
    if is_product or version < 5:  # shops are listed, never searched by words (schema 5)
        for name in TEXT_FIELDS:
            value = get(name)
            if value:
                fields[name] = value
    for name in ("first_seen", "last_seen"):
        seconds = _epoch_seconds(get(name))
        if seconds is not None:
            fields[name] = seconds
    fields["name_exact"] = ""
    if is_product:
        fields["name_exact"] = fields["name_words"] = record["name"]
        head = name_head(record["name"])
        if head:
            fields["name_head"] = head
        price = get("price")
        if price is not None and price != "":
            fields["price"], cells, cents = _price_fields(str(price), version >= 4)
            if cells is not None:
                fields[PRICE_CELL] = cells
            fields["sort_price_asc"] = fields["sort_price_desc"] = cents | tie
        else:
            fields["sort_price_asc"] = _NULL_PRICE | tie
            fields["sort_price_desc"] = -_NULL_PRICE + tie
        fields["sort_newest"] = (fields.get("first_seen", 0) << TIE_BITS) | tie
        if version >= 5 and "first_seen" in fields:
            fields[SEEN_CELL] = _day_cells(seen_day(fields["first_seen"]))
    if version >= 3:
        fields[KEY_BUCKET] = key_bucket(key)
    fields["record"] = _encode_record(record)
    return fields


def _open_index(path: Path) -> tuple[Index, tantivy.Schema, int]:
    """(index, schema, schema version): reuse=True opens an existing index and refuses
    one built with another schema, so the schemas of older versions are tried next."""
    first_error = None
    for version in range(SCHEMA_VERSION, 0, -1):
        schema = build_schema(version)
        try:
            return Index(schema, path=str(path), reuse=True), schema, version
        except ValueError as exc:
            if "schema does not match" not in str(exc):
                raise
            first_error = first_error or exc
    raise first_error


class TantivyBackend(SearchBackend):
    """Products and shops in one tantivy index; ``type`` tells them apart."""

    name = "tantivy"

    def __init__(
        self,
        path: Path,
        *,
        readonly: bool = False,
        writer_heap_bytes: int = 256_000_000,
        writer_threads: int = 0,
        facet_size: int = 50,
        cache_size: int = 256,
        search_threads: int = 2,
        open_index: bool = True,
    ) -> None:
        self.path = Path(path)
        self._meta_json = os.path.join(self.path, "meta.json")  # stat on every search: no Path joins
        self._threads = max(1, search_threads)
        self._helpers: tuple[int, ThreadPoolExecutor] | None = None
        self._spare_core = SpareCore()
        self.readonly = readonly
        self.facet_size = facet_size
        self._facet_cache = _LRU(cache_size)
        self._page_cache = _LRU(cache_size)  # (total, addresses...) per search
        self._availability_cache: tuple | None = None
        self._browse_cache: tuple | None = None
        self._browse_pages: tuple = (None, {})
        self._reloaded: tuple | None = None  # (index, generation) of the last reload()
        self._writer_heap = writer_heap_bytes
        self._writer_threads = writer_threads
        self._writer: tantivy.IndexWriter | None = None
        self._lock = threading.RLock()
        self._shop_names: tuple | None = None  # (generation, {hash: name} or None on a collision)
        self._doc_freqs: tuple = (None, {})  # (generation, {(field, term): documents})
        self._pending: dict[str, Any] | None = None  # in bulk(): uncommitted id -> first_seen
        self._pending_runs: dict[str, set] = {}  # in bulk(): source -> runs with uncommitted records
        self._held: dict[str, tuple] = {}  # in bulk(): id -> (source, run, first_seen, record) held back
        self._held_ids: dict[str, set] = {}  # in bulk(): source -> ids held back
        self._path_lock = None  # open file holding <path>.lock while this handle may write
        if not open_index:  # see for_rebuild()
            self.schema, self._version, self._index, self._directory = build_schema(), SCHEMA_VERSION, None, None
            return
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            self._index, self.schema, self._version = _open_index(self.path)
        except ValueError as exc:
            if "schema does not match" in str(exc):
                raise BackendUnavailable(
                    f"the index in {self.path} was built with another schema (an older "
                    "version of emplettes); rebuild it from the run files with `emplettes reindex`"
                ) from exc
            raise BackendUnavailable(f"cannot open the index in {self.path}: {exc}") from exc
        except OSError as exc:
            raise BackendUnavailable(f"cannot open the index in {self.path}: {exc}") from exc
        register_analyzers(self._index)
        self._directory = self._dir_identity()

    @property
    def _shop_hash(self) -> bool:
        return self._version >= 2

    @property
    def _key_buckets(self) -> bool:
        return self._version >= 3

    @property
    def _price_cells(self) -> bool:
        return self._version >= 4

    @property
    def _seen_cells(self) -> bool:
        return self._version >= 5

    @property
    def _wordless_shops(self) -> bool:
        """Shop documents carry no text fields: no product search by words can match them."""
        return self._version >= 5

    # ------------------------------------------------------------------ plumbing

    def _dir_identity(self) -> int | None:
        try:
            return os.stat(self.path).st_ino
        except OSError:
            return None

    def _follow_swap(self) -> None:
        """After ``emplettes reindex`` swapped a rebuilt index into ``path``, a long-lived
        reader (the portal) reopens it instead of serving the old, deleted one."""
        if self._writer is not None:
            return
        identity = self._dir_identity()
        if identity is not None and identity != self._directory:
            with self._lock:
                try:
                    index, schema, version = _open_index(self.path)
                except (ValueError, OSError):
                    return  # mid-swap: keep the old one until the next search
                register_analyzers(index)
                self._index, self._directory = index, identity
                self.schema, self._version, self._shop_names = schema, version, None
                self._doc_freqs = (None, {})
                self._facet_cache = _LRU(self._facet_cache.size)
                self._page_cache = _LRU(self._page_cache.size)
                self._availability_cache = None
                self._browse_cache = None

    def __enter__(self) -> TantivyBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            try:
                if self._writer is not None:
                    writer, self._writer = self._writer, None
                    writer.wait_merging_threads()  # also releases tantivy's writer lock
            finally:
                self._release_path_lock()
                if self._helpers is not None:
                    self._helpers[1].shutdown(wait=False)
                    self._helpers = None

    # The right to write ``path``, held beside it (``<path>.lock``) from a writer's opening to
    # its closing: tantivy's own lock lives inside the directory, so a rebuild swapping the
    # directory could not keep it across the renames, and a loader arriving in between would
    # write into the new index through the old one's state.

    def _take_path_lock(self, wait: float = 0.0) -> None:
        if self._path_lock is not None:
            return
        handle = open(self.path.with_name(self.path.name + ".lock"), "a+b")
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() >= deadline:
                    handle.close()
                    raise BackendUnavailable(f"cannot write the index in {self.path}: another process is indexing")
                time.sleep(0.2)
        self._path_lock = handle

    def _release_path_lock(self) -> None:
        if self._path_lock is not None:
            self._path_lock.close()  # closing the file releases the lock
            self._path_lock = None

    def _searcher(self, generation: Any = ...) -> tantivy.Searcher:
        """A searcher that sees every commit, also other processes': ``reload()`` (about
        0.2 ms at 1M products) only when ``meta.json`` changed since the last one."""
        self._follow_swap()
        if generation is ...:
            generation = self._generation()
        index = self._index
        if generation is None or self._reloaded != (index, generation):
            # Stat before reload: a commit in between is seen now and reloaded again next time.
            index.reload()
            self._reloaded = (index, generation)
        return index.searcher()

    def _generation(self) -> tuple[int, int] | None:
        """Changes with every commit (meta.json is rewritten): the facet cache's key."""
        try:
            stat = os.stat(self._meta_json)
        except OSError:
            return None
        return (stat.st_mtime_ns, stat.st_size, stat.st_ino)

    def _get_writer(self) -> tantivy.IndexWriter:
        if self.readonly:
            raise PermissionError(f"{self.path}: this backend was opened read-only")
        if self._writer is None:
            self._take_path_lock()
            # A rebuild may have swapped the directory since this handle opened it: write
            # into the index that is there now, never through the replaced one's state.
            self._follow_swap()
            try:
                self._writer = self._index.writer(self._writer_heap, self._writer_threads)
            except Exception as exc:  # LockBusy: another process is indexing
                self._release_path_lock()
                raise BackendUnavailable(f"cannot write the index in {self.path}: {exc}") from exc
        return self._writer

    def _commit(self) -> None:
        assert self._writer is not None
        try:
            self._writer.commit()
        except Exception as exc:
            self._writer.rollback()
            raise BackendUnavailable(f"commit failed in {self.path}: {exc}") from exc
        self._index.reload()

    def _term(self, field: str, value: Any) -> Query:
        return Query.term_query(self.schema, field, value)

    def _terms(self, field: str, values: Iterable[Any]) -> Query:
        values = list(dict.fromkeys(values))
        if len(values) == 1:
            return self._term(field, values[0])
        return Query.term_set_query(self.schema, field, values)

    def _and(self, parts: list[Any]) -> Query:
        """Every part; :data:`PRODUCTS` among them keeps the products only, as the
        exclusion of the few shop documents: intersecting with the million postings of
        ``type:product`` cost more than the words (7.3 against 2.9 ms for "artisanal")."""
        positive = [part for part in parts if part is not PRODUCTS]
        if len(positive) < len(parts):
            if not positive:  # every product: the product term is the cheapest list
                return self._term("type", "product")
            return Query.boolean_query(
                [(Occur.Must, part) for part in positive] + [(Occur.MustNot, self._term("type", "shop"))]
            )
        if not parts:
            return Query.all_query()
        if len(parts) == 1:
            return parts[0]
        return Query.boolean_query([(Occur.Must, part) for part in parts])

    @staticmethod
    def _records(searcher: tantivy.Searcher, addresses: Iterable[tantivy.DocAddress]) -> list[dict]:
        return [orjson.loads(searcher.doc(address).get_first("record")) for address in addresses]

    @staticmethod
    def _all(searcher: tantivy.Searcher, query: Query) -> list[tantivy.DocAddress]:
        """Every matching document's address (unordered)."""
        count = searcher.search(query, 1, count=True).count
        if not count:
            return []
        return [address for _, address in searcher.search(query, count, count=False).hits]

    def cache_token(self) -> tuple[int, int, int] | None:
        self._follow_swap()
        return self._generation()

    def town_points(self):
        generation = self._generation()
        cached = self._facet_cache.get(("town_points", generation)) if generation else None
        if cached is None:
            cached = super().town_points()
            if generation:
                self._facet_cache.put(("town_points", generation), cached)
        return cached

    # ------------------------------------------------------------------ rebuild

    @classmethod
    def for_rebuild(cls, path: Path, **options: Any) -> TantivyBackend:
        """A handle on ``path`` that does not open the index there (it may have been built
        with another schema): only good for start/finish_rebuild, which replace it."""
        return cls(path, open_index=False, **options)

    def start_rebuild(self) -> TantivyBackend:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        fresh_path = self.path.with_name(f"{self.path.name}.rebuild-{stamp}")
        return TantivyBackend(
            fresh_path, writer_heap_bytes=max(self._writer_heap, REBUILD_WRITER_HEAP), writer_threads=1
        )

    def finish_rebuild(self, fresh: TantivyBackend, before_swap: Callable[[], None] | None = None) -> None:
        """Two renames swap the directories (readers in other processes follow the new
        one on their next search); the old index is then deleted. The right to write
        ``path`` is taken first (a loader at work is waited for, up to
        ``REBUILD_LOCK_WAIT`` seconds) and kept until the new index is in: ``before_swap``
        runs meanwhile, and no loader writes into the index being replaced."""
        import shutil

        with self._lock:
            self._take_path_lock(wait=REBUILD_LOCK_WAIT)
            try:
                if self._writer is not None:  # this handle's own: its merges end before the swap
                    writer, self._writer = self._writer, None
                    writer.wait_merging_threads()
                if before_swap is not None:
                    before_swap()
                fresh.close()
                fresh.path.with_name(fresh.path.name + ".lock").unlink(missing_ok=True)
                old = self.path.with_name(f"{self.path.name}.old-{fresh.path.name.rsplit('-', 1)[-1]}")
                if self.path.exists():
                    os.replace(self.path, old)
                os.replace(fresh.path, self.path)
            finally:
                self._release_path_lock()
            self._index, self.schema, self._version = _open_index(self.path)
            self._shop_names = None
            self._doc_freqs = (None, {})
            register_analyzers(self._index)
            self._directory = self._dir_identity()
            self._facet_cache = _LRU(self._facet_cache.size)
            self._page_cache = _LRU(self._page_cache.size)
            self._availability_cache = None
            self._browse_cache = None
        shutil.rmtree(old, ignore_errors=True)

    def abort_rebuild(self, fresh: TantivyBackend) -> None:
        import shutil

        fresh.close()
        shutil.rmtree(fresh.path, ignore_errors=True)
        fresh.path.with_name(fresh.path.name + ".lock").unlink(missing_ok=True)

    # ------------------------------------------------------------------ writing

    def _document(self, record: dict[str, Any]) -> Document:
        return Document.from_dict(document_fields(record, self._version), self.schema)

    def _existing(self, searcher: tantivy.Searcher, records: dict[str, dict]) -> set[str]:
        """Ids of ``records`` already in the index; re-crawled products get their first_seen back."""
        if not searcher.num_docs:  # a rebuild's fresh index, until its first commit
            return set()
        hits = searcher.search(self._terms("id", records), len(records), count=False).hits
        if not hits:
            return set()
        addresses = [address for _, address in hits]
        keys = searcher.fast_field_values("key", addresses)
        seen = searcher.fast_field_values("first_seen", addresses)
        by_key = {record_key(record_id): record for record_id, record in records.items()}
        existing = set()
        for address, key, old in zip(addresses, keys, seen, strict=False):
            record = by_key.get(key)
            if record is None:
                continue
            existing.add(record["id"])
            if record.get("type") != "product" or old is None:
                continue
            new = _epoch_seconds(record.get("first_seen"))
            if new is None or old < new:
                previous = orjson.loads(searcher.doc(address).get_first("record"))
                if previous.get("id") == record["id"]:
                    _keep_first_seen(record, previous.get("first_seen"))
        return existing

    @contextlib.contextmanager
    def bulk(self) -> Iterator[None]:
        """Upserts commit when ``BULK_HELD_MAX`` documents are held back or
        ``BULK_PENDING_MAX`` added, and when the block ends, instead of once per call. Records added and not yet committed are tracked by id,
        so a later run of the same source still replaces them and keeps their first_seen,
        and a sweep commits them first when it could delete them. An error inside the
        block rolls back what is not committed yet.

        The products in stock go to the writer at once; the other documents are held back
        and written after them, so that each commit leaves two segments: one where every
        product is in stock, one where none is. Tantivy then reads the "in stock" filter
        as all of a segment or none of it (a segment where a term is in every document
        needs no intersection): 10x faster to count "artisanal" in stock than with the
        products mixed."""
        with self._lock:
            if self._pending is not None:  # nested: the outer block commits
                yield
                return
            self._pending, self._pending_runs = {}, {}
            try:
                yield
                self._commit_pending()
            except BaseException:
                if self._writer is not None:  # (records, deletes, held documents half written)
                    self._writer.rollback()
                raise
            finally:
                self._pending, self._pending_runs = None, {}
                self._held, self._held_ids = {}, {}

    def _commit_pending(self) -> None:
        """Commit the writer (in bulk(), the products in stock and the deletes), then the
        documents held back, as a segment of their own. A failure while writing those
        leaves the first commit in: bulk() serves rebuilds into a fresh index, which a
        failure throws away."""
        if self._pending or self._pending_runs:
            self._commit()
            self._pending.clear()
            self._pending_runs.clear()
        if self._held:
            held, self._held, self._held_ids = self._held, {}, {}
            writer = self._get_writer()
            try:
                for _, _, _, record in held.values():
                    writer.add_document(self._document(record))
            except BaseException:
                writer.rollback()
                raise
            self._commit()

    def _hold(self, record: dict[str, Any]) -> bool:
        """Hold ``record`` back until the commit (in bulk(), every document but the products
        in stock); False: it goes to the writer now."""
        if self._pending is None or (record.get("type") == "product" and record.get("availability") == "in_stock"):
            return False
        source = record["source_id"]
        # (As dicts: orjson's bytes, kept for long, left 8 kB of fragmented heap each.)
        self._held[record["id"]] = (source, record.get("run_id"), record.get("first_seen"), record)
        self._held_ids.setdefault(source, set()).add(record["id"])
        return True

    def _unhold(self, record_id: str) -> None:
        held = self._held.pop(record_id, None)
        if held is not None:
            self._held_ids[held[0]].discard(record_id)

    def upsert(self, records: Iterable[dict[str, Any]], *, batch_size: int = 5_000) -> int:
        written = 0
        with self._lock:
            bulk = self._pending is not None
            # Ids added and not yet visible to the searcher -> their first_seen: this call's,
            # or in bulk() every one since the last commit.
            added: dict[str, Any] = self._pending if bulk else {}
            writer = self._get_writer()
            searcher = self._searcher()
            try:
                for batch in _batches(records, batch_size):
                    # Last occurrence of an id wins; copies so callers' dicts stay untouched.
                    unique = {record["id"]: dict(record) for record in batch}
                    replaced = self._existing(searcher, unique)
                    for record_id, record in unique.items():  # (not keys() & keys(): a set of all pending ids)
                        if record_id in added:
                            replaced.add(record_id)
                            _keep_first_seen(record, added[record_id])
                        elif record_id in self._held:  # (a newer version replaces it)
                            _keep_first_seen(record, self._held[record_id][2])
                            self._unhold(record_id)
                    # A delete only hits documents added before it: delete first, then add.
                    # Deleting only ids that exist keeps a first load cheap.
                    if replaced:
                        writer.delete_documents_by_query(self._terms("id", replaced))
                        if bulk:  # uncommitted deletes: a sweep of these sources commits first
                            for record_id in replaced:
                                self._pending_runs.setdefault(unique[record_id]["source_id"], set())
                    for record in unique.values():
                        if record["id"] in added:  # held now, after its version in the writer
                            added.pop(record["id"])
                        if self._hold(record):
                            continue
                        writer.add_document(self._document(record))
                        added[record["id"]] = record.get("first_seen")
                        if bulk:
                            self._pending_runs.setdefault(record["source_id"], set()).add(record.get("run_id"))
                    written += len(unique)
            except BaseException:
                writer.rollback()  # in bulk(), also what earlier calls left uncommitted
                added.clear()
                self._pending_runs.clear()
                self._held.clear()
                self._held_ids.clear()
                raise
            if written and not bulk:
                self._commit()
            elif bulk and (len(self._held) >= BULK_HELD_MAX or len(added) >= BULK_PENDING_MAX):
                self._commit_pending()
        return written

    def delete_source(self, source_id: str, *, keep_run: str | None = None) -> int:
        query = self._term("source_id", source_id)
        if keep_run is not None:
            query = Query.boolean_query([(Occur.Must, query), (Occur.MustNot, self._term("run_id", keep_run))])
        with self._lock:
            held = [i for i in self._held_ids.get(source_id, ()) if keep_run is None or self._held[i][1] != keep_run]
            for record_id in held:  # held back (bulk()): never written
                self._unhold(record_id)
            if self._pending_runs.get(source_id, set()) - {keep_run}:
                self._commit_pending()  # uncommitted records this sweep must see
            writer = self._get_writer()
            count = self._searcher().search(query, 1, count=True).count
            if count and source_id in self._pending_runs:
                # Some of those may be replaced by uncommitted records of the kept run:
                # commit them (held ones too: never a delete without its replacement),
                # then count what really goes.
                self._commit_pending()
                count = self._searcher().search(query, 1, count=True).count
            if count:
                writer.delete_documents_by_query(query)
                self._commit()
                if self._pending is not None:  # (bulk) that commit took what the writer had too
                    self._pending.clear()
                    self._pending_runs.clear()
        return count + len(held)

    # ------------------------------------------------------------------ reading

    def get(self, record_id: str) -> dict[str, Any] | None:
        searcher = self._searcher()
        hits = searcher.search(self._term("id", record_id), 1, count=False).hits
        return self._records(searcher, [hits[0][1]])[0] if hits else None

    def shops(self) -> list[dict[str, Any]]:
        searcher = self._searcher()
        shops = self._records(searcher, self._all(searcher, self._term("type", "shop")))
        return sorted(shops, key=lambda s: (fold(s.get("town") or ""), fold(s["name"]), s["id"]))

    def stats(self) -> dict[str, Any]:
        searcher = self._searcher()
        products = self._term("type", "product")
        shops = searcher.search(self._term("type", "shop"), 1, count=True).count
        agg = searcher.aggregate(
            products, {"s": {"terms": {"field": "source_id", "size": 100_000, "segment_size": 100_000}}}
        )
        sources = {b["key"]: b["doc_count"] for b in agg["s"]["buckets"]}
        return {
            "products": searcher.search(products, 1, count=True).count,
            "shops": shops,
            "sources": dict(sorted(sources.items())),
        }

    def suggest(self, prefix: str, limit: int = 8) -> list[str]:
        tokens = analyze(prefix, FOLDED)
        if not tokens or limit <= 0:
            return []
        searcher = self._searcher()
        parts = []  # (name_words: products only)
        complete = prefix[-1:].isspace() or not prefix[-1:].isalnum()
        whole, last = (tokens, None) if complete else (tokens[:-1], tokens[-1])
        parts += [self._term("name_words", token) for token in dict.fromkeys(whole)]
        if last is not None:
            words = [w for w, _ in searcher.terms_with_prefix("name_words", last, limit=64)]
            if not words:
                return []
            parts.append(self._terms("name_words", words))
        agg = searcher.aggregate(
            self._and(parts),
            {"n": {"terms": {"field": "name_exact", "size": limit * 5, "segment_size": 1_000}}},
        )
        # One entry per folded name: "Bougie" and "BOUGIE" are one suggestion, spelt the
        # way most shops spell it.
        names: dict[str, list] = {}
        for bucket in agg["n"]["buckets"]:
            entry = names.setdefault(fold(bucket["key"]), [0, bucket["key"], bucket["doc_count"]])
            entry[0] += bucket["doc_count"]
            if bucket["doc_count"] > entry[2]:
                entry[1:] = [bucket["key"], bucket["doc_count"]]
        start = fold(prefix)
        ranked = sorted(
            names.items(), key=lambda item: (not item[0].startswith(start), -item[1][0], len(item[0]), item[0])
        )
        return [entry[1] for _, entry in ranked[:limit]]

    # ------------------------------------------------------------------ search

    @staticmethod
    def _any(queries: list[Query]) -> Query:
        return queries[0] if len(queries) == 1 else Query.boolean_query([(Occur.Should, q) for q in queries])

    def _field_options(
        self, field: str, clause: Clause, weight: float, fuzzy: bool, searcher: tantivy.Searcher | None = None
    ) -> list[tuple[float, Query]]:
        """(score, filter) of each way the clause can match in one field: its words
        (``weight``), a synonym (less), a typo (less still). With ``searcher``, only the
        words the index holds (an unknown word matches nothing)."""
        options = []
        for phrases, factor in ((clause.forms, 1.0), (clause.synonyms, SYNONYM_FACTOR)):
            exact = []
            # "bougie" and "bougies" share their stem: one term query for both (same matches,
            # same constant score, half the postings to merge).
            for stems in dict.fromkeys(tuple(dict.fromkeys(analyze(" ".join(phrase)))) for phrase in phrases):
                if not stems or (searcher is not None and not all(self._doc_freq(searcher, field, t) for t in stems)):
                    continue
                if len(stems) == 1:
                    exact.append(self._term(field, stems[0]))
                else:
                    exact.append(Query.boolean_query([(Occur.Must, self._term(field, t)) for t in stems]))
            if exact:
                options.append((weight * factor, self._any(exact)))
        if fuzzy and clause.fuzzy:
            stems = analyze(clause.words[0])
            typos = [Query.fuzzy_term_query(self.schema, field, stem, distance=clause.fuzzy) for stem in stems[:1]]
            if field == "name":  # whole words too: "bougei" is one swap from "bougie", not from "boug"
                typos += [
                    Query.fuzzy_term_query(self.schema, "name_words", form, distance=clause.fuzzy)
                    for form in word_forms(clause.words[0])  # and "bougeis" from "bougies"
                ]
            if typos:
                options.append((weight * FUZZY_FACTOR, self._any(typos)))
        return options

    def _field_match(self, field: str, clause: Clause, weight: float, fuzzy: bool) -> Query:
        """The clause in one field, scored ``weight`` (less for a synonym or a typo)."""
        options = [Query.const_score_query(q, score) for score, q in self._field_options(field, clause, weight, fuzzy)]
        if not options:
            return Query.empty_query()
        return options[0] if len(options) == 1 else Query.disjunction_max_query(options)

    def _doc_freq(self, searcher: tantivy.Searcher, field: str, term: str) -> int:
        """Documents holding ``term`` in ``field`` (deleted ones included), per generation."""
        generation, known = self._doc_freqs
        current = self._reloaded[1] if self._reloaded else None
        if generation != current or current is None:
            known = {}
            self._doc_freqs = (current, known)
        found = known.get((field, term))
        if found is None:
            found = known[(field, term)] = searcher.doc_freq(field, term)
            if len(known) > 100_000:
                known.clear()
        return found

    def _top_tier(
        self, searcher: tantivy.Searcher, query: SearchQuery, clauses: list[Clause], mode: str, present: tuple | None
    ) -> list[Query] | None:
        """Filters matching exactly the documents with the highest score ``_with_bonus``
        can give: each clause in its best field the index holds the words in, the head
        and phrase bonuses when the index holds their words, the best availability of
        those allowed. Every other document scores strictly less (the scores are sums
        of independent parts, each below its best), so when this tier fills the page,
        its documents of the smallest keys are the page: the order the engine gives
        (score, then key) without scoring every match. None: no such filter (a clause
        matches nowhere)."""
        fuzzy = mode != "strict"
        parts = []
        for clause in clauses:
            best, tops = 0.0, []
            for field, weight in TEXT_FIELDS.items():
                for score, option in self._field_options(field, clause, weight, fuzzy, searcher):
                    if score > best:
                        best, tops = score, [option]
                    elif score == best:
                        tops.append(option)
            if tops:
                parts.append(self._any(tops))
            elif mode != "any":
                return None  # (in "any" mode such a clause adds nothing to any score)
        if not parts:
            return None
        heads = [
            h for h in dict.fromkeys(s for c in clauses for s in c.stems()) if self._doc_freq(searcher, "name_head", h)
        ]
        if heads:
            parts.append(self._terms("name_head", heads))
        stems = [stem for clause in clauses for w in clause.words for stem in analyze(w)]
        if len(stems) > 1 and all(self._doc_freq(searcher, "name", stem) for stem in stems):
            parts.append(Query.phrase_query(self.schema, "name", stems, slop=1))
        # The availability values a match can have: those ticked, else those in the index
        # when every product has one (``present``), else any (no value scores 0).
        values = query.filters.get("availability") or present
        bonus = {value: AVAILABILITY_BONUS.get(value, 0.0) for value in values or AVAILABILITY_BONUS}
        top = max(bonus.values())
        if not values or min(bonus.values()) < top:
            parts.append(self._terms("availability", [value for value, b in bonus.items() if b == top]))
        return parts

    def _tier_page(
        self,
        searcher: tantivy.Searcher,
        tier: list[Query],
        others: list[Query],
        exclude_shops: bool,
        offset: int,
        limit: int,
        total: int,
    ) -> list | None:
        """The page ``offset:offset+limit`` from the top tier (see :meth:`_top_tier`) in key
        order, or None when the tier holds fewer documents than the page needs. A big tier
        is first searched in the few key buckets expected to hold the page: the engine
        then reads a few thousand documents instead of every match."""
        needed = offset + limit
        parts = [(Occur.Must, q) for q in tier + others]
        if exclude_shops:  # nothing else keeps them out: no price, place or (schema 5) words
            parts.append((Occur.MustNot, self._term("type", "shop")))

        def smallest_keys(extra: list[Query]) -> list:
            q = Query.boolean_query(parts + [(Occur.Must, e) for e in extra])
            return searcher.search(q, needed, count=False, order_by_field="key", order=Order.Asc).hits

        if self._key_buckets and total >= TIER_BUCKETS_ABOVE:
            # Buckets enough for four times the page if a quarter of the matches are in the tier.
            buckets = math.ceil(16 * needed * KEY_BUCKETS / total)
            if buckets <= TIER_BUCKETS_MAX:
                hits = smallest_keys([self._terms(KEY_BUCKET, range(buckets))])
                if len(hits) >= needed:
                    return [address for _, address in hits[offset:needed]]
        hits = smallest_keys([])
        if len(hits) >= needed:
            return [address for _, address in hits[offset:needed]]
        return None

    def _broad(self, searcher: tantivy.Searcher, clauses: list[Clause]) -> bool:
        """Whether the words may match ``SPLIT_SHOP_ABOVE`` documents or more, from the
        term counts: a clause matches at most the documents of its likeliest form, and
        the search at most those of its rarest clause. Without words: yes."""

        def most(clause: Clause) -> int:
            return max(
                (
                    min(
                        (sum(self._doc_freq(searcher, field, stem) for field in TEXT_FIELDS) for stem in stems),
                        default=0,
                    )
                    for stems in (analyze(" ".join(phrase)) for phrase in clause.alternatives)
                ),
                default=0,
            )

        return not clauses or min(most(clause) for clause in clauses) >= SPLIT_SHOP_ABOVE

    def _cell_bound(self, searcher: tantivy.Searcher, field: str, want: float, ascending: bool) -> int | None:
        """The bound B of the fewest lowest values (``ascending``: every value below B) or
        highest values (every value from B up) that ``want`` documents of the index hold,
        read from the decimal cells' document counts level by level (40 counts at most,
        kept per generation); None when the cells below CELL_LIMIT hold fewer."""
        acc = 0
        if not ascending:
            acc = self._doc_freq(searcher, field, _CELL_OVERFLOW)
            if acc >= want:
                return CELL_LIMIT
        first = 0
        for level in reversed(range(CELL_LEVELS)):
            cells = range(first, first + 10) if ascending else range(first + 9, first - 1, -1)
            for index in cells:
                found = self._doc_freq(searcher, field, _decimal_cell(level, index))
                if acc + found >= want:
                    break
                acc += found
            else:
                return None  # (below the top level, a cell's children hold what it holds)
            first = index * 10
        return index + 1 if ascending else index

    def _sorted_page(
        self, searcher: tantivy.Searcher, parts: list, sort: str, field: str, order, offset: int, limit: int, total: int
    ) -> list | None:
        """The page ``offset:offset+limit`` of the ``total`` matches of ``parts`` sorted on
        ``field``, sought among the documents of the lowest (highest) cells of the sort
        value, enough to hold four times the page if the matches are spread over values
        like the whole index; None when they hold fewer than the page (then every match
        is sorted). The page is the same: every match outside those cells sorts after the
        ones inside. Prices are sorted in cents and cut in euros, so a page ending on
        the boundary cent is not trusted either."""
        needed = offset + limit
        documents = searcher.num_docs
        want = 4 * needed * documents / total
        if want > documents / 4:  # the cells would hold a quarter of the index: no shortcut
            return None
        check = None
        if sort == "relevance":  # no words: by key, and keys are spread evenly over the buckets
            if not self._key_buckets:
                return None
            buckets = math.ceil(want * KEY_BUCKETS / documents)
            if buckets > TIER_BUCKETS_MAX:
                return None
            restrict = self._terms(KEY_BUCKET, range(buckets))
        else:
            cell_field, ascending = {
                "price_asc": (PRICE_CELL, True),
                "price_desc": (PRICE_CELL, False),
                "newest": (SEEN_CELL, False),
            }[sort]
            if not (self._price_cells if cell_field == PRICE_CELL else self._seen_cells):
                return None
            bound = self._cell_bound(searcher, cell_field, want, ascending)
            if bound is None:
                return None
            if ascending:
                cells = decimal_cover(0, bound)[0]  # whole cells of [0, bound)
                check = lambda value: value >> TIE_BITS < 100 * bound  # noqa: E731
            else:
                cells = decimal_cover(bound, None)[0] + [_CELL_OVERFLOW]
                if sort == "price_desc":
                    check = lambda value: value >> TIE_BITS > 100 * bound  # noqa: E731
            restrict = self._any([self._term(cell_field, cell) for cell in cells])
        hits = searcher.search(
            self._and([*parts, restrict]), needed, count=False, order_by_field=field, order=order
        ).hits
        if len(hits) < needed or (check is not None and not check(hits[-1][0])):
            return None
        return [address for _, address in hits[offset:needed]]

    def _text_query(self, clauses: list[Clause], mode: str) -> Query | None:
        """``mode``: "strict" (every clause, exact), "fuzzy" (every clause, typos forgiven
        in words of 5+ letters) or "any" (at least one clause, typos forgiven)."""
        if not clauses:
            return None
        fuzzy = mode != "strict"
        per_clause = [
            Query.disjunction_max_query(
                [self._field_match(f, clause, weight, fuzzy) for f, weight in TEXT_FIELDS.items()]
            )
            for clause in clauses
        ]
        occur = Occur.Should if mode == "any" else Occur.Must
        return per_clause[0] if len(per_clause) == 1 else Query.boolean_query([(occur, q) for q in per_clause])

    def _availability(self, searcher: tantivy.Searcher, generation) -> tuple[list[tuple[str, float]], tuple] | None:
        """(the availability bonus minus its maximum per value present, the values
        present): ``None`` unless every product carries a value (and the index is known
        to be at ``generation``).

        Adding the same constant to every score leaves the ranking unchanged (the bonuses
        are small dyadic numbers, so the sums stay exact), and the clauses then cover the
        products not in stock instead of the two thirds in stock: a cheaper union.
        """
        if not generation or generation != self._generation():
            return None
        cached = self._availability_cache
        if cached is not None and cached[0] == generation:
            return cached[1]
        agg = searcher.aggregate(
            self._term("type", "product"),
            {
                "a": {"terms": {"field": "availability", "size": 65_000, "segment_size": 65_000}},
                "n": {"value_count": {"field": "key"}},
            },
        )
        counts = {bucket["key"]: bucket["doc_count"] for bucket in agg["a"]["buckets"]}
        found = None
        if sum(counts.values()) == int(agg["n"]["value"] or 0):
            top = max((AVAILABILITY_BONUS.get(value, 0.0) for value in counts), default=0.0)
            shift = [
                (value, AVAILABILITY_BONUS.get(value, 0.0) - top)
                for value in sorted(counts)
                if AVAILABILITY_BONUS.get(value, 0.0) != top
            ]
            found = (shift, tuple(sorted(counts)))
        self._availability_cache = (generation, found)
        return found

    def _with_bonus(
        self, core: Query, clauses: list[Clause], shift: list[tuple[str, float]] | None = None, seek: bool = False
    ) -> Query:
        """The text query as scored for relevance: availability, phrase and head bonuses.
        Only the ranked search pays for them; counts and facets use the core alone.

        ``seek`` (for a few tens of thousands of matches at most): each availability bonus
        gets its own level, so the engine seeks its postings once per match instead of
        scanning a union of a third of the index. The scores are the same sums (small
        dyadic numbers add exactly in f32), so the same hits come in the same order.
        """
        if seek and shift:
            query = self._with_bonus(core, clauses, [])
            for value, score in shift:
                query = Query.boolean_query(
                    [
                        (Occur.Must, query),
                        (Occur.Should, Query.const_score_query(self._term("availability", value), score)),
                    ]
                )
            return query
        bonus = [
            Query.const_score_query(self._term("availability", value), score)
            for value, score in (AVAILABILITY_BONUS.items() if shift is None else shift)
        ]
        words = [w for clause in clauses for w in clause.words]
        stems = [stem for w in words for stem in analyze(w)]
        if len(stems) > 1:
            bonus.append(Query.const_score_query(Query.phrase_query(self.schema, "name", stems, slop=1), PHRASE_BONUS))
        heads = list(dict.fromkeys(stem for clause in clauses for stem in clause.stems()))
        if heads:
            bonus.append(Query.const_score_query(self._terms("name_head", heads), HEAD_BONUS))
        return Query.boolean_query([(Occur.Must, core)] + [(Occur.Should, q) for q in bonus])

    @staticmethod
    def _unscored(query: Query) -> Query:
        return Query.const_score_query(query, 0.0)

    def _price_query(self, query: SearchQuery, as_cells: bool = True) -> Query | None:
        """The price filter: as price cells (``as_cells``) when the range is what selects the
        products (no words, no place): 3x faster than the column (16 against 5 ms for
        "Nantes under 20 EUR" at 1M); else as the exact range on the column, which the
        engine then reads only at the words' matches (a union of cells made "cadeau under
        100 EUR" 1.4x slower)."""
        if query.price_min is None and query.price_max is None:
            return None
        low = None if query.price_min is None else float(query.price_min)
        high = None if query.price_max is None else float(query.price_max)
        exact = Query.range_query(self.schema, "price", FieldType.Float, low, high)
        cover = decimal_cover(low, high) if self._price_cells and as_cells else None
        if cover is None:
            return exact
        cells, partial = cover
        # A union of term queries, not a term set: a term set first lists every product of
        # its terms, which makes "bougie under 20 EUR" read half the index; a union is only
        # advanced to the words' matches.
        parts = [self._term(PRICE_CELL, cell) for cell in cells]
        if partial:  # the engine checks the column for these products only
            parts.append(self._and([self._any([self._term(PRICE_CELL, cell) for cell in partial]), exact]))
        if not parts:
            return Query.empty_query()
        return self._any(parts)

    def _cells(self, cells: list[int]) -> Query:
        return self._terms("geo_cell", cells) if cells else Query.empty_query()

    def _points(self, searcher: tantivy.Searcher, query: Query, near: Near) -> list[tuple[float, str, int]]:
        """(distance, point term, documents) of every distinct point matching ``query``."""
        agg = searcher.aggregate(
            query, {"p": {"terms": {"field": "loc", "size": 1_000_000, "segment_size": 1_000_000}}}
        )
        points = []
        for bucket in agg["p"]["buckets"]:
            lat, _, lon = bucket["key"].partition(",")
            points.append(
                (haversine_km(near.lat, near.lon, float(lat), float(lon)), bucket["key"], bucket["doc_count"])
            )
        return points

    def _circle(self, searcher: tantivy.Searcher, base: list[Query], near: Near) -> Query:
        """The products of ``base`` within the radius, as an engine query (exact)."""
        inner, boundary = geo_cover(near.lat, near.lon, near.radius_km)
        parts = [self._cells(inner)] if inner else []
        if boundary:
            ring = self._points(searcher, self._and([*base, self._cells(boundary)]), near)
            inside = [point for distance, point, _ in ring if distance <= near.radius_km]
            if inside:
                parts.append(self._terms("loc", inside))
        if not parts:
            return Query.empty_query()
        if len(parts) == 1:
            return parts[0]
        return Query.boolean_query([(Occur.Should, part) for part in parts])

    def _nearest(self, searcher, full: Query, rest: Query, near: Near, total: int, needed: int) -> list:
        """The ``needed`` nearest products of ``full`` (already cut to the circle), as
        ``(distance, key, address)`` sorted by distance then key.

        Points (shops) are ranked first, in a small circle sized for the average density
        and widened until it holds enough products; only the products of the nearest
        points are then read, however many products the whole circle holds.

        ``rest`` is ``full`` without the circle: every product at a point within the radius
        is in the circle (a document's cells and point depend on its location alone), so
        queries on points and smaller circles skip the engine's costlier circle query.
        """
        radius = near.radius_km
        if total > 4 * needed:
            radius = max(0.2, near.radius_km * math.sqrt(4 * max(needed, 1) / total))
        while True:
            if radius >= near.radius_km:
                points = self._points(searcher, full, near)
            else:
                inner, boundary = geo_cover(near.lat, near.lon, radius)
                points = self._points(searcher, self._and([rest, self._cells(inner + boundary)]), near)
                points = [p for p in points if p[0] <= radius]
            if radius >= near.radius_km or sum(p[2] for p in points) >= needed:
                break
            radius = min(near.radius_km, radius * 2)
        points.sort()
        chosen, count = [], 0
        for distance, point, docs in points:
            if count >= needed and distance > chosen[-1][0]:
                break
            chosen.append((distance, point, docs))
            count += docs
        if not chosen:
            return []
        # Every product of the points closer than the last distance is on the page (fewer
        # than ``needed`` of them); of the points at the last distance only the smallest
        # keys are, which the engine picks by sorting on ``key``: a big shop at that
        # distance costs ``needed`` documents, not its whole catalogue.
        last = chosen[-1][0]
        distance_of = {point: distance for distance, point, _ in chosen}
        closer = [point for distance, point, _ in chosen if distance < last]
        closer_docs = sum(docs for distance, _, docs in chosen if distance < last)
        ranked = []
        if closer:
            ranked = self._by_key(searcher, self._and([rest, self._terms("loc", closer)]), closer_docs)
        tied = [point for distance, point, _ in chosen if distance == last]
        ranked += self._by_key(searcher, self._and([rest, self._terms("loc", tied)]), needed - closer_docs)
        lats = searcher.fast_field_values("lat", [address for _, address in ranked])
        lons = searcher.fast_field_values("lon", [address for _, address in ranked])
        ranked = [
            (distance_of[_loc(lat, lon)], key, address)
            for lat, lon, (key, address) in zip(lats, lons, ranked, strict=False)
        ]
        ranked.sort(key=lambda r: (r[0], r[1]))  # stable: the tied points' products stay last, by key
        return ranked

    @staticmethod
    def _count(searcher: tantivy.Searcher, query: Query) -> int:
        """Matches of ``query``: counted without scores, several times faster than a search."""
        return int(searcher.aggregate(query, {"n": {"value_count": {"field": "key"}}})["n"]["value"] or 0)

    @staticmethod
    def _by_key(searcher: tantivy.Searcher, query: Query, limit: int) -> list[tuple[int, tantivy.DocAddress]]:
        """The ``limit`` matches of ``query`` with the smallest keys, as (key, address)."""
        if limit <= 0:
            return []
        hits = searcher.search(query, limit, count=False, order_by_field="key", order=Order.Asc).hits
        addresses = [address for _, address in hits]
        return list(zip(searcher.fast_field_values("key", addresses), addresses, strict=False))

    def search(self, query: SearchQuery) -> SearchResult:
        validate_query(query)
        query = resolve_place(self, query)
        generation = self._generation()  # before the reload: never cache new counts under an old key
        searcher = self._searcher(generation)
        # A page of results is a pure function of the query and the index state: the same
        # search at the same generation is answered from the addresses found last time
        # (popular searches repeat), and only the documents are read again.
        page_key = (
            generation,
            query.text,
            tuple(sorted((k, tuple(v)) for k, v in query.filters.items())),
            query.price_min,
            query.price_max,
            query.near,
            query.facets,
            query.sort,
            query.page,
            query.per_page,
        )
        located = self._page_cache.get(page_key) if generation else None
        if located is None:
            located = self._locate(searcher, query, generation)
            if generation and generation == self._generation():  # the searcher saw that commit only
                self._page_cache.put(page_key, located)
        total, page, mode, facets_found, clauses = located
        near = query.near
        hits = self._records(searcher, page)
        if near:
            for hit in hits:
                hit["distance_km"] = round(haversine_km(near.lat, near.lon, hit["lat"], hit["lon"]), 1)
        if clauses:
            for hit in hits:
                hit["name_highlight"] = highlight_segments(hit.get("name") or "", clauses, fuzzy=mode != "strict")
        facets = {name: [FacetValue(*value) for value in values] for name, values in facets_found}
        return SearchResult(total=total, hits=hits, facets=facets, page=max(query.page, 1), per_page=query.per_page)

    def _locate(self, searcher: tantivy.Searcher, query: SearchQuery, generation) -> tuple:
        """(total, addresses of the page, text mode used, facets, planned clauses)."""
        near = query.near
        clauses = plan_words(query.text)
        price = self._price_query(query, as_cells=not clauses and not near)
        # Shops have no price, no value of the PRODUCT_FILTERS and (schema 5) no words: a
        # search with any of those matches products only, without excluding the shop
        # documents (see the module's notes).
        narrowed = any(name in PRODUCT_FILTERS and "" not in values for name, values in query.filters.items() if values)
        product = None if price is not None or narrowed or (clauses and self._wordless_shops) else PRODUCTS
        filters = {name: self._terms(FILTER_FIELDS[name], values) for name, values in query.filters.items() if values}
        common = [price] if price is not None else []

        # Nothing with every word as typed: forgive typos, then accept any word. The facet
        # pass counts the matches anyway, so trying a mode costs no extra search.
        modes: list[str | None] = [None]
        if clauses:
            modes = ["strict"] + (["fuzzy"] if any(c.fuzzy for c in clauses) else [])
            modes += ["any"] if len(clauses) > 1 else []
        filter_key = tuple(sorted((k, tuple(v)) for k, v in query.filters.items()))
        for attempt, mode in enumerate(modes):
            text_q = self._text_query(clauses, mode) if mode else None
            plain = not near and price is None and text_q is None  # base: the product term alone
            base = common + ([text_q] if text_q is not None else [])
            if near:
                circle = self._circle(searcher, base, near)  # only products carry geo terms
                rest = self._and(base + list(filters.values()))
                base.append(circle)
            elif product is not None:
                base.insert(0, product)
            full = self._and(base + list(filters.values()))

            # Facets (and the total, counted in the same pass) do not depend on sort or page:
            # paging and re-sorting reuse them.
            facet_key = (generation, query.text, mode, filter_key, query.price_min, query.price_max, near, query.facets)
            cached = self._facet_cache.get(facet_key) if generation else None
            if cached is None:
                threads = self._threads if self._threads > 1 and self._spare_core.available() else 1
                cached = self._facets(
                    searcher,
                    query,
                    base,
                    filters,
                    generation if plain else None,
                    generation=generation,
                    threads=threads,
                    split_shop=threads > 1 and self._broad(searcher, clauses),
                )
                if generation:
                    self._facet_cache.put(facet_key, cached)
            facets_found, counted = cached
            if attempt == len(modes) - 1:
                break
            found = counted if counted is not None else self._count(searcher, full)
            if found:
                break
        mode = mode or "strict"

        sort = query.sort if (query.sort != "distance" or near) else "relevance"
        per_page = max(0, min(query.per_page, MAX_PER_PAGE))
        offset = query.offset
        limit = max(0, min(per_page, MAX_RESULT_WINDOW - offset))

        if sort == "distance":
            total = counted if counted is not None else self._count(searcher, full)
            nearest = []
            if limit and total > offset:
                nearest = self._nearest(searcher, full, rest, near, total, offset + limit)
            page = [address for _, _, address in nearest[offset : offset + limit]]
        elif sort == "relevance" and text_q is not None:
            # Only the text scores: filters, cells and the product term count zero.
            others = [q for q in base if q is not text_q and q is not product] + list(filters.values())
            shift, present = self._availability(searcher, generation) or (None, None)
            page = None
            if limit:
                if counted is None:  # no facet asked for: the tier needs the total
                    counted = self._count(searcher, full)
                tier = self._top_tier(searcher, query, clauses, mode, present)
                if tier is not None:
                    page = self._tier_page(
                        searcher, tier, others, not near and product is not None, offset, limit, counted
                    )
            if page is not None:
                total = counted
            else:
                seek = counted is not None and counted < SEEK_BONUS_BELOW
                if not near and product is not None:
                    others.append(product)
                scored = Query.boolean_query(
                    [
                        (Occur.Must, self._with_bonus(text_q, clauses, shift, seek)),
                        (Occur.Must, self._unscored(self._and(others))),
                    ]
                )
                total, page = self._top_by_score(searcher, scored, offset, limit, counted)
        else:
            field, order = {
                "relevance": ("key", Order.Asc),
                "price_asc": ("sort_price_asc", Order.Asc),
                "price_desc": ("sort_price_desc", Order.Desc),
                "newest": ("sort_newest", Order.Desc),
            }[sort]
            page = None
            if plain and not filters and generation and offset + limit <= BROWSE_WINDOW:
                total, page = self._browse_page(searcher, generation, full, field, order)
                page = page[offset : offset + limit]
            elif limit and counted is not None and counted >= SORT_CELLS_ABOVE:
                page = self._sorted_page(
                    searcher, base + list(filters.values()), sort, field, order, offset, limit, counted
                )
                total = counted
            if page is None:
                result = searcher.search(
                    full, max(limit, 1), count=counted is None, order_by_field=field, offset=offset, order=order
                )
                total = result.count if counted is None else counted
                page = [address for _, address in result.hits][:limit]
        return total, tuple(page), mode, facets_found, tuple(clauses)

    def _browse_page(self, searcher: tantivy.Searcher, generation, full: Query, field: str, order) -> tuple:
        """(total, first ``BROWSE_WINDOW`` addresses) of every product sorted on ``field``:
        the same for every browse without words, filter, price or place at one index
        generation: sorted once per commit and sort order, not once per page view."""
        pages = self._browse_pages
        if pages[0] != generation:
            pages = (generation, {})
        found = pages[1].get((field, order))
        if found is None:
            result = searcher.search(full, BROWSE_WINDOW, count=True, order_by_field=field, order=order)
            found = (result.count, [address for _, address in result.hits])
            if generation == self._generation():  # the searcher saw that commit, not a later one
                pages[1][(field, order)] = found
                self._browse_pages = pages
        return found

    def _top_by_score(
        self, searcher: tantivy.Searcher, query: Query, offset: int, limit: int, total: int | None = None
    ):
        """Hits ``offset:offset+limit`` by score, ties broken by key.

        tantivy breaks score ties by document address, which moves when segments merge.
        The window is widened once so that it usually holds every document tied with the
        last one needed; a tie group larger than that keeps the engine's order (still
        consistent from page to page for a given index state).
        """
        needed = offset + limit
        # With fixed per-field scores ties are the norm, so the widened window is asked for
        # at once (one search instead of two); the ranking is the same as widening on demand.
        window = needed + TIE_WINDOW if limit else 1
        result = searcher.search(query, window, count=total is None)  # the facets counted it already
        total = result.count if total is None else total
        hits = result.hits
        if limit == 0 or len(hits) <= offset:
            return total, []
        complete = len(hits) < window or hits[-1][0] < hits[needed - 1][0] if len(hits) >= needed else True
        # Only hits scoring at least the last needed one can reach the page: those above it
        # (few), then the group tied with it, ranked by key unless the window cut it.
        cut = hits[min(needed, len(hits)) - 1][0]
        # Hits come by decreasing score: bisect on the negated score.
        above = bisect.bisect_left(hits, -cut, key=_neg_score)
        end = bisect.bisect_right(hits, -cut, lo=above, key=_neg_score)
        by_key = complete or cut != hits[-1][0]
        keys = searcher.fast_field_values("key", [address for _, address in hits[: end if by_key else above]])
        # sorted() is stable: equal keys keep the engine's order, as before.
        order = sorted(range(above), key=lambda i: (-hits[i][0], keys[i]))
        group = range(above, end)
        if by_key:
            order += heapq.nsmallest(needed - above, group, key=keys.__getitem__)
        else:
            order += group[: needed - above]
        return total, [hits[i][1] for i in order[offset:needed]]

    def _facet_terms(self, name: str, hashed: bool = False) -> dict:
        field = FACETS[name]
        if field in SET_FIELDS:  # every distinct set, split afterwards
            return {"terms": {"field": SET_FIELDS[field], "size": ALL_BUCKETS, "segment_size": ALL_BUCKETS}}
        if hashed and name == "shop":  # twice the shown values: see _shop_buckets
            return {"terms": {"field": SHOP_HASH, "size": 2 * self.facet_size, "segment_size": ALL_BUCKETS}}
        # segment_size above the field's cardinality keeps the counts exact; one more bucket
        # for "" (no value: never shown), so it never takes a shown value's place.
        return {"terms": {"field": field, "size": self.facet_size + 1, "segment_size": ALL_BUCKETS}}

    def _shop_name_map(self, searcher: tantivy.Searcher, generation, refresh: bool = False) -> dict | None:
        """{shop_name_hash: shop name} of every name in the index, read from its term
        dictionary once per generation; None (count on the names) for an index without
        the field or when two names share a hash."""
        if not self._shop_hash or not generation:
            return None
        cached = self._shop_names
        if cached is not None and cached[0] == generation and not refresh:
            return cached[1]
        names: dict[int, str] | None = {}
        for name, _ in searcher.terms_with_prefix("shop_name", ""):
            if names.setdefault(shop_name_hash(name), name) != name:
                names = None
                break
        self._shop_names = (generation, names)
        return names

    def _shop_buckets(
        self, searcher, buckets: list[dict], names: dict, generation, recount, ticked: tuple = ()
    ) -> list[dict]:
        """Hashed shop buckets as named ones. The top 2 x facet_size counts were asked
        for: enough unless the facet_size-th count ties past the end of the list (the
        facet shows the top by count, then name); then every shop is counted again, and
        only the shops that can be shown are named: those counting at least the
        facet_size-th count, and the ticked ones (thousands of one-product shops named
        and sorted for nothing cost 10 ms)."""
        size = self.facet_size
        if len(buckets) >= 2 * size and buckets[-1]["doc_count"] >= buckets[size - 1]["doc_count"]:
            buckets = recount({"terms": {"field": SHOP_HASH, "size": ALL_BUCKETS, "segment_size": ALL_BUCKETS}})
            counts = sorted((b["doc_count"] for b in buckets if b["key"]), reverse=True)
            if len(counts) > size:
                least = counts[size - 1]
                keep = {shop_name_hash(name) for name in ticked}
                buckets = [b for b in buckets if b["doc_count"] >= least or b["key"] in keep]
        if any(b["key"] and b["key"] not in names for b in buckets):
            # A commit landed between the generation's stat and this searcher's reload.
            names = self._shop_name_map(searcher, generation, refresh=True)
            if names is None or any(b["key"] and b["key"] not in names for b in buckets):
                return recount(self._facet_terms("shop"))
        return [{"key": names[b["key"]], "doc_count": b["doc_count"]} for b in buckets if b["key"]]

    def _browse_counts(
        self, searcher: tantivy.Searcher, generation, hashed: bool = False, availability: tuple = ()
    ) -> dict:
        """Every facet and the total over all products, or over those of the given
        ``availability`` values ("in stock" ticked, no words): the same for every such
        browse (no words, price, place or other filter) at one index generation, so
        computed once per commit and availability."""
        cached = self._browse_cache
        if cached is None or cached[0] != generation:
            cached = (generation, {})
        result = cached[1].get((hashed, availability))
        if result is not None:
            return result
        spec = {name: self._facet_terms(name, hashed) for name in FACETS}
        spec["_total"] = {"value_count": {"field": "key"}}
        scope = self._terms("availability", availability) if availability else self._term("type", "product")
        result = searcher.aggregate(scope, spec)
        if generation == self._generation():  # the searcher saw that commit, not a later one
            cached[1][(hashed, availability)] = result
            self._browse_cache = cached
        return result

    def _facets(
        self,
        searcher,
        query: SearchQuery,
        base: list[Query],
        filters: dict[str, Query],
        browse_generation=None,
        generation=None,
        threads: int = 1,
        split_shop: bool = False,
    ):
        """(facets, total or None): the total comes free with the shared aggregation.

        Facets without a selected value share one aggregation over the full query; a facet
        with a selected value is counted without its own filter (disjunctive), one
        aggregation each. (Counting every group in one pass over the matches without the
        ticked filters, with the groups' filters as "filter" sub-aggregations, reads the
        words once but costs more: 7.7 against 6.8 ms at the median of the benchmark at
        1M products, 3x more for a cheap search with two ticked facets.)

        ``browse_generation``: no words, price or place, so a group without filters, or
        with an availability filter alone, reads a per-generation table of
        :meth:`_browse_counts`.

        ``threads``: the aggregations run side by side on that many threads (see
        :meth:`_aggregate_all`). ``split_shop``: the shop facet of each group is counted
        apart from its other facets, so that the two run side by side: worth its second
        pass over the matches when they are many (see :meth:`_broad`).
        """
        names = self._shop_name_map(searcher, generation) if "shop" in query.facets else None
        hashed = names is not None

        def table(used: list[str]) -> tuple | None:
            """The availability values of the per-generation table that counts a group
            filtered on ``used`` (() for every product), or None: count it."""
            if not browse_generation:
                return None
            if not used:
                return ()
            values = tuple(sorted(query.filters.get("availability", ())))
            return values if used == ["availability"] and "" not in values else None

        groups: list[tuple[list[str], Query, tuple | None]] = []
        shared = [name for name in query.facets if name not in filters]
        has_shared = bool(shared) or query.sort == "distance"  # then groups[0] counts the total too
        if has_shared:
            groups.append((shared, self._and(base + list(filters.values())), table(list(filters))))
        for name in query.facets:
            if name in filters:
                others = [other for other in filters if other != name]
                groups.append(([name], self._and(base + [filters[other] for other in others]), table(others)))
        facets: dict[str, list[FacetValue]] = {}
        total = None
        # The engine's aggregations, run side by side (see _aggregate_all).
        tasks: list[tuple[Query, dict]] = []
        per_group: list[int] = []  # how many of the tasks count each group
        for index, (group_names, group_query, counts_table) in enumerate(groups):
            spec = {name: self._facet_terms(name, hashed) for name in group_names}
            if index == 0 and has_shared:
                spec["_total"] = {"value_count": {"field": "key"}}
            parts = [] if counts_table is not None else [spec]
            if split_shop and "shop" in spec and len(spec) > 1 and parts:
                parts = [{"shop": spec.pop("shop")}, spec]
            tasks += [(group_query, part) for part in parts]
            per_group.append(len(parts))
        counted = iter(self._aggregate_all(searcher, tasks, threads))
        for index, (group_names, group_query, counts_table) in enumerate(groups):
            if not per_group[index]:
                result = self._browse_counts(searcher, browse_generation, hashed, counts_table)
            else:
                result = {}
                for _ in range(per_group[index]):
                    result.update(next(counted))
            if index == 0 and has_shared:
                total = int(result["_total"]["value"] or 0)
            for name in group_names:
                found = result[name]
                if hashed and name == "shop":

                    def recount(terms: dict, group_query=group_query) -> list[dict]:
                        return searcher.aggregate(group_query, {"x": terms})["x"]["buckets"]

                    found = {
                        "buckets": self._shop_buckets(
                            searcher, found["buckets"], names, generation, recount, tuple(query.filters.get("shop", ()))
                        )
                    }
                self._rank_facet(query, name, found, facets)
        # Kept in the caches as nested tuples of strings and numbers, which the garbage
        # collector stops tracking: thousands of cached searches as objects made every
        # full collection of a portal worker take 0.3 s.
        return tuple(
            (name, tuple((v.value, v.count, v.selected) for v in facets[name])) for name in query.facets
        ), total

    def _aggregate_all(
        self, searcher: tantivy.Searcher, tasks: list[tuple[Query, dict]], threads: int = 1
    ) -> list[dict]:
        """The results of several aggregations, in order. The engine releases the GIL while
        it counts, so up to ``threads`` of them run side by side: a search with a ticked
        facet (two or three groups) or a big shop facet then takes the time of its longest
        aggregation rather than of their sum. Only worth it with a core to spare (see
        :mod:`indexer.backends.spare_core`)."""
        threads = min(threads, len(tasks))
        if threads <= 1:
            return [searcher.aggregate(query, spec) for query, spec in tasks]
        results: list[Any] = [None] * len(tasks)
        order = iter(range(len(tasks)))
        taking = threading.Lock()

        def work() -> None:
            while True:
                with taking:
                    index = next(order, None)
                if index is None:
                    return
                results[index] = searcher.aggregate(*tasks[index])

        helpers = [self._pool().submit(work) for _ in range(threads - 1)]
        work()
        for helper in helpers:
            helper.result()
        return results

    def _pool(self) -> ThreadPoolExecutor:
        """This process's helper threads (made on first use: a pool made before a fork,
        as gunicorn's, would have no threads in the child)."""
        pool = self._helpers
        if pool is None or pool[0] != os.getpid():
            pool = self._helpers = (os.getpid(), ThreadPoolExecutor(self._threads - 1, "emplettes-search"))
        return pool[1]

    def _rank_facet(self, query: SearchQuery, name: str, result: dict, facets: dict) -> None:
        """One facet's values as shown: the top ``facet_size`` by count, then name, and the
        ticked values even at zero."""
        counts: dict[str, int] = {}
        split = FACETS[name] in SET_FIELDS
        for bucket in result["buckets"]:
            for value in bucket["key"].split(SET_SEPARATOR) if split else (bucket["key"],):
                if value:  # "": the empty set
                    counts[value] = counts.get(value, 0) + bucket["doc_count"]
        ranked = sorted(counts.items(), key=lambda vc: (-vc[1], vc[0]))[: self.facet_size]
        selected = set(query.filters.get(name, ()))
        shown = {value for value, _ in ranked}
        # A ticked value stays visible so it can be unticked, even at zero.
        ranked += [(value, counts.get(value, 0)) for value in sorted(selected - shown)]
        ranked.sort(key=lambda vc: (-vc[1], vc[0]))
        facets[name] = [FacetValue(value, count, value in selected) for value, count in ranked]


class _LRU:
    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        return None

    def put(self, key, value) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)


def _batches(records: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for record in records:
        batch.append(record)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
