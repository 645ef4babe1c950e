"""The CIA's status machine, its freeze, the designation of signers and the signature, through
the services (the views are in test_cia_views.py)."""

import datetime
from decimal import Decimal
from io import BytesIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from guardian.shortcuts import get_user_perms, remove_perm
from pypdf import PdfReader

from cil.models import AuditEntry
from cil.roles import RoleName
from conventions import services_cia, signing
from conventions.models import (
    ConventionVersion,
    DocumentKind,
    DocumentStatus,
    GeneratedDocument,
    Signatory,
    SignatoryCapacity,
    VersionKind,
    VersionStatus,
    VersionStatusChange,
)
from conventions.pdf.sealing import load_seal
from tests.conventions.documents_support import pdf_text, stored_bytes, validation_status
from tests.conventions.test_cia_support import (
    PASSWORD,
    adopt,
    build_cia_world,
    create_cia,
    designate_all,
    set_objectives,
    sign,
    sign_all,
    signatory,
    submit,
)
from tests.factories import UserFactory, grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_cia_world()


@pytest.fixture
def version(world):
    convention = create_cia(world)
    with world.scope():
        return convention.versions.get()


def steps(world, version) -> list[tuple[str, str]]:
    with world.scope():
        return list(
            VersionStatusChange.objects.filter(version=version).values_list(
                "from_status", "to_status"
            )
        )


def test_the_history_lists_every_step(world, version, django_capture_on_commit_callbacks):
    set_objectives(world, version, {("bailleur1", 2025): {"r1": "0.30"}})
    with django_capture_on_commit_callbacks(execute=True):
        adopt(world, version)
    assert steps(world, version) == [
        ("", VersionStatus.BROUILLON),
        (VersionStatus.BROUILLON, VersionStatus.EN_SIGNATURE),
        (VersionStatus.EN_SIGNATURE, VersionStatus.SIGNEE),
        (VersionStatus.SIGNEE, VersionStatus.EN_VIGUEUR),
    ]
    with world.scope():
        history = list(VersionStatusChange.objects.filter(version=version))
        audited = AuditEntry.objects.filter(object_id=str(version.public_id)).count()
    assert history[1].actor == world.users["epci"]
    # The last signatory's signature made the version « signée ».
    assert history[2].actor == world.users["action_logement"]
    assert audited >= len(history)


def test_overlapping_periods_are_refused(world, version):
    with pytest.raises(ValidationError, match="chevauche"), world.scope():
        services_cia.convention_create(
            conference=world.conference,
            actor=world.users["epci"],
            title="Autre",
            start_year=2029,
            end_year=2031,
        )


def test_going_to_signature_needs_the_epci_the_state_and_a_bailleur(world, version):
    with world.scope():
        services_cia.signatories_set(
            conference=world.conference,
            actor=world.users["epci"],
            version=version,
            organisations=[world.orgs["epci"], world.orgs["bailleur1"]],
        )
    with pytest.raises(ValidationError, match="l'État"):
        submit(world, version)


def test_going_to_signature_freezes_the_content(world, version):
    set_objectives(world, version, {("bailleur1", 2025): {"r1": "0.30"}})
    submit(world, version)
    with world.scope():
        version.refresh_from_db()
        assert version.status == VersionStatus.EN_SIGNATURE
        assert version.frozen_at is not None
        edits = [
            lambda: set_objectives(world, version, {("bailleur1", 2025): {"r1": "0.40"}}),
            lambda: services_cia.version_update(
                conference=world.conference,
                actor=world.users["epci"],
                version=version,
                title="Autre",
                effective_from=version.effective_from,
            ),
            lambda: services_cia.signatories_set(
                conference=world.conference,
                actor=world.users["epci"],
                version=version,
                organisations=[world.orgs["epci"]],
            ),
            lambda: services_cia.reservataire_objectives_save(
                conference=world.conference,
                actor=world.users["epci"],
                version=version,
                values={(world.orgs["commune"].pk, 2025): Decimal("0.3")},
            ),
        ]
        for edit in edits:
            with pytest.raises(ValidationError, match="avenant"):
                edit()
        assert version.bailleur_objectives.get().r1 == Decimal("0.3000")


def test_the_canonical_bytes_are_the_version_pdf_and_their_hash_is_stored(world, version):
    set_objectives(world, version, {("bailleur1", 2025): {"r1": "0.275", "r2": "0.5", "npnru": 12}})
    submit(world, version)
    with world.scope():
        version.refresh_from_db()
        data = signing.stored_bytes(version)
    assert data.startswith(b"%PDF-")
    assert version.canonical_format == "pdf"
    assert version.canonical_sha256 == signing.sha256(data)
    text = pdf_text(data)
    assert "Habitat 1" in text
    assert "27,5 %" in text
    assert "Version soumise à la signature des parties" in text
    assert "Document scellé électroniquement" not in text  # not sealed: not the final one
    assert len(PdfReader(BytesIO(data)).pages) >= 3


