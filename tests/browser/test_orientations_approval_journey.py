"""The préfet's agrément of the document d'orientation in headless Chromium (CCH L.441-1-5).

A document at the step « approuvé par délibération de l'EPCI » (built through the services):
the prefecture agent opens it from the menu, reads the history of the circuit, then approves
it; in a second run the agent refuses it with a reason, and the secretariat reads the reason.
No console error (a CSP violation fails the test). Screenshots in
tests/artifacts/screenshots/<test name>/, with the first page of the approved document's PDF.
"""

import subprocess

import pytest
from django.utils import timezone

from cil.roles import RoleName
from cil.tenancy import conference_scope
from conventions.circuit import State
from conventions.models import DocumentKind, DocumentStatus, GeneratedDocument
from conventions.models.orientations import OrientationDocument
from tests.browser.conftest import SCREENSHOTS
from tests.conventions.orientations_support import orientation_at
from tests.world import build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "mot-de-passe-solide-42"  # tests.factories.UserFactory
REFUSAL = (
    "La section « Attributions et mutations dans le parc social » ne fixe aucun objectif "
    "chiffré de mutation : complétez-la avant une nouvelle délibération."
)


def _login(page, base, email):
    page.context.clear_cookies()
    page.goto(f"{base}/connexion/")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{base}/conf-a/")


def _open_from_the_menu(page, document):
    page.get_by_role("link", name="Document d'orientation").first.click()
    page.get_by_role("heading", level=1, name=document.title).wait_for()


def _state(document) -> str:
    with conference_scope(document.conference):
        return OrientationDocument.objects.get(pk=document.pk).state


def _first_page_png(document: GeneratedDocument, name: str) -> str:
    """The first page of a produced PDF, as a PNG next to the screenshots (pdftoppm)."""
    folder = SCREENSHOTS / name
    folder.mkdir(parents=True, exist_ok=True)
    pdf = folder / "document-orientation.pdf"
    with document.file.open("rb") as handle:
        pdf.write_bytes(handle.read())
    prefix = folder / "document-orientation-page"
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", pdf, prefix],
        check=True,
    )
    return f"{prefix}.png"


def test_the_prefecture_agent_approves_the_orientations(page, live_server, request):
    world = build_world()
    base = live_server.url
    users = world.a.users
    document = orientation_at(world.a.conference, users, State.DELIBERE_EPCI)

    _login(page, base, users[RoleName.PREFECTURE].email)
    _open_from_the_menu(page, document)
    main = page.get_by_role("main")
    history = page.get_by_role("table", name="Historique du circuit d'approbation")
    # The history tells the agent what was decided before: the plenary vote, the EPCI's
    # délibération and its PDF.
    history.get_by_text("Enregistrer la délibération de l'EPCI").wait_for()
    history_text = history.inner_text()
    assert "Numéro de la délibération : 2026-117" in history_text
    assert "Voix pour : 40" in history_text
    assert history.get_by_role("link", name="Délibération (PDF)").is_visible()
    page.screens.shot("document-a-agreer")

    page.get_by_role("link", name="Agréer le document d'orientation").click()
    page.get_by_label("Date de l'agrément").fill(timezone.localdate().isoformat())
    page.screens.shot("formulaire-agrement")
    page.get_by_role("button", name="Agréer le document d'orientation").click()
    page.get_by_text("le document est à l'état « agréé par le préfet »").wait_for()
    assert _state(document) == State.AGREE_PREFET
    assert history.get_by_text("Agréer le document d'orientation").is_visible()
    # Agreed: the agent has no step left to take; the secretariat declares the entry into force.
    assert main.get_by_role("link", name="Refuser l'agrément").count() == 0
    page.screens.shot("document-agree")

    # The agent produces the sealed PDF of the approved version (HOUSEHOLD_READERS generate).
    page.get_by_role("button", name="Produire le PDF de cette version").click()
    page.get_by_text("est lancée").first.wait_for()
    page.screens.shot("documents-produits")
    with conference_scope(world.a.conference):
        produced = GeneratedDocument.objects.get(kind=DocumentKind.ORIENTATIONS)
    assert produced.status == DocumentStatus.READY, produced.error
    _first_page_png(produced, request.node.name)
    assert page.console_errors == []


def test_the_prefecture_agent_refuses_and_the_secretariat_reads_the_reason(page, live_server):
    world = build_world()
    base = live_server.url
    users = world.a.users
    document = orientation_at(world.a.conference, users, State.DELIBERE_EPCI)

    _login(page, base, users[RoleName.PREFECTURE].email)
    _open_from_the_menu(page, document)
    page.get_by_role("link", name="Refuser l'agrément").click()
    # The reason is required: an empty one is refused in French, nothing is recorded.
    page.get_by_role("button", name="Refuser l'agrément").click()
    page.get_by_role("main").get_by_text("Ce champ est obligatoire").first.wait_for()
    assert _state(document) == State.DELIBERE_EPCI
    page.screens.shot("refus-sans-motif")
    page.get_by_label("Motif du refus").fill(REFUSAL)
    page.get_by_role("button", name="Refuser l'agrément").click()
    page.get_by_text("le document est à l'état « brouillon »").wait_for()
    assert _state(document) == State.BROUILLON

    _login(page, base, users[RoleName.SECRETARIAT].email)
    _open_from_the_menu(page, document)
    alert = page.get_by_role("main").locator(".fr-alert--error")
    alert.get_by_text("Agrément refusé par le préfet").wait_for()
    assert REFUSAL in " ".join(alert.inner_text().split())
    history = page.get_by_role("table", name="Historique du circuit d'approbation")
    assert f"Motif du refus : {REFUSAL}" in " ".join(history.inner_text().split())
    page.screens.shot("secretariat-lit-le-motif")
    assert page.console_errors == []
