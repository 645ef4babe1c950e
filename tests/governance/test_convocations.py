"""Convocations: French e-mails to the titulaires, information to the suppléants, the ICS
file (parsed back with icalendar), the tracked link, the corrected convocation after a
change, the reminders (never twice), the cancellation."""

import datetime
import re
from io import StringIO
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from cil.governance.forms import aware
from cil.governance.models import Convocation, ItemKind, Meeting
from cil.governance.services import agenda
from cil.roles import RoleName
from cil.tenancy import conference_scope
from tests.governance.support import add_member, committee, upcoming_meeting
from tests.world import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


@pytest.fixture
def convened(world):
    """A committee of three members (one with a suppléant, one without any address), an
    upcoming session with two items."""
    conference = world.a.conference
    seineville = add_member(conference, "Ville de Seineville", suppleant=True)
    habitat = add_member(conference, "Seine Habitat", college=2)
    silent = add_member(conference, "Association Sans Adresse", college=3, email=False)
    body = committee(world.a, [seineville, habitat, silent])
    meeting = upcoming_meeting(world.a, body=body, title="Réunion du comité de relogement")
    with conference_scope(conference):
        for kind, title in (
            (ItemKind.INFORMATION, "Situations examinées depuis la dernière réunion"),
            (ItemKind.DELIBERATION, "Modalités de saisine du comité"),
        ):
            agenda.item_save(
                conference=conference,
                actor=world.a.users[RoleName.SECRETARIAT],
                meeting=meeting,
                kind=kind,
                title=title,
            )
    return meeting


def _url(world, name, meeting):
    return reverse(
        name, kwargs={"conference_slug": world.a.conference.slug, "meeting_id": meeting.public_id}
    )


def _send(client, world, meeting, capture):
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    with capture(execute=True):
        return client.post(_url(world, "convocation_list", meeting), follow=True)


def _calendar(message) -> icalendar.Calendar:
    (_name, content, mimetype) = next(a for a in message.attachments if a[0] == "seance.ics")
    assert mimetype.startswith("text/calendar")
    data = content if isinstance(content, bytes) else content.encode()
    assert b"\r\n" in data  # RFC 5545 lines end with CRLF
    return icalendar.Calendar.from_ical(data)


def test_convocations_in_french_with_a_valid_ics(
    client, world, convened, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    page = client.get(_url(world, "convocation_list", convened)).content.decode()
    assert "Aperçu du courriel d'un titulaire" in page
    assert "1 représentant sans adresse électronique" in page

    response = _send(client, world, convened, django_capture_on_commit_callbacks)
    assert (
        "3 courriels de convocation envoyés (titulaires convoqués, suppléants informés)."
        in response.content.decode()
    )
    assert "1 représentant sans adresse électronique" in response.content.decode()

    by_address = {m.to[0]: m for m in mailoutbox}
    assert sorted(by_address) == [
        "suppleant.ville-de-seineville@exemple.fr",
        "titulaire.seine-habitat@exemple.fr",
        "titulaire.ville-de-seineville@exemple.fr",
    ]
    day = timezone.localtime(convened.starts_at)
    titulaire = by_address["titulaire.ville-de-seineville@exemple.fr"]
    assert titulaire.subject == (
        f"Convocation : Réunion du comité de relogement du {day:%d/%m/%Y} — {world.a.conference.name}"
    )
    body = titulaire.body
    assert "Bonjour Titulaire Ville de Seineville," in body
    assert "vous êtes convoqué à la séance suivante" in body
    assert "Collège 1 — collectivités territoriales" in body
    assert "1. Situations examinées depuis la dernière réunion" in body
    assert "2. Modalités de saisine du comité (vote)" in body
    assert "Lieu : Hôtel d'agglomération, salle du conseil" in body
    assert f"à {day.hour}h30" in body
    assert "donner pouvoir à un autre membre de votre collège" in body
    assert "&#x27;" not in body  # plain text, not HTML-escaped
    weekday = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")[
        day.weekday()
    ]
    assert f"le {weekday} {day.day} " in body
    html = titulaire.alternatives[0][0]
    assert "<strong>Réunion du comité de relogement</strong>" in html

    suppleant = by_address["suppleant.ville-de-seineville@exemple.fr"]
    assert suppleant.subject.startswith("Pour information : Réunion du comité de relogement")
    assert "En qualité de représentant suppléant de Ville de Seineville" in suppleant.body
    assert "donner pouvoir" not in suppleant.body

    calendar = _calendar(titulaire)
    assert str(calendar["METHOD"]) == "PUBLISH"
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"seance-{convened.public_id}@testserver"
    assert event.decoded("DTSTART") == convened.starts_at
    assert event.decoded("DTSTART").tzinfo.key == "Europe/Paris"
    assert event.decoded("DTEND") == convened.ends_at
    assert str(event["SUMMARY"]) == f"Réunion du comité de relogement — {world.a.conference.name}"
    assert str(event["LOCATION"]) == "Hôtel d'agglomération, salle du conseil"
    assert int(event["SEQUENCE"]) == 0
    assert str(event["STATUS"]) == "CONFIRMED"
    assert "Ordre du jour :\n1. Situations examinées" in str(event["DESCRIPTION"])
    assert event.decoded("DTSTAMP").tzinfo is not None
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Paris"]

    with conference_scope(world.a.conference):
        rows = {c.email or "-": c for c in Convocation.objects.filter(meeting=convened)}
        assert all(rows[a].sent_at is not None for a in by_address)
        assert rows["-"].sent_at is None
        assert rows["-"].error.startswith("Pas d'adresse électronique")
        assert Meeting.objects.get(pk=convened.pk).state == "convoquee"

    # Nothing left to send: a second click sends nothing.
    mailoutbox.clear()
    response = _send(client, world, convened, django_capture_on_commit_callbacks)
    assert "Toutes les convocations sont déjà envoyées et à jour." in response.content.decode()
    assert mailoutbox == []


