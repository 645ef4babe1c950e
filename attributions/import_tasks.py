"""Import tasks, for files of CIL_IMPORT_ASYNC_LINES lines or more. They take ids only (JSON);
`ConferenceTask` re-opens the conference scope. Idempotent: the job row holds the state and
each step starts only from the state before it (attributions/importing/jobs.py), so a
re-delivered task (acks_late) does nothing, or redoes a step whose transaction was lost."""

from celery import shared_task

from attributions.importing import jobs
from cil.models import Conference
from cil.tenancy import ConferenceTask

__all__ = ["import_commit", "import_validate", "purge_unconfirmed_imports"]


@shared_task(base=ConferenceTask, acks_late=True)
def import_validate(*, conference_id: int, job_id: int) -> None:
    jobs.run_validation(job_id=job_id)


@shared_task(base=ConferenceTask, acks_late=True)
def import_commit(*, conference_id: int, job_id: int, actor_id: int | None = None) -> None:
    jobs.run_commit(job_id=job_id, actor_id=actor_id)


@shared_task
def purge_unconfirmed_imports() -> int:
    """End the import jobs left unconfirmed, and delete their files (household-level data),
    conference by conference. Meant for the beat schedule (daily)."""
    return sum(
        jobs.purge_unconfirmed(conference_id=conference_id)
        for conference_id in Conference.objects.values_list("pk", flat=True)
    )
