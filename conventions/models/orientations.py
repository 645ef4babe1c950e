"""The document d'orientation of a conference (CCH L.441-1-5), its versions, comments and
approval history.

```
OrientationDocument (conference, public_id, title, state, current_version, is_current)
 ├── OrientationVersion        number 1, 2, 3…: immutable once written (created_by, at,
 │    │                        title and the SHA-256 of its canonical content)
 │    └── OrientationPlacement  version × section × order: which section texts a version holds
 ├── OrientationSection         one immutable text of a section (key, title, Markdown body,
 │                              objectives R1–R3); shared by every version it did not change
 ├── OrientationComment         on a section (stable key) of a version; open ones follow
 │                              the section into newer versions
 └── OrientationTransition      the history of the circuit (conventions/circuit.py)
```

Copy-on-write: a save writes one new `OrientationSection` (the changed one) and one row per
section in `OrientationPlacement`; unchanged texts are shared, never copied. A section keeps
its `key` (UUID) across versions: comments and the comparison of versions match on it.

One current document per conference (`is_current`). A document in force stays in force
while its revision (a new document) goes through the circuit; when the revision enters into
force, the old one becomes `remplace` and is kept.
"""

import uuid

from django.conf import settings
from django.core.validators import FileExtensionValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django_scopes import ScopedManager

from cil.models import Conference, Organisation, TenantModel
from conventions.circuit import State

__all__ = [
    "OrientationComment",
    "OrientationDocument",
    "OrientationPlacement",
    "OrientationSection",
    "OrientationState",
    "OrientationTransition",
    "OrientationVersion",
    "orientation_attachment_path",
]

OrientationState = State

OBJECTIVE_VALIDATORS = [MinValueValidator(0), MaxValueValidator(1)]


class OrientationDocument(TenantModel):
    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField("intitulé", max_length=255)
    state = models.CharField("état", max_length=16, choices=State.choices, default=State.BROUILLON)
    current_version = models.ForeignKey(
        "OrientationVersion", on_delete=models.PROTECT, null=True, related_name="+"
    )
    is_current = models.BooleanField("document courant", default=True)
    # The document in force that this one revises, if any.
    revises = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="revisions"
    )
    effective_date = models.DateField("date d'effet", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(conference="conference")

    class Meta:
        verbose_name = "document d'orientation"
        verbose_name_plural = "documents d'orientation"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["conference"],
                condition=Q(is_current=True),
                name="orientation_one_current_per_conference",
            )
        ]

    def __str__(self) -> str:
        return self.title


