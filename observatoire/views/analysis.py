"""The observatory's analysis page (demand, offer, territorial balance) and its exports, for
every member; aggregate-only roles get statistical secrecy (observatoire/analysis.py)."""

from dataclasses import dataclass

from django.conf import settings
from django.http import Http404
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from attributions.exports import csv_response, xlsx_response
from cil.permissions import has_permission
from cil.views.decorators import requires
from observatoire import analysis, frames, selectors
from observatoire import cache as observatoire_cache


@dataclass
class PageData:
    year: int
    years: list[int]
    demand: dict
    offer: dict
    balance: dict
    secrecy: analysis.Secrecy


def _year(request, years: list[int], default: int | None) -> int:
    """The year asked (`?annee=`), or the default; a year without data is a 404."""
    if not years:
        return timezone.localdate().year - 1
    raw = request.GET.get("annee")
    if raw is None:
        return default if default is not None else years[0]
    try:
        year = int(raw)
    except ValueError:
        raise Http404("Année inconnue.") from None
    if year not in years:
        raise Http404("Pas de données pour cette année.")
    return year


def _page_data(request) -> PageData:
    """Every figure of the page, cached per data generation (observatoire/cache.py); the
    key holds the year asked and whether secrecy applies, all the figures depend on."""
    detail = selectors.sees_detail(request.roles)
    parts = (request.GET.get("annee"), detail, settings.CIL_SECRECY_THRESHOLD)
    return observatoire_cache.cached(
        request.conference, "analysis", parts, lambda: _compute_page_data(request)
    )


def _compute_page_data(request) -> PageData:
    """Every figure of the page: three frames (one query each) and a few small reads, then
    pandas. The number of queries does not depend on the number of rows."""
    conference = request.conference
    demands = frames.demand_frame(conference)
    attributions = frames.attribution_frame(conference)
    dwellings = frames.dwelling_frame(conference)
    years = analysis.years_of(demands, attributions)
    year = _year(request, years, analysis.default_year(attributions, years))
    secrecy = analysis.Secrecy(
        applies=not selectors.sees_detail(request.roles),
        threshold=settings.CIL_SECRECY_THRESHOLD,
    )
    names = analysis.Names(communes=selectors.commune_names(), qpvs=selectors.qpv_names())
    return PageData(
        year=year,
        years=years,
        secrecy=secrecy,
        demand=analysis.demand_section(
            demands,
            attributions,
            year,
            register=selectors.register_threshold(year),
            delai=selectors.delai_mois(),
            names=names,
            secrecy=secrecy,
        ),
        offer=analysis.offer_section(dwellings, year, names=names),
        balance=analysis.balance_section(attributions, year, names=names, secrecy=secrecy),
    )


def _safe(chart: str | None):
    """Charts are SVG built by attributions.charts, which escapes every text it draws."""
    return mark_safe(chart) if chart else None  # noqa: S308  # nosec B308 B703 - escaped by attributions.charts


@require_GET
@requires("observatoire.view")
def observatoire_home(request):
    data = _page_data(request)
    for section, key in (
        (data.demand, "typology_chart"),
        (data.offer, "financing_chart"),
        (data.balance, "chart"),
        (data.balance, "segregation_chart"),
    ):
        if key in section:
            section[key] = _safe(section[key])
    return TemplateResponse(
        request,
        "observatoire/analysis/home.html",
        {
            "year": data.year,
            "years": data.years,
            "demand": data.demand,
            "offer": data.offer,
            "balance": data.balance,
            "secrecy": data.secrecy,
            "can_set": has_permission(request.roles, "observatoire.settings"),
        },
    )


@require_GET
@requires("observatoire.view")
def observatoire_export(request, table: str, fmt: str):
    """One table of the page as CSV (`;`, UTF-8 with BOM) or XLSX, with the same secrecy."""
    if fmt not in ("csv", "xlsx"):
        raise Http404
    data = _page_data(request)
    found = analysis.tables_of(data.demand, data.offer, data.balance)
    if table not in found:
        raise Http404
    chosen = found[table]
    name = f"observatoire-{request.conference.slug}-{data.year}-{table}"
    response = csv_response if fmt == "csv" else xlsx_response
    return response(name, chosen.header, chosen.export_rows())
