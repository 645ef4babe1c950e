"""The public verification page: « intact » for our sealed documents only, including those
sealed with a certificate the platform has replaced since (its history)."""

import datetime
import io
import shutil
import stat
from io import BytesIO

import pytest
import time_machine
from asn1crypto import pem
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from conventions.management.commands.generate_seal_certificate import make_seal_pkcs12
from conventions.pdf import verification
from conventions.pdf.rendering import render_pdf
from conventions.pdf.sealing import fingerprint, load_seal, seal_pdf, trusted_certificates
from conventions.pdf.verification import verify_pdf
from tests.conventions.conftest import SEAL_NAME, SEAL_PASSPHRASE
from tests.conventions.documents_support import (
    bilan_world,
    flip_byte,
    produce_bilan,
    stored_bytes,
)

pytestmark = pytest.mark.django_db

INTACT = "Document intact : document émis par cette plateforme"
UNKNOWN_OR_MODIFIED = "Document modifié ou inconnu"


@pytest.fixture
def world():
    return bilan_world()


@pytest.fixture
def issued(world):
    """The bytes of a bilan PDF produced (and recorded) by the platform for conference A."""
    document = produce_bilan(world)
    return document, stored_bytes(document)


def _verify(client, data: bytes, name="document.pdf"):
    upload = SimpleUploadedFile(name, data, content_type="application/pdf")
    response = client.post(reverse("document_verification"), {"file": upload})
    assert response.status_code == 200
    return response.content.decode()


def test_page_is_public(client):
    response = client.get(reverse("document_verification"))
    assert response.status_code == 200
    assert "Vérifier un document" in response.content.decode()


def test_our_document_is_intact_and_named(client, world, issued):
    document, data = issued
    page = _verify(client, data)
    assert INTACT in page
    assert document.title in page
    assert world.a.conference.name in page
    assert "Cachet de test de la plateforme" in page  # the signer
    assert "tout le fichier" in page
    # Only the title and the conference: no figure, no organisation of the bilan.
    assert world.a.membership.organisation.name not in page


def test_one_modified_byte_is_detected(client, issued):
    _document, data = issued
    page = _verify(client, flip_byte(data))
    assert UNKNOWN_OR_MODIFIED in page
    assert INTACT not in page
    result = verify_pdf(flip_byte(data))
    assert result.reason in {verification.MODIFIED, verification.NOT_A_PDF}


def test_content_appended_after_the_seal_is_detected(issued):
    _document, data = issued
    writer = IncrementalPdfFileWriter(BytesIO(data))
    writer.root["/Lang"] = writer.root.get("/Lang")  # any change, as a new revision
    writer.update_root()
    out = BytesIO()
    writer.write(out)
    result = verify_pdf(out.getvalue())
    assert not result.intact
    assert result.reason == verification.APPENDED


def test_a_pdf_signed_by_another_key_is_not_ours(client, issued, foreign_seal):
    unsealed = render_pdf("conventions/pdf/base.html", {"document_title": "Faux document"})
    page = _verify(client, seal_pdf(unsealed, seal=foreign_seal))
    assert UNKNOWN_OR_MODIFIED in page
    assert "La signature n&#x27;est pas le cachet de cette plateforme." in page


def test_an_unsigned_pdf(client):
    unsealed = render_pdf("conventions/pdf/base.html", {"document_title": "Sans sceau"})
    page = _verify(client, unsealed)
    assert UNKNOWN_OR_MODIFIED in page
    assert "aucune signature électronique" in page


def test_sealed_by_us_but_unknown_to_the_platform(client, world):
    """Our key, valid signature, but no GeneratedDocument has this hash."""
    sealed = seal_pdf(render_pdf("conventions/pdf/base.html", {"document_title": "Hors base"}))
    result = verify_pdf(sealed)
    assert not result.intact
    assert result.reason == verification.UNKNOWN
    assert result.signatures[0].is_our_seal


def test_a_failed_or_other_conference_lookup_is_by_hash_across_conferences(client, world):
    """B's document is found too: the page does not know the conference (unscoped lookup)."""
    document = produce_bilan(world, world.b)
    page = _verify(client, stored_bytes(document))
    assert INTACT in page
    assert world.b.conference.name in page


