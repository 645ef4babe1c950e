"""Documents produced by the platform: rendered to PDF, sealed with the platform's key.

A `GeneratedDocument` is the record of one production (the orientations, a CIA version, the
bilan annuel…): what it is about, where its job stands, and — once ready — the sealed file
and the SHA-256 of its exact bytes, which the public verification page looks up.
"""

import uuid

from django.conf import settings
from django.db import models
from django_scopes import ScopedManager

from cil.models import Conference, TenantModel

__all__ = ["DocumentKind", "DocumentStatus", "GeneratedDocument", "document_upload_path"]


class DocumentKind(models.TextChoices):
    # Add a kind here and register its builder in conventions/pdf/registry.py.
    ORIENTATIONS = "orientations", "Document d'orientation"
    CIA = "cia", "Convention intercommunale d'attribution"
    BILAN_ANNUEL = "bilan_annuel", "Bilan annuel"
    PROCES_VERBAL = "proces_verbal", "Procès-verbal"


class DocumentStatus(models.TextChoices):
    PENDING = "pending", "En attente"
    RENDERING = "rendering", "Mise en page"
    SEALING = "sealing", "Scellement"
    READY = "ready", "Prêt"
    FAILED = "failed", "Échec"


def document_upload_path(instance, filename: str) -> str:
    # Tenant path: one folder per conference, the public id as the name (never the title).
    return f"documents/{instance.conference_id}/{instance.public_id}.pdf"


class GeneratedDocument(TenantModel):
    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField("type", max_length=32, choices=DocumentKind.choices)
    title = models.CharField("titre", max_length=255)
    # What the document is about, generic so that any app can point at its own object:
    # e.g. ("attributions.bilan", "", 2024) or ("conventions.ciaversion", "<uuid>", None).
    subject_type = models.CharField(max_length=100, blank=True)
    subject_id = models.CharField(max_length=64, blank=True)
    year = models.PositiveSmallIntegerField("année", null=True, blank=True)
    # Extra JSON parameters for the kind's builder (tasks take ids only).
    parameters = models.JSONField(default=dict, blank=True)
    # The permission a member needs to see and download this document, on top of
    # "documents.view" (e.g. "bilan.view_detail" for the detailed bilan).
    view_permission = models.CharField(max_length=64, default="documents.view")
    status = models.CharField(
        "état", max_length=16, choices=DocumentStatus.choices, default=DocumentStatus.PENDING
    )
    progress = models.PositiveSmallIntegerField("avancement", default=0)
    file = models.FileField(upload_to=document_upload_path, max_length=255, blank=True)
    # SHA-256 of the final sealed bytes: what the verification page looks up.
    sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    size = models.PositiveIntegerField("taille", default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField("erreur", blank=True)

    objects = ScopedManager(conference="conference")

    class Meta:
        verbose_name = "document produit"
        verbose_name_plural = "documents produits"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["conference", "-created_at"], name="gendoc_conf_date"),
            models.Index(
                fields=["conference", "kind", "subject_type", "subject_id"], name="gendoc_subject"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="gendoc_progress_max_100"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_ready(self) -> bool:
        return self.status == DocumentStatus.READY

    @property
    def is_in_progress(self) -> bool:
        return self.status in {
            DocumentStatus.PENDING,
            DocumentStatus.RENDERING,
            DocumentStatus.SEALING,
        }
