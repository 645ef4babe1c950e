"""The public verification page: « intact » for our sealed documents only."""

from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from conventions.pdf import verification
from conventions.pdf.rendering import render_pdf
from conventions.pdf.sealing import seal_pdf
from conventions.pdf.verification import verify_pdf
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
