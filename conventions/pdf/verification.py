"""Is this PDF a document the platform issued, unmodified?

« Intact » needs all of:
- at least one signature, and every signature valid (its digest matches the bytes it
  covers, its cryptographic signature holds) and trusted with OUR seal certificates as the
  only trust roots — the current one and those it replaced (`sealing.trusted_certificates`:
  a document sealed before a rotation still verifies) — no fetching, revocation soft-fail
  (a self-signed seal has no OCSP/CRL);
- the last signature covering the entire file (nothing appended after the seal);
- the SHA-256 of the whole file equal to that of a document the platform produced.
Anything else is « modifié ou inconnu », with the first reason found.

Our certificates are self-signed trust anchors: path validation (RFC 5280) does not check
an anchor's validity period, so a document sealed with a certificate that has expired since
still verifies; the page shows the certificate's validity.
"""

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from cil.tenancy import unscoped
from conventions.models import DocumentStatus, GeneratedDocument
from conventions.pdf.loops import outside_event_loop
from conventions.pdf.sealing import (
    SealCertificate,
    SealNotConfigured,
    fingerprint,
    trusted_certificates,
)

logger = logging.getLogger(__name__)

# Reasons, shown as they are.
NOT_A_PDF = "Le fichier n'est pas un PDF lisible."
NO_SIGNATURE = "Le document ne porte aucune signature électronique."
NOT_OURS = "La signature n'est pas le cachet de cette plateforme."
MODIFIED = "Le document a été modifié après sa signature."
APPENDED = "Du contenu a été ajouté au document après son scellement."
UNKNOWN = "Ce document n'a pas été émis par cette plateforme (empreinte inconnue)."
NO_SEAL = "La vérification est indisponible : le cachet de la plateforme n'est pas configuré."


@dataclass(frozen=True)
class SignatureReport:
    signer_name: str
    signing_time: datetime | None
    is_our_seal: bool
    intact: bool
    valid: bool
    trusted: bool
    entire_file: bool
    coverage: str
    # Which of our certificates made it (None: not one of ours).
    seal_certificate: SealCertificate | None = None


@dataclass(frozen=True)
class IssuedDocument:
    """What the page may say about a document found by its hash: no household data."""

    title: str
    conference_name: str
    kind_label: str
    finished_at: datetime | None


@dataclass
class VerificationResult:
    intact: bool
    reason: str = ""
    sha256: str = ""
    signatures: list[SignatureReport] = field(default_factory=list)
    document: IssuedDocument | None = None

    @property
    def verdict(self) -> str:
        if self.intact:
            return "intact : document émis par cette plateforme"
        return "modifié ou inconnu"

    @property
    def sealed_with(self) -> SealCertificate | None:
        """The certificate of the seal that covers the whole file (the last signature)."""
        return self.signatures[-1].seal_certificate if self.signatures else None


def issued_document_by_sha256(sha256: str) -> IssuedDocument | None:
    """UNSCOPED LOOKUP (the only one of the documents pipeline): the public verification
    page does not know which conference a PDF comes from, so it searches every conference's
    ready documents by the SHA-256 of the exact bytes. It returns the title, the kind, the
    conference's name and when it was produced only."""
    with unscoped():
        row = (
            GeneratedDocument.objects.filter(sha256=sha256, status=DocumentStatus.READY)
            .select_related("conference")
            .only("title", "kind", "finished_at", "conference__name")
            .first()
        )
    if row is None:
        return None
    return IssuedDocument(
        title=row.title,
        conference_name=row.conference.name,
        kind_label=row.get_kind_display(),
        finished_at=row.finished_at,
    )


def _signer_name(status) -> str:
    cert = status.signing_cert
    if cert is None:
        return "inconnu"
    try:
        return cert.subject.native.get("common_name") or cert.subject.human_friendly
    except Exception:  # a malformed name in a foreign certificate
        return "inconnu"


def _report(embedded, context: ValidationContext, ours: dict[str, SealCertificate]):
    status = outside_event_loop(validate_pdf_signature, embedded, context)
    signing_cert = status.signing_cert
    seal = ours.get(fingerprint(signing_cert)) if signing_cert is not None else None
    return SignatureReport(
        signer_name=_signer_name(status),
        signing_time=status.signer_reported_dt,
        is_our_seal=seal is not None,
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=bool(status.trusted),
        entire_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        coverage=status.coverage.name if status.coverage is not None else "",
        seal_certificate=seal,
    )


def verify_pdf(data: bytes) -> VerificationResult:
    sha256 = hashlib.sha256(data).hexdigest()
    result = VerificationResult(intact=False, sha256=sha256)
    try:
        certificates = trusted_certificates()
    except SealNotConfigured:
        result.reason = NO_SEAL
        return result
    ours = {certificate.fingerprint: certificate for certificate in certificates}
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        embedded = list(reader.embedded_signatures)
    except Exception:  # any damaged structure (xref, compressed streams…): unreadable
        logger.info("PDF illisible lors d'une vérification", exc_info=True)
        result.reason = NOT_A_PDF
        return result
    if not embedded:
        result.reason = NO_SIGNATURE
        return result
    context = ValidationContext(
        trust_roots=[certificate.certificate for certificate in certificates],
        allow_fetching=False,
        revocation_mode="soft-fail",
    )
    for signature in embedded:
        try:
            report = _report(signature, context, ours)
        except Exception:  # a damaged signature structure is a modified document
            logger.info("Signature illisible lors d'une vérification", exc_info=True)
            result.reason = MODIFIED
            return result
        result.signatures.append(report)
    for report in result.signatures:
        if not report.intact or (report.is_our_seal and not report.valid):
            result.reason = MODIFIED
            return result
        if not (report.is_our_seal and report.trusted and report.valid):
            result.reason = NOT_OURS
            return result
    if not result.signatures[-1].entire_file:
        result.reason = APPENDED
        return result
    result.document = issued_document_by_sha256(sha256)
    if result.document is None:
        result.reason = UNKNOWN
        return result
    result.intact = True
    return result
