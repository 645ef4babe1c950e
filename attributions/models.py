"""Yearly reference data of a conference: the Q1 threshold register and the rule rates.

Both are per conference × year settings: the law gives defaults, an arrêté gives the
threshold, the conference's orientations may adapt the rates.
"""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django_scopes import ScopedManager

from cil.models import Conference, TenantModel

# Legal defaults (CCH L.441-1), used when a conference has not set its own rate for a year.
DEFAULT_TARGET_R1 = Decimal("0.25")  # attributions outside QPV to Q1 or NPNRU households
DEFAULT_TARGET_R2 = Decimal("0.50")  # attributions in QPV to households other than Q1
DEFAULT_TARGET_R3 = Decimal("0.25")  # attributions to DALO, failing that priority households

RATE_VALIDATORS = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))]


class Q1Threshold(TenantModel):
    """The first-quartile income threshold (€ per UC per year) applying to a year's leases.

    Set each year by ministerial arrêté (CCH L.441-1), entered by a prefecture agent; or
    computed from imported demand for simulation.
    """

    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField("année")
    value = models.DecimalField("seuil (€ par UC et par an)", max_digits=10, decimal_places=2)
    source = models.CharField("source", max_length=255, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(conference="conference")

    class Meta:
        verbose_name = "seuil du premier quartile"
        ordering = ["-year"]
        constraints = [
            models.UniqueConstraint(fields=["conference", "year"], name="q1threshold_unique_year")
        ]

    def __str__(self) -> str:
        return f"{self.year} : {self.value} €"


class RuleRates(TenantModel):
    """The conference's rates for rules R1–R3 in a year (legal defaults pre-filled)."""

    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField("année")
    target_r1 = models.DecimalField(
        "cible R1 (Q1 hors QPV)",
        max_digits=5,
        decimal_places=4,
        default=DEFAULT_TARGET_R1,
        validators=RATE_VALIDATORS,
    )
    target_r2 = models.DecimalField(
        "cible R2 (hors Q1 en QPV)",
        max_digits=5,
        decimal_places=4,
        default=DEFAULT_TARGET_R2,
        validators=RATE_VALIDATORS,
    )
    target_r3 = models.DecimalField(
        "cible R3 (prioritaires)",
        max_digits=5,
        decimal_places=4,
        default=DEFAULT_TARGET_R3,
        validators=RATE_VALIDATORS,
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(conference="conference")

    class Meta:
        verbose_name = "taux des règles d'attribution"
        ordering = ["-year"]
        constraints = [
            models.UniqueConstraint(fields=["conference", "year"], name="rulerates_unique_year")
        ]

    def __str__(self) -> str:
        return f"{self.year}"
