"""The one small interface every search backend implements.

The embedded backend (tantivy) is the default; Elasticsearch serves regions that outgrow
one machine. The portal and the loaders only ever see this interface, and one contract
test suite (tests/test_backend_contract.py) runs against each implementation.
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

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


def validate_query(query: SearchQuery) -> None:
    """Reject unknown filter, facet and sort names the same way on every backend."""
    unknown = [name for name in query.filters if name not in FILTERS]
    if unknown:
        raise ValueError(f"unknown filter {unknown[0]!r}; known: {', '.join(FILTERS)}")
    unknown = [name for name in query.facets if name not in FACETS]
    if unknown:
        raise ValueError(f"unknown facet {unknown[0]!r}; known: {', '.join(FACETS)}")
    if query.sort not in SORTS:
        raise ValueError(f"unknown sort {query.sort!r}; known: {', '.join(SORTS)}")


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
    # Words typed that no product matched together with the others, dropped so that the
    # rest finds something (analysis.relax_clauses): the page and the API say so.
    dropped: tuple[str, ...] = ()
    searched: str | None = None  # the words searched instead, when some were dropped

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


class BackendUnavailable(RuntimeError):
    """The index cannot be reached; callers keep run files and retry later."""


class SearchBackend(abc.ABC):
    """Index records, delete by source, search with filters/facets/geo/sort, suggest."""

    name: str = "abstract"
    #: Records the last :meth:`upsert` could not write, as ``{"id", "status", "error"}``: an
    #: engine may refuse what the record schema accepts (a field mapped otherwise by hand).
    #: The loader reports them against their run.
    last_rejected: Sequence[dict[str, Any]] = ()

    @abc.abstractmethod
    def upsert(self, records: Iterable[dict[str, Any]]) -> int:
        """Insert or replace records (product and shop dicts, validated) by ``id``, as
        given: the loader keeps older ``first_seen`` (see :meth:`first_seen`). Returns
        how many were written. Changes are visible to searches when this returns.
        """

    @abc.abstractmethod
    def first_seen(self, ids: Iterable[str]) -> dict[str, Any]:
        """``{id: first_seen}`` of the products among ``ids`` already written, also those
        written inside :meth:`bulk` and not yet visible to searches."""

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

    def close(self) -> None:  # noqa: B027 (optional: a backend holding nothing keeps this)
        """Release files or connections."""

    def cache_token(self) -> object | None:
        """A value that changes whenever searches may answer differently (a commit, a
        rebuild): answers computed under one token can be reused while it holds. None:
        no such value (then the portal keeps no answers)."""
        return None

    def generation(self) -> object | None:
        """A value that changes whenever what searches see changes, for values computed
        from the whole index (the portal's directory, counts, sitemap). Unlike
        :meth:`cache_token` it may cost a request; this default is that token."""
        return self.cache_token()

    def town_points(self) -> dict[str, tuple[str, list[tuple[float, float]]]]:
        """Folded town name -> (town as spelt, its shops' points): for "près de <town>".
        Backends cache it; this default reads every shop."""
        towns: dict[str, tuple[str, list[tuple[float, float]]]] = {}
        from indexer.analysis import fold

        for shop in self.shops():
            if not shop.get("town"):
                continue
            _, points = towns.setdefault(fold(shop["town"]), (shop["town"], []))
            if shop.get("lat") is not None and shop.get("lon") is not None:
                points.append((float(shop["lat"]), float(shop["lon"])))
        return towns

    @contextlib.contextmanager
    def bulk(self) -> Iterator[None]:
        """A load of many runs into an index nobody searches yet (a rebuild): within it,
        :meth:`upsert` and :meth:`delete_source` keep their meaning but changes may only
        become visible when the block ends, which saves a commit or refresh per run.
        This default changes nothing."""
        yield

    # A full rebuild (``emplettes reindex``) fills a fresh, invisible index, then swaps it
    # in at once: searches never see a half-built index.

    def start_rebuild(self) -> SearchBackend:
        """A new, empty, writable index of the same kind, not yet serving searches."""
        raise NotImplementedError(f"{self.name} cannot rebuild")

    def finish_rebuild(self, fresh: SearchBackend, before_swap: Callable[[], None] | None = None) -> None:
        """Make ``fresh`` (from :meth:`start_rebuild`) the index searches use; drop the old.
        ``before_swap`` runs just before, with the loaders kept out where the backend can."""
        raise NotImplementedError(f"{self.name} cannot rebuild")

    def abort_rebuild(self, fresh: SearchBackend) -> None:
        """Throw ``fresh`` away; the current index stays as it was."""
        raise NotImplementedError(f"{self.name} cannot rebuild")


# ---------------------------------------------------------------------------- relevance
#
# Both backends score text with the same constants, so the same query ranks the same
# products in the same order on either engine (BM25 statistics differ between engines,
# shards and segment layouts; these do not). Each clause of the query scores the best
# field it matched; ties are broken by the record's ``key`` (a hash of its id).

# Ranking (docs/search.md, "Ranking"): name before category before brand and shop before
# description. Each text field -> its weight; TEXT_SOURCES says which record field feeds it.
FIELD_WEIGHTS: dict[str, float] = {
    "name": 8.0,
    "category": 4.0,  # the product's own category ("Jouets en bois")
    "shop_categories": 3.0,  # its shop's registry categories ("jouets"): a toy shop's products are toys
    "brand": 2.0,
    "shop": 2.0,  # its shop's name ("Cave du Vieux Chinon")
    "description": 1.0,
}
TEXT_SOURCES: dict[str, str] = {
    "name": "name",
    "category": "category",
    "shop_categories": "categories",
    "brand": "brand",
    "shop": "shop_name",
    "description": "description",
}
# A word matched with one typo counts half, with two a quarter: "saucison" finds « Saucisson
# sec » (one edit) before « Chocolats de saison » (two).
FUZZY_FACTORS: dict[int, float] = {1: 0.5, 2: 0.25}
SYNONYM_FACTOR = 0.75  # "chandelle" finds bougies, but chandelles first
HEAD_BONUS = 2.0  # the name starts with the word: "Vélo enfant" before "Casque vélo enfant"
PHRASE_BONUS = 4.0  # the query's words side by side in the name ("huile d'olive")
# Availability only breaks ties between equally relevant products: every other part of a
# score is a multiple of 1/4 (weights x 1, 3/4 or 1/2), so bonuses below 1/4 never lift a
# weaker match over a better one. Dyadic numbers: the sums stay exact in f32 on both engines.
AVAILABILITY_BONUS: dict[str, float] = {"in_stock": 0.125, "preorder": 0.0625, "unknown": 0.0625}
# Browsing without words (docs/search.md, "Browsing"): in stock first, then preorder or
# unknown, then out of stock; within each, the most recently seen day first; then the key
# (price-neutral: never the dearest first).
BROWSE_RANK: dict[str, int] = {"in_stock": 2, "preorder": 1, "unknown": 1}
