"""The communes of the territory: their list, and one page per commune in plain French for
élus and every member (attributions, targets, trends, demand, offer, QPV)."""

from django.conf import settings
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from attributions.charts import trend_lines
from cil.models import Commune
from cil.views.decorators import requires
from observatoire import commune_figures as cf
from observatoire import commune_text as text
from observatoire import selectors_communes as selectors
from observatoire.maps.svg import MISSING, Area, locator
from observatoire.territory_figures import territory_figures
from observatoire.territory_figures import years as cached_years
from observatoire.views.territory_map import chosen_year


def _cell(figure: cf.Figure | None, formatter, threshold: int) -> dict:
    """A figure as a table cell: its text, and whether it is hidden."""
    if figure is None or figure.state == cf.MISSING:
        return {"text": "—", "secret": False}
    if figure.state == cf.SECRET:
        return {"text": "s", "secret": True}
    return {"text": formatter(figure.value), "secret": False}


@require_GET
@requires("observatoire.view")
def commune_list(request):
    conference, roles = request.conference, request.roles
    years = cached_years(conference)
    year = chosen_year(request, years)
    data = territory_figures(conference, [year], roles=roles, offer=False)
    figures = data.by_year[year]
    threshold = settings.CIL_SECRECY_THRESHOLD
    rows = [
        {
            "commune": commune,
            "url": reverse(
                "observatoire_commune",
                kwargs={"conference_slug": conference.slug, "insee": commune.insee},
            ),
            "attributions": _cell(figures[commune.insee][cf.ATTRIBUTIONS], text.number, threshold),
            "q1_hors_qpv": _cell(
                figures[commune.insee][cf.Q1_SHARE_HORS_QPV], text.percent, threshold
            ),
            "demands": _cell(figures[commune.insee].get(cf.DEMANDS), text.number, threshold),
        }
        for commune in selectors.communes_with_qpv(year)
    ]
    context = {
        "years": years,
        "year": year,
        "rows": rows,
        "has_demands": data.has_demands,
        "aggregate_only": not selectors.sees_detail(roles),
        "threshold": threshold,
    }
    return TemplateResponse(request, "observatoire/communes/commune_list.html", context)


def _demand_date(year: int) -> tuple[str, bool]:
    """When the active demand is counted: 31 December of a past year, today for this one
    (and whether that is the present)."""
    if year < timezone.localdate().year:
        return f"au 31 décembre {year}", False
    return "à ce jour", True


def _locator(conference, commune: Commune, year: int) -> str | None:
    geometries = selectors.boundaries()
    if commune.insee not in geometries:
        return None
    names = dict(Commune.objects.filter(insee__in=geometries).values_list("insee", "name"))
    areas = [
        Area(
            insee=insee,
            name=names[insee],
            geometry=geometry,
            value=None,
            state=MISSING,
            text="",
            href=reverse(
                "observatoire_commune",
                kwargs={"conference_slug": conference.slug, "insee": insee},
            )
            + f"?annee={year}",
        )
        for insee, geometry in sorted(geometries.items())
    ]
    # Escaped by observatoire.maps.svg.
    return mark_safe(  # noqa: S308  # nosec B308 B703
        locator(areas, current=commune.insee, title=f"{commune.name} sur la carte du territoire")
    )


@require_GET
@requires("observatoire.view")
def commune_detail(request, insee: str):
    conference, roles = request.conference, request.roles
    commune = selectors.access_commune(insee=insee)
    years = cached_years(conference)
    year = chosen_year(request, years)
    trend_years = sorted(years)
    data = territory_figures(conference, trend_years, roles=roles)
    by_year = {y: data.by_year[y][commune.insee] for y in trend_years}
    entry = by_year[year]
    threshold = settings.CIL_SECRECY_THRESHOLD
    name = commune.name

    all_outside_qpv = entry[cf.EN_QPV].shown and entry[cf.EN_QPV].value == 0
    attributions = {
        "total": text.attributions_sentence(
            name, year, entry[cf.ATTRIBUTIONS], entry[cf.EN_QPV], threshold=threshold
        ),
        "q1": text.q1_share_sentence(name, year, entry[cf.Q1_SHARE], threshold=threshold),
        # Every attribution outside QPV: the same sentence again would say nothing more.
        "q1_hors_qpv": None
        if all_outside_qpv
        else text.q1_share_sentence(
            name, year, entry[cf.Q1_SHARE_HORS_QPV], threshold=threshold, outside_qpv=True
        ),
    }
    rules = [
        {
            "code": "R1",
            "label": (
                "Attributions hors quartier prioritaire à des ménages du premier quartile de "
                "revenus ou relogés dans le cadre du renouvellement urbain"
            ),
            "figure": entry[cf.R1],
            "sentence": text.target_sentence("R1", entry[cf.R1], threshold=threshold),
        },
        {
            "code": "R2",
            "label": "Attributions en quartier prioritaire à des ménages hors premier quartile",
            "figure": entry[cf.R2],
            "sentence": text.target_sentence("R2", entry[cf.R2], threshold=threshold),
        },
    ]
    for rule in rules:
        rule["reached"] = text.reached(rule["figure"])

    def rate(y: int, key: str) -> float | None:
        figure = by_year[y][key]
        return figure.value if figure.shown else None

    trend_chart = mark_safe(  # noqa: S308  # nosec B308 B703 - attributions.charts escapes what it draws
        trend_lines(
            trend_years,
            {
                "Part Q1 hors QPV": [rate(y, cf.Q1_SHARE_HORS_QPV) for y in trend_years],
                "Taux R1": [rate(y, cf.R1) for y in trend_years],
            },
            target=entry[cf.R1].target,
            title=f"{name} : part des ménages du premier quartile hors QPV et taux R1",
        )
    )
    trend_rows = [
        {
            "year": y,
            "attributions": _cell(by_year[y][cf.ATTRIBUTIONS], text.number, threshold),
            "q1": _cell(by_year[y][cf.Q1_SHARE], text.percent, threshold),
            "q1_hors_qpv": _cell(by_year[y][cf.Q1_SHARE_HORS_QPV], text.percent, threshold),
            "r1": _cell(by_year[y][cf.R1], text.percent, threshold),
            "r2": _cell(by_year[y][cf.R2], text.percent, threshold),
        }
        for y in reversed(trend_years)
    ]

    demand = None
    if data.has_demands:
        demand = {
            "count": text.demand_sentence(
                name,
                *_demand_date(year),
                entry[cf.DEMANDS],
                entry[cf.MUTATION_DEMANDS],
                threshold=threshold,
            ),
            "pressure": text.pressure_sentence(name, year, entry[cf.PRESSURE], threshold=threshold),
        }
    offer = None
    millesime = data.millesime(year)
    if millesime is not None:
        offer = text.offer_sentence(name, millesime, entry[cf.DWELLINGS], entry[cf.DWELLINGS_QPV])

    context = {
        "commune": commune,
        "years": years,
        "year": year,
        "attributions": attributions,
        "rules": rules,
        "trend_chart": trend_chart,
        "trend_rows": trend_rows,
        "demand": demand,
        "offer": offer,
        "qpvs": selectors.qpvs_of(commune, year),
        "locator": _locator(conference, commune, year),
        "aggregate_only": not selectors.sees_detail(roles),
        "threshold": threshold,
        "bilan_pending": year in data.bilan_pending,
        "breadcrumb_links": [
            (
                reverse("observatoire_communes", kwargs={"conference_slug": conference.slug}),
                "Communes",
            )
        ],
    }
    return TemplateResponse(request, "observatoire/communes/commune_detail.html", context)
