"""The life cycle of an `ObservatoireImport`, shared by the web pages, the Celery tasks, the
command and the demo — the same as the attributions import's (attributions/importing/jobs.py):

    VALIDATING ──▶ READY ──(confirmed)──▶ COMMITTING ──▶ DONE
        ├──▶ INVALID (errors listed)  │            ├──▶ INVALID (the data changed meanwhile)
        └──▶ FAILED                   │            └──▶ FAILED (unexpected error)
                                      └──(not confirmed in a week)──▶ FAILED

The job row holds the state: each step starts only from the state before it, so running a task
twice does nothing the second time. Files under CIL_IMPORT_ASYNC_LINES lines are handled in the
request; bigger ones by a task whose progress (`processed_lines`) the page polls. The uploaded
file (household-level data for demands) is deleted as soon as the job ends.
"""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import PurePath
from typing import BinaryIO

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone

from attributions.importing.jobs import ProgressWriter
from cil import audit, tabular
from cil.import_lifecycle import JobLifecycle
from cil.models import AuditAction, Conference, User
from cil.tabular import FileRefused
from observatoire.importing import demandes, qpv, rpls
from observatoire.importing.base import ImportRejected, Plan
from observatoire.importing.signals import data_changed
from observatoire.models import ObservatoireImport, ObservatoireImportKind
from observatoire.models.imports import ObservatoireImportStatus as Status

logger = logging.getLogger(__name__)

LOCK_NAMESPACE = 0x4F42  # "OB": apart from the attributions import's advisory locks
UNCONFIRMED_DAYS = 7
ENDED = (Status.DONE, Status.INVALID, Status.FAILED)

