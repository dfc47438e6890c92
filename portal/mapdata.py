"""Build the bundled offline map (``static/geo/``) from the open contours of France.

The portal draws shops on the region's départements and communes when no tile server is
configured (``MAP_TILE_URL`` unset): no request leaves the portal. The contours come from
`gregoiredavid/france-geojson <https://github.com/gregoiredavid/france-geojson>`_ (IGN
Admin Express COG 2018 and INSEE names, Licence Ouverte / Open Licence, Etalab), one
region's files, simplified here to a file small enough to send with a page:

    python -m portal.mapdata --from ../france-geojson --region centre-val-de-loire

Simplification keeps neighbours together: a border shared by two communes is cut at the
points where its neighbours change and each piece is simplified once (Douglas-Peucker), so
both sides of it stay the same line; coordinates are rounded to 0.001° (about 100 m).
Runs only when the bundled file is rebuilt; the portal only serves its output.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from config.i18n import _

Point = tuple[float, float]

SOURCE = "gregoiredavid/france-geojson"
LICENCE = "Licence Ouverte / Open Licence (Etalab) : IGN Admin Express COG 2018, INSEE"


def _distance(p: Point, a: Point, b: Point) -> float:
    """Distance from ``p`` to the segment ``a``-``b`` (degrees; fine at a region's scale)."""
    (x, y), (x1, y1), (x2, y2) = p, a, b
    dx, dy = x2 - x1, y2 - y1
    if dx == dy == 0:
        return math.hypot(x - x1, y - y1)
    t = max(0.0, min(1.0, ((x - x1) * dx + (y - y1) * dy) / (dx * dx + dy * dy)))
    return math.hypot(x - x1 - t * dx, y - y1 - t * dy)


def douglas_peucker(line: list[Point], tolerance: float) -> list[Point]:
    """``line`` with the points closer than ``tolerance`` to the simplified line dropped
    (its ends kept). Iterative: a commune's border can have thousands of points."""
    if len(line) < 3:
        return list(line)
    keep = [False] * len(line)
    keep[0] = keep[-1] = True
    stack = [(0, len(line) - 1)]
    while stack:
        first, last = stack.pop()
        far, index = 0.0, None
        for k in range(first + 1, last):
            d = _distance(line[k], line[first], line[last])
            if d > far:
                far, index = d, k
        if index is not None and far > tolerance:
            keep[index] = True
            stack += [(first, index), (index, last)]
    return [p for p, kept in zip(line, keep, strict=True) if kept]


def _rings(geometry: dict) -> list[list[list[Point]]]:
    """A Polygon or MultiPolygon as a list of polygons, each a list of rings."""
    if geometry["type"] == "Polygon":
        polygons = [geometry["coordinates"]]
    elif geometry["type"] == "MultiPolygon":
        polygons = geometry["coordinates"]
    else:
        return []
    return [[[(float(x), float(y)) for x, y, *_ in ring] for ring in polygon] for polygon in polygons]


def simplify_features(features: list[dict], tolerance: float, keep: tuple[str, ...] = ("code", "nom")) -> list[dict]:
    """Features with their rings simplified along shared borders, coordinates rounded."""
    shapes = [_rings(f["geometry"]) for f in features]
    members: dict[Point, set[int]] = {}
    ring_id = 0
    for polygons in shapes:
        for polygon in polygons:
            for ring in polygon:
                for point in ring:
                    members.setdefault(point, set()).add(ring_id)
                ring_id += 1
    out = []
    for feature, polygons in zip(features, shapes, strict=True):
        simplified = []
        for polygon in polygons:
            rings = [r for r in (_simplify_ring(ring, members, tolerance) for ring in polygon) if r]
            if rings and len(rings[0]) >= 4:  # an outer ring that vanished takes its holes with it
                simplified.append(rings)
        if not simplified:
            continue
        geometry = (
            {"type": "Polygon", "coordinates": simplified[0]}
            if len(simplified) == 1
            else {"type": "MultiPolygon", "coordinates": simplified}
        )
        properties = {k: feature["properties"][k] for k in keep if k in feature.get("properties", {})}
        out.append({"type": "Feature", "properties": properties, "geometry": geometry})
    return out


def _simplify_ring(ring: list[Point], members: dict[Point, set[int]], tolerance: float) -> list[list[float]]:
    points = ring[:-1] if ring and ring[0] == ring[-1] else ring
    n = len(points)
    if n < 3:
        return []
    # Fixed: where the set of rings a point belongs to changes (a junction of borders).
    fixed = [
        k
        for k in range(n)
        if members[points[k]] != members[points[k - 1]] or members[points[k]] != members[points[(k + 1) % n]]
    ]
    if not fixed:  # an island: its own line from end to end
        fixed = [0]
    kept: list[Point] = []
    for a, b in zip(fixed, [*fixed[1:], fixed[0] + n], strict=True):
        piece = [points[k % n] for k in range(a, b + 1)]
        # Simplify in a direction both neighbours agree on, so the shared line is the same.
        forward = piece[0] <= piece[-1]
        line = douglas_peucker(piece if forward else piece[::-1], tolerance)
        kept += (line if forward else line[::-1])[:-1]
    rounded: list[list[float]] = []
    for x, y in kept:
        point = [round(x, 3), round(y, 3)]
        if not rounded or rounded[-1] != point:
            rounded.append(point)
    if len(rounded) < 3:
        return []
    return [*rounded, rounded[0]]


SCALE = 1000  # coordinates kept in thousandths of a degree


def encode(features: list[dict]) -> list[dict]:
    """Compact shapes for ``map.js``: ``{"code", "nom", "p": polygons}``, each polygon a list
    of rings, each ring flat integers ``[x0, y0, dx1, dy1, …]`` in thousandths of a degree
    (longitude first, as GeoJSON), each point a step from the one before."""
    out = []
    for feature in features:
        geometry = feature["geometry"]
        polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        encoded = []
        for polygon in polygons:
            rings = []
            for ring in polygon:
                flat: list[int] = []
                last = (0, 0)
                for x, y in ring[:-1]:  # closed again when drawn
                    point = (round(x * SCALE), round(y * SCALE))
                    flat += [point[0] - last[0], point[1] - last[1]]
                    last = point
                rings.append(flat)
            encoded.append(rings)
        out.append({**feature["properties"], "p": encoded})
    return out


def build(source_dir: Path, region: str, tolerance: float = 0.003) -> dict:
    """The region's départements and communes (:func:`encode`), with the source and licence."""
    folder = source_dir / "regions" / region
    layers = {}
    for layer in ("departements", "communes"):
        data = json.loads((folder / f"{layer}-{region}.geojson").read_text(encoding="utf-8"))
        layers[layer] = encode(simplify_features(data["features"], tolerance))
    return {"region": region, "source": SOURCE, "licence": LICENCE, "scale": SCALE, **layers}


def contours_problem(data: object) -> str | None:
    """Why ``data`` is not a contours file :func:`build` writes (the shape ``map.js`` draws),
    or None. Checked when the portal starts, so a wrong file is a clear error, not a blank map."""
    if not isinstance(data, dict):
        return _("ce n'est pas un objet JSON")
    scale = data.get("scale")
    if isinstance(scale, bool) or not isinstance(scale, int | float) or not scale > 0:
        return _("« scale » manque ou n'est pas un nombre positif")
    for layer in ("departements", "communes"):
        shapes = data.get(layer)
        if not isinstance(shapes, list):
            return _("la liste « %(layer)s » manque", layer=layer)
        for number, shape in enumerate(shapes, 1):
            polygons = shape.get("p") if isinstance(shape, dict) else None
            if not isinstance(polygons, list) or not all(
                isinstance(polygon, list)
                and all(isinstance(ring, list) and all(type(n) is int for n in ring) for ring in polygon)
                for polygon in polygons
            ):
                return _("« %(layer)s » n°%(number)s n'a pas de contours « p » valides", layer=layer, number=number)
    if not data["departements"] and not data["communes"]:
        return _("aucun contour (ni département ni commune)")
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m portal.mapdata", description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", required=True, type=Path, help="a france-geojson checkout")
    parser.add_argument("--region", default="centre-val-de-loire", help="region folder name (default: %(default)s)")
    parser.add_argument("--tolerance", type=float, default=0.003, help="degrees (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "static" / "geo" / "region.json")
    args = parser.parse_args(argv)
    data = build(args.source, args.region, args.tolerance)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{args.out}: {len(data['departements'])} départements, {len(data['communes'])} communes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
