"""Requesting a document, and producing it (the task's body).

`document_request` is the one entry point for every app: it records the request, writes the
audit entry and queues `generate_document` once the transaction commits. The task then
calls `run_generation`: builder → render (30 %) → seal (70 %) → store (100 %) → ready; any
error leaves the document failed with a French message, never a file without its seal.
"""

import hashlib
import logging
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from cil import audit
from cil.models import AuditAction, Conference
from cil.outbox import enqueue_on_commit
from conventions.models import DocumentStatus, GeneratedDocument
from conventions.pdf import registry

logger = logging.getLogger(__name__)

GENERIC_ERROR = (
    "La production du document a échoué à la suite d'une erreur interne. "
    "Vous pouvez relancer la demande ; si l'erreur persiste, signalez-la "
    "(référence : {public_id})."
)


def document_request(
    *,
    conference: Conference,
    actor,
    kind: str,
    title: str,
    subject_type: str = "",
    subject_id: str = "",
    year: int | None = None,
    parameters: dict[str, Any] | None = None,
) -> GeneratedDocument:
    """Record the request of a document of `kind` and queue its production.

    The caller (a view) has checked the actor's permission to produce it. The document's
    view permission comes from the kind's registration. `parameters` (JSON) reach the
    builder through `document.parameters`.
    """
    document_type = registry.get(kind)
    with transaction.atomic():
        document = GeneratedDocument.objects.create(
            conference=conference,
            kind=kind,
            title=title[:255],
            subject_type=subject_type,
            subject_id=str(subject_id),
            year=year,
            parameters=parameters or {},
            view_permission=document_type.view_permission,
            created_by=actor,
        )
        audit.record(
            conference=conference,
            actor=actor,
            action=AuditAction.CREATE,
            obj=document,
            changes={"document": ["", document.title], "type": ["", document.get_kind_display()]},
        )
        conference_id, document_id = conference.pk, document.pk
        _queue(conference_id, document_id)
    return document


def _queue(conference_id: int, document_id: int) -> None:
    from conventions.tasks_documents import generate_document

    enqueue_on_commit(generate_document, conference_id=conference_id, document_id=document_id)


def _set(document: GeneratedDocument, **values) -> None:
    """Write the job's state at once (the page polls it while the task runs)."""
    GeneratedDocument.objects.filter(pk=document.pk).update(**values)
    for name, value in values.items():
        setattr(document, name, value)


def run_generation(*, document_id: int, timestamper=None) -> GeneratedDocument | None:
    """Produce the document, inside its conference's scope (opened by the task).

    Idempotent: a ready (or failed) document is left as it is, so a re-delivered task
    (acks_late) does nothing; one interrupted while rendering or sealing starts again.
    """
    document = GeneratedDocument.objects.filter(pk=document_id).first()
    if document is None or document.status in {DocumentStatus.READY, DocumentStatus.FAILED}:
        return document
    # Imported here: WeasyPrint and pyHanko load in the worker, not in every web process.
    from conventions.pdf.rendering import render_pdf
    from conventions.pdf.sealing import SealNotConfigured, load_seal, seal_pdf

    try:
        seal = load_seal()  # before rendering: no key, no work
        document_type = registry.get(document.kind)
        _set(document, status=DocumentStatus.RENDERING, progress=10, error="")
        template_name, context = document_type.build(document)
        context = {"document_title": document.title, "conference": document.conference, **context}
        pdf = render_pdf(template_name, context)
        _set(document, status=DocumentStatus.SEALING, progress=30)
        sealed = seal_pdf(
            pdf,
            seal=seal,
            timestamper=timestamper,
            **({"reason": document_type.seal_reason} if document_type.seal_reason else {}),
        )
        _set(document, progress=70)
        _store(document, sealed)
    except SealNotConfigured as error:
        _fail(document, str(error))
    except Exception:
        logger.exception("Production du document %s impossible", document.public_id)
        _fail(document, GENERIC_ERROR.format(public_id=document.public_id))
    return document


def _store(document: GeneratedDocument, sealed: bytes) -> None:
    with transaction.atomic():
        current = GeneratedDocument.objects.select_for_update().get(pk=document.pk)
        if current.status == DocumentStatus.READY:
            return  # another delivery of the task finished first
        if current.file:
            current.file.delete(save=False)  # left by an interrupted run
        current.file.save(f"{current.public_id}.pdf", ContentFile(sealed), save=False)
        current.sha256 = hashlib.sha256(sealed).hexdigest()
        current.size = len(sealed)
        current.status = DocumentStatus.READY
        current.progress = 100
        current.finished_at = timezone.now()
        current.error = ""
        current.save(
            update_fields=["file", "sha256", "size", "status", "progress", "finished_at", "error"]
        )
    document.refresh_from_db()


def _fail(document: GeneratedDocument, message: str) -> None:
    _set(document, status=DocumentStatus.FAILED, error=message, finished_at=timezone.now())
