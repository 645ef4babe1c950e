"""Yearly reference data of a conference: the Q1 threshold register and the rule rates.

Both are per conference × year settings: the law gives defaults, an arrêté gives the
threshold, the conference's orientations may adapt the rates.
"""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django_scopes import ScopedManager

from cil.models import Commune, Conference, Organisation, Qpv, TenantModel

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
        return f"Seuil Q1 {self.year} : {self.value} €"


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
        return f"Taux {self.year}"


class Reservataire(models.TextChoices):
    """The contingent a dwelling was attributed on (`attributions` v1 codes)."""

    ETAT_PRIORITAIRES = "etat_prioritaires", "État — publics prioritaires"
    ETAT_FONCTIONNAIRES = "etat_fonctionnaires", "État — agents publics"
    ACTION_LOGEMENT = "action_logement", "Action Logement"
    COMMUNE = "commune", "Commune"
    EPCI = "epci", "EPCI"
    DEPARTEMENT = "departement", "Département"
    REGION = "region", "Région"
    AUTRE_RESERVATAIRE = "autre_reservataire", "Autre réservataire"
    NON_RESERVE = "non_reserve", "Non réservé (bailleur)"


class Typologie(models.TextChoices):
    T1 = "T1", "T1"
    T2 = "T2", "T2"
    T3 = "T3", "T3"
    T4 = "T4", "T4"
    T5 = "T5", "T5"
    T6_PLUS = "T6+", "T6 et plus"


class Financement(models.TextChoices):
    PLAI = "PLAI", "PLAI"
    PLUS = "PLUS", "PLUS"
    PLS = "PLS", "PLS"
    PLI = "PLI", "PLI"
    AUTRE = "autre", "Autre"


class Attribution(TenantModel):
    """One attribution followed by a signed lease, as a bailleur reports it (`attributions`
    v1). Derived values are stored at write time and kept right by the services: year, QPV
    status, UC, income per UC and Q1 status."""

    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    bailleur = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    reference = models.CharField("référence", max_length=64)
    lease_date = models.DateField("date de signature du bail")
    commune = models.ForeignKey(Commune, on_delete=models.PROTECT, related_name="+")
    qpv = models.ForeignKey(Qpv, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    numero_unique = models.CharField("numéro unique", max_length=32, blank=True)
    rpls_id = models.CharField("identifiant RPLS", max_length=32, blank=True)
    typologie = models.CharField("typologie", max_length=3, choices=Typologie.choices, blank=True)
    financement = models.CharField(
        "financement", max_length=5, choices=Financement.choices, blank=True
    )
    reservataire = models.CharField("réservataire", max_length=32, choices=Reservataire.choices)
    reservataire_siren = models.CharField("SIREN du réservataire", max_length=9, blank=True)
    household_size = models.PositiveSmallIntegerField("nombre de personnes")
    children_under_14 = models.PositiveSmallIntegerField("enfants de moins de 14 ans", default=0)
    annual_income = models.DecimalField(
        "revenu annuel (€)", max_digits=12, decimal_places=2, null=True, blank=True
    )
    given_income_per_uc = models.DecimalField(
        "revenu par UC déclaré (€)", max_digits=12, decimal_places=2, null=True, blank=True
    )
    dalo = models.BooleanField("DALO", default=False)
    prioritaire = models.BooleanField("prioritaire", default=False)
    relogement_npnru = models.BooleanField("relogement NPNRU / ORCOD", default=False)
    mutation = models.BooleanField("mutation", default=False)

    # Derived, stored at write time (attributions/derivation.py).
    year = models.PositiveSmallIntegerField("année")
    in_qpv = models.BooleanField("en QPV")
    uc = models.DecimalField("unités de consommation", max_digits=5, decimal_places=2)
    income_per_uc = models.DecimalField(
        "revenu par UC (€)", max_digits=12, decimal_places=2, null=True, blank=True
    )
    is_q1 = models.BooleanField("premier quartile", null=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(conference="conference")

    class Meta:
        ordering = ["-lease_date", "reference"]
        constraints = [
            models.UniqueConstraint(
                fields=["conference", "bailleur", "reference"], name="attribution_unique_reference"
            ),
            models.CheckConstraint(
                condition=models.Q(children_under_14__lt=models.F("household_size")),
                name="attribution_children_among_household",
            ),
            # CCH L.441-1: a DALO household is a priority household.
            models.CheckConstraint(
                condition=models.Q(dalo=False) | models.Q(prioritaire=True),
                name="attribution_dalo_is_prioritaire",
            ),
        ]
        indexes = [
            models.Index(fields=["conference", "year"], name="attribution_conf_year"),
            models.Index(
                fields=["conference", "bailleur", "year"], name="attribution_conf_bail_year"
            ),
        ]

    def __str__(self) -> str:
        return f"Attribution {self.reference}"


class ApiToken(TenantModel):
    """A token for an organisation's information system, issued by the secretariat. Shown
    once; only its SHA-256 is kept."""

    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    name = models.CharField("nom", max_length=100)
    prefix = models.CharField(max_length=12)
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(conference="conference")

    class Meta:
        verbose_name = "jeton d'API"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Jeton {self.prefix}… ({self.name})"


class BilanResult(TenantModel):
    """The computed `bilan` v1 document of a conference × year. Deleted when the data it was
    computed from change (attributions, threshold, rates, objectives), recomputed by a task."""

    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField("année")
    document = models.JSONField()
    computed_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(conference="conference")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conference", "year"], name="bilanresult_unique_year")
        ]

    def __str__(self) -> str:
        return f"Bilan {self.year}"


class ImportStatus(models.TextChoices):
    VALIDATING = "validating", "Vérification en cours"
    INVALID = "invalid", "Fichier refusé"
    READY = "ready", "Prêt à importer"
    IMPORTING = "importing", "Import en cours"
    DONE = "done", "Importé"
    FAILED = "failed", "Échec"


def import_upload_path(instance, filename: str) -> str:
    return f"imports/{instance.conference_id}/{instance.public_id}"


class ImportJob(TenantModel):
    """One upload of an `attributions` v1 file: validated as a whole, previewed (lines to
    create, update, unchanged), then committed atomically. Big files run in a Celery task
    whose progress the page shows."""

    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # The bailleur the file is imported as (a bailleur user's own organisation); None when the
    # secretariat imports for several bailleurs.
    acting_bailleur = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    filename = models.CharField("nom du fichier", max_length=255)
    file = models.FileField(upload_to=import_upload_path, max_length=255)
    sha256 = models.CharField(max_length=64)
    status = models.CharField(
        max_length=16, choices=ImportStatus.choices, default=ImportStatus.VALIDATING
    )
    total_lines = models.PositiveIntegerField(default=0)
    processed_lines = models.PositiveIntegerField(default=0)
    counts = models.JSONField(
        default=dict, blank=True
    )  # {"create": n, "update": n, "unchanged": n}
    errors = models.JSONField(default=list, blank=True)  # [{"line", "column", "value", "message"}]
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(conference="conference")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Import {self.filename}"

    @property
    def progress_percent(self) -> int:
        if not self.total_lines:
            return 0
        return min(100, round(100 * self.processed_lines / self.total_lines))
