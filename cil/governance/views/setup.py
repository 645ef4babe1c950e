"""The conference's bodies (commissions, workshops, ad-hoc committees) and the working
rules of its sessions."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_http_methods

from cil.governance import selectors
from cil.governance.forms import BodyForm, SettingsForm
from cil.governance.services import meetings as services
from cil.governance.views.common import (
    post_data,
    url_for,
)
from cil.models import Membership
from cil.views.decorators import requires
from cil.views.forms import apply_service_errors


@require_GET
@requires("sessions.view")
def body_list(request):
    return TemplateResponse(
        request,
        "governance/body_list.html",
        {
            "bodies": list(selectors.bodies().prefetch_related("members__organisation")),
            "rules": selectors.settings_of(request.conference),
            "member_count": Membership.objects.count(),
            "breadcrumb_links": [(url_for(request, "meeting_list"), "Séances")],
        },
    )


def _body_form(request, body=None):
    memberships = Membership.objects.select_related("organisation").order_by(
        "college", "organisation__name"
    )
    initial = {"is_active": True}
    if body is not None:
        initial = {
            "name": body.name,
            "kind": body.kind,
            "description": body.description,
            "rhythm": body.rhythm,
            "is_active": body.is_active,
            "members": [str(m.public_id) for m in body.members.all()],
        }
    form = BodyForm(post_data(request), memberships=memberships, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.body_save(
                conference=request.conference, actor=request.user, body=body, **form.cleaned_data
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, f"L'instance « {saved.name} » est enregistrée.")
            return redirect(url_for(request, "body_list"))
    return TemplateResponse(
        request,
        "governance/body_form.html",
        {
            "form": form,
            "title": "Nouvelle instance" if body is None else f"Modifier « {body.name} »",
            "breadcrumb_links": [
                (url_for(request, "meeting_list"), "Séances"),
                (url_for(request, "body_list"), "Instances"),
            ],
        },
    )


@require_http_methods(["GET", "POST"])
@requires("sessions.manage")
def body_create(request):
    return _body_form(request)


@require_http_methods(["GET", "POST"])
@requires("sessions.manage")
def body_edit(request, body_id):
    return _body_form(request, selectors.access_body(body_id=body_id))


@require_http_methods(["GET", "POST"])
@requires("sessions.manage")
def governance_settings(request):
    rules = selectors.settings_of(request.conference)
    form = SettingsForm(post_data(request), initial=SettingsForm.initial_from(rules))
    if request.method == "POST" and form.is_valid():
        try:
            services.governance_settings_save(
                conference=request.conference, actor=request.user, **form.values()
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, "Les règles de fonctionnement des séances sont enregistrées.")
            return redirect(url_for(request, "body_list"))
    return TemplateResponse(
        request,
        "governance/settings_form.html",
        {
            "form": form,
            "title": "Règles de fonctionnement des séances",
            "breadcrumb_links": [
                (url_for(request, "meeting_list"), "Séances"),
                (url_for(request, "body_list"), "Instances"),
            ],
        },
    )
