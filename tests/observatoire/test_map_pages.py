"""The territory map page over HTTP: one link and one path per commune, classes and legend,
the table under the map, statistical secrecy for aggregate-only roles, the GET form."""

import re

import pytest
from django.urls import reverse

from attributions import bilan_cache
from cil.roles import RoleName
from cil.tenancy import conference_scope
from observatoire.maps.classes import PALETTES
from observatoire.models import Demand
from observatoire.services_map import territory_map_upload
from tests.observatoire.test_map_support import (
    build_territory,
    encode,
    standard_leases,
    three_communes,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def territory():
    territory = build_territory()
    standard_leases(territory)
    return territory


@pytest.fixture
def drawn(territory):
    territory_map_upload(
        conference=territory.conference,
        actor=territory.users[RoleName.SECRETARIAT],
        filename="communes.geojson",
        content=encode(three_communes()),
    )
    return territory


def get(client, territory, role, query="", status=200):
    client.force_login(territory.users[role])
    url = reverse("observatoire_map", kwargs={"conference_slug": territory.conference.slug})
    response = client.get(url + query)
    assert response.status_code == status
    return response.content.decode()


def svg_of(content: str) -> str:
    return content[content.index("<svg") : content.index("</svg>")]


def table_rows(content: str) -> dict[str, list[str]]:
    table = content[content.index('id="valeurs"') :]
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", table[table.index("<tbody>") :], re.S):
        cells = [
            re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", row, re.S)
        ]
        rows[cells[0]] = cells[1:]
    return rows


def test_an_elu_sees_the_map_under_statistical_secrecy(client, drawn):
    content = get(client, drawn, RoleName.ELU)
    svg = svg_of(content)
    slug = drawn.conference.slug
    links = re.findall(r'<a href="([^"]+)"', svg)
    assert links == [
        f"/{slug}/observatoire/communes/{insee}/?annee=2025"
        for insee in ("76102", "76101", "76103")
    ]
    assert svg.count('class="obs-map__area ') == 3
    # Exempleville: 12 of 40 outside QPV. Bourg-sur-Mer is hidden so that Petit-Village's 5
    # attributions cannot be recomputed from the total; Petit-Village has fewer than 11.
    assert "<title>Exempleville : 30,0\u202f%</title>" in svg
    assert svg.count("obs-map__area--secret") == 2
    assert "<title>Bourg-sur-Mer : chiffre non diffusé (secret statistique)</title>" in svg
    assert (
        "<title>Petit-Village : moins de 11 ménages : chiffre non diffusé (secret statistique)</title>"
        in svg
    )
    assert ">secret statistique</text>" in svg
    assert "Secret statistique : aucun chiffre portant sur moins de 11 ménages" in content
    assert table_rows(content) == {
        "Bourg-sur-Mer": ["76102", "chiffre non diffusé (secret statistique)", "—"],
        "Exempleville": ["76101", "30,0\u202f%", "12 / 40"],
        "Petit-Village": [
            "76103",
            "moins de 11 ménages : chiffre non diffusé (secret statistique)",
            "—",
        ],
    }
    assert "style=" not in content[content.index("<main") :]  # strict CSP: no inline style


def test_the_secretariat_sees_every_value(client, drawn):
    content = get(client, drawn, RoleName.SECRETARIAT)
    svg = svg_of(content)
    assert "obs-map__area--secret" not in svg
    assert table_rows(content)["Bourg-sur-Mer"] == ["76102", "20,0\u202f%", "6 / 30"]
    assert table_rows(content)["Petit-Village"] == ["76103", "40,0\u202f%", "2 / 5"]
    assert "Importer les contours des communes" in content


def test_the_indicator_and_the_classes_are_chosen_in_the_form(client, drawn):
    content = get(client, drawn, RoleName.SECRETARIAT, "?indicateur=attributions&classes=fixes")
    assert '<option value="attributions" selected>' in content
    assert '<option value="fixes" selected>' in content
    # 60, 30 and 5 attributions; round steps of 20 up to 60: < 20, 20 to 40, 40 or more.
    fills = dict(re.findall(r'data-insee="(\d+)"><path d="[^"]+" fill="([^"]+)"', svg_of(content)))
    three = PALETTES[3]
    assert fills == {"76101": three[2], "76102": three[1], "76103": three[0]}
    for label in ("moins de 20", "de 20 à moins de 40", "40 ou plus"):
        assert f">{label}</text>" in content
    assert table_rows(content)["Exempleville"] == ["76101", "60"]


def test_demand_indicators_are_offered_once_demands_exist(client, drawn):
    content = get(client, drawn, RoleName.ELU)
    assert 'value="pression"' not in content
    with conference_scope(drawn.conference):
        Demand.objects.create(
            conference=drawn.conference,
            numero_unique="0761010000001",
            date_depot="2024-02-01",
            communes_souhaitees=["76101"],
            commune_insee="76101",
            nb_personnes=1,
            uc=1,
        )
    content = get(client, drawn, RoleName.ELU, "?indicateur=pression")
    assert '<option value="pression" selected>' in content


def test_an_unknown_indicator_shows_the_default_and_an_unknown_year_is_not_found(client, drawn):
    content = get(client, drawn, RoleName.ELU, "?indicateur=inconnu&annee=abc")
    assert '<option value="part-q1-hors-qpv" selected>' in content
    assert '<option value="2025" selected>' in content
    get(client, drawn, RoleName.ELU, "?annee=1999", status=404)


def test_without_boundaries_the_values_are_still_listed(client, territory):
    content = get(client, territory, RoleName.ELU)
    assert 'class="obs-map"' not in content
    assert "Pas encore de carte" in content
    assert len(table_rows(content)) == 3


@pytest.mark.parametrize("role", list(RoleName))
def test_every_member_sees_the_map_and_the_menu_entries(client, drawn, role):
    content = get(client, drawn, role)
    assert "Carte du territoire" in content
    nav = content[content.index('aria-label="Menu principal"') :]
    assert ">Observatoire<" in nav
    assert ">Communes<" in nav


def test_the_map_page_reads_a_bounded_number_of_queries(
    client, drawn, django_assert_max_num_queries
):
    bilan_cache.get_bilan(drawn.conference, 2025)  # stored, as in production
    client.force_login(drawn.users[RoleName.ELU])
    url = reverse("observatoire_map", kwargs={"conference_slug": drawn.conference.slug})
    with django_assert_max_num_queries(18):
        assert client.get(url).status_code == 200
