"""The secretariat feeds the observatory in headless Chromium: a demand file with an error,
then corrected; an RPLS file of the whole département; the progress block polled by htmx
(no console error: the CSP allows no inline script).

Screenshots go to tests/artifacts/screenshots/<test name>/ (or $SCREENSHOT_DIR).
"""

import pytest

from cil.tenancy import conference_scope
from observatoire.models import Demand, Dwelling, ObservatoireImport
from tests.observatoire.test_import_support import csv_bytes, demand, demands, dwelling, make_place

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "mot-de-passe-solide-42"  # tests.factories.UserFactory


def _login(tab, base, user, slug):
    tab.goto(f"{base}/connexion/")
    tab.get_by_label("Adresse électronique").fill(user.email)
    tab.get_by_label("Mot de passe").fill(PASSWORD)
    tab.get_by_role("button", name="Se connecter").click()
    tab.wait_for_url(f"{base}/{slug}/")


def test_secretariat_imports_demands_then_the_rpls_offer(page, live_server, tmp_path):
    place = make_place()
    base = live_server.url
    _login(page, base, place.secretariat, place.slug)

    page.get_by_role("button", name="Observatoire").click()
    page.get_by_role("link", name="Imports de l'observatoire").click()
    assert page.get_by_role("heading", name="Imports de l'observatoire", level=1).is_visible()
    page.screens.shot("observatoire-imports-depot")

    wrong = tmp_path / "demandes.csv"
    wrong.write_bytes(
        csv_bytes([*demands(3), demand("X", communes_souhaitees="27229")], encoding="cp1252")
    )
    page.get_by_label("Demandes (extraction SNE, demandes v1)").check(force=True)
    page.get_by_label("Fichier à importer").set_input_files(str(wrong))
    page.get_by_role("button", name="Vérifier le fichier").click()
    main = page.get_by_role("main")
    main.get_by_text("Le fichier n'a pas été importé : 1 erreur").wait_for()
    assert "n'appartient pas au territoire" in main.inner_text()
    page.screens.shot("observatoire-demandes-erreurs")

    right = tmp_path / "demandes-corrige.csv"
    right.write_bytes(csv_bytes(demands(3), encoding="cp1252"))
    page.goto(f"{base}/{place.slug}/observatoire/imports/")
    page.get_by_label("Demandes (extraction SNE, demandes v1)").check(force=True)
    page.get_by_label("Fichier à importer").set_input_files(str(right))
    page.get_by_role("button", name="Vérifier le fichier").click()
    page.get_by_role("button", name="Confirmer l'import").wait_for()
    assert main.locator("#count-create").inner_text() == "3"
    page.get_by_role("button", name="Confirmer l'import").click()
    main.get_by_text("Import terminé").wait_for()
    with conference_scope(place.conference):
        assert Demand.objects.count() == 3

    rpls = tmp_path / "rpls2025.csv"
    rows = [
        dwelling("0000000001", QPV="1", FINAN="10"),
        dwelling("0000000002", "76541", FINAN="77"),
        dwelling("0000000003", "27229"),
        dwelling("0000000004", "14118"),
    ]
    rpls.write_bytes(csv_bytes(rows, bom=True))
    page.goto(f"{base}/{place.slug}/observatoire/imports/")
    page.get_by_label("Offre (RPLS)").check(force=True)
    page.get_by_label("Année").fill("2025")
    page.get_by_label("Fichier à importer").set_input_files(str(rpls))
    page.get_by_role("button", name="Vérifier le fichier").click()
    page.get_by_role("button", name="Confirmer l'import").wait_for()
    assert "2 lignes d'autres communes ignorées" in main.inner_text()
    assert "1 logement au code de financement inconnu (77)" in main.inner_text()
    page.screens.shot("observatoire-rpls-apercu")
    page.get_by_role("button", name="Confirmer l'import").click()
    main.get_by_text("Import terminé").wait_for()
    page.screens.shot("observatoire-rpls-termine")
    with conference_scope(place.conference):
        assert Dwelling.objects.count() == 2

    page.goto(f"{base}/{place.slug}/observatoire/imports/")
    page.screens.shot("observatoire-imports-liste")
    assert page.console_errors == []


def test_observatoire_import_progress_is_polled_until_the_check_ends(page, live_server):
    place = make_place()
    with conference_scope(place.conference):
        job = ObservatoireImport.objects.create(
            conference=place.conference,
            kind="rpls",
            year=2025,
            created_by=place.secretariat,
            filename="rpls2025_detail.csv",
            file="observatoire/gros.csv",
            sha256="0" * 64,
            total_lines=400_000,
            processed_lines=100_000,
        )
    base = live_server.url
    _login(page, base, place.secretariat, place.slug)
    page.goto(f"{base}/{place.slug}/observatoire/imports/{job.public_id}/")
    main = page.get_by_role("main")
    assert "25 %" in main.inner_text()
    page.screens.shot("observatoire-progression")
    with conference_scope(place.conference):
        ObservatoireImport.objects.filter(pk=job.pk).update(processed_lines=300_000)
    main.locator("strong", has_text="75 %").wait_for()
    with conference_scope(place.conference):
        ObservatoireImport.objects.filter(pk=job.pk).update(
            status="ready",
            counts={"lines": 1200, "create": 1200, "ignored": 398_799, "communes": ["76540"]},
        )
    page.get_by_role("button", name="Confirmer l'import").wait_for()
    page.screens.shot("observatoire-apercu-apres-progression")
    assert page.console_errors == []
