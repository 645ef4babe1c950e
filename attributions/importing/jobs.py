"""The life cycle of an `ImportJob`, shared by the web pages, the Celery tasks and the command.

    VALIDATING ──▶ READY ──(confirmed)──▶ IMPORTING ──▶ DONE
        ├──▶ INVALID (errors listed)  │           ├──▶ INVALID (the data changed meanwhile)
        └──▶ FAILED                   │           └──▶ FAILED (unexpected error)
                                      └──(not confirmed in a week)──▶ FAILED

The job row holds the state: each step starts only from the state before it, so running a task
twice (acks_late re-delivery, a double click) does nothing the second time. Files under
CIL_IMPORT_ASYNC_LINES lines are handled in the request; bigger ones by a task, whose
progress (`processed_lines`) the page polls. The uploaded file is kept only while it is needed:
it is deleted once the job is DONE, INVALID or FAILED.
"""

import logging
import time
from pathlib import PurePath

from django.conf import settings
from django.core.files import File
from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    IntegrityError,
    connection,
    connections,
    transaction,
)
from django.utils import timezone

from attributions.importing import committing, planning, reading
from attributions.importing.reading import FileRefused
from attributions.models import ImportJob, ImportStatus
from cil.import_lifecycle import JobLifecycle
from cil.models import Conference, Organisation, User

logger = logging.getLogger(__name__)

LOCK_NAMESPACE = 0x494D  # "IM": keeps these advisory lock keys apart from other uses
# The stored file holds household-level data (domain.md §6): it is deleted as soon as the job
# ends, and a job left unconfirmed this long ends (`purge_unconfirmed`).
UNCONFIRMED_DAYS = 7


def is_async(job: ImportJob) -> bool:
    return job.total_lines >= settings.CIL_IMPORT_ASYNC_LINES


@transaction.atomic
def import_job_create(
    *,
    conference: Conference,
    actor: User | None,
    file: File,
    filename: str,
    acting_bailleur: Organisation | None,
    plan: planning.Plan | None = None,
) -> ImportJob:
    """Store a file as an import job, to be validated (or READY when `plan` is its valid plan,
    as the command does). FileRefused, with nothing stored, when the file cannot be read as
    an `attributions` file (wrong extension or content, empty, unknown or missing columns)."""
    with reading.open_file(file, filename) as opened:
        sha256, line_count = opened.sha256, opened.line_count
    job = ImportJob(
        conference=conference,
        created_by=actor,
        acting_bailleur=acting_bailleur,
        filename=PurePath(filename).name[:255],
        sha256=sha256,
        total_lines=line_count,
    )
    if plan is not None:
        job.status, job.counts, job.processed_lines = ImportStatus.READY, plan.counts(), line_count
    file.seek(0)
    job.file.save(job.filename, file, save=False)
    job.save()
    return job


def start_validation(job: ImportJob) -> None:
    if is_async(job):
        from attributions.import_tasks import import_validate

        _enqueue(import_validate, job)
    else:
        run_validation(job_id=job.pk, report_progress=False)


def import_confirm(
    *,
    job: ImportJob,
    actor: User | None,
    synchronous: bool = False,
    plan: planning.Plan | None = None,
) -> bool:
    """Start writing a READY job (in a task for a big file, unless `synchronous`). False when
    it was not READY (already started, done…). `plan`: the job's plan made in this process
    with its rows kept (`plan_import(keep_rows=True)`, as the command does): a synchronous
    commit writes them without reading and checking the file a second time."""
    started = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.READY).update(
        status=ImportStatus.IMPORTING, processed_lines=0
    )
    if not started:
        return False
    actor_id = actor.pk if actor is not None else None
    if is_async(job) and not synchronous:
        from attributions.import_tasks import import_commit

        _enqueue(import_commit, job, actor_id=actor_id)
    else:
        run_commit(job_id=job.pk, actor_id=actor_id, report_progress=False, plan=plan)
    return True


def _load(job_id: int) -> ImportJob | None:
    return ImportJob.objects.select_related("conference").filter(pk=job_id).first()


def _same_file(job: ImportJob, opened: reading.AttributionFile) -> None:
    if opened.sha256 != job.sha256:
        raise FileRefused(
            "Le fichier enregistré ne correspond plus au fichier déposé : déposez-le à nouveau."
        )


ENDED = (ImportStatus.DONE, ImportStatus.INVALID, ImportStatus.FAILED)

_LIFECYCLE = JobLifecycle(
    ImportJob,
    ready=ImportStatus.READY,
    failed=ImportStatus.FAILED,
    ended=ENDED,
    lock_namespace=LOCK_NAMESPACE,
    unconfirmed_days=UNCONFIRMED_DAYS,
)
_enqueue = _LIFECYCLE.enqueue
_finish = _LIFECYCLE.finish
discard_file = _LIFECYCLE.discard_file
purge_unconfirmed = _LIFECYCLE.purge_unconfirmed
_fail = _LIFECYCLE.fail
_lock = _LIFECYCLE.lock


