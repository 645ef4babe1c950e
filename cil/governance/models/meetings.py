"""Sessions (séances), their agenda and the documents attached to it."""

import uuid

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.utils import timezone
from django_scopes import ScopedManager

from cil.governance.models.rules import Body
from cil.models import Conference, TenantModel
from conventions.models import ConventionVersion, GeneratedDocument, OrientationVersion

__all__ = [
    "PLENARY_LABEL",
    "VOTED_KINDS",
    "AgendaAttachment",
    "AgendaItem",
    "ItemKind",
    "Meeting",
    "MeetingState",
    "attachment_upload_path",
]

PLENARY_LABEL = "Séance plénière"


class MeetingState(models.TextChoices):
    PREPARATION = "preparation", "En préparation"
    CONVOQUEE = "convoquee", "Convoquée"
    CLOTUREE = "cloturee", "Close"
    ANNULEE = "annulee", "Annulée"


class Meeting(TenantModel):
    """A session of the plenary (no body) or of one of the conference's bodies."""

    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    body = models.ForeignKey(
        Body,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="meetings",
        verbose_name="instance",
    )
    title = models.CharField("intitulé", max_length=255)
    starts_at = models.DateTimeField("début")
    ends_at = models.DateTimeField("fin", null=True, blank=True)
    place = models.CharField("lieu", max_length=255, blank=True)
    video_url = models.URLField("lien de visioconférence", max_length=500, blank=True)
    chairs = models.CharField("présidence de la séance", max_length=255, blank=True)
    state = models.CharField(
        "état", max_length=16, choices=MeetingState.choices, default=MeetingState.PREPARATION
    )
    # Raised whenever the date, time or place changes: the ICS SEQUENCE, and how the
    # platform knows which convocations announced an outdated session.
    sequence = models.PositiveIntegerField(default=0)
    closed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField("motif de l'annulation", max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(conference="conference")

    class Meta:
        verbose_name = "séance"
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["conference", "starts_at"], name="meeting_conf_start")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__isnull=True)
                | models.Q(ends_at__gt=models.F("starts_at")),
                name="meeting_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} du {timezone.localtime(self.starts_at):%d/%m/%Y}"

    @property
    def is_plenary(self) -> bool:
        return self.body_id is None

    @property
    def body_label(self) -> str:
        return PLENARY_LABEL if self.body_id is None else self.body.name

    @property
    def local_date(self):
        return timezone.localtime(self.starts_at).date()

    @property
    def has_started(self) -> bool:
        """Attendance and votes are recorded from the session's day on."""
        return self.local_date <= timezone.localdate()

    @property
    def is_open(self) -> bool:
        return self.state in (MeetingState.PREPARATION, MeetingState.CONVOQUEE)

    @property
    def minutes_or_none(self):
        try:
            return self.minutes
        except ObjectDoesNotExist:
            return None


class ItemKind(models.TextChoices):
    INFORMATION = "information", "Information ou présentation (sans vote)"
    DELIBERATION = "deliberation", "Délibération (vote)"
    ORIENTATIONS = "orientations", "Adoption du document d'orientation (vote)"
    CIA = "cia", "Approbation de la convention intercommunale d'attribution (vote)"
    PROCES_VERBAL = "proces_verbal", "Approbation du procès-verbal d'une séance précédente (vote)"


VOTED_KINDS = frozenset(
    {ItemKind.DELIBERATION, ItemKind.ORIENTATIONS, ItemKind.CIA, ItemKind.PROCES_VERBAL}
)


class AgendaItem(TenantModel):
    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="items")
    order = models.PositiveSmallIntegerField("ordre")
    title = models.CharField("intitulé", max_length=255)
    description = models.TextField("présentation", blank=True)
    kind = models.CharField("nature", max_length=16, choices=ItemKind.choices)
    # What the vote decides on, by kind: a version of the document d'orientation, a
    # version of the CIA, the minutes of an earlier session.
    orientation_version = models.ForeignKey(
        OrientationVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cia_version = models.ForeignKey(
        ConventionVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    minutes = models.ForeignKey(
        "governance.Minutes",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="approval_items",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(conference="conference")

    class Meta:
        verbose_name = "point de l'ordre du jour"
        ordering = ["meeting", "order", "id"]

    def __str__(self) -> str:
        return f"{self.order}. {self.title}"

    @property
    def is_voted(self) -> bool:
        return self.kind in VOTED_KINDS

    @property
    def decision_or_none(self):
        try:
            return self.decision
        except ObjectDoesNotExist:
            return None


def attachment_upload_path(instance, filename: str) -> str:
    # Tenant path, random name: never the uploader's file name.
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"seances/{instance.conference_id}/{instance.public_id}.{extension}"


class AgendaAttachment(TenantModel):
    """A document attached to an agenda item: an uploaded file, or a document the platform
    produced (the orientations, a CIA, a bilan — sealed PDFs)."""

    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    item = models.ForeignKey(AgendaItem, on_delete=models.CASCADE, related_name="attachments")
    title = models.CharField("titre", max_length=255)
    file = models.FileField(upload_to=attachment_upload_path, max_length=255, blank=True)
    original_name = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    document = models.ForeignKey(
        GeneratedDocument, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(conference="conference")

    class Meta:
        verbose_name = "pièce jointe"
        ordering = ["item", "created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(document__isnull=True) & ~models.Q(file=""))
                | (models.Q(document__isnull=False) & models.Q(file="")),
                name="attachment_file_or_document",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def format_label(self) -> str:
        if self.document_id:
            return "PDF scellé"
        name = self.original_name or self.file.name
        return name.rsplit(".", 1)[-1].upper() if "." in name else "fichier"
