"""From WGS84 longitude/latitude to SVG coordinates, fitted to a viewBox.

Equirectangular projection with the cos(φ0) correction (φ0: the territory's mean latitude):
x = (λ − λmin)·cos φ0, y = φmax − φ. Over an intercommunality (a few tens of kilometres) its
distortion is far below a pixel, and it needs no library. y grows downwards, as in SVG.

Geometries are GeoJSON Polygon / MultiPolygon dicts, as `observatoire.maps.geojson` returns
them. Rings are simplified (Douglas–Peucker) to a fraction of a pixel, so a detailed file
still gives a light page.
"""

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Point = tuple[float, float]


def polygons_of(geometry: dict) -> list[list[list[list[float]]]]:
    """A geometry's polygons (each a list of rings, the outer ring first)."""
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    return list(geometry["coordinates"])


def bounds(geometries: Iterable[dict]) -> tuple[float, float, float, float]:
    """(lon min, lat min, lon max, lat max) of the outer rings of every geometry."""
    lon_min = lat_min = math.inf
    lon_max = lat_max = -math.inf
    for geometry in geometries:
        for polygon in polygons_of(geometry):
            for lon, lat in polygon[0]:
                lon_min, lon_max = min(lon_min, lon), max(lon_max, lon)
                lat_min, lat_max = min(lat_min, lat), max(lat_max, lat)
    if lon_min == math.inf:
        raise ValueError("Aucune géométrie à projeter.")
    return lon_min, lat_min, lon_max, lat_max


@dataclass(frozen=True)
class Projection:
    """lon/lat → (x, y) in a `width` × `height` viewBox, territory centred with `padding`."""

    lon_min: float
    lat_max: float
    cos_lat0: float
    scale: float  # pixels per degree of latitude
    offset_x: float
    offset_y: float
    width: int
    height: int

    def __call__(self, lon: float, lat: float) -> Point:
        return (
            self.offset_x + (lon - self.lon_min) * self.cos_lat0 * self.scale,
            self.offset_y + (self.lat_max - lat) * self.scale,
        )

    @property
    def km_per_pixel(self) -> float:
        return KM_PER_DEGREE_LAT / self.scale


KM_PER_DEGREE_LAT = 111.32  # one degree of latitude (mean, WGS84)


def fit(
    geometries: Sequence[dict], *, width: int = 800, max_height: int = 640, padding: int = 10
) -> Projection:
    """The projection that fits every geometry in `width` (and at most `max_height`)."""
    lon_min, lat_min, lon_max, lat_max = bounds(geometries)
    cos_lat0 = math.cos(math.radians((lat_min + lat_max) / 2))
    span_x = max((lon_max - lon_min) * cos_lat0, 1e-9)
    span_y = max(lat_max - lat_min, 1e-9)
    scale = min((width - 2 * padding) / span_x, (max_height - 2 * padding) / span_y)
    height = math.ceil(span_y * scale + 2 * padding)
    return Projection(
        lon_min=lon_min,
        lat_max=lat_max,
        cos_lat0=cos_lat0,
        scale=scale,
        offset_x=(width - span_x * scale) / 2,
        offset_y=padding,
        width=width,
        height=height,
    )


# --- Simplification --------------------------------------------------------------------------


def _distance(point: Point, start: Point, end: Point) -> float:
    """Distance from `point` to the segment start–end."""
    (px, py), (ax, ay), (bx, by) = point, start, end
    dx, dy = bx - ax, by - ay
    length = dx * dx + dy * dy
    if length == 0:
        return math.hypot(px - ax, py - ay)
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / length))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def _radial(points: Sequence[Point], tolerance: float) -> list[Point]:
    """Drop the points closer than `tolerance` to the previous kept one (the last point is
    always kept): a cheap first pass that makes Douglas–Peucker fast on dense files."""
    squared = tolerance * tolerance
    kept = [points[0]]
    last_x, last_y = points[0]
    for x, y in points[1:-1]:
        if (x - last_x) ** 2 + (y - last_y) ** 2 > squared:
            kept.append((x, y))
            last_x, last_y = x, y
    kept.append(points[-1])
    return kept