def run_validation(*, job_id: int, report_progress: bool = True) -> None:
    """Check the whole file and count what it would change (inside the job's conference
    scope). From VALIDATING only; writes no attribution."""
    job = _load(job_id)
    if job is None or job.status != ImportStatus.VALIDATING:
        return
    progress = ProgressWriter(job) if report_progress else None
    try:
        with job.file.open("rb") as stream, reading.open_file(stream, job.filename) as opened:
            _same_file(job, opened)
            plan = planning.plan_import(
                opened,
                conference=job.conference,
                acting_bailleur_id=job.acting_bailleur_id,
                progress=progress,
            )
    except FileRefused as refused:
        errors = planning.ErrorLog()
        errors.refused(refused)
        plan = planning.Plan(errors=errors.kept, error_count=errors.count)
    except Exception:
        logger.exception("Vérification de l'import %s impossible", job.public_id)
        _fail(
            job.pk,
            ImportStatus.VALIDATING,
            "Erreur inattendue pendant la vérification : réessayez plus tard.",
        )
        return
    _finish(
        job.pk,
        ImportStatus.VALIDATING,
        status=ImportStatus.READY if plan.is_valid else ImportStatus.INVALID,
        counts=plan.counts(),
        errors=plan.errors,
        processed_lines=job.total_lines,
        finished_at=None if plan.is_valid else timezone.now(),
    )


def run_commit(
    *,
    job_id: int,
    actor_id: int | None,
    report_progress: bool = True,
    plan: planning.Plan | None = None,
) -> None:
    """Write a confirmed job's file, all or nothing (inside the job's conference scope). From
    IMPORTING only: the job's DONE state is written in the same transaction as the
    attributions, so a second run finds it DONE and does nothing. With `plan` (see
    `import_confirm`), its rows are written when they can be reused
    (`committing.commit_planned`), else the file is read and checked again."""
    job = progress = None
    try:
        with transaction.atomic():
            _lock(job_id)  # a concurrent run of the same job waits here, then sees DONE
            job = _load(job_id)
            if job is None or job.status != ImportStatus.IMPORTING:
                return
            actor = User.objects.filter(pk=actor_id).first() if actor_id else None
            progress = ProgressWriter(job, inside_transaction=True) if report_progress else None
            result = None
            if plan is not None and plan.rows is not None:
                result = committing.commit_planned(
                    plan, conference=job.conference, actor=actor, job=job, progress=progress
                )
            if result is None:
                with (
                    job.file.open("rb") as stream,
                    reading.open_file(stream, job.filename) as opened,
                ):
                    _same_file(job, opened)
                    result = committing.commit_import(
                        opened,
                        conference=job.conference,
                        actor=actor,
                        job=job,
                        acting_bailleur_id=job.acting_bailleur_id,
                        bailleur_ids=job.counts.get("bailleurs", []),
                        progress=progress,
                    )
            _finish(
                job.pk,
                ImportStatus.IMPORTING,
                status=ImportStatus.DONE,
                counts={**job.counts, **result.counts(), "errors": 0},
                processed_lines=job.total_lines,
                finished_at=timezone.now(),
            )
    except (committing.ImportRejected, FileRefused) as rejected:
        if isinstance(rejected, FileRefused):
            errors = planning.ErrorLog()
            errors.refused(rejected)
        else:
            errors = rejected.errors
        _finish(
            job_id,
            ImportStatus.IMPORTING,
            status=ImportStatus.INVALID,
            counts={**(job.counts if job else {}), "errors": errors.count},
            errors=errors.kept,
            finished_at=timezone.now(),
        )
    except IntegrityError:
        logger.warning("Import %s : conflit d'écriture", job_id, exc_info=True)
        _fail(
            job_id,
            ImportStatus.IMPORTING,
            "Des attributions de ce fichier ont été enregistrées en même temps par un autre "
            "moyen : rien n'a été importé. Relancez l'import.",
        )
    except Exception:
        logger.exception("Import %s impossible", job_id)
        _fail(
            job_id,
            ImportStatus.IMPORTING,
            "Erreur inattendue : rien n'a été importé. Réessayez plus tard.",
        )
    finally:
        if progress is not None:
            progress.close()


class ProgressWriter:
    """Records how far a running job got (`processed_lines`), at most every INTERVAL seconds.

    The commit runs in one transaction, whose writes no one sees before its end: there the
    progress goes through a second connection (PostgreSQL only), with a short lock timeout so
    that it never waits; a failure only stops the progress reports."""

    INTERVAL = 0.5

    def __init__(self, job: ImportJob, *, inside_transaction: bool = False):
        # Any job model with `processed_lines` (the observatory's imports use this too).
        self.model = type(job)
        self.job_id = job.pk
        self.inside_transaction = inside_transaction
        self._last = 0.0
        self._side = None
        self._disabled = inside_transaction and connection.vendor != "postgresql"

    def __call__(self, line: int) -> None:
        now = time.monotonic()
        if self._disabled or now - self._last < self.INTERVAL:
            return
        self._last = now
        if not self.inside_transaction:
            self.model.objects.filter(pk=self.job_id).update(processed_lines=line)
            return
        try:
            if self._side is None:
                self._side = connections.create_connection(DEFAULT_DB_ALIAS)
                with self._side.cursor() as cursor:
                    cursor.execute("SET lock_timeout = '200ms'")
            table = self._side.ops.quote_name(self.model._meta.db_table)
            with self._side.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} SET processed_lines = %s WHERE id = %s",  # noqa: S608 - table name quoted from the model's meta, values as parameters  # nosec B608
                    [line, self.job_id],
                )
        except DatabaseError:
            logger.warning("Progression de l'import non enregistrée", exc_info=True)
            self._disabled = True
            self.close()

    def close(self) -> None:
        if self._side is not None:
            self._side.close()
            self._side = None
