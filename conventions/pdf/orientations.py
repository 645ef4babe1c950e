"""The document d'orientation PDF: one version of the document (its sections rendered from
Markdown through the same sanitiser as the pages, its quantified objectives), the state of
the circuit and its history, and the version's SHA-256 fingerprint."""

from conventions import circuit, markdown
from conventions.models import DocumentKind, GeneratedDocument
from conventions.models.orientations import OrientationDocument
from conventions.pdf.registry import register
from conventions.selectors_orientations import (
    RULES,
    access_version,
    history,
    percent,
    sections_of,
)


def orientations_title(document: OrientationDocument, number: int) -> str:
    return f"{document.title} — version {number}"


@register(
    DocumentKind.ORIENTATIONS,
    view_permission="orientations.view",
    seal_reason="Cachet électronique de la plateforme : document d'orientation",
)
def build_orientations_pdf(document: GeneratedDocument) -> tuple[str, dict]:
    orientation = OrientationDocument.objects.get(public_id=document.subject_id)
    number = document.parameters.get("version") or orientation.current_version.number
    version = access_version(document=orientation, number=number)
    sections = [
        {
            "section": section,
            "html": markdown.render(section.body),
            "objectives": [
                (rule.upper(), percent(getattr(section, f"objective_{rule}")))
                for rule, _label in RULES
                if getattr(section, f"objective_{rule}") is not None
            ],
        }
        for section in sections_of(version)
    ]
    return "conventions/pdf/orientations.html", {
        "orientation": orientation,
        "version": version,
        "is_current_version": version.pk == orientation.current_version_id,
        "state_label": circuit.State(orientation.state).label,
        "sections": sections,
        "history": history(orientation),
    }
