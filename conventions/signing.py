"""What a signatory of a CIA version signs, and the final document of a signed version.

**The canonical bytes** of a version are its PDF as rendered when it goes to signature
(`services_cia.version_submit`): the template `conventions/pdf/cia.html` with
`stage="signature"` — cover, stipulations, annex tables of the objectives, and the list of
the signatory organisations expected; no signature, no seal. The bytes are rendered once,
stored with the version (`canonical_file`) and hashed (`canonical_sha256`); the content is
frozen from then on. Every signatory is shown the SHA-256 before signing, may download the
exact bytes to check it, and the signature records it (`Signatory.signed_sha256`, recomputed
from the stored bytes at that moment). A rendering is not reproducible byte for byte (it
carries its production date), which is why the stored bytes — not a re-rendering — are the
reference.

**The final document** (kind "cia" of the document pipeline) is requested when the last
signatory has signed: the same content with `stage="final"`, whose signature page lists
every signer with their organisation, the time of their signature and the SHA-256 they
signed; the pipeline seals it (PAdES) with the platform's key.

**The signer's identity** is checked again at the signature: the password, and, when the
signer has turned on the second factor (cil/two_factor/), a code of their application or a
backup code (`check_second_factor`).
"""

import hashlib
from dataclasses import dataclass
from decimal import Decimal

from conventions.models import (
    BailleurObjective,
    ConventionVersion,
    DocumentKind,
    GeneratedDocument,
    ReservataireObjective,
    Signatory,
    SignatoryCapacity,
)
from conventions.pdf.registry import register

SECOND_FACTOR_FIELD = "otp_code"

TEMPLATE = "conventions/pdf/cia.html"
SUBJECT_TYPE = "conventions.conventionversion"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def grouped(digest: str) -> str:
    """A hash in groups of 8 characters, easier to compare by eye."""
    return " ".join(digest[i : i + 8] for i in range(0, len(digest), 8))


def percent(value: Decimal | None) -> str:
    """0.275 → « 27,5 % »; None → « — »."""
    if value is None:
        return "—"
    text = f"{(value * 100).normalize():f}".replace(".", ",")
    return f"{text} %"


@dataclass(frozen=True)
class ObjectiveCell:
    r1: str
    r2: str
    r3: str
    npnru: str


EMPTY_CELL = ObjectiveCell("—", "—", "—", "—")


def _cell(objective: BailleurObjective | None) -> ObjectiveCell:
    if objective is None:
        return EMPTY_CELL
    return ObjectiveCell(
        percent(objective.r1),
        percent(objective.r2),
        percent(objective.r3),
        "—" if objective.npnru_relogements is None else str(objective.npnru_relogements),
    )


def objectives_tables(version: ConventionVersion) -> dict:
    """The annex tables: per bailleur signatory, one row per year (territory-wide); the
    territorialised objectives; per réservataire, R3 per year. Strings, ready to print."""
    years = version.convention.years
    signatories = list(Signatory.objects.filter(version=version).select_related("organisation"))
    objectives = list(
        BailleurObjective.objects.filter(version=version).select_related("commune", "qpv")
    )
    territory = {(o.bailleur_id, o.year): o for o in objectives if not (o.commune_id or o.qpv_id)}
    bailleurs = [
        {
            "organisation": s.organisation,
            "rows": [
                {"year": year, "cell": _cell(territory.get((s.organisation_id, year)))}
                for year in years
            ],
        }
        for s in signatories
        if s.capacity == SignatoryCapacity.BAILLEUR
    ]
    names = {s.organisation_id: s.organisation.name for s in signatories}
    territorial = sorted(
        (
            {
                "bailleur": names.get(o.bailleur_id, ""),
                "year": o.year,
                "perimeter": f"Commune {o.commune}" if o.commune_id else f"QPV {o.qpv}",
                "cell": _cell(o),
            }
            for o in objectives
            if o.commune_id or o.qpv_id
        ),
        key=lambda row: (row["bailleur"], row["year"], row["perimeter"]),
    )
    r3 = {
        (o.reservataire_id, o.year): o.r3
        for o in ReservataireObjective.objects.filter(version=version)
    }
    reservataires = [
        {
            "organisation": s.organisation,
            "cells": [percent(r3.get((s.organisation_id, year))) for year in years],
        }
        for s in signatories
        if any((s.organisation_id, year) in r3 for year in years)
    ]
    return {
        "years": years,
        "bailleurs": bailleurs,
        "territorial": territorial,
        "reservataires": reservataires,
    }


