"""The observatory's settings: the délai anormalement long, entered by the secretariat or
the prefecture (`observatoire.settings`), through a service that writes the journal."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from cil.models import AuditEntry
from cil.roles import RoleName
from cil.tenancy import conference_scope
from observatoire.models import ObservatoireSettings
from observatoire.services_settings import observatoire_settings_set
from tests.world import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


def settings_url(tenant):
    return reverse("observatoire_settings", kwargs={"conference_slug": tenant.conference.slug})


@pytest.mark.parametrize("role", [RoleName.SECRETARIAT, RoleName.PREFECTURE])
def test_secretariat_and_prefecture_set_the_delai_with_a_journal_entry(client, world, role):
    client.force_login(world.a.users[role])
    response = client.post(
        settings_url(world.a),
        {"delai_anormalement_long_mois": "30", "delai_source": "arrêté préfectoral du 2 mai 2024"},
    )
    assert response.status_code == 302
    with conference_scope(world.a.conference):
        saved = ObservatoireSettings.objects.get()
        entry = AuditEntry.objects.filter(object_type="observatoire.observatoiresettings").get()
    assert saved.delai_anormalement_long_mois == 30
    assert entry.actor == world.a.users[role]
    assert entry.changes["delai_anormalement_long_mois"] == [None, 30]
    # The form shows what is saved.
    page = client.get(settings_url(world.a)).content.decode()
    assert 'value="30"' in page
    assert "arrêté préfectoral du 2 mai 2024" in page


@pytest.mark.parametrize("role", [RoleName.ELU, RoleName.MEMBRE, RoleName.BAILLEUR])
def test_other_roles_are_refused(client, world, role):
    client.force_login(world.a.users[role])
    assert client.get(settings_url(world.a)).status_code == 403
    response = client.post(settings_url(world.a), {"delai_anormalement_long_mois": "30"})
    assert response.status_code == 403
    with conference_scope(world.a.conference):
        assert not ObservatoireSettings.objects.exists()


def test_a_delai_needs_its_arrete_and_a_sensible_length(client, world):
    client.force_login(world.a.users[RoleName.PREFECTURE])
    page = client.post(
        settings_url(world.a), {"delai_anormalement_long_mois": "30", "delai_source": " "}
    ).content.decode()
    assert "Indiquez l&#x27;arrêté préfectoral qui fixe ce délai" in page
    page = client.post(
        settings_url(world.a), {"delai_anormalement_long_mois": "0", "delai_source": "arrêté"}
    ).content.decode()
    assert "supérieure ou égale à 1" in page
    with conference_scope(world.a.conference):
        assert not ObservatoireSettings.objects.exists()
        assert not AuditEntry.objects.filter(
            object_type="observatoire.observatoiresettings"
        ).exists()


def test_service_refuses_out_of_range_and_records_only_changes(world):
    conference, actor = world.a.conference, world.a.users[RoleName.SECRETARIAT]
    with conference_scope(conference):
        with pytest.raises(ValidationError) as error:
            observatoire_settings_set(
                conference=conference,
                actor=actor,
                delai_anormalement_long_mois=500,
                delai_source="arrêté",
            )
        assert "entre 1 et 240 mois" in str(error.value)
        for _ in range(2):  # the same values twice: one journal entry
            observatoire_settings_set(
                conference=conference,
                actor=actor,
                delai_anormalement_long_mois=24,
                delai_source="arrêté du 1er mars 2024",
            )
        # Emptied: the délai is no longer set.
        observatoire_settings_set(
            conference=conference, actor=actor, delai_anormalement_long_mois=None, delai_source=""
        )
        entries = AuditEntry.objects.filter(object_type="observatoire.observatoiresettings")
        assert entries.count() == 2
        assert ObservatoireSettings.objects.get().delai_anormalement_long_mois is None
