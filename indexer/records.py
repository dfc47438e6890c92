"""The record schema: one product offer, one shop. Written down once, validated at the boundary.

The crawler's pipelines build these records and write them to run files; the indexer
validates every line it loads against the same models, so a malformed line is reported
and skipped instead of reaching the index. ``record_json_schema()`` exports the JSON
Schema for chambers and other tools.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_serializer, field_validator, model_validator

Availability = Literal["in_stock", "out_of_stock", "preorder", "unknown"]
AVAILABILITIES: tuple[str, ...] = ("in_stock", "out_of_stock", "preorder", "unknown")

# Services a shop offers residents; keys are stable, labels live in the portal.
Service = Literal["click_and_collect", "delivery", "gift_vouchers"]
SERVICES: tuple[str, ...] = ("click_and_collect", "delivery", "gift_vouchers")


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def product_id(source_id: str, url: str | None, sku: str | None = None, name: str | None = None) -> str:
    """Stable id of an offer: the same product on the same source keeps its id across runs.

    The canonical URL identifies a product page; the SKU is the fallback for feeds and
    listings whose items share one URL, and the name the last resort.
    """
    key = url or (f"sku:{sku}" if sku else f"name:{name or ''}")
    digest = hashlib.sha1(f"{source_id}\x00{key}".encode()).hexdigest()[:20]
    return f"{source_id}-{digest}"


def id_in_source(record_id: str, source_id: str, other_sources: Iterable[str] = ()) -> bool:
    """Whether ``record_id`` is in ``source_id``'s namespace: the source's own id, or
    ``<source_id>-…`` (as :func:`product_id` and platform shop ids make them) and not in the
    namespace of a longer source id among ``other_sources`` (``cave-vouvray-…`` belongs to
    ``cave-vouvray``, not to ``cave``). A run may only write ids of its own namespace, so
    one shop's data never replaces another's record."""
    if record_id == source_id:
        return True
    if not record_id.startswith(source_id + "-"):
        return False
    return not any(
        len(other) > len(source_id) and (record_id == other or record_id.startswith(other + "-"))
        for other in other_sources
    )


def price_string(price: Decimal) -> str:
    """``12.5`` and ``12.500`` -> ``"12.50"``; ``0.125`` -> ``"0.125"``: two decimals, more
    only when the price has significant digits beyond the cent."""
    try:
        cents = price.quantize(Decimal("0.01"))
    except InvalidOperation:  # more digits than the context holds: no rounding to show
        return format(price, "f")
    return format(cents if cents == price else price.normalize(), "f")


def price_high_kept(price: Decimal | None, price_high: Decimal | None) -> Decimal | None:
    """The highest price worth showing ("à partir de <price>"): only above the price. A
    "range" of one price, or a high without a low, is no range. The records keep this rule
    and the portal applies it again to whatever the index holds."""
    return price_high if price_high is not None and price is not None and price_high > price else None


class _Record(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    id: str
    source_id: str
    run_id: str = ""
    # The registry URL of the source this record was crawled from: the portal's /go/ only
    # redirects to URLs that belong to it.
    source_url: str | None = Field(default=None, pattern=r"^https?://")


class ShopRecord(_Record):
    """A shop as residents see it: registry facts first, its own markup fills the gaps."""

    type: Literal["shop"] = "shop"
    name: str = Field(min_length=1)
    url: str | None = None
    address: str | None = None
    postcode: str | None = None
    town: str | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    telephone: str | None = None
    opening_hours: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    services: list[Service] = Field(default_factory=list)
    description: str | None = None
    last_seen: datetime = Field(default_factory=utcnow)


class ProductRecord(_Record):
    """One product offer of one shop, linking back to the page on the shop's own site."""

    type: Literal["product"] = "product"
    shop_id: str
    shop_name: str
    shop_url: str | None = None
    town: str | None = None
    postcode: str | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    categories: list[str] = Field(default_factory=list)  # the shop's registry categories
    services: list[Service] = Field(default_factory=list)

    name: str = Field(min_length=1, max_length=500)
    description: str | None = Field(default=None, max_length=5000)
    brand: str | None = None
    category: str | None = None  # as declared by the page
    sku: str | None = None
    gtin: str | None = None
    price: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=4)
    # Highest price when the product has several offers or variants (``price`` is then the
    # lowest): the portal shows "à partir de". Absent when there is one price.
    price_high: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=4)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    availability: Availability = "unknown"
    url: str = Field(pattern=r"^https?://")
    image: str | None = Field(default=None, pattern=r"^https?://")
    # The stored copy of ``image`` the portal serves (indexer.images); absent from older
    # run files and when the image could not be fetched or was refused.
    image_key: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")
    # Local inventory, when the shop's feed declares it (Google local inventory words):
    # which of the shop's stores holds it, and how and how fast it can be collected there.
    store_code: str | None = Field(default=None, max_length=100)
    pickup_method: str | None = Field(default=None, max_length=40)  # buy | reserve | ship_to_store | not_supported
    pickup_sla: str | None = Field(default=None, max_length=40)  # same_day | next_day | 2_day ... | multi_week

    first_seen: datetime = Field(default_factory=utcnow)
    last_seen: datetime = Field(default_factory=utcnow)

    @field_validator("description", mode="before")
    @classmethod
    def _clip_description(cls, value):
        if isinstance(value, str) and len(value) > 5000:
            return value[:4999] + "…"
        return value

    @model_validator(mode="after")
    def _price_range(self) -> ProductRecord:
        self.price_high = price_high_kept(self.price, self.price_high)
        return self

    @field_serializer("price", "price_high")
    def _price_as_string(self, price: Decimal | None) -> str | None:
        return None if price is None else price_string(price)


Record = Annotated[ProductRecord | ShopRecord, Field(discriminator="type")]
RECORD_ADAPTER: TypeAdapter = TypeAdapter(Record)


def parse_record(data: dict) -> ProductRecord | ShopRecord:
    """Validate one run-file line; raises ``pydantic.ValidationError`` with field paths."""
    return RECORD_ADAPTER.validate_python(data)


def record_json_schema() -> dict:
    return RECORD_ADAPTER.json_schema()
