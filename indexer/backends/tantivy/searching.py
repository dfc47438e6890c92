"""A search from end to end: the query planned, its facets counted, its page found.

Scoring is the costly part of a search, so the facet pass counts the matches first (the
total comes free with it), and the page is then found by the cheapest way that gives
the same page as sorting every match (see ``paging`` and ``geo``). A page of results is
a pure function of the query and the index generation: the same search at the same
generation is answered from the addresses found last time, and only the documents are
read again.
"""

from __future__ import annotations

from typing import Any

import tantivy

from indexer.analysis import clauses_text, highlight_segments, plan_words, relax_clauses
from indexer.backends.base import (
    FacetValue,
    SearchQuery,
    SearchResult,
    validate_query,
)
from indexer.backends.common import MAX_PER_PAGE, MAX_RESULT_WINDOW, haversine_km
from indexer.backends.tantivy.documents import decode_record
from indexer.backends.tantivy.facets import Facets, FacetsFound
from indexer.backends.tantivy.geo import Geo
from indexer.backends.tantivy.query import PRODUCTS, Match
from indexer.backends.tantivy.schema import FILTER_FIELDS
from indexer.places import resolve_place

# Filters no shop document matches (shops have no availability and no shop_id): with one of
# them, a search needs no exclusion of the shops. The facet then counted without that
# filter (disjunctive) counts shops too, under "" (no value), which is never shown.
PRODUCT_FILTERS = ("availability", "shop_id")

# (total, addresses of the page, text mode used, facets, clauses searched, words dropped)
Located = tuple[int, tuple, str, FacetsFound, tuple, tuple]


class Searching(Facets, Geo):
    """``search``: planning, facets and paging put together."""

    @staticmethod
    def _records(searcher: tantivy.Searcher, addresses: Any) -> list[dict]:
        return [decode_record(searcher.doc(address).get_first("record")) for address in addresses]

    def search(self, query: SearchQuery) -> SearchResult:
        validate_query(query)
        query = resolve_place(self, query)
        generation = self._generation()  # before the reload: never cache new counts under an old key
        searcher = self._searcher(generation)
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
        located = self._cache.searches.get(page_key) if generation else None
        if located is None:
            located = self._locate(searcher, query, generation)
            if generation and generation == self._generation():  # the searcher saw that commit only
                self._cache.searches.put(page_key, located)
        total, page, mode, facets_found, clauses, dropped = located
        near = query.near
        hits = self._records(searcher, page)
        if near:
            for hit in hits:
                hit["distance_km"] = round(haversine_km(near.lat, near.lon, hit["lat"], hit["lon"]), 1)
        if clauses:
            for hit in hits:
                hit["name_highlight"] = highlight_segments(hit.get("name") or "", clauses, fuzzy=mode != "strict")
        facets = {name: [FacetValue(*value) for value in values] for name, values in facets_found}
        return SearchResult(
            total=total,
            hits=hits,
            facets=facets,
            page=max(query.page, 1),
            per_page=query.per_page,
            dropped=dropped,
            searched=clauses_text(clauses) if dropped and clauses else None,
        )

    def _locate(self, searcher: tantivy.Searcher, query: SearchQuery, generation: Any) -> Located:
        match, facets_found = self._match(searcher, query, generation)
        near = query.near
        sort = query.sort if (query.sort != "distance" or near) else "relevance"
        per_page = max(0, min(query.per_page, MAX_PER_PAGE))
        offset = query.offset
        limit = max(0, min(per_page, MAX_RESULT_WINDOW - offset))
        if sort == "distance":
            assert near is not None
            total, page = self._distance_page(searcher, near, match, offset, limit)
        elif sort == "relevance" and match.text is not None:
            total, page = self._relevance_page(searcher, query, match, generation, offset, limit)
        else:
            total, page = self._field_page(searcher, sort, match, generation, offset, limit)
        dropped = tuple(word for clause in match.dropped for word in clause.words)
        return total, tuple(page), match.mode or "strict", facets_found, tuple(match.clauses), dropped

    def _match(self, searcher: tantivy.Searcher, query: SearchQuery, generation: Any) -> tuple[Match, FacetsFound]:
        """The search as engine queries, and its facets. Nothing with every word as typed:
        forgive typos, then accept any word. The facet pass counts the matches anyway, so
        trying a mode costs no extra search."""
        clauses = plan_words(query.text)
        price = self._price_query(query, as_cells=not clauses and not query.near)
        # Shops have no price, no value of the PRODUCT_FILTERS and no words: a search with
        # any of those matches products only, without excluding the shop documents.
        narrowed = any(name in PRODUCT_FILTERS and "" not in values for name, values in query.filters.items() if values)
        product = None if price is not None or narrowed or clauses else PRODUCTS
        filters = {name: self._terms(FILTER_FIELDS[name], values) for name, values in query.filters.items() if values}
        modes: list[str | None] = [None]
        if clauses:
            modes = ["strict", *(["fuzzy"] if any(c.fuzzy for c in clauses) else [])]
        for attempt, mode in enumerate(modes):
            match = self._build(searcher, query, clauses, mode, price, filters, product)
            facets_found, match.counted = self._facets_of(searcher, query, match, generation)
            if attempt == len(modes) - 1 and len(clauses) < 2:
                break
            assert match.full is not None
            if match.counted if match.counted is not None else self._count(searcher, match.full):
                break
        else:  # every word counts: drop the ones that block (analysis.relax_clauses)

            def count(subset: list) -> int:
                full = self._build(searcher, query, subset, "fuzzy", price, filters, product).full
                assert full is not None
                return self._count(searcher, full)

            kept, dropped = relax_clauses(clauses, count)
            if kept:
                match = self._build(searcher, query, kept, "relaxed", price, filters, product)
                facets_found, match.counted = self._facets_of(searcher, query, match, generation)
                match.dropped = dropped
        return match, facets_found

    def _build(
        self,
        searcher: tantivy.Searcher,
        query: SearchQuery,
        clauses: list,
        mode: str | None,
        price: Any,
        filters: dict,
        product: Any,
    ) -> Match:
        """The search in one text mode."""
        near = query.near
        text = self._text_query(clauses, mode, searcher) if mode else None
        base = ([price] if price is not None else []) + ([text] if text is not None else [])
        match = Match(clauses, mode, text, base, filters, plain=not near and price is None and text is None)
        if near:
            circle = self._circle(searcher, base, near)  # only products carry geo terms
            match.rest = self._and(match.parts())
            base.append(circle)
        elif product is not None:
            base.insert(0, product)
            match.product = product
        match.full = self._and(match.parts())
        return match

    def _facets_of(
        self, searcher: tantivy.Searcher, query: SearchQuery, match: Match, generation: Any
    ) -> tuple[FacetsFound, int | None]:
        """Facets and total (they depend on neither sort nor page: paging and re-sorting
        reuse them)."""
        filter_key = tuple(sorted((k, tuple(v)) for k, v in query.filters.items()))
        facet_key = (
            generation,
            query.text,
            match.mode,
            filter_key,
            query.price_min,
            query.price_max,
            query.near,
            query.facets,
        )
        cached = self._cache.facets.get(facet_key) if generation else None
        if cached is None:
            threads, split_shop = self._facet_threads(searcher, match.clauses)
            browse_generation = generation if match.plain else None
            cached = self._facets(
                searcher,
                query,
                match.base,
                match.filters,
                browse_generation,
                generation=generation,
                threads=threads,
                split_shop=split_shop,
            )
            if generation:
                self._cache.facets.put(facet_key, cached)
        return cached
