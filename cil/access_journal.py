"""The journal of reads of household-level data (domain.md §6: every read of household-level
data by a person is journaled).

One function writes it, `journal_household_access`, called explicitly by each view that shows
or exports household-level rows (attribution lines, the values quoted by an import's error
list, the API's reads). Pages of aggregates (bilan, observatoire) never call it. The reads
below are the journal page's: the secretariat sees the whole conference's journal, everyone
else their own reads.
"""

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from cil.models import AccessChannel, AccessLogEntry, Conference, Organisation

# Up to this many rows, their public ids are kept in the entry (a page of a list, one line);
# beyond (an export), the description of the filters says which rows were read.
MAX_LISTED_IDS = 100

OBJECT_TYPE_LABELS = {
    "attributions.attribution": "Attributions",
    "attributions.importjob": "Import d'attributions (erreurs citant des valeurs)",
    "observatoire.observatoireimport": "Import de demandes (erreurs citant des valeurs)",
    "observatoire.demand": "Demandes de logement social",
}


def journal_household_access(
    *,
    conference: Conference,
    channel: str,
    object_type: str,
    row_count: int,
    object_ids: Iterable = (),
    description: str = "",
    request=None,
    user=None,
    token=None,
) -> AccessLogEntry:
    """Write one journal entry: who (a user, or an API token: its organisation and name),
    when (UTC), what (object type, ids or a description of the filters, row count), how
    (page, export, API), from which address (when a request is given)."""
    if channel not in AccessChannel.values:
        raise ValueError(f"Canal de consultation inconnu : {channel!r}")
    if user is None and request is not None and token is None:
        user = request.user
    if token is not None:
        actor_label = f"API, jeton {token.prefix}… ({token.name})"
        organisation_id = token.organisation_id
        user = None
    elif user is not None and user.is_authenticated:
        actor_label = user.email
        organisation_id = user.organisation_id
    else:
        raise ValueError("Une consultation est faite par une personne ou un jeton d'API.")
    ids = [str(i) for i in object_ids]
    return AccessLogEntry.objects.create(
        conference=conference,
        created_at=timezone.now(),
        user=user,
        actor_label=actor_label[:255],
        organisation_id=organisation_id,
        channel=channel,
        object_type=object_type,
        object_ids=ids if len(ids) <= MAX_LISTED_IDS else [],
        description=description[:500],
        row_count=row_count,
        ip_address=_client_address(request),
    )


def _client_address(request) -> str | None:
    """The address the request came from (the proxy's, behind a reverse proxy that does not
    rewrite REMOTE_ADDR: a forwarded header can be forged, so it is not trusted here)."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def journal_quoted_values(*, request, job, errors: list[dict], object_type: str):
    """The error list of a refused import quotes cells of its lines (household-level data):
    showing it is a read, journaled with the number of lines quoted (None when no value is
    quoted). The preview of a valid file shows counts only and is not journaled."""
    lines = {e.get("line") for e in errors if e.get("value") not in (None, "")}
    if not lines:
        return None
    return journal_household_access(
        conference=request.conference,
        request=request,
        channel=AccessChannel.PAGE,
        object_type=object_type,
        object_ids=[job.public_id],
        row_count=len(lines),
        description=f"Erreurs de l'import « {job.filename} » citant des valeurs de "
        f"{len(lines)} ligne{'s' if len(lines) > 1 else ''}",
    )


def describe_filters(filters: dict, labels: dict[str, str]) -> str:
    """« Année : 2025 ; Commune : 76540 » from the non-empty filters of a list or export."""
    parts = [f"{labels.get(name, name)} : {value}" for name, value in filters.items() if value]
    return " ; ".join(parts) if parts else "Sans filtre"


# --- Reads for the journal page ----------------------------------------------------------


def journal_entries(
    *,
    user,
    see_all: bool,
    person: str = "",
    organisation: Organisation | None = None,
    channel: str = "",
    object_type: str = "",
    start: date | None = None,
    end: date | None = None,
) -> QuerySet[AccessLogEntry]:
    """The entries a person may read (inside the conference scope): all of them when
    `see_all` (the secretariat), otherwise their own reads only."""
    entries = AccessLogEntry.objects.select_related("organisation")
    if not see_all:
        entries = entries.filter(user=user)
    if person:
        entries = entries.filter(actor_label__icontains=person)
    if organisation is not None:
        entries = entries.filter(organisation=organisation)
    if channel:
        entries = entries.filter(channel=channel)
    if object_type:
        entries = entries.filter(object_type=object_type)
    if start:
        entries = entries.filter(created_at__gte=_day_start(start))
    if end:
        entries = entries.filter(created_at__lt=_day_start(end) + timedelta(days=1))
    return entries


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def journal_organisations(*, user, see_all: bool) -> list[tuple[str, str]]:
    """(public id, name) of the organisations appearing in the readable entries."""
    entries = journal_entries(user=user, see_all=see_all).exclude(organisation=None)
    return list(
        entries.order_by("organisation__name")
        .values_list("organisation__public_id", "organisation__name")
        .distinct()
    )
