"""Twenty identical submissions at the same instant (double clicks, retries, several tabs,
an information system replaying a call): exactly one row, a clear answer for the nineteen
others (the form's « existe déjà » error, or the API's 400), never a 500.

Each submission runs in its own thread with its own client and its own database connection,
released together by a barrier."""

import json
import threading
from collections import Counter

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse

from attributions.models import Attribution, ImportJob, ImportStatus
from cil.models import Invitation, Membership, Organisation
from cil.roles import RoleName
from cil.tenancy import conference_scope
from conventions.models import Convention
from tests.attributions.test_api import issue, valid_body
from tests.attributions.test_import_support import csv_bytes, last_job, lines, make_place, upload
from tests.conventions.test_cia_support import build_cia_world
from tests.factories import next_siren
from tests.world import build_world

pytestmark = pytest.mark.django_db(transaction=True)

TWINS = 20


def fire_at_once(user, send) -> list:
    """`send(client)` from TWINS threads released together; their responses."""
    clients = []
    for _ in range(TWINS):
        client = Client(raise_request_exception=False)
        if user is not None:
            client.force_login(user)
        clients.append(client)
    barrier = threading.Barrier(TWINS)
    responses: list = [None] * TWINS

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            responses[index] = send(clients[index])
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(TWINS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(response is not None for response in responses)
    return responses


def statuses(responses) -> Counter:
    return Counter(response.status_code for response in responses)


@pytest.fixture
def world():
    return build_world()


def _url(world, name, **kwargs):
    return reverse(name, kwargs={"conference_slug": world.a.conference.slug, **kwargs})


def test_attribution_entered_twenty_times_at_once_is_one_line(world):
    bailleur = world.a.users[RoleName.BAILLEUR]
    with conference_scope(world.a.conference):
        insee = world.a.conference.communes.first().insee
    data = {
        "reference": "DOUBLON-1",
        "date_signature_bail": "2025-06-30",
        "commune_insee": insee,
        "reservataire": "action_logement",
        "nb_personnes": "3",
        "nb_enfants_moins_14": "1",
        "revenu_annuel": "15000",
    }
    responses = fire_at_once(
        bailleur, lambda client: client.post(_url(world, "attribution_create"), data)
    )
    assert statuses(responses) == {302: 1, 200: TWINS - 1}
    for response in responses:
        if response.status_code == 200:
            assert "Cette référence existe déjà pour ce bailleur." in response.content.decode()
    with conference_scope(world.a.conference):
        assert Attribution.objects.filter(reference="DOUBLON-1").count() == 1


def test_api_post_replayed_twenty_times_at_once_is_one_line(world):
    token = issue(world.a)
    body = json.dumps(valid_body(world.a, reference="API-DOUBLON"))
    responses = fire_at_once(
        None,
        lambda client: client.post(
            "/api/v1/attributions/",
            data=body,
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        ),
    )
    assert statuses(responses) == {201: 1, 400: TWINS - 1}
    for response in responses:
        if response.status_code == 400:
            assert "Cette référence existe déjà pour ce bailleur." in response.content.decode()
    with conference_scope(world.a.conference):
        assert Attribution.objects.filter(reference="API-DOUBLON").count() == 1


def test_member_added_twenty_times_at_once_is_one_member(world):
    siren = next_siren()
    data = {"siren": siren, "name": "Habitat Doublon", "type": "bailleur", "college": "2"}
    responses = fire_at_once(
        world.a.users[RoleName.SECRETARIAT],
        lambda client: client.post(_url(world, "member_add"), data),
    )
    assert statuses(responses) == {302: 1, 200: TWINS - 1}
    for response in responses:
        if response.status_code == 200:
            assert "Habitat Doublon est déjà membre de la conférence." in (
                response.content.decode()
            )
    assert Organisation.objects.filter(siren=siren).count() == 1
    with conference_scope(world.a.conference):
        assert Membership.objects.filter(organisation__siren=siren).count() == 1


def test_invitation_sent_twenty_times_at_once_is_one_invitation_and_one_mail(world):
    mail.outbox.clear()
    data = {
        "email": "nouvelle.personne@exemple.fr",
        "organisation": str(world.a.membership.organisation.public_id),
        "role": RoleName.BAILLEUR,
    }
    responses = fire_at_once(
        world.a.users[RoleName.SECRETARIAT],
        lambda client: client.post(_url(world, "user_invite"), data),
    )
    assert statuses(responses) == {302: 1, 200: TWINS - 1}
    for response in responses:
        if response.status_code == 200:
            assert "Une invitation vient d&#x27;être envoyée" in response.content.decode()
    with conference_scope(world.a.conference):
        assert Invitation.objects.filter(email="nouvelle.personne@exemple.fr").count() == 1
    assert [m.to for m in mail.outbox] == [["nouvelle.personne@exemple.fr"]]


def test_import_confirmed_twenty_times_at_once_is_imported_once():
    place = make_place()
    bailleur = place.bailleurs[0]
    assert upload(Client(), place, "lot.csv", csv_bytes(lines(bailleur, 3))).status_code == 302
    job = last_job(place)
    assert job.status == ImportStatus.READY, job.errors
    confirm_url = reverse(
        "import_confirm", kwargs={"conference_slug": place.slug, "job_id": job.public_id}
    )
    responses = fire_at_once(place.secretariat, lambda client: client.post(confirm_url))
    assert statuses(responses) == {302: TWINS}
    with conference_scope(place.conference):
        job = ImportJob.objects.get(pk=job.pk)
        assert job.status == ImportStatus.DONE, job.errors
        assert job.counts["create"] == 3
        assert Attribution.objects.filter(bailleur=bailleur).count() == 3


def test_convention_created_twenty_times_at_once_is_one_convention():
    world = build_cia_world()
    data = {"title": "CIA 2025-2030", "start_year": "2025", "end_year": "2030"}
    create_url = reverse("cia_create", kwargs={"conference_slug": world.conference.slug})
    responses = fire_at_once(world.users["epci"], lambda client: client.post(create_url, data))
    assert statuses(responses) == {302: 1, 200: TWINS - 1}
    for response in responses:
        if response.status_code == 200:
            page = response.content.decode()
            assert "La période chevauche celle de" in page
            assert "une seule convention par année." in page
    with world.scope():
        assert Convention.objects.count() == 1
