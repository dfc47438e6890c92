"""Cells: numbers as a few indexed terms, so that ranges become term lookups.

Pure functions, no engine. Three kinds of cells are indexed on each product:

* geo cells, a quadtree of lat/lon cells with every level indexed: a circle becomes the
  cells fully inside it (matched by the engine) plus a thin ring of boundary cells whose
  documents get an exact distance in Python (tantivy has no geo query, and a range on
  the lat/lon columns reads the whole column);
* decimal cells of a price or of a day (units, tens, hundreds, thousands): a price
  filter or the lowest prices become a few terms instead of a scan of the price column;
* key buckets, equal slices of the record key range, in key order: the products of the
  smallest keys without reading every key.
"""

from __future__ import annotations

import math
from functools import lru_cache

from indexer.backends.common import KM_PER_DEGREE_LAT

# Level 0 cells are 1.28° x 1.92° (about 140 km square in France); level 9 cells 0.0025° x
# 0.00375° (about 280 m).
GEO_LEVELS = 10
_CELL_LAT = [1.28 / (1 << level) for level in range(GEO_LEVELS)]
_CELL_LON = [1.92 / (1 << level) for level in range(GEO_LEVELS)]

KEY_BUCKET_BITS = 12
KEY_BUCKETS = 1 << KEY_BUCKET_BITS

SEEN_EPOCH = 1_577_836_800  # 2020-01-01T00:00:00Z: day 0 of the first_seen cells
CELL_LEVELS = 4
CELL_LIMIT = 10**CELL_LEVELS  # values from 10,000 up share one cell


def _cell_id(level: int, iy: int, ix: int) -> int:
    return (level << 40) | (iy << 20) | ix


