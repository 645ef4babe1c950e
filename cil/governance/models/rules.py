"""The conference's working rules and its bodies other than the plenary."""

import uuid
from fractions import Fraction

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django_scopes import ScopedManager

from cil.governance import counting
from cil.models import Conference, Membership, TenantModel

__all__ = [
    "Body",
    "BodyKind",
    "GovernanceSettings",
    "MajorityRule",
    "QuorumComparison",
    "Rhythm",
]


class QuorumComparison(models.TextChoices):
    AU_MOINS = counting.AU_MOINS, "au moins"
    PLUS_DE = counting.PLUS_DE, "plus de"


class MajorityRule(models.TextChoices):
    SIMPLE = counting.SIMPLE, "Majorité simple des suffrages exprimés (abstentions non comptées)"
    ABSOLUE = counting.ABSOLUE, "Majorité absolue des membres présents ou représentés"
    DEUX_TIERS = counting.DEUX_TIERS, "Majorité des deux tiers des suffrages exprimés"


class Rhythm(models.TextChoices):
    MENSUELLE = "mensuelle", "Mensuelle"
    BIMESTRIELLE = "bimestrielle", "Tous les deux mois"
    TRIMESTRIELLE = "trimestrielle", "Trimestrielle"
    SEMESTRIELLE = "semestrielle", "Semestrielle"
    ANNUELLE = "annuelle", "Annuelle"
    PONCTUELLE = "ponctuelle", "À la demande"


class GovernanceSettings(TenantModel):
    """The règlement intérieur's rules the platform applies (cil/governance/counting.py).
    One row per conference, written the first time the secretariat saves them; until
    then the defaults below apply."""

    conference = models.OneToOneField(
        Conference, on_delete=models.PROTECT, related_name="governance_settings"
    )
    quorum_numerator = models.PositiveSmallIntegerField(
        "quorum (numérateur)", default=1, validators=[MinValueValidator(1)]
    )
    quorum_denominator = models.PositiveSmallIntegerField(
        "quorum (dénominateur)", default=2, validators=[MinValueValidator(1)]
    )
    quorum_comparison = models.CharField(
        "comparaison",
        max_length=16,
        choices=QuorumComparison.choices,
        default=QuorumComparison.AU_MOINS,
    )
    remote_counts = models.BooleanField(
        "les participants à distance comptent comme présents", default=True
    )
    max_proxies = models.PositiveSmallIntegerField(
        "pouvoirs par membre au plus", default=1, validators=[MaxValueValidator(5)]
    )
    majority_rule = models.CharField(
        "règle de majorité",
        max_length=16,
        choices=MajorityRule.choices,
        default=MajorityRule.SIMPLE,
    )
    votes_by_college = models.BooleanField("votes décomptés par collège", default=True)
    convocation_notice_days = models.PositiveSmallIntegerField(
        "délai de convocation (jours)", default=10, validators=[MaxValueValidator(90)]
    )
    reminder_days = models.PositiveSmallIntegerField(
        "relance (jours avant la séance)", default=3, validators=[MaxValueValidator(30)]
    )
    plenary_rhythm = models.CharField(
        "rythme des séances plénières",
        max_length=16,
        choices=Rhythm.choices,
        default=Rhythm.SEMESTRIELLE,
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(conference="conference")

    class Meta:
        verbose_name = "règles de fonctionnement"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quorum_numerator__lte=models.F("quorum_denominator")),
                name="governance_quorum_at_most_all",
            )
        ]

    def __str__(self) -> str:
        return f"Règles de fonctionnement ({self.conference_id})"

    @property
    def quorum_fraction(self) -> Fraction:
        return Fraction(self.quorum_numerator, self.quorum_denominator)

    @property
    def quorum_label(self) -> str:
        """« au moins la moitié des membres… », « plus des deux tiers des membres… »."""
        fraction = self.quorum_fraction
        names = {
            Fraction(1, 2): ("la moitié", "de la moitié"),
            Fraction(1, 3): ("le tiers", "du tiers"),
            Fraction(1, 4): ("le quart", "du quart"),
            Fraction(2, 3): ("les deux tiers", "des deux tiers"),
            Fraction(3, 4): ("les trois quarts", "des trois quarts"),
            Fraction(3, 5): ("les trois cinquièmes", "des trois cinquièmes"),
            Fraction(1, 1): ("la totalité", "de la totalité"),
        }
        plain = f"{fraction.numerator}/{fraction.denominator}"
        at_least, more_than = names.get(fraction, (f"les {plain}", f"des {plain}"))
        share = (
            f"plus {more_than}"
            if self.quorum_comparison == counting.PLUS_DE
            else f"au moins {at_least}"
        )
        return f"{share} des membres à voix délibérative, présents ou représentés"

    def rules(self) -> counting.Rules:
        return counting.Rules(
            quorum_fraction=self.quorum_fraction,
            quorum_comparison=self.quorum_comparison,
            remote_counts=self.remote_counts,
            max_proxies=self.max_proxies,
            majority=self.majority_rule,
        )


class BodyKind(models.TextChoices):
    # The CIA organises a commission de coordination (CCH L.441-1-6); the conference may
    # hold thematic workshops and set up ad-hoc committees (e.g. the relogement of
    # vulnerable households).
    COMMISSION = "commission", "Commission de coordination"
    ATELIER = "atelier", "Atelier thématique"
    COMITE = "comite", "Comité ad hoc"


class Body(TenantModel):
    """A body of the conference other than the plenary: its members and meeting rhythm."""

    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField("nom", max_length=255)
    kind = models.CharField("nature", max_length=16, choices=BodyKind.choices)
    description = models.TextField("mission", blank=True)
    rhythm = models.CharField(
        "rythme des réunions", max_length=16, choices=Rhythm.choices, default=Rhythm.TRIMESTRIELLE
    )
    members = models.ManyToManyField(Membership, related_name="bodies", verbose_name="membres")
    is_active = models.BooleanField("active", default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(conference="conference")

    class Meta:
        verbose_name = "instance"
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["conference", "name"], name="body_unique_name")
        ]

    def __str__(self) -> str:
        return self.name
