"""The attendance sheet, one form per member (htmx saves a line without reloading the page
and refreshes the quorum; without JavaScript each line posts and comes back), and the live
quorum panel."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_POST

from cil.governance import counting, selectors
from cil.governance.models import AttendanceStatus
from cil.governance.services.attendance import STATUS_LABELS, attendance_set
from cil.governance.views.common import abilities_of, crumbs, not_now, url_for
from cil.views.decorators import requires

STATUS_CHOICES = [(counting.UNKNOWN, "Non renseigné"), *AttendanceStatus.choices]


def row_context(row, rows, rules) -> dict:
    """What one line of the sheet shows: its choices and its current values."""
    membership = row.membership
    holders = [
        other
        for other in rows
        if other.membership.pk != membership.pk
        and other.membership.college == membership.college
        and other.membership.voting_right
    ]
    held_by = [
        other
        for other in rows
        if other.attendance and other.attendance.proxy_holder_id == membership.pk
    ]
    return {
        "row": row,
        "status_choices": STATUS_CHOICES,
        "holders": holders if membership.voting_right and rules.max_proxies else [],
        "held_by": held_by,
        "people": row.titulaires + row.suppleants,
        "status_label": STATUS_LABELS[row.status],
    }


def _sheet_context(request, meeting, rows=None) -> dict:
    rows = rows if rows is not None else selectors.roster(meeting)
    rules = selectors.settings_of(request.conference)
    return {
        "meeting": meeting,
        "lines": [row_context(row, rows, rules) for row in rows],
        "rules": rules,
        "abilities": abilities_of(request, meeting),
        "live": True,
        **selectors.quorum_panel(meeting, rows),
    }


@require_GET
@requires("sessions.manage")
def attendance_sheet(request, meeting_id):
    meeting = selectors.access_meeting(meeting_id=meeting_id)
    if "attendance" not in abilities_of(request, meeting):
        return not_now(request, meeting, "attendance")
    context = _sheet_context(request, meeting)
    context |= {"breadcrumb_links": crumbs(request, meeting), "title": "Feuille de présence"}
    return TemplateResponse(request, "governance/attendance_sheet.html", context)


def _uuid_choice(candidates, key: str):
    key = (key or "").strip()
    return next((c for c in candidates if str(c.public_id) == key), None)


@require_POST
@requires("sessions.manage")
def attendance_row(request, meeting_id, membership_id):
    meeting = selectors.access_meeting(meeting_id=meeting_id)
    membership = selectors.access_member(meeting=meeting, membership_id=membership_id)
    sheet_url = url_for(request, "attendance_sheet", meeting_id=meeting.public_id)
    if "attendance" not in abilities_of(request, meeting):
        return not_now(request, meeting, "attendance")
    rows = selectors.roster(meeting)
    error = None
    try:
        attendance_set(
            conference=request.conference,
            actor=request.user,
            meeting=meeting,
            membership=membership,
            status=request.POST.get("status", ""),
            # Looked up among every representative of the sheet: the service says so if
            # the person does not represent this member.
            attendee=_uuid_choice(
                [r for other in rows for r in other.titulaires + other.suppleants],
                request.POST.get("attendee"),
            ),
            proxy_holder=_uuid_choice(
                [r.membership for r in rows], request.POST.get("proxy_holder")
            ),
        )
    except ValidationError as exc:
        error = " ".join(exc.messages)
    if not request.htmx:
        if error:
            messages.error(request, f"{membership.organisation.name} : {error}")
        else:
            messages.success(request, f"Présence de {membership.organisation.name} enregistrée.")
        return redirect(f"{sheet_url}#membre-{membership.public_id}")
    context = _sheet_context(request, meeting)
    line = next(line for line in context["lines"] if line["row"].membership.pk == membership.pk)
    line |= {"error": error, "saved": error is None}
    context["oob"] = True
    return TemplateResponse(request, "governance/_attendance_row_response.html", context)


@require_GET
@requires("sessions.view")
def quorum_panel(request, meeting_id):
    """The quorum panel alone (htmx polls it while the session is in progress)."""
    meeting = selectors.access_meeting(meeting_id=meeting_id)
    context = {"meeting": meeting, "live": meeting.is_open and meeting.has_started}
    context |= selectors.quorum_panel(meeting)
    return TemplateResponse(request, "governance/_quorum.html", context)
