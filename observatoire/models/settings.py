"""Per-conference settings of the observatory."""

from django.db import models
from django_scopes import ScopedManager

from cil.models import Conference, TenantModel


class ObservatoireSettings(TenantModel):
    conference = models.OneToOneField(Conference, on_delete=models.PROTECT, related_name="+")
    # Délai anormalement long: fixed per département by arrêté préfectoral, no national value
    # (domain-reference §3.4 D4, [S37]) — a setting, empty until the conference enters it.
    delai_anormalement_long_mois = models.PositiveSmallIntegerField(
        "délai anormalement long (mois)", null=True, blank=True
    )
    delai_source = models.CharField("arrêté préfectoral (référence)", max_length=255, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(conference="conference")

    class Meta:
        verbose_name = "paramètres de l'observatoire"
