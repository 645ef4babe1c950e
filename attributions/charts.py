"""Charts drawn as SVG on the server (no Django import).

No JavaScript and no external file: they render under the strict CSP, print, and go into the
PDFs as they are. Each chart has a <title> and a <desc>; pages show the same figures in a
table next to it (the accessible alternative).
"""

import itertools
from dataclasses import dataclass
from xml.sax.saxutils import escape

BLUE = "#000091"  # DSFR bleu France
RED = "#c9191e"  # DSFR rouge marianne (targets)
GREY = "#929292"
TEXT = "#161616"
# Presentation attributes, not style="": the CSP (style-src 'self') blocks inline styles.
FONT = 'font-family="Arial, Liberation Sans, sans-serif"'


@dataclass(frozen=True)
class Bar:
    label: str
    rate: float | None  # 0..1, None = no attribution to compute a rate on
    target: float | None = None


_ids = itertools.count(1)


def _chart_id() -> str:
    """A fresh id prefix: several charts share a page, their <title>/<desc> ids must differ."""
    return f"chart{next(_ids)}"


def _pct(value: float) -> str:
    return f"{value * 100:.1f} %".replace(".", ",")


def rate_bars(bars: list[Bar], *, title: str, description: str = "") -> str:
    """Horizontal bars of rates with each bar's target as a red mark."""
    label_width, bar_width, row_height, top = 300, 360, 30, 34
    uid = _chart_id()
    width = label_width + bar_width + 90
    height = top + row_height * max(len(bars), 1) + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" class="cil-chart" aria-labelledby="{uid}t {uid}d">',
        f'<title id="{uid}t">{escape(title)}</title><desc id="{uid}d">{escape(description or title)}</desc>',
        f'<g {FONT} font-size="12" fill="{TEXT}">',
    ]
    for tick in (0, 0.25, 0.5, 0.75, 1):
        x = label_width + tick * bar_width
        parts.append(
            f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{height - 24}" stroke="#e5e5e5"/>'
        )
        parts.append(
            f'<text x="{x:.1f}" y="{top - 12}" text-anchor="middle" fill="#666">{int(tick * 100)} %</text>'
        )
    for index, bar in enumerate(bars):
        y = top + index * row_height
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 19}" text-anchor="end">{escape(_short(bar.label))}</text>'
        )
        if bar.rate is None:
            parts.append(
                f'<text x="{label_width + 4}" y="{y + 19}" fill="{GREY}">aucune attribution</text>'
            )
        else:
            length = max(0.0, min(bar.rate, 1.0)) * bar_width
            below = bar.target is not None and bar.rate < bar.target
            colour = "#ce614a" if below else BLUE
            parts.append(
                f'<rect x="{label_width}" y="{y + 6}" width="{length:.1f}" height="18" fill="{colour}"/>'
            )
            # The value goes after both the bar and the target mark, so they never overlap.
            target_x = min(bar.target, 1.0) * bar_width if bar.target is not None else 0
            parts.append(
                f'<text x="{label_width + max(length, target_x) + 8:.1f}" y="{y + 19}">{_pct(bar.rate)}</text>'
            )
        if bar.target is not None and bar.rate is not None:
            x = label_width + min(bar.target, 1.0) * bar_width
            parts.append(
                f'<line x1="{x:.1f}" y1="{y + 2}" x2="{x:.1f}" y2="{y + 28}" stroke="{RED}" stroke-width="3"/>'
            )
    legend_y = height - 8
    parts.append(
        f'<rect x="{label_width}" y="{legend_y - 10}" width="12" height="12" fill="{BLUE}"/>'
    )
    parts.append(f'<text x="{label_width + 18}" y="{legend_y}">taux réalisé</text>')
    parts.append(
        f'<line x1="{label_width + 130}" y1="{legend_y - 11}" x2="{label_width + 130}" y2="{legend_y + 2}" stroke="{RED}" stroke-width="3"/>'
    )
    parts.append(f'<text x="{label_width + 138}" y="{legend_y}">objectif</text>')
    parts.append("</g></svg>")
    return "".join(parts)


def trend_lines(
    years: list[int], series: dict[str, list[float | None]], *, target: float | None, title: str
) -> str:
    """Rates over the years, one line per series, the target as a dashed red line."""
    width, height, left, right, top, bottom = 640, 260, 50, 20, 20, 60
    uid = _chart_id()
    plot_w, plot_h = width - left - right, height - top - bottom
    colours = [BLUE, "#009081", "#a558a0", "#716043"]

    def x_of(i: int) -> float:
        return left + (plot_w * i / max(len(years) - 1, 1))

    def y_of(rate: float) -> float:
        return top + plot_h * (1 - max(0.0, min(rate, 1.0)))

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'class="cil-chart" aria-labelledby="{uid}t {uid}d">',
        f'<title id="{uid}t">{escape(title)}</title><desc id="{uid}d">{escape(title)}, de {years[0] if years else ""} à {years[-1] if years else ""}</desc>',
        f'<g {FONT} font-size="12" fill="{TEXT}">',
    ]
    for tick in (0, 0.25, 0.5, 0.75, 1):
        y = y_of(tick)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#e5e5e5"/>'
        )
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#666">{int(tick * 100)} %</text>'
        )
    for i, year in enumerate(years):
        parts.append(
            f'<text x="{x_of(i):.1f}" y="{top + plot_h + 18}" text-anchor="middle">{year}</text>'
        )
    if target is not None:
        y = y_of(target)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{RED}" stroke-width="2" stroke-dasharray="6 4"/>'
        )
    legend_x = left
    for n, (label, values) in enumerate(series.items()):
        colour = colours[n % len(colours)]
        points = [(x_of(i), y_of(v)) for i, v in enumerate(values) if v is not None]
        # A year without a rate breaks the line: nothing is drawn across it.
        for segment in _segments(values):
            if len(segment) > 1:
                path = " ".join(f"{x_of(i):.1f},{y_of(v):.1f}" for i, v in segment)
                parts.append(
                    f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5"/>'
                )
        for x, y in points:
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>')
        parts.append(
            f'<rect x="{legend_x}" y="{height - 22}" width="12" height="12" fill="{colour}"/>'
        )
        parts.append(
            f'<text x="{legend_x + 16}" y="{height - 12}">{escape(_short(label, 28))}</text>'
        )
        legend_x += 30 + 7 * min(len(label), 28)
    if target is not None:
        parts.append(
            f'<line x1="{legend_x}" y1="{height - 16}" x2="{legend_x + 20}" y2="{height - 16}" stroke="{RED}" stroke-width="2" stroke-dasharray="6 4"/>'
        )
        parts.append(f'<text x="{legend_x + 26}" y="{height - 12}">objectif</text>')
    parts.append("</g></svg>")
    return "".join(parts)


def _segments(values: list[float | None]) -> list[list[tuple[int, float]]]:
    segments: list[list[tuple[int, float]]] = [[]]
    for i, value in enumerate(values):
        if value is None:
            segments.append([])
        else:
            segments[-1].append((i, value))
    return [segment for segment in segments if segment]


def _short(label: str, limit: int = 34) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
