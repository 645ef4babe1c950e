"""The convention intercommunale d'attribution (CIA, CCH L.441-1-6) and its avenants.

```
Convention (conference, public_id, title, start_year..end_year)
 ├── ConventionVersion (number, kind initial|avenant, effective_from, status, canonical hash)
 │    ├── VersionStatusChange      history of the status machine (one row per step)
 │    ├── Signatory                EPCI, État, bailleurs, réservataires…: designated signer,
 │    │                            signature (who, when, organisation, SHA-256 signed)
 │    ├── BailleurObjective        bailleur × year (× commune | QPV): R1, R2, R3, NPNRU count
 │    └── ReservataireObjective    réservataire × year: R3
 └── GapExplanation                bailleur × year × rule: why the objective was missed
```

Status machine of a version (services_cia.py; each step is a `VersionStatusChange`):
brouillon → en_signature (the content freezes, its canonical bytes are hashed) → signee (the
last signatory signed; the final sealed PDF is requested) → en_vigueur (declared by the
secretariat, after the préfet's agrément). A version never goes back: an avenant (a new
version, effective from a date) is the way to change a signed convention.

Which version gives a year's objectives (« version en vigueur pour l'année ») — the rule:
among the versions of the convention whose period covers the year that are **signed or in
force** (`ADOPTED`), the one with the latest `effective_from` on or before 31 December of
that year (the number breaks ties). A draft, or a version still being signed, never drives
the bilan. So an avenant effective from 1 July 2026 sets the objectives of 2026 onwards;
2025 keeps the initial version's.
"""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django_scopes import ScopedManager

from cil.models import Commune, Conference, Organisation, OrganisationType, Qpv, TenantModel
from conventions.models.documents import GeneratedDocument

__all__ = [
    "ADOPTED",
    "CAPACITY_OF_TYPE",
    "CAPACITY_RANK",
    "CONTINGENT_OF_TYPE",
    "BailleurObjective",
    "Convention",
    "ConventionVersion",
    "GapCategory",
    "GapExplanation",
    "ReservataireObjective",
    "Signatory",
    "SignatoryCapacity",
    "VersionKind",
    "VersionStatus",
    "VersionStatusChange",
    "canonical_upload_path",
]

RATE_VALIDATORS = [MinValueValidator(0), MaxValueValidator(1)]
RULES = ("r1", "r2", "r3")


class VersionStatus(models.TextChoices):
    BROUILLON = "brouillon", "Brouillon"
    EN_SIGNATURE = "en_signature", "En signature"
    SIGNEE = "signee", "Signée"
    EN_VIGUEUR = "en_vigueur", "En vigueur"


# Signed by every signatory: these versions drive the bilan (see the module doc).
ADOPTED = (VersionStatus.SIGNEE, VersionStatus.EN_VIGUEUR)


class VersionKind(models.TextChoices):
    INITIAL = "initial", "Convention initiale"
    AVENANT = "avenant", "Avenant"


class SignatoryCapacity(models.TextChoices):
    # CCH L.441-1-6: the CIA is signed by the EPCI, the bailleurs with stock on the territory,
    # the réservataires, and the State; other legal persons may sign.
    EPCI = "epci", "EPCI"
    ETAT = "etat", "État"
    BAILLEUR = "bailleur", "Bailleur social"
    RESERVATAIRE = "reservataire", "Réservataire"
    AUTRE = "autre", "Autre signataire"


CAPACITY_RANK = {capacity: rank for rank, capacity in enumerate(SignatoryCapacity)}

# Organisation type → its capacity when the signatories are pre-filled from the members
# (None: not pre-filled; the secretariat may still add it as « autre signataire »).
CAPACITY_OF_TYPE = {
    OrganisationType.EPCI: SignatoryCapacity.EPCI,
    OrganisationType.ETAT: SignatoryCapacity.ETAT,
    OrganisationType.BAILLEUR: SignatoryCapacity.BAILLEUR,
    OrganisationType.ACTION_LOGEMENT: SignatoryCapacity.RESERVATAIRE,
    OrganisationType.COMMUNE: SignatoryCapacity.RESERVATAIRE,
    OrganisationType.DEPARTEMENT: SignatoryCapacity.RESERVATAIRE,
    OrganisationType.RESERVATAIRE: SignatoryCapacity.RESERVATAIRE,
}

# Organisation type → its contingent code in the attributions (`attributions` v1,
# attributions.models.Reservataire): the key of its R3 objective in the bilan.
CONTINGENT_OF_TYPE = {
    OrganisationType.ETAT: "etat_prioritaires",
    OrganisationType.ACTION_LOGEMENT: "action_logement",
    OrganisationType.COMMUNE: "commune",
    OrganisationType.EPCI: "epci",
    OrganisationType.DEPARTEMENT: "departement",
    OrganisationType.RESERVATAIRE: "autre_reservataire",
}


