"""The platform's electronic seal: a PAdES signature with the key in CIL_SEAL_PKCS12_PATH.

PAdES B-B (no time-stamping authority is reachable here; B-T with a real TSA is a setting
to add with one). The signature field is invisible: the visible block is drawn by the HTML
template (`conventions/pdf/base.html`), because pyHanko's own stamp lays out TrueType
fonts badly (ecosystem-notes §2.2). An approval signature, not a certification one, so
that signatories may add their own signatures to the same file later.

No key, no document: `SealNotConfigured` carries the French message the document shows.
"""

from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from asn1crypto import x509
from django.conf import settings
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps import TimeStamper

from conventions.pdf.loops import outside_event_loop

SEAL_FIELD_NAME = "SceauPlateforme"
DEFAULT_REASON = "Cachet électronique de la plateforme : document authentique et intègre"
DEFAULT_LOCATION = "France"


class SealNotConfigured(RuntimeError):
    """The seal key is missing or unreadable. The message is shown to users (French)."""


@dataclass(frozen=True)
class Seal:
    signer: signers.SimpleSigner

    @property
    def certificate(self) -> x509.Certificate:
        return self.signer.signing_cert


_cache: dict[tuple, Seal] = {}


def load_seal() -> Seal:
    """The seal from the settings, loaded once per file version (path, mtime, passphrase)."""
    path = Path(settings.CIL_SEAL_PKCS12_PATH)
    passphrase = settings.CIL_SEAL_PKCS12_PASSPHRASE
    if not passphrase:
        raise SealNotConfigured(
            "Le cachet électronique de la plateforme n'est pas configuré "
            "(phrase secrète CIL_SEAL_PKCS12_PASSPHRASE absente) : "
            "aucun document ne peut être scellé."
        )
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        hint = "" if settings.PRODUCTION else " (python manage.py generate_seal_certificate)"
        raise SealNotConfigured(
            "Le cachet électronique de la plateforme n'est pas configuré : le fichier de "
            f"clé « {path.name} » est introuvable (CIL_SEAL_PKCS12_PATH{hint}). "
            "Aucun document ne peut être scellé."
        ) from None
    key = (str(path), mtime, passphrase)
    if key not in _cache:
        try:
            signer = signers.SimpleSigner.load_pkcs12_data(
                path.read_bytes(), other_certs=[], passphrase=passphrase.encode()
            )
        except (OSError, ValueError):
            raise SealNotConfigured(
                "Le cachet électronique de la plateforme est illisible : fichier de clé "
                "invalide ou phrase secrète incorrecte (CIL_SEAL_PKCS12_PATH, "
                "CIL_SEAL_PKCS12_PASSPHRASE). Aucun document ne peut être scellé."
            ) from None
        _cache.clear()
        _cache[key] = Seal(signer=signer)
    return _cache[key]


def seal_certificate() -> x509.Certificate:
    """Our certificate: the one trust root of the verification page."""
    return load_seal().certificate


def seal_pdf(
    pdf: bytes,
    *,
    seal: Seal | None = None,
    reason: str = DEFAULT_REASON,
    location: str = DEFAULT_LOCATION,
    timestamper: TimeStamper | None = None,
) -> bytes:
    """`pdf` with the platform's PAdES signature appended (incremental update).

    `timestamper`: a TSA client for PAdES B-T (tests use pyHanko's DummyTimeStamper).
    """
    seal = seal or load_seal()
    metadata = signers.PdfSignatureMetadata(
        field_name=SEAL_FIELD_NAME,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
        name=settings.CIL_SEAL_NAME,
    )

    def sign() -> bytes:
        writer = IncrementalPdfFileWriter(BytesIO(pdf))
        output = BytesIO()
        signers.PdfSigner(
            metadata,
            signer=seal.signer,
            timestamper=timestamper,
            # No box: an invisible field (the visible block is in the document itself).
            new_field_spec=fields.SigFieldSpec(SEAL_FIELD_NAME, on_page=0),
        ).sign_pdf(writer, output=output)
        return output.getvalue()

    return outside_event_loop(sign)