# --- Designation -------------------------------------------------------------------------------


def test_an_organisation_designates_its_own_signer_and_the_grant_follows(world, version):
    with world.scope():
        s = signatory(version, world.orgs["bailleur1"])
        services_cia.signer_designate(
            conference=world.conference,
            actor=world.users["bailleur1"],
            signatory=s,
            signer=world.users["bailleur1"],
        )
        assert "sign_conventionversion" in get_user_perms(
            world.users["bailleur1"], version
        ).values_list("codename", flat=True)
        # A new designation moves the grant to the new person.
        services_cia.signer_designate(
            conference=world.conference,
            actor=world.users["bailleur1"],
            signatory=s,
            signer=world.users["bailleur1_bis"],
        )
        assert not get_user_perms(world.users["bailleur1"], version).exists()
        assert get_user_perms(world.users["bailleur1_bis"], version).exists()
        s.refresh_from_db()
        assert s.signer == world.users["bailleur1_bis"]
        assert s.designated_by == world.users["bailleur1"]


def test_a_member_cannot_designate_for_another_organisation(world, version):
    with world.scope():
        s = signatory(version, world.orgs["bailleur2"])
        with pytest.raises(PermissionDenied):
            services_cia.signer_designate(
                conference=world.conference,
                actor=world.users["bailleur1"],
                signatory=s,
                signer=world.users["bailleur1"],
            )


def test_the_secretariat_designates_for_any_but_only_a_person_of_that_organisation(world, version):
    with world.scope():
        s = signatory(version, world.orgs["etat"])
        with pytest.raises(ValidationError, match="personne de l'organisation"):
            services_cia.signer_designate(
                conference=world.conference,
                actor=world.users["epci"],
                signatory=s,
                signer=world.users["bailleur1"],
            )
        services_cia.signer_designate(
            conference=world.conference,
            actor=world.users["epci"],
            signatory=s,
            signer=world.users["etat"],
        )
        s.refresh_from_db()
        assert s.signer == world.users["etat"]


def test_the_state_signs_through_a_prefecture_agent_only(world, version):
    # CCH L.441-1-6: the État signs the CIA. A person of the prefecture's organisation with
    # an access but without the prefecture role (here a « membre ») may not sign for it.
    clerk = UserFactory(email="accueil@prefecture.test", organisation=world.orgs["etat"])
    grant(clerk, world.conference, RoleName.MEMBRE)
    with world.scope():
        s = signatory(version, world.orgs["etat"])
        assert s.capacity == SignatoryCapacity.ETAT
        assert services_cia.signer_candidates(s) == [world.users["etat"]]
        for actor in ("epci", "etat"):  # neither the secretariat nor the prefecture itself
            with pytest.raises(ValidationError, match="agent de la préfecture"):
                services_cia.signer_designate(
                    conference=world.conference,
                    actor=world.users[actor],
                    signatory=s,
                    signer=clerk,
                )
        s.refresh_from_db()
        assert s.signer is None
        assert not get_user_perms(clerk, version).exists()
        # Another organisation's person may sign for it: the rule is the État's own.
        commune_clerk = UserFactory(email="accueil@ville.test", organisation=world.orgs["commune"])
        grant(commune_clerk, world.conference, RoleName.MEMBRE)
        services_cia.signer_designate(
            conference=world.conference,
            actor=world.users["epci"],
            signatory=signatory(version, world.orgs["commune"]),
            signer=commune_clerk,
        )
        assert signatory(version, world.orgs["commune"]).signer == commune_clerk


# --- Signature --------------------------------------------------------------------------------


@pytest.fixture
def in_signature(world, version):
    set_objectives(world, version, {("bailleur1", 2025): {"r1": "0.30"}})
    submit(world, version)
    designate_all(world, version)
    with world.scope():
        version.refresh_from_db()
    return version


def test_a_wrong_password_is_refused_and_journaled(world, in_signature):
    with pytest.raises(ValidationError, match="Mot de passe incorrect"):
        sign(world, in_signature, "bailleur1", password="pas-le-bon")
    with world.scope():
        assert not signatory(in_signature, world.orgs["bailleur1"]).has_signed
        refused = AuditEntry.objects.filter(
            actor=world.users["bailleur1"], changes__has_key=services_cia.SIGN_REFUSED_KEY
        )
        assert refused.count() == 1


def test_too_many_wrong_passwords_lock_the_signature(world, in_signature):
    for _ in range(services_cia.SIGN_FAILURE_LIMIT):
        with pytest.raises(ValidationError, match="Mot de passe incorrect"):
            sign(world, in_signature, "bailleur1", password="pas-le-bon")
    with pytest.raises(ValidationError, match="Trop de mots de passe erronés"):
        sign(world, in_signature, "bailleur1")  # even the right one, for the cool-off time


