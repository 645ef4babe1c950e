"""The bilan page and its exports, as each role."""

import pytest
from django.urls import reverse

from attributions.services import attribution_save
from cil.roles import RoleName
from cil.tenancy import conference_scope
from tests.attributions.factories import row
from tests.world import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """Conference A: the bailleur user's organisation has 12 lines outside QPV in 2025, of
    which 2 are Q1 (R1 = 2/12 + the world's own line)."""
    world = build_world()
    conference = world.a.conference
    bailleur = world.a.users[RoleName.BAILLEUR].organisation
    with conference_scope(conference):
        insee = conference.communes.first().insee
        for n in range(12):
            income = "8000" if n < 2 else "40000"  # 1.5 UC: 5 333 € / UC (Q1) or 26 667 € / UC
            attribution_save(
                conference=conference,
                actor=None,
                raw=row(bailleur, reference=f"D-{n}", commune_insee=insee, revenu_annuel=income),
            )
    return world


def _page(client, world, role, **params):
    client.force_login(world.a.users[role])
    url = reverse("bilan", kwargs={"conference_slug": world.a.conference.slug})
    return client.get(url, {"annee": 2025, **params}).content.decode()


def test_bailleur_sees_its_gap_in_attributions(client, world):
    page = _page(client, world, RoleName.BAILLEUR)
    # 13 lines outside QPV, 3 Q1 (the world's line is Q1 too): 23,1 %; 25 % of 13 = 3,25 → 4.
    assert "R1 : 23,1 %" in page
    assert "Il manque 1 attribution pour atteindre l&#x27;objectif de 25,0 %" in page
    assert "Par réservataire" not in page  # the detail tables are not for a bailleur


def test_secretariat_sees_every_bailleur_sorted(client, world):
    page = _page(client, world, RoleName.SECRETARIAT, tri="attributions", ordre="desc")
    bailleur = world.a.users[RoleName.BAILLEUR].organisation.name
    other = world.a.membership.organisation.name
    assert bailleur in page
    assert other in page
    assert page.index(bailleur) < page.index(other)  # 13 lines before 1
    assert "Par réservataire (R3)" in page
    assert "Évolution sur le territoire" in page


@pytest.mark.parametrize("role", [RoleName.ELU, RoleName.MEMBRE])
def test_aggregate_roles_see_no_small_counts(client, world, role):
    page = _page(client, world, role)
    assert "Secret statistique" in page
    # 14 attributions in all, 1 in a commune, 13 in another… every count ≥ 11 or « s ».
    assert world.a.users[RoleName.BAILLEUR].organisation.name not in page
    assert "Il manque" not in page


def test_elu_export_is_the_secret_communes_table_only(client, world):
    client.force_login(world.a.users[RoleName.ELU])
    kwargs = {"conference_slug": world.a.conference.slug}
    communes = client.get(
        reverse("bilan_export", kwargs={**kwargs, "table": "communes", "fmt": "csv"}),
        {"annee": 2025},
    )
    body = communes.content.decode("utf-8-sig")
    lines = body.strip().split("\r\n")
    assert lines[0] == "Code INSEE;Commune;Attributions;Hors QPV;En QPV;Taux R1;Taux R2"
    for line in lines[1:]:
        for cell in line.split(";")[2:5]:
            assert cell == "s" or cell == "0" or int(cell) >= 11, line
    bailleurs = client.get(
        reverse("bilan_export", kwargs={**kwargs, "table": "bailleurs", "fmt": "csv"}),
        {"annee": 2025},
    )
    assert bailleurs.status_code == 404


def test_secretariat_exports_the_bailleurs_table(client, world):
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    kwargs = {"conference_slug": world.a.conference.slug, "table": "bailleurs", "fmt": "xlsx"}
    response = client.get(reverse("bilan_export", kwargs=kwargs), {"annee": 2025})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")


def test_unknown_year_is_a_404(client, world):
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    url = reverse("bilan", kwargs={"conference_slug": world.a.conference.slug})
    assert client.get(url, {"annee": 1999}).status_code == 404


