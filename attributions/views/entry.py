"""Attribution lines: a bailleur enters, edits and deletes its own; the secretariat and the
prefecture read all of them."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from attributions import selectors, services
from attributions.forms import AttributionFilterForm, AttributionForm
from cil.permissions import has_permission
from cil.views.decorators import requires
from cil.views.forms import apply_service_errors


@require_GET
@requires("attributions.view")
def attribution_list(request):
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
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return TemplateResponse(
        request,
        "attributions/attribution_list.html",
        {"form": form, "page": page, "query": query.urlencode(), "all_rows": all_rows},
    )


def _form(request, attribution=None):
    return AttributionForm(
        request.POST or None,
        initial=AttributionForm.initial_from(attribution)
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
    if request.method == "POST" and form.is_valid():
        try:
            services.attribution_save(
                conference=request.conference,
                actor=request.user,
                raw=form.raw,
                attribution=attribution,
                acting_bailleur_id=request.user.organisation_id,
            )
        except services.RowInvalid as error:
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
    path("attributions/<uuid:attribution_id>/", attribution_detail, name="attribution_detail"),
    path("attributions/<uuid:attribution_id>/modifier/", attribution_edit, name="attribution_edit"),
    path(
        "attributions/<uuid:attribution_id>/supprimer/",
        attribution_delete,
        name="attribution_delete",
    ),
]
