"""Signals of the conference core, so that apps built on it react without cil importing them.

`conference_structure_changed` is sent (after commit) when a conference's communes, QPV or
members change: anything computed per conference from them (the stored bilans) is stale.
"""

from django.db import transaction
from django.dispatch import Signal

conference_structure_changed = Signal()  # kwargs: conference_id


def structure_changed(conference_id: int) -> None:
    transaction.on_commit(
        lambda: conference_structure_changed.send(sender=None, conference_id=conference_id)
    )
