"""The CIA (convention intercommunale d'attribution, CCH L.441-1-6): the list, the creation
of a convention, and its page (versions, objectives, signatories, history, and the year's
gaps with the bailleurs' explanations).

The other flows have their module: `cia_versions` (text, avenants, status machine),
`cia_objectives` (objectives, explanations of gaps), `cia_signature` (signatories,
designation, signature). Every view reads `selectors_cia.abilities()`: a member whose roles
lack the view's permission gets 403 (the decorator), an action the abilities refuse gets 403
too, another conference's object 404 (the lookups run inside the conference scope)."""

from django.conf import settings
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods

from attributions import bilan_cache
from attributions import selectors as attribution_selectors
from attributions.dashboards import RULES
from attributions.indicators.bilan import gap
from attributions.indicators.secrecy import mask_indicator
from cil.permissions import has_permission
from cil.views.decorators import requires
from conventions import selectors_cia as selectors
from conventions import services_cia as services
from conventions import signing
from conventions.forms_cia import ConventionCreateForm
from conventions.views.cia_common import RULE_KEYS, abilities_of, detail_url, form_page, links


@require_GET
@requires("cia.view")
def cia_list(request):
    conventions = list(selectors.conventions().prefetch_related("versions"))
    rows = [
        {"convention": c, "current": max(c.versions.all(), key=lambda v: v.number, default=None)}
        for c in conventions
    ]
    return TemplateResponse(
        request,
        "conventions/cia/list.html",
        {"rows": rows, "abilities": abilities_of(request, None, None)},
    )


@require_http_methods(["GET", "POST"])
@requires("cia.edit")
def cia_create(request):
    form = ConventionCreateForm(request.POST or None)
    return form_page(
        request,
        form,
        save=lambda: services.convention_create(
            conference=request.conference, actor=request.user, **form.cleaned_data
        ),
        done=lambda convention: (
            "La convention est créée ; ses signataires ont été pré-remplis à partir des membres.",
            detail_url(request, convention),
        ),
        template="conventions/cia/form.html",
        context={
            "title": "Nouvelle convention intercommunale d'attribution",
            "intro": "La convention fixe, pour chaque bailleur, des objectifs annuels d'attribution (article L.441-1-6 du CCH). Ses signataires sont pré-remplis à partir des membres : l'EPCI, l'État, chaque bailleur et chaque réservataire.",
            "links": links(request),
            "cancel_url": reverse("cia_list", kwargs={"conference_slug": request.conference.slug}),
        },
    )


def _year_param(request, years: list[int]) -> int | None:
    try:
        year = int(request.GET.get("annee", ""))
    except ValueError:
        return years[-1] if years else None
    if year not in years:
        raise Http404("Année hors de la convention.")
    return year


def _gaps(request, convention, year: int | None, explanations_by_key) -> dict | None:
    """The year's gaps per bailleur and rule, with the bailleurs' explanations. Roles that
    see aggregates only get the figures under statistical secrecy (a bailleur sees its own
    figures in full)."""
    if year is None:
        return None
    document = bilan_cache.get_bilan(request.conference, year)
    if document is None:
        return {"year": year, "pending": True, "rows": []}
    detail = has_permission(request.roles, "bilan.view_detail")
    own = request.user.organisation.siren if request.user.organisation else None
    rows = []
    for entry in document["par_bailleur"]:
        full = detail or (has_permission(request.roles, "bilan.view_own") and entry["siren"] == own)
        rules = []
        for rule, key in RULE_KEYS.items():
            item = entry[key]
            measured = gap(item)
            shown = item if full else mask_indicator(item, threshold=settings.CIL_SECRECY_THRESHOLD)
            secret = bool(shown.get("secret"))
            rules.append(
                {
                    "rule": rule,
                    "code": RULES[key][0],
                    "label": RULES[key][1],
                    "taux": shown["taux"],
                    "numerateur": shown["numerateur"],
                    "denominateur": shown["denominateur"],
                    "cible": item["cible"],
                    "points": None if secret else measured["points"],
                    "manquantes": None if secret else measured["manquantes"],
                    "secret": secret,
                    "explanation": explanations_by_key.get((entry["siren"], rule)),
                    "may_explain": entry["siren"] == own,
                }
            )
        rows.append({"siren": entry["siren"], "nom": entry["nom"], "rules": rules})
    return {"year": year, "pending": False, "rows": rows}


@require_GET
@requires("cia.view")
def cia_detail(request, convention_id):
    convention = selectors.access_convention(convention_id=convention_id)
    versions = selectors.versions_of(convention)
    version = versions[-1] if versions else None
    if "version" in request.GET:
        version = next((v for v in versions if str(v.public_id) == request.GET["version"]), None)
        if version is None:
            raise Http404("Version introuvable.")
    signatories = selectors.signatories_of(version) if version else []
    in_force = selectors.in_force_by_year(convention)
    reported = set(attribution_selectors.attribution_years())
    gap_years = [y for y in convention.years if y in reported]
    year = _year_param(request, gap_years)
    explanations = selectors.explanations_of(convention, year) if year else {}
    tables = signing.objectives_tables(version) if version else None
    return TemplateResponse(
        request,
        "conventions/cia/detail.html",
        {
            "convention": convention,
            "versions": [
                {
                    "version": v,
                    "years": [y for y, w in in_force.items() if w is not None and w.pk == v.pk],
                }
                for v in versions
            ],
            "version": version,
            "signatories": signatories,
            "abilities": abilities_of(request, convention, version, signatories),
            "history": selectors.history_of(version) if version else [],
            "tables": tables,
            "territorial_count": len(tables["territorial"]) if tables else 0,
            "in_force": in_force,
            "gap_years": gap_years,
            "gaps": _gaps(request, convention, year, explanations),
            "sha256_grouped": signing.grouped(version.canonical_sha256) if version else "",
            "secrecy_threshold": settings.CIL_SECRECY_THRESHOLD,
        },
    )


urlpatterns = [
    path("cia/", cia_list, name="cia_list"),
    path("cia/nouvelle/", cia_create, name="cia_create"),
    path("cia/<uuid:convention_id>/", cia_detail, name="cia_detail"),
]
