"""Concurrent writes without lost updates and without duplicates.

- `advisory_lock(...)`: identical submissions (a double click, a retried request, twenty
  tabs) queue behind the first one inside the service's transaction, then see its row and
  get the usual French « existe déjà » answer instead of a duplicate or an IntegrityError.
- Optimistic edits: an edit form carries the `fingerprint` of the values it was filled from
  in a hidden field; the service locks the row (select_for_update), compares, and on a
  mismatch raises `EditConflict`. The form is shown again with the person's input kept, a
  message naming who changed the record and when (from the audit log), and the new
  fingerprint: submitting again is a deliberate decision to overwrite.
"""

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import connection, models
from django.utils import timezone

FINGERPRINT_FIELD = "fingerprint"


# --- Duplicate submissions ----------------------------------------------------------------


def advisory_lock(*parts: Any) -> None:
    """Transaction-level PostgreSQL lock named by `parts` (SQLite serialises writes anyway).
    Held until the surrounding transaction ends: call it inside the service's atomic block,
    before the "does it exist already?" check, so the check sees a concurrent twin's row."""
    if connection.vendor != "postgresql":
        return
    if not connection.in_atomic_block:
        raise RuntimeError("advisory_lock() must run inside a transaction.")
    name = "\x1f".join(str(part) for part in parts).encode()
    key = int.from_bytes(hashlib.blake2b(name, digest_size=8).digest(), "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


# --- Optimistic edits -----------------------------------------------------------------------


def fingerprint(values: dict[str, Any]) -> str:
    """A short digest of the editable values as stored (JSON-friendly, see audit.snapshot)."""
    text = json.dumps(values, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def instance_fingerprint(instance: models.Model, fields: list[str]) -> str:
    from cil import audit

    return fingerprint(audit.snapshot(instance, fields))


class VersionedForm(forms.Form):
    """Mixin for an edit form: the hidden `fingerprint`, kept out of `cleaned_data` (the
    services receive it as `fingerprint=form.submitted_fingerprint`)."""

    fingerprint = forms.CharField(widget=forms.HiddenInput, required=False)

    def _clean_fields(self):
        super()._clean_fields()
        self.submitted_fingerprint = self.cleaned_data.pop(FINGERPRINT_FIELD, "") or None


class EditConflict(ValidationError):
    """The record changed after the form was loaded. `current` (its fingerprint now) lets a
    second, deliberate submission go through."""

    def __init__(self, message: str, *, current: str):
        super().__init__(message, code="edit_conflict")
        self.current = current

    def update_form(self, form: forms.Form) -> None:
        data = form.data.copy()
        data[form.add_prefix(FINGERPRINT_FIELD)] = self.current
        form.data = data


def lock_and_check(
    instance: models.Model,
    *,
    fingerprint: str | None,
    current: Callable[[models.Model], str],
    conference=None,
    labels: dict[str, str] | None = None,
) -> None:
    """Inside the service's transaction: lock `instance`'s row, reload it, and compare the
    submitted `fingerprint` with `current(instance)`. No fingerprint (the API, a command, a
    page loaded before this check existed) means no check. On a mismatch, EditConflict."""
    type(instance)._base_manager.select_for_update().filter(pk=instance.pk).values("pk").first()
    instance.refresh_from_db()
    verify(instance, fingerprint=fingerprint, current=current, conference=conference, labels=labels)


def verify(
    instance: models.Model,
    *,
    fingerprint: str | None,
    current: Callable[[models.Model], str],
    conference=None,
    labels: dict[str, str] | None = None,
) -> None:
    """The comparison alone, for a service that has already locked and re-read the row."""
    now = current(instance)
    if fingerprint and fingerprint != now:
        raise EditConflict(
            conflict_message(instance, conference=conference, labels=labels), current=now
        )


def check_fields(
    instance: models.Model, fields: list[str], *, fingerprint: str | None, conference=None
) -> None:
    """`lock_and_check` on the instance's own fields."""
    lock_and_check(
        instance,
        fingerprint=fingerprint,
        current=lambda obj: instance_fingerprint(obj, fields),
        conference=conference,
    )


def conflict_message(
    instance: models.Model, *, conference=None, labels: dict[str, str] | None = None
) -> str:
    entry = _last_change(instance, conference)
    if entry is None:
        who = "une autre personne"
        changed = ""
    else:
        when = timezone.localtime(entry.created_at)
        who = f"{entry.actor_label} le {when:%d/%m/%Y à %H:%M}"
        changed = _describe_changes(instance, entry.changes, labels or {})
    return (
        f"Cette fiche a été modifiée par {who} pendant votre saisie : vérifiez les valeurs "
        f"enregistrées entre-temps{changed}, puis enregistrez à nouveau (votre saisie est "
        "conservée ci-dessous ; l'enregistrer remplacera ces valeurs)."
    )


def _last_change(instance: models.Model, conference):
    from cil.models import AuditEntry

    conference_id = conference.pk if conference is not None else instance.conference_id
    return (
        AuditEntry.objects.with_scopes_disabled()
        .filter(
            conference_id=conference_id,
            object_type=instance._meta.label_lower,
            object_id=str(getattr(instance, "public_id", None) or instance.pk),
        )
        .order_by("-created_at", "-id")
        .first()
    )


def _describe_changes(instance: models.Model, changes: dict, labels: dict[str, str]) -> str:
    parts = []
    for name, pair in changes.items():
        if not isinstance(pair, list) or len(pair) != 2:
            continue
        parts.append(f"{_label(instance, name, labels)} : {_shown(pair[1])}")
    return f" ({' ; '.join(parts)})" if parts else ""


def _label(instance: models.Model, name: str, labels: dict[str, str]) -> str:
    label = labels.get(name)
    if label is None:
        try:
            label = str(instance._meta.get_field(name).verbose_name)
        except FieldDoesNotExist:  # not a model field (roles): its name is the best label
            label = name
    return label[:1].upper() + label[1:]


def _shown(value: Any) -> str:
    if value is True:
        return "oui"
    if value is False:
        return "non"
    if value in (None, ""):
        return "(vide)"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "(aucun)"
    return str(value)
