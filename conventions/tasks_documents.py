"""The document production task. It takes ids only (JSON); `ConferenceTask` re-opens the
conference scope. Idempotent (conventions/pdf/services.py): a re-delivered task (acks_late)
leaves a ready document as it is."""

from celery import shared_task

from cil.tenancy import ConferenceTask
from conventions.pdf.services import run_generation

__all__ = ["generate_document"]


@shared_task(base=ConferenceTask, acks_late=True)
def generate_document(*, conference_id: int, document_id: int) -> None:
    run_generation(document_id=document_id)
