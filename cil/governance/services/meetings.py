"""The conference's rules, its bodies and its sessions (dates, places, state)."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from cil import audit, concurrency
from cil.governance.models import Body, GovernanceSettings, Meeting, MeetingState
from cil.governance.services.common import fail, lock_meeting, require, same_conference
from cil.models import AuditAction, Conference, Membership, User
from cil.outbox import enqueue_on_commit

SETTINGS_FIELDS = [
    "quorum_numerator",
    "quorum_denominator",
    "quorum_comparison",
    "remote_counts",
    "max_proxies",
    "majority_rule",
    "votes_by_college",
    "convocation_notice_days",
    "reminder_days",
    "plenary_rhythm",
]
BODY_FIELDS = ["name", "kind", "description", "rhythm", "is_active"]
MEETING_FIELDS = ["title", "starts_at", "ends_at", "place", "video_url", "chairs"]
# A change of these makes the convocations already sent outdated.
CALENDAR_FIELDS = ("starts_at", "ends_at", "place", "video_url")


# --- Rules ------------------------------------------------------------------------------


@transaction.atomic
def governance_settings_save(
    *, conference: Conference, actor: User | None, **values
) -> GovernanceSettings:
    """Record the règlement intérieur's rules (cil/governance/counting.py)."""
    require(actor, "sessions.manage")
    row = GovernanceSettings.objects.select_for_update().filter(conference=conference).first()
    creating = row is None
    row = row or GovernanceSettings(conference=conference)
    before = {} if creating else audit.snapshot(row, SETTINGS_FIELDS)
    for name in SETTINGS_FIELDS:
        if name in values:
            setattr(row, name, values[name])
    if row.quorum_numerator > row.quorum_denominator:
        fail("quorum_numerator", "Le quorum ne peut pas dépasser la totalité des membres.")
    row.full_clean(exclude=["conference"])
    row.save()
    changes = audit.diff(before, audit.snapshot(row, SETTINGS_FIELDS))
    if changes:
        audit.record(
            conference=conference,
            actor=actor,
            action=AuditAction.CREATE if creating else AuditAction.UPDATE,
            obj=row,
            object_repr="Règles de fonctionnement des séances",
            changes=changes,
        )
    return row


# --- Bodies -----------------------------------------------------------------------------


@transaction.atomic
def body_save(
    *,
    conference: Conference,
    actor: User | None,
    body: Body | None = None,
    name: str,
    kind: str,
    description: str = "",
    rhythm: str,
    members: list[Membership],
    is_active: bool = True,
) -> Body:
    """Create (body=None) or update a commission, workshop or ad-hoc committee."""
    require(actor, "sessions.manage")
    same_conference(conference, body, *members)
    creating = body is None
    body = body or Body(conference=conference, created_by=actor)
    before = {} if creating else audit.snapshot(body, BODY_FIELDS)
    before_members = set() if creating else set(body.members.values_list("pk", flat=True))
    body.name = (name or "").strip()
    body.kind = kind
    body.description = (description or "").strip()
    body.rhythm = rhythm
    body.is_active = is_active
    if not body.name:
        fail("name", "Le nom est obligatoire.")
    if Body.objects.filter(name__iexact=body.name).exclude(pk=body.pk).exists():
        fail("name", "Une instance porte déjà ce nom.")
    if not members:
        fail("members", "Choisissez au moins un membre.")
    body.full_clean(exclude=["conference", "members"])
    body.save()
    body.members.set(members)
    changes = audit.diff(before, audit.snapshot(body, BODY_FIELDS))
    after_members = {m.pk for m in members}
    if after_members != before_members:
        changes["membres"] = [len(before_members), len(after_members)]
    if changes:
        audit.record(
            conference=conference,
            actor=actor,
            action=AuditAction.CREATE if creating else AuditAction.UPDATE,
            obj=body,
            changes=changes,
        )
    return body


# --- Sessions ---------------------------------------------------------------------------


def default_chairs(conference: Conference) -> str:
    """CCH L.441-1-5: the conference is co-chaired by the préfet and the EPCI's president."""
    return " et ".join(name for name in (conference.prefet_name, conference.president_name) if name)


def _check_meeting(meeting: Meeting) -> None:
    meeting.title = (meeting.title or "").strip()
    meeting.place = (meeting.place or "").strip()
    meeting.chairs = (meeting.chairs or "").strip()
    if not meeting.title:
        fail("title", "L'intitulé est obligatoire.")
    if meeting.ends_at is not None and meeting.ends_at <= meeting.starts_at:
        fail("ends_at", "L'heure de fin doit suivre l'heure de début.")
    if not meeting.place and not meeting.video_url:
        fail("place", "Indiquez le lieu de la séance ou le lien de visioconférence.")
    if meeting.body is not None and not meeting.body.is_active:
        fail("body", "Cette instance n'est plus active.")
    meeting.full_clean(exclude=["conference", "body", "created_by"])


