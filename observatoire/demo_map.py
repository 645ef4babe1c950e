"""Fictional commune boundaries for the two demo conferences (cil/demo.py), loaded through
the same upload service as a real file.

The demo territories are invented, so are their shapes: each commune is the Voronoi cell of
a seed point (a fixed position in kilometres around the territory's centre) cut out of the
territory's outline, then every border is given a natural wiggle by midpoint displacement.
A border shared by two communes is displaced once (its randomness is keyed by its two ends),
so neighbours still fit together without gap or overlap. Deterministic: the same file every
run, so loading the demo twice changes nothing.
"""

import itertools
import json
import math
import random
from dataclasses import dataclass

Point = tuple[float, float]  # kilometres east, north of the territory's centre


@dataclass(frozen=True)
class DemoMap:
    slug: str
    centre: tuple[float, float]  # longitude, latitude (degrees)
    outline: tuple[Point, ...]  # convex, counter-clockwise
    seeds: dict[str, Point]  # INSEE code → seed


# Between Rouen and the Andelle valley, north of the Seine (fictional communes).
VAL_DE_SEINE = DemoMap(
    slug="agglo-val-de-seine",
    centre=(1.13, 49.45),
    outline=(
        (-15.0, -4.0),
        (-12.5, -9.5),
        (-6.0, -12.5),
        (2.0, -12.0),
        (9.5, -10.5),
        (14.5, -6.5),
        (16.0, 0.0),
        (14.0, 6.0),
        (8.5, 10.0),
        (1.0, 12.0),
        (-6.5, 11.5),
        (-12.5, 8.0),
        (-15.5, 2.5),
    ),
    seeds={
        "76350": (0.0, 0.0),  # Seineville
        "76108": (1.5, 6.5),  # Bois-Guillaume-sur-Seine
        "76215": (6.5, -3.5),  # Saint-Aubin-des-Vignes
        "76402": (-6.0, 2.5),  # Mont-Roberval
        "76118": (-4.0, 8.0),  # Bonneville-la-Forêt
        "76361": (-10.5, -3.0),  # Le Houlme-en-Caux
        "76681": (1.5, -8.0),  # Sotteville-sur-Andelle
        "76212": (7.5, 4.5),  # Darnétal-la-Rivière
        "76410": (-5.0, -7.0),  # Maromme-Saint-Martin
        "76497": (-11.0, 5.0),  # Petit-Quevillon
        "76575": (11.0, -6.0),  # Saint-Étienne-des-Prés
        "76056": (12.5, 1.5),  # Belbeuf-les-Côtes
    },
)

# On the coast of the Pays de Caux; the northern edge is the shore.
LITTORAL_NORD = DemoMap(
    slug="cu-littoral-nord",
    centre=(1.12, 49.9),
    outline=(
        (-12.0, -4.0),
        (-8.0, -8.0),
        (0.0, -9.5),
        (8.0, -8.0),
        (13.0, -3.5),
        (13.5, 1.5),
        (6.0, 5.0),
        (-2.0, 5.5),
        (-9.5, 4.0),
        (-12.5, 0.5),
    ),
    seeds={
        "76631": (0.0, 0.5),  # Port-en-Caux
        "76705": (-7.0, 0.5),  # Tourville-la-Plage
        "76655": (6.5, 1.5),  # Saint-Valéry-des-Falaises
        "76072": (9.5, -4.0),  # Berneval-les-Dunes
        "76353": (-1.5, -5.5),  # Hautot-sur-Falaise
    },
)

DEMO_MAPS = (VAL_DE_SEINE, LITTORAL_NORD)
FILENAME = "contours-demonstration.geojson"
KM_PER_DEGREE = 111.32
WIGGLE_LEVELS = 3  # each border is cut into 2³ pieces
WIGGLE = 0.11  # displacement, as a share of the piece's length


def _clip(polygon: list[Point], keep: Point, other: Point) -> list[Point]:
    """Sutherland–Hodgman: the part of a convex `polygon` closer to `keep` than `other`."""
    mx, my = (keep[0] + other[0]) / 2, (keep[1] + other[1]) / 2
    nx, ny = other[0] - keep[0], other[1] - keep[1]

    def side(p: Point) -> float:
        return (p[0] - mx) * nx + (p[1] - my) * ny  # ≤ 0: on keep's side

    result: list[Point] = []
    for i, current in enumerate(polygon):
        previous = polygon[i - 1]
        s_prev, s_cur = side(previous), side(current)
        if (s_prev <= 0) != (s_cur <= 0):
            t = s_prev / (s_prev - s_cur)
            result.append(
                (
                    previous[0] + t * (current[0] - previous[0]),
                    previous[1] + t * (current[1] - previous[1]),
                )
            )
        if s_cur <= 0:
            result.append(current)
    return result


