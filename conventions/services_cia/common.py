"""What the CIA services share: the refusals (a French error on a field, a foreign object),
the rule that only a draft changes, the history of the status machine, and the bilan's
invalidation when a version starts or stops driving it."""

from django.core.exceptions import ValidationError
from django.db import transaction

from cil import audit
from cil.models import AuditAction, Conference, User
from conventions.models import ConventionVersion, VersionStatus, VersionStatusChange


def fail(field: str | None, message: str):
    """Refuse with a French message, on `field` of the form when the view's form has it."""
    raise ValidationError({field: message} if field else message)


def same_conference(conference: Conference, *objects) -> None:
    for obj in objects:
        if obj.conference_id != conference.pk:
            raise ValueError("L'objet n'appartient pas à cette conférence.")


def require_draft(version: ConventionVersion) -> None:
    if version.status != VersionStatus.BROUILLON:
        fail(
            None,
            "Cette version est figée depuis sa mise en signature : pour la modifier, "
            "créez un avenant.",
        )


def record_step(
    *,
    conference: Conference,
    version: ConventionVersion,
    actor: User | None,
    to_status: str,
    note: str = "",
    created: bool = False,
) -> None:
    """Move `version` to `to_status` (or record its creation, `created`) and write the
    history row and the audit entry."""
    from_status = "" if created else version.status
    version.status = to_status
    version.save(update_fields=["status"])
    VersionStatusChange.objects.create(
        conference=conference,
        version=version,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        actor_label=str(actor) if actor else "plateforme",
        note=note[:500],
    )
    audit.record(
        conference=conference,
        actor=actor,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        obj=version,
        changes={
            "statut": [
                None if created else VersionStatus(from_status).label,
                VersionStatus(to_status).label,
            ]
        },
    )


def bilan_changed(conference: Conference, version: ConventionVersion) -> None:
    """The version now drives the objectives of the years from its effect to the end of the
    convention: their stored bilans are stale (after the commit)."""
    from attributions import bilan_cache

    convention = version.convention
    first = max(convention.start_year, version.effective_from.year)
    years = list(range(first, convention.end_year + 1))
    if years:
        transaction.on_commit(
            lambda: bilan_cache.invalidate(conference_id=conference.pk, years=years)
        )
