"""The observatory's analysis page and its exports, over HTTP, as each role.

Conference A of the two-tenant world, plus (hand-made) in its commune « C » and in a second
commune « D »:
- demands active at 31/12/2025: 30 wishing C (T2, 12 of them mutations), 3 wishing D (T3);
  a demand of D satisfied on 14/03/2025 after 26 months; incomes per UC 1000 … 33000 €;
- the world's two attributions of 2025 (commune C, 2 persons, 12,000 € → 8,000 € per UC,
  Q1 for the register's 9,876 €);
- 4 dwellings of millésime 2026 in C (1 in QPV).
"""

import datetime
import html
import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cil.models import Commune
from cil.roles import RoleName
from cil.tenancy import conference_scope
from tests.observatoire.factories import DemandFactory, DwellingFactory
from tests.world import build_world

pytestmark = pytest.mark.django_db


def add_demands(conference, insee: str, count: int, **fields) -> None:
    """`count` demands deposited 01/06/2024, incomes per UC 1000, 2000, … €; `mutations`
    of them (the first ones) from social tenants."""
    mutations = fields.pop("mutations", 0)
    for n in range(count):
        income = Decimal(1000 * (n + 1))
        DemandFactory(
            conference=conference,
            commune_insee=insee,
            revenu_annuel=income * Decimal("1.5"),
            revenu_par_uc=income,
            date_depot=datetime.date(2024, 6, 1),
            mutation=n < mutations,
            **fields,
        )


@pytest.fixture
def world():
    world = build_world()
    conference = world.a.conference
    with conference_scope(conference):
        commune = conference.communes.first()
        other = Commune.objects.create(conference=conference, insee="76999", name="Autreville")
        add_demands(conference, commune.insee, 30, typologie="T2", mutations=12)
        add_demands(conference, other.insee, 3, typologie="T3")
        DemandFactory(
            conference=conference,
            commune_insee=other.insee,
            date_depot=datetime.date(2023, 1, 10),
            date_radiation=datetime.date(2025, 3, 14),
            motif_radiation="attribution",
        )
        for n in range(4):
            DwellingFactory(
                conference=conference,
                millesime=2026,
                commune_insee=commune.insee,
                in_qpv=n == 0,
                financement="PLAI" if n == 0 else "PLUS",
            )
    world.commune = commune
    return world


def url(world, name="observatoire_home", **kwargs):
    return reverse(name, kwargs={"conference_slug": world.a.conference.slug, **kwargs})


def text_of(response) -> str:
    main = response.content.decode()
    main = main[main.index("<main") : main.index("</main>")]
    # Tags out, entities decoded, ordinary spaces collapsed (the no-break spaces of French
    # typography are kept: « 25,0\u00a0% », « 6\u00a0000 € »).
    return re.sub(r"[ \t\r\n]+", " ", html.unescape(re.sub(r"<[^>]+>", " ", main)))


def test_secretariat_reads_every_figure(client, world):
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    response = client.get(url(world), {"annee": 2025})
    assert response.status_code == 200
    text = text_of(response)
    assert "Observatoire de la demande et de l'offre — 2025" in text
    assert "Secret statistique" not in text
    # 30 demands wish C (12 mutations): 30 of 33 active = 90,9 %.
    commune = f"{world.commune.name} ({world.commune.insee})"
    assert f"{commune} 30 12 90,9\u00a0%" in text
    assert "Autreville (76999) 3 0 9,1\u00a0%" in text
    # Pressure in C: 30 demands / 2 attributions = 15,00; without mutations 18 / 2 = 9,00.
    assert f"{commune} 30 2 15,00 9,00" in text
    # Offer of millésime 2026: 4 dwellings in C, 1 in QPV (25 %).
    assert "au 1er janvier 2026" in text
    assert f"{commune} 4 1 25,0\u00a0% 100,0\u00a0%" in text
    # Balance: both 2025 attributions are Q1 (8 000 € per UC < 9 876 €).
    assert f"{commune} 2 2 0 100,0\u00a0%" in text


def test_threshold_computed_beside_the_register(client, world):
    """Stock at 31/12/2024: the 33 demands deposited 01/06/2024 and the one satisfied in
    2025; known incomes 1000 … 30000 (C), 1000 … 3000 (D) and 12000 (factory) → n = 34,
    ⌈34/4⌉ = 9: sorted 1000, 1000, 2000, 2000, 3000, 3000, 4000, 5000, 6000 → 6 000 €.
    Register 9 876 € → gap −3 876 € (−39,2 %)."""
    client.force_login(world.a.users[RoleName.PREFECTURE])
    text = text_of(client.get(url(world), {"annee": 2025}))
    assert "6\u00a0000 € calculé sur les 34 demandes de revenu connu actives au 31/12/2024" in text
    assert "9\u00a0876 € valeur du registre (arrêté)" in text
    assert "-3\u00a0876 € écart du seuil calculé au registre (-39,2 %)" in text


