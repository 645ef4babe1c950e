"""The platform's electronic seal: a PAdES signature with the key in CIL_SEAL_PKCS12_PATH.

PAdES B-B (no time-stamping authority is reachable here; B-T with a real TSA is a setting
to add with one). The signature field is invisible: the visible block is drawn by the HTML
template (`conventions/pdf/base.html`), because pyHanko's own stamp lays out TrueType
fonts badly (ecosystem-notes §2.2). An approval signature, not a certification one, so
that signatories may add their own signatures to the same file later.

No key, no document: `SealNotConfigured` carries the French message the document shows.

Certificate history: every seal certificate is archived — its public part only, never the
key — as `<SHA-256 fingerprint>.pem` in the history folder (CIL_SEAL_HISTORY_DIR, by default
`seal-history/` beside the key file): when `generate_seal_certificate` makes it, when the
platform first loads it to seal (a certificate from a provider, put in place by hand, too),
and, with `--force`, before the command replaces it. The verification page trusts the
current certificate and every archived one (`trusted_certificates`): a document sealed
before a rotation still verifies, and the page says which certificate sealed it.
"""

import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from pathlib import Path

from asn1crypto import pem, x509
from django.conf import settings
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps import TimeStamper

from conventions.pdf.loops import outside_event_loop

logger = logging.getLogger(__name__)

SEAL_FIELD_NAME = "SceauPlateforme"
HISTORY_DIRNAME = "seal-history"
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
    """The seal from the settings, loaded once per file version (path, content,
    passphrase): a seal replaced by `generate_seal_certificate --force` is reloaded."""
    path = Path(settings.CIL_SEAL_PKCS12_PATH)
    passphrase = settings.CIL_SEAL_PKCS12_PASSPHRASE
    if not passphrase:
        raise SealNotConfigured(
            "Le cachet électronique de la plateforme n'est pas configuré "
            "(phrase secrète CIL_SEAL_PKCS12_PASSPHRASE absente) : "
            "aucun document ne peut être scellé."
        )
    try:
        # Read each time (a few kilobytes): its content, not its mtime, tells a replaced seal
        # apart. Parsing the PKCS#12 (key derivation) is what the cache saves.
        data = path.read_bytes()
    except OSError:
        hint = "" if settings.PRODUCTION else " (python manage.py generate_seal_certificate)"
        raise SealNotConfigured(
            "Le cachet électronique de la plateforme n'est pas configuré : le fichier de "
            f"clé « {path.name} » est introuvable (CIL_SEAL_PKCS12_PATH{hint}). "
            "Aucun document ne peut être scellé."
        ) from None
    key = (str(path), hashlib.sha256(data).hexdigest(), passphrase)
    if key not in _cache:
        try:
            signer = signers.SimpleSigner.load_pkcs12_data(
                data, other_certs=[], passphrase=passphrase.encode()
            )
        except (OSError, ValueError):
            raise SealNotConfigured(
                "Le cachet électronique de la plateforme est illisible : fichier de clé "
                "invalide ou phrase secrète incorrecte (CIL_SEAL_PKCS12_PATH, "
                "CIL_SEAL_PKCS12_PASSPHRASE). Aucun document ne peut être scellé."
            ) from None
        _archive_in_use(signer.signing_cert)
        _cache.clear()
        _cache[key] = Seal(signer=signer)
    return _cache[key]


def _archive_in_use(certificate: x509.Certificate) -> None:
    """Archive the certificate about to seal, once per process and file version. A folder
    that cannot be written does not stop the sealing (the current certificate is trusted
    anyway, and the rotation command archives it too): it is logged as an error."""
    try:
        archive_certificate(certificate, history_dir())
    except OSError:
        logger.exception("Archivage du certificat du cachet impossible dans %s", history_dir())


# --- Certificate history ------------------------------------------------------------------


@dataclass(frozen=True)
class SealCertificate:
    """A seal certificate the platform issued: the current one or an archived one."""

    certificate: x509.Certificate
    current: bool

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the DER certificate, lowercase hex: its name in the history folder."""
        return fingerprint(self.certificate)

    @property
    def common_name(self) -> str:
        return self.certificate.subject.native.get("common_name") or ""

    @property
    def not_before(self) -> datetime:
        return self.certificate.not_valid_before

    @property
    def not_after(self) -> datetime:
        return self.certificate.not_valid_after


def fingerprint(certificate: x509.Certificate) -> str:
    return hashlib.sha256(certificate.dump()).hexdigest()


def history_dir(pkcs12_path: Path | str | None = None) -> Path:
    """The folder of archived seal certificates: CIL_SEAL_HISTORY_DIR, or `seal-history/`
    beside the key file (`pkcs12_path`, CIL_SEAL_PKCS12_PATH by default)."""
    configured = settings.CIL_SEAL_HISTORY_DIR
    if configured:
        return Path(configured)
    return Path(pkcs12_path or settings.CIL_SEAL_PKCS12_PATH).parent / HISTORY_DIRNAME


def archive_certificate(certificate: x509.Certificate, folder: Path) -> Path:
    """Write the certificate (public part, PEM) as `<fingerprint>.pem` in `folder`; nothing
    to do when it is there already. Written to a temporary name then renamed: a reader
    never sees half a file."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{fingerprint(certificate)}.pem"
    if target.exists():
        return target
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".pem")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem.armor("CERTIFICATE", certificate.dump()))
        os.chmod(temporary, 0o644)  # a public certificate
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def archived_certificates(folder: Path | None = None) -> list[x509.Certificate]:
    """The certificates of the history folder, oldest first. A file that is not a
    certificate, or whose name is not its fingerprint, is skipped with a warning: it must
    not make every verification fail, nor be trusted under another name."""
    folder = folder or history_dir()
    certificates = []
    for path in sorted(folder.glob("*.pem")) if folder.is_dir() else []:
        try:
            data = path.read_bytes()
            if pem.detect(data):
                _type, _headers, data = pem.unarmor(data)
            certificate = x509.Certificate.load(data)
            certificate.native  # noqa: B018 - asn1crypto parses lazily: parse it all now
            valid = path.stem == fingerprint(certificate)
        except (OSError, ValueError, TypeError):
            valid = False
        if not valid:
            logger.warning("Certificat de cachet archivé illisible ou mal nommé : %s", path)
            continue
        certificates.append(certificate)
    return sorted(certificates, key=lambda c: (c.not_valid_before, fingerprint(c)))


def trusted_certificates() -> list[SealCertificate]:
    """The certificates the verification page trusts: the current one first (raises
    `SealNotConfigured` without a seal), then the archived ones, newest first."""
    current = load_seal().certificate
    ours = fingerprint(current)
    archived = [
        SealCertificate(certificate=certificate, current=False)
        for certificate in reversed(archived_certificates())
        if fingerprint(certificate) != ours
    ]
    return [SealCertificate(certificate=current, current=True), *archived]


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
