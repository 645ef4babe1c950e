from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_http_methods

from cil import services
from cil.concurrency import instance_fingerprint
from cil.forms import ConferenceForm
from cil.selectors import conferences_of
from cil.views.decorators import requires
from cil.views.forms import apply_service_errors
from cil.views.home_actions import actions_for


@require_GET
def root(request):
    """Landing page for visitors; for a signed-in person, their conference (or the picker)."""
    if not request.user.is_authenticated:
        return TemplateResponse(request, "cil/landing.html")
    conferences = list(conferences_of(request.user))
    last = request.session.get("last_conference")
    for conference in conferences:
        if conference.slug == last or len(conferences) == 1:
            return redirect("conference_home", conference_slug=conference.slug)
    return redirect("conference_picker")


@require_GET
@login_required
def conference_picker(request):
    return TemplateResponse(
        request, "cil/conference_picker.html", {"conferences": conferences_of(request.user)}
    )


@require_GET
@requires("conference.view")
def conference_home(request):
    return TemplateResponse(
        request,
        "cil/conference_home.html",
        {"actions": actions_for(conference=request.conference, roles=request.roles)},
    )


@require_http_methods(["GET", "POST"])
@requires("conference.manage")
def conference_settings(request):
    conference = request.conference
    form = ConferenceForm(
        request.POST or None,
        initial={
            **{name: getattr(conference, name) for name in services.CONFERENCE_FIELDS},
            "fingerprint": instance_fingerprint(conference, services.CONFERENCE_FIELDS),
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.conference_update(
                conference=conference,
                actor=request.user,
                fingerprint=form.submitted_fingerprint,
                **form.cleaned_data,
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, "Les paramètres de la conférence sont enregistrés.")
            return redirect("conference_home", conference_slug=conference.slug)
    return TemplateResponse(request, "cil/conference_settings.html", {"form": form})
