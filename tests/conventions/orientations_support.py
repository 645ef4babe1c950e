"""Helpers of the document d'orientation tests: a document driven through the services to
any state of the circuit, and a small valid PDF for the délibération."""

from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cil.roles import RoleName
from cil.tenancy import conference_scope
from conventions import services_orientations as services
from conventions.circuit import State
from conventions.models.orientations import OrientationDocument

PDF_BYTES = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"

# The path through the circuit: (step, role that takes it).
PATH = (
    ("soumettre", RoleName.SECRETARIAT),
    ("adopter", RoleName.SECRETARIAT),
    ("deliberer", RoleName.SECRETARIAT),
    ("agreer", RoleName.PREFECTURE),
    ("mettre_en_vigueur", RoleName.SECRETARIAT),
)


def pdf_upload(name: str = "deliberation.pdf", content: bytes = PDF_BYTES):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def step_data(step: str) -> dict:
    """Valid data for each step (dates in order, none in the future)."""
    today = timezone.localdate()
    return {
        "soumettre": {},
        "adopter": {
            "date_seance": today - timedelta(days=20),
            "voix_pour": 40,
            "voix_contre": 5,
            "abstentions": 3,
        },
        "deliberer": {"numero": "2026-117", "date_deliberation": today - timedelta(days=10)},
        "agreer": {"date_agrement": today - timedelta(days=2)},
        "refuser": {},
        "mettre_en_vigueur": {"date_effet": today},
    }[step]


def take(conference, users, document, step: str, role: str | None = None, **overrides):
    """Take `step` as the user of the role that takes it (inside the conference's scope)."""
    role = role or dict(PATH)[step]
    data = step_data(step) | overrides
    return services.orientation_transition_apply(
        conference=conference,
        actor=users[role],
        document=document,
        name=step,
        base_version=None,
        data=data,
        comment="",
        attachment=pdf_upload() if step == "deliberer" else None,
    )


def orientation_at(conference, users, state: str = State.BROUILLON) -> OrientationDocument:
    """A new current document of the conference, brought to `state` through the services."""
    with conference_scope(conference):
        document = services.orientation_document_create(
            conference=conference,
            actor=users[RoleName.SECRETARIAT],
            title=f"Orientations {conference.name}",
        )
        for step, _role in PATH:
            if document.state == state:
                break
            take(conference, users, document, step)
            document.refresh_from_db()
        assert document.state == state
    return document