def test_not_a_pdf_is_refused_by_content_not_by_name(client):
    page = _verify(client, b"GIF89a pas un PDF", name="faux.pdf")
    assert "Le fichier n&#x27;est pas un document PDF." in page
    assert UNKNOWN_OR_MODIFIED not in page


def test_too_big_is_refused(client, settings):
    settings.CIL_VERIFICATION_MAX_BYTES = 1000
    page = _verify(client, b"%PDF-1.7\n" + b"0" * 2000)
    assert "dépasse la taille maximale" in page


def test_without_a_configured_seal_verification_says_so(client, settings, issued):
    _document, data = issued
    settings.CIL_SEAL_PKCS12_PASSPHRASE = None
    page = _verify(client, data)
    assert UNKNOWN_OR_MODIFIED in page
    assert "cachet de la plateforme n&#x27;est pas configuré" in page


def test_damaged_files_never_pass_and_never_crash(issued):
    """One byte changed anywhere (signed ranges, signature, xref, trailer) or the file cut
    short: always « modifié ou inconnu », never an exception."""
    _document, data = issued
    step = max(1, len(data) // 97)
    for position in [*range(0, len(data), step), len(data) - 1]:
        result = verify_pdf(flip_byte(data, position))
        assert not result.intact, position
        assert result.reason, position
    for length in (len(data) // 2, len(data) - 10, 100):
        assert not verify_pdf(data[:length]).intact


# --- Rotation of the seal: the former certificates stay trusted -----------------------------


@pytest.fixture
def own_seal(settings, tmp_path):
    """A seal of this test's own in `tmp_path` (the session's seal is shared: never rotated),
    its history in `tmp_path / "seal-history"`."""
    settings.CIL_SEAL_PKCS12_PATH = tmp_path / "seal.p12"
    call_command("generate_seal_certificate", stdout=io.StringIO())
    return tmp_path


def rotate() -> str:
    out = io.StringIO()
    call_command("generate_seal_certificate", force=True, stdout=out)
    return out.getvalue()


def test_a_document_sealed_before_a_rotation_still_verifies(client, world, own_seal):
    old = produce_bilan(world)
    old_fingerprint = fingerprint(load_seal().certificate)
    out = rotate()
    new_fingerprint = fingerprint(load_seal().certificate)
    assert new_fingerprint != old_fingerprint
    archived = own_seal / "seal-history" / f"{old_fingerprint}.pem"
    assert f"Certificat remplacé archivé : {archived}" in out
    new = produce_bilan(world, world.b)

    result = verify_pdf(stored_bytes(old))
    assert result.intact
    assert result.sealed_with.fingerprint == old_fingerprint
    assert not result.sealed_with.current
    page = _verify(client, stored_bytes(old))
    assert INTACT in page
    assert "Scellé avec un certificat précédent de la plateforme" in page
    assert old_fingerprint in page

    result = verify_pdf(stored_bytes(new))
    assert result.intact
    assert result.sealed_with.fingerprint == new_fingerprint
    assert result.sealed_with.current
    page = _verify(client, stored_bytes(new))
    assert INTACT in page
    assert "Scellé avec le certificat actuel de la plateforme" in page
    assert new_fingerprint in page


def test_the_history_holds_every_issued_certificate_and_no_key(own_seal):
    fingerprints = [fingerprint(load_seal().certificate)]
    for hours in (1, 2):
        # Certificates are dated to the second: rotations an hour apart order them surely.
        with time_machine.travel(timezone.now() + datetime.timedelta(hours=hours), tick=False):
            rotate()
        fingerprints.append(fingerprint(load_seal().certificate))
    files = sorted((own_seal / "seal-history").iterdir())
    assert [path.name for path in files] == sorted(f"{f}.pem" for f in fingerprints)
    for path in files:
        text = path.read_text()
        assert text.startswith("-----BEGIN CERTIFICATE-----")
        assert "PRIVATE" not in text
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
    # The current one first, then the former ones, newest first.
    assert [c.fingerprint for c in trusted_certificates()] == fingerprints[::-1]
    assert [c.current for c in trusted_certificates()] == [True, False, False]


def test_without_its_archived_certificate_an_old_document_is_not_ours(world, own_seal):
    old = produce_bilan(world)
    rotate()
    shutil.rmtree(own_seal / "seal-history")
    result = verify_pdf(stored_bytes(old))
    assert not result.intact
    assert result.reason == verification.NOT_OURS
    assert result.sealed_with is None


def test_a_foreign_key_still_fails_after_a_rotation(client, world, own_seal, foreign_seal, caplog):
    rotate()
    history = own_seal / "seal-history"
    # Neither a foreign certificate under a name that is not its fingerprint, nor a file
    # that is no certificate, is trusted; neither breaks the verification.
    foreign = foreign_seal.certificate
    (history / f"{'0' * 64}.pem").write_bytes(pem.armor("CERTIFICATE", foreign.dump()))
    (history / "abimé.pem").write_bytes(b"-----BEGIN CERTIFICATE-----\nxx\n")
    unsealed = render_pdf("conventions/pdf/base.html", {"document_title": "Faux document"})
    result = verify_pdf(seal_pdf(unsealed, seal=foreign_seal))
    assert not result.intact
    assert result.reason == verification.NOT_OURS
    assert not result.signatures[0].is_our_seal
    assert "illisible ou mal nommé" in caplog.text
    # Our own documents still verify meanwhile.
    assert verify_pdf(stored_bytes(produce_bilan(world))).intact


def test_a_certificate_past_its_validity_still_verifies_what_it_sealed(world, own_seal, settings):
    """The seal certificates are trust anchors, whose dates path validation does not check:
    a document stays verifiable after its certificate expires (here: one valid for two days,
    ten days ago, standing for a certificate that expired after sealing), then is rotated."""
    expired = make_seal_pkcs12(
        common_name=SEAL_NAME,
        organisation="Test",
        passphrase=SEAL_PASSPHRASE,
        days=2,
        valid_from=datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=10),
    )
    settings.CIL_SEAL_PKCS12_PATH.write_bytes(expired)
    old = produce_bilan(world)
    rotate()
    result = verify_pdf(stored_bytes(old))
    assert result.intact
    assert result.sealed_with.not_after < datetime.datetime.now(datetime.UTC)


def test_a_rotation_refuses_to_lose_an_unreadable_certificate(settings, own_seal):
    before = settings.CIL_SEAL_PKCS12_PATH.read_bytes()
    settings.CIL_SEAL_PKCS12_PASSPHRASE = "une-autre-phrase"
    with pytest.raises(CommandError, match="illisible avec CIL_SEAL_PKCS12_PASSPHRASE"):
        rotate()
    assert settings.CIL_SEAL_PKCS12_PATH.read_bytes() == before
    # Explicitly accepted: replaced, with a warning.
    err = io.StringIO()
    call_command(
        "generate_seal_certificate", force=True, no_archive=True, stdout=io.StringIO(), stderr=err
    )
    assert "non archivé" in err.getvalue()
    assert settings.CIL_SEAL_PKCS12_PATH.read_bytes() != before
    assert stat.S_IMODE(settings.CIL_SEAL_PKCS12_PATH.stat().st_mode) == 0o600


def test_a_certificate_put_in_place_by_hand_is_archived_when_it_first_seals(
    world, own_seal, settings
):
    """A provider's PKCS#12 copied over the key file, not made by the command: archived when
    the platform first seals with it, so that replacing it by hand later loses nothing."""

    def by_hand() -> None:
        settings.CIL_SEAL_PKCS12_PATH.write_bytes(
            make_seal_pkcs12(
                common_name=SEAL_NAME, organisation="Prestataire", passphrase=SEAL_PASSPHRASE
            )
        )

    by_hand()
    old = produce_bilan(world)
    old_fingerprint = fingerprint(load_seal().certificate)
    assert (own_seal / "seal-history" / f"{old_fingerprint}.pem").exists()
    by_hand()
    new = produce_bilan(world, world.b)
    assert fingerprint(load_seal().certificate) != old_fingerprint
    for document in (old, new):
        assert verify_pdf(stored_bytes(document)).intact
    assert verify_pdf(stored_bytes(old)).sealed_with.fingerprint == old_fingerprint
