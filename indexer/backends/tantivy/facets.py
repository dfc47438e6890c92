"""Facet counts: the values a resident can tick, and how many products each would give.

Counts come from ``Searcher.aggregate`` terms aggregations: the facets without a ticked
value over the full query, each facet with a ticked value without its own filter
(disjunctive), one aggregation per group. (One pass with the groups' filters as "filter"
sub-aggregations reads the words once, but was measured slower.) A plain browse reads
a table of counts computed once per index generation. The shop facet is counted on
``shop_name_hash`` and its buckets mapped back to names. The engine releases the GIL
while it aggregates: a search's groups (and the shop facet of a broad search) are counted
side by side on ``search_threads`` threads when the other processes leave a core idle
(:mod:`indexer.backends.spare_core`).
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import tantivy
from tantivy import Query

from indexer.analysis import Clause, analyze
from indexer.backends.base import FACETS, FacetValue, SearchQuery
from indexer.backends.spare_core import SpareCore
from indexer.backends.tantivy.query import Queries
from indexer.backends.tantivy.schema import SET_FIELDS, SET_SEPARATOR, SHOP_HASH, TEXT_FIELDS, shop_name_hash

ALL_BUCKETS = 65_000  # as "segment_size": above any facet's cardinality, so counts stay exact
# Matches above which a search's shop facet, the costliest to count (thousands of shops),
# is counted in a second pass beside the other facets when a second core is there
# (search_threads): the highest threshold that timed alike spends that pass on the
# fewest searches.
SPLIT_SHOP_ABOVE = 100_000

# (facet names, their query, the availability values of the browse table that counts
# them, or None: counted by the engine)
Group = tuple[list[str], Query, tuple | None]
# Facets as cached: (name, ((value, count, ticked), ...)) per facet asked for.
FacetsFound = tuple[tuple[str, tuple[tuple[str, int, bool], ...]], ...]


class Facets(Queries):
    """Counting the facets of a search."""

    facet_size: int
    _threads: int
    _helpers: tuple[int, ThreadPoolExecutor] | None
    _spare_core: SpareCore

    def _facet_threads(self, searcher: tantivy.Searcher, clauses: list[Clause]) -> tuple[int, bool]:
        """(threads to count on, whether to split the shop facet off)."""
        threads = self._threads if self._threads > 1 and self._spare_core.available() else 1
        return threads, threads > 1 and self._broad(searcher, clauses)

    def _facets(
        self,
        searcher: tantivy.Searcher,
        query: SearchQuery,
        base: list[Query],
        filters: dict[str, Query],
        browse_generation: Any = None,
        generation: Any = None,
        threads: int = 1,
        split_shop: bool = False,
    ) -> tuple[FacetsFound, int | None]:
        """(facets, total or None): the total comes free with the shared aggregation.

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
        groups, has_shared = self._facet_groups(query, base, filters, browse_generation)
        results = self._count_groups(searcher, groups, has_shared, hashed, threads, split_shop, browse_generation)
        facets: dict[str, list[FacetValue]] = {}
        total = None
        for index, ((group_names, group_query, _), result) in enumerate(zip(groups, results, strict=True)):
            if index == 0 and has_shared:
                total = int(result["_total"]["value"] or 0)
            for name in group_names:
                found = result[name]
                if hashed and name == "shop":
                    assert names is not None

                    def recount(terms: dict, group_query: Query = group_query) -> list[dict]:
                        return searcher.aggregate(group_query, {"x": terms})["x"]["buckets"]

                    ticked = tuple(query.filters.get("shop", ()))
                    buckets = self._shop_buckets(searcher, found["buckets"], names, generation, recount, ticked)
                    found = {"buckets": buckets}
                self._rank_facet(query, name, found, facets)
        return tuple(
            (name, tuple((v.value, v.count, v.selected) for v in facets[name])) for name in query.facets
        ), total

    def _facet_groups(
        self, query: SearchQuery, base: list[Query], filters: dict[str, Query], browse_generation: Any
    ) -> tuple[list[Group], bool]:
        """(the groups counted together, whether the first counts the facets without a
        ticked value and the total)."""

        def table(used: list[str]) -> tuple | None:
            """The availability values of the per-generation table that counts a group
            filtered on ``used`` (() for every product), or None: count it."""
            if not browse_generation:
                return None
            if not used:
                return ()
            values = tuple(sorted(query.filters.get("availability", ())))
            return values if used == ["availability"] and "" not in values else None

        groups: list[Group] = []
        shared = [name for name in query.facets if name not in filters]
        has_shared = bool(shared) or query.sort == "distance"  # then groups[0] counts the total too
        if has_shared:
            groups.append((shared, self._and(base + list(filters.values())), table(list(filters))))
        for name in query.facets:
            if name in filters:
                others = [other for other in filters if other != name]
                groups.append(([name], self._and(base + [filters[other] for other in others]), table(others)))
        return groups, has_shared

    def _count_groups(
        self,
        searcher: tantivy.Searcher,
        groups: list[Group],
        has_shared: bool,
        hashed: bool,
        threads: int,
        split_shop: bool,
        browse_generation: Any,
    ) -> list[dict]:
        """Each group's aggregation result: from the browse table, or from the engine's
        aggregations run side by side (see _aggregate_all)."""
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
        results = []
        for (_, _, counts_table), tasks_of_group in zip(groups, per_group, strict=True):
            if not tasks_of_group:
                assert counts_table is not None
                results.append(self._browse_counts(searcher, browse_generation, hashed, counts_table))
                continue
            result: dict = {}
            for _ in range(tasks_of_group):
                result.update(next(counted))
            results.append(result)
        return results

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
        dictionary once per generation; None (count on the names) when two names share
        a hash, or the generation is unknown."""
        if not generation:
            return None
        kept = self._cache.of(generation)
        if "shop names" in kept and not refresh:
            return kept["shop names"]
        names: dict[int, str] = {}
        for name, _ in searcher.terms_with_prefix("shop_name", ""):
            if names.setdefault(shop_name_hash(name), name) != name:
                kept["shop names"] = None
                return None
        kept["shop names"] = names
        return names

    def _shop_buckets(
        self, searcher, buckets: list[dict], names: dict, generation, recount, ticked: tuple = ()
    ) -> list[dict]:
        """Hashed shop buckets as named ones. The top 2 x facet_size counts were asked
        for: enough unless the facet_size-th count ties past the end of the list (the
        facet shows the top by count, then name); then every shop is counted again, and
        only the shops that can be shown are named: those counting at least the
        facet_size-th count, and the ticked ones (thousands of one-product shops named
        and sorted for nothing are costly)."""
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
            fresh = self._shop_name_map(searcher, generation, refresh=True)
            if fresh is None or any(b["key"] and b["key"] not in fresh for b in buckets):
                return recount(self._facet_terms("shop"))
            names = fresh
        return [{"key": names[b["key"]], "doc_count": b["doc_count"]} for b in buckets if b["key"]]

    def _browse_counts(
        self, searcher: tantivy.Searcher, generation, hashed: bool = False, availability: tuple = ()
    ) -> dict:
        """Every facet and the total over all products, or over those of the given
        ``availability`` values ("in stock" ticked, no words): the same for every such
        browse (no words, price, place or other filter) at one index generation, so
        computed once per commit and availability."""
        kept = self._cache.of(generation)
        result = kept.get(("browse counts", hashed, availability))
        if result is not None:
            return result
        spec = {name: self._facet_terms(name, hashed) for name in FACETS}
        spec["_total"] = {"value_count": {"field": "key"}}
        scope = self._terms("availability", availability) if availability else self._term("type", "product")
        result = searcher.aggregate(scope, spec)
        if generation == self._generation():  # the searcher saw that commit, not a later one
            kept[("browse counts", hashed, availability)] = result
        return result

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

    def _close_helpers(self) -> None:
        if self._helpers is not None:
            self._helpers[1].shutdown(wait=False)
            self._helpers = None
