"""Celery tasks of the observatory (Celery discovers this module).

Imports: for files of CIL_IMPORT_ASYNC_LINES lines or more. They take ids only (JSON);
`ConferenceTask` re-opens the conference scope. Idempotent: the job row holds the state and
each step starts only from the state before it (observatoire/importing/jobs.py).
"""

from celery import shared_task

from cil.models import Conference
from cil.tenancy import ConferenceTask
from observatoire.importing import jobs

__all__ = [
    "observatoire_import_commit",
    "observatoire_import_validate",
    "purge_unconfirmed_observatoire_imports",
]


@shared_task(base=ConferenceTask, acks_late=True)
def observatoire_import_validate(*, conference_id: int, job_id: int) -> None:
    jobs.run_validation(job_id=job_id)


@shared_task(base=ConferenceTask, acks_late=True)
def observatoire_import_commit(
    *, conference_id: int, job_id: int, actor_id: int | None = None
) -> None:
    jobs.run_commit(job_id=job_id, actor_id=actor_id)


@shared_task
def purge_unconfirmed_observatoire_imports() -> int:
    """End the observatory's import jobs left unconfirmed, and delete their files, conference
    by conference. Meant for the beat schedule (daily)."""
    return sum(
        jobs.purge_unconfirmed(conference_id=conference_id)
        for conference_id in Conference.objects.values_list("pk", flat=True)
    )