def pdf_context(version: ConventionVersion, *, stage: str) -> dict:
    """The context of `conventions/pdf/cia.html`: `stage` "signature" (the canonical bytes)
    or "final" (with the signatures). Call inside the conference scope."""
    convention = version.convention
    signatories = list(
        Signatory.objects.filter(version=version).select_related("organisation", "signer")
    )
    return {
        "document_title": version.title,
        "conference": version.conference,
        "convention": convention,
        "version": version,
        "stage": stage,
        "signatories": signatories,
        "canonical_sha256": version.canonical_sha256,
        "canonical_sha256_grouped": grouped(version.canonical_sha256),
        **objectives_tables(version),
    }


def canonical_document(version: ConventionVersion) -> tuple[bytes, str]:
    """The canonical bytes of a version going to signature, and their file extension."""
    from conventions.pdf.rendering import render_pdf

    return render_pdf(TEMPLATE, pdf_context(version, stage="signature")), "pdf"


def stored_bytes(version: ConventionVersion) -> bytes:
    """The canonical bytes stored when the version went to signature."""
    with version.canonical_file.open("rb") as handle:
        return handle.read()


# --- The final document -------------------------------------------------------------------------


@register(
    DocumentKind.CIA,
    view_permission="cia.view",
    seal_reason="Cachet électronique de la plateforme : convention intercommunale d'attribution signée",
)
def build_final_document(document: GeneratedDocument) -> tuple[str, dict]:
    """The document pipeline's builder of kind "cia" (runs in the task, inside the scope)."""
    version = ConventionVersion.objects.select_related("convention", "conference").get(
        public_id=document.subject_id
    )
    return TEMPLATE, pdf_context(version, stage="final")


def request_final_document(*, conference, actor, version: ConventionVersion) -> GeneratedDocument:
    """Ask the pipeline for the final sealed PDF of a version signed by all (queued after
    the commit)."""
    from conventions.pdf.services import document_request

    return document_request(
        conference=conference,
        actor=actor,
        kind=DocumentKind.CIA,
        title=f"{version.title} — version signée",
        subject_type=SUBJECT_TYPE,
        subject_id=str(version.public_id),
    )


# --- The signer's second factor -------------------------------------------------------------


def second_factor_required(user) -> bool:
    """Whether signing asks this person for a one-time code (they have an application)."""
    from cil.two_factor import devices

    return devices.has_device(user)


def check_second_factor(*, conference, actor, version, code: str, refused_key: str) -> None:
    """For a signer with the second factor on, the code must be right too (after the
    password). A wrong code is refused and journaled like a wrong password, under
    `refused_key`, outside any transaction (the entry stays, and counts towards the signature's
    failure limit). Raises ValidationError on the `otp_code` field."""
    from django.core.exceptions import ValidationError
    from django.db import transaction

    from cil import audit
    from cil.models import AuditAction
    from cil.two_factor import devices

    if not devices.has_device(actor):
        return
    if not (code or "").strip():
        raise ValidationError(
            {
                SECOND_FACTOR_FIELD: "Saisissez le code de votre application d'authentification "
                "(ou un code de secours) pour signer."
            }
        )
    if devices.verify_code(actor, code) is not None:
        return
    with transaction.atomic():
        audit.record(
            conference=conference,
            actor=actor,
            action=AuditAction.UPDATE,
            obj=version,
            changes={refused_key: [None, "code à usage unique incorrect"]},
        )
    raise ValidationError(
        {
            SECOND_FACTOR_FIELD: "Code incorrect ou déjà utilisé : la signature n'a pas été "
            "enregistrée."
        }
    )
