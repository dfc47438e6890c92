"""The bundled map's simplification: neighbours keep one border, small shapes survive,
and the encoding map.js reads gives the points back."""

from __future__ import annotations

from portal.mapdata import douglas_peucker, encode, simplify_features


def square(x0: float, wavy_right: bool = False, wavy_left: bool = False) -> dict:
    """A 1x1 square at x0 whose shared side (x = x0 + 1 or x0) wiggles by less than 0.001."""
    wiggle = [(0.0005 if k % 2 else -0.0005) for k in range(1, 40)]
    right = [(x0 + 1 + w, k / 40) for k, w in enumerate(wiggle, start=1)] if wavy_right else []
    left = [(x0 + w, 1 - k / 40) for k, w in enumerate(wiggle, start=1)] if wavy_left else []
    ring = [(x0, 0.0), (x0 + 1, 0.0), *right, (x0 + 1, 1.0), (x0, 1.0), *left, (x0, 0.0)]
    return {
        "type": "Feature",
        "properties": {"code": str(x0), "nom": "c", "x": 1},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


def test_douglas_peucker_keeps_the_ends_and_the_far_points():
    line = [(0.0, 0.0), (1.0, 0.001), (2.0, 0.0), (3.0, 5.0), (4.0, 0.0)]
    assert douglas_peucker(line, 0.01) == [(0.0, 0.0), (2.0, 0.0), (3.0, 5.0), (4.0, 0.0)]


def test_two_neighbours_keep_one_shared_border_after_simplification():
    left = square(0.0, wavy_right=True)
    # the right square's left side is the same points, walked the other way
    right_ring = [(1.0, 0.0), (2.0, 0.0), (2.0, 1.0), (1.0, 1.0)]
    shared = left["geometry"]["coordinates"][0][2:-3]
    right_ring += [*reversed(shared), (1.0, 0.0)]
    right = {
        "type": "Feature",
        "properties": {"code": "2"},
        "geometry": {"type": "Polygon", "coordinates": [right_ring]},
    }
    a, b = simplify_features([left, right], tolerance=0.003)
    border_a = {tuple(p) for p in a["geometry"]["coordinates"][0] if 0.99 < p[0] < 1.01}
    border_b = {tuple(p) for p in b["geometry"]["coordinates"][0] if 0.99 < p[0] < 1.01}
    assert border_a == border_b == {(1.0, 0.0), (1.0, 1.0)}  # the wiggle is gone on both sides alike
    assert a["properties"] == {"code": "0.0", "nom": "c"}  # only the code and the name are kept


def test_the_encoding_gives_the_points_back_in_thousandths():
    (shape,) = encode(simplify_features([square(1.5)], tolerance=0.003))
    (ring,) = shape["p"][0]
    x = y = 0
    points = []
    for dx, dy in zip(ring[::2], ring[1::2], strict=True):
        x, y = x + dx, y + dy
        points.append((x / 1000, y / 1000))
    assert points == [(1.5, 0.0), (2.5, 0.0), (2.5, 1.0), (1.5, 1.0)]
