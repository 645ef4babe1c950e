"""The decisions register and the minutes (procès-verbal) of the sessions."""

import uuid

from django.conf import settings
from django.db import models
from django_scopes import ScopedManager

from cil.governance.models.meetings import AgendaItem, Meeting
from cil.governance.models.rules import MajorityRule
from cil.models import Conference, TenantModel
from conventions.models import GeneratedDocument

__all__ = ["Decision", "Minutes", "MinutesState", "Outcome"]


class Outcome(models.TextChoices):
    ADOPTEE = "adoptee", "Adoptée"
    REJETEE = "rejetee", "Rejetée"


class Decision(TenantModel):
    """The vote on one agenda item and its result, numbered per year in the register
    (« n° 2026-03 »). Written once: the register is not rewritten."""

    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="decisions")
    item = models.OneToOneField(AgendaItem, on_delete=models.PROTECT, related_name="decision")
    year = models.PositiveSmallIntegerField("année")
    number = models.PositiveIntegerField("numéro")
    decided_on = models.DateField("date")
    title = models.CharField("objet", max_length=255)
    text = models.TextField("texte de la décision")
    outcome = models.CharField("résultat", max_length=16, choices=Outcome.choices)
    pour = models.PositiveIntegerField("pour")
    contre = models.PositiveIntegerField("contre")
    abstention = models.PositiveIntegerField("abstentions")
    voters = models.PositiveIntegerField("votants (présents ou représentés)")
    # {"1": {"pour": 5, "contre": 0, "abstention": 1, "votants": 7}, …}; key "0" when the
    # conference does not report votes by college.
    by_college = models.JSONField(default=dict)
    # The quorum when the vote was taken (counting.Quorum.as_dict()).
    quorum = models.JSONField(default=dict)
    majority_rule = models.CharField(max_length=16, choices=MajorityRule.choices)
    explanation = models.CharField(max_length=500)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(conference="conference")

    class Meta:
        verbose_name = "décision"
        ordering = ["-year", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["conference", "year", "number"], name="decision_unique_number"
            )
        ]

    def __str__(self) -> str:
        return f"Décision n° {self.reference} — {self.title}"

    @property
    def reference(self) -> str:
        return f"{self.year}-{self.number:02d}"

    @property
    def adopted(self) -> bool:
        return self.outcome == Outcome.ADOPTEE

    @property
    def unanimous(self) -> bool:
        return (
            self.adopted and self.contre == 0 and self.abstention == 0 and self.pour == self.voters
        )


class MinutesState(models.TextChoices):
    BROUILLON = "brouillon", "Projet"
    APPROUVE = "approuve", "Approuvé"


class Minutes(TenantModel):
    """The procès-verbal of a closed session: drafted from its record (attendance, votes,
    decisions), edited by the secretariat (Markdown, sanitised like the orientations),
    approved by a vote at a later session, issued as a sealed PDF."""

    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    meeting = models.OneToOneField(Meeting, on_delete=models.PROTECT, related_name="minutes")
    body = models.TextField("texte (Markdown)", blank=True)
    state = models.CharField(
        "état", max_length=16, choices=MinutesState.choices, default=MinutesState.BROUILLON
    )
    approved_on = models.DateField("approuvé le", null=True, blank=True)
    approval_decision = models.ForeignKey(
        Decision, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The last sealed PDF issued (the pipeline's record: conventions/pdf/).
    document = models.ForeignKey(
        GeneratedDocument, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(conference="conference")

    class Meta:
        verbose_name = "procès-verbal"
        verbose_name_plural = "procès-verbaux"
        ordering = ["-meeting__starts_at"]

    def __str__(self) -> str:
        return f"Procès-verbal — {self.meeting}"

    @property
    def is_approved(self) -> bool:
        return self.state == MinutesState.APPROUVE
