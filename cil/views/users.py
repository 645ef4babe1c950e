from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cil import selectors, services
from cil.forms import InvitationForm, RolesForm
from cil.views.decorators import requires
from cil.views.forms import apply_service_errors


@require_GET
@requires("users.view")
def user_list(request):
    return TemplateResponse(
        request,
        "cil/user_list.html",
        {"accesses": selectors.accesses(), "invitations": selectors.pending_invitations()},
    )


@require_http_methods(["GET", "POST"])
@requires("users.manage")
def user_invite(request):
    form = InvitationForm(request.POST or None, organisations=selectors.member_organisations())
    if request.method == "POST" and form.is_valid():
        try:
            invitation, _token = services.invitation_create(
                conference=request.conference, actor=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, f"Une invitation a été envoyée à {invitation.email}.")
            return redirect("user_list", conference_slug=request.conference.slug)
    return TemplateResponse(request, "cil/user_invite.html", {"form": form})


@require_http_methods(["GET", "POST"])
@requires("users.manage")
def user_edit(request, access_id):
    access = selectors.access_user_access(access_id=access_id)
    form = RolesForm(
        request.POST or None,
        initial={
            "roles": [r.name for r in access.roles.all()],
            "fingerprint": services.access_fingerprint(access),
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.access_set_roles(
                conference=request.conference,
                actor=request.user,
                access=access,
                roles=form.cleaned_data["roles"],
                fingerprint=form.submitted_fingerprint,
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, "Les rôles ont été mis à jour.")
            return redirect("user_list", conference_slug=request.conference.slug)
    return TemplateResponse(request, "cil/user_edit.html", {"form": form, "access": access})


@require_POST
@requires("users.manage")
def user_deactivate(request, access_id):
    access = selectors.access_user_access(access_id=access_id)
    try:
        services.access_deactivate(conference=request.conference, actor=request.user, access=access)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(
            request, f"Le compte de {access.user} est désactivé dans cette conférence."
        )
    return redirect("user_list", conference_slug=request.conference.slug)


@require_POST
@requires("users.manage")
def user_reactivate(request, access_id):
    access = selectors.access_user_access(access_id=access_id)
    services.access_reactivate(conference=request.conference, actor=request.user, access=access)
    messages.success(request, f"Le compte de {access.user} est réactivé.")
    return redirect("user_list", conference_slug=request.conference.slug)


@require_POST
@requires("users.manage")
def invitation_revoke(request, invitation_id):
    invitation = selectors.access_invitation(invitation_id=invitation_id)
    try:
        services.invitation_revoke(
            conference=request.conference, actor=request.user, invitation=invitation
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, f"L'invitation de {invitation.email} est révoquée.")
    return redirect("user_list", conference_slug=request.conference.slug)
