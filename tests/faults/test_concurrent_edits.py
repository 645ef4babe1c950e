"""Two people edit the same record at the same time. The first to save wins; the second is
told who changed it and when, with their own input still in the form and nothing saved;
saving again is then a deliberate choice, and wins.

Each edit page is walked the same way: both load the form, the first submits, the second
submits other values, the second resubmits the form it was given back."""

import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from attributions.models import Attribution
from cil.governance.models import Meeting
from cil.models import Access, Conference, Membership, Representative
from cil.roles import RoleName
from cil.tenancy import conference_scope
from conventions.models import ConventionVersion, OrientationDocument, OrientationVersion
from conventions.selectors_orientations import sections_of
from tests.conventions.orientations_support import orientation_at
from tests.conventions.test_cia_support import build_cia_world, create_cia
from tests.factories import UserFactory, grant
from tests.governance.support import upcoming_meeting
from tests.world import build_world

pytestmark = pytest.mark.django_db

FINGERPRINT = re.compile(r'name="fingerprint" value="([0-9a-f]*)"')


@dataclass
class Case:
    url: str
    first_user: Any
    second_user: Any
    first: dict
    second: dict
    stored: Any  # () -> the value both edits disagree on, as stored
    first_value: Any
    second_value: Any
    shown: str  # a piece of the second person's input, as the page shows it back


def _colleague(world, role):
    """A second person with the same role in the same organisation."""
    original = world.a.users[role]
    colleague = UserFactory(organisation=original.organisation)
    grant(colleague, world.a.conference, role)
    return original, colleague


def _url(world, name, **kwargs):
    return reverse(name, kwargs={"conference_slug": world.a.conference.slug, **kwargs})


def _conference_settings():
    world = build_world()
    first, second = _colleague(world, RoleName.SECRETARIAT)
    base = {"prefet_name": "M. le préfet", "president_name": "Mme la présidente"}
    return Case(
        url=_url(world, "conference_settings"),
        first_user=first,
        second_user=second,
        first={**base, "name": "Conférence renommée par la première"},
        second={**base, "name": "Conférence renommée par la seconde"},
        stored=lambda: Conference.objects.get(pk=world.a.conference.pk).name,
        first_value="Conférence renommée par la première",
        second_value="Conférence renommée par la seconde",
        shown='value="Conférence renommée par la seconde"',
    )


def _member():
    world = build_world()
    first, second = _colleague(world, RoleName.SECRETARIAT)
    membership = world.a.membership

    def stored():
        with conference_scope(world.a.conference):
            return Membership.objects.get(pk=membership.pk).college

    return Case(
        url=_url(world, "member_edit", membership_id=membership.public_id),
        first_user=first,
        second_user=second,
        first={"college": "3", "voting_right": "on"},
        second={"college": "1", "voting_right": "on"},
        stored=stored,
        first_value=3,
        second_value=1,
        shown='<option value="1" selected>',
    )


def _representative():
    world = build_world()
    first, second = _colleague(world, RoleName.SECRETARIAT)
    representative = world.a.representative
    base = {"first_name": "Camille", "kind": "titulaire", "mandate_start": "2024-01-01"}

    def stored():
        with conference_scope(world.a.conference):
            return Representative.objects.get(pk=representative.pk).last_name

    return Case(
        url=_url(world, "representative_edit", representative_id=representative.public_id),
        first_user=first,
        second_user=second,
        first={**base, "last_name": "Lefebvre"},
        second={**base, "last_name": "Moreau"},
        stored=stored,
        first_value="Lefebvre",
        second_value="Moreau",
        shown='value="Moreau"',
    )


def _user_roles():
    world = build_world()
    first, second = _colleague(world, RoleName.SECRETARIAT)
    access_id = world.a.access_ids[RoleName.MEMBRE]

    def stored():
        with conference_scope(world.a.conference):
            access = Access.objects.get(public_id=access_id)
            return sorted(access.roles.values_list("name", flat=True))

    return Case(
        url=_url(world, "user_edit", access_id=access_id),
        first_user=first,
        second_user=second,
        first={"roles": [RoleName.MEMBRE, RoleName.ELU]},
        second={"roles": [RoleName.ELU]},
        stored=stored,
        first_value=sorted([RoleName.ELU, RoleName.MEMBRE]),
        second_value=[RoleName.ELU],
        shown=f'value="{RoleName.MEMBRE}"',
    )


def _attribution():
    world = build_world()
    first, second = _colleague(world, RoleName.BAILLEUR)
    attribution = world.a.attribution
    with conference_scope(world.a.conference):
        insee = world.a.conference.communes.first().insee
    base = {
        "reference": attribution.reference,
        "date_signature_bail": "2025-03-14",
        "commune_insee": insee,
        "reservataire": "non_reserve",
        "nb_personnes": "2",
        "nb_enfants_moins_14": "0",
    }

    def stored():
        with conference_scope(world.a.conference):
            return str(Attribution.objects.get(pk=attribution.pk).annual_income)

    return Case(
        url=_url(world, "attribution_edit", attribution_id=attribution.public_id),
        first_user=first,
        second_user=second,
        first={**base, "revenu_annuel": "13000"},
        second={**base, "revenu_annuel": "17500"},
        stored=stored,
        first_value="13000.00",
        second_value="17500.00",
        shown='value="17500"',
    )


