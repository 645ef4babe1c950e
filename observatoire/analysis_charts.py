"""Charts of the observatory's analysis page, drawn as SVG on the server (no Django import),
in the manner of `attributions.charts`: no JavaScript, a <title> and a <desc>, the same
figures in a table beside each chart. Two kinds the bilan's charts do not draw: shares
without a target (`share_bars`), and indices from 0 to 1 over the years (`index_lines`).
"""

import itertools
from xml.sax.saxutils import escape

from attributions.charts import BLUE, FONT, GREY, TEXT

COLOURS = [BLUE, "#009081", "#a558a0", "#716043"]
_ids = itertools.count(1)


def _chart_id() -> str:
    """Ids differ from the bilan charts' (`chart…`): both may share a page."""
    return f"obschart{next(_ids)}"


def _short(label: str, limit: int = 34) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _decimal(value: float, digits: int) -> str:
    return f"{value:.{digits}f}".replace(".", ",")


def share_bars(bars: list[tuple[str, float]], *, title: str, description: str = "") -> str:
    """Horizontal bars of shares (0 to 1), labelled in per cent."""
    label_width, bar_width, row_height, top = 300, 360, 28, 30
    uid = _chart_id()
    width = label_width + bar_width + 80
    height = top + row_height * max(len(bars), 1) + 8
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" class="cil-chart" aria-labelledby="{uid}t {uid}d">',
        f'<title id="{uid}t">{escape(title)}</title>'
        f'<desc id="{uid}d">{escape(description or title)}</desc>',
        f'<g {FONT} font-size="12" fill="{TEXT}">',
    ]
    for tick in (0, 0.25, 0.5, 0.75, 1):
        x = label_width + tick * bar_width
        parts.append(
            f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{height - 4}" stroke="#e5e5e5"/>'
        )
        parts.append(
            f'<text x="{x:.1f}" y="{top - 12}" text-anchor="middle" fill="#666">'
            f"{int(tick * 100)} %</text>"
        )
    for index, (label, share) in enumerate(bars):
        y = top + index * row_height
        length = max(0.0, min(share, 1.0)) * bar_width
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 18}" text-anchor="end">{escape(_short(label))}</text>'
        )
        parts.append(
            f'<rect x="{label_width}" y="{y + 5}" width="{length:.1f}" height="18" fill="{BLUE}"/>'
        )
        parts.append(
            f'<text x="{label_width + length + 6:.1f}" y="{y + 18}">'
            f"{_decimal(share * 100, 1)} %</text>"
        )
    parts.append("</g></svg>")
    return "".join(parts)


def index_lines(years: list[int], series: dict[str, list[float | None]], *, title: str) -> str:
    """Indices from 0 to 1 over the years, one line per series; a year without a value
    (undefined index) breaks its line."""
    width, height, left, right, top, bottom = 640, 250, 50, 20, 20, 56
    uid = _chart_id()
    plot_w, plot_h = width - left - right, height - top - bottom

    def x_of(i: int) -> float:
        return left + (plot_w * i / max(len(years) - 1, 1))

    def y_of(value: float) -> float:
        return top + plot_h * (1 - max(0.0, min(value, 1.0)))

    summary = "; ".join(
        f"{name} : "
        + ", ".join(
            f"{year} {'non défini' if v is None else _decimal(v, 3)}"
            for year, v in zip(years, values, strict=True)
        )
        for name, values in series.items()
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" class="cil-chart" aria-labelledby="{uid}t {uid}d">',
        f'<title id="{uid}t">{escape(title)}</title><desc id="{uid}d">{escape(summary)}</desc>',
        f'<g {FONT} font-size="12" fill="{TEXT}">',
    ]
    for tick in (0, 0.25, 0.5, 0.75, 1):
        y = y_of(tick)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#e5e5e5"/>'
        )
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#666">'
            f"{_decimal(tick, 2)}</text>"
        )
    for i, year in enumerate(years):
        parts.append(
            f'<text x="{x_of(i):.1f}" y="{top + plot_h + 18}" text-anchor="middle">{year}</text>'
        )
    legend_x = left
    for n, (label, values) in enumerate(series.items()):
        colour = COLOURS[n % len(COLOURS)]
        run: list[tuple[float, float]] = []
        for i, value in enumerate([*values, None]):
            if value is not None:
                run.append((x_of(i), y_of(value)))
                continue
            if len(run) > 1:
                points = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
                parts.append(
                    f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2.5"/>'
                )
            for x, y in run:
                parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>')
            run = []
        parts.append(
            f'<rect x="{legend_x}" y="{height - 20}" width="12" height="12" fill="{colour}"/>'
        )
        parts.append(
            f'<text x="{legend_x + 16}" y="{height - 10}">{escape(_short(label, 40))}</text>'
        )
        legend_x += 40 + 7 * min(len(label), 40)
    if not any(v is not None for values in series.values() for v in values):
        parts.append(
            f'<text x="{left + plot_w / 2:.1f}" y="{top + plot_h / 2:.1f}" text-anchor="middle" '
            f'fill="{GREY}">indices non définis</text>'
        )
    parts.append("</g></svg>")
    return "".join(parts)