def test_without_the_guardian_grant_no_signature_even_with_the_permission(world, in_signature):
    # bailleur1_bis holds the bailleur role (so "cia.sign") but is not designated.
    with pytest.raises(PermissionDenied):
        sign(world, in_signature, "bailleur1_bis")
    # bailleur1 is the designated signer, but its django-guardian grant is withdrawn.
    with world.scope():
        remove_perm("conventions.sign_conventionversion", world.users["bailleur1"], in_signature)
    with pytest.raises(PermissionDenied):
        sign(world, in_signature, "bailleur1")


def test_the_signature_records_who_when_which_organisation_and_the_hash(world, in_signature):
    before = datetime.datetime.now(tz=datetime.UTC)
    sign(world, in_signature, "bailleur1")
    with world.scope():
        s = signatory(in_signature, world.orgs["bailleur1"])
        data = signing.stored_bytes(in_signature)
    assert s.signed_by == world.users["bailleur1"]
    assert s.signed_at >= before
    assert s.organisation_label == "Habitat 1"
    assert world.users["bailleur1"].email in s.signed_by_label
    assert s.signed_sha256 == signing.sha256(data) == in_signature.canonical_sha256
    with pytest.raises(ValidationError, match="n'est plus attendue"), world.scope():
        services_cia.signature._sign(
            conference=world.conference,
            actor=world.users["bailleur1"],
            version=in_signature,
            signatory=s,
            confirmed_sha256=in_signature.canonical_sha256,
        )


def test_a_hash_other_than_the_one_shown_is_refused(world, in_signature):
    with pytest.raises(ValidationError, match="a changé"), world.scope():
        services_cia.version_sign(
            conference=world.conference,
            actor=world.users["bailleur1"],
            version=in_signature,
            password=PASSWORD,
            confirmed_sha256="0" * 64,
        )


def test_when_all_have_signed_the_final_sealed_document_is_produced(
    world, in_signature, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        version = sign_all(world, in_signature)
    assert version.status == VersionStatus.SIGNEE
    with world.scope():
        document = GeneratedDocument.objects.get(kind=DocumentKind.CIA)
        signatories = list(Signatory.objects.filter(version=version))
    assert version.final_document == document
    assert document.subject_id == str(version.public_id)
    assert document.status == DocumentStatus.READY, document.error
    data = stored_bytes(document)
    assert document.sha256 == signing.sha256(data)
    status = validation_status(data, load_seal().certificate)
    assert status.bottom_line, status.pretty_print_details()
    text = pdf_text(data)
    # The signature page: every signer, with organisation, time and the hash they signed.
    for s in signatories:
        assert s.organisation_label in text
        assert s.signed_by_label.split(" <")[0] in text
    assert version.canonical_sha256[:32] in text.replace("\n", "")
    assert "Document scellé électroniquement" in text


def test_only_a_signed_version_enters_into_force(world, in_signature):
    with pytest.raises(ValidationError, match="signée par tous"), world.scope():
        services_cia.version_enter_into_force(
            conference=world.conference, actor=world.users["epci"], version=in_signature
        )


# --- Avenants ---------------------------------------------------------------------------------


def test_an_avenant_starts_from_the_signed_version_and_keeps_it(
    world, version, django_capture_on_commit_callbacks
):
    set_objectives(world, version, {("bailleur1", 2025): {"r1": "0.30"}})
    with django_capture_on_commit_callbacks(execute=True):
        adopt(world, version)
    with world.scope():
        with pytest.raises(ValidationError, match="après la version"):
            services_cia.avenant_create(
                conference=world.conference,
                actor=world.users["epci"],
                convention=version.convention,
                effective_from=datetime.date(2024, 1, 1),
                purpose="Trop tôt",
            )
        avenant = services_cia.avenant_create(
            conference=world.conference,
            actor=world.users["epci"],
            convention=version.convention,
            effective_from=datetime.date(2026, 7, 1),
            purpose="Relèvement de l'objectif R1 de Habitat 1",
        )
        assert avenant.number == 2
        assert avenant.kind == VersionKind.AVENANT
        assert avenant.status == VersionStatus.BROUILLON
        assert avenant.bailleur_objectives.get().r1 == Decimal("0.3000")
        # A second draft while one is open: refused.
        with pytest.raises(ValidationError, match="signée par tous"):
            services_cia.avenant_create(
                conference=world.conference,
                actor=world.users["epci"],
                convention=version.convention,
                effective_from=datetime.date(2027, 1, 1),
                purpose="Autre",
            )
        version.refresh_from_db()
        assert version.status == VersionStatus.EN_VIGUEUR
        assert ConventionVersion.objects.filter(convention=version.convention).count() == 2