def test_aggregate_roles_get_statistical_secrecy(client, world):
    for role in (RoleName.ELU, RoleName.MEMBRE, RoleName.BAILLEUR):
        client.force_login(world.a.users[role])
        text = text_of(client.get(url(world), {"annee": 2025}))
        assert "Secret statistique" in text, role
        # Autreville's 3 demands are hidden, and so is a cell of C's line (12 mutations and
        # 18 others are ≥ 11, but the column of mutations would give Autreville's 0…).
        assert "Autreville (76999) s" in text, role
        assert "Autreville (76999) 3" not in text, role
        # The 2 attributions of the year: hidden wherever they are counted.
        assert f"{world.commune.name} ({world.commune.insee}) 2 2" not in text, role
        # Dwellings are not households: the offer is shown whole.
        assert f"{world.commune.name} ({world.commune.insee}) 4 1 25,0" in text, role


def test_waiting_time_needs_the_delai(client, world):
    """One demand satisfied in 2025: deposited 10/01/2023, closed 14/03/2025 → 26 months.
    Délai 24 months: 1 of 1 reached it; the 33 active at 31/12/2025 (18 months) did not."""
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    text = text_of(client.get(url(world), {"annee": 2025}))
    assert "26\u00a0mois ancienneté médiane" in text
    assert "Le délai anormalement long, fixé par arrêté préfectoral, n'est pas saisi" in text
    response = client.post(
        url(world, "observatoire_settings"),
        {"delai_anormalement_long_mois": "24", "delai_source": "arrêté préfectoral du 2 mai 2024"},
    )
    assert response.status_code == 302
    text = text_of(client.get(url(world), {"annee": 2025}))
    assert "100,0\u00a0% des demandes satisfaites en 2025 avaient atteint" in text
    assert "0,0\u00a0% des demandes actives au 31/12/2025 (33)" in text


def test_segregation_trend_is_shown(client, world):
    client.force_login(world.a.users[RoleName.ELU])
    text = text_of(client.get(url(world), {"annee": 2025}))
    # Both 2025 households are Q1: no « other » group, the indices are undefined (—).
    assert "Indices de ségrégation" in text
    assert "2025 1 — —" in text


def test_unknown_year_is_a_404(client, world):
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    assert client.get(url(world), {"annee": 1990}).status_code == 404
    assert client.get(url(world), {"annee": "deux-mille"}).status_code == 404


def test_query_count_does_not_grow_with_rows(client, world):
    client.force_login(world.a.users[RoleName.ELU])
    client.get(url(world), {"annee": 2025})  # the session's first request writes more
    cache.clear()  # both requests compute (observatoire/cache.py caches the figures)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url(world), {"annee": 2025}).status_code == 200
    with conference_scope(world.a.conference):
        add_demands(world.a.conference, world.commune.insee, 60, typologie="T4")
        for _ in range(20):
            DwellingFactory(conference=world.a.conference, millesime=2026)
    cache.clear()
    with CaptureQueriesContext(connection) as many:
        assert client.get(url(world), {"annee": 2025}).status_code == 200
    assert len(many) == len(few)
    assert len(few) <= 25


def test_export_csv_as_french_spreadsheets_read_it(client, world):
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    response = client.get(
        url(world, "observatoire_export", table="pression_communes", fmt="csv"), {"annee": 2025}
    )
    assert response.status_code == 200
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    lines = body.lstrip("\ufeff").strip().split("\r\n")
    assert lines[0] == (
        "Commune;Demandes actives au 31/12/2025;Attributions 2025;Pression;Pression hors mutations"
    )
    assert f"{world.commune.name} ({world.commune.insee});30;2;15,0;9,0" in lines


def test_export_xlsx_and_secrecy_for_an_elu(client, world):
    from io import BytesIO

    from openpyxl import load_workbook

    client.force_login(world.a.users[RoleName.ELU])
    response = client.get(
        url(world, "observatoire_export", table="demande_communes", fmt="xlsx"), {"annee": 2025}
    )
    assert response.status_code == 200
    rows = list(load_workbook(BytesIO(response.content)).active.values)
    assert rows[0] == (
        "Commune souhaitée",
        "Demandes actives",
        "dont demandes de mutation",
        "Part du total",
    )
    autreville = next(row for row in rows if row[0] == "Autreville (76999)")
    assert autreville[1] == "s"


@pytest.mark.parametrize(
    ("table", "fmt"), [("inconnu", "csv"), ("demande_communes", "pdf"), ("offre_qpv", "json")]
)
def test_unknown_export_is_a_404(client, world, table, fmt):
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    response = client.get(url(world, "observatoire_export", table=table, fmt=fmt))
    assert response.status_code == 404


def test_menu_shows_the_observatoire(client, world):
    client.force_login(world.a.users[RoleName.MEMBRE])
    page = client.get(url(world)).content.decode()
    assert "Demande, offre, équilibre" in page
    assert "Paramètres de l&#x27;observatoire" not in page
    client.force_login(world.a.users[RoleName.PREFECTURE])
    page = client.get(url(world)).content.decode()
    assert "Paramètres de l&#x27;observatoire" in page
