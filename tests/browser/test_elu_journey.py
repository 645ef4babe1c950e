"""An élu's journey in headless Chromium, on the demo data: the territory map, another
indicator chosen in the form, a click on a commune of the map, its page in plain French.
No console error (a CSP violation fails the test). Screenshots in
tests/artifacts/screenshots/<test name>/."""

import io

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SLUG = "agglo-val-de-seine"


@pytest.fixture
def demo():
    # The observatory's demo step ends with the boundaries of the map (observatoire.demo_map).
    call_command("load_demo", stdout=io.StringIO())


def test_an_elu_reads_the_map_and_a_commune_page(page, live_server, demo):
    base = live_server.url
    page.goto(f"{base}/connexion/")
    page.get_by_label("Adresse électronique").fill(f"elu@{SLUG}.demo")
    page.get_by_label("Mot de passe").fill("demo")
    page.get_by_role("button", name="Se connecter").click()
    menu = page.get_by_role("navigation", name="Menu principal")
    menu.get_by_role("button", name="Observatoire").click()
    menu.get_by_role("link", name="Carte du territoire").click()

    main = page.get_by_role("main")
    main.get_by_role("heading", name="Carte du territoire").wait_for()
    svg = main.locator("svg.obs-map")
    assert svg.locator("a").count() == 12  # one link per commune of Val-de-Seine
    assert "Secret statistique" in main.inner_text()
    page.screens.shot("carte-part-q1-hors-qpv")

    # Another indicator, through the form (no JavaScript needed).
    page.get_by_label("Indicateur").select_option(label="Nombre d'attributions")
    page.get_by_label("Année").select_option("2025")
    page.get_by_role("button", name="Afficher").click()
    main.get_by_role("heading", name="Nombre d'attributions — 2025").wait_for()
    assert main.get_by_role("table").get_by_role("link", name="Seineville").count() == 1
    page.screens.shot("carte-attributions-2025")

    # A click on Seineville on the map opens its page.
    svg.locator('a[data-insee="76350"]').click()
    main.get_by_role("heading", name="Seineville", exact=True).wait_for()
    text = main.inner_text()
    assert "logements sociaux ont été attribués à Seineville" in text
    assert "Sur 100 logements attribués à Seineville en 2025" in text
    assert "Règle R1" in text
    assert "Les Hauts de Seineville (QN07621M)" in text
    assert main.locator("svg.cil-chart").count() == 1
    assert main.locator("svg.obs-map--locator a").count() == 11  # its neighbours
    page.wait_for_load_state("load")  # styles and scripts applied
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280  # no sideways scroll
    page.screens.shot("commune-seineville-2025")

    # The list of communes, then a small commune.
    menu.get_by_role("button", name="Observatoire").click()
    menu.get_by_role("link", name="Communes").click()
    main.get_by_role("heading", name="Les communes du territoire").wait_for()
    main.get_by_role("link", name="Belbeuf-les-Côtes").click()
    main.get_by_role("heading", name="Belbeuf-les-Côtes", exact=True).wait_for()
    assert "Aucun quartier prioritaire" in main.inner_text()
    page.screens.shot("commune-belbeuf")
    assert page.console_errors == []


def test_the_secretariat_uploads_the_boundaries(page, live_server, tmp_path):
    """The upload refuses a broken file with its errors, then takes a good one and warns of
    the commune it lacks; the map appears."""
    from cil.roles import RoleName
    from tests.observatoire.test_map_support import (
        build_territory,
        collection,
        encode,
        feature,
        square,
        standard_leases,
    )

    territory = build_territory()
    standard_leases(territory)
    base = live_server.url
    page.goto(f"{base}/connexion/")
    page.get_by_label("Adresse électronique").fill(territory.users[RoleName.SECRETARIAT].email)
    page.get_by_label("Mot de passe").fill("mot-de-passe-solide-42")  # tests.factories
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("navigation", name="Menu principal").wait_for()
    page.goto(f"{base}/conf-carte/observatoire/carte/")
    main = page.get_by_role("main")
    main.get_by_role("heading", name="Pas encore de carte").wait_for()
    main.get_by_role("link", name="Importer les contours des communes").click()

    broken = collection(feature("76101"), feature("76999", square(1.02, 49.4)))
    broken["features"][0]["geometry"]["coordinates"][0][1] = [1.02, "49.4"]
    path = tmp_path / "communes.geojson"
    path.write_bytes(encode(broken))
    page.get_by_label("Fichier des contours des communes (GeoJSON)").set_input_files(str(path))
    page.get_by_role("button", name="Charger le fichier").click()
    main.get_by_text("Le fichier n'a pas été chargé : 2 erreurs").wait_for()
    page.screens.shot("contours-refuses")

    good = collection(feature("76101"), feature("76102", square(1.02, 49.4)))
    path.write_bytes(encode(good))
    page.get_by_label("Fichier des contours des communes (GeoJSON)").set_input_files(str(path))
    page.get_by_role("button", name="Charger le fichier").click()
    page.get_by_text("Carte du territoire chargée : 2 communes dessinées").wait_for()
    assert "absentes du fichier, non dessinées : Petit-Village (76103)" in page.inner_text("body")
    assert main.locator("svg.obs-map a").count() == 2
    page.screens.shot("contours-charges")
    assert page.console_errors == []
