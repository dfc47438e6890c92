"""Geo search: "within r km of a point", and the page sorted by distance.

tantivy has no geo query. Products carry a quadtree of cells (``geo_cell``, one term per
level, see ``cells``) and their exact point as a term (``loc``). A circle is "cells fully
inside" OR "points of the boundary cells within the radius", the points found by a terms
aggregation and their haversine distance computed in Python: totals and facet counts
computed by the engine stay exact, and no document is fetched for it.
"""

from __future__ import annotations

import math
from typing import Any

import tantivy
from tantivy import Occur, Query

from indexer.backends.base import Near
from indexer.backends.common import haversine_km
from indexer.backends.tantivy.cells import geo_cover, point_term
from indexer.backends.tantivy.paging import Page, Paging
from indexer.backends.tantivy.query import Match


class Geo(Paging):
    """Circles as engine queries, and the nearest products."""

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
        chosen: list[tuple[float, str, int]] = []
        count = 0
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
        by_key: list[tuple[int, tantivy.DocAddress]] = []
        if closer:
            by_key = self._by_key(searcher, self._and([rest, self._terms("loc", closer)]), closer_docs)
        tied = [point for distance, point, _ in chosen if distance == last]
        by_key += self._by_key(searcher, self._and([rest, self._terms("loc", tied)]), needed - closer_docs)
        lats: list[Any] = searcher.fast_field_values("lat", [address for _, address in by_key])
        lons: list[Any] = searcher.fast_field_values("lon", [address for _, address in by_key])
        ranked = [
            (distance_of[point_term(lat, lon)], key, address)
            for lat, lon, (key, address) in zip(lats, lons, by_key, strict=False)
        ]
        ranked.sort(key=lambda r: (r[0], r[1]))  # stable: the tied points' products stay last, by key
        return ranked

    def _distance_page(self, searcher: tantivy.Searcher, near: Near, match: Match, offset: int, limit: int) -> Page:
        assert match.full is not None and match.rest is not None
        total = match.counted if match.counted is not None else self._count(searcher, match.full)
        nearest = []
        if limit and total > offset:
            nearest = self._nearest(searcher, match.full, match.rest, near, total, offset + limit)
        return total, [address for _, _, address in nearest[offset : offset + limit]]
