"""Places: the towns of the registered shops, the point "près de <commune>" means, how far.

One rule for every way a resident names a place, so the results page (``near=Tours``), the
JSON API (``near=Tours``) and words typed in the box (``"livre près de Tours"``, ``"miel
Tours"``, ``"miel à Blois"``, resolved by the backends too) all search around the same
point with the same radius. A place named after "près de" that is no town of the shops
("près de Vierzon") is taken out of the words and reported, never searched as words.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from indexer.analysis import fold, plan_words, split_place
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


@dataclass(frozen=True)
class TypedPlace:
    """What the words of a search say about a place: the words left to search, the town
    of the shops they name, or the place they name that is no such town (``unknown``)."""

    words: str
    town: Town | None = None
    unknown: str | None = None


_WORDS = re.compile(r"[^\W_]+", re.UNICODE)  # the runs of letters a folded town name is made of
# Little words that tie a place to the rest ("miel à Blois"): they go with it.
_PLACE_LINKS = {"a", "au", "aux", "en", "sur", "dans", "vers"}
# ... but a town after "de" says where a thing comes from, and is part of its name
# ("nougat de Tours", "pâté de Chartres", "cotignac d'Orléans"): those stay words, as does
# a town that comes first ("Chinon rouge", "Sancerre blanc"): French names the thing first.
_PROVENANCE = {"de", "d", "du", "des"}


def _town_in_words(text: str, towns: Towns) -> TypedPlace | None:
    """The longest run of whole words naming a town of the shops after the first word of
    ``text`` ("miel Tours", "vin Chinon", "jouets Joué-lès-Tours"), not after "de"."""
    spans = [(m.start(), m.end(), fold(m.group())) for m in _WORDS.finditer(text)]
    longest = max((len(name.split()) for name in towns), default=0)
    for size in range(min(longest, len(spans) - 1), 0, -1):
        for i in range(len(spans) - size + 1):
            name = " ".join(folded for _, _, folded in spans[i : i + size])
            if name not in towns:
                continue
            if i == 0 or spans[i - 1][2] in _PROVENANCE:
                continue
            start, end = spans[i][0], spans[i + size - 1][1]
            first = i
            while first > 0 and spans[first - 1][2] in _PLACE_LINKS:  # "à", "près de"
                first -= 1
                start = spans[first][0]
            words = _clean(text[:start] + " " + text[end:])
            if plan_words(words):  # other words remain: "Tours" alone stays a word
                town = find_town(towns, name)
                if town is not None:
                    return TypedPlace(words, town)
    return None


def typed_place(text: str, towns: Towns) -> TypedPlace | None:
    """The place named in the words of a search, or None when they name none.

    ``"livre près de Tours"`` and ``"livre Tours"`` name the town Tours (of the shops);
    ``"miel près de Vierzon"``, where no shop is, names an unknown place: the words to
    search are then ``"miel"``, and the caller says that Vierzon was not found."""
    words, place = split_place(text or "")
    if place:
        town = find_town(towns, place)
        return TypedPlace(_clean(words), town) if town is not None else TypedPlace(_clean(words), unknown=place)
    return _town_in_words(text or "", towns)


def typed_town(text: str, towns: Towns) -> tuple[str, Town] | None:
    """``("livre", <Town Tours>)`` for the words ``"livre près de Tours"`` (or ``"livre
    Tours"``) when Tours is a town of the registered shops; None otherwise."""
    typed = typed_place(text, towns)
    return (typed.words, typed.town) if typed is not None and typed.town is not None else None


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
    """``"jouets en bois près de Tours"`` or ``"jouets en bois Tours"``: when the words name a
    town of the index, search the other words within :data:`TOWN_RADIUS_KM` of that town's
    centre (or in that town when its shops publish no coordinates), as ``near=Tours`` does;
    a place that is no such town is dropped from the words. The portal resolves typed places
    itself (with the page's radius and sort, and says when a place is unknown); this serves
    every other caller of a backend."""
    if query.near is not None or not query.text:
        return query
    typed = typed_place(query.text, backend.town_points())
    if typed is None:
        return query
    if typed.town is None:
        return replace(query, text=typed.words)
    near, filters = town_scope(typed.town, query.filters)
    return replace(query, text=typed.words, near=near, filters=filters)
