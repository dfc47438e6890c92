"""The one small interface every search backend implements.

The embedded backend (tantivy) is the default; Elasticsearch serves regions that outgrow
one machine. The portal and the loaders only ever see this interface, and one contract
test suite (tests/test_backend_contract.py) runs against each implementation.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable, Literal

Sort = Literal["relevance", "price_asc", "price_desc", "distance", "newest"]
SORTS: tuple[str, ...] = ("relevance", "price_asc", "price_desc", "distance", "newest")

# Facets over product offers: name -> record field (multi-valued fields count each value).
FACETS: dict[str, str] = {
    "town": "town",
    "category": "categories",
    "availability": "availability",
    "shop": "shop_name",
    "services": "services",
}
# Filters that are not facets: a shop's page lists exactly that shop's offers.
FILTERS: dict[str, str] = {**FACETS, "shop_id": "shop_id", "source_id": "source_id"}


@dataclass(frozen=True)
class Near:
    lat: float
    lon: float
    radius_km: float


@dataclass(frozen=True)
class SearchQuery:
    """What a resident asked for. Values inside one filter are OR'ed, filters are AND'ed.

    ``filters`` keys are the names of :data:`FILTERS` (facets plus ``shop_id``/``source_id``).

    Facet counts are *disjunctive*: each facet is counted with every filter applied except
    its own, so ticking one town still shows how many results the other towns have.
    """

    text: str = ""
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    price_min: Decimal | None = None
    price_max: Decimal | None = None
    near: Near | None = None
    sort: Sort = "relevance"
    page: int = 1
    per_page: int = 20
    facets: tuple[str, ...] = tuple(FACETS)

    @property
    def offset(self) -> int:
        return (max(self.page, 1) - 1) * self.per_page


@dataclass
class FacetValue:
    value: str
    count: int
    selected: bool = False


@dataclass
class SearchResult:
    total: int
    hits: list[dict[str, Any]]  # product records as dicts, plus "distance_km" when near is set
    facets: dict[str, list[FacetValue]]
    page: int = 1
    per_page: int = 20

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


class BackendUnavailable(RuntimeError):
    """The index cannot be reached; callers keep run files and retry later."""


class SearchBackend(abc.ABC):
    """Index records, delete by source, search with filters/facets/geo/sort, suggest."""

    name: str = "abstract"

    @abc.abstractmethod
    def upsert(self, records: Iterable[dict[str, Any]]) -> int:
        """Insert or replace records (product and shop dicts, validated) by ``id``.

        Keeps an existing product's ``first_seen``. Returns how many were written.
        Changes are visible to searches when this returns.
        """

    @abc.abstractmethod
    def delete_source(self, source_id: str, *, keep_run: str | None = None) -> int:
        """Delete a source's records, except those whose ``run_id`` is ``keep_run``."""

    @abc.abstractmethod
    def search(self, query: SearchQuery) -> SearchResult:
        """Search product offers."""

    @abc.abstractmethod
    def suggest(self, prefix: str, limit: int = 8) -> list[str]:
        """Product names (or words) starting with what the resident is typing."""

    @abc.abstractmethod
    def get(self, record_id: str) -> dict[str, Any] | None:
        """One record (product or shop) by id."""

    @abc.abstractmethod
    def shops(self) -> list[dict[str, Any]]:
        """Every shop record, sorted by town then name."""

    @abc.abstractmethod
    def stats(self) -> dict[str, Any]:
        """Counts: products, shops, products per source."""

    def close(self) -> None:  # pragma: no cover - optional
        """Release files or connections."""
