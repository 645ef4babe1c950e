"""Bilan tasks. They take ids only (JSON); `ConferenceTask` re-opens the conference scope."""

from celery import shared_task
from django.db import OperationalError

from attributions import bilan_cache
from attributions.models import BilanResult
from cil import cache as tolerant_cache
from cil.models import Conference
from cil.tenancy import ConferenceTask

__all__ = ["compute_bilan"]


@shared_task(
    base=ConferenceTask,
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def compute_bilan(*, conference_id: int, year: int, force: bool = False) -> bool:
    """Compute and store a conference's bilan for a year. Idempotent: running it twice, or
    again after a worker died mid-way (acks_late), upserts the same row; a document already
    stored (a duplicate enqueue) is kept unless `force`. Returns whether it computed."""
    # From here on a new request for this bilan may queue another run: data changed after
    # this point are not guaranteed to be read by this one.
    tolerant_cache.delete(bilan_cache.pending_key(conference_id, year))
    conference = Conference.objects.filter(pk=conference_id).first()
    if conference is None:
        return False
    if not force and BilanResult.objects.filter(year=year).exists():
        return False
    bilan_cache.refresh(conference, year)
    return True
