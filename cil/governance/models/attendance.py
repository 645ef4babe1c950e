"""Convocations of the representatives and the attendance sheet of a session."""

import uuid

from django.conf import settings
from django.db import models
from django_scopes import ScopedManager

from cil.governance import counting
from cil.governance.models.meetings import Meeting
from cil.models import Conference, Membership, Representative, TenantModel

__all__ = [
    "Attendance",
    "AttendanceStatus",
    "Convocation",
    "ConvocationKind",
]


class ConvocationKind(models.TextChoices):
    CONVOCATION = "convocation", "Convoqué (titulaire)"
    INFORMATION = "information", "Informé (suppléant)"


class Convocation(TenantModel):
    """The convocation of one representative to one session: titulaires are convened,
    suppléants informed. The e-mail carries a tracked link (cil/governance/tracking.py)."""

    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="convocations")
    representative = models.ForeignKey(
        Representative, on_delete=models.PROTECT, related_name="convocations"
    )
    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("qualité", max_length=16, choices=ConvocationKind.choices)
    # The address the e-mail went to (the representative's may change afterwards).
    email = models.EmailField("adresse électronique", blank=True)
    sent_at = models.DateTimeField("envoyée le", null=True, blank=True)
    # The meeting's `sequence` the e-mail announced: lower than the meeting's means the
    # date, time or place changed since.
    sent_sequence = models.PositiveIntegerField(default=0)
    opened_at = models.DateTimeField("ouverte le", null=True, blank=True)
    open_count = models.PositiveIntegerField(default=0)
    reminded_at = models.DateTimeField("relancée le", null=True, blank=True)
    error = models.CharField("erreur", max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(conference="conference")

    class Meta:
        verbose_name = "convocation"
        ordering = ["meeting", "membership__college", "representative__last_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "representative"], name="convocation_unique_representative"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} : {self.representative}"

    @property
    def is_outdated(self) -> bool:
        return self.sent_at is not None and self.sent_sequence < self.meeting.sequence


class AttendanceStatus(models.TextChoices):
    PRESENT = counting.PRESENT, "Présent"
    DISTANCE = counting.DISTANCE, "Présent à distance"
    SUPPLEE = counting.SUPPLEE, "Remplacé par son suppléant"
    REPRESENTE = counting.REPRESENTE, "Représenté (pouvoir)"
    EXCUSE = counting.EXCUSE, "Excusé"
    ABSENT = counting.ABSENT, "Absent"


class Attendance(TenantModel):
    """One member organisation at one session: it has one voice, whoever sits for it."""

    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="+")
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendances")
    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    status = models.CharField("présence", max_length=16, choices=AttendanceStatus.choices)
    # Who sat: the titulaire, or the suppléant who replaced him.
    attendee = models.ForeignKey(
        Representative, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The member holding the proxy (pouvoir), when represented.
    proxy_holder = models.ForeignKey(
        Membership, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(conference="conference")

    class Meta:
        verbose_name = "présence"
        ordering = ["meeting", "membership__college", "membership__organisation__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "membership"], name="attendance_unique_member"
            ),
            models.CheckConstraint(
                condition=models.Q(status=counting.REPRESENTE, proxy_holder__isnull=False)
                | (~models.Q(status=counting.REPRESENTE) & models.Q(proxy_holder__isnull=True)),
                name="attendance_proxy_iff_represented",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.membership_id} : {self.get_status_display()}"
