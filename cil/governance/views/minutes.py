"""The minutes (procès-verbal) of a closed session: reading, drafting from the record,
editing, issuing the sealed PDF."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cil.governance import selectors
from cil.governance.forms import MinutesForm
from cil.governance.services import minutes as services
from cil.governance.views.common import (
    abilities_of,
    crumbs,
    minutes_of,
    not_now,
    post_data,
    refuse,
    url_for,
)
from cil.views.decorators import requires
from cil.views.forms import apply_service_errors
from conventions import markdown


def _minutes_url(request, meeting) -> str:
    return url_for(request, "minutes_detail", meeting_id=meeting.public_id)


@require_GET
@requires("sessions.view")
def minutes_detail(request, meeting_id):
    meeting = selectors.access_meeting(meeting_id=meeting_id)
    minutes = minutes_of(meeting)
    abilities = abilities_of(request, meeting, minutes)
    if minutes is None or "view_minutes" not in abilities:
        raise Http404("Procès-verbal introuvable.")
    return TemplateResponse(
        request,
        "governance/minutes_detail.html",
        {
            "meeting": meeting,
            "minutes": selectors.access_minutes(meeting=meeting),
            "html": markdown.render(minutes.body),
            "abilities": abilities,
            "breadcrumb_links": crumbs(request, meeting),
            "title": "Procès-verbal",
        },
    )


@require_POST
@requires("sessions.manage")
def minutes_draft(request, meeting_id):
    meeting = selectors.access_meeting(meeting_id=meeting_id)
    minutes = minutes_of(meeting)
    if "draft_minutes" not in abilities_of(request, meeting, minutes):
        return not_now(request, meeting, "draft_minutes")
    try:
        services.minutes_draft(conference=request.conference, actor=request.user, meeting=meeting)
    except ValidationError as error:
        return refuse(request, meeting, " ".join(error.messages))
    messages.success(
        request,
        "Le projet de procès-verbal est rédigé à partir du compte rendu de la séance (présences, votes, décisions) : complétez-le.",
    )
    return redirect(url_for(request, "minutes_edit", meeting_id=meeting.public_id))


@require_http_methods(["GET", "POST"])
@requires("sessions.manage")
def minutes_edit(request, meeting_id):
    meeting = selectors.access_meeting(meeting_id=meeting_id)
    minutes = minutes_of(meeting)
    if minutes is None or "edit_minutes" not in abilities_of(request, meeting, minutes):
        return not_now(request, meeting, "edit_minutes")
    form = MinutesForm(post_data(request), initial={"body": minutes.body})
    preview = None
    if request.method == "POST" and form.is_valid():
        if "apercu" in request.POST:
            preview = markdown.render(form.cleaned_data["body"])
        else:
            try:
                services.minutes_save(
                    conference=request.conference,
                    actor=request.user,
                    minutes=minutes,
                    body=form.cleaned_data["body"],
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, "Le procès-verbal est enregistré.")
                return redirect(_minutes_url(request, meeting))
    return TemplateResponse(
        request,
        "governance/minutes_form.html",
        {
            "form": form,
            "meeting": meeting,
            "minutes": minutes,
            "preview": preview,
            "title": "Rédiger le procès-verbal",
            "breadcrumb_links": crumbs(request, meeting),
        },
    )


@require_POST
@requires("sessions.manage")
def minutes_issue(request, meeting_id):
    meeting = selectors.access_meeting(meeting_id=meeting_id)
    minutes = minutes_of(meeting)
    if minutes is None or "issue_minutes" not in abilities_of(request, meeting, minutes):
        return not_now(request, meeting, "issue_minutes")
    try:
        services.minutes_issue(conference=request.conference, actor=request.user, minutes=minutes)
    except ValidationError as error:
        return refuse(request, meeting, " ".join(error.messages))
    messages.success(
        request,
        "La production du PDF scellé du procès-verbal est lancée ; il apparaît ci-dessous dès qu'il est prêt.",
    )
    return redirect(_minutes_url(request, meeting))
