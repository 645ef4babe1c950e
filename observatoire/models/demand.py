"""Demands for social housing, one row per numéro unique (SNE extract, `demandes` v1).

Only what the indicators need is kept (domain.md §6): no name, no NIR, no free text. The
numéro unique is pseudonymous but still personal data; household-level rows are purged one
year after closure (issue 7's retention command).
"""

from django.db import models
from django_scopes import ScopedManager

from attributions.models import Typologie
from cil.models import Conference, TenantModel


class ClosureReason(models.TextChoices):
    """Motifs de radiation (CCH R.441-2-8)."""

    ATTRIBUTION = "attribution", "Attribution d'un logement"
    NON_RENOUVELLEMENT = "non_renouvellement", "Non-renouvellement"
    RENONCIATION = "renonciation", "Renonciation"
    IRRECEVABILITE = "irrecevabilite", "Irrecevabilité"
    ABSENCE_REPONSE = "absence_reponse", "Absence de réponse"
    AUTRE = "autre", "Autre motif"


class Demand(TenantModel):
    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="+")
    numero_unique = models.CharField("numéro unique", max_length=32)
    date_depot = models.DateField("date de dépôt initial")
    # Communes wished, in the applicant's order (INSEE codes); the first is denormalised for
    # grouping (SQLite has no array type, so the list is JSON).
    communes_souhaitees = models.JSONField("communes souhaitées", default=list)
    commune_insee = models.CharField("première commune souhaitée", max_length=5, db_index=True)
    nb_personnes = models.PositiveSmallIntegerField("nombre de personnes")
    nb_enfants_moins_14 = models.PositiveSmallIntegerField("enfants de moins de 14 ans", default=0)
    revenu_annuel = models.DecimalField(
        "revenu annuel (€)", max_digits=12, decimal_places=2, null=True, blank=True
    )
    typologie = models.CharField("typologie souhaitée", max_length=3, choices=Typologie, blank=True)
    mutation = models.BooleanField("déjà locataire du parc social", default=False)
    dalo = models.BooleanField("DALO", default=False)
    prioritaire = models.BooleanField("prioritaire", default=False)
    date_radiation = models.DateField("date de radiation", null=True, blank=True)
    motif_radiation = models.CharField(
        "motif de radiation", max_length=24, choices=ClosureReason, blank=True
    )
    # Derived at write time (same UC scale as attributions: attributions.rules).
    uc = models.DecimalField(max_digits=5, decimal_places=2)
    revenu_par_uc = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(conference="conference")

    class Meta:
        verbose_name = "demande"
        constraints = [
            models.UniqueConstraint(
                fields=["conference", "numero_unique"], name="demand_unique_numero"
            )
        ]
        indexes = [models.Index(fields=["conference", "date_depot"])]

    def __str__(self) -> str:
        return f"Demande {self.numero_unique}"
