"""The secretariat uploads a `territoire` v1 file from the web."""

import copy
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cil.models import Commune, Conference
from cil.roles import RoleName
from cil.tenancy import conference_scope
from tests.test_territory import EXAMPLE
from tests.world import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


def _document(world) -> dict:
    document = copy.deepcopy(EXAMPLE)
    conference = world.a.conference
    document["conference"].update(
        slug=conference.slug, nom=conference.name, epci_siren=conference.epci_siren
    )
    return document


def _upload(client, world, content: bytes):
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    url = reverse("territory_upload", kwargs={"conference_slug": world.a.conference.slug})
    return client.post(
        url,
        {"file": SimpleUploadedFile("territoire.json", content, "application/json")},
        follow=True,
    )


def test_upload_loads_the_territory(client, world):
    response = _upload(client, world, json.dumps(_document(world)).encode())
    content = response.content.decode()
    assert "Territoire chargé" in content
    assert "Exempleville" in content
    with conference_scope(world.a.conference):
        assert Commune.objects.filter(insee="76540").exists()


def test_upload_with_errors_lists_them_and_writes_nothing(client, world):
    document = _document(world)
    document["communes"].append({"insee": "7654", "nom": "Erreurville"})
    document["organisations"][0]["siren"] = "123456789"
    content = _upload(client, world, json.dumps(document).encode()).content.decode()
    assert "Le fichier n'a pas été chargé : 2 erreurs" in content
    assert "$.communes[1].insee" in content
    assert "$.organisations[0].siren" in content
    with conference_scope(world.a.conference):
        assert not Commune.objects.filter(insee="76540").exists()


def test_upload_for_another_conference_is_refused(client, world):
    document = _document(world)
    document["conference"]["slug"] = world.b.conference.slug
    content = _upload(client, world, json.dumps(document).encode()).content.decode()
    assert "$.conference.slug" in content
    assert Conference.objects.get(pk=world.b.conference.pk).name == world.b.conference.name


def test_upload_of_something_that_is_not_json_is_explained(client, world):
    content = _upload(client, world, b"\xff\xfe pas du json").content.decode()
    assert "n&#x27;est pas un JSON valide en UTF-8" in content


def test_upload_over_the_size_limit_is_refused(client, world, settings):
    settings.CIL_TERRITORY_MAX_BYTES = 100
    content = _upload(client, world, json.dumps(_document(world)).encode()).content.decode()
    assert "dépasse la taille maximale" in content
