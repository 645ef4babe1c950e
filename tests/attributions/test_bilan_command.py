"""End to end: attributions entered through the services, then `manage.py bilan`."""

import io
import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from attributions import bilan_data, services
from attributions.indicators import bilan
from attributions.models import RuleRates
from cil.models import Membership
from cil.tenancy import conference_scope
from tests.attributions.factories import row, territory
from tests.factories import next_siren

pytestmark = pytest.mark.django_db


def run_bilan(conference, year) -> dict:
    out = io.StringIO()
    call_command("bilan", conference=conference.slug, year=str(year), stdout=out)
    return json.loads(out.getvalue())


@pytest.fixture
def world():
    """Territory of tests/attributions/factories.py (76540 with the QPV QN07601M, 76541
    without; threshold 9,876 € in 2024 and 2025), its 2025 rates adapted, six attributions."""
    world = territory()
    conference = world["conference"]
    first, second = world["bailleurs"]
    world["commune_siren"] = next_siren()
    lines = [
        # Habitat 1, outside QPV. 14,814 € for 1.5 UC = 9,876 € per UC: at the threshold, not Q1.
        row(first, reference="A1", nb_personnes="2", revenu_annuel="14814"),
        # 1 UC, 9,000 €: Q1. Action Logement, DALO (hence prioritaire). Lease on 1 January.
        row(
            first,
            reference="A2",
            nb_personnes="1",
            revenu_annuel="9000",
            date_signature_bail="2025-01-01",
            reservataire="action_logement",
            dalo="oui",
        ),
        # Lease on 31 December 2024: counts in 2024, not in 2025.
        row(
            first,
            reference="A3",
            nb_personnes="1",
            revenu_annuel="5000",
            date_signature_bail="2024-12-31",
        ),
        # Habitat 2, in QPV. Income unknown: non classable. The commune's contingent.
        row(
            second,
            reference="A4",
            commune_insee="76540",
            qpv_code="QN07601M",
            nb_personnes="1",
            revenu_annuel="",
            reservataire="commune",
            reservataire_siren=world["commune_siren"],
        ),
        # In QPV, 20,000 € for 1 UC: not Q1. A mutation, commune's contingent without SIREN.
        row(
            second,
            reference="A5",
            commune_insee="76540",
            qpv_code="QN07601M",
            nb_personnes="1",
            revenu_annuel="20000",
            reservataire="commune",
            mutation="oui",
        ),
        # 76540 outside the QPV, rehoused by NPNRU, income unknown: in R1's numerator anyway.
        row(
            second,
            reference="A6",
            commune_insee="76540",
            nb_personnes="1",
            revenu_annuel="",
            relogement_npnru="oui",
            prioritaire="oui",
        ),
    ]
    with conference_scope(conference):
        RuleRates.objects.create(
            conference=conference,
            year=2025,
            target_r1=Decimal("0.30"),
            target_r2=Decimal("0.40"),
            target_r3=Decimal("0.20"),
        )
        for raw in lines:
            services.attribution_save(conference=conference, actor=None, raw=raw)
    return world


def indicator(numerator, denominator, taux, cible):
    return {"numerateur": numerator, "denominateur": denominator, "taux": taux, "cible": cible}


