"""The choropleth map of the territory, drawn as one SVG string on the server.

One `<a>` per commune (to its page) around one `<path>`, coloured by its class (a `fill`
presentation attribute and a class name: the CSP forbids inline styles), with a `<title>`
tooltip saying the commune and its value. Secret values are hatched, missing ones grey. The
legend and a scale bar are drawn under the map, in the same SVG. Pages show the same values
in a table under the map (the accessible alternative).
"""

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from observatoire.maps.classes import HATCH_COLOUR, NO_DATA_COLOUR, Classes
from observatoire.maps.projection import Projection, fit, label_point, path_data

TEXT = "#161616"
FONT = 'font-family="Arial, Liberation Sans, sans-serif"'

VALUE, SECRET, MISSING = "value", "secret", "missing"
CURRENT_COLOUR = "#000091"  # DSFR bleu France: the commune of the page
OTHER_COLOUR = "#dddddd"


@dataclass(frozen=True)
class Area:
    insee: str
    name: str
    geometry: dict
    value: float | None
    state: str  # VALUE | SECRET | MISSING
    text: str  # the value as shown: « 18,2 % », « secret statistique », « pas de donnée »
    href: str


_ids = itertools.count(1)


def _uid() -> str:
    return f"carte{next(_ids)}"


def _scale_bar(projection: Projection, target_px: float = 110) -> tuple[float, str]:
    """(length in px, label) of a round-length scale bar near `target_px` wide."""
    km = projection.km_per_pixel * target_px
    magnitude = 10 ** math.floor(math.log10(km))
    nice = max(m * magnitude for m in (1, 2, 5) if m * magnitude <= km)
    label = f"{nice:g} km" if nice >= 1 else f"{nice * 1000:g} m"
    return nice / projection.km_per_pixel, label


