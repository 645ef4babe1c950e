"""The observatory's analysis page in headless Chromium, on the demo data: the secretariat
opens it from the menu, enters the délai anormalement long, reads the waiting-time shares
and changes the year; an élu reads it under statistical secrecy. No console error (a CSP
violation fails the test). Screenshots in tests/artifacts/screenshots/<test name>/."""

import io

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SLUG = "agglo-val-de-seine"


def sign_in(page, base, role):
    page.goto(f"{base}/connexion/")
    page.get_by_label("Adresse électronique").fill(f"{role}@{SLUG}.demo")
    page.get_by_label("Mot de passe").fill("demo")
    page.get_by_role("button", name="Se connecter").click()


def open_observatoire(page):
    menu = page.get_by_role("navigation", name="Menu principal")
    menu.get_by_role("button", name="Observatoire").click()
    menu.get_by_role("link", name="Demande, offre, équilibre").click()
    page.get_by_role("heading", name="Demande", exact=True).wait_for()


def test_secretariat_and_elu_read_the_observatoire(page, live_server):
    call_command("load_demo", stdout=io.StringIO())
    base = live_server.url
    sign_in(page, base, "secretariat")
    open_observatoire(page)
    main = page.get_by_role("main")
    text = main.inner_text()
    assert "Seuil du premier quartile" in text
    assert "valeur du registre (arrêté)" in text
    assert "Secret statistique" not in text
    # The demo's (fictional) arrêté sets the délai anormalement long to 24 months.
    assert "ont atteint le délai anormalement long" in text
    assert "(24 mois)" in text
    page.screens.shot("observatoire-secretariat")

    # The délai anormalement long, corrected from the observatoire's settings.
    menu = page.get_by_role("navigation", name="Menu principal")
    menu.get_by_role("button", name="Observatoire").click()
    menu.get_by_role("link", name="Paramètres de l'observatoire").click()
    page.get_by_role("spinbutton", name="Délai anormalement long (en mois)").fill("18")
    page.get_by_role("textbox", name="Référence de l'arrêté").fill(
        "arrêté préfectoral du 2 mai 2024"
    )
    page.screens.shot("parametres")
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("Les paramètres de l'observatoire sont enregistrés.").wait_for()
    text = page.get_by_role("main").inner_text()
    assert "ont atteint le délai anormalement long" in text
    assert "(18 mois)" in text

    # Another year, through the form (no JavaScript needed).
    page.get_by_label("Année", exact=True).select_option("2025")
    page.get_by_role("button", name="Afficher").click()
    page.get_by_role("heading", name="Observatoire de la demande et de l'offre — 2025").wait_for()
    page.screens.shot("observatoire-2025")
    assert page.console_errors == []

    page.context.clear_cookies()
    sign_in(page, base, "elu")
    open_observatoire(page)
    text = page.get_by_role("main").inner_text()
    assert "Secret statistique" in text
    assert "Paramètres de l'observatoire" not in text
    page.get_by_role("link", name="Équilibre territorial").click()
    page.screens.shot("observatoire-elu")
    assert page.console_errors == []
