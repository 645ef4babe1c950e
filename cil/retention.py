"""The retention policy of personal data (domain.md §6): household-level rows are deleted
after the durations of the CIL_RETENTION_* settings; aggregates are kept.

Run conference by conference, each inside its own scope and transaction, by
`manage.py purge_personal_data` and the daily Celery beat task `cil.tasks.purge_personal_data`.
Each conference where something was deleted gets one audit entry with the counts.

| category      | what is deleted                                   | when                                 |
| ------------- | ------------------------------------------------- | ------------------------------------ |
| demandes      | SNE demands (observatoire) closed (radiées)       | CIL_RETENTION_DEMAND_CLOSED_DAYS after the radiation date (domain.md §6: one year) |
| attributions  | attribution lines of a whole year                 | after the end of year Y + CIL_RETENTION_ATTRIBUTION_YEARS; the bilan of Y is stored first and becomes final |
| imports       | ended import jobs (their errors quote cells) and files | CIL_RETENTION_IMPORT_JOB_DAYS after the upload |
| journal       | entries of the journal of reads                   | CIL_RETENTION_ACCESS_LOG_DAYS after the read |
| invitations   | invitations (an e-mail address)                   | CIL_RETENTION_INVITATION_DAYS after their expiry |

Kept: stored bilans, published open data, the audit log, the conventions and documents.
The models of the other apps are looked up by name (`apps.get_model`): the conference core
does not import them at module level.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from cil import audit
from cil.models import (
    AccessLogEntry,
    AuditAction,
    Conference,
    Invitation,
    PurgedPeriod,
)
from cil.tenancy import conference_scope

logger = logging.getLogger(__name__)

ATTRIBUTIONS = "attributions"
ENDED_IMPORT_STATUSES = ("done", "invalid", "failed")


@dataclass(frozen=True)
class Category:
    key: str
    label: Callable[[], str]
    # The rows to delete at `now`, inside the conference scope (None: the app is absent).
    rows: Callable[[datetime], list[QuerySet] | None]


def _model(label: str):
    try:
        return apps.get_model(label)
    except LookupError:
        return None


def _demands(now: datetime) -> list[QuerySet] | None:
    demand = _model("observatoire.Demand")
    if demand is None:
        return None
    limit = timezone.localdate(now) - timedelta(days=settings.CIL_RETENTION_DEMAND_CLOSED_DAYS)
    return [demand.objects.filter(date_radiation__lt=limit)]


def last_purged_attribution_year(now: datetime) -> int:
    """Lines of this year and before are past their retention at `now`."""
    return timezone.localdate(now).year - settings.CIL_RETENTION_ATTRIBUTION_YEARS - 1


def _attributions(now: datetime) -> list[QuerySet] | None:
    attribution = _model("attributions.Attribution")
    if attribution is None:
        return None
    return [attribution.objects.filter(year__lte=last_purged_attribution_year(now))]


def _imports(now: datetime) -> list[QuerySet] | None:
    limit = now - timedelta(days=settings.CIL_RETENTION_IMPORT_JOB_DAYS)
    found = []
    for label in ("attributions.ImportJob", "observatoire.ObservatoireImport"):
        model = _model(label)
        if model is not None:
            found.append(
                model.objects.filter(status__in=ENDED_IMPORT_STATUSES, created_at__lt=limit)
            )
    return found or None


def _journal(now: datetime) -> list[QuerySet]:
    limit = now - timedelta(days=settings.CIL_RETENTION_ACCESS_LOG_DAYS)
    return [AccessLogEntry.objects.filter(created_at__lt=limit)]


def _invitations(now: datetime) -> list[QuerySet]:
    limit = now - timedelta(days=settings.CIL_RETENTION_INVITATION_DAYS)
    return [Invitation.objects.filter(expires_at__lt=limit)]


CATEGORIES = [
    Category(
        "demandes",
        lambda: (
            f"Demandes radiées depuis plus de {settings.CIL_RETENTION_DEMAND_CLOSED_DAYS} jours"
        ),
        _demands,
    ),
    Category(
        ATTRIBUTIONS,
        lambda: (
            f"Lignes d'attribution de plus de {settings.CIL_RETENTION_ATTRIBUTION_YEARS} ans "
            "(le bilan de leur année est conservé)"
        ),
        _attributions,
    ),
    Category(
        "imports",
        lambda: (
            f"Imports de fichiers terminés depuis plus de "
            f"{settings.CIL_RETENTION_IMPORT_JOB_DAYS} jours"
        ),
        _imports,
    ),
    Category(
        "journal",
        lambda: (
            f"Inscriptions du journal des consultations de plus de "
            f"{settings.CIL_RETENTION_ACCESS_LOG_DAYS} jours"
        ),
        _journal,
    ),
    Category(
        "invitations",
        lambda: (
            f"Invitations expirées depuis plus de {settings.CIL_RETENTION_INVITATION_DAYS} jours"
        ),
        _invitations,
    ),
]


def count_conference(conference: Conference, *, now: datetime) -> dict[str, int]:
    """What a purge would delete in this conference at `now`, per category."""
    with conference_scope(conference):
        return {
            c.key: sum(q.count() for q in querysets)
            for c in CATEGORIES
            if (querysets := c.rows(now)) is not None
        }


def purge_conference(conference: Conference, *, now: datetime) -> dict[str, int]:
    """Delete what is past its retention in this conference (one transaction); one audit
    entry with the counts when anything was deleted."""
    with conference_scope(conference):
        _store_final_bilans(conference, now)
        with transaction.atomic():
            counts = {}
            for category in CATEGORIES:
                querysets = category.rows(now)
                if querysets is None:
                    continue
                if category.key in YEAR_FIELDS:
                    _mark_purged_years(conference, category.key, querysets[0], now)
                if category.key == "imports":
                    _discard_files_on_commit(querysets)
                counts[category.key] = sum(_delete(q) for q in querysets)
            if any(counts.values()):
                from observatoire import cache as observatoire_cache

                observatoire_cache.bump(conference.pk)
                labels = {c.key: c.label() for c in CATEGORIES}
                audit.record(
                    conference=conference,
                    actor=None,
                    action=AuditAction.PURGE,
                    object_type="cil.retention",
                    object_id=timezone.localdate(now).isoformat(),
                    object_repr="Purge des données personnelles (durées de conservation)",
                    changes={labels[key]: [n, 0] for key, n in counts.items() if n},
                )
    return counts


def _delete(queryset: QuerySet) -> int:
    """Rows of the queryset's own model deleted (not the cascade's)."""
    _total, per_model = queryset.delete()
    return per_model.get(queryset.model._meta.label, 0)


def _store_final_bilans(conference: Conference, now: datetime) -> None:
    """Before the lines of a year go, its bilan is computed (when not stored yet): the
    aggregate outlives the household rows."""
    from attributions import bilan_cache

    attribution = _model("attributions.Attribution")
    if attribution is None:
        return
    years = set(
        attribution.objects.filter(year__lte=last_purged_attribution_year(now)).values_list(
            "year", flat=True
        )
    )
    for year in sorted(years - final_years(conference.pk)):
        if bilan_cache.stored(conference, year) is None:
            bilan_cache.refresh(conference, year)


# The year each purged row belongs to, recorded in PurgedPeriod: the bilan year of an
# attribution (whole years are purged: their bilan is final), the radiation year of a demand
# (a rolling limit: that year's rows are then partly or wholly gone, which the observatoire's
# yearly figures must know).
YEAR_FIELDS = {ATTRIBUTIONS: "year", "demandes": "date_radiation__year"}


def _mark_purged_years(
    conference: Conference, category: str, rows: QuerySet, now: datetime
) -> None:
    for year, count in _count_by_year(rows, YEAR_FIELDS[category]).items():
        period, created = PurgedPeriod.objects.get_or_create(
            conference=conference,
            category=category,
            year=year,
            defaults={"purged_at": now, "row_count": count},
        )
        if not created:
            PurgedPeriod.objects.filter(pk=period.pk).update(
                purged_at=now, row_count=period.row_count + count
            )


def _count_by_year(rows: QuerySet, year_field: str) -> dict[int, int]:
    from django.db.models import Count

    return dict(rows.order_by().values_list(year_field).annotate(n=Count("pk")))


def _discard_files_on_commit(querysets: list[QuerySet]) -> None:
    """Stored files of the jobs deleted go once the deletion is committed."""
    files = []
    for queryset in querysets:
        for job in queryset.exclude(file=""):
            files.append(job.file)
    if files:
        transaction.on_commit(lambda: [f.delete(save=False) for f in files])


def final_years(conference_id: int, category: str = ATTRIBUTIONS) -> set[int]:
    """Years whose household rows of `category` were purged (wholly for attributions: their
    stored bilan is final, attributions.bilan_cache never deletes it; partly or wholly for
    demands, by radiation year)."""
    with conference_scope(conference_id):
        return set(PurgedPeriod.objects.filter(category=category).values_list("year", flat=True))


class PurgeFailed(RuntimeError):
    pass


def purge_all(*, now: datetime | None = None, dry_run: bool = False) -> dict[str, dict[str, int]]:
    """Every conference, one after the other: {slug: {category: count}}. A conference whose
    purge fails (its transaction rolled back) does not stop the others; the failure is
    logged and raised at the end."""
    now = now or timezone.now()
    results, failed = {}, []
    for conference in Conference.objects.order_by("slug"):
        try:
            if dry_run:
                results[conference.slug] = count_conference(conference, now=now)
            else:
                results[conference.slug] = purge_conference(conference, now=now)
        except Exception:
            logger.exception("Purge des données personnelles en échec : %s", conference.slug)
            failed.append(conference.slug)
    if failed:
        raise PurgeFailed(f"Purge en échec pour : {', '.join(failed)} (voir le journal).")
    return results


def category_labels() -> dict[str, str]:
    return {c.key: c.label() for c in CATEGORIES}


def retention_summary() -> dict[str, int]:
    """The durations in force, for the personal-data page."""
    return {
        "demand_closed_days": settings.CIL_RETENTION_DEMAND_CLOSED_DAYS,
        "attribution_years": settings.CIL_RETENTION_ATTRIBUTION_YEARS,
        "access_log_days": settings.CIL_RETENTION_ACCESS_LOG_DAYS,
        "import_job_days": settings.CIL_RETENTION_IMPORT_JOB_DAYS,
        "invitation_days": settings.CIL_RETENTION_INVITATION_DAYS,
    }
