"""What to offer when a search finds nothing: a spelling, nearby towns, broader categories.

A resident who typed "bouguie" near Tours within 1 km should not face a dead end. The
rules are pure functions (tested without an index); :func:`zero_results_help` is the one
place that asks the backend, and only when a page has no result.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

from indexer.analysis import correction_edits, edit_distance, fold
from indexer.backends.common import haversine_km
from indexer.places import Towns, find_town
from indexer.search import BackendUnavailable, Near, SearchBackend, SearchQuery

MAX_WORDS = 5  # words of a query looked at for a spelling
MAX_ALTERNATIVES = 6  # towns or categories offered
SPELLING_CUTOFF = 0.7  # difflib ratio: "bouguie" ~ "bougie" (0.92), "vélo" !~ "veau" (0.5)
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


def vocabulary(names: Iterable[str], prefixes: Iterable[str] = ()) -> dict[str, str]:
    """Folded word -> word as most names spell it (lower case), from product names.

    With ``prefixes``, only words starting with one of them (folded) are kept: the
    names came from completing those prefixes, and their other words are noise.
    """
    starts = tuple(fold(p) for p in prefixes if p)
    counts: dict[str, dict[str, int]] = {}
    for name in names:
        for word in _WORD.findall(name or ""):
            key = fold(word)
            if len(key) < 3 or " " in key or (starts and not key.startswith(starts)):
                continue
            spelt = counts.setdefault(key, {})
            spelt[word.lower()] = spelt.get(word.lower(), 0) + 1
    return {key: max(spelt, key=lambda w: (spelt[w], w)) for key, spelt in counts.items()}


def did_you_mean(text: str, words: Mapping[str, str], cutoff: float = SPELLING_CUTOFF) -> str | None:
    """``text`` with each unknown word replaced by the closest known one, or ``None`` when
    no word changed. Known words, short words and numbers are kept as typed."""
    out, changed = [], False
    for token in text.split():
        key = fold(token)
        if len(key) < 3 or " " in key or key in words or not key.isalpha():
            out.append(token)
            continue
        # A close edit of what was typed (indexer.analysis.correction_edits), the fewest
        # edits first, then the most similar: never another word ("savon" -> "saison").
        edits = correction_edits(key)
        close = difflib.get_close_matches(key, list(words), n=10, cutoff=cutoff)
        close = sorted(
            (c for c in close if edit_distance(key, c, edits) <= edits), key=lambda c: edit_distance(key, c, edits)
        )
        if close:
            out.append(words[close[0]])
            changed = True
        else:
            out.append(token)
    return " ".join(out) if changed else None


def spelling_prefixes(text: str) -> list[list[str]]:
    """Prefixes to complete to find the words the resident may have meant, in two rounds:
    the first three letters of each word (a typo is rarely in the first letters), then,
    only if those found nothing close, the first two."""
    keys = [k for k in (fold(t) for t in text.split()) if len(k) >= 3 and " " not in k and k.isalpha()]
    keys = list(dict.fromkeys(keys))[:MAX_WORDS]
    rounds = [list(dict.fromkeys(k[:3] for k in keys)), list(dict.fromkeys(k[:2] for k in keys))]
    return [r for r in rounds if r]


def spelling(text: str, complete: Callable[[str], list[str]]) -> str | None:
    """:func:`did_you_mean` over the words that completing ``text``'s prefixes finds
    (``complete`` is the backend's suggest); ``None`` when nothing close is known."""
    words: dict[str, str] = {}
    for prefixes in spelling_prefixes(text):
        for prefix in prefixes:
            words.update({k: v for k, v in vocabulary(complete(prefix), [prefix]).items() if k not in words})
        corrected = did_you_mean(text, words)
        if corrected and fold(corrected) != fold(text):
            return corrected
    return None


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance, as the backends measure the distance shown on each result."""
    return haversine_km(a[0], a[1], b[0], b[1])


def nearby_towns(
    counts: Iterable[tuple[str, int]], towns: Towns, origin: tuple[float, float] | None, exclude: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """Towns that have matches, nearest first when the search had a place (else the most
    matches first), each with its distance when both ends are known."""
    skip = {fold(t) for t in exclude}
    out = []
    for name, count in counts:
        if count <= 0 or fold(name) in skip:
            continue
        town = find_town(towns, name)
        km = None
        if origin is not None and town is not None and town.lat is not None and town.lon is not None:
            km = round(distance_km(origin, (town.lat, town.lon)), 1)
        out.append({"name": name, "count": int(count), "distance_km": km})
    if origin is not None:
        out.sort(key=lambda t: (t["distance_km"] is None, t["distance_km"] or 0.0, -t["count"], fold(t["name"])))
    else:
        out.sort(key=lambda t: (-t["count"], fold(t["name"])))
    return out[:MAX_ALTERNATIVES]


def place_origin(query: SearchQuery, towns: Towns) -> tuple[float, float] | None:
    """Where the search was centred: its circle, or its one ticked town."""
    if query.near is not None:
        return (query.near.lat, query.near.lon)
    ticked = query.filters.get("town", ())
    town = find_town(towns, ticked[0]) if len(ticked) == 1 else None
    return (town.lat, town.lon) if town is not None and town.lat is not None and town.lon is not None else None


def _count(search: Callable[[SearchQuery], Any], query: SearchQuery, facets: tuple[str, ...] = ()) -> Any:
    return search(replace(query, page=1, per_page=1, facets=facets))


def _without(query: SearchQuery, *names: str, near: Near | bool | None = False) -> SearchQuery:
    filters = {k: v for k, v in query.filters.items() if k not in names}
    return replace(query, filters=filters, near=query.near if near is False else near)


def zero_results_help(backend: SearchBackend, query: SearchQuery, towns: Towns) -> dict[str, Any]:
    """Alternatives for a search without results (a few small searches, only then).

    ``spelling``: the corrected text and whether it still finds something with the
    current filters (else the link drops them); ``towns``: towns with matches for the
    same search without its place; ``categories``: with the category filter dropped.
    """
    help: dict[str, Any] = {"spelling": None, "spelling_keeps_filters": True, "towns": [], "categories": []}
    try:
        if query.text:
            corrected = spelling(query.text, lambda prefix: backend.suggest(prefix, limit=30))
            if corrected:
                with_filters = _count(backend.search, replace(query, text=corrected)).total
                if with_filters or _count(backend.search, SearchQuery(text=corrected)).total:
                    help["spelling"] = corrected
                    help["spelling_keeps_filters"] = bool(with_filters)
        if query.near is not None or query.filters.get("town"):
            result = _count(backend.search, _without(query, "town", near=None), ("town",))
            counts = [(v.value, v.count) for v in result.facets.get("town", [])]
            help["towns"] = nearby_towns(
                counts, towns, place_origin(query, towns), exclude=query.filters.get("town", ())
            )
        if query.filters.get("category"):
            result = _count(backend.search, _without(query, "category"), ("category",))
            values = sorted(result.facets.get("category", []), key=lambda v: (-v.count, fold(v.value)))
            help["categories"] = [{"name": v.value, "count": int(v.count)} for v in values if v.count > 0][
                :MAX_ALTERNATIVES
            ]
    except BackendUnavailable:
        raise
    except Exception:  # alternatives are a nicety: the page must still say "no result"
        pass
    return help
