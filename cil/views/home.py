from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from cil.selectors import conferences_of
from cil.views.decorators import requires
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
