"""The frame loaders (observatoire/frames.py): one query each, the same frame through COPY
(PostgreSQL) and through `values_list`, codes kept as text, the national variants."""

import datetime
from decimal import Decimal

import pandas as pd
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from attributions.models import Attribution
from attributions.services import check_row
from cil.models import Commune
from cil.roles import RoleName
from cil.tenancy import conference_scope
from observatoire import frames
from tests.observatoire.factories import DemandFactory, DwellingFactory
from tests.world import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """Conference A: demands wishing « 01001 » (leading zero) and « 2A004 » (Corsica), one
    with an unknown income, one closed; a dwelling; the world's attributions plus one of
    unknown income."""
    world = build_world()
    conference = world.a.conference
    with conference_scope(conference):
        DemandFactory(conference=conference, commune_insee="01001", typologie="T2")
        DemandFactory(
            conference=conference,
            commune_insee="2A004",
            revenu_annuel=None,
            revenu_par_uc=None,
            mutation=True,
        )
        DemandFactory(
            conference=conference,
            commune_insee="01001",
            date_depot=datetime.date(2022, 5, 2),
            date_radiation=datetime.date(2024, 11, 30),
            motif_radiation="attribution",
            revenu_par_uc=Decimal("8671.37"),
        )
        DwellingFactory(
            conference=conference, commune_insee="01001", in_qpv=True, qpv_code="QN00101M"
        )
        commune = Commune.objects.first()
        raw = {
            "reference": "INCONNU-1",
            "bailleur_siren": world.a.users[RoleName.BAILLEUR].organisation.siren,
            "date_signature_bail": "2024-06-01",
            "commune_insee": commune.insee,
            "reservataire": "non_reserve",
            "nb_personnes": "3",
        }
        Attribution.objects.create(conference=conference, **check_row(raw, conference=conference))
    return world


def test_copy_and_values_list_give_the_same_frames(world):
    conference = world.a.conference
    for load in (frames.demand_frame, frames.dwelling_frame, frames.attribution_frame):
        fast = load(conference, via_copy=True)
        plain = load(conference, via_copy=False)
        sort = list(fast.columns)
        pd.testing.assert_frame_equal(
            fast.sort_values(sort).reset_index(drop=True),
            plain.sort_values(sort).reset_index(drop=True),
        )


def test_demand_frame_types(world):
    demands = frames.demand_frame(world.a.conference)
    assert len(demands) == 3
    assert sorted(demands["commune_insee"].cat.categories) == ["01001", "2A004"]
    assert demands["date_depot"].dtype.kind == "M"
    assert demands["date_radiation"].isna().sum() == 2
    assert demands["revenu_par_uc"].isna().sum() == 1
    assert set(demands["revenu_par_uc"].dropna()) == {12000.0, 8671.37}
    assert demands["mutation"].dtype == bool
    assert demands["mutation"].sum() == 1
    assert set(demands["motif_radiation"]) == {"", "attribution"}


def test_attribution_frame_keeps_unknown_incomes_apart(world):
    attributions = frames.attribution_frame(world.a.conference)
    assert str(attributions["is_q1"].dtype) == "boolean"
    assert attributions["is_q1"].isna().sum() == 1
    assert sorted(attributions["year"]) == [2024, 2025, 2025]
    assert set(attributions["qpv_code"]) == {""}
    only_2025 = frames.attribution_frame(world.a.conference, years=[2025])
    assert len(only_2025) == 2


def test_one_query_per_frame_and_the_scope_holds(world):
    with CaptureQueriesContext(connection) as queries:
        frames.demand_frame(world.b.conference)
    # COPY runs on the raw cursor: the ORM logs nothing; conference B has no demand.
    assert len(queries) <= 1
    assert frames.demand_frame(world.b.conference).empty
    assert len(frames.dwelling_frame(world.b.conference)) == 0


def test_not_closed_by_leaves_out_older_closures(world):
    demands = frames.demand_frame(
        world.a.conference, ["commune_insee"], not_closed_by=datetime.date(2024, 12, 31)
    )
    assert list(demands.columns) == ["commune_insee"]
    assert len(demands) == 2  # the demand closed on 30/11/2024 is not read


def test_national_frames_name_each_conference(world):
    with conference_scope(world.b.conference):
        DemandFactory(conference=world.b.conference, commune_insee="76999")
    demands = frames.national_demand_frame()
    counts = demands.groupby("conference", observed=True).size().to_dict()
    assert counts == {"conf-a": 3, "conf-b": 1}
    only_b = frames.national_demand_frame([world.b.conference.pk], columns=["commune_insee"])
    assert list(only_b.columns) == ["conference", "commune_insee"]
    assert list(only_b["commune_insee"]) == ["76999"]
    attributions = frames.national_attribution_frame(years=[2025])
    assert attributions.groupby("conference", observed=True).size().to_dict() == {
        "conf-a": 2,
        "conf-b": 2,
    }
