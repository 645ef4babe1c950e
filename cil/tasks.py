"""Background jobs of the conference core. They take ids only and re-open the scope."""

from celery import shared_task
from django.utils import timezone

from cil import emails
from cil.models import Conference, Invitation
from cil.tenancy import ConferenceTask, conference_scope


@shared_task(base=ConferenceTask, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_invitation_email(*, conference_id: int, invitation_id: int, token: str) -> None:
    invitation = (
        Invitation.objects.select_related("organisation", "invited_by")
        .filter(pk=invitation_id)
        .first()
    )
    if invitation is None or not invitation.is_pending:
        return
    emails.send_invitation(invitation=invitation, token=token)


@shared_task
def purge_expired_invitations() -> int:
    """Revoke invitations that expired, conference by conference."""
    count = 0
    for conference_id in Conference.objects.values_list("pk", flat=True):
        with conference_scope(conference_id):
            count += Invitation.objects.filter(
                accepted_at=None, revoked_at=None, expires_at__lte=timezone.now()
            ).update(revoked_at=timezone.now())
    return count


@shared_task
def purge_personal_data() -> dict[str, dict[str, int]]:
    """The retention policy, conference by conference (cil/retention.py). Daily (beat)."""
    from cil import retention

    return retention.purge_all()


@shared_task(ignore_result=True)
def relay_outbox() -> dict[str, int]:
    """Publish the jobs asked for while the broker was down, or lost by it (cil/outbox.py).
    Celery beat, every 20 seconds."""
    from cil import outbox

    return outbox.relay()


@shared_task
def purge_outbox() -> int:
    """Delete the outbox's ended jobs after CIL_OUTBOX_RETENTION_DAYS. Daily (beat)."""
    from cil import outbox

    return outbox.purge()