def test_bilan_follows_a_new_line_at_once(client, world, django_capture_on_commit_callbacks):
    before = _page(client, world, RoleName.SECRETARIAT)
    assert '<p class="cil-stat fr-mb-0">14</p>' in before
    conference = world.a.conference
    bailleur = world.a.users[RoleName.BAILLEUR].organisation
    with conference_scope(conference), django_capture_on_commit_callbacks(execute=True):
        attribution_save(
            conference=conference,
            actor=None,
            raw=row(bailleur, reference="NEW", commune_insee=conference.communes.first().insee),
        )
    page = _page(client, world, RoleName.SECRETARIAT)
    assert '<p class="cil-stat fr-mb-0">15</p>' in page


def test_a_new_bailleur_member_invalidates_the_stored_bilans(
    client, world, django_capture_on_commit_callbacks
):
    from attributions import bilan_cache
    from cil import services
    from tests.factories import next_siren

    conference = world.a.conference
    assert bilan_cache.get_bilan(conference, 2025) is not None
    assert bilan_cache.stored(conference, 2025) is not None
    with conference_scope(conference), django_capture_on_commit_callbacks(execute=True):
        services.membership_add(
            conference=conference,
            actor=None,
            siren=next_siren(),
            name="Nouveau Logis",
            type="bailleur",
            college=2,
        )
    assert bilan_cache.stored(conference, 2025) is None
    document = bilan_cache.get_bilan(conference, 2025)
    assert "Nouveau Logis" in [b["nom"] for b in document["par_bailleur"]]


def test_a_threshold_loaded_from_the_territory_file_reclassifies_attributions():
    from cil.territory import load_territory
    from tests.test_territory import EXAMPLE

    world = build_world()
    conference = world.a.conference
    document = {
        **EXAMPLE,
        "conference": {
            "slug": conference.slug,
            "nom": conference.name,
            "epci_siren": conference.epci_siren,
        },
    }
    document["annees"] = [
        {
            "annee": 2025,
            "seuil_q1": 8000.0,
            "source_seuil": "arrêté",
            "cible_r1": 0.25,
            "cible_r2": 0.5,
            "cible_r3": 0.25,
        }
    ]
    assert world.a.attribution.is_q1 is True  # 8 000 € per UC under 9 876 €
    load_territory(document)
    with conference_scope(conference):
        world.a.attribution.refresh_from_db()
    assert world.a.attribution.is_q1 is False  # exactly at the new threshold


def _indicator(numerator: int, denominator: int) -> dict:
    return {
        "numerateur": numerator,
        "denominateur": denominator,
        "taux": numerator / denominator,
        "cible": 0.25,
    }


def test_a_commune_rate_hidden_alone_cannot_be_recomputed_from_the_conference_total():
    """R1 numerators 5, 20, 30 add up to the conference's 55, which is shown. Hiding only the
    5 would let anyone compute it as 55 − 20 − 30: the smallest other numerator (20) is
    hidden too."""
    from attributions.dashboards import aggregate_view

    communes = [("76101", 5, 40), ("76102", 20, 60), ("76103", 30, 80)]
    document = {
        "total": {
            "attributions": 180 + 90,
            **dict.fromkeys(
                ("dalo", "prioritaires", "mutations", "relogements_npnru", "revenu_inconnu"), 20
            ),
        },
        "r1_q1_hors_qpv": _indicator(55, 180),
        "r2_hors_q1_en_qpv": _indicator(45, 90),
        "par_commune": [
            {
                "insee": insee,
                "r1_q1_hors_qpv": _indicator(numerator, denominator),
                "r2_hors_q1_en_qpv": _indicator(15, 30),
            }
            for insee, numerator, denominator in communes
        ],
    }
    view = aggregate_view(document, {}, threshold=11)
    r1 = {c["insee"]: c["r1"] for c in view["communes"]}
    assert r1["76101"] is None  # 5 households: primary secrecy
    assert r1["76102"] is None  # secondary: else 55 − 20 − 30 gives the 5
    assert r1["76103"] == 30 / 80
    assert view["conference"]["r1_q1_hors_qpv"]["numerateur"] == 55
    # R2 numerators (15 each) are all shown: nothing small to protect.
    assert all(c["r2"] == 0.5 for c in view["communes"])
