"""Every read the views of the document d'orientation need. `access_*` look an object up
inside the open conference scope and raise Http404 for "absent" and "not yours" alike."""

import difflib
import uuid
from collections import defaultdict
from decimal import Decimal

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from attributions.models import DEFAULT_TARGET_R1, DEFAULT_TARGET_R2, DEFAULT_TARGET_R3, RuleRates
from conventions import circuit, markdown
from conventions.models.orientations import (
    OrientationComment,
    OrientationDocument,
    OrientationPlacement,
    OrientationSection,
    OrientationTransition,
    OrientationVersion,
)

RULES = (
    ("r1", "R1 — attributions hors QPV aux ménages du 1er quartile ou relogés (NPNRU)"),
    ("r2", "R2 — attributions en QPV aux ménages hors 1er quartile"),
    ("r3", "R3 — attributions aux ménages DALO ou prioritaires"),
)


def sections_of(version: OrientationVersion | None) -> list[OrientationSection]:
    """The section texts of a version, in order (one query)."""
    if version is None:
        return []
    return [
        placement.section
        for placement in OrientationPlacement.objects.filter(version=version)
        .select_related("section")
        .order_by("order")
    ]


def percent(value) -> str:
    """0.25 → '25 %', 0.125 → '12,5 %' (French typography: a non-breaking space)."""
    if value is None:
        return ""
    return f"{Decimal(value) * 100:.2f}".rstrip("0").rstrip(".").replace(".", ",") + "\u00a0%"


def current_document() -> OrientationDocument | None:
    return (
        OrientationDocument.objects.select_related("current_version")
        .filter(is_current=True)
        .first()
    )


def in_force_document() -> OrientationDocument | None:
    return (
        OrientationDocument.objects.select_related("current_version")
        .filter(state=circuit.State.EN_VIGUEUR)
        .first()
    )


def past_documents(*, exclude: OrientationDocument | None = None) -> QuerySet:
    rows = OrientationDocument.objects.filter(is_current=False)
    if exclude is not None:
        rows = rows.exclude(pk=exclude.pk)
    return rows.order_by("-created_at")


def access_document(*, document_id) -> OrientationDocument:
    return get_object_or_404(
        OrientationDocument.objects.select_related("current_version", "revises"),
        public_id=document_id,
    )


def access_version(*, document: OrientationDocument, number) -> OrientationVersion:
    try:
        number = int(number)
    except (TypeError, ValueError):
        raise Http404 from None
    return get_object_or_404(
        OrientationVersion.objects.select_related("created_by"), document=document, number=number
    )


def access_section(*, document: OrientationDocument, key: uuid.UUID) -> OrientationSection:
    """A section of the document's current version."""
    for section in sections_of(document.current_version):
        if section.key == key:
            return section
    raise Http404("Section introuvable.")


def access_comment(*, document: OrientationDocument, comment_id) -> OrientationComment:
    return get_object_or_404(
        OrientationComment.objects.select_related("section"),
        document=document,
        public_id=comment_id,
    )


def access_attachment(*, document: OrientationDocument, transition_id) -> OrientationTransition:
    row = get_object_or_404(OrientationTransition, document=document, public_id=transition_id)
    if not row.attachment:
        raise Http404("Pas de pièce jointe.")
    return row


def versions_of(document: OrientationDocument) -> list[OrientationVersion]:
    return list(
        OrientationVersion.objects.filter(document=document)
        .select_related("created_by")
        .order_by("-number")
    )


def reference_rates(year: int | None = None) -> dict[str, object]:
    """The conference's rates of R1–R3 for a year (legal defaults when it set none)."""
    year = year or timezone.localdate().year
    rates = RuleRates.objects.filter(year=year).first()
    return {
        "year": year,
        "r1": rates.target_r1 if rates else DEFAULT_TARGET_R1,
        "r2": rates.target_r2 if rates else DEFAULT_TARGET_R2,
        "r3": rates.target_r3 if rates else DEFAULT_TARGET_R3,
        "set": rates is not None,
    }


def _comments_by_key(
    document: OrientationDocument, version: OrientationVersion
) -> dict[uuid.UUID, dict[str, list]]:
    """Comments made on this version or an earlier one, by section key: open ones follow the
    section into newer versions; resolved ones are shown collapsed."""
    grouped: dict[uuid.UUID, dict[str, list]] = defaultdict(lambda: {"open": [], "resolved": []})
    rows = (
        OrientationComment.objects.filter(document=document, version__number__lte=version.number)
        .select_related("organisation", "version")
        .order_by("created_at", "id")
    )
    for comment in rows:
        grouped[comment.section_key]["resolved" if comment.is_resolved else "open"].append(comment)
    return grouped


def history(document: OrientationDocument) -> list[dict]:
    rows = (
        OrientationTransition.objects.filter(document=document)
        .select_related("organisation", "version")
        .order_by("at", "id")
    )
    return [
        {
            "row": row,
            "label": circuit.BY_NAME[row.name].label if row.name in circuit.BY_NAME else row.name,
            "from_label": circuit.State(row.from_state).label,
            "to_label": circuit.State(row.to_state).label,
            "facts": circuit.facts(row.name, row.data),
        }
        for row in rows
    ]


