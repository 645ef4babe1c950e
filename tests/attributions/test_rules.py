"""The rules on one household, with cases a reader can check by hand."""

from decimal import Decimal

import pytest

from attributions import rules
from attributions.services import RowInvalid, check_row
from cil.tenancy import conference_scope
from tests.attributions.factories import row, territory

SCALE = rules.UcScale()
pytestmark = pytest.mark.django_db


def test_uc_scale():
    assert rules.consumption_units(1, 0, SCALE) == Decimal("1")
    # couple + two children under 14: 1 + 0.5 + 0.3 + 0.3
    assert rules.consumption_units(4, 2, SCALE) == Decimal("2.1")
    # parent and a 15-year-old: 1 + 0.5
    assert rules.consumption_units(2, 0, SCALE) == Decimal("1.5")


def test_income_exactly_at_the_threshold_is_not_q1():
    # 14 814 € for 1.5 UC = 9 876 € per UC, the threshold itself.
    assert (
        rules.is_q1(annual_income=Decimal("14814"), uc=Decimal("1.5"), threshold=Decimal("9876"))
        is False
    )
    assert (
        rules.is_q1(annual_income=Decimal("14813.99"), uc=Decimal("1.5"), threshold=Decimal("9876"))
        is True
    )


def test_no_rounding_before_the_comparison():
    # 29 627.99 / 3 = 9 875.996…, which rounds to 9 876.00, but is below the threshold.
    assert rules.income_per_uc(Decimal("29627.99"), Decimal("3")) == Decimal("9876.00")
    assert (
        rules.is_q1(annual_income=Decimal("29627.99"), uc=Decimal("3"), threshold=Decimal("9876"))
        is True
    )


def test_zero_income_is_q1_unknown_income_is_not_classable():
    assert (
        rules.is_q1(annual_income=Decimal("0"), uc=Decimal("1"), threshold=Decimal("9876")) is True
    )
    assert rules.is_q1(annual_income=None, uc=Decimal("1"), threshold=Decimal("9876")) is None
    assert rules.is_q1(annual_income=Decimal("1"), uc=Decimal("1"), threshold=None) is None


def test_given_income_per_uc_is_used_as_is():
    assert (
        rules.is_q1(
            annual_income=Decimal("1"),
            uc=Decimal("1"),
            threshold=Decimal("9876"),
            given_income_per_uc=Decimal("9876"),
        )
        is False
    )


def test_row_derivation_year_qpv_uc_q1():
    world = territory()
    with conference_scope(world["conference"]):
        fields = check_row(
            row(
                world["bailleurs"][0],
                commune_insee="76540",
                qpv_code="QN07601M",
                nb_personnes="3",
                nb_enfants_moins_14="1",
                revenu_annuel="17000",
            ),
            conference=world["conference"],
        )
    assert fields["year"] == 2025
    assert fields["in_qpv"] is True
    assert fields["uc"] == Decimal("1.8")
    assert fields["income_per_uc"] == Decimal("9444.44")
    assert fields["is_q1"] is True


def test_dalo_implies_prioritaire():
    world = territory()
    with conference_scope(world["conference"]):
        fields = check_row(
            row(world["bailleurs"][0], dalo="oui", prioritaire="non"),
            conference=world["conference"],
        )
    assert fields["prioritaire"] is True


def test_previous_threshold_applies_provisionally():
    world = territory(years=(2024,))
    with conference_scope(world["conference"]):
        fields = check_row(
            row(world["bailleurs"][0], date_signature_bail="2025-01-02", revenu_annuel="9000"),
            conference=world["conference"],
        )
    assert fields["is_q1"] is True


@pytest.mark.parametrize(
    ("overrides", "column", "message"),
    [
        ({"commune_insee": "76999"}, "commune_insee", "n'appartient pas au territoire"),
        ({"qpv_code": "QN07601M"}, "qpv_code", "n'est pas situé sur la commune 76541"),
        (
            {"commune_insee": "76540", "qpv_code": "QN07601M", "date_signature_bail": "2023-06-01"},
            "qpv_code",
            "n'est pas en vigueur en 2023",
        ),
        (
            {"nb_personnes": "2", "nb_enfants_moins_14": "2"},
            "nb_enfants_moins_14",
            "doit être inférieur",
        ),
        ({"bailleur_siren": "356000000"}, "bailleur_siren", "bailleur membre"),
        ({"date_signature_bail": "31/02/2025"}, "date_signature_bail", "Date attendue"),
        ({"revenu_annuel": "-3"}, "revenu_annuel", "négatif"),
        ({"reservataire": "mairie"}, "reservataire", "Code réservataire inconnu"),
        ({"dalo": "peut-être"}, "dalo", "Valeur oui/non attendue"),
    ],
)
def test_row_problems_name_the_column_in_french(overrides, column, message):
    world = territory()
    with conference_scope(world["conference"]), pytest.raises(RowInvalid) as caught:
        check_row(row(world["bailleurs"][0], **overrides), conference=world["conference"])
    assert [(c, m) for c, _v, m in caught.value.problems if message in m] == [
        (column, next(m for c, _v, m in caught.value.problems if message in m))
    ]


def test_a_bailleur_cannot_report_for_another():
    world = territory()
    first, second = world["bailleurs"]
    with conference_scope(world["conference"]), pytest.raises(RowInvalid) as caught:
        check_row(row(second), conference=world["conference"], acting_bailleur_id=first.pk)
    assert caught.value.problems[0][0] == "bailleur_siren"
