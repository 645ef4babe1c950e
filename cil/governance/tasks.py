"""Background jobs of the sessions. They take ids only and re-open the conference scope
(`ConferenceTask`); the reminders walk every conference, each in its own scope."""

from celery import shared_task

from cil.governance.models import Meeting
from cil.models import Conference
from cil.tenancy import ConferenceTask, conference_scope


@shared_task(base=ConferenceTask, acks_late=True)
def send_meeting_emails(
    *, conference_id: int, meeting_id: int, convocation_ids: list[int], purpose: str
) -> int:
    from cil.governance.services.convocations import deliver

    meeting = Meeting.objects.select_related("conference", "body").filter(pk=meeting_id).first()
    if meeting is None:
        return 0
    return deliver(meeting=meeting, convocation_ids=convocation_ids, purpose=purpose)


@shared_task
def send_meeting_reminders() -> int:
    """Celery beat: the reminders due now, conference by conference (idempotent)."""
    from cil.governance.services.convocations import reminders_send

    sent = 0
    for conference in Conference.objects.order_by("pk"):
        with conference_scope(conference):
            sent += reminders_send(conference=conference)
    return sent
