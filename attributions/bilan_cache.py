"""The stored bilan: one `BilanResult` per conference × year, read by the pages and the API,
computed when missing, deleted when the data it was computed from change.

Consistency: computing-and-storing (`refresh`) and deleting (`invalidate`) take the same
PostgreSQL advisory lock per conference × year. The services invalidate after their change
is committed (`transaction.on_commit`), so a computation that may have read the old data
holds the lock before the invalidation gets it: the invalidation waits, then deletes that
result; a computation that starts later reads the new data. (SQLite, the embedded
development default, has no advisory lock: there, this race is not guarded.)
"""

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from attributions import bilan_data
from attributions.indicators import bilan
from attributions.models import BilanResult
from cil import cache as tolerant_cache
from cil.models import Conference
from cil.outbox import enqueue_on_commit
from cil.tenancy import conference_scope
from observatoire import cache as observatoire_cache

LOCK_NAMESPACE = 0x4249  # "BI": keeps these advisory lock keys apart from other uses
# A page polling a missing bilan enqueues one computation per this many seconds at most.
PENDING_SECONDS = 30


def get_bilan(conference: Conference, year: int, *, compute_if_missing: bool = True) -> dict | None:
    """The `bilan` v1 document of a conference for a year, or None while it is computed.

    Missing and `compute_if_missing`: computed inline and stored when tasks run eagerly
    (development, tests), otherwise a task is queued and None returned (the page shows
    « calcul en cours » and asks again)."""
    document = stored(conference, year)
    if document is not None or not compute_if_missing:
        return document
    if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
        return refresh(conference, year)
    if tolerant_cache.add(pending_key(conference.pk, year), True, PENDING_SECONDS):
        from attributions import bilan_tasks

        enqueue_on_commit(bilan_tasks.compute_bilan, conference_id=conference.pk, year=year)
    return None


def stored(conference: Conference, year: int) -> dict | None:
    """The stored document, keys in the contract's order (jsonb keeps none), or None."""
    with conference_scope(conference):
        document = BilanResult.objects.filter(year=year).values_list("document", flat=True).first()
    return None if document is None else bilan.in_contract_order(document)


def refresh(conference: Conference, year: int) -> dict:
    """Compute the document from the current data and store it (upsert); returns it."""
    with conference_scope(conference), transaction.atomic():
        _lock(conference.pk, year)
        document = bilan_data.compute(conference, year)
        try:
            with transaction.atomic():
                BilanResult.objects.update_or_create(
                    conference=conference, year=year, defaults={"document": document}
                )
        except IntegrityError:
            # Inserted by another process between our read and our insert (possible where
            # there is no advisory lock): the unique constraint holds, update that row.
            BilanResult.objects.filter(year=year).update(
                document=document, computed_at=timezone.now()
            )
    return document


def invalidate(*, conference_id: int, years: list[int]) -> None:
    """Delete the stored documents of these years: the data they were computed from
    changed. Called by the services once the change is committed. The years whose lines
    were purged under the retention policy keep theirs: it can no longer be recomputed."""
    from cil.retention import final_years

    years = sorted(set(years) - final_years(conference_id))
    with conference_scope(conference_id), transaction.atomic():
        for year in years:
            _lock(conference_id, year)
        BilanResult.objects.filter(year__in=years).delete()
    # After the delete: a page reading the new generation never finds the old bilan.
    observatoire_cache.bump(conference_id)


def invalidate_all(*, conference_id: int) -> None:
    """Delete every stored year of a conference: for changes that touch all years (its
    communes, its bailleur members, an organisation's name)."""
    with conference_scope(conference_id):
        years = list(BilanResult.objects.values_list("year", flat=True))
    if years:
        invalidate(conference_id=conference_id, years=years)


def pending_key(conference_id: int, year: int) -> str:
    return f"bilan:pending:{conference_id}:{year}"


def _lock(conference_id: int, year: int) -> None:
    """Transaction-level advisory lock on one conference × year (PostgreSQL)."""
    if connection.vendor != "postgresql":
        return
    key = (LOCK_NAMESPACE << 48) | (conference_id << 16) | year
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
