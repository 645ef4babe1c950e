"""The bilan in headless Chromium, on the demo data: a bailleur sees its gaps, an élu sees
aggregates under statistical secrecy, the secretariat sorts the bailleurs and exports.

Screenshots go to tests/artifacts/screenshots/<test name>/ (or $SCREENSHOT_DIR).
"""

import io

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SLUG = "agglo-val-de-seine"


@pytest.fixture
def demo():
    call_command("load_demo", stdout=io.StringIO())


def _login(page, base, email):
    page.goto(f"{base}/connexion/")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill("demo")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{base}/{SLUG}/")


def test_bilan_as_bailleur_elu_and_secretariat(page, live_server, demo):
    base = live_server.url

    _login(page, base, f"bailleur@{SLUG}.demo")
    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Bilan").click()
    page.get_by_label("Année").select_option("2025")
    page.get_by_role("button", name="Afficher").click()
    main = page.get_by_role("main")
    assert "Vos indicateurs — Val-de-Seine Habitat (OPH)" in main.inner_text()
    assert "Il manque" in main.inner_text()
    assert page.locator("svg[role=img]").count() >= 2
    page.screens.shot("bilan-bailleur")
    page.get_by_role("button", name="Se déconnecter").first.click()

    _login(page, base, f"elu@{SLUG}.demo")
    page.goto(f"{base}/{SLUG}/bilan/?annee=2025")
    text = page.get_by_role("main").inner_text()
    assert "Secret statistique" in text
    assert "Val-de-Seine Habitat" not in text  # no bailleur detail for an élu
    page.screens.shot("bilan-elu")
    page.get_by_role("button", name="Se déconnecter").first.click()

    _login(page, base, f"secretariat@{SLUG}.demo")
    page.goto(f"{base}/{SLUG}/bilan/?annee=2025")
    page.get_by_role("link", name="R1 hors QPV → Q1").click()
    first_row = page.locator("table").nth(0).locator("tbody tr").first.inner_text()
    assert "Caux Logement" in first_row  # the lowest R1 first
    page.screens.shot("bilan-secretariat-tri-r1")
    with page.expect_download() as download:
        page.get_by_role(
            "link", name="Exporter ce tableau CSV — séparateur point-virgule"
        ).first.click()
    assert download.value.suggested_filename == f"bilan-{SLUG}-2025-bailleurs.csv"
    assert page.console_errors == []
