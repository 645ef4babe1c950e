"""Convocations by e-mail: titulaires convened, suppléants informed, each with the session's
ICS file and a tracked link; the corrected convocation after a change of date, time or
place; reminders N days before (never twice); the tracked link's first opening."""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from cil import audit
from cil.governance import emails
from cil.governance.models import Convocation, ConvocationKind, Meeting, MeetingState
from cil.governance.selectors import recipients, settings_of
from cil.governance.services.common import fail, lock_meeting, require
from cil.models import AuditAction, Conference, User
from cil.outbox import enqueue_on_commit

logger = logging.getLogger(__name__)

NO_ADDRESS = "Pas d'adresse électronique : le représentant n'a pas été prévenu par courriel."
# No reminder in the day that follows the convocation itself.
REMINDER_GRACE = timedelta(hours=24)


def pending(meeting: Meeting) -> dict[str, list[Convocation]]:
    """What « Envoyer » would send now: new convocations, corrected ones, and the
    representatives without an address (shown, never sent)."""
    rows = list(
        Convocation.objects.filter(meeting=meeting).select_related(
            "representative", "membership__organisation"
        )
    )
    return {
        "new": [c for c in rows if c.sent_at is None and c.email],
        "corrected": [
            c
            for c in rows
            if c.sent_at is not None and c.sent_sequence < meeting.sequence and c.email
        ],
        "no_address": [c for c in rows if not c.email],
    }


def _sync(conference: Conference, meeting: Meeting) -> None:
    """One convocation per representative in office on the session's day (new
    representatives are added; the address of an unsent one is brought up to date)."""
    existing = {c.representative_id: c for c in Convocation.objects.filter(meeting=meeting)}
    for recipient in recipients(meeting):
        row = existing.get(recipient.representative.pk)
        if row is None:
            Convocation.objects.create(
                conference=conference,
                meeting=meeting,
                representative=recipient.representative,
                membership=recipient.membership,
                kind=recipient.kind,
                email=recipient.email,
                error="" if recipient.email else NO_ADDRESS,
            )
        elif row.sent_at is None and (row.email != recipient.email or row.kind != recipient.kind):
            row.email, row.kind = recipient.email, recipient.kind
            row.error = "" if recipient.email else NO_ADDRESS
            row.save(update_fields=["email", "kind", "error"])


@transaction.atomic
def convocations_prepare(*, conference: Conference, actor: User | None, meeting: Meeting) -> dict:
    """Bring the list of convocations up to date (before the preview)."""
    require(actor, "sessions.manage")
    meeting = lock_meeting(conference, meeting)
    if meeting.is_open:
        _sync(conference, meeting)
    return pending(meeting)


@transaction.atomic
def convocations_send(*, conference: Conference, actor: User | None, meeting: Meeting) -> dict:
    """Send the convocations not sent yet, and the corrected convocation to those whose
    e-mail announced an outdated date, time or place. The e-mails leave after the commit;
    the session is then « convoquée »."""
    from cil.governance.tasks import send_meeting_emails

    require(actor, "sessions.manage")
    meeting = lock_meeting(conference, meeting)
    if not meeting.is_open:
        fail(
            None, f"La séance est {meeting.get_state_display().lower()} : elle ne se convoque plus."
        )
    if meeting.starts_at <= timezone.now():
        fail(None, "La séance a déjà commencé : il est trop tard pour convoquer.")
    _sync(conference, meeting)
    todo = pending(meeting)
    if not todo["new"] and not todo["corrected"]:
        fail(None, "Toutes les convocations sont déjà envoyées et à jour.")
    for purpose, rows in (
        (emails.CONVOCATION, todo["new"]),
        (emails.RECTIFICATIF, todo["corrected"]),
    ):
        if rows:
            enqueue_on_commit(
                send_meeting_emails,
                conference_id=conference.pk,
                meeting_id=meeting.pk,
                convocation_ids=[c.pk for c in rows],
                purpose=purpose,
            )
    before = meeting.get_state_display()
    if meeting.state == MeetingState.PREPARATION:
        meeting.state = MeetingState.CONVOQUEE
        meeting.save(update_fields=["state", "updated_at"])
    audit.record(
        conference=conference,
        actor=actor,
        action=AuditAction.UPDATE,
        obj=meeting,
        changes={
            "convocations envoyées": [None, len(todo["new"])],
            "convocations rectificatives": [None, len(todo["corrected"])],
        }
        | (
            {"état": [before, meeting.get_state_display()]}
            if before != meeting.get_state_display()
            else {}
        ),
    )
    return {key: len(rows) for key, rows in todo.items()}


