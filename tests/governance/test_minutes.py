"""The minutes (procès-verbal): drafted from the record, edited (Markdown sanitised), issued
as a sealed PDF that validates, approved by a vote at the next session of the same body."""

import pytest
from django.urls import reverse
from django.utils import timezone

from cil.governance.models import ItemKind, Minutes
from cil.governance.services import agenda, votes
from cil.roles import RoleName
from cil.tenancy import conference_scope
from conventions.models import DocumentKind, DocumentStatus, GeneratedDocument
from conventions.pdf.sealing import load_seal
from tests.conventions.documents_support import flat, pdf_text, stored_bytes, validation_status
from tests.governance.isolation_rows import _closed, _present
from tests.governance.support import add_member, committee, meeting_on, today_meeting
from tests.world import build_world

pytestmark = pytest.mark.django_db
YEAR = timezone.localdate().year


@pytest.fixture
def world():
    return build_world()


def _url(world, name, meeting):
    return reverse(
        name, kwargs={"conference_slug": world.a.conference.slug, "meeting_id": meeting.public_id}
    )


def test_minutes_drafted_from_the_record_edited_and_issued_as_a_sealed_pdf(
    client, world, django_capture_on_commit_callbacks
):
    meeting = _closed(world.a)  # closed, one decision, minutes drafted, a PDF requested
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    with conference_scope(world.a.conference):
        minutes = Minutes.objects.get(meeting=meeting)
    draft = minutes.body
    assert "# Présences et quorum" in draft
    assert (
        "Sur 7 membres à voix délibérative, 7 étaient présents et 0 représenté par un pouvoir."
        in draft
    )
    assert (
        "Le quorum (au moins la moitié des membres à voix délibérative, présents ou représentés, soit 4) était atteint."
        in draft
    )
    assert f"**Décision n° {YEAR}-01** : Adopté : Décision {world.a.marker}." in draft
    assert "**Vote** : 7 voix pour, 0 voix contre, 0 abstention" in draft

    edit = _url(world, "minutes_edit", meeting)
    body = draft.replace(
        "*Résumé des échanges : à compléter par le secrétariat.*",
        "Le président rappelle **les objectifs** de la convention.\n\n<script>alert(1)</script>",
    )
    preview = client.post(edit, {"body": body, "apercu": "1"}).content.decode()
    assert "<strong>les objectifs</strong>" in preview
    assert "<script>alert(1)</script>" not in preview
    response = client.post(edit, {"body": body})
    assert response.status_code == 302
    assert client.post(edit, {"body": "  "}).status_code == 200  # empty: refused

    # Members do not read the draft before the secretariat issues it.
    client.force_login(world.a.users[RoleName.MEMBRE])
    with conference_scope(world.a.conference):
        Minutes.objects.filter(pk=minutes.pk).update(document=None)
    assert client.get(_url(world, "minutes_detail", meeting)).status_code == 404
    client.force_login(world.a.users[RoleName.ELU])
    assert client.post(_url(world, "minutes_issue", meeting)).status_code == 403

    client.force_login(world.a.users[RoleName.SECRETARIAT])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url(world, "minutes_issue", meeting), follow=True)
    assert "La production du PDF scellé du procès-verbal est lancée" in response.content.decode()
    with conference_scope(world.a.conference):
        minutes.refresh_from_db()
        document = minutes.document
        assert document.kind == DocumentKind.PROCES_VERBAL
        assert document.status == DocumentStatus.READY, document.error
        assert document.view_permission == "sessions.view"
        assert document.subject_id == str(minutes.public_id)
        data = stored_bytes(document)
    status = validation_status(data, load_seal().certificate)
    assert status.intact
    assert status.valid
    text = flat(pdf_text(data))
    assert f"Projet de procès-verbal — Séance close {world.a.marker} du" in text
    assert "Projet de procès-verbal, soumis à l'approbation de la prochaine séance." in text
    assert "Le président rappelle les objectifs de la convention." in text
    assert "alert(1)" not in text
    assert "Annexe 1 — Feuille de présence" in text
    assert f"Bailleur {world.a.marker}" in text
    assert "Annexe 2 — Relevé des votes" in text
    assert "Document scellé électroniquement" in text

    # Now every member reads it and downloads the PDF.
    client.force_login(world.a.users[RoleName.MEMBRE])
    page = client.get(_url(world, "minutes_detail", meeting)).content.decode()
    assert "<strong>les objectifs</strong>" in page
    assert "télécharger le PDF scellé" in page