_LIFECYCLE = JobLifecycle(
    ObservatoireImport,
    ready=Status.READY,
    failed=Status.FAILED,
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
RUNNING = (Status.VALIDATING, Status.COMMITTING)


@dataclass(frozen=True)
class Kind:
    layout: tabular.Layout
    plan: Callable[..., Plan]
    commit: Callable[..., dict]
    year_required: bool


KINDS: dict[str, Kind] = {
    ObservatoireImportKind.DEMANDES: Kind(demandes.LAYOUT, demandes.plan, demandes.commit, False),
    ObservatoireImportKind.RPLS: Kind(rpls.LAYOUT, rpls.plan, rpls.commit, True),
    ObservatoireImportKind.QPV: Kind(qpv.LAYOUT, qpv.plan, qpv.commit, True),
}


@contextmanager
def open_file(stream: BinaryIO, filename: str, kind: str) -> Iterator[tabular.TabularFile]:
    """Open a file of this kind (FileRefused: wrong extension or content, empty, header
    refused by the kind's contract)."""
    with tabular.open_file(stream, filename, KINDS[kind].layout) as opened:
        yield opened


def plan_file(
    stream: BinaryIO,
    filename: str,
    *,
    kind: str,
    conference: Conference,
    year: int | None,
    progress=None,
    on_error=None,
) -> Plan:
    """Check a whole file of this kind and count what importing it would do (inside the
    conference's scope). Writes nothing; a refused file is a plan with its errors."""
    try:
        with open_file(stream, filename, kind) as opened:
            return KINDS[kind].plan(
                opened, conference=conference, year=year, progress=progress, on_error=on_error
            )
    except FileRefused as refused:
        if on_error is not None:
            for problem in refused.problems:
                on_error({"line": refused.line, "column": "", "value": "", "message": problem})
        return Plan.refused(refused)


def is_async(job: ObservatoireImport) -> bool:
    return job.total_lines >= settings.CIL_IMPORT_ASYNC_LINES


@transaction.atomic
def observatoire_import_create(
    *,
    conference: Conference,
    actor: User | None,
    kind: str,
    year: int | None,
    file: File,
    filename: str,
    plan: Plan | None = None,
) -> ObservatoireImport:
    """Store a file as an import job, to be validated (or READY when `plan` is its valid plan,
    as the command does). FileRefused, with nothing stored, when the file cannot be read as a
    file of this kind (wrong extension or content, empty, header refused)."""
    if kind not in KINDS:
        raise ValueError(f"type d'import inconnu : {kind}")
    if KINDS[kind].year_required and not year:
        raise ValueError(f"l'import {kind} demande une année")
    with open_file(file, filename, kind) as opened:
        sha256, line_count = opened.sha256, opened.line_count
    job = ObservatoireImport(
        conference=conference,
        kind=kind,
        year=year,
        created_by=actor,
        filename=PurePath(filename).name[:255],
        sha256=sha256,
        total_lines=line_count,
    )
    if plan is not None:
        job.status, job.counts, job.processed_lines = Status.READY, plan.counts, line_count
    file.seek(0)
    job.file.save(job.filename, file, save=False)
    job.save()
    return job


def start_validation(job: ObservatoireImport) -> None:
    if is_async(job):
        from observatoire.tasks import observatoire_import_validate

        _enqueue(observatoire_import_validate, job)
    else:
        run_validation(job_id=job.pk, report_progress=False)


def observatoire_import_confirm(
    *, job: ObservatoireImport, actor: User | None, synchronous: bool = False
) -> bool:
    """Start writing a READY job (in a task for a big file, unless `synchronous`). False when
    it was not READY (already started, done…)."""
    started = ObservatoireImport.objects.filter(pk=job.pk, status=Status.READY).update(
        status=Status.COMMITTING, processed_lines=0
    )
    if not started:
        return False
    actor_id = actor.pk if actor is not None else None
    if is_async(job) and not synchronous:
        from observatoire.tasks import observatoire_import_commit

        _enqueue(observatoire_import_commit, job, actor_id=actor_id)
    else:
        run_commit(job_id=job.pk, actor_id=actor_id, report_progress=False)
    return True


def _load(job_id: int) -> ObservatoireImport | None:
    return ObservatoireImport.objects.select_related("conference").filter(pk=job_id).first()


def _same_file(job: ObservatoireImport, opened: tabular.TabularFile) -> None:
    if opened.sha256 != job.sha256:
        raise FileRefused(
            "Le fichier enregistré ne correspond plus au fichier déposé : déposez-le à nouveau."
        )


def run_validation(*, job_id: int, report_progress: bool = True) -> None:
    """Check the whole file and count what it would change (inside the job's conference
    scope). From VALIDATING only; writes no data."""
    job = _load(job_id)
    if job is None or job.status != Status.VALIDATING:
        return
    progress = ProgressWriter(job) if report_progress else None
    try:
        with job.file.open("rb") as stream, open_file(stream, job.filename, job.kind) as opened:
            _same_file(job, opened)
            plan = KINDS[job.kind].plan(
                opened, conference=job.conference, year=job.year, progress=progress
            )
    except FileRefused as refused:
        plan = Plan.refused(refused)
    except Exception:
        logger.exception("Vérification de l'import %s impossible", job.public_id)
        _fail(
            job.pk,
            Status.VALIDATING,
            "Erreur inattendue pendant la vérification : réessayez plus tard.",
        )
        return
    _finish(
        job.pk,
        Status.VALIDATING,
        status=Status.READY if plan.is_valid else Status.INVALID,
        counts=plan.counts,
        errors=plan.errors,
        processed_lines=job.total_lines,
        finished_at=None if plan.is_valid else timezone.now(),
    )


AUDIT_COUNTS = (
    ("lines", "lignes"),
    ("create", "créées"),
    ("update", "modifiées"),
    ("unchanged", "inchangées"),
    ("delete", "supprimées"),
    ("ignored", "lignes d'autres communes ignorées"),
)


def run_commit(*, job_id: int, actor_id: int | None, report_progress: bool = True) -> None:
    """Write a confirmed job's file, all or nothing (inside the job's conference scope). From
    COMMITTING only: the DONE state is written in the same transaction as the data, so a
    second run finds it DONE and does nothing."""
    job = progress = None
    try:
        with transaction.atomic():
            _lock(job_id)  # a concurrent run of the same job waits here, then sees DONE
            job = _load(job_id)
            if job is None or job.status != Status.COMMITTING:
                return
            actor = User.objects.filter(pk=actor_id).first() if actor_id else None
            progress = ProgressWriter(job, inside_transaction=True) if report_progress else None
            with job.file.open("rb") as stream, open_file(stream, job.filename, job.kind) as opened:
                _same_file(job, opened)
                result = KINDS[job.kind].commit(
                    opened, conference=job.conference, year=job.year, progress=progress, actor=actor
                )
            years = result.pop("years", [])
            counts = {**job.counts, **result, "errors": 0}
            audit.record(
                conference=job.conference,
                actor=actor,
                action=AuditAction.IMPORT,
                obj=job,
                changes={
                    "type": job.get_kind_display(),
                    "année": job.year,
                    **{label: counts[key] for key, label in AUDIT_COUNTS if key in counts},
                },
            )
            if counts.get("create") or counts.get("update") or counts.get("delete"):
                data_changed(job.conference_id, job.kind, years)
            _finish(
                job.pk,
                Status.COMMITTING,
                status=Status.DONE,
                counts=counts,
                processed_lines=job.total_lines,
                finished_at=timezone.now(),
            )
    except (ImportRejected, FileRefused) as rejected:
        if isinstance(rejected, FileRefused):
            plan = Plan.refused(rejected)
            errors, count = plan.errors, plan.error_count
        else:
            errors, count = rejected.errors.kept, rejected.errors.count
        _finish(
            job_id,
            Status.COMMITTING,
            status=Status.INVALID,
            counts={**(job.counts if job else {}), "errors": count},
            errors=errors,
            finished_at=timezone.now(),
        )
    except IntegrityError:
        logger.warning("Import de l'observatoire %s : conflit d'écriture", job_id, exc_info=True)
        _fail(
            job_id,
            Status.COMMITTING,
            "Des données de ce fichier ont été enregistrées en même temps par un autre "
            "import : rien n'a été importé. Relancez l'import.",
        )
    except Exception:
        logger.exception("Import de l'observatoire %s impossible", job_id)
        _fail(
            job_id,
            Status.COMMITTING,
            "Erreur inattendue : rien n'a été importé. Réessayez plus tard.",
        )
    finally:
        if progress is not None:
            progress.close()
