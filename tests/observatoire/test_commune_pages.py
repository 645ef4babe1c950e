"""The commune pages over HTTP, in plain French: an élu reads aggregates under statistical
secrecy, the secretariat every figure; the list of communes; the same cells hidden as in
the bilan. Numbers: tests/observatoire/test_map_support.py."""

import html
import re

import pytest
from django.conf import settings
from django.urls import reverse

from attributions import bilan_cache, dashboards
from cil.models import Commune
from cil.roles import RoleName
from cil.tenancy import conference_scope
from observatoire import selectors_communes
from observatoire.models import Demand, Dwelling
from tests.observatoire.test_map_support import COMMUNES, build_territory, standard_leases

pytestmark = pytest.mark.django_db


@pytest.fixture
def territory():
    territory = build_territory()
    standard_leases(territory)
    return territory


def page(client, territory, role, insee, query="", status=200) -> str:
    client.force_login(territory.users[role])
    url = reverse(
        "observatoire_commune",
        kwargs={"conference_slug": territory.conference.slug, "insee": insee},
    )
    response = client.get(url + query)
    assert response.status_code == status
    main = response.content.decode()
    main = main[main.index("<main") : main.index("</main>")]
    # The text as read: tags out, entities decoded, spaces collapsed (the narrow no-break
    # spaces of « 25 % » and « 1 234 » kept).
    return re.sub(r"[ \t\r\n]+", " ", html.unescape(re.sub(r"<[^>]+>", " ", main)))


def test_an_elu_reads_exempleville_in_plain_french(client, territory):
    text = page(client, territory, RoleName.ELU, "76101")
    assert (
        "En 2025, 60 logements sociaux ont été attribués à Exempleville, dont 20 en quartier "
        "prioritaire." in text
    )
    assert (
        "Sur 100 logements attribués à Exempleville en 2025, 33 l'ont été à des ménages du "
        "premier quartile de revenus (20 sur 60 attributions)." in text
    )
    assert (
        "Sur 100 logements attribués hors quartier prioritaire à Exempleville en 2025, 30 l'ont "
        "été à des ménages du premier quartile de revenus (12 sur 40 attributions)." in text
    )
    # R1: 12 of 40 outside QPV. R2: 12 of 20 in QPV are not Q1, but the 8 others are fewer
    # than 11: the rate is not published for an élu.
    assert "30,0\u202f% pour un objectif de 25\u202f% : objectif atteint." in text
    assert (
        "Objectif de 50\u202f% ; taux de la commune : chiffre non diffusé (secret statistique)."
        in text
    )
    assert "Les Tours (QN07601M)" in text
    assert "1 quartier prioritaire de la politique de la ville en 2025" in text
    # Trend table, most recent year first: 2024 has 45 attributions (30 + 15).
    assert re.search(r"2025 60 33,3\u202f% 30,0\u202f% 30,0\u202f% s 2024 45 ", text)


def test_the_secretariat_reads_every_figure(client, territory):
    text = page(client, territory, RoleName.SECRETARIAT, "76101")
    assert "60,0\u202f% pour un objectif de 50\u202f% : objectif atteint." in text
    text = page(client, territory, RoleName.SECRETARIAT, "76103")
    assert (
        "En 2025, 5 logements sociaux ont été attribués à Petit-Village, aucun en quartier "
        "prioritaire." in text
    )
    assert (
        "Sur 100 logements attribués à Petit-Village en 2025, 40 l'ont été à des ménages du "
        "premier quartile de revenus (2 sur 5 attributions)." in text
    )
    assert "Aucun quartier prioritaire de la politique de la ville en 2025." in text


def test_secret_figures_are_said_not_published(client, territory):
    # Petit-Village: 5 attributions, fewer than 11.
    text = page(client, territory, RoleName.ELU, "76103")
    assert (
        "Logements sociaux attribués à Petit-Village en 2025 : moins de 11 attributions : "
        "chiffre non diffusé (secret statistique)." in text
    )
    assert "5 logements" not in text
    # Bourg-sur-Mer: 30 attributions, hidden so that Petit-Village's cannot be recomputed;
    # its page must not say « moins de 11 ».
    text = page(client, territory, RoleName.ELU, "76102")
    assert (
        "Logements sociaux attribués à Bourg-sur-Mer en 2025 : chiffre non diffusé (secret "
        "statistique)." in text
    )
    assert "moins de 11 attributions" not in text


def test_demand_and_offer_of_the_commune(client, territory):
    conference = territory.conference
    with conference_scope(conference):
        for n in range(18):
            Demand.objects.create(
                conference=conference,
                numero_unique=f"07610100000{n:02d}",
                date_depot="2024-02-01",
                communes_souhaitees=["76101"],
                commune_insee="76101",
                nb_personnes=1,
                uc=1,
                mutation=n < 3,
            )
        for n, in_qpv in enumerate((True, False)):
            Dwelling.objects.create(
                conference=conference,
                millesime=2025,
                rpls_id=f"RPLS{n}",
                commune_insee="76101",
                in_qpv=in_qpv,
            )
    elu = page(client, territory, RoleName.ELU, "76101", "?annee=2025")
    # 3 mutation demands: fewer than 11, their share is not given to an élu.
    assert (
        "Au 31 décembre 2025, 18 demandes de logement social étaient en cours avec "
        "Exempleville en premier choix." in elu
    )
    assert "Pression de la demande : 0,3 demande en cours pour une attribution dans l'année." in elu
    assert (
        "Au 1er janvier 2025, Exempleville comptait 2 logements sociaux, dont 1 en quartier "
        "prioritaire (répertoire RPLS)." in elu
    )
    secretariat = page(client, territory, RoleName.SECRETARIAT, "76101")
    assert "dont 16,7\u202f% de ménages déjà locataires du parc social." in secretariat


