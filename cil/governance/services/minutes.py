"""The minutes (procès-verbal) of a closed session: drafted from the record, edited by the
secretariat, approved by a vote at a later session, issued as a sealed PDF through the
documents pipeline (conventions/pdf/)."""

from django.db import transaction

from cil import audit
from cil.governance import drafting
from cil.governance.models import Decision, Meeting, MeetingState, Minutes, MinutesState
from cil.governance.selectors import items_of, meeting_quorum, roster, settings_of
from cil.governance.services.common import fail, lock_meeting, require, same_conference
from cil.models import AuditAction, Conference, User
from conventions.models import DocumentKind
from conventions.pdf.services import document_request

BODY_MAX = 100_000
SUBJECT_TYPE = "governance.minutes"


def minutes_title(minutes: Minutes) -> str:
    meeting = minutes.meeting
    day = drafting.french_date(meeting.local_date, weekday=False)
    prefix = "Procès-verbal" if minutes.is_approved else "Projet de procès-verbal"
    return f"{prefix} — {meeting.title} du {day}"


def _draft_text(meeting: Meeting) -> str:
    rows = roster(meeting)
    return drafting.draft(
        meeting=meeting,
        rows=rows,
        quorum=meeting_quorum(meeting, rows),
        rules_label=settings_of(meeting.conference).quorum_label,
        items=items_of(meeting),
    )


@transaction.atomic
def minutes_draft(*, conference: Conference, actor: User | None, meeting: Meeting) -> Minutes:
    """Write the first draft from the session's record, or write it again over the current
    draft (an approved procès-verbal never changes)."""
    require(actor, "sessions.manage")
    meeting = lock_meeting(conference, meeting)
    if meeting.state != MeetingState.CLOTUREE:
        fail(None, "Le procès-verbal se rédige une fois la séance close.")
    minutes = Minutes.objects.select_for_update().filter(meeting=meeting).first()
    if minutes is not None and minutes.is_approved:
        fail(None, "Ce procès-verbal est approuvé : il ne change plus.")
    creating = minutes is None
    minutes = minutes or Minutes(conference=conference, meeting=meeting, created_by=actor)
    minutes.body = _draft_text(meeting)
    minutes.updated_by = actor
    minutes.save()
    audit.record(
        conference=conference,
        actor=actor,
        action=AuditAction.CREATE if creating else AuditAction.UPDATE,
        obj=minutes,
        changes={"texte": [None, "rédigé à partir du compte rendu de la séance"]},
    )
    return minutes


def _normalise(body: str) -> str:
    lines = (body or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n")


@transaction.atomic
def minutes_save(
    *, conference: Conference, actor: User | None, minutes: Minutes, body: str
) -> Minutes:
    require(actor, "sessions.manage")
    same_conference(conference, minutes)
    minutes = Minutes.objects.select_for_update().select_related("meeting").get(pk=minutes.pk)
    if minutes.is_approved:
        fail("body", "Ce procès-verbal est approuvé : il ne change plus.")
    body = _normalise(body)
    if not body:
        fail("body", "Le texte du procès-verbal est vide.")
    if len(body) > BODY_MAX:
        fail("body", f"Le texte ne peut pas dépasser {BODY_MAX} caractères.")
    if body == minutes.body:
        return minutes
    before = len(minutes.body)
    minutes.body = body
    minutes.updated_by = actor
    minutes.save(update_fields=["body", "updated_by", "updated_at"])
    audit.record(
        conference=conference,
        actor=actor,
        action=AuditAction.UPDATE,
        obj=minutes,
        changes={"texte (caractères)": [before, len(body)]},
    )
    return minutes


def _issue(conference: Conference, actor: User | None, minutes: Minutes):
    document = document_request(
        conference=conference,
        actor=actor,
        kind=DocumentKind.PROCES_VERBAL,
        title=minutes_title(minutes),
        subject_type=SUBJECT_TYPE,
        subject_id=str(minutes.public_id),
        year=minutes.meeting.local_date.year,
        parameters={"approuve": minutes.is_approved},
    )
    minutes.document = document
    minutes.save(update_fields=["document", "updated_at"])
    return document


@transaction.atomic
def minutes_issue(*, conference: Conference, actor: User | None, minutes: Minutes):
    """Request the sealed PDF of the minutes (a draft is issued as « projet »)."""
    require(actor, "sessions.manage")
    same_conference(conference, minutes)
    minutes = Minutes.objects.select_for_update().select_related("meeting").get(pk=minutes.pk)
    if not minutes.body.strip():
        fail(None, "Le procès-verbal est vide : rédigez-le avant de produire le PDF.")
    return _issue(conference, actor, minutes)


def minutes_approve(
    *, conference: Conference, actor: User | None, minutes: Minutes, decision: Decision
) -> Minutes:
    """Called by the decision of a later session that approved them (services/votes.py, in
    its transaction). The final sealed PDF is requested at once."""
    same_conference(conference, minutes, decision)
    minutes = Minutes.objects.select_for_update().select_related("meeting").get(pk=minutes.pk)
    if minutes.is_approved:
        fail(None, "Ce procès-verbal est déjà approuvé.")
    minutes.state = MinutesState.APPROUVE
    minutes.approved_on = decision.decided_on
    minutes.approval_decision = decision
    minutes.save(update_fields=["state", "approved_on", "approval_decision", "updated_at"])
    audit.record(
        conference=conference,
        actor=actor,
        action=AuditAction.UPDATE,
        obj=minutes,
        changes={
            "état": [MinutesState.BROUILLON.label, MinutesState.APPROUVE.label],
            "décision": [None, decision.reference],
        },
    )
    _issue(conference, actor, minutes)
    return minutes