def _cells(demo: DemoMap) -> dict[str, list[Point]]:
    cells = {}
    for insee, seed in demo.seeds.items():
        cell = list(demo.outline)
        for other_insee, other in demo.seeds.items():
            if other_insee != insee:
                cell = _clip(cell, seed, other)
        cells[insee] = cell
    return cells


def _snap(cells: dict[str, list[Point]]) -> dict[str, list[Point]]:
    """Vertices computed twice (once per cell) as one point, so shared borders match."""
    known: list[Point] = []

    def canonical(p: Point) -> Point:
        for q in known:
            if abs(p[0] - q[0]) < 1e-6 and abs(p[1] - q[1]) < 1e-6:
                return q
        point = (round(p[0], 6), round(p[1], 6))
        known.append(point)
        return point

    snapped = {}
    for insee, cell in cells.items():
        points = []
        for p in cell:
            q = canonical(p)
            if not points or points[-1] != q:
                points.append(q)
        if points[0] == points[-1]:
            points.pop()
        snapped[insee] = points
    return snapped


def _wiggle(a: Point, b: Point) -> list[Point]:
    """The border a → b as a wiggly line (a included, b excluded); b → a gives the same
    points in reverse order."""
    if b < a:
        return ([*_wiggle(b, a), a])[::-1][:-1]
    rng = random.Random(f"{a[0]:.6f},{a[1]:.6f}|{b[0]:.6f},{b[1]:.6f}")  # noqa: S311 - demo shapes
    line = [a, b]
    for _level in range(WIGGLE_LEVELS):
        refined = [line[0]]
        for p, q in itertools.pairwise(line):
            length = math.hypot(q[0] - p[0], q[1] - p[1])
            shift = rng.uniform(-WIGGLE, WIGGLE) * length
            # Perpendicular displacement of the middle point.
            nx, ny = -(q[1] - p[1]) / length, (q[0] - p[0]) / length
            refined.append(((p[0] + q[0]) / 2 + shift * nx, (p[1] + q[1]) / 2 + shift * ny))
            refined.append(q)
        line = refined
    return line[:-1]


def _to_lonlat(demo: DemoMap, point: Point) -> list[float]:
    lon0, lat0 = demo.centre
    lat = lat0 + point[1] / KM_PER_DEGREE
    lon = lon0 + point[0] / (KM_PER_DEGREE * math.cos(math.radians(lat0)))
    return [round(lon, 6), round(lat, 6)]


def demo_geojson(demo: DemoMap, names: dict[str, str]) -> dict:
    """The demo territory's boundaries as a GeoJSON FeatureCollection (RFC 7946)."""
    features = []
    for insee, cell in _snap(_cells(demo)).items():
        ring: list[Point] = []
        for i, vertex in enumerate(cell):
            ring += _wiggle(vertex, cell[(i + 1) % len(cell)])
        coordinates = [_to_lonlat(demo, p) for p in ring]
        coordinates.append(coordinates[0])
        features.append(
            {
                "type": "Feature",
                "properties": {"code_insee": insee, "nom": names.get(insee, insee)},
                "geometry": {"type": "Polygon", "coordinates": [coordinates]},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def demo_file(demo: DemoMap, names: dict[str, str]) -> bytes:
    return json.dumps(demo_geojson(demo, names), ensure_ascii=False).encode()


def add_boundaries(ctx) -> None:
    """Demo step (called at the end of observatoire.demo.add_observatoire): load each demo
    conference's boundaries through the upload service, unless that very file is loaded."""
    import hashlib

    from cil.demo import DEMO_CONFERENCES
    from cil.tenancy import conference_scope
    from observatoire.models import TerritoryMap
    from observatoire.services_map import territory_map_upload

    names_by_slug = {demo.slug: demo.communes for demo in DEMO_CONFERENCES}
    for demo in DEMO_MAPS:
        conference = ctx.conferences[demo.slug]
        content = demo_file(demo, names_by_slug[demo.slug])
        with conference_scope(conference):
            loaded = TerritoryMap.objects.filter(
                sha256=hashlib.sha256(content).hexdigest()
            ).exists()
        if loaded:
            continue
        report = territory_map_upload(
            conference=conference, actor=None, filename=FILENAME, content=content
        )
        ctx.log(f"{demo.slug} — carte du territoire : {report.summary()}")
