"""The index schema and opening an index.

One schema: an index built by another version of emplettes is refused, with the
command that rebuilds it from the run files (``emplettes reindex``), never read with
another layout. The French analyzers are not stored in the index: they are registered
on every open, in every process.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import tantivy
from tantivy import Index

from config.i18n import N_, _
from indexer.analysis import FOLDED, FRENCH, register_analyzers
from indexer.backends.base import FIELD_WEIGHTS, FILTERS, BackendUnavailable

# Bumped whenever a field is added, removed or changed: an index of another version does
# not open (see open_index).
SCHEMA_VERSION = 6

# Text fields a resident's words are matched against, with their weights (shared with
# Elasticsearch).
TEXT_FIELDS: dict[str, float] = FIELD_WEIGHTS

# Filter names -> raw fields (facets, plus shop_id/source_id for shop pages and chambers).
FILTER_FIELDS: dict[str, str] = FILTERS

# Raw (untokenised) string fields: exact filters, facets and deletes. Ids are deleted
# through a raw text field: a term delete on a u64 field silently deletes nothing.
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
DENSE_FIELDS = ("town", "availability", "shop_name")  # facet columns every document fills
# Multi-valued facets are counted on one single-valued field holding the doc's whole set
# ("Déco\x1fJouets"), then split in Python: much faster than a terms aggregation on the
# multi-valued field, and still exact (each value appears once per set).
SET_FIELDS = {"categories": "categories_set", "services": "services_set"}
SET_SEPARATOR = "\x1f"

# The shop facet (thousands of values in every segment) is counted on a u64 hash of the
# name and the buckets mapped back to names: a terms aggregation on a str field looks
# every bucket of every segment up in that segment's dictionary.
SHOP_HASH = "shop_name_hash"
KEY_BUCKET = "key_bucket"  # indexed: the products of the smallest keys, without reading every key
PRICE_CELL = "price_cell"  # cells of 1, 10, 100 and 1,000 EUR (see cells.decimal_cells)
SEEN_CELL = "seen_cell"  # cells of 1, 10, 100 and 1,000 days of first_seen since cells.SEEN_EPOCH

REINDEX_HINT = N_(
    "l'index de recherche de %(path)s a été construit par une autre version d'emplettes "
    "(schéma différent) : reconstruisez-le à partir des fichiers de collecte avec `emplettes reindex`"
)


@lru_cache(maxsize=65_536)
def shop_name_hash(name: str) -> int:
    """A stable 63-bit number per shop name, never 0 (0: no shop name)."""
    return max(int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big") >> 1, 1)


def build_schema() -> tantivy.Schema:
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
    for name in ("first_seen", "last_seen", "sort_price_asc", "sort_price_desc", "sort_newest", "sort_browse"):
        sb.add_integer_field(name, fast=True)
    sb.add_bytes_field("record", stored=True)
    sb.add_unsigned_field(SHOP_HASH, fast=True)
    sb.add_unsigned_field(KEY_BUCKET, indexed=True)
    sb.add_integer_field(PRICE_CELL, indexed=True)
    sb.add_integer_field(SEEN_CELL, indexed=True)
    return sb.build()


def open_index(path: Path) -> tuple[Index, tantivy.Schema]:
    """The index in ``path`` (created when there is none), its analyzers registered.

    Raises BackendUnavailable when the directory cannot be opened, or holds an index of
    another schema (the message tells the user to run ``emplettes reindex``)."""
    schema = build_schema()
    try:
        path.mkdir(parents=True, exist_ok=True)
        index = Index(schema, path=str(path), reuse=True)
    except ValueError as exc:
        if "schema does not match" in str(exc):
            raise BackendUnavailable(_(REINDEX_HINT, path=path)) from exc
        raise BackendUnavailable(_("impossible d'ouvrir l'index dans %(path)s : %(why)s", path=path, why=exc)) from exc
    except OSError as exc:
        raise BackendUnavailable(_("impossible d'ouvrir l'index dans %(path)s : %(why)s", path=path, why=exc)) from exc
    register_analyzers(index)
    return index, schema
