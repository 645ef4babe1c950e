"""The secretariat runs a session of the conference in headless Chromium, from the
convocation to the minutes: it creates the session, composes the agenda (a document
attached, the adoption of the document d'orientation), sends the convocations, records the
attendance (the quorum updates live), records the vote that adopts the document
d'orientation, closes the session, drafts the minutes and issues their sealed PDF.
No console error (a CSP violation fails the test). Screenshots in
tests/artifacts/screenshots/<test name>/, with the first page of the minutes' PDF."""

import re
import subprocess

import pytest
from django.core import mail
from django.utils import timezone

from cil.governance.models import Decision, Minutes
from cil.roles import RoleName
from cil.tenancy import conference_scope
from conventions.circuit import State
from conventions.models import DocumentStatus
from conventions.models.orientations import OrientationDocument
from tests.browser.conftest import SCREENSHOTS
from tests.conventions.orientations_support import orientation_at
from tests.governance.support import add_member
from tests.world import build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "mot-de-passe-solide-42"  # tests.factories.UserFactory
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _login(page, base, email):
    page.context.clear_cookies()
    page.goto(f"{base}/connexion/")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{base}/conf-a/")


def _menu(page, group, link):
    nav = page.get_by_role("navigation", name="Menu principal")
    nav.get_by_role("button", name=group).click()
    nav.get_by_role("link", name=link).click()


def _row(page, name: str):
    """The sheet's line of a member (its name is the line's only <strong>)."""
    return page.locator("tr.gov-sheet__row").filter(
        has=page.locator("strong", has_text=re.compile(f"^{re.escape(name)}$"))
    )


def _mark(page, name: str, status: str, holder: str | None = None):
    """One line of the attendance sheet, saved by htmx (the page does not reload)."""
    row = _row(page, name)
    row.get_by_label("Présence").select_option(label=status)
    if holder:
        row.get_by_label("Pouvoir donné à").select_option(label=holder)
    row.get_by_role("button", name="Enregistrer").click()
    _row(page, name).get_by_text("Enregistré").wait_for()


def _first_page_png(document, name: str) -> str:
    folder = SCREENSHOTS / name
    folder.mkdir(parents=True, exist_ok=True)
    pdf = folder / "proces-verbal.pdf"
    with document.file.open("rb") as handle:
        pdf.write_bytes(handle.read())
    prefix = folder / "proces-verbal-page"
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", pdf, prefix],
        check=True,
    )
    return f"{prefix}.png"