def test_the_command_prints_the_bilan_v1_document(world):
    first, second = world["bailleurs"]
    habitat_1 = {
        "siren": first.siren,
        "nom": "Habitat 1",
        "attributions": 2,  # A1, A2 (A3 is 2024's)
        "r1_q1_hors_qpv": indicator(1, 2, 0.5, 0.3),
        "r2_hors_q1_en_qpv": indicator(0, 0, None, 0.4),
        "r3_prioritaires_non_reserve": indicator(0, 1, 0.0, 0.2),  # A1
    }
    habitat_2 = {
        "siren": second.siren,
        "nom": "Habitat 2",
        "attributions": 3,  # A4, A5, A6
        "r1_q1_hors_qpv": indicator(1, 1, 1.0, 0.3),  # A6, NPNRU
        "r2_hors_q1_en_qpv": indicator(1, 2, 0.5, 0.4),  # A5 of A4, A5
        "r3_prioritaires_non_reserve": indicator(1, 1, 1.0, 0.2),  # A6
    }
    assert run_bilan(world["conference"], 2025) == {
        "format": "bilan/v1",
        "conference": world["conference"].slug,
        "annee": 2025,
        "seuil_q1": 9876.0,
        "total": {
            "attributions": 5,
            "hors_qpv": 3,  # A1, A2, A6
            "en_qpv": 2,  # A4, A5
            "revenu_inconnu": 2,  # A4, A6
            "dalo": 1,  # A2
            "prioritaires": 2,  # A2 (DALO), A6
            "mutations": 1,  # A5
            "relogements_npnru": 1,  # A6
        },
        # A2 (Q1) and A6 (NPNRU) of A1, A2, A6; A1 is at the threshold.
        "r1_q1_hors_qpv": indicator(2, 3, 0.6667, 0.3),
        # A5 of A4, A5; A4's unknown income is in the denominator only.
        "r2_hors_q1_en_qpv": indicator(1, 2, 0.5, 0.4),
        "par_bailleur": sorted([habitat_1, habitat_2], key=lambda b: b["siren"]),
        "par_reservataire": [
            {
                "reservataire": "action_logement",
                "siren": None,
                "r3_prioritaires": indicator(1, 1, 1.0, 0.2),  # A2, DALO
            },
            {
                "reservataire": "commune",
                "siren": None,
                "r3_prioritaires": indicator(0, 1, 0.0, 0.2),
            },
            {
                "reservataire": "commune",
                "siren": world["commune_siren"],
                "r3_prioritaires": indicator(0, 1, 0.0, 0.2),
            },
        ],
        "par_commune": [
            {
                "insee": "76540",
                "attributions": 3,
                "r1_q1_hors_qpv": indicator(1, 1, 1.0, 0.3),
                "r2_hors_q1_en_qpv": indicator(1, 2, 0.5, 0.4),
            },
            {
                "insee": "76541",
                "attributions": 2,
                "r1_q1_hors_qpv": indicator(1, 2, 0.5, 0.3),
                "r2_hors_q1_en_qpv": indicator(0, 0, None, 0.4),
            },
        ],
    }


def test_the_lease_date_decides_the_year_and_each_year_has_its_rates(world):
    document = run_bilan(world["conference"], 2024)
    assert document["total"]["attributions"] == 1  # A3, signed on 31 December 2024
    # 2024 has no rates of its own: the legal defaults.
    assert document["r1_q1_hors_qpv"] == indicator(1, 1, 1.0, 0.25)
    assert document["r2_hors_q1_en_qpv"]["cible"] == 0.5
    assert document["par_bailleur"][0]["r3_prioritaires_non_reserve"]["cible"] == 0.25


def test_the_output_is_exactly_the_json(world):
    out = io.StringIO()
    call_command("bilan", conference=world["conference"].slug, year="2025", stdout=out)
    document = bilan_data.compute(world["conference"], 2025)
    assert out.getvalue() == json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def test_a_year_without_threshold_uses_the_previous_one_provisionally(world):
    inputs = bilan_data.bilan_inputs(world["conference"], 2026)
    assert (inputs.threshold, inputs.threshold_provisional) == (Decimal("9876.00"), True)
    assert bilan_data.bilan_inputs(world["conference"], 2025).threshold_provisional is False
    document = run_bilan(world["conference"], 2026)
    assert document["seuil_q1"] == 9876.0
    assert document["total"]["attributions"] == 0
    assert [b["attributions"] for b in document["par_bailleur"]] == [0, 0]
    assert run_bilan(world["conference"], 2023)["seuil_q1"] is None


def test_one_query_for_the_frame(world, django_assert_num_queries):
    with django_assert_num_queries(1):
        frame = bilan_data.attribution_frame(world["conference"], 2025)
    assert list(frame.columns) == list(bilan.COLUMNS)
    assert len(frame) == 5
    assert str(frame["is_q1"].dtype) == "boolean"


def test_another_conferences_attributions_are_not_counted(world):
    other = territory()
    with conference_scope(other["conference"]):
        services.attribution_save(
            conference=other["conference"], actor=None, raw=row(other["bailleurs"][0])
        )
    assert run_bilan(world["conference"], 2025)["total"]["attributions"] == 5
    assert run_bilan(other["conference"], 2025)["total"]["attributions"] == 1


def test_errors_in_french(world):
    with pytest.raises(CommandError, match="Conférence inconnue : « nulle-part »"):
        call_command("bilan", conference="nulle-part", year="2025", stdout=io.StringIO())
    with pytest.raises(CommandError, match="Année invalide"):
        call_command(
            "bilan", conference=world["conference"].slug, year="deux", stdout=io.StringIO()
        )


def test_a_former_member_with_attributions_is_still_listed(world):
    second = world["bailleurs"][1]
    with conference_scope(world["conference"]):
        Membership.objects.filter(organisation=second).delete()
    listed = {b["siren"]: b for b in run_bilan(world["conference"], 2025)["par_bailleur"]}
    assert listed[second.siren]["nom"] == "Habitat 2"
    assert listed[second.siren]["attributions"] == 3
    # Without attributions in the year, a former member is not listed.
    assert second.siren not in {
        b["siren"] for b in run_bilan(world["conference"], 2024)["par_bailleur"]
    }