def canonical_upload_path(instance, filename: str) -> str:
    # Tenant path, public id as the name (never the title).
    extension = filename.rsplit(".", 1)[-1]
    return f"cia/{instance.conference_id}/{instance.public_id}.{extension}"


class Convention(TenantModel):
    """A CIA of the conference over a period of years (usually aligned on the PLH, 6 years)."""

    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField("intitulé", max_length=255)
    start_year = models.PositiveSmallIntegerField("première année")
    end_year = models.PositiveSmallIntegerField("dernière année")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(conference="conference")

    class Meta:
        verbose_name = "convention intercommunale d'attribution"
        ordering = ["-start_year"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_year__gte=models.F("start_year")), name="convention_period_order"
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.start_year}–{self.end_year})"

    @property
    def years(self) -> list[int]:
        return list(range(self.start_year, self.end_year + 1))


class ConventionVersion(TenantModel):
    """The content of the convention from a date: the initial convention, then each avenant."""

    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    convention = models.ForeignKey(Convention, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveSmallIntegerField("numéro")  # 1: initial, 2: avenant n°1, …
    kind = models.CharField("nature", max_length=16, choices=VersionKind.choices)
    effective_from = models.DateField("prend effet le")
    title = models.CharField("intitulé", max_length=255)
    # What the avenant changes and why (empty for the initial convention).
    purpose = models.TextField("objet", blank=True)
    # The stipulations of the convention (plain text, paragraphs separated by blank lines).
    body = models.TextField("stipulations", blank=True)
    status = models.CharField(
        "statut", max_length=16, choices=VersionStatus.choices, default=VersionStatus.BROUILLON
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when the version goes to signature: the content is frozen from then on, and every
    # signatory signs these exact bytes (conventions/signing.py says what they are).
    frozen_at = models.DateTimeField("mise en signature", null=True, blank=True)
    canonical_format = models.CharField(max_length=16, blank=True)
    canonical_sha256 = models.CharField("empreinte SHA-256", max_length=64, blank=True)
    canonical_file = models.FileField(upload_to=canonical_upload_path, max_length=255, blank=True)
    # The final document (cover, body, annexes, signature page), sealed (PAdES), requested
    # when the last signatory has signed. Its model is the PDF pipeline's.
    final_document = models.ForeignKey(
        GeneratedDocument, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = ScopedManager(conference="conference")

    class Meta:
        verbose_name = "version de convention"
        ordering = ["convention", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["conference", "convention", "number"], name="conventionversion_unique"
            )
        ]
        # django-guardian: granted to the signer each signatory organisation designates.
        permissions = [("sign_conventionversion", "Signer cette version de la convention")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_frozen(self) -> bool:
        return self.status != VersionStatus.BROUILLON

    @property
    def is_adopted(self) -> bool:
        return self.status in ADOPTED


class VersionStatusChange(TenantModel):
    """One step of a version's status machine (creation included: from_status empty)."""

    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="+")
    version = models.ForeignKey(
        ConventionVersion, on_delete=models.CASCADE, related_name="status_changes"
    )
    from_status = models.CharField(max_length=16, choices=VersionStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=VersionStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # Kept as text: the history still says who acted after an account is deleted.
    actor_label = models.CharField(max_length=255)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(conference="conference")

    class Meta:
        verbose_name = "changement de statut"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.version_id} : {self.from_status or '—'} → {self.to_status}"


class Signatory(TenantModel):
    """An organisation that signs a version, its designated signer and its signature."""

    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    version = models.ForeignKey(
        ConventionVersion, on_delete=models.CASCADE, related_name="signatories"
    )
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    capacity = models.CharField("qualité", max_length=16, choices=SignatoryCapacity.choices)
    # Order of the signature page: EPCI, État, bailleurs, réservataires, others.
    rank = models.PositiveSmallIntegerField(default=0)
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="signataire désigné",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    designated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    designated_at = models.DateTimeField(null=True, blank=True)
    # The signature: who, when, for which organisation, and the SHA-256 of the bytes signed.
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    signed_by_label = models.CharField(max_length=255, blank=True)
    organisation_label = models.CharField(max_length=255, blank=True)
    signed_sha256 = models.CharField(max_length=64, blank=True)

    objects = ScopedManager(conference="conference")

    class Meta:
        verbose_name = "signataire"
        ordering = ["version", "rank", "organisation__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["conference", "version", "organisation"], name="signatory_unique_org"
            ),
            models.CheckConstraint(
                condition=Q(signed_at__isnull=True) | ~Q(signed_sha256=""),
                name="signatory_signed_with_hash",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} ({self.get_capacity_display()})"

    @property
    def has_signed(self) -> bool:
        return self.signed_at is not None


class BailleurObjective(TenantModel):
    """A bailleur's objectives for a year (CCH L.441-1-6 1° and 2°), on the whole territory
    or, territorialised, on one commune or one QPV. Rates are shares (0..1); empty means the
    conference's rate applies."""

    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="+")
    version = models.ForeignKey(
        ConventionVersion, on_delete=models.CASCADE, related_name="bailleur_objectives"
    )
    bailleur = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField("année")
    commune = models.ForeignKey(
        Commune, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    qpv = models.ForeignKey(Qpv, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # R1: attributions outside QPV to Q1 or NPNRU-rehoused households.
    r1 = models.DecimalField(
        "R1", max_digits=5, decimal_places=4, null=True, blank=True, validators=RATE_VALIDATORS
    )
    # R2: attributions in QPV to households other than Q1.
    r2 = models.DecimalField(
        "R2", max_digits=5, decimal_places=4, null=True, blank=True, validators=RATE_VALIDATORS
    )
    # R3: attributions of the non-reserved stock to DALO, failing that priority households.
    r3 = models.DecimalField(
        "R3", max_digits=5, decimal_places=4, null=True, blank=True, validators=RATE_VALIDATORS
    )
    npnru_relogements = models.PositiveIntegerField("relogements NPNRU", null=True, blank=True)

    objects = ScopedManager(conference="conference")

    class Meta:
        verbose_name = "objectif d'un bailleur"
        ordering = ["version", "bailleur__name", "year"]
        constraints = [
            models.UniqueConstraint(
                fields=["conference", "version", "bailleur", "year", "commune", "qpv"],
                name="bailleurobjective_unique",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                condition=Q(commune__isnull=True) | Q(qpv__isnull=True),
                name="bailleurobjective_one_perimeter",
            ),
            *(
                models.CheckConstraint(
                    condition=Q(**{f"{rule}__isnull": True})
                    | Q(**{f"{rule}__gte": 0, f"{rule}__lte": 1}),
                    name=f"bailleurobjective_{rule}_rate",
                )
                for rule in RULES
            ),
        ]

    def __str__(self) -> str:
        return f"Objectifs {self.year} de {self.bailleur_id}"


class ReservataireObjective(TenantModel):
    """A réservataire's contribution for a year (CCH L.441-1-6 3°): the share of its
    attributions to DALO, failing that priority households (R3)."""

    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="+")
    version = models.ForeignKey(
        ConventionVersion, on_delete=models.CASCADE, related_name="reservataire_objectives"
    )
    reservataire = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField("année")
    r3 = models.DecimalField("R3", max_digits=5, decimal_places=4, validators=RATE_VALIDATORS)

    objects = ScopedManager(conference="conference")

    class Meta:
        verbose_name = "objectif d'un réservataire"
        ordering = ["version", "reservataire__name", "year"]
        constraints = [
            models.UniqueConstraint(
                fields=["conference", "version", "reservataire", "year"],
                name="reservataireobjective_unique",
            ),
            models.CheckConstraint(
                condition=Q(r3__gte=0, r3__lte=1), name="reservataireobjective_r3_rate"
            ),
        ]

    def __str__(self) -> str:
        return f"Objectif R3 {self.year} de {self.reservataire_id}"


class GapCategory(models.TextChoices):
    # domain-reference §3.6 C4: the bailleur's explanation, free text and categories.
    OFFRE = "offre", "Offre de logements non adaptée"
    REFUS = "refus", "Refus des ménages"
    DESIGNATIONS = "designations", "Désignations des réservataires"
    ROTATION = "rotation", "Faible rotation du parc"
    DONNEES = "donnees", "Données incomplètes"
    AUTRE = "autre", "Autre motif"


class GapExplanation(TenantModel):
    """A bailleur's explanation of the gap between its realised rate and its objective, for a
    year and a rule. Attached to the convention (not a version): the year's realised figures
    are the same whichever version sets the objective."""

    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    convention = models.ForeignKey(
        Convention, on_delete=models.PROTECT, related_name="explanations"
    )
    bailleur = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField("année")
    rule = models.CharField(
        "règle", max_length=2, choices=[("r1", "R1"), ("r2", "R2"), ("r3", "R3")]
    )
    category = models.CharField("motif principal", max_length=16, choices=GapCategory.choices)
    text = models.TextField("explication")
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(conference="conference")

    class Meta:
        verbose_name = "explication d'écart"
        ordering = ["convention", "year", "bailleur__name", "rule"]
        constraints = [
            models.UniqueConstraint(
                fields=["conference", "convention", "bailleur", "year", "rule"],
                name="gapexplanation_unique",
            )
        ]

    def __str__(self) -> str:
        return f"Explication {self.rule.upper()} {self.year} de {self.bailleur_id}"
