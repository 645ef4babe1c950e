"""Writes of the observatory's settings (one transaction, one audit entry per change)."""

from django.core.exceptions import ValidationError
from django.db import transaction

from cil import audit
from cil.models import AuditAction, Conference, User
from observatoire import cache as observatoire_cache
from observatoire.models import ObservatoireSettings

FIELDS = ["delai_anormalement_long_mois", "delai_source"]
MAX_DELAI_MOIS = 240  # 20 years: beyond, a typing error rather than an arrêté


@transaction.atomic
def observatoire_settings_set(
    *,
    conference: Conference,
    actor: User | None,
    delai_anormalement_long_mois: int | None,
    delai_source: str,
) -> ObservatoireSettings:
    """Enter or correct the délai anormalement long (CCH L.441-1-4: fixed per département by
    arrêté préfectoral), used by the observatory's waiting-time indicators. Empty = not set."""
    delai = delai_anormalement_long_mois
    if delai is not None and not 1 <= delai <= MAX_DELAI_MOIS:
        raise ValidationError(
            {
                "delai_anormalement_long_mois": f"Le délai doit être compris entre 1 et {MAX_DELAI_MOIS} mois."
            }
        )
    source = (delai_source or "").strip()
    if delai is not None and not source:
        raise ValidationError(
            {"delai_source": "Indiquez l'arrêté préfectoral qui fixe ce délai (référence et date)."}
        )
    settings = ObservatoireSettings.objects.filter(conference=conference).first()
    before = audit.snapshot(settings, FIELDS) if settings else {}
    if settings is None:
        settings = ObservatoireSettings(conference=conference)
    settings.delai_anormalement_long_mois = delai
    settings.delai_source = source
    settings.full_clean()
    settings.save()
    changes = audit.diff(before, audit.snapshot(settings, FIELDS))
    if changes:
        audit.record(
            conference=conference,
            actor=actor,
            action=AuditAction.UPDATE if before else AuditAction.CREATE,
            obj=settings,
            object_repr="Paramètres de l'observatoire",
            changes=changes,
        )
        observatoire_cache.bump(conference.pk)
    return settings