def simplify(points: Sequence[Point], tolerance: float) -> list[Point]:
    """The points to keep so that no dropped point lies farther than `tolerance` from the
    kept line: a radial-distance pass, then Douglas–Peucker. First and last points are
    always kept (a closed ring stays closed). Iterative, so a ring of 100,000 points cannot
    exhaust the stack."""
    if len(points) < 3 or tolerance <= 0:
        return list(points)
    points = _radial(points, tolerance)
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        start, end = points[first], points[last]
        farthest, index = 0.0, -1
        for i in range(first + 1, last):
            d = _distance(points[i], start, end)
            if d > farthest:
                farthest, index = d, i
        if index != -1 and farthest > tolerance:
            keep[index] = True
            stack.append((first, index))
            stack.append((index, last))
    return [point for point, kept in zip(points, keep, strict=True) if kept]


def simplify_geometry(geometry: dict, tolerance_degrees: float) -> dict:
    """The geometry in lon/lat with each ring simplified to `tolerance_degrees` (measured
    with the cos(φ) correction); a ring that would fall below 4 positions is kept whole."""
    lats = [lat for polygon in polygons_of(geometry) for _lon, lat in polygon[0]]
    cos_lat = math.cos(math.radians((min(lats) + max(lats)) / 2))

    def ring_of(ring: list[list[float]]) -> list[list[float]]:
        scaled = [(lon * cos_lat, lat) for lon, lat in ring]
        kept = simplify(scaled, tolerance_degrees)
        if len(kept) < 4:
            return ring
        return [[round(x / cos_lat, 6), y] for x, y in kept]

    polygons = [[ring_of(ring) for ring in polygon] for polygon in polygons_of(geometry)]
    if geometry["type"] == "Polygon":
        return {"type": "Polygon", "coordinates": polygons[0]}
    return {"type": "MultiPolygon", "coordinates": polygons}


def count_positions(geometry: dict) -> int:
    return sum(len(ring) for polygon in polygons_of(geometry) for ring in polygon)


# --- SVG path data ---------------------------------------------------------------------------


def _ring_points(ring: list[list[float]], projection: Projection, tolerance: float) -> list[Point]:
    projected = [projection(lon, lat) for lon, lat in ring]
    rounded: list[Point] = []
    for x, y in simplify(projected, tolerance):
        point = (round(x, 1), round(y, 1))
        if not rounded or rounded[-1] != point:
            rounded.append(point)
    return rounded


def _path_of(rings: list[list[Point]]) -> str:
    return "".join("M" + "L".join(f"{x:g} {y:g}" for x, y in ring[:-1]) + "Z" for ring in rings)


def path_data(geometry: dict, projection: Projection, *, tolerance: float = 0.4) -> str:
    """The SVG `d` of a geometry: one subpath per ring (draw with fill-rule="evenodd", so
    holes stay holes whatever the rings' winding). Rings smaller than a pixel are dropped;
    a commune drawn that small keeps its largest outer ring, so it still has a shape."""
    rings: list[list[Point]] = []
    for polygon in polygons_of(geometry):
        outer = _ring_points(polygon[0], projection, tolerance)
        if len(outer) < 4:
            continue  # an island smaller than a pixel: its holes go with it
        rings.append(outer)
        for hole in polygon[1:]:
            points = _ring_points(hole, projection, tolerance)
            if len(points) >= 4:
                rings.append(points)
    if not rings:
        largest = max((polygon[0] for polygon in polygons_of(geometry)), key=len)
        rings = [[projection(lon, lat) for lon, lat in largest]]
    return _path_of(rings)


def ring_area(points: Sequence[Point]) -> float:
    """Signed area of a ring (shoelace)."""
    return 0.5 * sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in itertools.pairwise(points))


def label_point(geometry: dict, projection: Projection) -> Point:
    """Where to write a commune's name: the centroid of its largest outer ring (projected),
    or that ring's first point when the ring has no area."""
    best: list[Point] = []
    best_area = -1.0
    for polygon in polygons_of(geometry):
        points = [projection(lon, lat) for lon, lat in polygon[0]]
        area = abs(ring_area(points))
        if area > best_area:
            best, best_area = points, area
    signed = ring_area(best)
    if signed == 0:
        return best[0]
    cx = cy = 0.0
    for (x1, y1), (x2, y2) in itertools.pairwise(best):
        cross = x1 * y2 - x2 * y1
        cx += (x1 + x2) * cross
        cy += (y1 + y2) * cross
    return cx / (6 * signed), cy / (6 * signed)