def choropleth(
    areas: Sequence[Area],
    *,
    classes: Classes | None,
    formatter: Callable[[float], str],
    title: str,
    description: str,
    legend_title: str,
    width: int = 800,
    show_names: bool = True,
) -> str:
    """The map as an SVG string (every text escaped)."""
    uid = _uid()
    projection = fit([a.geometry for a in areas], width=width)
    hatch = f"{uid}-secret"
    legend = _legend_items(areas, classes, formatter, hatch)
    per_row = 3
    rows = math.ceil(len(legend) / per_row)
    legend_top = projection.height + 34
    height = legend_top + 26 * rows + 6
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" class="obs-map" aria-labelledby="{uid}t {uid}d">',
        f'<title id="{uid}t">{escape(title)}</title>',
        f'<desc id="{uid}d">{escape(description)}</desc>',
        "<defs>",
        f'<pattern id="{hatch}" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)">'
        f'<rect width="6" height="6" fill="#ffffff"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="{HATCH_COLOUR}" stroke-width="2.5"/>'
        "</pattern>",
        "</defs>",
        '<g class="obs-map__areas" stroke="#ffffff" stroke-width="1" stroke-linejoin="round">',
    ]
    for area in areas:
        fill, css = _fill(area, classes, hatch)
        label = f"{area.name} : {area.text}"
        parts.append(
            f"<a href={quoteattr(area.href)} aria-label={quoteattr(label)} "
            f'class="obs-map__link" data-insee={quoteattr(area.insee)}>'
            f'<path d="{path_data(area.geometry, projection)}" fill="{fill}" '
            f'fill-rule="evenodd" class="obs-map__area {css}">'
            f"<title>{escape(label)}</title></path></a>"
        )
    parts.append("</g>")
    if show_names:
        parts.append(
            f'<g {FONT} font-size="12" fill="{TEXT}" text-anchor="middle" '
            'stroke="#ffffff" stroke-width="3" paint-order="stroke" stroke-linejoin="round" '
            'pointer-events="none" aria-hidden="true" class="obs-map__names">'
        )
        for area in areas:
            x, y = label_point(area.geometry, projection)
            parts.append(f'<text x="{x:.1f}" y="{y + 4:.1f}">{escape(_short(area.name))}</text>')
        parts.append("</g>")
    parts.append(_scale(projection))
    parts.append(
        f'<g {FONT} font-size="13" fill="{TEXT}" class="obs-map__legend">'
        f'<text x="10" y="{legend_top - 10}" font-weight="bold">{escape(legend_title)}</text>'
    )
    column = (width - 20) / per_row
    for n, (fill, text) in enumerate(legend):
        x = 10 + (n % per_row) * column
        y = legend_top + (n // per_row) * 26
        parts.append(
            f'<rect x="{x:.1f}" y="{y}" width="22" height="16" fill="{fill}" '
            'stroke="#666666" stroke-width="0.5"/>'
            f'<text x="{x + 30:.1f}" y="{y + 13}">{escape(text)}</text>'
        )
    parts.append("</g></svg>")
    return "".join(parts)


def locator(areas: Sequence[Area], *, current: str, title: str, width: int = 360) -> str:
    """A small map of the territory where the commune `current` stands out; the other
    communes link to their pages (an orientation aid: the commune page says the figures)."""
    uid = _uid()
    projection = fit([a.geometry for a in areas], width=width, max_height=300, padding=6)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {projection.height}" '
        f'width="100%" class="obs-map obs-map--locator" aria-labelledby="{uid}t">',
        f'<title id="{uid}t">{escape(title)}</title>',
        '<g class="obs-map__areas" stroke="#ffffff" stroke-width="1" stroke-linejoin="round">',
    ]
    for area in areas:
        is_current = area.insee == current
        fill = CURRENT_COLOUR if is_current else OTHER_COLOUR
        css = "obs-map__area--current" if is_current else "obs-map__area--other"
        path = (
            f'<path d="{path_data(area.geometry, projection)}" fill="{fill}" '
            f'fill-rule="evenodd" class="obs-map__area {css}"><title>{escape(area.name)}</title>'
            "</path>"
        )
        if is_current:
            parts.append(f'<g aria-current="page">{path}</g>')
        else:
            parts.append(
                f"<a href={quoteattr(area.href)} aria-label={quoteattr(area.name)} "
                f'class="obs-map__link" data-insee={quoteattr(area.insee)}>{path}</a>'
            )
    parts.append("</g></svg>")
    return "".join(parts)


def _fill(area: Area, classes: Classes | None, hatch: str) -> tuple[str, str]:
    if area.state == SECRET:
        return f"url(#{hatch})", "obs-map__area--secret"
    if area.state == MISSING or area.value is None or classes is None:
        return NO_DATA_COLOUR, "obs-map__area--missing"
    index = classes.index(area.value)
    return classes.colours[index], f"obs-map__area--c{index + 1}"


def _legend_items(
    areas: Sequence[Area], classes: Classes | None, formatter, hatch: str
) -> list[tuple[str, str]]:
    items = []
    if classes is not None:
        items += list(zip(classes.colours, classes.labels(formatter), strict=True))
    states = {area.state for area in areas}
    if SECRET in states:
        items.append((f"url(#{hatch})", "secret statistique"))
    if MISSING in states or (classes is None and VALUE in states):
        items.append((NO_DATA_COLOUR, "pas de donnée"))
    return items


def _scale(projection: Projection) -> str:
    length, label = _scale_bar(projection)
    x, y = 10, projection.height + 2
    return (
        f'<g {FONT} font-size="11" fill="{TEXT}" class="obs-map__scale" aria-hidden="true">'
        f'<path d="M{x} {y - 4}V{y}H{x + length:.1f}V{y - 4}" fill="none" stroke="{TEXT}" '
        'stroke-width="1.5"/>'
        f'<text x="{x + length + 6:.1f}" y="{y + 1}">{label}</text></g>'
    )


def _short(name: str, limit: int = 26) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"
