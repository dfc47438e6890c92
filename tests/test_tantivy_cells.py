"""The cells of the embedded backend (``indexer.backends.tantivy.cells``): pure functions
turning points, prices, days and keys into indexed terms. A range or a circle becomes a
few cells; these tests check the covers are exact: nothing inside is left out, nothing
outside is called inside."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from indexer.backends.common import haversine_km, record_key
from indexer.backends.tantivy.cells import (
    CELL_LIMIT,
    CELL_OVERFLOW,
    GEO_LEVELS,
    KEY_BUCKETS,
    SEEN_EPOCH,
    approx_km,
    cached_geo_cells,
    decimal_cell,
    decimal_cells,
    decimal_cover,
    geo_cells,
    geo_cover,
    key_bucket,
    point_term,
    seen_day,
)


def test_a_point_has_one_cell_per_level_each_inside_its_parent():
    cells = geo_cells(47.394, 0.684)
    assert len(cells) == GEO_LEVELS
    assert [cell >> 40 for cell in cells] == list(range(GEO_LEVELS))
    for parent, child in itertools.pairwise(cells):
        py, px = (parent >> 20) & 0xFFFFF, parent & 0xFFFFF
        cy, cx = (child >> 20) & 0xFFFFF, child & 0xFFFFF
        assert (cy // 2, cx // 2) == (py, px)
    assert cached_geo_cells(47.394, 0.684) == tuple(cells)


def test_a_point_term_round_trips_the_floats():
    lat, lon = 47.39412345678901, 0.6841234567890123
    text = point_term(lat, lon)
    back_lat, _, back_lon = text.partition(",")
    assert (float(back_lat), float(back_lon)) == (lat, lon)


@pytest.mark.parametrize("radius", [0.5, 1, 5, 10, 25, 80])
def test_a_circle_cover_holds_every_point_inside_and_calls_inside_only_what_is(radius):
    rng = random.Random(radius)
    lat0, lon0 = 47.39 + rng.uniform(-0.1, 0.1), 0.68 + rng.uniform(-0.1, 0.1)
    inner, boundary = geo_cover(lat0, lon0, radius)
    inner_set, boundary_set = set(inner), set(boundary)
    assert not inner_set & boundary_set
    spread = radius / 111 * 1.6
    for _ in range(3_000):
        lat, lon = lat0 + rng.uniform(-spread, spread), lon0 + rng.uniform(-spread, spread)
        distance = haversine_km(lat0, lon0, lat, lon)
        cells = set(geo_cells(lat, lon))
        if cells & inner_set:
            assert distance <= radius  # a cell called inside is inside
        if distance <= radius:
            assert cells & (inner_set | boundary_set), (lat, lon, distance)  # nothing inside is left out


def test_the_approximate_distance_is_close_to_haversine_at_these_scales():
    for dlat, dlon in [(0.01, 0.02), (0.1, -0.1), (0.3, 0.2)]:
        exact = haversine_km(47.4, 0.7, 47.4 + dlat, 0.7 + dlon)
        assert math.isclose(approx_km(47.4, 0.7, 47.4 + dlat, 0.7 + dlon), exact, rel_tol=1e-3)


def test_decimal_cells_are_units_tens_hundreds_thousands():
    assert decimal_cells(1234.56) == [
        decimal_cell(0, 1234),
        decimal_cell(1, 123),
        decimal_cell(2, 12),
        decimal_cell(3, 1),
    ]
    assert decimal_cells(CELL_LIMIT) == decimal_cells(CELL_LIMIT * 7) == [CELL_OVERFLOW]
    assert decimal_cells(-0.01) == []


@pytest.mark.parametrize(
    ("low", "high"),
    [(0, 20), (9.99, 150.0), (12.3, 12.8), (None, 5), (5, None), (0, None), (999.5, 10_500), (0.5, 0.5), (3, 3)],
)
def test_a_decimal_cover_selects_exactly_the_range(low, high):
    cells, partial = decimal_cover(low, high)
    whole, part = set(cells), set(partial)
    assert not whole & part
    lo = 0 if low is None else low
    for cents in range(0, 1_200_000, 97):
        value = cents / 100
        mine = set(decimal_cells(value))
        inside = lo <= value and (high is None or value <= high)
        if mine & whole:
            assert inside, value  # a whole cell holds only values in the range
        if inside:
            assert mine & (whole | part), value  # nothing in the range is left out


def test_bounds_the_cells_cannot_express_give_no_cover():
    assert decimal_cover(-1.0, 5.0) is None
    assert decimal_cover(5.0, 4.0) is None
    assert decimal_cover(0, math.inf) is None


def test_days_count_from_the_epoch():
    assert seen_day(SEEN_EPOCH) == 0
    assert seen_day(SEEN_EPOCH + 86_399) == 0 and seen_day(SEEN_EPOCH + 86_400) == 1
    assert seen_day(SEEN_EPOCH - 1) == -1


def test_key_buckets_follow_key_order_over_the_whole_range():
    keys = sorted([record_key(f"p-{i}") for i in range(2_000)] + [-(1 << 63), (1 << 63) - 1])
    buckets = [key_bucket(key) for key in keys]
    assert buckets == sorted(buckets)
    assert buckets[0] == 0 and buckets[-1] == KEY_BUCKETS - 1