@transaction.atomic
def meeting_create(
    *,
    conference: Conference,
    actor: User | None,
    body: Body | None,
    title: str,
    starts_at: datetime,
    ends_at: datetime | None = None,
    place: str = "",
    video_url: str = "",
    chairs: str = "",
) -> Meeting:
    require(actor, "sessions.manage")
    same_conference(conference, body)
    meeting = Meeting(
        conference=conference,
        body=body,
        title=title,
        starts_at=starts_at,
        ends_at=ends_at,
        place=place,
        video_url=video_url,
        chairs=chairs if chairs.strip() or body is not None else default_chairs(conference),
        created_by=actor,
    )
    _check_meeting(meeting)
    meeting.save()
    audit.record(
        conference=conference,
        actor=actor,
        action=AuditAction.CREATE,
        obj=meeting,
        changes=audit.diff({}, audit.snapshot(meeting, MEETING_FIELDS))
        | {"instance": [None, meeting.body_label]},
    )
    return meeting


def _not_open(meeting: Meeting):
    label = meeting.get_state_display().lower()
    fail(None, f"La séance est {label} : elle ne peut plus être modifiée.")


@transaction.atomic
def meeting_update(
    *,
    conference: Conference,
    actor: User | None,
    meeting: Meeting,
    title: str,
    starts_at: datetime,
    ends_at: datetime | None = None,
    place: str = "",
    video_url: str = "",
    chairs: str = "",
    fingerprint: str | None = None,
) -> Meeting:
    """Change a session before it is closed. A change of date, time or place after the
    convocations raises the session's sequence: the convocations page then offers to send
    the corrected convocation. `fingerprint`: the edit form's (cil/concurrency.py)."""
    require(actor, "sessions.manage")
    meeting = lock_meeting(conference, meeting)
    if not meeting.is_open:
        _not_open(meeting)
    concurrency.verify(
        meeting,
        fingerprint=fingerprint,
        current=lambda obj: concurrency.instance_fingerprint(obj, MEETING_FIELDS),
        conference=conference,
    )
    before = audit.snapshot(meeting, MEETING_FIELDS)
    calendar_before = tuple(getattr(meeting, name) for name in CALENDAR_FIELDS)
    meeting.title, meeting.starts_at, meeting.ends_at = title, starts_at, ends_at
    meeting.place, meeting.video_url, meeting.chairs = place, video_url, chairs
    _check_meeting(meeting)
    changes = audit.diff(before, audit.snapshot(meeting, MEETING_FIELDS))
    if not changes:
        return meeting
    if tuple(getattr(meeting, name) for name in CALENDAR_FIELDS) != calendar_before:
        meeting.sequence += 1
    meeting.save()
    audit.record(
        conference=conference, actor=actor, action=AuditAction.UPDATE, obj=meeting, changes=changes
    )
    return meeting


@transaction.atomic
def meeting_cancel(
    *, conference: Conference, actor: User | None, meeting: Meeting, reason: str
) -> Meeting:
    """Cancel a session that took no decision; the people already convened are told."""
    from cil.governance.tasks import send_meeting_emails

    require(actor, "sessions.manage")
    meeting = lock_meeting(conference, meeting)
    if not meeting.is_open:
        _not_open(meeting)
    if meeting.decisions.exists():
        fail(None, "La séance a déjà pris des décisions : elle ne peut plus être annulée.")
    reason = (reason or "").strip()
    if not reason:
        fail("reason", "Indiquez le motif de l'annulation.")
    before = meeting.get_state_display()
    meeting.state = MeetingState.ANNULEE
    meeting.cancelled_at = timezone.now()
    meeting.cancel_reason = reason[:500]
    meeting.sequence += 1
    meeting.save()
    audit.record(
        conference=conference,
        actor=actor,
        action=AuditAction.UPDATE,
        obj=meeting,
        changes={
            "état": [before, meeting.get_state_display()],
            "motif": [None, meeting.cancel_reason],
        },
    )
    sent = list(meeting.convocations.filter(sent_at__isnull=False).values_list("pk", flat=True))
    if sent:
        enqueue_on_commit(
            send_meeting_emails,
            conference_id=conference.pk,
            meeting_id=meeting.pk,
            convocation_ids=sent,
            purpose="annulation",
        )
    return meeting


@transaction.atomic
def meeting_close(*, conference: Conference, actor: User | None, meeting: Meeting) -> Meeting:
    """Close the session: its attendance sheet and votes are frozen; the minutes can be
    drafted from them."""
    require(actor, "sessions.manage")
    meeting = lock_meeting(conference, meeting)
    if not meeting.is_open:
        _not_open(meeting)
    if not meeting.has_started:
        fail(None, "La séance n'a pas encore eu lieu : elle ne peut pas être close.")
    before = meeting.get_state_display()
    meeting.state = MeetingState.CLOTUREE
    meeting.closed_at = timezone.now()
    meeting.save(update_fields=["state", "closed_at", "updated_at"])
    audit.record(
        conference=conference,
        actor=actor,
        action=AuditAction.UPDATE,
        obj=meeting,
        changes={"état": [before, meeting.get_state_display()]},
    )
    return meeting
