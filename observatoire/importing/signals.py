"""Sent (after commit) when an import changed the observatory's data, so that whatever is
computed from it (stored indicators, published open data) knows it is stale, without the
import depending on those modules.

`observatoire_data_changed`: kwargs `conference_id`, `kind` ("demandes", "rpls" or "qpv")
and `years` (the years the changed rows concern: deposit and closure years of demands, the
millésime of dwellings, the year of a QPV list).
"""

from django.db import transaction
from django.dispatch import Signal

observatoire_data_changed = Signal()


def data_changed(conference_id: int, kind: str, years) -> None:
    from observatoire import cache

    years = sorted(set(years))
    cache.bump(conference_id)  # the cached figures: a new generation, visible with the data
    transaction.on_commit(
        lambda: observatoire_data_changed.send(
            sender=None, conference_id=conference_id, kind=kind, years=years
        )
    )
