"""The bilan annuel PDF (detailed version, for the secretariat and the prefecture): the
conference's `bilan` v1 figures for a year — totals, R1/R2 of the conference, every bailleur
against its objectives with the gaps, every réservataire (R3), every commune — and the SVG
charts of the bilan page (attributions/dashboards.py, attributions/charts.py).

No statistical secrecy here: the figures are the detailed ones, so the document is visible
to the roles holding "bilan.view_detail" only.
"""

from django.utils.safestring import mark_safe

from attributions import bilan_cache, dashboards, selectors
from conventions.models import DocumentKind, GeneratedDocument
from conventions.pdf.registry import register

# Years of history drawn in the trend charts (the year itself included).
TREND_YEARS = 5


def _points(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:+.1f} pt".replace(".", ",").replace("-", "−")


def bilan_of(conference, year: int) -> dict:
    """The stored bilan, or computed now (we are in the worker: no waiting on another task)."""
    return bilan_cache.stored(conference, year) or bilan_cache.refresh(conference, year)


def bilan_title(conference, year: int) -> str:
    return f"Bilan annuel {year} des attributions — {conference.name}"


@register(
    DocumentKind.BILAN_ANNUEL,
    view_permission="bilan.view_detail",
    seal_reason="Cachet électronique de la plateforme : bilan annuel des attributions",
)
def build_bilan_annuel(document: GeneratedDocument) -> tuple[str, dict]:
    conference, year = document.conference, document.year
    bilan = bilan_of(conference, year)
    years = sorted(y for y in selectors.attribution_years() if y <= year)[-TREND_YEARS:]
    history = [bilan if y == year else bilan_of(conference, y) for y in years] or [bilan]
    detail = dashboards.detail_view(bilan, history)
    for key in ("r1_chart", "r2_chart", "trend_r1", "trend_r2"):
        # Drawn by attributions.charts, which escapes every text it writes.
        detail[key] = mark_safe(detail[key])  # noqa: S308 - SVG escaped by attributions.charts  # nosec B308 B703
    for row in detail["bailleurs"]:
        row["cells"] = [{"i": i, "gap": _points(i.points)} for i in row["indicators"]]
    names = dict(selectors.communes())
    communes = [
        {**commune, "nom": names.get(commune["insee"], commune["insee"])}
        for commune in bilan["par_commune"]
    ]
    return "conventions/pdf/bilan_annuel.html", {
        "year": year,
        "bilan": bilan,
        "detail": detail,
        "communes": communes,
        "history_years": years,
    }
