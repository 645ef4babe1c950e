"""Attribution lines: a bailleur enters, edits and deletes its own; the secretariat and the
prefecture read all of them. Every page or export showing lines writes one entry in the
journal of reads (cil.access_journal, domain.md §6)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from attributions import contract, selectors, services
from attributions.api.serializers import attribution_document
from attributions.exports import csv_response, xlsx_response
from attributions.forms import AttributionFilterForm, AttributionForm
from cil.access_journal import describe_filters, journal_household_access
from cil.concurrency import EditConflict, instance_fingerprint
from cil.models import AccessChannel
from cil.permissions import has_permission
from cil.views.decorators import requires
from cil.views.forms import apply_service_errors

OBJECT_TYPE = "attributions.attribution"
# The columns of `attributions` v1 (shared/formats.md), then the values the platform derives.
EXPORT_HEADER = [
    *(column.name for column in contract.COLUMNS),
    "annee",
    "en_qpv",
    "uc",
    "revenu_par_uc_calcule",
    "premier_quartile",
]
FILTER_LABELS = {
    "annee": "Année",
    "bailleur": "Bailleur (SIREN)",
    "commune": "Commune (INSEE)",
    "q": "Référence contenant",
}


def _filtered(request):
    """The filter form and the lines it selects among those the person may see."""
    all_rows = has_permission(request.roles, "attributions.view_all")
    form = AttributionFilterForm(
        request.GET or None,
        years=selectors.attribution_years(),
        bailleurs=selectors.bailleur_members() if all_rows else [],
        communes=selectors.communes(),
    )
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    rows = selectors.filter_attributions(
        selectors.visible_attributions(user=request.user, roles=request.roles),
        year=filters.get("annee"),
        bailleur=filters.get("bailleur"),
        commune=filters.get("commune"),
        search=filters.get("q"),
    )
    scope = "toutes les attributions" if all_rows else "attributions de l'organisation"
    description = f"{scope.capitalize()} ; {describe_filters(filters, FILTER_LABELS)}"
    return form, rows, all_rows, description


@require_GET
@requires("attributions.view")
def attribution_list(request):
    form, rows, all_rows, description = _filtered(request)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    journal_household_access(
        conference=request.conference,
        request=request,
        channel=AccessChannel.PAGE,
        object_type=OBJECT_TYPE,
        object_ids=[a.public_id for a in page.object_list],
        row_count=len(page.object_list),
        description=f"Liste, page {page.number} ; {description}",
    )
    query = request.GET.copy()
    query.pop("page", None)
    return TemplateResponse(
        request,
        "attributions/attribution_list.html",
        {"form": form, "page": page, "query": query.urlencode(), "all_rows": all_rows},
    )


@require_GET
@requires("attributions.view")
def attribution_export(request, fmt: str):
    """The selected lines in the columns of the `attributions` v1 format (re-importable),
    followed by the derived values."""
    if fmt not in ("csv", "xlsx"):
        raise Http404
    _form, rows, _all_rows, description = _filtered(request)
    lines = list(rows)
    journal_household_access(
        conference=request.conference,
        request=request,
        channel=AccessChannel.EXPORT,
        object_type=OBJECT_TYPE,
        object_ids=[a.public_id for a in lines],
        row_count=len(lines),
        description=f"Export {fmt.upper()} ; {description}",
    )
    name = f"attributions-{request.conference.slug}-{timezone.localdate():%Y-%m-%d}"
    documents = (attribution_document(a) for a in lines)
    return (csv_response if fmt == "csv" else xlsx_response)(
        name, EXPORT_HEADER, ([d[column] for column in EXPORT_HEADER] for d in documents)
    )


def _journal_line(request, attribution, what: str) -> None:
    journal_household_access(
        conference=request.conference,
        request=request,
        channel=AccessChannel.PAGE,
        object_type=OBJECT_TYPE,
        object_ids=[attribution.public_id],
        row_count=1,
        description=f"{what} {attribution.reference}",
    )


def _form(request, attribution=None):
    return AttributionForm(
        request.POST or None,
        initial={
            **AttributionForm.initial_from(attribution),
            "fingerprint": instance_fingerprint(attribution, services.AUDITED_FIELDS),
        }
        if attribution
        else {"nb_enfants_moins_14": 0},
        conference=request.conference,
        bailleur=request.user.organisation,
        communes=selectors.communes(),
        qpvs=selectors.qpvs(),
    )


@require_http_methods(["GET", "POST"])
@requires("attributions.manage_own")
def attribution_create(request):
    form = _form(request)
    if request.method == "POST" and form.is_valid():
        try:
            attribution = services.attribution_save(
                conference=request.conference,
                actor=request.user,
                raw=form.raw,
                acting_bailleur_id=request.user.organisation_id,
            )
        except services.RowInvalid as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, f"L'attribution {attribution.reference} est enregistrée.")
            return redirect("attribution_list", conference_slug=request.conference.slug)
    return TemplateResponse(
        request, "attributions/attribution_form.html", {"form": form, "attribution": None}
    )


@require_GET
@requires("attributions.view")
def attribution_detail(request, attribution_id):
    attribution = selectors.access_attribution(
        attribution_id=attribution_id, user=request.user, roles=request.roles
    )
    can_change = (
        has_permission(request.roles, "attributions.manage_own")
        and attribution.bailleur_id == request.user.organisation_id
    )
    _journal_line(request, attribution, "Fiche de l'attribution")
    return TemplateResponse(
        request,
        "attributions/attribution_detail.html",
        {"attribution": attribution, "can_change": can_change},
    )


@require_http_methods(["GET", "POST"])
@requires("attributions.manage_own")
def attribution_edit(request, attribution_id):
    attribution = selectors.access_attribution(
        attribution_id=attribution_id, user=request.user, roles=request.roles, for_change=True
    )
    form = _form(request, attribution)
    if request.method == "GET":
        _journal_line(request, attribution, "Formulaire de modification (valeurs affichées)")
    if request.method == "POST" and form.is_valid():
        try:
            services.attribution_save(
                conference=request.conference,
                actor=request.user,
                raw=form.raw,
                attribution=attribution,
                acting_bailleur_id=request.user.organisation_id,
                fingerprint=form.submitted_fingerprint,
            )
        except (services.RowInvalid, EditConflict) as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, f"L'attribution {attribution.reference} est modifiée.")
            return redirect(
                "attribution_detail",
                conference_slug=request.conference.slug,
                attribution_id=attribution.public_id,
            )
    return TemplateResponse(
        request, "attributions/attribution_form.html", {"form": form, "attribution": attribution}
    )


@require_POST
@requires("attributions.manage_own")
def attribution_delete(request, attribution_id):
    attribution = selectors.access_attribution(
        attribution_id=attribution_id, user=request.user, roles=request.roles, for_change=True
    )
    reference = attribution.reference
    services.attribution_delete(
        conference=request.conference, actor=request.user, attribution=attribution
    )
    messages.success(request, f"L'attribution {reference} est supprimée.")
    return redirect("attribution_list", conference_slug=request.conference.slug)


urlpatterns = [
    path("attributions/", attribution_list, name="attribution_list"),
    path("attributions/nouvelle/", attribution_create, name="attribution_create"),
    path("attributions/export.<str:fmt>", attribution_export, name="attribution_export"),
    path("attributions/<uuid:attribution_id>/", attribution_detail, name="attribution_detail"),
    path("attributions/<uuid:attribution_id>/modifier/", attribution_edit, name="attribution_edit"),
    path(
        "attributions/<uuid:attribution_id>/supprimer/",
        attribution_delete,
        name="attribution_delete",
    ),
]