def test_the_next_session_of_the_same_body_approves_the_minutes(
    client, world, django_capture_on_commit_callbacks
):
    first = _closed(world.a)
    with conference_scope(world.a.conference):
        minutes = Minutes.objects.get(meeting=first)
    secretariat = world.a.users[RoleName.SECRETARIAT]
    client.force_login(secretariat)
    # A committee's session cannot approve the plenary's minutes.
    other = add_member(world.a.conference, "Ville de Seineville")
    committee_meeting = today_meeting(world.a, body=committee(world.a, [other]), title="Comité")
    response = client.post(
        _url(world, "item_add", committee_meeting),
        {"kind": ItemKind.PROCES_VERBAL, "minutes": str(minutes.public_id)},
    )
    assert "Sélectionnez un choix valide" in response.content.decode()  # not even offered

    second = meeting_on(world.a, timezone.localdate(), hour=1, title="Séance suivante")
    form = client.get(_url(world, "item_add", second)).content.decode()
    assert str(first) in form
    client.post(
        _url(world, "item_add", second),
        {"kind": ItemKind.PROCES_VERBAL, "minutes": str(minutes.public_id)},
    )
    with conference_scope(world.a.conference):
        item = second.items.get()
        assert (
            item.title
            == f"Approbation du procès-verbal de la séance du {timezone.localdate():%d/%m/%Y}"
        )
    assert _present(world.a, second) == 8  # the world's 7 (college 2) and Seineville (college 1)
    with django_capture_on_commit_callbacks(execute=True), conference_scope(world.a.conference):
        decision = votes.vote_record(
            conference=world.a.conference,
            actor=secretariat,
            meeting=second,
            item=item,
            ballots={1: {"pour": 1}, 2: {"pour": 6, "abstention": 1}},
        )
    with conference_scope(world.a.conference):
        minutes.refresh_from_db()
        assert minutes.is_approved
        assert minutes.approval_decision == decision
        assert minutes.approved_on == timezone.localdate()
        # The final sealed PDF is produced at once.
        final = minutes.document
        assert final.title.startswith("Procès-verbal — Séance close")
        assert final.status == DocumentStatus.READY
        assert GeneratedDocument.objects.filter(kind=DocumentKind.PROCES_VERBAL).count() == 2
    text = flat(pdf_text(stored_bytes(final)))
    assert f"Procès-verbal approuvé par la conférence le {timezone.localdate().day}" in text
    assert f"(décision n° {YEAR}-02, séance suivante)" in text

    # An approved procès-verbal no longer changes; it is not offered for approval again.
    response = client.get(_url(world, "minutes_edit", first), follow=True)
    assert "ne change plus une fois approuvé" in response.content.decode()
    assert client.post(_url(world, "minutes_draft", first)).status_code == 302
    with conference_scope(world.a.conference):
        minutes.refresh_from_db()
        assert "Le quorum" in minutes.body  # unchanged draft text
        third = meeting_on(world.a, timezone.localdate(), hour=2, title="Troisième")
        with pytest.raises(
            Exception, match="Ce procès-verbal ne peut pas être approuvé par cette séance"
        ):
            agenda.item_save(
                conference=world.a.conference,
                actor=secretariat,
                meeting=third,
                kind=ItemKind.PROCES_VERBAL,
                minutes=minutes,
            )


def test_minutes_need_a_closed_session(client, world):
    meeting = today_meeting(world.a)
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    response = client.post(_url(world, "minutes_draft", meeting), follow=True)
    assert "Le procès-verbal se rédige une fois la séance close" in response.content.decode()
    with conference_scope(world.a.conference):
        assert not Minutes.objects.exists()