def test_the_year_is_chosen_in_the_form(client, territory):
    text = page(client, territory, RoleName.ELU, "76101", "?annee=2024")
    assert "En 2024, 45 logements sociaux ont été attribués à Exempleville, dont 15 en" in text
    page(client, territory, RoleName.ELU, "76101", "?annee=1990", status=404)


def test_an_unknown_commune_is_not_found(client, territory):
    page(client, territory, RoleName.ELU, "76999", status=404)


@pytest.mark.parametrize("role", list(RoleName))
def test_every_member_reads_the_commune_pages(client, territory, role):
    assert "Les objectifs de la conférence" in page(client, territory, role, "76102")


def test_the_list_of_communes_links_each_page(client, territory, django_assert_max_num_queries):
    bilan_cache.get_bilan(territory.conference, 2025)
    client.force_login(territory.users[RoleName.ELU])
    url = reverse("observatoire_communes", kwargs={"conference_slug": territory.conference.slug})
    with django_assert_max_num_queries(18):
        content = client.get(url).content.decode()
    slug = territory.conference.slug
    for insee, name in COMMUNES.items():
        assert f'<a href="/{slug}/observatoire/communes/{insee}/?annee=2025">{name}</a>' in content
    rows = re.findall(r"<tr>\s*<td><a [^>]+>([^<]+)</a></td>(.*?)</tr>", content, re.S)
    cells = {name: re.findall(r"<td>(.*?)</td>", rest, re.S) for name, rest in rows}
    assert cells["Exempleville"] == ["76101", "Les Tours", "60", "30,0\u202f%"]
    assert cells["Bourg-sur-Mer"] == ["76102", "—", "s", "s"]
    assert cells["Petit-Village"] == ["76103", "—", "s", "s"]


def test_the_map_hides_the_same_attribution_counts_as_the_bilan(territory):
    """Both pages publish the attributions per commune: the same cells must be hidden, or
    one page would give away what the other hides."""
    conference = territory.conference
    with conference_scope(conference):
        document = bilan_cache.get_bilan(conference, 2025)
        names = dict(Commune.objects.values_list("insee", "name"))
        data = selectors_communes.territory_data(conference, [2025])
        figures = selectors_communes.figures_for_year(data, 2025, roles={RoleName.ELU})
    aggregate = dashboards.aggregate_view(document, names, threshold=settings.CIL_SECRECY_THRESHOLD)
    for commune in aggregate["communes"]:
        mine = figures[commune["insee"]]
        for key in ("attributions", "hors_qpv", "en_qpv"):
            assert (commune[key] is None) == (not mine[key].shown), (commune["insee"], key)
            if commune[key] is not None:
                assert commune[key] == mine[key].value
    assert [c["insee"] for c in aggregate["communes"] if c["attributions"] is None] == [
        "76102",
        "76103",
    ]


def test_the_commune_stands_out_on_a_small_map_linking_its_neighbours(client, territory):
    from observatoire.services_map import territory_map_upload
    from tests.observatoire.test_map_support import encode, three_communes

    territory_map_upload(
        conference=territory.conference,
        actor=None,
        filename="communes.geojson",
        content=encode(three_communes()),
    )
    client.force_login(territory.users[RoleName.ELU])
    slug = territory.conference.slug
    url = reverse("observatoire_commune", kwargs={"conference_slug": slug, "insee": "76102"})
    content = client.get(url + "?annee=2024").content.decode()
    svg = content[content.index('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 360') :]
    svg = svg[: svg.index("</svg>")]
    assert re.findall(r'<a href="([^"]+)"', svg) == [
        f"/{slug}/observatoire/communes/76101/?annee=2024",
        f"/{slug}/observatoire/communes/76103/?annee=2024",
    ]
    assert svg.count("obs-map__area--current") == 1
    assert '<g aria-current="page"><path' in svg
    assert "<title>Bourg-sur-Mer</title>" in svg


def test_a_commune_without_qpv_attribution_is_not_told_the_same_share_twice(client, territory):
    text = page(client, territory, RoleName.SECRETARIAT, "76102")
    assert "Sur 100 logements attribués à Bourg-sur-Mer en 2025, 20 l'ont été" in text
    assert "hors quartier prioritaire à Bourg-sur-Mer" not in text


def test_the_commune_page_reads_a_bounded_number_of_queries(
    client, territory, django_assert_max_num_queries
):
    for year in (2024, 2025):
        bilan_cache.get_bilan(territory.conference, year)  # stored, as in production
    client.force_login(territory.users[RoleName.ELU])
    url = reverse(
        "observatoire_commune",
        kwargs={"conference_slug": territory.conference.slug, "insee": "76101"},
    )
    with django_assert_max_num_queries(20):
        assert client.get(url).status_code == 200
