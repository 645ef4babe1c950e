"""Sessions through the pages: the secretariat creates one and composes its agenda with
documents; members read them; files are checked by their content; bodies and rules."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from cil.governance.models import AgendaAttachment, Body, Meeting
from cil.models import AuditEntry
from cil.roles import RoleName
from cil.tenancy import conference_scope
from tests.governance.support import add_member, upcoming_meeting
from tests.world import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


def _conf_url(world, name, **kwargs):
    return reverse(name, kwargs={"conference_slug": world.a.conference.slug, **kwargs})


def test_the_secretariat_creates_a_session_and_composes_its_agenda(client, world):
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    day = timezone.localdate() + datetime.timedelta(days=30)
    create = _conf_url(world, "meeting_create")
    response = client.post(
        create, {"title": "Séance plénière", "day": day.isoformat(), "start": "14:30"}
    )
    assert (
        "Indiquez le lieu de la séance ou le lien de visioconférence." in response.content.decode()
    )
    response = client.post(
        create,
        {
            "title": "Séance plénière",
            "day": day.isoformat(),
            "start": "14:30",
            "end": "14:00",
            "place": "Mairie",
        },
    )
    assert "L&#x27;heure de fin doit suivre l&#x27;heure de début." in response.content.decode()
    response = client.post(
        create,
        {
            "title": "Séance plénière",
            "day": day.isoformat(),
            "start": "14:30",
            "end": "17:00",
            "video_url": "https://visio.exemple.fr/cil",
        },
    )
    assert response.status_code == 302
    with conference_scope(world.a.conference):
        meeting = Meeting.objects.get()
        # The plenary is chaired by the conference's co-presidents (CCH L.441-1-5).
        assert meeting.chairs == "Mme la préfète et M. le président"
        assert meeting.body is None
        assert timezone.localtime(meeting.starts_at).strftime("%H:%M") == "14:30"
    detail = response.url

    add = _conf_url(world, "item_add", meeting_id=meeting.public_id)
    client.post(add, {"kind": "information", "title": "Présentation du bilan annuel 2025"})
    client.post(
        add,
        {
            "kind": "deliberation",
            "title": "Programme des ateliers",
            "description": "Trois ateliers.",
        },
    )
    response = client.post(add, {"kind": "deliberation", "title": ""})
    assert "L&#x27;intitulé du point est obligatoire." in response.content.decode()
    response = client.post(add, {"kind": "proces_verbal"})
    assert "Choisissez le procès-verbal soumis à l&#x27;approbation." in response.content.decode()
    with conference_scope(world.a.conference):
        first, second = meeting.items.order_by("order")
    client.post(
        _conf_url(world, "item_move", meeting_id=meeting.public_id, item_id=second.public_id),
        {"direction": "haut"},
    )
    with conference_scope(world.a.conference):
        assert list(meeting.items.order_by("order").values_list("title", flat=True)) == [
            "Programme des ateliers",
            "Présentation du bilan annuel 2025",
        ]

    attach = _conf_url(
        world, "attachment_add", meeting_id=meeting.public_id, item_id=first.public_id
    )
    pdf = SimpleUploadedFile("Bilan 2025.pdf", b"%PDF-1.4 bilan", content_type="application/pdf")
    response = client.post(attach, {"title": "", "file": pdf})
    assert response.status_code == 302
    for upload, message in (
        (
            SimpleUploadedFile("programme.exe", b"MZ\x90"),
            "Format de fichier non accepté (programme.exe).",
        ),
        (
            SimpleUploadedFile("faux.pdf", b"MZ\x90\x00"),
            "Le contenu du fichier ne correspond pas à son extension .pdf.",
        ),
        (SimpleUploadedFile("vide.odt", b""), "Le fichier soumis est vide."),
        (SimpleUploadedFile("notes.txt", b"abc\x00def"), "Le fichier .txt doit être un texte"),
    ):
        page = client.post(attach, {"file": upload}).content.decode()
        assert message.replace("'", "&#x27;") in page, message
    page = client.post(attach, {}).content.decode()
    assert "Choisissez un fichier ou un document produit par la plateforme." in page
    with conference_scope(world.a.conference):
        attachment = AgendaAttachment.objects.get()
        assert attachment.title == "Bilan 2025.pdf"
        assert attachment.file.name == f"seances/{world.a.conference.pk}/{attachment.public_id}.pdf"
        assert attachment.size == len(b"%PDF-1.4 bilan")
        assert AuditEntry.objects.filter(object_id=str(attachment.public_id)).exists()

    # Every member reads the session and downloads its documents; none manages it.
    client.force_login(world.a.users[RoleName.MEMBRE])
    page = client.get(detail).content.decode()
    assert "Programme des ateliers" in page
    assert "Bilan 2025.pdf" in page
    assert "Ajouter un point" not in page
    download = client.get(
        _conf_url(
            world,
            "attachment_download",
            meeting_id=meeting.public_id,
            attachment_id=attachment.public_id,
        )
    )
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.4 bilan"
    assert 'filename="Bilan_2025.pdf"' in download["Content-Disposition"]
    assert client.post(add, {"kind": "information", "title": "Intrus"}).status_code == 403
    listing = client.get(_conf_url(world, "meeting_list")).content.decode()
    assert "Séance plénière" in listing
    assert "Nouvelle séance" not in listing


def test_a_voted_item_no_longer_changes_and_a_closed_session_is_frozen(client, world):
    from cil.governance.services.votes import vote_record
    from tests.governance.isolation_rows import _closed, _present, _today

    meeting = _today(world.a)
    voters = _present(world.a, meeting)
    item = world.a.gov_vote_item
    with conference_scope(world.a.conference):
        vote_record(
            conference=world.a.conference,
            actor=world.a.users[RoleName.SECRETARIAT],
            meeting=meeting,
            item=item,
            ballots={2: {"pour": voters}},
        )
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    remove = _conf_url(world, "item_remove", meeting_id=meeting.public_id, item_id=item.public_id)
    response = client.post(remove, follow=True)
    assert "Ce point a été voté : il ne peut plus être retiré." in response.content.decode()
    edit = _conf_url(world, "item_edit", meeting_id=meeting.public_id, item_id=item.public_id)
    assert (
        "Ce point a été voté : il ne change plus." in client.get(edit, follow=True).content.decode()
    )

    closed = _closed(world.a)
    with conference_scope(world.a.conference):
        closed_item = closed.items.get()
    response = client.post(
        _conf_url(world, "item_move", meeting_id=closed.public_id, item_id=closed_item.public_id),
        follow=True,
    )
    assert "La séance est close : son ordre du jour ne change plus." in response.content.decode()
    for name in ("attendance_sheet", "meeting_edit", "item_add"):
        response = client.get(_conf_url(world, name, meeting_id=closed.public_id), follow=True)
        assert "La séance est close : ce n&#x27;est plus possible." in response.content.decode(), (
            name
        )


def test_bodies_with_their_members_and_rhythm(client, world):
    conference = world.a.conference
    seineville = add_member(conference, "Ville de Seineville")
    association = add_member(conference, "Solidarité Femmes", college=3)
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    response = client.post(
        _conf_url(world, "body_create"),
        {
            "name": "Comité de relogement des publics vulnérables",
            "kind": "comite",
            "rhythm": "mensuelle",
            "description": "Relogement des personnes victimes de violences familiales.",
            "members": [str(seineville.public_id), str(association.public_id)],
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    with conference_scope(conference):
        body = Body.objects.get()
        assert set(body.members.all()) == {seineville, association}
    listing = client.get(_conf_url(world, "body_list")).content.decode()
    assert "Comité de relogement des publics vulnérables" in listing
    assert "Mensuelle" in listing
    # A session of the committee convenes its members only.
    meeting = upcoming_meeting(world.a, body=body, title="Réunion du comité")
    page = client.get(
        _conf_url(world, "convocation_list", meeting_id=meeting.public_id)
    ).content.decode()
    assert "Ville de Seineville" in page
    assert "Solidarité Femmes" in page
    assert f"Bailleur {world.a.marker}" not in page
    # An inactive body takes no new session.
    response = client.post(
        _conf_url(world, "body_edit", body_id=body.public_id),
        {
            "name": body.name,
            "kind": "comite",
            "rhythm": "mensuelle",
            "members": [str(seineville.public_id)],
        },
    )
    assert response.status_code == 302
    page = client.get(_conf_url(world, "meeting_create")).content.decode()
    assert "Comité de relogement des publics vulnérables (comité ad hoc)" not in page
    # Another conference's member cannot use A's members.
    client.force_login(world.b.users[RoleName.SECRETARIAT])
    response = client.post(
        reverse("body_create", kwargs={"conference_slug": world.b.conference.slug}),
        {
            "name": "Intrus",
            "kind": "atelier",
            "rhythm": "annuelle",
            "members": [str(seineville.public_id)],
        },
    )
    assert "Sélectionnez un choix valide" in response.content.decode()


def test_the_rules_are_the_secretariat_s(client, world):
    url = _conf_url(world, "governance_settings")
    client.force_login(world.a.users[RoleName.PREFECTURE])
    assert client.get(url).status_code == 403
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    response = client.post(
        url,
        {
            "quorum_comparison": "plus_de", "quorum": "2/3", "max_proxies": "2",
            "majority_rule": "deux_tiers", "convocation_notice_days": "15",
            "reminder_days": "5", "plenary_rhythm": "trimestrielle",
        },
    )  # fmt: skip
    assert response.status_code == 302
    page = client.get(_conf_url(world, "body_list")).content.decode()
    assert "Plus des deux tiers des membres à voix délibérative, présents ou représentés" in page
    assert "Majorité des deux tiers des suffrages exprimés" in page
    assert "2 pouvoirs au plus par membre" in page
    assert "les participants à distance ne comptent pas" in page


def _queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_list_pages_run_a_fixed_number_of_queries(client, world):
    from tests.governance.isolation_rows import _closed
    from tests.governance.support import meeting_on

    client.force_login(world.a.users[RoleName.MEMBRE])
    _closed(world.a)
    upcoming_meeting(world.a)
    pages = [_conf_url(world, "meeting_list"), _conf_url(world, "decision_list")]
    client.get(pages[0])  # the session's first stamps (cil/middleware_timeouts.py)
    before = [_queries(client, url) for url in pages]
    for days in (5, 10, 15):
        upcoming_meeting(world.a, days=days)
        meeting_on(world.a, timezone.localdate() - datetime.timedelta(days=days), hour=10)
    assert [_queries(client, url) for url in pages] == before
