"""State labels read inside a sentence keep the EPCI acronym in capitals."""

import pytest
from django.urls import reverse

from cil.roles import RoleName
from cil.templatetags.cil_tags import lower_first
from conventions.circuit import State
from tests.conventions.orientations_support import orientation_at
from tests.world import build_world

pytestmark = pytest.mark.django_db


def test_lower_first_lowers_only_the_first_letter():
    assert lower_first("Approuvé par délibération de l'EPCI") == (
        "approuvé par délibération de l'EPCI"
    )
    assert lower_first("") == ""


def test_section_form_keeps_the_acronym(client):
    world = build_world()
    document = orientation_at(world.a.conference, world.a.users, State.DELIBERE_EPCI)

    client.force_login(world.a.users[RoleName.SECRETARIAT])
    url = reverse(
        "orientation_section_add",
        kwargs={"conference_slug": world.a.conference.slug, "document_id": document.public_id},
    )
    response = client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert "« approuvé par délibération de l&#x27;EPCI »" in page
    assert "l&#x27;epci" not in page
