"""The CIA in headless Chromium: the secretariat enters the objectives and puts the version to
signature, a bailleur designates itself and signs with its password, an élu reads the page.

Screenshots go to tests/artifacts/screenshots/<test name>/ (or $SCREENSHOT_DIR).
"""

import pytest

from conventions.models import Signatory
from tests.conventions.test_cia_support import PASSWORD, build_cia_world, create_cia

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(page, base, world, name):
    page.goto(f"{base}/connexion/")
    page.get_by_label("Adresse électronique").fill(world.users[name].email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{base}/{world.conference.slug}/")


def _logout(page):
    page.get_by_role("button", name="Se déconnecter").first.click()


def test_objectives_signature_and_reading(page, live_server):
    base = live_server.url
    world = build_cia_world()
    convention = create_cia(world, start=2025, end=2027)
    slug = world.conference.slug

    _login(page, base, world, "epci")
    page.goto(f"{base}/{slug}/cia/")
    page.get_by_role("link", name="CIA de test").click()
    page.get_by_role("link", name="Objectifs des bailleurs").click()
    page.get_by_label("R1 2025 — Habitat 1 (%)").fill("32,5")
    page.get_by_label("R3 2025 — Habitat 1 (%)").fill("abc")
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_role("main").get_by_text("Saisissez un pourcentage entre 0 et 100").first.wait_for()
    page.screens.shot("grille-erreur")
    page.get_by_label("R3 2025 — Habitat 1 (%)").fill("30")
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_role("main").get_by_text("32,5 %").first.wait_for()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Mettre en signature").click()
    page.get_by_role("main").get_by_text("Document soumis à signature").first.wait_for()
    page.screens.shot("cia-en-signature")
    _logout(page)

    _login(page, base, world, "bailleur1")
    page.goto(f"{base}/{slug}/cia/{convention.public_id}/")
    page.get_by_role("link", name="Désigner un signataire").click()
    page.get_by_label("Personne qui signe").select_option(str(world.users["bailleur1"].public_id))
    page.get_by_role("button", name="Désigner").click()
    page.get_by_role("link", name="Signer", exact=True).click()
    page.screens.shot("signature")
    page.get_by_label("J'ai pris connaissance").check(force=True)
    page.get_by_label("Votre mot de passe").fill("faux")
    page.get_by_role("button", name="Signer").click()
    page.get_by_role("main").get_by_text("Mot de passe incorrect").first.wait_for()
    page.get_by_label("J'ai pris connaissance").check(force=True)
    page.get_by_label("Votre mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Signer").click()
    page.get_by_text("Vous avez signé la version au nom de Habitat 1.").first.wait_for()
    with world.scope():
        assert Signatory.objects.get(organisation=world.orgs["bailleur1"]).has_signed
    _logout(page)

    _login(page, base, world, "commune")
    page.goto(f"{base}/{slug}/cia/{convention.public_id}/")
    text = page.get_by_role("main").inner_text()
    assert "Habitat 1" in text
    assert "en attente" in text.lower()  # DSFR badges are upper-cased
    page.screens.shot("cia-elu")
    assert not page.console_errors, page.console_errors
