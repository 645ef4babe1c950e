"""This app's rows of the isolation matrix (merged by tests/test_tenant_isolation.py).

CONFERENCE_ROWS: URL name → Row (see tests/isolation.py). GLOBAL_ROWS: URL name →
(kwargs builder, method, status anonymous, status signed in) for public URLs.

The objects are made on first use, per tenant, through the services: an upcoming session
with an item and an attachment; a session today (attendance and votes open) with a voted
item; a closed session with a decision and its minutes (PDF requested: members see them).
"""

import uuid

from django.core.files.uploadedfile import SimpleUploadedFile

from cil.governance.models import ItemKind
from cil.roles import RoleName
from cil.tenancy import conference_scope
from tests.isolation import Row


def _secretariat(t):
    return t.users[RoleName.SECRETARIAT]


def _upcoming(t):
    """An upcoming plenary: one information item with an uploaded attachment."""
    if getattr(t, "gov_upcoming", None) is None:
        from cil.governance.services import agenda
        from tests.governance.support import upcoming_meeting

        meeting = upcoming_meeting(t, title=f"Séance {t.marker}")
        with conference_scope(t.conference):
            item = agenda.item_save(
                conference=t.conference,
                actor=_secretariat(t),
                meeting=meeting,
                kind=ItemKind.INFORMATION,
                title=f"Point {t.marker}",
            )
            attachment = agenda.attachment_add(
                conference=t.conference,
                actor=_secretariat(t),
                item=item,
                upload=SimpleUploadedFile("note.pdf", b"%PDF-1.4 " + t.marker.encode()),
            )
        t.gov_upcoming, t.gov_item, t.gov_attachment = meeting, item, attachment
    return t.gov_upcoming


def _present(t, meeting) -> int:
    """Mark every member of the plenary present (the world's members are all in college
    2, with voting right). Returns their number."""
    from cil.governance.selectors import members_of
    from cil.governance.services.attendance import attendance_set

    with conference_scope(t.conference):
        members = list(members_of(meeting))
        for membership in members:
            attendance_set(
                conference=t.conference,
                actor=_secretariat(t),
                meeting=meeting,
                membership=membership,
                status="present",
            )
    return len(members)


def _today(t):
    """A plenary today with a deliberation to vote."""
    if getattr(t, "gov_today", None) is None:
        from cil.governance.services import agenda
        from tests.governance.support import today_meeting

        meeting = today_meeting(t, title=f"Séance du jour {t.marker}")
        with conference_scope(t.conference):
            t.gov_vote_item = agenda.item_save(
                conference=t.conference,
                actor=_secretariat(t),
                meeting=meeting,
                kind=ItemKind.DELIBERATION,
                title=f"Délibération {t.marker}",
            )
        t.gov_today = meeting
    return t.gov_today


def _closed(t):
    """A closed plenary with a decision and its minutes, whose PDF is requested."""
    if getattr(t, "gov_closed", None) is None:
        from cil.governance.services import agenda, meetings, minutes, votes
        from tests.governance.support import today_meeting

        meeting = today_meeting(t, title=f"Séance close {t.marker}")
        voters = _present(t, meeting)
        with conference_scope(t.conference):
            item = agenda.item_save(
                conference=t.conference,
                actor=_secretariat(t),
                meeting=meeting,
                kind=ItemKind.DELIBERATION,
                title=f"Décision {t.marker}",
            )
            t.gov_decision = votes.vote_record(
                conference=t.conference,
                actor=_secretariat(t),
                meeting=meeting,
                item=item,
                ballots={2: {"pour": voters}},
            )
            meetings.meeting_close(conference=t.conference, actor=_secretariat(t), meeting=meeting)
            written = minutes.minutes_draft(
                conference=t.conference, actor=_secretariat(t), meeting=meeting
            )
            minutes.minutes_issue(conference=t.conference, actor=_secretariat(t), minutes=written)
        t.gov_closed = meeting
    return t.gov_closed


def _body(t):
    if getattr(t, "gov_body", None) is None:
        from tests.governance.support import committee

        t.gov_body = committee(t, [t.membership], name=f"Comité {t.marker}")
    return t.gov_body


def _meeting(builder):
    return lambda t: {"meeting_id": builder(t).public_id}


def _item(t):
    return {"meeting_id": _upcoming(t).public_id, "item_id": t.gov_item.public_id}


def _attachment(t):
    return {"meeting_id": _upcoming(t).public_id, "attachment_id": t.gov_attachment.public_id}


def _vote_item(t):
    return {"meeting_id": _today(t).public_id, "item_id": t.gov_vote_item.public_id}


def _attendance_row(t):
    return {"meeting_id": _today(t).public_id, "membership_id": t.membership.public_id}


def _decision(t):
    _closed(t)
    return {"decision_id": t.gov_decision.public_id}


CONFERENCE_ROWS: dict = {
    "meeting_list": Row("sessions.view"),
    "meeting_create": Row("sessions.manage"),
    "body_list": Row("sessions.view"),
    "body_create": Row("sessions.manage"),
    "body_edit": Row("sessions.manage", lambda t: {"body_id": _body(t).public_id}),
    "governance_settings": Row("sessions.manage"),
    "decision_list": Row("sessions.view"),
    "decision_detail": Row("sessions.view", _decision),
    "meeting_detail": Row("sessions.view", _meeting(_upcoming)),
    "meeting_edit": Row("sessions.manage", _meeting(_upcoming)),
    "meeting_cancel": Row("sessions.manage", _meeting(_upcoming)),
    "meeting_close": Row("sessions.manage", _meeting(_today), method="post", ok_status=302),
    "meeting_ics": Row("sessions.view", _meeting(_upcoming)),
    "item_add": Row("sessions.manage", _meeting(_upcoming)),
    "item_edit": Row("sessions.manage", _item),
    "item_remove": Row("sessions.manage", _item, method="post", ok_status=302),
    "item_move": Row("sessions.manage", _item, method="post", ok_status=302),
    "attachment_add": Row("sessions.manage", _item),
    "attachment_download": Row("sessions.view", _attachment),
    "attachment_remove": Row("sessions.manage", _attachment, method="post", ok_status=302),
    "item_vote": Row("sessions.manage", _vote_item),
    "convocation_list": Row("sessions.manage", _meeting(_upcoming)),
    "attendance_sheet": Row("sessions.manage", _meeting(_today)),
    # Posted empty: the line is cleared (« non renseigné »), then back to the sheet.
    "attendance_row": Row("sessions.manage", _attendance_row, method="post", ok_status=302),
    "quorum_panel": Row("sessions.view", _meeting(_today)),
    "minutes_detail": Row("sessions.view", _meeting(_closed)),
    "minutes_draft": Row("sessions.manage", _meeting(_closed), method="post", ok_status=302),
    "minutes_edit": Row("sessions.manage", _meeting(_closed)),
    "minutes_issue": Row("sessions.manage", _meeting(_closed), method="post", ok_status=302),
}

# The tracked link of a convocation e-mail is public (it records the opening, then leads to
# the session's page and its sign-in): an unknown id or a wrong token is a 404 for anyone.
GLOBAL_ROWS: dict = {
    "convocation_open": (
        lambda t: {
            "conference_slug": t.conference.slug,
            "convocation_id": uuid.uuid4(),
            "token": "jeton-inconnu",
        },
        "get",
        404,
        404,
    ),
}
