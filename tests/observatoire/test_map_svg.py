"""Projection, simplification, classes and the SVG map, on hand-made geometries."""

import math
import re

import pytest

from observatoire.maps import classes as cls
from observatoire.maps.catalogue import INDICATORS
from observatoire.maps.projection import (
    fit,
    label_point,
    path_data,
    simplify,
    simplify_geometry,
)
from observatoire.maps.svg import MISSING, SECRET, VALUE, Area, choropleth
from tests.observatoire.test_map_support import square


def polygon(ring):
    return {"type": "Polygon", "coordinates": [ring]}


# --- Projection --------------------------------------------------------------------------------


def test_the_projection_corrects_longitudes_by_the_cosine_of_the_mean_latitude():
    # At 60° N a degree of longitude is half a degree of latitude: 0.04° × 0.02° is square.
    geometry = polygon(
        [[10.0, 59.99], [10.04, 59.99], [10.04, 60.01], [10.0, 60.01], [10.0, 59.99]]
    )
    projection = fit([geometry], width=800, max_height=640, padding=10)
    # scale = min(780 / 0.02, 620 / 0.02) = 31,000 px per degree; height 620 + 2 × 10.
    assert projection.scale == pytest.approx(31_000)
    assert projection.height == 640
    assert projection(10.0, 60.01) == pytest.approx((90.0, 10.0))  # centred: (800 − 620) / 2
    assert projection(10.04, 59.99) == pytest.approx((710.0, 630.0))
    assert projection.km_per_pixel == pytest.approx(111.32 / 31_000)


def test_a_wide_territory_fills_the_width():
    # Around the equator cos φ0 = 1: 4° × 1° is four times wider than tall.
    geometry = polygon([[0.0, -0.5], [4.0, -0.5], [4.0, 0.5], [0.0, 0.5], [0.0, -0.5]])
    projection = fit([geometry], width=820, padding=10)
    assert projection(0.0, 0.5) == pytest.approx((10.0, 10.0))
    assert projection(4.0, -0.5) == pytest.approx((810.0, 210.0))
    assert projection.height == math.ceil(800 / 4 + 20)


def test_douglas_peucker_drops_points_closer_than_the_tolerance():
    points = [(0.0, 0.0), (1.0, 0.05), (2.0, 0.0), (3.0, 1.0)]
    assert simplify(points, 0.1) == [(0.0, 0.0), (2.0, 0.0), (3.0, 1.0)]
    assert simplify(points, 0.01) == points


def test_simplifying_a_geometry_keeps_rings_valid():
    ring = [[1.0, 49.0], [1.05, 49.0001], [1.1, 49.0], [1.1, 49.1], [1.0, 49.1], [1.0, 49.0]]
    simplified = simplify_geometry(polygon(ring), 0.001)
    assert simplified["coordinates"][0] == [
        [1.0, 49.0],
        [1.1, 49.0],
        [1.1, 49.1],
        [1.0, 49.1],
        [1.0, 49.0],
    ]
    # A ring that would collapse below four positions is kept whole.
    tiny = [[1.0, 49.0], [1.00001, 49.0], [1.0, 49.00001], [1.0, 49.0]]
    assert simplify_geometry(polygon(tiny), 0.1)["coordinates"][0] == tiny


def test_path_data_has_one_subpath_per_ring_and_drops_sub_pixel_islands():
    big = square(1.0, 49.0, 0.1)
    island = square(1.2, 49.0, 0.000001)
    geometry = {"type": "MultiPolygon", "coordinates": [[big], [island]]}
    projection = fit([polygon(big)], width=200, max_height=200, padding=0)
    d = path_data(geometry, projection)
    assert d.count("M") == 1
    assert d.count("Z") == 1
    assert d.count("L") == 3  # the square's four corners, the closing point implied by Z


def test_a_commune_smaller_than_a_pixel_still_gets_a_shape():
    projection = fit([polygon(square(1.0, 49.0, 1.0))], width=100, max_height=100, padding=0)
    d = path_data(polygon(square(1.5, 49.5, 0.0001)), projection)
    assert d.startswith("M")
    assert d.endswith("Z")


def test_the_label_of_a_square_is_written_at_its_centre():
    projection = fit([polygon(square(1.0, 49.0, 0.1))], width=100, max_height=100, padding=0)
    x, y = label_point(polygon(square(1.0, 49.0, 0.1)), projection)
    assert (x, y) == pytest.approx((50.0, projection.height / 2))


# --- Classes ----------------------------------------------------------------------------------


