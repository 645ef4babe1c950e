"""Attribution lines through the web, as each role."""

import uuid

import pytest
from django.urls import reverse

from attributions.models import Attribution, RuleRates
from cil.models import AuditEntry
from cil.roles import RoleName
from cil.tenancy import conference_scope
from tests.world import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


def _url(world, name, **kwargs):
    return reverse(name, kwargs={"conference_slug": world.a.conference.slug, **kwargs})


def _form(world, **overrides):
    with conference_scope(world.a.conference):
        insee = world.a.conference.communes.first().insee
    data = {
        "reference": "NOUV-1",
        "date_signature_bail": "2025-06-30",
        "commune_insee": insee,
        "reservataire": "action_logement",
        "nb_personnes": "3",
        "nb_enfants_moins_14": "1",
        "revenu_annuel": "15 000,50",
        "dalo": "on",
    }
    data.update(overrides)
    return data


def test_bailleur_declares_an_attribution(client, world):
    bailleur = world.a.users[RoleName.BAILLEUR]
    client.force_login(bailleur)
    response = client.post(_url(world, "attribution_create"), _form(world))
    assert response.status_code == 302
    with conference_scope(world.a.conference):
        attribution = Attribution.objects.get(reference="NOUV-1")
        entry = AuditEntry.objects.get(object_id=str(attribution.public_id))
    assert attribution.bailleur == bailleur.organisation
    assert attribution.year == 2025
    assert str(attribution.annual_income) == "15000.50"
    assert attribution.prioritaire  # DALO implies prioritaire
    assert attribution.is_q1 is True  # 15 000,50 / 1.8 UC = 8 333 € < 9 876 €
    assert entry.actor == bailleur
    assert entry.action == "create"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"nb_enfants_moins_14": "3"},
            "Le nombre d&#x27;enfants de moins de 14 ans doit être inférieur",
        ),
        ({"revenu_annuel": "douze mille"}, "Montant en euros attendu"),
        ({"reference": "REF-MARQUEUR-A"}, "Cette référence existe déjà pour ce bailleur."),
    ],
)
def test_form_errors_are_french_and_nothing_is_written(client, world, overrides, message):
    client.force_login(world.a.users[RoleName.BAILLEUR])
    with conference_scope(world.a.conference):
        before = Attribution.objects.count()
    response = client.post(_url(world, "attribution_create"), _form(world, **overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    with conference_scope(world.a.conference):
        assert Attribution.objects.count() == before


def test_bailleur_edits_its_line_and_the_year_follows_the_lease(client, world):
    client.force_login(world.a.users[RoleName.BAILLEUR])
    attribution = world.a.attribution
    url = _url(world, "attribution_edit", attribution_id=attribution.public_id)
    page = client.get(url).content.decode()
    assert "REF-MARQUEUR-A" in page
    response = client.post(
        url, _form(world, reference="REF-MARQUEUR-A", date_signature_bail="2024-12-31")
    )
    assert response.status_code == 302
    with conference_scope(world.a.conference):
        attribution.refresh_from_db()
    assert attribution.year == 2024


def test_bailleur_deletes_its_line(client, world):
    client.force_login(world.a.users[RoleName.BAILLEUR])
    client.post(_url(world, "attribution_delete", attribution_id=world.a.attribution.public_id))
    with conference_scope(world.a.conference):
        assert not Attribution.objects.filter(pk=world.a.attribution.pk).exists()
        assert AuditEntry.objects.filter(
            action="delete", object_type="attributions.attribution"
        ).exists()


@pytest.mark.parametrize("name", ["attribution_detail", "attribution_edit"])
def test_bailleur_cannot_see_or_change_another_bailleurs_line(client, world, name):
    client.force_login(world.a.users[RoleName.BAILLEUR])
    other = world.a.other_bailleur_attribution
    assert client.get(_url(world, name, attribution_id=other.public_id)).status_code == 404


def test_bailleur_cannot_delete_another_bailleurs_line(client, world):
    client.force_login(world.a.users[RoleName.BAILLEUR])
    other = world.a.other_bailleur_attribution
    assert (
        client.post(_url(world, "attribution_delete", attribution_id=other.public_id)).status_code
        == 404
    )
    with conference_scope(world.a.conference):
        assert Attribution.objects.filter(pk=other.pk).exists()


def test_bailleur_list_shows_only_its_lines(client, world):
    client.force_login(world.a.users[RoleName.BAILLEUR])
    page = client.get(_url(world, "attribution_list")).content.decode()
    assert "1 attribution" in page
    assert str(world.a.attribution.public_id) in page
    assert str(world.a.other_bailleur_attribution.public_id) not in page


@pytest.mark.parametrize("role", [RoleName.SECRETARIAT, RoleName.PREFECTURE])
def test_secretariat_and_prefecture_see_every_line(client, world, role):
    client.force_login(world.a.users[role])
    page = client.get(_url(world, "attribution_list")).content.decode()
    assert "2 attributions" in page
    assert str(world.a.other_bailleur_attribution.public_id) in page
    assert (
        client.get(
            _url(world, "attribution_detail", attribution_id=world.a.attribution.public_id)
        ).status_code
        == 200
    )


def test_list_query_count_does_not_grow_with_rows(client, world, django_assert_max_num_queries):
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    bailleur = world.a.users[RoleName.BAILLEUR]
    with conference_scope(world.a.conference):
        template = Attribution.objects.get(pk=world.a.attribution.pk)
        for n in range(40):
            template.pk, template.public_id, template.reference = None, uuid.uuid4(), f"X-{n}"
            template.save()
    assert bailleur.organisation_id == template.bailleur_id
    # 15 with the entry of the journal of reads.
    with django_assert_max_num_queries(15):
        assert client.get(_url(world, "attribution_list")).status_code == 200


def test_prefecture_sets_the_threshold_and_lines_are_reclassified(client, world):
    client.force_login(world.a.users[RoleName.PREFECTURE])
    # The world's lines: 12 000 € for 1.5 UC = 8 000 € per UC, Q1 under 9 876 €.
    assert world.a.attribution.is_q1 is True
    response = client.post(
        _url(world, "threshold_edit"),
        {"year": "2025", "value": "8000", "source": "arrêté du 3 juin 2025"},
    )
    assert response.status_code == 302
    with conference_scope(world.a.conference):
        world.a.attribution.refresh_from_db()
        entry = AuditEntry.objects.get(object_type="attributions.q1threshold")
    assert world.a.attribution.is_q1 is False  # exactly at the threshold: not Q1
    assert entry.changes["value"] == ["9876.00", "8000.00"]
    page = client.get(_url(world, "reference_detail")).content.decode()
    assert "8000" in page


def test_secretariat_changes_rates_with_a_reason(client, world):
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    data = {"year": "2025", "target_r1": "30", "target_r2": "55", "target_r3": "25", "reason": ""}
    response = client.post(_url(world, "rates_edit"), data)
    assert "Ce champ est obligatoire." in response.content.decode()
    data["reason"] = "Orientations adoptées le 12 mars 2025"
    assert client.post(_url(world, "rates_edit"), data).status_code == 302
    with conference_scope(world.a.conference):
        rates = RuleRates.objects.get(year=2025)
        entry = AuditEntry.objects.get(object_type="attributions.rulerates")
    assert str(rates.target_r1) == "0.3000"
    assert entry.changes["motif"] == [None, "Orientations adoptées le 12 mars 2025"]


def test_elu_sees_no_lines(client, world):
    client.force_login(world.a.users[RoleName.ELU])
    assert client.get(_url(world, "attribution_list")).status_code == 403
