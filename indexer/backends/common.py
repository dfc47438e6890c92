"""What every search backend shares, so that no backend imports another.

Record keys and tie bits order equally relevant products the same way on every engine;
distances are computed the same way for "près de"; the limits bound what one search may
ask for, whatever the engine.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from indexer.analysis import fold
from indexer.backends.base import BROWSE_RANK

# Deepest result any search serves (offset + page): nobody reads page 5,000, and an engine
# that must collect more than this per query is an engine one request can tie up.
MAX_RESULT_WINDOW = 10_000
# Most results one backend call returns (the portal asks for fewer: see portal.query).
MAX_PER_PAGE = 1_000

# A record's key is a signed 64-bit hash of its id; its low TIE_BITS bits break ties between
# equal scores, prices or dates, so that equal products come in one stable order.
TIE_BITS = 20
TIE_MASK = (1 << TIE_BITS) - 1

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE_LAT = math.pi * EARTH_RADIUS_KM / 180


def record_key(record_id: str) -> int:
    """Signed 64-bit hash of an id: the engine-side handle used for geo exclusion and ties."""
    return int.from_bytes(hashlib.sha1(record_id.encode()).digest()[:8], "big", signed=True)


SECONDS_PER_DAY = 86_400


def browse_rank(record: dict) -> int:
    """Where a product comes when browsing without words (both engines sort on it, then on
    the key's tie bits): availability first (``BROWSE_RANK``), then the day it was last seen,
    the most recent first. Nothing about the price."""
    seen: Any = record.get("last_seen")
    day = 0
    if isinstance(seen, str) and seen:
        try:
            seen = datetime.fromisoformat(seen.replace("Z", "+00:00"))
        except ValueError:
            seen = None
    if isinstance(seen, datetime):
        day = int((seen if seen.tzinfo else seen.replace(tzinfo=UTC)).timestamp()) // SECONDS_PER_DAY
    return (BROWSE_RANK.get(record.get("availability") or "", 0) << 24) | max(0, min(day, (1 << 24) - 1))


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance: the distance a resident is shown, on every backend."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def suggestion_words(prefix: str, tokens: list[str]) -> tuple[list[str], str | None]:
    """The folded words of ``prefix`` typed in full, and the last one if the resident is
    still typing it (``None`` once a space or a punctuation mark follows it)."""
    complete = prefix[-1:].isspace() or not prefix[-1:].isalnum()
    whole, last = (tokens, None) if complete else (tokens[:-1], tokens[-1])
    return list(dict.fromkeys(whole)), last


def rank_suggestions(counted_names: Iterable[tuple[str, int]], prefix: str, limit: int) -> list[str]:
    """Suggestions from ``(product name, products so named)``: one per folded name ("Bougie"
    and "BOUGIE" are one), spelt the way most shops spell it; names that start with what
    was typed first, then the most offered, the shortest, alphabetically."""
    names: dict[str, list] = {}
    for name, count in counted_names:
        entry = names.setdefault(fold(name), [0, name, count])
        entry[0] += count
        if count > entry[2]:
            entry[1:] = [name, count]
    start = fold(prefix)
    ranked = sorted(names.items(), key=lambda item: (not item[0].startswith(start), -item[1][0], len(item[0]), item[0]))
    return [entry[1] for _, entry in ranked[:limit]]