def document_page(
    *, document: OrientationDocument, roles, version: OrientationVersion | None = None
) -> dict:
    """Everything the page of a document (or of one of its versions) shows."""
    version = version or document.current_version
    sections = sections_of(version)
    comments = _comments_by_key(document, version)
    is_current_version = version.pk == document.current_version_id
    abilities = circuit.abilities(roles, document)
    if not is_current_version:
        # An earlier version is read-only: acting happens on the current one.
        abilities = abilities & {"view", "generate_pdf"}
    rates = reference_rates()
    objectives = []
    for rule, label in RULES:
        values = [
            (section, percent(getattr(section, f"objective_{rule}")))
            for section in sections
            if getattr(section, f"objective_{rule}") is not None
        ]
        objectives.append(
            {"rule": rule, "label": label, "values": values, "rate": percent(rates[rule])}
        )
    last_refusal = None
    if document.state == circuit.State.BROUILLON:
        last = (
            OrientationTransition.objects.filter(document=document)
            .exclude(name="reprendre")
            .order_by("-at", "-id")
            .first()
        )
        if last is not None and last.name == "refuser":
            last_refusal = last
    return {
        "document": document,
        "version": version,
        "is_current_version": is_current_version,
        "sections": [
            {
                "section": section,
                "html": markdown.render(section.body),
                "objectives": [
                    (rule.upper(), percent(getattr(section, f"objective_{rule}")))
                    for rule, _label in RULES
                    if getattr(section, f"objective_{rule}") is not None
                ],
                "open_comments": comments[section.key]["open"],
                "resolved_comments": comments[section.key]["resolved"],
            }
            for section in sections
        ],
        "objectives": objectives,
        "has_objectives": any(item["values"] for item in objectives),
        "rates": rates,
        "abilities": abilities,
        "stepper": circuit.stepper(document.state),
        "state_badge": circuit.BADGES[document.state],
        "history": history(document),
        "actions": [step for step in circuit.available(document.state) if step.name in abilities],
        "last_refusal": last_refusal,
    }


# --- Comparison of two versions -------------------------------------------------------


def side_by_side(old: list[str], new: list[str]) -> list[dict]:
    """Rows of a two-column diff of two lists of lines (difflib): each row has a left and a
    right cell {"number", "text", "kind"}, kind in same | removed | added | empty."""
    rows = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for offset in range(i2 - i1):
                rows.append(
                    {
                        "left": {
                            "number": i1 + offset + 1,
                            "text": old[i1 + offset],
                            "kind": "same",
                        },
                        "right": {
                            "number": j1 + offset + 1,
                            "text": new[j1 + offset],
                            "kind": "same",
                        },
                    }
                )
            continue
        left = [{"number": i + 1, "text": old[i], "kind": "removed"} for i in range(i1, i2)]
        right = [{"number": j + 1, "text": new[j], "kind": "added"} for j in range(j1, j2)]
        empty = {"number": None, "text": "", "kind": "empty"}
        for index in range(max(len(left), len(right))):
            rows.append(
                {
                    "left": left[index] if index < len(left) else empty,
                    "right": right[index] if index < len(right) else empty,
                }
            )
    return rows


def _objectives_of(section: OrientationSection | None) -> dict[str, object]:
    if section is None:
        return {}
    return {rule: getattr(section, f"objective_{rule}") for rule, _ in RULES}


def compare_versions(old: OrientationVersion, new: OrientationVersion) -> list[dict]:
    """Section by section (matched on their stable key), in the newer version's order, then
    the sections the newer version removed."""
    old_sections = {s.key: s for s in sections_of(old)}
    new_list = sections_of(new)
    new_keys = {s.key for s in new_list}
    pairs = [(old_sections.get(s.key), s) for s in new_list] + [
        (s, None) for key, s in old_sections.items() if key not in new_keys
    ]
    result = []
    for before, after in pairs:
        if before is None:
            status, label = "added", "Section ajoutée"
        elif after is None:
            status, label = "removed", "Section retirée"
        elif before.pk == after.pk:
            status, label = "same", "Section inchangée"
        else:
            status, label = "changed", "Section modifiée"
        old_objectives, new_objectives = _objectives_of(before), _objectives_of(after)
        rows = (
            []
            if status == "same"
            else side_by_side(
                before.body.split("\n") if before else [], after.body.split("\n") if after else []
            )
        )
        result.append(
            {
                "status": status,
                "label": label,
                "old": before,
                "new": after,
                "title_changed": bool(before and after and before.title != after.title),
                "rows": rows,
                "added": sum(1 for row in rows if row["right"]["kind"] == "added"),
                "removed": sum(1 for row in rows if row["left"]["kind"] == "removed"),
                "objectives": [
                    {
                        "label": label_,
                        "old": percent(old_objectives.get(rule)) or "—",
                        "new": percent(new_objectives.get(rule)) or "—",
                    }
                    for rule, label_ in RULES
                    if old_objectives.get(rule) != new_objectives.get(rule)
                ],
            }
        )
    return result
