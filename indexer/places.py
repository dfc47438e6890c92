"""Places: the towns of the registered shops, the point "près de <commune>" means, how far.

One rule for every way a resident names a place, so the results page (``near=Tours``), the
JSON API (``near=Tours``) and words typed in the box (``"livre près de Tours"``, resolved
by the backends) all search around the same point with the same radius.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from indexer.analysis import fold, split_place
from indexer.backends.base import Near, SearchBackend, SearchQuery

# "près de Tours" without a radius: the search box's default and the API's.
TOWN_RADIUS_KM = 10.0

# Folded town name -> (town as spelt, its shops' points): ``SearchBackend.town_points()``.
Towns = Mapping[str, tuple[str, list[tuple[float, float]]]]


@dataclass(frozen=True)
class Town:
    """A town of the registered shops, with the point "près de" it means (None when none of
    its shops publishes coordinates)."""

    name: str
    lat: float | None = None
    lon: float | None = None


def town_centre(points: Iterable[tuple[float, float]]) -> tuple[float, float]:
    """The median of the shops' points, not the mean: one shop in a far hamlet of the
    commune must not drag the centre out of town and empty a 1 km search."""
    points = list(points)
    return statistics.median(p[0] for p in points), statistics.median(p[1] for p in points)


def _clean(name: str) -> str:
    # A town name from a URL or the search box: control characters and spacing ignored.
    return " ".join("".join(ch if ch.isprintable() else " " for ch in name).split())


def find_town(towns: Towns, name: str) -> Town | None:
    """The town called ``name`` (accents, case and spacing ignored), at its :func:`town_centre`."""
    name = _clean(name or "")
    entry = towns.get(fold(name)) if name else None
    if entry is None:
        return None
    spelt, points = entry
    if not points:
        return Town(spelt)
    lat, lon = town_centre(points)
    return Town(spelt, lat, lon)


def town_choices(towns: Towns) -> list[str]:
    """Town names for the picker, in French alphabetical order (accents ignored)."""
    return sorted((spelt for spelt, _ in towns.values()), key=lambda name: (fold(name), name))


def town_scope(
    town: Town, filters: Mapping[str, tuple[str, ...]], radius_km: float = TOWN_RADIUS_KM
) -> tuple[Near | None, dict[str, tuple[str, ...]]]:
    """Where a search "près de <town>" looks: a circle of ``radius_km`` around the town's
    centre, or, when its shops publish no coordinates, the town added to the town filter.
    Returns ``(near, filters)``."""
    filters = dict(filters)
    if town.lat is not None and town.lon is not None:
        return Near(lat=town.lat, lon=town.lon, radius_km=radius_km), filters
    ticked = filters.get("town", ())
    filters["town"] = ticked if town.name in ticked else (*ticked, town.name)
    return None, filters


def resolve_place(backend: SearchBackend, query: SearchQuery) -> SearchQuery:
    """``"jouets en bois près de Tours"``: when the words after "près de" name a town of the
    index, search the words before them within :data:`TOWN_RADIUS_KM` of that town's centre
    (or in that town when its shops publish no coordinates), as ``near=Tours`` does.
    Unknown places stay plain words."""
    text, place = split_place(query.text)
    if place is None or query.near is not None:
        return query
    town = find_town(backend.town_points(), place)
    if town is None:
        return query
    near, filters = town_scope(town, query.filters)
    return replace(query, text=text, near=near, filters=filters)