def test_quantile_classes_hold_about_as_many_values_each():
    classes = cls.quantile_classes([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    # Quantiles 20 %, 40 %, 60 %, 80 % by linear interpolation: 1 + 9 × q.
    assert classes.bounds == pytest.approx((1, 2.8, 4.6, 6.4, 8.2, 10))
    assert [classes.index(v) for v in (1, 2.8, 3, 10)] == [0, 1, 1, 4]
    assert classes.colours == cls.PALETTES[5]
    assert classes.labels(str)[:2] == ["de 1 à moins de 2.8", "de 2.8 à moins de 4.6"]
    assert classes.labels(str)[-1] == "de 8.2 à 10"


def test_repeated_values_make_fewer_classes():
    assert cls.quantile_classes([5, 5, 5]).bounds == (5, 5)
    assert cls.quantile_classes([5, 5, 5]).labels(str) == ["5"]
    # Four values, four classes asked: cuts at 25 %, 50 %, 75 % are 1, 1 and 1 + 0.25 × 8.
    assert cls.quantile_classes([1, 1, 1, 9]).bounds == (1, 3, 9)
    assert cls.quantile_classes([]) is None


def test_fixed_classes_are_open_at_both_ends_and_keep_the_target_as_a_border():
    classes = INDICATORS["part-q1-hors-qpv"].classes([0.5], "fixes")
    assert classes.labels(INDICATORS["part-q1-hors-qpv"].format) == [
        "moins de 10,0\u202f%",
        "de 10,0\u202f% à moins de 20,0\u202f%",
        "de 20,0\u202f% à moins de 25,0\u202f%",
        "de 25,0\u202f% à moins de 30,0\u202f%",
        "30,0\u202f% ou plus",
    ]
    assert classes.index(0.25) == 3  # the target reached is in the class above it
    assert classes.index(0.2499) == 2


def test_counts_get_round_equal_steps():
    assert cls.nice_breaks(60) == [20, 40]
    assert cls.nice_breaks(1234) == [500, 1000]
    assert cls.nice_breaks(0) == []
    with pytest.raises(ValueError, match="Seuils de classes invalides"):
        cls.fixed_classes([3, 1])


# --- The SVG ----------------------------------------------------------------------------------


def _areas():
    return [
        Area(
            "76101", "Exempleville", polygon(square(1.0, 49.4)), 0.3, VALUE, "30,0 %", "/c/76101/"
        ),
        Area(
            "76102",
            "Bourg <&> Mer",
            polygon(square(1.02, 49.4)),
            None,
            SECRET,
            "non diffusé",
            "/c/76102/",
        ),
        Area(
            "76103",
            "Petit-Village",
            polygon(square(1.04, 49.4)),
            None,
            MISSING,
            "pas de donnée",
            "/c/76103/",
        ),
        Area(
            "76104", "Grand-Village", polygon(square(1.06, 49.4)), 0.1, VALUE, "10,0 %", "/c/76104/"
        ),
    ]


def _svg(**kwargs):
    indicator = INDICATORS["part-q1-hors-qpv"]
    return choropleth(
        _areas(),
        classes=indicator.classes([0.3, 0.1], kwargs.pop("method", "fixes")),
        formatter=indicator.format,
        title="Part du premier quartile — 2025",
        description="Carte des communes",
        legend_title="Part du premier quartile (2025)",
        **kwargs,
    )


def test_one_link_and_one_path_per_commune_coloured_by_class():
    svg = _svg()
    links = re.findall(r'<a href="([^"]+)"', svg)
    assert links == ["/c/76101/", "/c/76102/", "/c/76103/", "/c/76104/"]
    areas = re.findall(
        r'<path d="[^"]+" fill="([^"]+)" fill-rule="evenodd" class="obs-map__area ([^"]+)">', svg
    )
    assert len(areas) == 4
    five = cls.PALETTES[5]
    assert areas[0] == (five[4], "obs-map__area--c5")  # 30 %: « 30 % ou plus »
    assert areas[1][0].startswith("url(#carte")
    assert areas[1][1] == "obs-map__area--secret"
    assert areas[2] == (cls.NO_DATA_COLOUR, "obs-map__area--missing")
    assert areas[3] == (five[1], "obs-map__area--c2")  # 10 %: « de 10 % à moins de 20 % »


def test_tooltips_legend_and_escaping():
    svg = _svg()
    assert "<title>Exempleville : 30,0 %</title>" in svg
    assert "<title>Bourg &lt;&amp;&gt; Mer : non diffusé</title>" in svg
    assert 'aria-label="Bourg &lt;&amp;&gt; Mer : non diffusé"' in svg
    assert "Part du premier quartile (2025)" in svg
    for label in (
        "moins de 10,0\u202f%",
        "30,0\u202f% ou plus",
        "secret statistique",
        "pas de donnée",
    ):
        assert f">{label}</text>" in svg
    assert re.search(r'<pattern id="carte\d+-secret"', svg)
    assert "style=" not in svg  # the CSP forbids inline styles


def test_names_can_be_left_out_and_every_map_has_its_own_ids():
    first, second = _svg(show_names=False), _svg()
    assert ">Exempleville</text>" not in first
    assert ">Exempleville</text>" in second
    ids = re.findall(r'id="(carte\d+)t"', first + second)
    assert len(set(ids)) == 2


def test_a_scale_bar_of_a_round_length():
    svg = _svg()
    # Four squares of 0.02° side by side: 0.08° ≈ 5.8 km on 780 px → about 0.8 km per 110 px.
    assert re.search(r">(500 m|1 km)</text>", svg)