def _meeting():
    world = build_world()
    first, second = _colleague(world, RoleName.SECRETARIAT)
    meeting = upcoming_meeting(world.a)
    day = timezone.localtime(meeting.starts_at).date().isoformat()
    base = {"day": day, "start": "14:30", "end": "17:00", "place": "Salle du conseil"}

    def stored():
        with conference_scope(world.a.conference):
            return Meeting.objects.get(pk=meeting.pk).title

    return Case(
        url=_url(world, "meeting_edit", meeting_id=meeting.public_id),
        first_user=first,
        second_user=second,
        first={**base, "title": "Séance plénière de printemps"},
        second={**base, "title": "Séance plénière extraordinaire"},
        stored=stored,
        first_value="Séance plénière de printemps",
        second_value="Séance plénière extraordinaire",
        shown='value="Séance plénière extraordinaire"',
    )


def _cia_version():
    world = build_cia_world()
    first = world.users["epci"]
    second = UserFactory(organisation=first.organisation)
    grant(second, world.conference, RoleName.SECRETARIAT)
    with world.scope():
        version = create_cia(world).versions.get()
    base = {"title": version.title, "effective_from": version.effective_from.isoformat()}

    def stored():
        with world.scope():
            return ConventionVersion.objects.get(pk=version.pk).body

    return Case(
        url=reverse(
            "cia_version_edit",
            kwargs={"conference_slug": world.conference.slug, "version_id": version.public_id},
        ),
        first_user=first,
        second_user=second,
        first={**base, "body": "Stipulations rédigées par la première."},
        second={**base, "body": "Stipulations rédigées par la seconde."},
        stored=stored,
        first_value="Stipulations rédigées par la première.",
        second_value="Stipulations rédigées par la seconde.",
        shown="Stipulations rédigées par la seconde.</textarea>",
    )


CASES = {
    "paramètres de la conférence": _conference_settings,
    "membre": _member,
    "représentant": _representative,
    "rôles d'un utilisateur": _user_roles,
    "attribution": _attribution,
    "séance": _meeting,
    "texte d'une version de la CIA": _cia_version,
}


@pytest.mark.parametrize("make_case", CASES.values(), ids=CASES.keys())
def test_the_second_writer_is_told_and_nothing_is_lost(make_case):
    case = make_case()
    first, second = Client(), Client()
    first.force_login(case.first_user)
    second.force_login(case.second_user)
    first_version = FINGERPRINT.search(first.get(case.url).content.decode())[1]
    second_version = FINGERPRINT.search(second.get(case.url).content.decode())[1]
    assert first_version == second_version

    assert first.post(case.url, {**case.first, "fingerprint": first_version}).status_code == 302
    assert case.stored() == case.first_value

    answer = second.post(case.url, {**case.second, "fingerprint": second_version})
    page = answer.content.decode()
    assert answer.status_code == 200
    assert f"Cette fiche a été modifiée par {case.first_user.email} le " in page
    assert "pendant votre saisie" in page
    assert case.shown in page  # the second person's input is still there
    assert case.stored() == case.first_value  # and nothing of it was saved
    renewed = FINGERPRINT.search(page)[1]
    assert renewed != second_version

    again = second.post(case.url, {**case.second, "fingerprint": renewed})
    assert again.status_code == 302
    assert case.stored() == case.second_value


def test_a_form_without_version_still_saves(client):
    """Callers that do not send the fingerprint (an older page still open) are not blocked."""
    world = build_world()
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    url = _url(world, "member_edit", membership_id=world.a.membership.public_id)
    assert client.post(url, {"college": "3"}).status_code == 302
    with conference_scope(world.a.conference):
        assert Membership.objects.get(pk=world.a.membership.pk).college == 3


def test_orientation_section_edited_by_two_people_keeps_the_first_and_tells_the_second():
    """The orientation editor already refuses a change prepared on an older version of the
    document (conventions.services_orientations._check_base): walked here with two people."""
    world = build_world()
    document = orientation_at(world.a.conference, world.a.users)
    with conference_scope(world.a.conference):
        version = OrientationVersion.objects.get(pk=document.current_version_id)
        key = sections_of(version)[0].key
    url = reverse(
        "orientation_section_edit",
        kwargs={
            "conference_slug": world.a.conference.slug,
            "document_id": document.public_id,
            "section_key": key,
        },
    )
    first_user, second_user = _colleague(world, RoleName.SECRETARIAT)
    first, second = Client(), Client()
    first.force_login(first_user)
    second.force_login(second_user)
    base = re.compile(r'name="base_version" value="(\d+)"')
    first_base = base.search(first.get(url).content.decode())[1]
    second_base = base.search(second.get(url).content.decode())[1]

    data = {"title": "Mixité sociale", "base_version": first_base}
    assert first.post(url, {**data, "body": "Texte de la première."}).status_code == 302
    answer = second.post(url, {**data, "body": "Texte de la seconde.", "base_version": second_base})
    page = answer.content.decode()
    assert answer.status_code == 200
    assert "Le document a changé entre-temps" in page
    assert "Texte de la seconde." in page
    with conference_scope(world.a.conference):
        document = OrientationDocument.objects.get(pk=document.pk)
        bodies = [s.body for s in sections_of(document.current_version)]
    assert "Texte de la première." in bodies
    assert "Texte de la seconde." not in bodies
