"""Requesting and producing a document: the task chain, idempotence, failures, and the
bilan annuel PDF's content."""

import hashlib

import pytest

from cil.models import AuditEntry
from cil.roles import RoleName
from cil.tenancy import conference_scope
from conventions.models import DocumentKind, DocumentStatus, GeneratedDocument
from conventions.pdf import registry
from conventions.pdf.bilan import bilan_title
from conventions.pdf.sealing import load_seal
from conventions.pdf.services import document_request, run_generation
from conventions.tasks_documents import generate_document
from tests.conventions.documents_support import (
    YEAR,
    bilan_world,
    flat,
    pdf_text,
    produce_bilan,
    stored_bytes,
    validation_status,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return bilan_world()


def test_request_queues_the_task_on_commit_and_the_task_makes_a_sealed_pdf(
    world, django_capture_on_commit_callbacks
):
    conference = world.a.conference
    with conference_scope(conference), django_capture_on_commit_callbacks(execute=True):
        document = document_request(
            conference=conference,
            actor=world.a.users[RoleName.SECRETARIAT],
            kind=DocumentKind.BILAN_ANNUEL,
            title=bilan_title(conference, YEAR),
            year=YEAR,
        )
        assert document.status == DocumentStatus.PENDING
    with conference_scope(conference):
        document.refresh_from_db()
        assert document.status == DocumentStatus.READY, document.error
        assert document.progress == 100
        assert document.finished_at is not None
        assert document.view_permission == "bilan.view_detail"
        assert document.file.name == f"documents/{conference.pk}/{document.public_id}.pdf"
        data = stored_bytes(document)
        assert document.sha256 == hashlib.sha256(data).hexdigest()
        assert document.size == len(data)
        entry = AuditEntry.objects.get(object_id=str(document.public_id))
        assert entry.actor == world.a.users[RoleName.SECRETARIAT]
    status = validation_status(data, load_seal().certificate)
    assert status.bottom_line


def test_bilan_pdf_holds_each_bailleur_and_its_objectives(world):
    document = produce_bilan(world)
    text = flat(pdf_text(stored_bytes(document)))
    conference = world.a.conference
    assert f"Bilan annuel {YEAR} des attributions — {conference.name}" in text
    bailleur = world.a.users[RoleName.BAILLEUR].organisation
    other = world.a.membership.organisation
    for organisation in (bailleur, other):
        assert organisation.name in text
        assert f"SIREN {organisation.siren}" in text
    # The conference's R1 rate for 2025 (30 %) is every bailleur's objective (no CIA yet);
    # R2 and R3 keep the legal defaults.
    assert text.count("23,1 % / objectif 30,0 %") == 1  # the bailleur user's organisation
    assert text.count("100,0 % / objectif 30,0 %") == 1  # the other bailleur (1 line, Q1)
    assert text.count("/ objectif 50,0 %") == 2
    assert text.count("/ objectif 25,0 %") == 2
    # 13 lines outside QPV for the bailleur, 3 of them Q1: 23,1 %, 30 % of 13 → 4 → 1 missing.
    assert "écart −6,9 pt ; il manque 1 attribution" in text
    assert "Par réservataire (R3)" in text
    assert "Par commune" in text
    # The other conference's figures never appear.
    assert world.b.marker not in text
    # The SVG charts are drawn: their tick labels and legends are text in the PDF.
    assert "taux réalisé" in text
    assert text.count("100 %") >= 2


def test_a_ready_document_is_not_produced_again(world):
    document = produce_bilan(world)
    first = (document.sha256, document.file.name, document.finished_at)
    conference = world.a.conference
    generate_document.apply(kwargs={"conference_id": conference.pk, "document_id": document.pk})
    with conference_scope(conference):
        document.refresh_from_db()
    assert (document.sha256, document.file.name, document.finished_at) == first


def test_an_interrupted_document_is_produced_on_redelivery(world):
    conference = world.a.conference
    with conference_scope(conference):
        document = document_request(
            conference=conference,
            actor=None,
            kind=DocumentKind.BILAN_ANNUEL,
            title="Bilan",
            year=YEAR,
        )
        GeneratedDocument.objects.filter(pk=document.pk).update(
            status=DocumentStatus.SEALING, progress=30
        )
    generate_document.apply(kwargs={"conference_id": conference.pk, "document_id": document.pk})
    with conference_scope(conference):
        document.refresh_from_db()
    assert document.status == DocumentStatus.READY


def test_without_a_seal_the_document_fails_with_a_french_error_and_no_file(world, settings):
    settings.CIL_SEAL_PKCS12_PATH = settings.BASE_DIR / "var" / "absent-seal.p12"
    document = produce_bilan(world)
    assert document.status == DocumentStatus.FAILED
    assert "cachet électronique de la plateforme n'est pas configuré" in document.error
    assert not document.file
    assert document.sha256 == ""


def test_a_builder_error_fails_the_document_with_a_generic_message(world, monkeypatch):
    def broken(document):
        raise RuntimeError("boom")

    registry.registered()  # loads the builders before one is replaced
    monkeypatch.setitem(
        registry._registry,
        DocumentKind.BILAN_ANNUEL,
        registry.DocumentType(kind=DocumentKind.BILAN_ANNUEL, build=broken),
    )
    document = produce_bilan(world)
    assert document.status == DocumentStatus.FAILED
    assert "erreur interne" in document.error
    assert str(document.public_id) in document.error
    assert "boom" not in document.error


def test_the_task_runs_in_the_named_conference_only(world):
    """A's document id sent with B's conference id: B's scope does not see it."""
    conference = world.a.conference
    with conference_scope(conference):
        document = document_request(
            conference=conference, actor=None, kind=DocumentKind.BILAN_ANNUEL, title="x", year=YEAR
        )
    generate_document.apply(
        kwargs={"conference_id": world.b.conference.pk, "document_id": document.pk}
    )
    with conference_scope(conference):
        document.refresh_from_db()
    assert document.status == DocumentStatus.PENDING


def test_a_kind_without_builder_is_refused(world):
    with conference_scope(world.a.conference):
        with pytest.raises(registry.UnknownDocumentKind):
            document_request(
                conference=world.a.conference, actor=None, kind="inexistant", title="x"
            )
        assert not GeneratedDocument.objects.exists()


def test_registered_kinds_are_document_kinds_with_known_permissions():
    from cil.permissions import roles_granting

    for kind, document_type in registry.registered().items():
        assert kind in DocumentKind.values
        roles_granting(document_type.view_permission)
    with pytest.raises(registry.UnknownDocumentKind):
        registry.register("inexistant")


def test_run_generation_of_a_missing_document_does_nothing(world):
    with conference_scope(world.a.conference):
        assert run_generation(document_id=0) is None
