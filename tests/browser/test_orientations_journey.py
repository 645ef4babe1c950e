"""The document d'orientation in headless Chromium: the secretariat drafts and opens the
consultation, a bailleur comments, the secretariat resolves and compares two versions.
No console error (a CSP violation fails the test). Screenshots in
tests/artifacts/screenshots/<test name>/."""

import re

import pytest

from cil.roles import RoleName
from tests.world import build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "mot-de-passe-solide-42"  # tests.factories.UserFactory


def _login(page, base, email):
    page.context.clear_cookies()
    page.goto(f"{base}/connexion/")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{base}/conf-a/")


def test_draft_consult_comment_resolve_compare(page, live_server):
    world = build_world()
    base = live_server.url
    home = f"{base}/conf-a/orientations/"

    _login(page, base, world.a.users[RoleName.SECRETARIAT].email)
    page.goto(home)
    page.get_by_role("link", name="Rédiger le document d'orientation").click()
    page.get_by_label("Intitulé").fill("Orientations 2026-2031")
    page.get_by_role("button", name="Créer le document").click()
    # Not f"{home}*/": the creation page's own URL (…/nouveau/) matches that already.
    page.wait_for_url(re.compile(r".*/orientations/[0-9a-f-]{36}/$"))
    document_url = page.url
    page.get_by_role("link", name="Modifier").first.click()
    page.get_by_label("Texte").fill(
        "Les bailleurs consacrent **au moins 30 %** des attributions hors QPV au premier quartile.\n\n"
        "- priorité aux ménages relogés (NPNRU)\n- suivi annuel"
    )
    page.get_by_label("Objectif R1").fill("30")
    page.get_by_role("button", name="Enregistrer").click()
    # The edit page's own URL starts with document_url: wait for the result, not the URL.
    page.get_by_text("Modification enregistrée : version 2.").wait_for()
    page.screens.shot("document-brouillon")
    page.get_by_role("link", name="Ouvrir la consultation des membres").click()
    page.get_by_role("button", name="Ouvrir la consultation des membres").click()
    page.wait_for_url(document_url)
    assert "Consultation des membres" in page.get_by_role("heading", level=3).first.inner_text()

    _login(page, base, world.a.users[RoleName.BAILLEUR].email)
    page.goto(document_url)
    page.get_by_label("Commenter cette section").first.fill("30 % nous semble ambitieux.")
    page.get_by_role("button", name="Publier le commentaire").first.click()
    page.wait_for_url(f"{document_url}#section-*")
    assert "30 % nous semble ambitieux." in page.content()
    page.screens.shot("commentaire-bailleur")

    _login(page, base, world.a.users[RoleName.SECRETARIAT].email)
    page.goto(document_url)
    page.get_by_role("button", name="Marquer comme résolu").click()
    page.wait_for_url(f"{document_url}#section-*")
    page.get_by_text("1 commentaire résolu").click()  # opens the <details>
    page.screens.shot("commentaire-resolu")
    page.get_by_role("link", name="Modifier").first.click()
    page.get_by_label("Objectif R1").fill("28")
    page.get_by_label("Texte").fill(
        "Les bailleurs consacrent **au moins 28 %** des attributions hors QPV au premier quartile.\n\n"
        "- priorité aux ménages relogés (NPNRU)\n- suivi annuel"
    )
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("le circuit d'approbation reprend").first.wait_for()
    page.get_by_role("link", name="Versions").click()
    page.get_by_role("button", name="Comparer").click()
    page.get_by_text("Section modifiée").first.wait_for()
    page.screens.shot("comparaison-versions")
    assert page.console_errors == []
