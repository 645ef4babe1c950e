"""The observatory's computed figures, cached per conference and data generation.

The pages (analysis, commune list and pages, map) compute from every demand and attribution
of the conference (174,000 demands in a metropolis: seconds of pandas). The figures are
cached in Django's cache under a key made of the conference, its data *generation*, the
page's parameters and today's date (« à ce jour » figures move with the day); a new
generation makes every older key unreachable, so nothing is ever deleted and no stale figure
is served.

The generation is `Conference.updated_at`, moved forward (`bump`) by every write the figures
depend on, inside the writer's transaction (the new generation becomes visible with the
data, at the commit): attributions written or deleted and the Q1 thresholds and rates
(attributions.services.data_changed, where the stored bilan is invalidated), observatory
imports confirmed (observatoire.importing.signals.data_changed), the délai
(services_settings), the commune boundaries (services_map), the retention purge
(cil.retention). Again after the commit: once a stale stored bilan is deleted
(attributions.bilan_cache.invalidate: a page must not read the old bilan under the new
generation), and on `conference_structure_changed` (communes, QPV, members). As a safety
net, a row of those models saved one at a time outside the services (admin, shell) bumps
too (`watched_models`, observatoire/apps.py). Any other save of the conference moves the
generation as well (a harmless miss). A page computed while a stored bilan is missing (a
worker computes it) is not cached (observatoire.territory_figures).

Why a counter moved by the writers rather than a stamp read from the data tables: the
cheapest stamp that sees every write (row count and max(xmin) of the demands and
attributions) costs 50–70 ms per request on the benchmark's metropolis (174,000 demands,
machine loaded), as much as a plain count(*): there is no (conference, updated_at) index,
and imports write through raw SQL. Reading the conference's row costs one primary-key
lookup (under 2 ms). The counter lives in the database, not in the cache, so that every
process (each with its own locmem cache) sees the same generation. The generation is read
before the data, so a computation that read old data is stored under the old generation
only. The price: writers of one conference queue on its row between their bump (their last
statement) and their commit.

What is cached is role-independent or keyed by what the role changes (statistical secrecy
applies or not): callers put the secrecy threshold in `parts`. A cache that fails is
skipped (cil.cache.get_or_compute).
"""

import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db.models import F
from django.db.models.functions import Greatest, Now
from django.utils import timezone

from cil import cache as tolerant_cache
from cil.models import Conference

# An entry outlives its generation by at most this: only to free memory (Redis, locmem).
TIMEOUT_SECONDS = 6 * 3600


def generation(conference: Conference | int) -> str:
    """The conference's data generation, read from the database (not from a loaded object:
    it may predate a write)."""
    conference_id = getattr(conference, "pk", conference)
    stamp = Conference.objects.filter(pk=conference_id).values_list("updated_at", flat=True).first()
    return "0" if stamp is None else f"{stamp.timestamp():.6f}"


def bump(conference_id: int) -> None:
    """Start a new generation (strictly later than the current one). Called by a writer
    inside its transaction, last: the new generation becomes visible with the data, at the
    commit; the conference's row stays locked only from here to the commit."""
    Conference.objects.filter(pk=conference_id).update(
        updated_at=Greatest(Now(), F("updated_at") + timedelta(microseconds=1))
    )


def watched_models(*, deletions: bool) -> list:
    """The models whose rows, saved (or deleted) one at a time, move the generation
    (observatoire/apps.py). Deletions of the large tables (attributions, demands, dwellings)
    are left out: a receiver would make Django load every row of a bulk delete (the retention
    purge, the RPLS import), and their writers bump already."""
    from django.apps import apps

    small = [
        "cil.Commune",
        "cil.Qpv",
        "cil.QpvYear",
        "attributions.Q1Threshold",
        "attributions.RuleRates",
        "observatoire.ObservatoireSettings",
        "observatoire.CommuneBoundary",
        "observatoire.TerritoryMap",
    ]
    large = (
        []
        if deletions
        else ["attributions.Attribution", "observatoire.Demand", "observatoire.Dwelling"]
    )
    return [apps.get_model(label) for label in small + large]


def key(conference: Conference, name: str, *parts: Any) -> str:
    """The cache key of one computation: conference, generation, today, name, parameters."""
    raw = repr((timezone.localdate().isoformat(), *parts))
    digest = hashlib.sha256(raw.encode()).hexdigest()[:32]
    return f"observatoire:{conference.pk}:{generation(conference)}:{name}:{digest}"


def cached(
    conference: Conference,
    name: str,
    parts: tuple,
    compute: Callable[[], Any],
    *,
    keep: Callable[[Any], bool] | None = None,
) -> Any:
    """`compute()`, or its value cached for the conference's current generation (not stored
    when `keep(value)` is false)."""
    return tolerant_cache.get_or_compute(
        key(conference, name, *parts), compute, TIMEOUT_SECONDS, keep=keep
    )