# --- Sending (the task's body) ------------------------------------------------------------


def _claim(
    meeting: Meeting, convocation_ids: list[int], purpose: str, now: datetime
) -> list[Convocation]:
    """Mark the rows as sent before sending, so that a re-delivered task or a second
    reminder run sends nothing twice; only the rows this call marked are returned."""
    rows = Convocation.objects.filter(meeting=meeting, pk__in=convocation_ids).exclude(email="")
    if purpose == emails.CONVOCATION:
        rows = rows.filter(sent_at__isnull=True)
        values = {"sent_at": now, "sent_sequence": meeting.sequence, "error": ""}
    elif purpose == emails.RECTIFICATIF:
        rows = rows.filter(sent_at__isnull=False, sent_sequence__lt=meeting.sequence)
        values = {"sent_at": now, "sent_sequence": meeting.sequence, "error": ""}
    elif purpose == emails.RELANCE:
        rows = rows.filter(reminded_at__isnull=True, sent_at__isnull=False)
        values = {"reminded_at": now}
    else:
        return list(
            rows.filter(sent_at__isnull=False).select_related(
                "representative", "membership__organisation"
            )
        )
    with transaction.atomic():
        ids = list(rows.select_for_update().values_list("pk", flat=True))
        Convocation.objects.filter(pk__in=ids).update(**values)
    return list(
        Convocation.objects.filter(pk__in=ids).select_related(
            "representative", "membership__organisation", "meeting__conference"
        )
    )


def deliver(*, meeting: Meeting, convocation_ids: list[int], purpose: str) -> int:
    """Send the e-mails of `purpose` to these convocations (inside the conference scope).
    A failed e-mail gives its row back (and says why), so a later run sends it."""
    now = timezone.now()
    rows = _claim(meeting, convocation_ids, purpose, now)
    sent = 0
    for row in rows:
        try:
            sent += emails.send(meeting, [row], purpose)
        except OSError as error:
            logger.warning("Courriel de séance non envoyé (%s) : %s", row.public_id, error)
            undo = {"reminded_at": None} if purpose == emails.RELANCE else {"sent_at": None}
            if purpose == emails.RECTIFICATIF:
                undo = {"sent_sequence": F("sent_sequence") - 1}
            Convocation.objects.filter(pk=row.pk).update(
                error="Échec de l'envoi du courriel ; il sera retenté.", **undo
            )
    return sent


def reminders_send(*, conference: Conference, now: datetime | None = None) -> int:
    """Remind the convened titulaires of the sessions starting within the conference's
    reminder delay; each convocation is reminded once at most. Returns the e-mails sent."""
    now = now or timezone.now()
    days = settings_of(conference).reminder_days
    if not days:
        return 0
    sent = 0
    meetings = Meeting.objects.filter(
        state=MeetingState.CONVOQUEE, starts_at__gt=now, starts_at__lte=now + timedelta(days=days)
    )
    for meeting in meetings:
        ids = list(
            Convocation.objects.filter(
                Q(sent_at__lte=now - REMINDER_GRACE),
                meeting=meeting,
                kind=ConvocationKind.CONVOCATION,
                reminded_at__isnull=True,
            )
            .exclude(email="")
            .values_list("pk", flat=True)
        )
        if ids:
            sent += deliver(meeting=meeting, convocation_ids=ids, purpose=emails.RELANCE)
    return sent


def convocation_opened(convocation: Convocation) -> None:
    """The tracked link was followed: the first opening is kept, the others counted."""
    now = timezone.now()
    Convocation.objects.filter(pk=convocation.pk, opened_at__isnull=True).update(opened_at=now)
    Convocation.objects.filter(pk=convocation.pk).update(open_count=F("open_count") + 1)
