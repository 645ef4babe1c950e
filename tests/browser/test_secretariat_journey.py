"""The demo secretariat's main journey in headless Chromium, with screenshots.

Screenshots go to tests/artifacts/screenshots/<test name>/ (or $SCREENSHOT_DIR).
"""

import io
import re

import pytest
from django.core import mail
from django.core.management import call_command

from cil.models import Conference, Membership, Organisation
from cil.tenancy import conference_scope
from tests.factories import next_siren

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SLUG = "agglo-val-de-seine"
OTHER = "cu-littoral-nord"


@pytest.fixture
def demo(settings):
    settings.DEBUG = False
    call_command("load_demo", stdout=io.StringIO())
    mail.outbox.clear()  # the demo's own notifications (document d'orientation circuit)


def _menu(page, group, link):
    """Open a sub-menu of the header, as a person does, then follow one of its links."""
    nav = page.get_by_role("navigation", name="Menu principal")
    nav.get_by_role("button", name=group).click()
    nav.get_by_role("link", name=link, exact=True).click()


def _login(page, base, email):
    page.goto(f"{base}/connexion/")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill("demo")
    page.get_by_role("button", name="Se connecter").click()


def test_secretariat_adds_a_member_invites_a_user_then_a_two_conference_agent_switches(
    page, live_server, demo
):
    base = live_server.url
    _login(page, base, f"secretariat@{SLUG}.demo")
    page.wait_for_url(f"{base}/{SLUG}/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Conférence intercommunale")
    page.screens.shot("accueil-secretariat")

    # Members, by college, then add one.
    _menu(page, "Conférence", "Membres")
    page.wait_for_url(f"{base}/{SLUG}/membres/")
    page.screens.shot("membres-par-college")
    page.get_by_role("link", name="Ajouter un membre").first.click()
    siren = next_siren()
    page.get_by_label("SIREN de l'organisation").fill(siren)
    page.get_by_label("Nom de l'organisation").fill("Association Toit Partagé")
    page.get_by_label("Type d'organisation").select_option("association")
    page.get_by_label("Collège").select_option("3")
    page.screens.shot("ajout-membre-formulaire")
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_url(f"{base}/{SLUG}/membres/")
    assert "Association Toit Partagé est membre de la conférence." in page.content()
    page.screens.shot("membre-ajoute")
    organisation = Organisation.objects.get(siren=siren)

    # Invite a person of that organisation.
    _menu(page, "Administration", "Utilisateurs")
    page.get_by_role("link", name="Inviter une personne").click()
    page.get_by_label("Adresse électronique").fill("benevole@toit-partage.fr")
    page.get_by_label("Organisation membre").select_option(str(organisation.public_id))
    page.get_by_label("Rôle").select_option("membre")
    page.screens.shot("invitation-formulaire")
    page.get_by_role("button", name="Envoyer l'invitation").click()
    page.wait_for_url(f"{base}/{SLUG}/utilisateurs/")
    assert "Une invitation a été envoyée à benevole@toit-partage.fr." in page.content()
    assert page.get_by_role("cell", name="benevole@toit-partage.fr").is_visible()
    page.screens.shot("invitation-envoyee")
    assert [m.to for m in mail.outbox] == [["benevole@toit-partage.fr"]]

    # The journal shows both changes.
    _menu(page, "Administration", "Journal")
    assert "Association Toit Partagé" in page.content()
    assert "benevole@toit-partage.fr" in page.content()
    page.screens.shot("journal")

    # The invitee accepts and lands in the conference as a membre.
    link = re.search(r"https?://[^/]+(/invitation/\S+/)", mail.outbox[0].body).group(1)
    page.get_by_role("button", name="Se déconnecter").first.click()
    page.goto(f"{base}{link}")
    page.get_by_label("Prénom").fill("Inès")
    page.get_by_label("Nom", exact=True).fill("Lambert")
    page.locator("#id_password1").fill("un-mot-de-passe-solide")
    page.get_by_label("Confirmation du mot de passe").fill("un-mot-de-passe-solide")
    page.get_by_role("button", name="Créer mon compte").click()
    page.wait_for_url(f"{base}/{SLUG}/")
    assert "Membre" in page.get_by_role("main").inner_text()
    page.screens.shot("invitee-accueil")
    page.get_by_role("button", name="Se déconnecter").first.click()

    # A DDETS agent with roles in both conferences switches between them from the header.
    _login(page, base, "multi@demo.demo")
    page.wait_for_url(f"{base}/conferences/")
    page.screens.shot("choix-conference")
    page.get_by_role("link", name=re.compile("Val-de-Seine")).click()
    page.wait_for_url(f"{base}/{SLUG}/")
    switcher = page.get_by_role("navigation", name="Changer de conférence").first
    switcher.get_by_role("button").click()
    page.screens.shot("selecteur-conference")
    switcher.get_by_role("link", name=re.compile("Littoral Nord")).click()
    page.wait_for_url(f"{base}/{OTHER}/")
    _menu(page, "Conférence", "Membres")
    content = page.content()
    assert "Association Toit Partagé" not in content  # a member of the other conference
    page.screens.shot("autre-conference-membres")

    with conference_scope(Conference.objects.get(slug=SLUG)):
        assert Membership.objects.filter(organisation=organisation).exists()
    assert page.console_errors == []
