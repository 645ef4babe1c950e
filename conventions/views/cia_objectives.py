"""The objectives of a CIA version: the secretariat fills the bailleurs' grid (R1, R2, R3,
NPNRU relogements per year, on the territory or one commune or QPV) and the réservataires'
R3 grid of a draft; a bailleur explains its gap to an objective of a year."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import path
from django.views.decorators.http import require_http_methods

from attributions.dashboards import RULES
from cil.models import Commune, Qpv
from cil.views.decorators import requires
from conventions import selectors_cia as selectors
from conventions import services_cia as services
from conventions.forms_cia import (
    ExplanationForm,
    ObjectiveGridForm,
    PerimeterForm,
    ReservataireGridForm,
)
from conventions.views.cia_common import (
    RULE_KEYS,
    abilities_of,
    detail_url,
    draft_of,
    form_page,
    links,
    version_page,
)


def _saved_cells(request, convention, version):
    """The success of a grid: how many cells changed, back to the version's page."""
    return lambda changed: (
        f"Objectifs enregistrés ({changed} modification(s)).",
        detail_url(request, convention, version),
    )


@require_http_methods(["GET", "POST"])
@requires("cia.edit")
def cia_objectives_edit(request, version_id):
    convention, version = draft_of(request, version_id)
    perimeter = PerimeterForm(
        request.GET or None,
        communes=list(Commune.objects.order_by("insee")),
        qpvs=list(Qpv.objects.order_by("code")),
    )
    commune, qpv = perimeter.place()
    form = ObjectiveGridForm(
        request.POST or None,
        bailleurs=selectors.bailleur_signatories(version),
        years=convention.years,
        existing=selectors.bailleur_objectives(version, commune=commune, qpv=qpv),
    )
    return form_page(
        request,
        form,
        save=lambda: services.bailleur_objectives_save(
            conference=request.conference,
            actor=request.user,
            version=version,
            values=form.values(),
            commune=commune,
            qpv=qpv,
        ),
        done=_saved_cells(request, convention, version),
        template="conventions/cia/objectives_form.html",
        context=version_page(
            request,
            version,
            perimeter=perimeter,
            place=commune or qpv,
            years=convention.years,
            title="Objectifs des bailleurs",
        ),
    )


@require_http_methods(["GET", "POST"])
@requires("cia.edit")
def cia_reservataire_objectives_edit(request, version_id):
    convention, version = draft_of(request, version_id)
    form = ReservataireGridForm(
        request.POST or None,
        reservataires=selectors.reservataire_signatories(version),
        years=convention.years,
        existing=selectors.reservataire_objectives(version),
    )
    return form_page(
        request,
        form,
        save=lambda: services.reservataire_objectives_save(
            conference=request.conference,
            actor=request.user,
            version=version,
            values=form.values(),
        ),
        done=_saved_cells(request, convention, version),
        template="conventions/cia/reservataire_objectives_form.html",
        context=version_page(
            request,
            version,
            years=convention.years,
            title="Contribution des réservataires (R3)",
        ),
    )


@require_http_methods(["GET", "POST"])
@requires("cia.explain_gap")
def cia_explanation_edit(request, convention_id, year: int, rule: str):
    convention = selectors.access_convention(convention_id=convention_id)
    if year not in convention.years or rule not in RULE_KEYS:
        raise Http404
    if not abilities_of(request, convention, None).explain_gap:
        raise PermissionDenied
    existing = selectors.explanation_of(
        convention=convention, bailleur=request.user.organisation, year=year, rule=rule
    )
    form = ExplanationForm(
        request.POST or None,
        initial={"category": existing.category, "text": existing.text} if existing else None,
    )
    gaps_url = detail_url(request, convention) + f"?annee={year}#ecarts"
    code, label = RULES[RULE_KEYS[rule]][:2]
    return form_page(
        request,
        form,
        save=lambda: services.gap_explanation_save(
            conference=request.conference,
            actor=request.user,
            convention=convention,
            year=year,
            rule=rule,
            **form.cleaned_data,
        ),
        done=lambda _explanation: (
            "Votre explication est enregistrée ; la conférence la voit à côté de vos chiffres.",
            gaps_url,
        ),
        template="conventions/cia/explanation_form.html",
        context={
            "convention": convention,
            "year": year,
            "rule_code": code,
            "rule_label": label,
            "title": f"Expliquer l'écart {code} {year}",
            "links": links(request, convention),
            "cancel_url": gaps_url,
        },
    )


urlpatterns = [
    path(
        "cia/versions/<uuid:version_id>/objectifs/",
        cia_objectives_edit,
        name="cia_objectives_edit",
    ),
    path(
        "cia/versions/<uuid:version_id>/objectifs-reservataires/",
        cia_reservataire_objectives_edit,
        name="cia_reservataire_objectives_edit",
    ),
    path(
        "cia/<uuid:convention_id>/ecarts/<int:year>/<str:rule>/",
        cia_explanation_edit,
        name="cia_explanation_edit",
    ),
]
