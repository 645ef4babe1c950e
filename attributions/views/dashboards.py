"""The bilan page: one page per year whose content follows the reader's role, and its
exports."""

from django.conf import settings
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from attributions import bilan_cache, dashboards, selectors
from attributions.exports import csv_response, xlsx_response
from cil.permissions import has_permission
from cil.views.decorators import requires


def _years(request) -> tuple[list[int], int]:
    years = selectors.attribution_years() or [timezone.localdate().year]
    try:
        year = int(request.GET.get("annee", years[0]))
    except ValueError:
        year = years[0]
    if year not in years:
        raise Http404("Pas de bilan pour cette année.")
    return years, year


def _history(conference, years: list[int]) -> list[dict]:
    documents = [bilan_cache.get_bilan(conference, y) for y in sorted(years)]
    return [d for d in documents if d is not None]


def _safe(context: dict) -> dict:
    """Charts are SVG built by attributions.charts, which escapes every text it draws."""
    for key in ("chart", "trend", "r1_chart", "r2_chart", "trend_r1", "trend_r2"):
        if key in context:
            context[key] = mark_safe(context[key])  # noqa: S308 - escaped by attributions.charts  # nosec B308 B703
    return context


@require_GET
@requires("bilan.view_aggregates")
def bilan_page(request):
    conference, roles = request.conference, request.roles
    years, year = _years(request)
    document = bilan_cache.get_bilan(conference, year)
    context = {"years": years, "year": year, "document": document}
    if document is None:
        return TemplateResponse(request, "attributions/bilan.html", {**context, "pending": True})
    history = _history(conference, years)
    names = dict(selectors.communes())
    if has_permission(roles, "bilan.view_detail"):
        sort = request.GET.get("tri", "nom")
        descending = request.GET.get("ordre") == "desc"
        context["detail"] = _safe(
            dashboards.detail_view(document, history, sort=sort, descending=descending)
        )
        context.update(
            sort=sort, descending=descending, commune_names=names, sort_columns=SORT_COLUMNS
        )
    elif has_permission(roles, "bilan.view_own"):
        own = dashboards.bailleur_view(document, request.user.organisation.siren, history)
        context["own"] = _safe(own) if own else None
        context["conference_trend"] = _safe(dashboards.conference_trend(history))
    else:
        context["aggregate"] = dashboards.aggregate_view(
            document, names, threshold=settings.CIL_SECRECY_THRESHOLD
        )
    return TemplateResponse(request, "attributions/bilan.html", context)


SORT_COLUMNS = [
    ("nom", "Bailleur"),
    ("attributions", "Attributions"),
    ("r1", "R1 hors QPV → Q1"),
    ("r2", "R2 en QPV → hors Q1"),
    ("r3", "R3 non réservé → prioritaires"),
]
EXPORTS = {"bailleurs", "reservataires", "communes"}


@require_GET
@requires("bilan.view_aggregates")
def bilan_export(request, table: str, fmt: str):
    if table not in EXPORTS or fmt not in ("csv", "xlsx"):
        raise Http404
    conference, roles = request.conference, request.roles
    _years_list, year = _years(request)
    detail = has_permission(roles, "bilan.view_detail")
    if not detail and table != "communes":
        raise Http404  # only the communes table exists, under secrecy, for aggregate roles
    document = bilan_cache.get_bilan(conference, year)
    if document is None:
        raise Http404("Le bilan de cette année est en cours de calcul.")
    names = dict(selectors.communes())
    aggregate = (
        None
        if detail
        else dashboards.aggregate_view(document, names, threshold=settings.CIL_SECRECY_THRESHOLD)
    )
    header, rows = dashboards.export_table(
        table, document, commune_names=names, aggregate=aggregate
    )
    name = f"bilan-{conference.slug}-{year}-{table}"
    return (csv_response if fmt == "csv" else xlsx_response)(name, header, rows)


urlpatterns = [
    path("bilan/", bilan_page, name="bilan"),
    path("bilan/export/<str:table>.<str:fmt>", bilan_export, name="bilan_export"),
]
