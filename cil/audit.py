"""The audit log: every change made through a service records who, what, when, where.

Services call `record()` inside their transaction, so an entry exists if and only if the
change was committed.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models

from cil.models import AuditEntry, Conference, Organisation


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return value


def snapshot(instance: models.Model, fields: list[str]) -> dict[str, Any]:
    """The values of `fields` on `instance`, in a JSON-friendly form."""
    values = {}
    for name in fields:
        field = instance._meta.get_field(name)
        value = getattr(instance, name)
        if field.choices and not isinstance(value, models.Model):
            value = getattr(instance, f"get_{name}_display")()
        values[name] = _plain(value)
    return values


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields whose value changed."""
    return {
        name: [before.get(name), after.get(name)]
        for name in after
        if before.get(name) != after.get(name)
    }


def record(
    *,
    conference: Conference,
    actor,
    action: str,
    obj: models.Model | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    object_repr: str | None = None,
    changes: dict[str, Any] | None = None,
    actor_organisation: Organisation | None = None,
    actor_label: str | None = None,
) -> AuditEntry:
    """Write one audit entry. `actor` is a user, or None for the platform itself or for an
    organisation acting without a person (an API token): then `actor_organisation` and
    `actor_label` say who acted."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(getattr(obj, "public_id", None) or obj.pk)
        object_repr = object_repr or str(obj)
    return AuditEntry.objects.create(
        conference=conference,
        actor=actor,
        actor_label=actor_label or (actor.email if actor is not None else "plateforme"),
        actor_organisation_id=(
            actor_organisation.pk
            if actor_organisation is not None
            else getattr(actor, "organisation_id", None)
        ),
        action=action,
        object_type=object_type or "",
        object_id=object_id or "",
        object_repr=(object_repr or "")[:255],
        changes=changes or {},
    )
