"""The CIA pages: who may do what (403 for the wrong role or state, 404 for another
conference's objects), the objective grid's French validation, the signature form showing the
hash, the explanations of gaps visible to the whole conference under statistical secrecy."""

import hashlib
from decimal import Decimal

import pytest
from django.urls import reverse

from cil.roles import RoleName
from conventions.models import BailleurObjective, Convention, GapExplanation, VersionStatus
from tests.conventions.test_cia_support import (
    PASSWORD,
    add_attributions,
    adopt,
    build_cia_world,
    create_cia,
    designate_all,
    set_objectives,
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


def url(world, name, **kwargs) -> str:
    return reverse(name, kwargs={"conference_slug": world.conference.slug, **kwargs})


def as_user(client, world, name):
    client.force_login(world.users[name])
    return client


def test_the_secretariat_creates_a_convention(client, world):
    as_user(client, world, "epci")
    response = client.post(
        url(world, "cia_create"),
        {"title": "CIA 2025-2030", "start_year": "2025", "end_year": "2030"},
    )
    assert response.status_code == 302
    with world.scope():
        convention = Convention.objects.get()
    assert response.url == url(world, "cia_detail", convention_id=convention.public_id)
    page = client.get(response.url).content.decode()
    assert "CIA 2025-2030" in page
    assert "Préfecture de test" in page  # signatories pre-filled


def test_the_list_page_queries_do_not_grow_with_the_conventions(
    client, world, django_assert_max_num_queries
):
    create_cia(world, start=2018, end=2020, title="Première")
    as_user(client, world, "commune")
    with django_assert_max_num_queries(12) as one:
        client.get(url(world, "cia_list"))
    create_cia(world, start=2021, end=2023, title="Deuxième")
    create_cia(world, start=2024, end=2026, title="Troisième")
    with django_assert_max_num_queries(len(one)):
        response = client.get(url(world, "cia_list"))
    assert "Troisième" in response.content.decode()


# --- Objectives ------------------------------------------------------------------------------


def grid_field(world, org_name, year, rule) -> str:
    return f"{world.orgs[org_name].public_id.hex}_{year}_{rule}"


def test_the_objective_grid_validates_in_french(client, world, version):
    as_user(client, world, "epci")
    target = url(world, "cia_objectives_edit", version_id=version.public_id)
    response = client.post(
        target,
        {
            grid_field(world, "bailleur1", 2025, "r1"): "130",
            grid_field(world, "bailleur1", 2025, "r2"): "abc",
            grid_field(world, "bailleur1", 2025, "r3"): "12,345",
            grid_field(world, "bailleur1", 2025, "npnru"): "-2",
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Saisissez un pourcentage entre 0 et 100 (par exemple 27,5)." in page
    assert "Deux décimales au plus" in page
    assert "Le nombre ne peut pas être négatif." in page
    with world.scope():
        assert not BailleurObjective.objects.exists()
    response = client.post(
        target,
        {
            grid_field(world, "bailleur1", 2025, "r1"): "27,5 %",
            grid_field(world, "bailleur1", 2025, "r2"): "50",
            grid_field(world, "bailleur1", 2026, "npnru"): "8",
        },
    )
    assert response.status_code == 302
    with world.scope():
        cells = {
            o.year: (o.r1, o.r2, o.r3, o.npnru_relogements)
            for o in BailleurObjective.objects.filter(bailleur=world.orgs["bailleur1"])
        }
    assert cells == {
        2025: (Decimal("0.2750"), Decimal("0.5000"), None, None),
        2026: (None, None, None, 8),
    }
    # The grid shows the saved values back, in percent.
    assert 'value="27,5"' in client.get(target).content.decode()


def test_a_territorialised_grid_edits_one_commune(client, world, version):
    as_user(client, world, "epci")
    target = url(world, "cia_objectives_edit", version_id=version.public_id)
    target += f"?perimetre=commune-{world.ville.insee}"
    response = client.post(target, {grid_field(world, "bailleur2", 2025, "r1"): "40"})
    assert response.status_code == 302
    with world.scope():
        objective = BailleurObjective.objects.get()
    assert (objective.commune, objective.qpv, objective.r1) == (world.ville, None, Decimal("0.4"))


def test_wrong_roles_get_403_and_a_frozen_version_is_not_editable(client, world, version):
    for name in ("bailleur1", "commune", "etat", "action_logement"):
        as_user(client, world, name)
        assert (
            client.get(url(world, "cia_objectives_edit", version_id=version.public_id)).status_code
            == 403
        )
        assert (
            client.post(url(world, "cia_submit", version_id=version.public_id)).status_code == 403
        )
    as_user(client, world, "epci")
    response = client.post(url(world, "cia_submit", version_id=version.public_id))
    assert response.status_code == 302
    for name in (
        "cia_objectives_edit",
        "cia_reservataire_objectives_edit",
        "cia_signatories_edit",
        "cia_version_edit",
    ):
        assert client.get(url(world, name, version_id=version.public_id)).status_code == 403, name
    assert client.post(url(world, "cia_submit", version_id=version.public_id)).status_code == 403
    # Not signed yet: neither in force nor open to an avenant.
    assert (
        client.post(url(world, "cia_enter_into_force", version_id=version.public_id)).status_code
        == 403
    )
    assert (
        client.get(
            url(world, "cia_avenant_create", convention_id=version.convention.public_id)
        ).status_code
        == 403
    )


def test_another_conference_objects_are_404(client, world, version):
    other = build_cia_world()
    other_version = create_cia(other).pk
    with other.scope():
        other_version = Convention.objects.get().versions.get()
    as_user(client, world, "epci")
    for name in ("cia_objectives_edit", "cia_designate", "cia_version_edit"):
        assert client.get(url(world, name, version_id=other_version.public_id)).status_code == 404
    assert (
        client.post(url(world, "cia_submit", version_id=other_version.public_id)).status_code == 404
    )
    with other.scope():
        other_version.refresh_from_db()
        assert other_version.status == VersionStatus.BROUILLON


# --- Designation and signature ----------------------------------------------------------------


def test_a_member_designates_for_its_own_organisation_only(client, world, version):
    as_user(client, world, "bailleur1")
    target = url(world, "cia_designate", version_id=version.public_id)
    page = client.get(target).content.decode()
    assert "Habitat 1" in page
    assert "Habitat 2" not in page  # another organisation's signatory is not offered
    with world.scope():
        mine = signatory(version, world.orgs["bailleur1"])
        theirs = signatory(version, world.orgs["bailleur2"])
    response = client.post(
        target,
        {"signatory": str(theirs.public_id), "signer": str(world.users["bailleur2"].public_id)},
    )
    assert response.status_code == 200  # not a choice offered to this user
    response = client.post(
        target,
        {"signatory": str(mine.public_id), "signer": str(world.users["bailleur1_bis"].public_id)},
    )
    assert response.status_code == 302
    with world.scope():
        mine.refresh_from_db()
        theirs.refresh_from_db()
    assert mine.signer == world.users["bailleur1_bis"]
    assert theirs.signer is None
    # The association is a member but not a signatory: nothing to designate.
    as_user(client, world, "association")
    assert client.get(target).status_code == 403


def test_the_state_designation_offers_and_accepts_prefecture_agents_only(client, world, version):
    clerk = UserFactory(email="accueil@prefecture.test", organisation=world.orgs["etat"])
    grant(clerk, world.conference, RoleName.MEMBRE)
    with world.scope():
        etat = signatory(version, world.orgs["etat"])
    as_user(client, world, "epci")
    target = url(world, "cia_designate", version_id=version.public_id)
    page = client.get(target).content.decode()
    assert world.users["etat"].email in page
    assert clerk.email not in page  # not a prefecture agent: not offered for the État
    response = client.post(
        target, {"signatory": str(etat.public_id), "signer": str(clerk.public_id)}
    )
    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in response.content.decode()
    with world.scope():
        etat.refresh_from_db()
    assert etat.signer is None


@pytest.fixture
def in_signature(world, version):
    set_objectives(world, version, {("bailleur1", 2025): {"r1": "0.30"}})
    submit(world, version)
    designate_all(world, version)
    with world.scope():
        version.refresh_from_db()
    return version


def test_the_sign_page_shows_the_hash_and_needs_the_password(client, world, in_signature):
    as_user(client, world, "bailleur1")
    target = url(world, "cia_sign", version_id=in_signature.public_id)
    page = client.get(target).content.decode()
    digest = in_signature.canonical_sha256
    assert " ".join(digest[i : i + 8] for i in range(0, 64, 8)) in page
    # The downloadable document is exactly what the hash covers.
    download = client.get(url(world, "cia_version_document", version_id=in_signature.public_id))
    assert hashlib.sha256(download.getvalue()).hexdigest() == digest
    response = client.post(target, {"sha256": digest, "confirm": "on", "password": "faux"})
    assert response.status_code == 200
    assert (
        "Mot de passe incorrect : la signature n&#x27;a pas été enregistrée."
        in response.content.decode()
    )
    response = client.post(target, {"sha256": digest, "confirm": "on", "password": PASSWORD})
    assert response.status_code == 302
    with world.scope():
        signed = signatory(in_signature, world.orgs["bailleur1"])
    assert signed.signed_sha256 == digest
    assert signed.signed_by == world.users["bailleur1"]
    # Signed: nothing left to sign for this person.
    assert client.get(target).status_code == 403


def test_a_member_with_the_sign_permission_but_no_grant_gets_403(client, world, in_signature):
    as_user(client, world, "bailleur1_bis")  # bailleur role ("cia.sign"), not designated
    target = url(world, "cia_sign", version_id=in_signature.public_id)
    assert client.get(target).status_code == 403
    response = client.post(
        target, {"sha256": in_signature.canonical_sha256, "confirm": "on", "password": PASSWORD}
    )
    assert response.status_code == 403


def test_the_page_shows_the_history_and_the_signatures(client, world, in_signature):
    as_user(client, world, "commune")
    page = client.get(
        url(world, "cia_detail", convention_id=in_signature.convention.public_id)
    ).content.decode()
    assert "Brouillon → <strong>En signature</strong>" in page
    assert "en attente" in page
    assert "Signer" in page  # the élu's commune is a signatory and its élu is designated


# --- Gaps and explanations ---------------------------------------------------------------------


def test_a_bailleur_explains_its_gap_and_the_conference_sees_it(
    client, world, version, django_capture_on_commit_callbacks
):
    add_attributions(world, 2025)  # Habitat 1: R1 3/10 = 30 %
    set_objectives(world, version, {("bailleur1", 2025): {"r1": "0.40"}})
    with django_capture_on_commit_callbacks(execute=True):
        adopt(world, version)
    detail = url(world, "cia_detail", convention_id=version.convention.public_id) + "?annee=2025"
    as_user(client, world, "bailleur1")
    page = client.get(detail).content.decode()
    assert "il manque 1" in page  # ceil(40 % × 10) − 3
    explain = url(
        world,
        "cia_explanation_edit",
        convention_id=version.convention.public_id,
        year=2025,
        rule="r1",
    )
    assert explain in page
    response = client.post(explain, {"category": "offre", "text": ""})
    assert "Ce champ est obligatoire." in response.content.decode()
    response = client.post(
        explain, {"category": "offre", "text": "Peu de petits logements libérés hors QPV."}
    )
    assert response.status_code == 302
    with world.scope():
        explanation = GapExplanation.objects.get()
    assert (explanation.bailleur, explanation.year, explanation.rule) == (
        world.orgs["bailleur1"],
        2025,
        "r1",
    )
    # The secretariat sees the figures and the explanation.
    as_user(client, world, "epci")
    page = client.get(detail).content.decode()
    with world.scope():
        version.refresh_from_db()
    download = url(world, "document_download", document_id=version.final_document.public_id)
    assert download in page  # the final PDF, signed by all and sealed
    assert client.get(download).getvalue().startswith(b"%PDF-")
    assert "Peu de petits logements libérés hors QPV." in page
    assert "(3/10)" in page
    # An élu sees the explanation, the figures under statistical secrecy (10 < 11 households).
    as_user(client, world, "commune")
    page = client.get(detail).content.decode()
    assert "Peu de petits logements libérés hors QPV." in page
    assert "Offre de logements non adaptée" in page
    assert "(3/10)" not in page
    assert "il manque 1" not in page
    assert explain not in page
    # Another bailleur cannot write for Habitat 1; an élu cannot explain at all.
    assert client.post(explain, {"category": "offre", "text": "x"}).status_code == 403
    as_user(client, world, "bailleur2")
    client.post(explain, {"category": "autre", "text": "Pour Habitat 2."})
    with world.scope():
        assert (
            GapExplanation.objects.get(bailleur=world.orgs["bailleur2"]).text == "Pour Habitat 2."
        )
        assert GapExplanation.objects.get(bailleur=world.orgs["bailleur1"]).category == "offre"
    # A year outside the convention, or an unknown rule: 404.
    as_user(client, world, "bailleur1")
    for year, rule in ((2040, "r1"), (2025, "r9")):
        target = url(
            world,
            "cia_explanation_edit",
            convention_id=version.convention.public_id,
            year=year,
            rule=rule,
        )
        assert client.get(target).status_code == 404


def test_a_signer_with_the_second_factor_also_gives_a_code(client, world, in_signature):
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = world.users["bailleur1"]
    device = TOTPDevice.objects.create(user=user, name="Application", confirmed=True)
    as_user(client, world, "bailleur1")
    target = url(world, "cia_sign", version_id=in_signature.public_id)
    assert (
        "Code de votre application d&#x27;authentification" in client.get(target).content.decode()
    )
    digest = in_signature.canonical_sha256
    base = {"sha256": digest, "confirm": "on", "password": PASSWORD}
    response = client.post(target, base)
    assert response.status_code == 200
    assert "pour signer" in response.content.decode()
    response = client.post(target, {**base, "otp_code": "000000"})
    assert "Code incorrect" in response.content.decode()
    with world.scope():
        assert signatory(in_signature, world.orgs["bailleur1"]).signed_at is None
    # django-otp delays the next try after a failure; the delay has passed.
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_count=0, throttling_failure_timestamp=None
    )
    response = client.post(target, {**base, "otp_code": f"{totp(device.bin_key):06d}"})
    assert response.status_code == 302
    with world.scope():
        assert signatory(in_signature, world.orgs["bailleur1"]).signed_sha256 == digest
