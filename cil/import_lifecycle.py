"""The parts of an import job's life cycle that do not depend on what is imported, shared by
the attributions import (`attributions.importing.jobs`) and the observatory's imports
(`observatoire.importing.jobs`).

A job row holds its state; each step moves it on only from the state it was read in, so a
task run twice (acks_late re-delivery, a double click) does nothing the second time. The
stored file holds household-level data (domain.md §6): it is deleted once the job has ended,
and a job left unconfirmed for `unconfirmed_days` ends.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db import connection, models, transaction
from django.utils import timezone

from cil.outbox import enqueue_on_commit
from cil.tenancy import conference_scope


def failure(message: str) -> list[dict]:
    """A job's error list holding one message about the file as a whole."""
    return [{"line": None, "column": "", "value": "", "message": message}]


@dataclass(frozen=True)
class JobLifecycle:
    model: type[models.Model]
    ready: str
    failed: str
    ended: tuple[str, ...]
    lock_namespace: int  # keeps each pipeline's advisory lock keys apart
    unconfirmed_days: int = 7

    def lock(self, job_id: int) -> None:
        """Transaction-level advisory lock on one job (PostgreSQL; SQLite serialises
        writes)."""
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [self.lock_namespace, job_id])

    def fail(self, job_id: int, from_status: str, message: str) -> None:
        """End the job as FAILED with one message about the file as a whole."""
        self.finish(
            job_id,
            from_status,
            status=self.failed,
            errors=failure(message),
            finished_at=timezone.now(),
        )

    def enqueue(self, task, job, **kwargs) -> None:
        """Queue `task` for the job once the current transaction commits (the worker must
        find the job row)."""
        enqueue_on_commit(task, conference_id=job.conference_id, job_id=job.pk, **kwargs)

    def finish(self, job_id: int, from_status: str, **values) -> None:
        """Move the job on, only from the state it was read in. At an end state its file
        goes, once the change is committed."""
        moved = self.model.objects.filter(pk=job_id, status=from_status).update(**values)
        if moved and values.get("status") in self.ended:
            conference_id = (
                self.model.objects.filter(pk=job_id).values_list("conference_id", flat=True).get()
            )
            transaction.on_commit(
                lambda: self.discard_file(conference_id=conference_id, job_id=job_id)
            )

    def discard_file(self, *, conference_id: int, job_id: int) -> None:
        """Delete an ended job's stored file (its sha256 stays, as a trace)."""
        with conference_scope(conference_id):
            job = (
                self.model.objects.filter(pk=job_id, status__in=self.ended).exclude(file="").first()
            )
            if job is None:
                return
            job.file.delete(save=False)
            self.model.objects.filter(pk=job_id).update(file="")

    def purge_unconfirmed(self, *, conference_id: int) -> int:
        """End the jobs left READY for `unconfirmed_days`: nothing was imported, the file
        goes."""
        limit = timezone.now() - timedelta(days=self.unconfirmed_days)
        count = 0
        with conference_scope(conference_id):
            stale = self.model.objects.filter(status=self.ready, created_at__lt=limit)
            for job_id in stale.values_list("pk", flat=True):
                self.fail(
                    job_id,
                    self.ready,
                    f"Import non confirmé dans les {self.unconfirmed_days} jours : rien "
                    "n'a été importé et le fichier a été supprimé.",
                )
                count += 1
        return count
