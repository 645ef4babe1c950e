"""The platform's seal: the key file, the PAdES signature, and what breaks it."""

import stat
import subprocess
from io import BytesIO

import pytest
from asn1crypto import pem, x509
from cryptography.hazmat.primitives.serialization import pkcs12
from django.core.management import CommandError, call_command
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko.sign.validation.status import SignatureCoverageLevel

from conventions.management.commands.generate_seal_certificate import make_seal_pkcs12
from conventions.pdf.rendering import render_pdf
from conventions.pdf.sealing import (
    SEAL_FIELD_NAME,
    SealNotConfigured,
    fingerprint,
    load_seal,
    seal_pdf,
)
from tests.conventions.conftest import SEAL_PASSPHRASE
from tests.conventions.documents_support import flip_byte, validation_status


@pytest.fixture(scope="module")
def unsealed():
    return render_pdf("conventions/pdf/base.html", {"document_title": "Document à sceller"})


def test_command_writes_a_private_rsa_3072_self_signed_seal(seal_path):
    assert stat.S_IMODE(seal_path.stat().st_mode) == 0o600
    key, certificate, _others = pkcs12.load_key_and_certificates(
        seal_path.read_bytes(), SEAL_PASSPHRASE.encode()
    )
    assert key.key_size == 3072
    assert certificate.issuer == certificate.subject


def test_command_refuses_to_replace_a_seal_without_force(settings, seal_path):
    with pytest.raises(CommandError, match="existe déjà"):
        call_command("generate_seal_certificate", path=str(seal_path))


def test_sealed_pdf_validates_against_our_certificate(unsealed):
    sealed = seal_pdf(unsealed)
    status = validation_status(sealed, load_seal().certificate)
    assert status.bottom_line
    assert status.intact
    assert status.valid
    assert status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.signing_cert.subject.native["common_name"] == "Cachet de test de la plateforme"
    # An incremental update: the unsealed document is still the first revision.
    assert sealed.startswith(unsealed)


def test_the_signature_is_pades_with_an_invisible_field_and_french_reason(unsealed):
    sealed = seal_pdf(unsealed, reason="Bilan annuel — scellement")
    reader = PdfFileReader(BytesIO(sealed))
    signature = reader.embedded_signatures[0]
    assert signature.field_name == SEAL_FIELD_NAME
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert signature.sig_object["/Reason"] == "Bilan annuel — scellement"
    rect = [float(v) for v in signature.sig_field.get("/Rect", [0, 0, 0, 0])]
    assert rect[2] - rect[0] == 0
    assert rect[3] - rect[1] == 0


def test_pdfsig_agrees(unsealed, tmp_path):
    path = tmp_path / "scelle.pdf"
    path.write_bytes(seal_pdf(unsealed))
    result = subprocess.run(["pdfsig", str(path)], capture_output=True, check=False)
    out = result.stdout.decode()
    assert "Signature is Valid" in out
    assert "Total document signed" in out


def test_pades_b_t_with_a_local_timestamp_authority(unsealed):
    tsa_data = make_seal_pkcs12(common_name="TSA de test", organisation="Test", passphrase="t")
    tsa = signers.SimpleSigner.load_pkcs12_data(tsa_data, [], passphrase=b"t")
    stamper = DummyTimeStamper(tsa_cert=tsa.signing_cert, tsa_key=tsa.signing_key)
    sealed = seal_pdf(unsealed, timestamper=stamper)
    status = validation_status(sealed, load_seal().certificate)
    assert status.intact
    assert status.valid
    assert status.trusted
    assert status.timestamp_validity is not None


def test_changing_one_byte_breaks_the_seal(unsealed):
    sealed = seal_pdf(unsealed)
    modified = flip_byte(sealed)
    status = validation_status(modified, load_seal().certificate)
    assert not status.bottom_line
    assert not status.intact


def test_another_key_is_not_trusted(unsealed, foreign_seal):
    sealed = seal_pdf(unsealed, seal=foreign_seal)
    status = validation_status(sealed, load_seal().certificate)
    assert status.intact
    assert status.valid
    assert not status.trusted
    assert not status.bottom_line


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"CIL_SEAL_PKCS12_PATH": "/nonexistent/seal.p12"}, "est introuvable"),
        ({"CIL_SEAL_PKCS12_PASSPHRASE": "mauvaise"}, "phrase secrète incorrecte"),
        ({"CIL_SEAL_PKCS12_PASSPHRASE": None}, "n'est pas configuré"),
    ],
)
def test_missing_or_unreadable_key_is_a_clear_french_error(settings, unsealed, change, message):
    for name, value in change.items():
        setattr(settings, name, value)
    with pytest.raises(SealNotConfigured, match=message):
        seal_pdf(unsealed)


def test_seal_certificate_is_an_asn1_certificate():
    assert isinstance(load_seal().certificate, x509.Certificate)


def test_command_archives_the_public_certificate_beside_the_key(seal_path):
    history = seal_path.parent / "seal-history"
    certificate = load_seal().certificate
    archived = history / f"{fingerprint(certificate)}.pem"
    assert archived.read_bytes() == pem.armor("CERTIFICATE", certificate.dump())


def test_command_refuses_a_validity_below_one_day(settings, tmp_path):
    with pytest.raises(CommandError, match="Durée de validité invalide : 0 jours"):
        call_command("generate_seal_certificate", path=str(tmp_path / "s.p12"), days=0)
    assert not (tmp_path / "s.p12").exists()
