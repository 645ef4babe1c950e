"""The sessions: list, creation, page, changes, cancellation, closure, calendar file."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cil.concurrency import instance_fingerprint
from cil.governance import ics, selectors
from cil.governance.forms import CancelForm, MeetingForm
from cil.governance.models import Body
from cil.governance.services import meetings as services
from cil.governance.views.common import (
    abilities_of,
    crumbs,
    meeting_url,
    minutes_of,
    not_now,
    post_data,
    refuse,
)
from cil.permissions import has_permission
from cil.views.decorators import requires
from cil.views.forms import apply_service_errors

LIST_LIMIT = 50


@require_GET
@requires("sessions.view")
def meeting_list(request):
    return TemplateResponse(
        request,
        "governance/meeting_list.html",
        {
            "upcoming": list(selectors.meetings_upcoming()),
            "past": list(selectors.meetings_past()[:LIST_LIMIT]),
            "rules": selectors.settings_of(request.conference),
        },
    )


@require_http_methods(["GET", "POST"])
@requires("sessions.manage")
def meeting_create(request):
    bodies = Body.objects.filter(is_active=True).order_by("kind", "name")
    form = MeetingForm(post_data(request), bodies=bodies, initial={"title": "Séance plénière"})
    if request.method == "POST" and form.is_valid():
        try:
            meeting = services.meeting_create(
                conference=request.conference, actor=request.user, **form.values()
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request,
                "La séance est créée : composez son ordre du jour, puis envoyez les convocations.",
            )
            return redirect(meeting_url(request, meeting))
    return TemplateResponse(
        request,
        "governance/meeting_form.html",
        {"form": form, "title": "Nouvelle séance", "breadcrumb_links": crumbs(request)},
    )


@require_GET
@requires("sessions.view")
def meeting_detail(request, meeting_id):
    meeting = selectors.access_meeting(meeting_id=meeting_id)
    minutes = minutes_of(meeting)
    abilities = abilities_of(request, meeting, minutes)
    rows = selectors.roster(meeting)
    context = {
        "meeting": meeting,
        "abilities": abilities,
        "items": selectors.items_of(meeting),
        "minutes": minutes,
        "rules": selectors.settings_of(request.conference),
        "show_quorum": any(row.attendance for row in rows) or "attendance" in abilities,
        "live": meeting.is_open and meeting.has_started,
        "breadcrumb_links": crumbs(request),
    }
    context |= selectors.quorum_panel(meeting, rows)
    context["convocations"] = (
        selectors.convocation_summary(meeting)
        if has_permission(request.roles, "sessions.manage")
        else None
    )
    return TemplateResponse(request, "governance/meeting_detail.html", context)


@require_http_methods(["GET", "POST"])
@requires("sessions.manage")
def meeting_edit(request, meeting_id):
    meeting = selectors.access_meeting(meeting_id=meeting_id)
    if "edit" not in abilities_of(request, meeting):
        return not_now(request, meeting, "edit")
    initial = {
        **MeetingForm.initial_from(meeting),
        "fingerprint": instance_fingerprint(meeting, services.MEETING_FIELDS),
    }
    form = MeetingForm(post_data(request), editing=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        sequence = meeting.sequence
        try:
            meeting = services.meeting_update(
                conference=request.conference,
                actor=request.user,
                meeting=meeting,
                fingerprint=form.submitted_fingerprint,
                **form.values(),
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            if (
                meeting.sequence != sequence
                and meeting.convocations.filter(sent_at__isnull=False).exists()
            ):
                messages.warning(
                    request,
                    "La date, l'heure ou le lieu ont changé après l'envoi des convocations : envoyez la convocation rectificative.",
                )
            else:
                messages.success(request, "La séance est modifiée.")
            return redirect(meeting_url(request, meeting))
    return TemplateResponse(
        request,
        "governance/meeting_form.html",
        {
            "form": form,
            "title": "Modifier la séance",
            "meeting": meeting,
            "breadcrumb_links": crumbs(request, meeting),
        },
    )


@require_http_methods(["GET", "POST"])
@requires("sessions.manage")
def meeting_cancel(request, meeting_id):
    meeting = selectors.access_meeting(meeting_id=meeting_id)
    if "cancel" not in abilities_of(request, meeting):
        return not_now(request, meeting, "cancel")
    form = CancelForm(post_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.meeting_cancel(
                conference=request.conference,
                actor=request.user,
                meeting=meeting,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request,
                "La séance est annulée ; les personnes convoquées en sont prévenues par courriel.",
            )
            return redirect(meeting_url(request, meeting))
    return TemplateResponse(
        request,
        "governance/cancel_form.html",
        {
            "form": form,
            "title": "Annuler la séance",
            "meeting": meeting,
            "breadcrumb_links": crumbs(request, meeting),
        },
    )


@require_POST
@requires("sessions.manage")
def meeting_close(request, meeting_id):
    meeting = selectors.access_meeting(meeting_id=meeting_id)
    if "close" not in abilities_of(request, meeting):
        return not_now(request, meeting, "close")
    try:
        services.meeting_close(conference=request.conference, actor=request.user, meeting=meeting)
    except ValidationError as error:
        return refuse(request, meeting, " ".join(error.messages))
    messages.success(
        request,
        "La séance est close : sa feuille de présence et ses votes sont figés. Vous pouvez rédiger le procès-verbal.",
    )
    return redirect(meeting_url(request, meeting))


@require_GET
@requires("sessions.view")
def meeting_ics(request, meeting_id):
    meeting = selectors.access_meeting(meeting_id=meeting_id)
    response = HttpResponse(
        ics.meeting_ics(meeting, meeting.items.order_by("order", "id")),
        content_type="text/calendar; charset=utf-8",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="seance-{meeting.local_date:%Y-%m-%d}.ics"'
    )
    return response
