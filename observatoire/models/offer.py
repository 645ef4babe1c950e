"""Social dwellings of the territory from the RPLS open-data file, per millésime (state of
the stock at 1 January). Rows of communes outside the conference are ignored at import."""

from django.db import models
from django_scopes import ScopedManager

from attributions.models import Financement, Typologie
from cil.models import Conference, TenantModel


class Dwelling(TenantModel):
    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="+")
    millesime = models.PositiveSmallIntegerField("millésime")  # year of the 1 January state
    rpls_id = models.CharField("identifiant RPLS", max_length=32)  # IDENT_REP
    commune_insee = models.CharField("commune", max_length=5, db_index=True)  # DEPCOM
    in_qpv = models.BooleanField("en QPV", default=False)  # QPV flag of the file
    qpv_code = models.CharField("code QPV", max_length=16, blank=True)
    nb_pieces = models.PositiveSmallIntegerField("pièces", null=True, blank=True)  # NBPIECE
    typologie = models.CharField(max_length=3, choices=Typologie, blank=True)
    # Financing group as the platform counts it, and the file's own code (kept raw: the
    # FINAN code list is not hard-coded, domain-reference §4.3).
    financement = models.CharField(max_length=8, choices=Financement, blank=True)
    financement_code = models.CharField("code de financement RPLS", max_length=16, blank=True)
    surface = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    loyer = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    annee_construction = models.PositiveSmallIntegerField(null=True, blank=True)
    dpe_energie = models.CharField(max_length=1, blank=True)

    objects = ScopedManager(conference="conference")

    class Meta:
        verbose_name = "logement social (RPLS)"
        constraints = [
            models.UniqueConstraint(
                fields=["conference", "millesime", "rpls_id"], name="dwelling_unique_rpls"
            )
        ]
        indexes = [models.Index(fields=["conference", "millesime", "commune_insee"])]

    def __str__(self) -> str:
        return f"Logement {self.rpls_id} ({self.millesime})"
