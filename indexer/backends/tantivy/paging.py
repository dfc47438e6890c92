"""Paging: the page of results for each sort, and its shortcuts.

Each shortcut sits beside the full sort it must agree with, and gives up (None) rather
than return another page:

* relevance with words: the top tier of scores read in key order (:meth:`_tier_page`)
  before scoring every match (:meth:`_top_by_score`);
* price, first seen, or the browse order without words: the plain browse sorted once per
  generation (:meth:`_browse_page`), then (price, first seen) the matches in the lowest
  (highest) cells of the sort value (:meth:`_sorted_page`), before the engine sorts every
  match.

Ties are broken by ``key`` so that pages do not shuffle: sort fields are i64 composites
of the sort value and the key's tie bits, and score ties are re-sorted in Python.
"""

from __future__ import annotations

import bisect
import heapq
import math
from typing import Any

import tantivy
from tantivy import Occur, Order, Query

from indexer.backends.base import SearchQuery
from indexer.backends.common import TIE_BITS
from indexer.backends.tantivy.cells import (
    CELL_LEVELS,
    CELL_LIMIT,
    CELL_OVERFLOW,
    KEY_BUCKETS,
    decimal_cell,
    decimal_cover,
)
from indexer.backends.tantivy.query import Match, Queries
from indexer.backends.tantivy.schema import KEY_BUCKET, PRICE_CELL, SEEN_CELL
from indexer.backends.tantivy.storage import hit_count

TIE_WINDOW = 2_048  # documents fetched to see the end of a group of equal scores
BROWSE_WINDOW = 1_000  # products of a plain browse kept per sort and index generation
SEEK_BONUS_BELOW = 60_000  # matches under which bonuses are sought per match (see _with_bonus)
TIER_BUCKETS_ABOVE = 20_000  # matches above which the top tier is first sought in a few key buckets
TIER_BUCKETS_MAX = KEY_BUCKETS // 16  # more buckets than this read about as much as the whole tier
# Matches above which a page sorted on price, first seen or key is first sought among the
# lowest (highest) cells expected to hold four times the page: the engine then sorts a
# few hundred documents instead of every match.
SORT_CELLS_ABOVE = 20_000
SORT_FIELDS = {
    "relevance": ("sort_browse", Order.Desc),  # without words: in stock, recently seen (common.browse_rank)
    "price_asc": ("sort_price_asc", Order.Asc),
    "price_desc": ("sort_price_desc", Order.Desc),
    "newest": ("sort_newest", Order.Desc),
}

Page = tuple[int, list]  # (total, addresses of the page)


def _neg_score(hit: tuple) -> float:
    return -hit[0]