def test_the_tracked_link_records_the_first_opening(
    client, world, convened, mailoutbox, django_capture_on_commit_callbacks
):
    _send(client, world, convened, django_capture_on_commit_callbacks)
    message = next(m for m in mailoutbox if m.to[0].startswith("titulaire.seine-habitat"))
    link = re.search(r"http://testserver(/conf-a/seances/convocation/\S+/)", message.body).group(1)
    client.logout()

    response = client.get(link)
    meeting_page = _url(world, "meeting_detail", convened)
    assert response.status_code == 302
    assert response.url == meeting_page
    assert client.get(meeting_page).url.startswith(reverse("login"))  # sign-in as usual
    with conference_scope(world.a.conference):
        row = Convocation.objects.get(email="titulaire.seine-habitat@exemple.fr")
        first = row.opened_at
        assert first is not None
        assert Convocation.objects.filter(opened_at__isnull=False).count() == 1
    client.get(link)
    with conference_scope(world.a.conference):
        row.refresh_from_db()
        assert (row.opened_at, row.open_count) == (first, 2)

    # A wrong token, or the link under another conference: 404, nothing recorded.
    forged = link.rsplit("/", 2)[0] + "/" + "0" * 40 + "/"
    assert client.get(forged).status_code == 404
    assert client.get(link.replace("/conf-a/", "/conf-b/")).status_code == 404
    # The secretariat sees the opening.
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    page = client.get(_url(world, "convocation_list", convened)).content.decode()
    assert first.astimezone(ZoneInfo("Europe/Paris")).strftime("%d/%m/%Y %H:%M") in page


def test_a_change_of_date_sends_the_corrected_convocation(
    client, world, convened, mailoutbox, django_capture_on_commit_callbacks
):
    _send(client, world, convened, django_capture_on_commit_callbacks)
    mailoutbox.clear()
    later = timezone.localdate() + datetime.timedelta(days=27)
    response = client.post(
        _url(world, "meeting_edit", convened),
        {
            "title": convened.title,
            "day": later.isoformat(),
            "start": "10:00",
            "end": "12:00",
            "place": "Mairie de Seineville",
        },
        follow=True,
    )
    assert "envoyez la convocation rectificative" in response.content.decode()
    page = client.get(_url(world, "convocation_list", convened)).content.decode()
    assert "à rectifier" in page
    _send(client, world, convened, django_capture_on_commit_callbacks)
    assert len(mailoutbox) == 3
    assert all(m.subject.startswith("Convocation modifiée : ") for m in mailoutbox)
    assert "La date, l'heure ou le lieu de la séance ont changé" in mailoutbox[0].body
    (event,) = _calendar(mailoutbox[0]).walk("VEVENT")
    assert int(event["SEQUENCE"]) == 1
    assert event.decoded("DTSTART") == aware(later, datetime.time(10, 0))
    assert str(event["LOCATION"]) == "Mairie de Seineville"


