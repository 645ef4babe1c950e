"""Import jobs of the observatory's files (demand extracts, RPLS, QPV referential, boundaries):
validated as a whole, then committed atomically; big files run in Celery with progress."""

import uuid

from django.conf import settings
from django.db import models
from django_scopes import ScopedManager

from cil.models import Conference, TenantModel


class ObservatoireImportKind(models.TextChoices):
    DEMANDES = "demandes", "Demandes (extraction SNE, demandes v1)"
    RPLS = "rpls", "Offre (RPLS)"
    QPV = "qpv", "Référentiel des QPV"


class ObservatoireImportStatus(models.TextChoices):
    VALIDATING = "validating", "Vérification en cours"
    INVALID = "invalid", "Fichier refusé"
    READY = "ready", "Prêt à enregistrer"
    COMMITTING = "committing", "Enregistrement en cours"
    DONE = "done", "Enregistré"
    FAILED = "failed", "Échec"


def observatoire_upload_path(instance, filename: str) -> str:
    return f"observatoire/{instance.conference_id}/{uuid.uuid4().hex}/{filename}"


class ObservatoireImport(TenantModel):
    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField("type de fichier", max_length=16, choices=ObservatoireImportKind)
    # Year the file describes: extract date's year for demand, millésime for RPLS (state at
    # 1 January), list year for the QPV referential.
    year = models.PositiveSmallIntegerField("année", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    filename = models.CharField("nom du fichier", max_length=255)
    file = models.FileField(upload_to=observatoire_upload_path, max_length=255, blank=True)
    sha256 = models.CharField(max_length=64)
    status = models.CharField(
        max_length=16,
        choices=ObservatoireImportStatus,
        default=ObservatoireImportStatus.VALIDATING,
    )
    total_lines = models.PositiveIntegerField(default=0)
    processed_lines = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)  # {"create": n, "update": n, ...}
    errors = models.JSONField(default=list, blank=True)  # [{"line","column","value","message"}]
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(conference="conference")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Import {self.get_kind_display()} {self.filename}"

    @property
    def progress_percent(self) -> int:
        if not self.total_lines:
            return 0
        return min(100, round(100 * self.processed_lines / self.total_lines))
