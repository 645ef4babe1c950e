import pytest
from django.urls import reverse

from cil.models import AuditEntry, College, Membership, Organisation, Representative
from cil.roles import RoleName
from cil.tenancy import conference_scope
from tests.factories import OrganisationFactory, next_siren
from tests.world import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


@pytest.fixture
def secretariat(client, world):
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    return client


def _url(world, name, **kwargs):
    return reverse(name, kwargs={"conference_slug": world.a.conference.slug, **kwargs})


def test_members_are_listed_by_college(client, world):
    client.force_login(world.a.users[RoleName.MEMBRE])
    content = client.get(_url(world, "member_list")).content.decode()
    assert "Collège 1 — collectivités territoriales" in content
    assert "Collège 2 — professionnels des attributions" in content
    assert "Collège 3 — usagers et associations" in content
    assert world.a.membership.organisation.name in content
    assert "Ajouter un membre" not in content  # a membre cannot manage


def test_member_list_query_count_does_not_grow_with_members(
    client, world, django_assert_max_num_queries
):
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    with conference_scope(world.a.conference):
        for _ in range(30):
            Membership.objects.create(
                conference=world.a.conference,
                organisation=OrganisationFactory(),
                college=College.USAGERS,
            )
    with django_assert_max_num_queries(12):
        assert client.get(_url(world, "member_list")).status_code == 200


def test_add_a_new_member_organisation_and_audit_it(secretariat, world):
    siren = next_siren()
    response = secretariat.post(
        _url(world, "member_add"),
        {
            "siren": siren,
            "name": "Logis Nouveau",
            "type": "bailleur",
            "college": "2",
            "voting_right": "on",
        },
    )
    assert response.status_code == 302
    organisation = Organisation.objects.get(siren=siren)
    with conference_scope(world.a.conference):
        membership = Membership.objects.get(organisation=organisation)
        assert membership.college == College.PROFESSIONNELS
        entry = AuditEntry.objects.get(object_id=str(membership.public_id))
    assert entry.action == "create"
    assert entry.actor == world.a.users[RoleName.SECRETARIAT]
    assert entry.actor_organisation == world.a.users[RoleName.SECRETARIAT].organisation
    assert entry.changes["college"] == [None, "Collège 2 — professionnels des attributions"]
    with conference_scope(world.b.conference):
        assert not Membership.objects.filter(organisation=organisation).exists()
        assert not AuditEntry.objects.filter(object_id=str(membership.public_id)).exists()


def test_member_add_rejects_bad_siren_in_french(secretariat, world):
    response = secretariat.post(
        _url(world, "member_add"),
        {"siren": "123456789", "name": "X", "type": "bailleur", "college": "2"},
    )
    assert response.status_code == 200
    assert (
        "Ce SIREN n&#x27;est pas valide (clé de contrôle incorrecte)." in response.content.decode()
    )


def test_existing_organisation_is_reused_not_renamed(secretariat, world):
    shared = world.b.membership.organisation
    response = secretariat.post(
        _url(world, "member_add"),
        {"siren": shared.siren, "name": "Autre nom", "type": "bailleur", "college": "2"},
    )
    assert response.status_code == 302
    shared.refresh_from_db()
    assert shared.name.startswith("Bailleur MARQUEUR-B")


def test_member_already_in_the_conference_is_refused(secretariat, world):
    existing = world.a.membership.organisation
    response = secretariat.post(
        _url(world, "member_add"),
        {"siren": existing.siren, "name": existing.name, "type": "bailleur", "college": "2"},
    )
    assert "est déjà membre de la conférence" in response.content.decode()


def test_edit_member_college_records_the_change(secretariat, world):
    membership = world.a.membership
    secretariat.post(
        _url(world, "member_edit", membership_id=membership.public_id), {"college": "3"}
    )
    with conference_scope(world.a.conference):
        membership.refresh_from_db()
        assert membership.college == 3
        assert not membership.voting_right
        entry = AuditEntry.objects.filter(action="update").latest("created_at")
    assert entry.changes == {
        "college": [
            "Collège 2 — professionnels des attributions",
            "Collège 3 — usagers et associations",
        ],
        "voting_right": [True, False],
    }


def test_representative_mandate_dates_are_checked(secretariat, world):
    url = _url(world, "representative_add", membership_id=world.a.membership.public_id)
    data = {
        "first_name": "Léa",
        "last_name": "Morel",
        "kind": "titulaire",
        "mandate_start": "2025-01-01",
    }
    response = secretariat.post(url, {**data, "mandate_end": "2024-12-31"})
    assert "La fin du mandat ne peut pas précéder son début." in response.content.decode()
    assert secretariat.post(url, {**data, "mandate_end": "2027-12-31"}).status_code == 302
    with conference_scope(world.a.conference):
        representative = Representative.objects.get(last_name="Morel")
    assert representative.membership == world.a.membership


def test_remove_member_deactivates_its_people(secretariat, world):
    bailleur_org = world.a.users[RoleName.BAILLEUR].organisation
    with conference_scope(world.a.conference):
        membership = Membership.objects.get(organisation=bailleur_org)
    secretariat.post(_url(world, "member_remove", membership_id=membership.public_id))
    user = world.a.users[RoleName.BAILLEUR]
    user.refresh_from_db()
    assert not user.is_active
    with conference_scope(world.a.conference):
        assert not Membership.objects.filter(organisation=bailleur_org).exists()


def test_audit_log_filters(secretariat, world):
    secretariat.post(
        _url(world, "member_edit", membership_id=world.a.membership.public_id), {"college": "1"}
    )
    page = secretariat.get(_url(world, "audit_log"), {"action": "update"}).content.decode()
    assert "Modification" in page
    assert world.a.membership.organisation.name in page
    page = secretariat.get(_url(world, "audit_log"), {"action": "delete"}).content.decode()
    assert "Aucune inscription pour ces critères." in page


def test_audit_log_shows_only_its_conference(client, world):
    client.force_login(world.b.users[RoleName.SECRETARIAT])
    client.post(
        reverse(
            "member_edit",
            kwargs={
                "conference_slug": world.b.conference.slug,
                "membership_id": world.b.membership.public_id,
            },
        ),
        {"college": "1"},
    )
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    page = client.get(_url(world, "audit_log")).content.decode()
    assert "MARQUEUR-B" not in page


def test_secretariat_records_the_co_presidents(secretariat, world):
    response = secretariat.post(
        _url(world, "conference_settings"),
        {
            "name": "CIL de l'Agglo A",
            "prefet_name": "M. le préfet Durand",
            "president_name": "Mme la présidente Petit",
        },
    )
    assert response.status_code == 302
    world.a.conference.refresh_from_db()
    assert world.a.conference.president_name == "Mme la présidente Petit"
    home = secretariat.get(_url(world, "conference_home")).content.decode()
    assert "M. le préfet Durand et Mme la présidente Petit" in home
    with conference_scope(world.a.conference):
        entry = AuditEntry.objects.get(object_type="cil.conference")
    assert entry.changes["name"] == ["Conférence A", "CIL de l'Agglo A"]