def _remind() -> str:
    out = StringIO()
    call_command("send_meeting_reminders", stdout=out)
    return out.getvalue().strip()


def test_reminders_leave_once_and_only_within_the_delay(
    client, world, convened, mailoutbox, django_capture_on_commit_callbacks
):
    _send(client, world, convened, django_capture_on_commit_callbacks)
    mailoutbox.clear()
    assert _remind() == "0 relance envoyée."
    assert mailoutbox == []  # 20 days before: too early (3 days by default)

    soon = timezone.now() + datetime.timedelta(days=2)
    with conference_scope(world.a.conference):
        Meeting.objects.filter(pk=convened.pk).update(
            starts_at=soon, ends_at=soon + datetime.timedelta(hours=2)
        )
        Convocation.objects.update(sent_at=timezone.now() - datetime.timedelta(days=12))
    assert _remind() == "2 relances envoyées."
    # The titulaires only (suppléants were informed, the member without address is skipped).
    assert sorted(m.to[0] for m in mailoutbox) == [
        "titulaire.seine-habitat@exemple.fr",
        "titulaire.ville-de-seineville@exemple.fr",
    ]
    assert all(m.subject.startswith("Rappel : Réunion du comité de relogement") for m in mailoutbox)
    assert "Nous vous rappelons que la" in mailoutbox[0].body
    assert _calendar(mailoutbox[0]).walk("VEVENT")
    with conference_scope(world.a.conference):
        assert Convocation.objects.filter(reminded_at__isnull=False).count() == 2

    mailoutbox.clear()
    assert _remind() == "0 relance envoyée."
    from cil.governance.tasks import send_meeting_reminders

    assert send_meeting_reminders() == 0
    assert mailoutbox == []  # never twice


def test_no_reminder_in_the_day_after_the_convocation_nor_when_disabled(
    client, world, convened, mailoutbox, django_capture_on_commit_callbacks
):
    soon = timezone.now() + datetime.timedelta(days=2)
    with conference_scope(world.a.conference):
        Meeting.objects.filter(pk=convened.pk).update(
            starts_at=soon, ends_at=soon + datetime.timedelta(hours=2)
        )
    _send(client, world, convened, django_capture_on_commit_callbacks)
    mailoutbox.clear()
    from cil.governance.tasks import send_meeting_reminders

    assert send_meeting_reminders() == 0  # convened just now
    client.post(
        reverse("governance_settings", kwargs={"conference_slug": world.a.conference.slug}),
        {
            "quorum_comparison": "au_moins", "quorum": "1/2", "remote_counts": "on",
            "max_proxies": "1", "majority_rule": "simple", "votes_by_college": "on",
            "convocation_notice_days": "10", "reminder_days": "0", "plenary_rhythm": "semestrielle",
        },
    )  # fmt: skip
    with conference_scope(world.a.conference):
        Convocation.objects.update(sent_at=timezone.now() - datetime.timedelta(days=5))
    assert send_meeting_reminders() == 0
    assert mailoutbox == []


def test_cancelling_tells_those_convened(
    client, world, convened, mailoutbox, django_capture_on_commit_callbacks
):
    _send(client, world, convened, django_capture_on_commit_callbacks)
    mailoutbox.clear()
    url = _url(world, "meeting_cancel", convened)
    response = client.post(url, {"reason": ""})
    assert "Ce champ est obligatoire." in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"reason": "Quorum impossible : report en janvier."})
    assert len(mailoutbox) == 3
    assert mailoutbox[0].subject.startswith("Séance annulée : ")
    assert "Motif : Quorum impossible : report en janvier." in mailoutbox[0].body
    calendar = _calendar(mailoutbox[0])
    assert str(calendar["METHOD"]) == "CANCEL"
    (event,) = calendar.walk("VEVENT")
    assert str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) == 1
    page = client.get(_url(world, "meeting_detail", convened)).content.decode()
    assert "Séance annulée" in page
    response = client.post(_url(world, "convocation_list", convened), follow=True)
    assert "ne peut plus être convoquée" in response.content.decode()


def test_members_download_the_ics(client, world, convened):
    client.force_login(world.a.users[RoleName.MEMBRE])
    response = client.get(_url(world, "meeting_ics", convened))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    (event,) = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
    assert event.decoded("DTSTART") == convened.starts_at
    # Convocations are the secretariat's.
    assert client.get(_url(world, "convocation_list", convened)).status_code == 403
