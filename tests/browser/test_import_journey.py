"""A bailleur imports its attributions in headless Chromium: upload, preview, confirmation; and
the progress block that htmx polls while a big file is checked (no console error: the CSP
allows no inline script).

Screenshots go to tests/artifacts/screenshots/<test name>/ (or $SCREENSHOT_DIR).
"""

import pytest

from attributions.models import Attribution, ImportJob, ImportStatus
from cil.tenancy import conference_scope
from tests.attributions.factories import row
from tests.attributions.test_import_support import csv_bytes, lines, make_place

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "mot-de-passe-solide-42"  # tests.factories.UserFactory


def _login(tab, base, user, slug):
    tab.goto(f"{base}/connexion/")
    tab.get_by_label("Adresse électronique").fill(user.email)
    tab.get_by_label("Mot de passe").fill(PASSWORD)
    tab.get_by_role("button", name="Se connecter").click()
    tab.wait_for_url(f"{base}/{slug}/")


def test_bailleur_imports_a_file(page, live_server, tmp_path):
    place = make_place()
    own, other = place.bailleurs
    user = place.bailleur_users[0]
    base = live_server.url
    _login(page, base, user, place.slug)

    page.get_by_role("main").get_by_role("link", name="Importer des attributions").click()
    assert page.get_by_role("heading", name="Importer des attributions").is_visible()
    page.screens.shot("import-depot")

    wrong = tmp_path / "attributions.csv"
    wrong.write_bytes(csv_bytes([*lines(own, 3), row(other, reference="AUTRE")], encoding="cp1252"))
    page.get_by_label("Fichier des attributions").set_input_files(str(wrong))
    page.get_by_role("button", name="Vérifier le fichier").click()
    main = page.get_by_role("main")
    main.get_by_text("Le fichier n'a pas été importé : 1 erreur").wait_for()
    assert "votre propre organisme" in main.inner_text()
    page.screens.shot("import-erreurs")

    right = tmp_path / "attributions-corrige.csv"
    right.write_bytes(csv_bytes(lines(own, 3), encoding="cp1252"))
    page.goto(f"{base}/{place.slug}/imports/")
    page.get_by_label("Fichier des attributions").set_input_files(str(right))
    page.get_by_role("button", name="Vérifier le fichier").click()
    page.get_by_role("button", name="Confirmer l'import").wait_for()
    assert main.locator("#count-create").inner_text() == "3"
    page.screens.shot("import-apercu")
    page.get_by_role("button", name="Confirmer l'import").click()
    main.get_by_text("Import terminé").wait_for()
    page.screens.shot("import-termine")
    with conference_scope(place.conference):
        assert Attribution.objects.count() == 3
    assert page.console_errors == []


def test_progress_is_polled_until_the_check_ends(page, live_server):
    place = make_place()
    user = place.bailleur_users[0]
    with conference_scope(place.conference):
        job = ImportJob.objects.create(
            conference=place.conference,
            created_by=user,
            acting_bailleur=user.organisation,
            filename="gros.csv",
            file="imports/gros.csv",
            sha256="0" * 64,
            total_lines=40_000,
            processed_lines=10_000,
        )
    base = live_server.url
    _login(page, base, user, place.slug)
    page.goto(f"{base}/{place.slug}/imports/{job.public_id}/")
    main = page.get_by_role("main")
    assert "25 %" in main.inner_text()
    page.screens.shot("import-progression")

    with conference_scope(place.conference):
        ImportJob.objects.filter(pk=job.pk).update(processed_lines=30_000)
    main.locator("strong", has_text="75 %").wait_for()  # the next poll swapped the block
    with conference_scope(place.conference):
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.READY, counts={"lines": 39_999, "create": 39_999}
        )
    page.get_by_role("button", name="Confirmer l'import").wait_for()  # htmx reloaded the page
    page.screens.shot("import-apercu-apres-progression")
    assert page.console_errors == []