def geo_cells(lat: float, lon: float) -> list[int]:
    """The cell of every level holding this point."""
    return [
        _cell_id(level, int((lat + 90.0) // _CELL_LAT[level]), int((lon + 180.0) // _CELL_LON[level]))
        for level in range(GEO_LEVELS)
    ]


@lru_cache(maxsize=65_536)  # a shop's products share its point
def cached_geo_cells(lat: float, lon: float) -> tuple[int, ...]:
    return tuple(geo_cells(lat, lon))


def point_term(lat: float, lon: float) -> str:
    """A point as a term; repr round-trips floats exactly, so distances computed from the
    term equal distances computed from the document's fast fields."""
    return f"{lat!r},{lon!r}"


def approx_km(lat0: float, lon0: float, lat: float, lon: float) -> float:
    """Equirectangular at the mean latitude: within 0.1 % of haversine at these scales.
    :func:`geo_cover` inlines these very operations."""
    dx = (lon - lon0) * math.cos(math.radians((lat + lat0) / 2))
    return KM_PER_DEGREE_LAT * math.hypot(lat - lat0, dx)


def geo_cover(lat0: float, lon0: float, radius_km: float) -> tuple[list[int], list[int]]:
    """Cells covering a circle: (fully inside, straddling the boundary).

    Classification keeps a safety margin, so a cell called inside is inside and a cell
    left out is outside; only boundary cells need exact distances.
    """
    finest = GEO_LEVELS - 1
    while finest > 0 and _CELL_LAT[finest] * KM_PER_DEGREE_LAT < radius_km / 40:
        finest -= 1
    start = max(0, finest - 5)
    margin = 0.002 * radius_km + 0.005
    dlat = radius_km / KM_PER_DEGREE_LAT
    dlon = min(180.0, radius_km / (KM_PER_DEGREE_LAT * max(math.cos(math.radians(lat0)), 1e-6)))
    slat, slon = _CELL_LAT[start], _CELL_LON[start]
    stack = [
        (start, iy, ix)
        for iy in range(int((lat0 - dlat + 90) // slat), int((lat0 + dlat + 90) // slat) + 1)
        for ix in range(int((lon0 - dlon + 180) // slon), int((lon0 + dlon + 180) // slon) + 1)
    ]
    inner: list[int] = []
    boundary: list[int] = []
    # approx_km inlined (same operations, so the same cells): this loop is the hot part
    # of a geo search. What depends on a cell's row alone (latitudes, cosines) or on its
    # column alone is computed once per row or column, not once per cell.
    cos, radians, hypot, k = math.cos, math.radians, math.hypot, KM_PER_DEGREE_LAT
    outside, within = radius_km + margin, radius_km - margin
    middle = cos(radians((lat0 + lat0) / 2))
    rows: dict[tuple[int, int], tuple] = {}
    columns: dict[tuple[int, int], tuple] = {}
    while stack:
        level, iy, ix = stack.pop()
        row = rows.get((level, iy))
        if row is None:
            la0 = iy * _CELL_LAT[level] - 90.0
            la1 = la0 + _CELL_LAT[level]
            c0, c1 = cos(radians((la0 + lat0) / 2)), cos(radians((la1 + lat0) / 2))
            # The cell's nearest latitude to the centre: min(max(lat0, la0), la1).
            near = (la0 - lat0, c0) if lat0 < la0 else ((la1 - lat0, c1) if lat0 > la1 else (lat0 - lat0, middle))
            row = rows[(level, iy)] = (*near, c0, c1, la0 - lat0, la1 - lat0)
        column = columns.get((level, ix))
        if column is None:
            lo0 = ix * _CELL_LON[level] - 180.0
            lo1 = lo0 + _CELL_LON[level]
            lo = lo0 if lon0 < lo0 else (lo1 if lon0 > lo1 else lon0)
            column = columns[(level, ix)] = (lo - lon0, lo0 - lon0, lo1 - lon0)
        e, c, c0, c1, e0, e1 = row
        d, d0, d1 = column
        if k * hypot(e, d * c) > outside:
            continue
        if (
            k * hypot(e0, d0 * c0) < within
            and k * hypot(e0, d1 * c0) < within
            and k * hypot(e1, d0 * c1) < within
            and k * hypot(e1, d1 * c1) < within
        ):
            inner.append((level << 40) | (iy << 20) | ix)
        elif level == finest:
            boundary.append((level << 40) | (iy << 20) | ix)
        else:
            level += 1
            stack += (
                (level, 2 * iy, 2 * ix),
                (level, 2 * iy, 2 * ix + 1),
                (level, 2 * iy + 1, 2 * ix),
                (level, 2 * iy + 1, 2 * ix + 1),
            )
    return inner, boundary


def key_bucket(key: int) -> int:
    """Which of the ``KEY_BUCKETS`` equal slices of the signed key range ``key`` is in:
    bucket order is key order."""
    return (key + (1 << 63)) >> (64 - KEY_BUCKET_BITS)


def decimal_cell(level: int, index: int) -> int:
    return (level << 40) | index


_DECIMAL_LEVELS = tuple((level << 40, 10**level) for level in range(CELL_LEVELS))
CELL_OVERFLOW = decimal_cell(CELL_LEVELS, 0)  # every value from CELL_LIMIT up


def decimal_cells(value: float) -> list[int]:
    """The value's cell at each level (its whole units, tens, hundreds, thousands), or
    the one overflow cell of the rare values from CELL_LIMIT up; none below 0."""
    if value >= CELL_LIMIT:
        return [CELL_OVERFLOW]
    if value < 0:
        return []
    units = int(value)
    return [tag | units // width for tag, width in _DECIMAL_LEVELS]


@lru_cache(maxsize=65_536)
def day_cells(day: int) -> list[int]:
    return decimal_cells(day)


def seen_day(seconds: int) -> int:
    """Whole days from SEEN_EPOCH to ``seconds`` (negative before it)."""
    return (seconds - SEEN_EPOCH) // 86_400


def decimal_cover(low: float | None, high: float | None) -> tuple[list[int], list[int]] | None:
    """(cells whose every value is within [low, high], cells partly within it): a range
    of prices (or days) as a few terms, like the geo cells; the products of the partial
    cells (the one-unit cells at the ends, the overflow cell) are checked against the
    exact range. None: a bound the cells cannot express."""
    low = 0.0 if low is None else low
    if not 0 <= low <= (math.inf if high is None else high) or (high is not None and math.isinf(high)):
        return None
    top = CELL_LIMIT if high is None else min(high, CELL_LIMIT)
    first, last = math.ceil(low), math.floor(top) - 1  # whole euros [i, i+1) within the range
    ends = sorted({math.floor(low), math.floor(top)})
    partial = [decimal_cell(0, i) for i in ends if not first <= i <= last and i < CELL_LIMIT]
    if high is None or high >= CELL_LIMIT:
        partial.append(CELL_OVERFLOW)
    cells: list[int] = []
    level = 0
    while first <= last:
        if level == CELL_LEVELS - 1:
            cells += [decimal_cell(level, i) for i in range(first, last + 1)]
            break
        up, down = -(-first // 10) * 10, (last + 1) // 10 * 10  # the whole tens inside
        if up >= down:
            cells += [decimal_cell(level, i) for i in range(first, last + 1)]
            break
        cells += [decimal_cell(level, i) for i in (*range(first, up), *range(down, last + 1))]
        first, last, level = up // 10, down // 10 - 1, level + 1
    return cells, partial
