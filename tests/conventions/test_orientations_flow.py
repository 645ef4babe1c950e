"""The approval circuit of the document d'orientation through the pages: each step by its
role only, its history, its e-mails; refusal, restart after an edit, revision."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from cil.permissions import PERMISSIONS
from cil.roles import RoleName
from cil.tenancy import conference_scope
from conventions import circuit
from conventions.models import (
    DocumentKind,
    DocumentStatus,
    GeneratedDocument,
    OrientationDocument,
    OrientationTransition,
)
from conventions.selectors_orientations import sections_of
from tests.conventions.documents_support import flat, pdf_text, stored_bytes
from tests.conventions.orientations_support import (
    PATH,
    PDF_BYTES,
    orientation_at,
    pdf_upload,
    step_data,
)
from tests.governance.support import adopt_in_session
from tests.world import build_world

pytestmark = pytest.mark.django_db

EVERYONE_A = [
    "bailleur@a.test",
    "elu@a.test",
    "membre@a.test",
    "multi@ab.test",
    "prefecture@a.test",
    "secretariat@a.test",
]
PREFECTURE_A = ["multi@ab.test", "prefecture@a.test"]
SECRETARIAT_A = ["secretariat@a.test"]
RECIPIENTS = {
    "soumettre": EVERYONE_A,
    "adopter": PREFECTURE_A,
    "deliberer": PREFECTURE_A,
    "agreer": SECRETARIAT_A,
    "mettre_en_vigueur": EVERYONE_A,
}


@pytest.fixture
def world():
    return build_world()


def _url(world, name, document, tenant=None, **kwargs):
    tenant = tenant or world.a
    return reverse(
        name,
        kwargs={
            "conference_slug": tenant.conference.slug,
            "document_id": document.public_id,
            **kwargs,
        },
    )


def _form(step: str, **overrides) -> dict:
    data = {"base_version": 1, "comment": ""}
    for name, value in step_data(step).items():
        data[name] = value.isoformat() if hasattr(value, "isoformat") else value
    if step == "deliberer":
        data["deliberation"] = pdf_upload()
    return data | overrides


def _reload(world, document) -> OrientationDocument:
    with conference_scope(world.a.conference):
        return OrientationDocument.objects.select_related("current_version").get(pk=document.pk)


def test_the_whole_circuit_with_history_and_emails(
    client, world, mailoutbox, django_capture_on_commit_callbacks
):
    document = orientation_at(world.a.conference, world.a.users)
    expected_states = ["consultation", "adopte_cil", "delibere_epci", "agree_prefet", "en_vigueur"]
    for (step, role), state in zip(PATH, expected_states, strict=True):
        client.force_login(world.a.users[role])
        page = client.get(_url(world, "orientation_detail", document)).content.decode()
        mailoutbox.clear()
        url = _url(world, circuit.transition(step).url_name, document)
        assert client.get(url).status_code == 200
        if step == "adopter":
            # The conference adopts by a vote in session: the decision takes the step.
            assert "Adoption en séance de la conférence" in page
            with django_capture_on_commit_callbacks(execute=True):
                decision = adopt_in_session(world.a, document, pour=5, contre=1, abstention=1)
        else:
            assert escape(circuit.transition(step).label) in page  # a button for this role
            with django_capture_on_commit_callbacks(execute=True):
                response = client.post(url, _form(step, comment=f"Note {step}"))
            assert response.status_code == 302, response.content.decode()
        assert _reload(world, document).state == state
        # One French e-mail per person concerned, each with a link to the document.
        assert sorted(m.to[0] for m in mailoutbox) == RECIPIENTS[step], step
        message = mailoutbox[0]
        assert message.subject.endswith(f"— {world.a.conference.name}")
        assert f"http://testserver/conf-a/orientations/{document.public_id}/" in message.body
        assert "Bonjour," in message.body
        assert "&#x27;" not in message.body  # plain text, not HTML-escaped
        html = message.alternatives[0][0]
        assert f'href="http://testserver/conf-a/orientations/{document.public_id}/"' in html

    # The history lists every step, with who, for which organisation, and the data.
    with conference_scope(world.a.conference):
        rows = list(OrientationTransition.objects.filter(document=document).order_by("at", "id"))
    assert [r.name for r in rows] == [step for step, _ in PATH]
    assert [r.actor for r in rows] == [world.a.users[role] for _, role in PATH]
    assert rows[3].organisation == world.a.users[RoleName.PREFECTURE].organisation
    assert rows[1].data == {
        "date_seance": step_data("adopter")["date_seance"].isoformat(),
        "voix_pour": 5,
        "voix_contre": 1,
        "abstentions": 1,
        "source": {
            "decision": str(decision.public_id),
            "numero": decision.reference,
            "seance": str(decision.meeting.public_id),
        },
    }
    assert rows[2].data["numero"] == "2026-117"
    assert rows[2].attachment_sha256
    assert rows[4].data == {"date_effet": timezone.localdate().isoformat()}
    assert _reload(world, document).effective_date == timezone.localdate()
    client.force_login(world.a.users[RoleName.MEMBRE])
    page = client.get(_url(world, "orientation_detail", document)).content.decode()
    for label in (
        "Ouvrir la consultation des membres",
        "Adoption par la conférence",
        "Voix pour : 5",
        "Numéro de la délibération : 2026-117",
        "Agréer le document d&#x27;orientation",
        "Note agreer",
        "Délibération (PDF)",
        "En vigueur",
    ):
        assert label in page, label
    attachment = _url(world, "orientation_attachment", document, transition_id=rows[2].public_id)
    response = client.get(attachment)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == PDF_BYTES


@pytest.mark.parametrize(("step", "source"), [
    ("soumettre", "brouillon"),
    ("deliberer", "adopte_cil"),
    ("agreer", "delibere_epci"),
    ("refuser", "delibere_epci"),
    ("mettre_en_vigueur", "agree_prefet"),
])  # fmt: skip
def test_each_step_by_its_role_only(client, world, step, source):
    document = orientation_at(world.a.conference, world.a.users, source)
    transition = circuit.transition(step)
    url = _url(world, transition.url_name, document)
    allowed = PERMISSIONS[transition.permission]
    for role in set(RoleName) - allowed:
        client.force_login(world.a.users[role])
        assert client.get(url).status_code == 403, role
        assert client.post(url, _form(step, comment="motif")).status_code == 403, role
    # A member of another conference, even with every permission there: 404.
    client.force_login(world.b.users[RoleName.SECRETARIAT])
    assert client.post(url, _form(step, comment="motif")).status_code == 404
    client.force_login(world.b.users[RoleName.PREFECTURE])
    assert client.post(url, _form(step, comment="motif")).status_code == 404
    # A's allowed role aiming at B's document: 404 too.
    b_document = orientation_at(world.b.conference, world.b.users, source)
    client.force_login(world.a.users[sorted(allowed)[0]])
    assert (
        client.post(
            _url(world, transition.url_name, b_document), _form(step, comment="motif")
        ).status_code
        == 404
    )
    assert _reload(world, document).state == source
    with conference_scope(world.b.conference):
        assert OrientationDocument.objects.get(pk=b_document.pk).state == source
    # The right role takes it.
    response = client.post(url, _form(step, comment="motif"))
    assert response.status_code == 302
    assert _reload(world, document).state == transition.target


def test_a_step_not_possible_now_sends_back_with_an_explanation(client, world):
    document = orientation_at(world.a.conference, world.a.users)  # brouillon
    client.force_login(world.a.users[RoleName.PREFECTURE])
    url = _url(world, "orientation_approve", document)
    response = client.post(url, _form("agreer"), follow=True)
    assert "Ce n&#x27;est pas possible quand le document est à l&#x27;état « brouillon »." in (
        response.content.decode()
    )
    assert _reload(world, document).state == "brouillon"


def test_refusal_needs_a_reason_and_is_shown_to_the_secretariat(
    client, world, mailoutbox, django_capture_on_commit_callbacks
):
    document = orientation_at(world.a.conference, world.a.users, "delibere_epci")
    client.force_login(world.a.users[RoleName.PREFECTURE])
    url = _url(world, "orientation_refuse", document)
    response = client.post(url, {"base_version": 1, "comment": "  "})
    assert response.status_code == 200
    assert "Ce champ est obligatoire." in response.content.decode()
    assert _reload(world, document).state == "delibere_epci"
    mailoutbox.clear()
    reason = "Les objectifs de relogement des ménages DALO ne sont pas chiffrés."
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"base_version": 1, "comment": reason})
    assert response.status_code == 302
    assert _reload(world, document).state == "brouillon"
    assert [m.to[0] for m in mailoutbox] == SECRETARIAT_A
    assert "Agrément du document d'orientation refusé" in mailoutbox[0].subject
    assert reason in mailoutbox[0].body
    assert "Motif du refus" in mailoutbox[0].body
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    page = client.get(_url(world, "orientation_detail", document)).content.decode()
    assert "Agrément refusé par le préfet" in page
    assert reason in page
    # The circuit starts again from the consultation.
    assert "Ouvrir la consultation des membres" in page


def test_an_edit_after_submission_makes_a_version_and_restarts_the_circuit(
    client, world, mailoutbox, django_capture_on_commit_callbacks
):
    document = orientation_at(world.a.conference, world.a.users, "adopte_cil")
    with conference_scope(world.a.conference):
        key = sections_of(document.current_version)[0].key
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    edit = _url(world, "orientation_section_edit", document, section_key=key)
    assert "ramène au brouillon" in client.get(edit).content.decode()
    response = client.post(
        edit,
        {"title": "Mixité", "body": "Texte corrigé après l'adoption.", "base_version": 1},
        follow=True,
    )
    content = response.content.decode()
    assert "il revient au brouillon et le circuit d&#x27;approbation reprend" in content
    document = _reload(world, document)
    assert document.state == "brouillon"
    assert document.current_version.number == 2
    with conference_scope(world.a.conference):
        last = OrientationTransition.objects.filter(document=document).order_by("-at", "-id")[0]
    assert last.name == "reprendre"
    assert (last.from_state, last.to_state) == ("adopte_cil", "brouillon")
    assert last.actor == world.a.users[RoleName.SECRETARIAT]
    assert last.data == {"version": 2, "motif": "Section « Mixité » modifiée"}
    assert "Reprise après modification" in content
    # The délibération of the adopted text is no longer possible: adoption comes first again.
    response = client.post(_url(world, "orientation_deliberate", document), _form("deliberer"))
    assert response.status_code == 302
    assert _reload(world, document).state == "brouillon"
    # And the consultation reopens for version 2, with its e-mails.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_url(world, "orientation_submit", document), _form("soumettre", base_version=2))
    assert _reload(world, document).state == "consultation"
    assert "version 2" in mailoutbox[-1].body


def test_a_step_prepared_on_an_older_version_is_refused(client, world):
    document = orientation_at(world.a.conference, world.a.users, "delibere_epci")
    with conference_scope(world.a.conference):
        key = sections_of(document.current_version)[0].key
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    client.post(
        _url(world, "orientation_section_edit", document, section_key=key),
        {"title": "Mixité", "body": "Changé", "base_version": 1},
    )
    assert _reload(world, document).state == "brouillon"
    response = client.post(_url(world, "orientation_submit", document), _form("soumettre"))
    assert response.status_code == 200
    assert "Le document a changé entre-temps (version 2)" in response.content.decode()


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (lambda: pdf_upload("deliberation.txt"), "Le fichier doit être un PDF (extension .pdf)."),
        (lambda: pdf_upload(content=b"MZ\x90\x00 pas un PDF"), "Le fichier n&#x27;est pas un PDF valide."),
        (lambda: None, "Ce champ est obligatoire."),
    ],
)  # fmt: skip
def test_the_deliberation_pdf_is_checked(client, world, upload, message):
    document = orientation_at(world.a.conference, world.a.users, "adopte_cil")
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    data = _form("deliberer")
    file = upload()
    if file is None:
        del data["deliberation"]
    else:
        data["deliberation"] = file
    response = client.post(_url(world, "orientation_deliberate", document), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert _reload(world, document).state == "adopte_cil"


def test_the_deliberation_pdf_has_a_size_limit(client, world, monkeypatch):
    from conventions import services_orientations

    monkeypatch.setattr(services_orientations, "MAX_ATTACHMENT_BYTES", 1024 * 1024)
    document = orientation_at(world.a.conference, world.a.users, "adopte_cil")
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    big = pdf_upload(content=PDF_BYTES + b"0" * (1024 * 1024))
    response = client.post(
        _url(world, "orientation_deliberate", document), _form("deliberer", deliberation=big)
    )
    assert "Le fichier dépasse 1 Mo." in response.content.decode()
    assert _reload(world, document).state == "adopte_cil"


def test_dates_and_vote_are_checked(client, world):
    """The adoption comes from the vote of a session (cil/governance): a session yet to come
    records no vote, a tie adopts nothing, and the délibération may not precede the
    session that adopted the document."""
    from django.core.exceptions import ValidationError

    document = orientation_at(world.a.conference, world.a.users, "consultation")
    with pytest.raises(ValidationError, match="La séance n'a pas encore eu lieu"):
        adopt_in_session(world.a, document, day=timezone.localdate() + timedelta(days=1))
    decision = adopt_in_session(world.a, document, pour=3, contre=3, abstention=1)
    assert not decision.adopted
    assert _reload(world, document).state == "consultation"
    adopt_in_session(world.a, document)  # 20 days ago, 5 for, 1 against, 1 abstention
    assert _reload(world, document).state == "adopte_cil"
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    too_early = (step_data("adopter")["date_seance"] - timedelta(days=1)).isoformat()
    response = client.post(
        _url(world, "orientation_deliberate", document),
        _form("deliberer", date_deliberation=too_early),
    )
    assert "Cette date ne peut pas précéder celle de l&#x27;étape précédente" in (
        response.content.decode()
    )
    assert _reload(world, document).state == "adopte_cil"


def test_the_adoption_is_not_entered_by_hand(client, world):
    """The step « adopter » points to the sessions: no form, nothing posted changes it."""
    document = orientation_at(world.a.conference, world.a.users, "consultation")
    url = _url(world, "orientation_adopt", document)
    for role in set(RoleName) - PERMISSIONS["orientations.advance"]:
        client.force_login(world.a.users[role])
        assert client.get(url).status_code == 403, role
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    page = client.get(url).content.decode()
    assert "L'adoption n'est pas saisie à la main" in page
    assert "Aucune séance n'inscrit encore ce document à son ordre du jour." in page
    assert client.post(url, _form("adopter")).status_code == 405
    assert _reload(world, document).state == "consultation"
    client.force_login(world.b.users[RoleName.SECRETARIAT])
    assert client.get(url).status_code == 404


def test_a_revision_replaces_the_document_in_force(client, world):
    old = orientation_at(world.a.conference, world.a.users, "en_vigueur")
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    page = client.get(_url(world, "orientation_detail", old)).content.decode()
    assert "Préparer une révision" in page
    assert "Ajouter une section" not in page  # the text in force is not edited in place
    response = client.post(
        reverse("orientation_create", kwargs={"conference_slug": world.a.conference.slug}),
        {"title": "Orientations révisées", "start_from": "en_vigueur"},
    )
    assert response.status_code == 302
    with conference_scope(world.a.conference):
        new = OrientationDocument.objects.get(is_current=True)
        assert new.revises_id == old.pk
        assert [s.title for s in sections_of(new.current_version)] == [
            s.title for s in sections_of(_reload(world, old).current_version)
        ]
    old = _reload(world, old)
    assert (old.state, old.is_current) == ("en_vigueur", False)
    page = client.get(
        reverse("orientation_home", kwargs={"conference_slug": world.a.conference.slug})
    ).content.decode()
    assert "Orientations révisées" in page
    assert "Le document en vigueur reste" in page
    # Through the circuit: when the revision enters into force, the old one is replaced.
    from tests.conventions.orientations_support import take

    with conference_scope(world.a.conference):
        for step, _role in PATH:
            take(world.a.conference, world.a.users, new, step)
    old = _reload(world, old)
    assert old.state == "remplace"
    with conference_scope(world.a.conference):
        last = OrientationTransition.objects.filter(document=old).order_by("-id")[0]
    assert last.name == "remplacer"
    assert last.data["titre"] == "Orientations révisées"
    page = client.get(_url(world, "orientation_detail", old)).content.decode()
    assert "Il est conservé pour mémoire." in page
    assert "Préparer une révision" not in page  # read-only: no action on a past document
    assert "Ajouter une section" not in page


def test_the_secretariat_produces_the_sealed_pdf(client, world, django_capture_on_commit_callbacks):
    document = orientation_at(world.a.conference, world.a.users, "consultation")
    with conference_scope(world.a.conference):
        from conventions import services_orientations as services

        key = sections_of(document.current_version)[0].key
        services.orientation_section_save(
            conference=world.a.conference,
            actor=world.a.users[RoleName.SECRETARIAT],
            document=document,
            base_version=None,
            key=key,
            title="Mixité sociale",
            body="Un texte **important**.\n\n<script>alert(1)</script>",
            objective_r1="0.3",
        )
    client.force_login(world.a.users[RoleName.BAILLEUR])
    assert client.post(_url(world, "orientation_pdf", document)).status_code == 403
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    page = client.get(_url(world, "orientation_detail", document)).content.decode()
    assert "Produire le PDF de cette version" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url(world, "orientation_pdf", document), {"version": 2})
    assert response.status_code == 302
    with conference_scope(world.a.conference):
        produced = GeneratedDocument.objects.get(kind=DocumentKind.ORIENTATIONS)
    assert produced.status == DocumentStatus.READY, produced.error
    assert produced.view_permission == "orientations.view"
    text = flat(pdf_text(stored_bytes(produced)))
    assert "Mixité sociale" in text
    assert "Un texte important." in text
    assert "Objectif R1 : 30" in text
    assert "alert(1)" not in text
