from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cil import selectors, services
from cil.concurrency import instance_fingerprint
from cil.forms import MembershipAddForm, MembershipEditForm, RepresentativeForm
from cil.views.decorators import requires
from cil.views.forms import apply_service_errors


@require_GET
@requires("members.view")
def member_list(request):
    return TemplateResponse(
        request, "cil/member_list.html", {"colleges": selectors.memberships_by_college()}
    )


@require_http_methods(["GET", "POST"])
@requires("members.manage")
def member_add(request):
    form = MembershipAddForm(request.POST or None, initial={"voting_right": True})
    if request.method == "POST" and form.is_valid():
        try:
            membership = services.membership_add(
                conference=request.conference, actor=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request, f"{membership.organisation.name} est membre de la conférence."
            )
            return redirect("member_list", conference_slug=request.conference.slug)
    return TemplateResponse(
        request, "cil/member_form.html", {"form": form, "title": "Ajouter un membre"}
    )


@require_http_methods(["GET", "POST"])
@requires("members.manage")
def member_edit(request, membership_id):
    membership = selectors.access_membership(membership_id=membership_id)
    form = MembershipEditForm(
        request.POST or None,
        initial={
            "college": membership.college,
            "voting_right": membership.voting_right,
            "fingerprint": instance_fingerprint(membership, services.MEMBERSHIP_FIELDS),
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.membership_update(
                conference=request.conference,
                actor=request.user,
                membership=membership,
                fingerprint=form.submitted_fingerprint,
                **form.cleaned_data,
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, "Le membre a été mis à jour.")
            return redirect("member_list", conference_slug=request.conference.slug)
    return TemplateResponse(
        request,
        "cil/member_form.html",
        {
            "form": form,
            "membership": membership,
            "title": f"Modifier {membership.organisation.name}",
        },
    )


@require_POST
@requires("members.manage")
def member_remove(request, membership_id):
    membership = selectors.access_membership(membership_id=membership_id)
    name = membership.organisation.name
    services.membership_remove(
        conference=request.conference, actor=request.user, membership=membership
    )
    messages.success(
        request, f"{name} n'est plus membre de la conférence ; ses comptes ont été désactivés."
    )
    return redirect("member_list", conference_slug=request.conference.slug)


@require_http_methods(["GET", "POST"])
@requires("members.manage")
def representative_add(request, membership_id):
    membership = selectors.access_membership(membership_id=membership_id)
    return _representative_form(request, membership=membership, representative=None)


@require_GET
@requires("members.view")
def representative_list(request):
    return TemplateResponse(
        request, "cil/representative_list.html", {"representatives": selectors.representatives()}
    )


@require_http_methods(["GET", "POST"])
@requires("members.manage")
def representative_edit(request, representative_id):
    representative = selectors.access_representative(representative_id=representative_id)
    return _representative_form(
        request, membership=representative.membership, representative=representative
    )


def _representative_form(request, *, membership, representative):
    initial = {}
    if representative is not None:
        initial = {name: getattr(representative, name) for name in services.REPRESENTATIVE_FIELDS}
        initial["fingerprint"] = instance_fingerprint(
            representative, services.REPRESENTATIVE_FIELDS
        )
    form = RepresentativeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.representative_save(
                conference=request.conference,
                actor=request.user,
                membership=membership,
                representative=representative,
                fingerprint=form.submitted_fingerprint,
                **form.cleaned_data,
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, "Le représentant a été enregistré.")
            return redirect("representative_list", conference_slug=request.conference.slug)
    title = "Ajouter un représentant" if representative is None else f"Modifier {representative}"
    return TemplateResponse(
        request,
        "cil/representative_form.html",
        {"form": form, "membership": membership, "representative": representative, "title": title},
    )