class OrientationVersion(TenantModel):
    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="+")
    document = models.ForeignKey(
        OrientationDocument, on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField("numéro")
    title = models.CharField("intitulé", max_length=255)
    change_note = models.CharField("modification", max_length=500, blank=True)
    # SHA-256 of the canonical JSON of the version (title, sections in order): the version's
    # frozen fingerprint, what a PDF of it can quote.
    content_sha256 = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(conference="conference")

    class Meta:
        verbose_name = "version du document d'orientation"
        ordering = ["document", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["document", "number"], name="orientation_version_unique_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} — version {self.number}"


class OrientationSection(TenantModel):
    """One text of a section. Immutable: a change writes a new row with the same `key`."""

    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="+")
    document = models.ForeignKey(
        OrientationDocument, on_delete=models.CASCADE, related_name="section_texts"
    )
    key = models.UUIDField("clé", default=uuid.uuid4, db_index=True)
    title = models.CharField("titre", max_length=255)
    body = models.TextField("texte (Markdown)", blank=True)
    # Quantified objectives of the orientations on the rules of CCH L.441-1 (rates 0..1):
    # R1 attributions outside QPV to Q1 households, R2 in QPV to non-Q1 households, R3 to
    # DALO or priority households.
    objective_r1 = models.DecimalField(
        "objectif R1",
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        validators=OBJECTIVE_VALIDATORS,
    )
    objective_r2 = models.DecimalField(
        "objectif R2",
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        validators=OBJECTIVE_VALIDATORS,
    )
    objective_r3 = models.DecimalField(
        "objectif R3",
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        validators=OBJECTIVE_VALIDATORS,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(conference="conference")

    class Meta:
        verbose_name = "section du document d'orientation"
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    (Q(objective_r1__isnull=True) | Q(objective_r1__gte=0, objective_r1__lte=1))
                    & (Q(objective_r2__isnull=True) | Q(objective_r2__gte=0, objective_r2__lte=1))
                    & (Q(objective_r3__isnull=True) | Q(objective_r3__gte=0, objective_r3__lte=1))
                ),
                name="orientation_section_objectives_are_rates",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def has_objectives(self) -> bool:
        return any(
            value is not None for value in (self.objective_r1, self.objective_r2, self.objective_r3)
        )


class OrientationPlacement(TenantModel):
    """Section `section` is at position `order` in `version`."""

    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="+")
    version = models.ForeignKey(
        OrientationVersion, on_delete=models.CASCADE, related_name="placements"
    )
    section = models.ForeignKey(
        OrientationSection, on_delete=models.PROTECT, related_name="placements"
    )
    order = models.PositiveSmallIntegerField("ordre")

    objects = ScopedManager(conference="conference")

    class Meta:
        ordering = ["version", "order"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "order"], name="orientation_placement_unique_order"
            ),
            models.UniqueConstraint(
                fields=["version", "section"], name="orientation_placement_unique_section"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version_id} #{self.order} : {self.section_id}"


class OrientationComment(TenantModel):
    """A member's comment on a section, made while reading a version."""

    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    document = models.ForeignKey(
        OrientationDocument, on_delete=models.CASCADE, related_name="comments"
    )
    version = models.ForeignKey(
        OrientationVersion, on_delete=models.CASCADE, related_name="comments"
    )
    section = models.ForeignKey(
        OrientationSection, on_delete=models.PROTECT, related_name="comments"
    )
    section_key = models.UUIDField(db_index=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # Kept as text: the discussion still says who wrote after an account is deleted.
    author_label = models.CharField(max_length=255)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    body = models.TextField("commentaire")
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    resolved_by_label = models.CharField(max_length=255, blank=True)

    objects = ScopedManager(conference="conference")

    class Meta:
        verbose_name = "commentaire sur le document d'orientation"
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["document", "section_key"], name="orientation_comment_key"),
        ]

    def __str__(self) -> str:
        return f"Commentaire de {self.author_label} sur « {self.section.title} »"

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None


def orientation_attachment_path(instance, filename: str) -> str:
    # Tenant path, random name: never the uploader's file name.
    return f"orientations/{instance.conference_id}/{instance.public_id}.pdf"


class OrientationTransition(TenantModel):
    """One step of the circuit: who moved the document from which state to which, with the
    data the step records (conventions/circuit.py) and, for the délibération, its PDF."""

    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    document = models.ForeignKey(
        OrientationDocument, on_delete=models.CASCADE, related_name="transitions"
    )
    # The version the step was taken on (what was adopted, approved, refused…).
    version = models.ForeignKey(
        OrientationVersion, on_delete=models.PROTECT, null=True, related_name="+"
    )
    name = models.CharField("étape", max_length=32)
    from_state = models.CharField(max_length=16, choices=State.choices)
    to_state = models.CharField(max_length=16, choices=State.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    actor_label = models.CharField(max_length=255)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    data = models.JSONField(default=dict, blank=True)
    comment = models.TextField("commentaire", blank=True)
    attachment = models.FileField(
        upload_to=orientation_attachment_path,
        max_length=255,
        blank=True,
        validators=[FileExtensionValidator(["pdf"])],
    )
    attachment_name = models.CharField(max_length=255, blank=True)
    attachment_sha256 = models.CharField(max_length=64, blank=True)

    objects = ScopedManager(conference="conference")

    class Meta:
        verbose_name = "étape du document d'orientation"
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.document_id} : {self.from_state} → {self.to_state}"