class Paging(Queries):
    """The page of a search's matches, for every sort but distance (see geo)."""

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
        keys: list[Any] = searcher.fast_field_values("key", addresses)
        return list(zip(keys, addresses, strict=False))

    # ------------------------------------------------------------------ relevance, with words

    def _relevance_page(
        self, searcher: tantivy.Searcher, query: SearchQuery, match: Match, generation: Any, offset: int, limit: int
    ) -> Page:
        """The page by score (then key): from the top tier when it fills the page, else
        every match scored. Only the text scores: filters, cells and the product term
        count zero."""
        assert match.text is not None and match.full is not None
        others = [q for q in match.base if q is not match.text and q is not match.product]
        others += list(match.filters.values())
        shift, present = self._availability(searcher, generation) or (None, None)
        counted = match.counted
        if limit:
            if counted is None:  # no facet asked for: the tier needs the total
                counted = self._count(searcher, match.full)
            tier = self._top_tier(searcher, query, match.clauses, match.mode or "strict", present)
            if tier is not None:
                exclude_shops = match.product is not None
                page = self._tier_page(searcher, tier, others, exclude_shops, offset, limit, counted)
                if page is not None:
                    return counted, page
        seek = counted is not None and counted < SEEK_BONUS_BELOW
        if match.product is not None:
            others.append(match.product)
        scored = Query.boolean_query(
            [
                (Occur.Must, self._with_bonus(match.text, match.clauses, shift, seek)),
                (Occur.Must, self._unscored(self._and(others))),
            ]
        )
        return self._top_by_score(searcher, scored, offset, limit, counted)

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
        total = hit_count(result) if total is None else total
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
        keys: list[Any] = searcher.fast_field_values(
            "key", [address for _, address in hits[: end if by_key else above]]
        )
        # sorted() is stable: equal keys keep the engine's order, as before.
        order = sorted(range(above), key=lambda i: (-hits[i][0], keys[i]))
        group = range(above, end)
        if by_key:
            order += heapq.nsmallest(needed - above, group, key=keys.__getitem__)
        else:
            order += group[: needed - above]
        return total, [hits[i][1] for i in order[offset:needed]]

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

        if total >= TIER_BUCKETS_ABOVE:
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

    # ------------------------------------------------------------------ sorted on a field

    def _field_page(
        self, searcher: tantivy.Searcher, sort: str, match: Match, generation: Any, offset: int, limit: int
    ) -> Page:
        """The page sorted on price, first seen or (without words) key: the browse table,
        or the lowest cells, else every match sorted by the engine."""
        assert match.full is not None
        field, order = SORT_FIELDS[sort]
        counted = match.counted
        page = None
        if match.plain and not match.filters and generation and offset + limit <= BROWSE_WINDOW:
            total, page = self._browse_page(searcher, generation, match.full, field, order)
            return total, page[offset : offset + limit]
        # (The browse order without words has no cells: the engine sorts its matches.)
        if limit and counted is not None and counted >= SORT_CELLS_ABOVE and sort != "relevance":
            page = self._sorted_page(searcher, match.parts(), sort, field, order, offset, limit, counted)
            if page is not None:
                return counted, page
        result = searcher.search(
            match.full, max(limit, 1), count=counted is None, order_by_field=field, offset=offset, order=order
        )
        total = hit_count(result) if counted is None else counted
        return total, [address for _, address in result.hits][:limit]

    def _browse_page(self, searcher: tantivy.Searcher, generation, full: Query, field: str, order) -> tuple:
        """(total, first ``BROWSE_WINDOW`` addresses) of every product sorted on ``field``:
        the same for every browse without words, filter, price or place at one index
        generation: sorted once per commit and sort order, not once per page view."""
        kept = self._cache.of(generation)
        found = kept.get(("browse page", field, order))
        if found is None:
            result = searcher.search(full, BROWSE_WINDOW, count=True, order_by_field=field, order=order)
            found = (hit_count(result), [address for _, address in result.hits])
            if generation == self._generation():  # the searcher saw that commit, not a later one
                kept[("browse page", field, order)] = found
        return found

    def _cell_bound(self, searcher: tantivy.Searcher, field: str, want: float, ascending: bool) -> int | None:
        """The bound B of the fewest lowest values (``ascending``: every value below B) or
        highest values (every value from B up) that ``want`` documents of the index hold,
        read from the decimal cells' document counts level by level (40 counts at most,
        kept per generation); None when the cells below CELL_LIMIT hold fewer."""
        acc = 0
        if not ascending:
            acc = self._doc_freq(searcher, field, CELL_OVERFLOW)
            if acc >= want:
                return CELL_LIMIT
        first = 0
        for level in reversed(range(CELL_LEVELS)):
            cells = range(first, first + 10) if ascending else range(first + 9, first - 1, -1)
            for index in cells:
                found = self._doc_freq(searcher, field, decimal_cell(level, index))
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
        cell_field, ascending = {
            "price_asc": (PRICE_CELL, True),
            "price_desc": (PRICE_CELL, False),
            "newest": (SEEN_CELL, False),
        }[sort]
        bound = self._cell_bound(searcher, cell_field, want, ascending)
        if bound is None:
            return None
        cover = decimal_cover(0, bound) if ascending else decimal_cover(bound, None)
        assert cover is not None  # (0 <= bound <= CELL_LIMIT)
        if ascending:
            cells = cover[0]  # whole cells of [0, bound)
            check = lambda value: value >> TIE_BITS < 100 * bound  # noqa: E731
        else:
            cells = cover[0] + [CELL_OVERFLOW]
            if sort == "price_desc":
                check = lambda value: value >> TIE_BITS > 100 * bound  # noqa: E731
        restrict = self._any([self._term(cell_field, cell) for cell in cells])
        hits = searcher.search(
            self._and([*parts, restrict]), needed, count=False, order_by_field=field, order=order
        ).hits
        if len(hits) < needed or (check is not None and not check(hits[-1][0])):
            return None
        return [address for _, address in hits[offset:needed]]
