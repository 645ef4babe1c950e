"""The territory map (every member) and the upload of its boundaries (the secretariat)."""

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods
from dsfr.forms import DsfrBaseForm

from cil import uploads
from cil.permissions import has_permission
from cil.views.decorators import requires
from observatoire import selectors_communes as selectors
from observatoire import services_map
from observatoire.commune_figures import MISSING, SECRET
from observatoire.commune_text import secrecy_note
from observatoire.maps import geojson
from observatoire.maps.catalogue import (
    CLASS_METHODS,
    DEFAULT_INDICATOR,
    DEFAULT_METHOD,
    INDICATORS,
)
from observatoire.maps.svg import Area, choropleth
from observatoire.territory_figures import territory_figures
from observatoire.territory_figures import years as cached_years


def chosen_year(request, years: list[int]) -> int:
    """The `annee` GET parameter among `years` (the most recent by default); 404 for a year
    without data, as the bilan does."""
    try:
        year = int(request.GET.get("annee", years[0]))
    except ValueError:
        return years[0]
    if year not in years:
        raise Http404("Pas de données pour cette année.")
    return year


def _available(data) -> list:
    """The indicators whose data exist in this conference."""
    return [
        indicator
        for indicator in INDICATORS.values()
        if indicator.needs == "attributions"
        or (indicator.needs == "demandes" and data.has_demands)
        or (indicator.needs == "logements" and data.millesimes)
    ]


def _shown_text(figure, indicator, threshold) -> str:
    if figure.state == SECRET:
        return secrecy_note(figure, threshold=threshold or 0, unit="ménages")
    if figure.state == MISSING:
        return "pas de donnée"
    return indicator.format(figure.value)


def _rows(conference, communes: dict[str, str], figures, indicator, year: int, threshold):
    """One row per commune (by name): its figure for the indicator, as text, and its page."""
    rows = []
    for insee, entry in sorted(figures.items(), key=lambda item: communes[item[0]]):
        figure = entry[indicator.figure]
        rows.append(
            {
                "insee": insee,
                "name": communes[insee],
                # The commune's page for the same year.
                "url": reverse(
                    "observatoire_commune",
                    kwargs={"conference_slug": conference.slug, "insee": insee},
                )
                + f"?annee={year}",
                "figure": figure,
                "text": _shown_text(figure, indicator, threshold),
            }
        )
    return rows


def _map(rows: list[dict], geometries: dict[str, dict], indicator, method: str, year: int):
    """The choropleth of the communes that have a boundary."""
    drawn = [r for r in rows if r["insee"] in geometries]
    classes = indicator.classes([r["figure"].value for r in drawn if r["figure"].shown], method)
    areas = [
        Area(
            insee=r["insee"],
            name=r["name"],
            geometry=geometries[r["insee"]],
            value=r["figure"].value,
            state=r["figure"].state,
            text=r["text"],
            href=r["url"],
        )
        for r in drawn
    ]
    # Escaped by observatoire.maps.svg, which writes every text through xml escaping.
    return mark_safe(  # noqa: S308  # nosec B308 B703
        choropleth(
            areas,
            classes=classes,
            formatter=indicator.format,
            title=f"{indicator.label} — {year}",
            description=(
                f"Carte des communes de la conférence colorées selon : {indicator.label}, "
                f"en {year}. Les mêmes valeurs figurent dans le tableau sous la carte."
            ),
            legend_title=f"{indicator.label} ({year})",
        )
    )


@require_GET
@requires("observatoire.view")
def territory_map_page(request):
    conference, roles = request.conference, request.roles
    years = cached_years(conference)
    year = chosen_year(request, years)
    # Which data exist (cheap, cached with the figures without demands nor offer).
    data = territory_figures(conference, [year], roles=roles, demand=False, offer=False)
    available = _available(data)
    key = request.GET.get("indicateur", DEFAULT_INDICATOR)
    indicator = INDICATORS.get(key) if key in {i.key for i in available} else None
    indicator = indicator or INDICATORS[DEFAULT_INDICATOR]
    method = request.GET.get("classes", DEFAULT_METHOD)
    if method not in CLASS_METHODS:
        method = DEFAULT_METHOD
    threshold = selectors.secrecy_threshold(roles)
    demand, offer = indicator.needs == "demandes", indicator.needs == "logements"
    if demand or offer:
        data = territory_figures(conference, [year], roles=roles, demand=demand, offer=offer)
    figures = data.by_year[year]

    rows = _rows(conference, data.communes, figures, indicator, year, threshold)
    geometries = selectors.boundaries()
    map_svg = _map(rows, geometries, indicator, method, year) if geometries else None
    context = {
        "years": years,
        "year": year,
        "indicators": available,
        "indicator": indicator,
        "methods": CLASS_METHODS,
        "method": method,
        "rows": rows,
        "map_svg": map_svg,
        "undrawn": [r for r in rows if r["insee"] not in geometries] if geometries else [],
        "threshold": threshold,
        "aggregate_only": threshold is not None,
        "territory_map": selectors.territory_map(),
        "can_manage": has_permission(roles, "observatoire.map_manage"),
    }
    return TemplateResponse(request, "observatoire/map/territory_map.html", context)


class BoundariesUploadForm(DsfrBaseForm):
    file = forms.FileField(
        label="Fichier des contours des communes (GeoJSON)",
        help_text="Extension .geojson ou .json, en WGS84 (longitude, latitude).",
        widget=forms.ClearableFileInput(
            attrs={"accept": ".geojson,.json,application/geo+json,application/json"}
        ),
    )


@require_http_methods(["GET", "POST"])
@requires("observatoire.map_manage")
def boundaries_upload(request):
    conference = request.conference
    form = BoundariesUploadForm(request.POST or None, request.FILES or None)
    issues: list[geojson.Issue] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        limit = services_map.max_bytes()
        try:
            if upload.size > limit:  # refused before reading it in memory
                raise geojson.BoundariesError([geojson.too_big(upload.size, limit)])
            try:  # its extension and first bytes (cil/uploads.py), before parsing
                uploads.check_json_upload(upload, extensions=("geojson", "json"))
            except uploads.UploadRefused as refused:
                raise geojson.BoundariesError(
                    [geojson.Issue("$", problem) for problem in refused.problems]
                ) from None
            report = services_map.territory_map_upload(
                conference=conference,
                actor=request.user,
                filename=upload.name,
                content=upload.read(),
            )
        except geojson.BoundariesError as error:
            issues = error.issues
        else:
            messages.success(request, f"Carte du territoire chargée : {report.summary()}.")
            if report.missing:
                names = ", ".join(f"{name} ({insee})" for insee, name in report.missing)
                messages.warning(
                    request,
                    f"Communes de la conférence absentes du fichier, non dessinées : {names}.",
                )
            return redirect("observatoire_map", conference_slug=conference.slug)
    context = {
        "form": form,
        "issues": issues,
        "territory_map": selectors.territory_map(),
        "counts": selectors.boundary_counts(),
        "insee_properties": geojson.INSEE_PROPERTIES,
        "max_megabytes": services_map.max_bytes() // (1024 * 1024),
        "breadcrumb_links": [
            (
                reverse("observatoire_map", kwargs={"conference_slug": conference.slug}),
                "Carte du territoire",
            )
        ],
    }
    return TemplateResponse(request, "observatoire/map/upload.html", context)