def test_the_secretariat_runs_a_session_from_convocation_to_minutes(
    page, live_server, request, tmp_path
):
    now = timezone.localtime()
    if (now.hour, now.minute) >= (23, 50):
        pytest.skip("La séance du jour doit commencer après l'envoi des convocations (23 h 59).")
    world = build_world()
    conference = world.a.conference
    document = orientation_at(conference, world.a.users, State.CONSULTATION)
    add_member(conference, "Ville de Seineville", college=1, suppleant=True)
    add_member(conference, "Département de Seine-et-Caux", college=1)
    add_member(conference, "Confédération des locataires", college=3)
    base = live_server.url
    page.on("dialog", lambda dialog: dialog.accept())  # « Clore la séance ? »

    _login(page, base, world.a.users[RoleName.SECRETARIAT].email)
    _menu(page, "Instances", "Séances")
    page.get_by_role("heading", level=1, name="Séances de la conférence").wait_for()
    page.get_by_role("link", name="Nouvelle séance").click()
    # Today at 23:59: convened before it starts, attendance and votes open (the session's day).
    page.get_by_label("Intitulé").fill("Séance plénière")
    page.get_by_label("Date").fill(timezone.localdate().isoformat())
    page.get_by_label("Heure de début").fill("23:59")
    page.get_by_label("Lieu").fill("Hôtel d'agglomération, salle du conseil")
    page.get_by_label("Lien de visioconférence").fill("https://visio.exemple.fr/cil")
    page.screens.shot("nouvelle-seance")
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_url(re.compile(r".*/seances/[0-9a-f-]{36}/$"))
    meeting_url = page.url

    # The agenda: a presentation with its document, then the adoption of the orientations.
    page.get_by_role("link", name="Ajouter un point").click()
    page.locator("label[for=id_kind_0]").click()
    page.get_by_label("Intitulé").fill("Présentation du bilan annuel 2025")
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("Point 1 enregistré").wait_for()
    page.get_by_role("link", name="Joindre un document").click()
    note = tmp_path / "Note de présentation.pdf"
    note.write_bytes(PDF)
    page.locator("input[type=file]").set_input_files(str(note))
    page.get_by_role("button", name="Joindre").click()
    page.get_by_text("est joint au point 1").wait_for()
    page.get_by_role("link", name="Ajouter un point").click()
    page.locator("label[for=id_kind_2]").click()
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("Point 2 enregistré").wait_for()
    page.screens.shot("ordre-du-jour")

    # Convocations: the preview of the e-mail, then the sending.
    page.get_by_role("link", name="Convocations").click()
    page.get_by_role("heading", name="Aperçu du courriel d'un titulaire").wait_for()
    page.screens.shot("convocations-apercu")
    mail.outbox.clear()
    page.get_by_role("button", name="Envoyer les convocations").click()
    page.get_by_text("courriels de convocation envoyés").wait_for()
    page.screens.shot("convocations-envoyees")
    subjects = {m.subject.split(" : ")[0] for m in mail.outbox}
    assert subjects == {"Convocation", "Pour information"}
    assert all(any(a[0] == "seance.ics" for a in m.attachments) for m in mail.outbox)

    # Attendance: the quorum updates with each line.
    page.goto(meeting_url)
    page.get_by_role("link", name="Feuille de présence").click()
    quorum = page.locator("#quorum-panel")
    quorum.get_by_text("Quorum non atteint").wait_for()
    with conference_scope(conference):
        world_members = [m.organisation.name for m in world.a.conference.memberships.all()]
    assert len(world_members) == 10  # 7 in college 2, Seineville and the Département, the tenants
    for name in (
        "Ville de Seineville",
        "Département de Seine-et-Caux",
        "Confédération des locataires",
    ):
        _mark(page, name, "Présent")
    college_2 = sorted(
        n
        for n in world_members
        if n
        not in {
            "Ville de Seineville",
            "Département de Seine-et-Caux",
            "Confédération des locataires",
        }
    )
    for name in college_2[:2]:
        _mark(page, name, "Présent")
    quorum.get_by_text("Quorum atteint").wait_for()
    _mark(page, college_2[2], "Représenté (pouvoir)", holder=college_2[0])
    _mark(page, college_2[3], "Excusé")
    quorum.get_by_text("6 membres présents ou représentés sur 10").wait_for()
    page.screens.shot("feuille-de-presence-quorum")

    # The vote adopting the document d'orientation.
    page.goto(meeting_url)
    page.get_by_role("link", name="Enregistrer le vote").click()
    page.get_by_label("Pour — Collège 1 — collectivités territoriales").fill("2")
    page.get_by_label("Pour — Collège 2 — professionnels des attributions").fill("2")
    page.get_by_label("Contre — Collège 2 — professionnels des attributions").fill("1")
    page.get_by_label("Pour — Collège 3 — usagers et associations").fill("1")
    page.screens.shot("vote")
    page.get_by_role("button", name="Enregistrer le vote").click()
    page.get_by_text("Point 2 adopté — décision n°").wait_for()
    page.screens.shot("seance-decision")
    with conference_scope(conference):
        assert OrientationDocument.objects.get(pk=document.pk).state == State.ADOPTE_CIL
        decision = Decision.objects.get()
        assert (decision.pour, decision.contre, decision.abstention) == (5, 1, 0)

    # The orientation's circuit shows the decision.
    page.goto(f"{base}/conf-a/orientations/{document.public_id}/")
    page.get_by_role("link", name=f"Décision n° {decision.reference} de la conférence").wait_for()
    page.screens.shot("orientations-adopte-cil")

    # Close, draft the minutes, edit them, issue the sealed PDF.
    page.goto(meeting_url)
    page.get_by_role("button", name="Clore la séance").click()
    page.get_by_text("La séance est close").first.wait_for()
    page.get_by_role("button", name="Rédiger le procès-verbal").click()
    page.get_by_text("Le projet de procès-verbal est rédigé").wait_for()
    body = page.get_by_label("Texte du procès-verbal")
    text = body.input_value()
    assert "# Présences et quorum" in text
    body.fill(
        text.replace(
            "*Résumé des échanges : à compléter par le secrétariat.*",
            "Le secrétariat présente les **objectifs** ; la conférence en débat.",
            1,
        )
    )
    page.get_by_role("button", name="Aperçu").click()
    page.get_by_role("heading", name="Aperçu").wait_for()
    page.screens.shot("proces-verbal-redaction")
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("Le procès-verbal est enregistré.").wait_for()
    page.get_by_role("button", name="Produire le PDF scellé").click()
    page.get_by_text("télécharger le PDF scellé").wait_for()
    page.screens.shot("proces-verbal-pdf")
    with conference_scope(conference):
        minutes = Minutes.objects.select_related("document").get()
        assert minutes.document.status == DocumentStatus.READY, minutes.document.error
        _first_page_png(minutes.document, request.node.name)

    # A member reads the register.
    _login(page, base, world.a.users[RoleName.ELU].email)
    _menu(page, "Instances", "Décisions")
    page.get_by_role("link", name=decision.reference).wait_for()
    page.screens.shot("registre-elu")
    assert page.console_errors == [], page.console_errors
