"""The pure bilan computation (`attributions.indicators.bilan`) on small hand-made frames."""

import gc
import json
from decimal import Decimal

import pandas as pd
import pytest

from attributions.indicators.bilan import (
    COLUMNS,
    COUNTS,
    RESERVATAIRE_COUNTS,
    TABLES,
    ConferenceInputs,
    build_documents,
    compute_bilan,
    compute_many,
    count_tables,
    gap,
    gc_postponed,
    in_contract_order,
    missing_attributions,
    rate,
    trend,
)

B1, B2, B3 = "100000001", "200000002", "300000003"
V1, V2 = "76540", "76541"


def attribution(**overrides) -> dict:
    """A row of the frame: outside QPV, Q1, income known, no flag, non-reserved stock."""
    base = {
        "bailleur_siren": B1,
        "commune_insee": V1,
        "in_qpv": False,
        "is_q1": True,
        "income_known": True,
        "dalo": False,
        "prioritaire": False,
        "relogement_npnru": False,
        "mutation": False,
        "reservataire": "non_reserve",
        "reservataire_siren": None,
    }
    base.update(overrides)
    return base


def frame(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=list(COLUMNS))


def bilan(*rows: dict, **settings) -> dict:
    arguments = {
        "conference_slug": "agglo",
        "year": 2025,
        "threshold": Decimal("9876.00"),
        "rates": None,
        "objectives": None,
        "bailleurs": [(B1, "Habitat 1"), (B2, "Habitat 2")],
        "communes": [V1, V2],
    }
    arguments.update(settings)
    return compute_bilan(frame(*rows), **arguments)


# The example of shared/formats.md (`bilan` v1): the keys and their order are the contract.
CONTRACT_KEYS = {
    "document": [
        "format",
        "conference",
        "annee",
        "seuil_q1",
        "total",
        "r1_q1_hors_qpv",
        "r2_hors_q1_en_qpv",
        "par_bailleur",
        "par_reservataire",
        "par_commune",
    ],
    "total": [
        "attributions",
        "hors_qpv",
        "en_qpv",
        "revenu_inconnu",
        "dalo",
        "prioritaires",
        "mutations",
        "relogements_npnru",
    ],
    "indicator": ["numerateur", "denominateur", "taux", "cible"],
    "par_bailleur": [
        "siren",
        "nom",
        "attributions",
        "r1_q1_hors_qpv",
        "r2_hors_q1_en_qpv",
        "r3_prioritaires_non_reserve",
    ],
    "par_reservataire": ["reservataire", "siren", "r3_prioritaires"],
    "par_commune": ["insee", "attributions", "r1_q1_hors_qpv", "r2_hors_q1_en_qpv"],
}


def test_keys_and_their_order_are_the_contracts():
    document = bilan(attribution(reservataire="action_logement"))
    assert list(document) == CONTRACT_KEYS["document"]
    assert list(document["total"]) == CONTRACT_KEYS["total"]
    assert list(document["r1_q1_hors_qpv"]) == CONTRACT_KEYS["indicator"]
    for key in ("par_bailleur", "par_reservataire", "par_commune"):
        assert list(document[key][0]) == CONTRACT_KEYS[key]
    assert (
        list(document["par_bailleur"][0]["r3_prioritaires_non_reserve"])
        == (CONTRACT_KEYS["indicator"])
    )
    assert document["format"] == "bilan/v1"
    assert document["conference"] == "agglo"
    assert document["annee"] == 2025
    assert document["seuil_q1"] == 9876.0


def test_income_at_the_threshold_is_not_q1():
    # is_q1 False: known income ≥ threshold (an income per UC equal to it is not Q1).
    document = bilan(
        attribution(is_q1=False),  # outside QPV: not in R1's numerator
        attribution(is_q1=True),
        attribution(in_qpv=True, is_q1=False),  # in QPV: in R2's numerator
        attribution(in_qpv=True, is_q1=True),
    )
    assert document["r1_q1_hors_qpv"] == {
        "numerateur": 1,
        "denominateur": 2,
        "taux": 0.5,
        "cible": 0.25,
    }
    assert document["r2_hors_q1_en_qpv"] == {
        "numerateur": 1,
        "denominateur": 2,
        "taux": 0.5,
        "cible": 0.5,
    }


def test_unknown_income_is_in_no_numerator_but_in_the_denominators():
    document = bilan(
        attribution(is_q1=None, income_known=False),
        attribution(in_qpv=True, is_q1=pd.NA, income_known=False),
        attribution(in_qpv=True, is_q1=False),
    )
    assert document["total"]["revenu_inconnu"] == 2
    assert document["r1_q1_hors_qpv"]["numerateur"] == 0
    assert document["r1_q1_hors_qpv"]["denominateur"] == 1
    # Not Q1, but not « hors Q1 » either: R2 counts only known incomes ≥ threshold.
    assert document["r2_hors_q1_en_qpv"]["numerateur"] == 1
    assert document["r2_hors_q1_en_qpv"]["denominateur"] == 2


def test_npnru_outside_qpv_counts_in_r1_whatever_its_income():
    document = bilan(
        attribution(relogement_npnru=True, is_q1=False),
        attribution(relogement_npnru=True, is_q1=None, income_known=False),
        attribution(is_q1=False),
        # In QPV, an NPNRU household is outside R1 (its denominator is outside QPV).
        attribution(in_qpv=True, relogement_npnru=True, is_q1=True),
    )
    assert document["r1_q1_hors_qpv"] == {
        "numerateur": 2,
        "denominateur": 3,
        "taux": 0.6667,
        "cible": 0.25,
    }
    assert document["total"]["relogements_npnru"] == 3


def test_an_epci_without_qpv_applies_r1_to_all_its_attributions():
    document = bilan(attribution(), attribution(is_q1=False), attribution(is_q1=False))
    assert document["r1_q1_hors_qpv"]["denominateur"] == document["total"]["attributions"] == 3
    assert document["r2_hors_q1_en_qpv"] == {
        "numerateur": 0,
        "denominateur": 0,
        "taux": None,
        "cible": 0.5,
    }


def test_totals():
    document = bilan(
        attribution(dalo=True, prioritaire=True, mutation=True),
        attribution(in_qpv=True, prioritaire=True, is_q1=None, income_known=False),
        attribution(relogement_npnru=True, bailleur_siren=B2),
    )
    assert document["total"] == {
        "attributions": 3,
        "hors_qpv": 2,
        "en_qpv": 1,
        "revenu_inconnu": 1,
        "dalo": 1,
        "prioritaires": 2,
        "mutations": 1,
        "relogements_npnru": 1,
    }


def test_dalo_implies_prioritaire_in_r3():
    # A DALO household not flagged prioritaire still counts as prioritaire (CCH L.441-1).
    document = bilan(
        attribution(reservataire="action_logement", dalo=True, prioritaire=False),
        attribution(reservataire="action_logement"),
        attribution(dalo=True, prioritaire=False),
    )
    assert document["total"]["prioritaires"] == 2
    assert document["par_reservataire"] == [
        {
            "reservataire": "action_logement",
            "siren": None,
            "r3_prioritaires": {"numerateur": 1, "denominateur": 2, "taux": 0.5, "cible": 0.25},
        }
    ]
    assert document["par_bailleur"][0]["r3_prioritaires_non_reserve"] == {
        "numerateur": 1,
        "denominateur": 1,
        "taux": 1.0,
        "cible": 0.25,
    }


def test_non_reserve_is_counted_per_bailleur_only():
    document = bilan(
        attribution(prioritaire=True),
        attribution(),
        attribution(bailleur_siren=B2, reservataire="etat_prioritaires", prioritaire=True),
    )
    assert [r["reservataire"] for r in document["par_reservataire"]] == ["etat_prioritaires"]
    habitat_1, habitat_2 = document["par_bailleur"]
    assert habitat_1["r3_prioritaires_non_reserve"]["numerateur"] == 1
    assert habitat_1["r3_prioritaires_non_reserve"]["denominateur"] == 2
    # Habitat 2's attribution is on the State's contingent, not on its own stock.
    assert habitat_2["attributions"] == 1
    assert habitat_2["r3_prioritaires_non_reserve"]["denominateur"] == 0


def test_reservataires_sorted_by_code_then_siren_null_first():
    document = bilan(
        attribution(reservataire="commune", reservataire_siren="217600000"),
        attribution(reservataire="commune", reservataire_siren=""),
        attribution(reservataire="commune", reservataire_siren=None, prioritaire=True),
        attribution(reservataire="action_logement", reservataire_siren="300000003"),
        attribution(reservataire="commune", reservataire_siren="117600000"),
    )
    assert [(r["reservataire"], r["siren"]) for r in document["par_reservataire"]] == [
        ("action_logement", "300000003"),
        ("commune", None),
        ("commune", "117600000"),
        ("commune", "217600000"),
    ]
    # "" and None are the same « no SIREN »: one line.
    assert document["par_reservataire"][1]["r3_prioritaires"]["denominateur"] == 2
    assert document["par_reservataire"][1]["r3_prioritaires"]["numerateur"] == 1


def test_every_bailleur_listed_sorted_by_siren_with_zeros():
    document = bilan(
        attribution(bailleur_siren=B2),
        bailleurs=[(B3, "Sans rapport"), (B2, "Habitat 2"), (B1, "Habitat 1")],
    )
    assert [(b["siren"], b["nom"], b["attributions"]) for b in document["par_bailleur"]] == [
        (B1, "Habitat 1", 0),
        (B2, "Habitat 2", 1),
        (B3, "Sans rapport", 0),
    ]
    silent = document["par_bailleur"][2]
    assert silent["r1_q1_hors_qpv"] == {
        "numerateur": 0,
        "denominateur": 0,
        "taux": None,
        "cible": 0.25,
    }
    assert silent["r2_hors_q1_en_qpv"]["taux"] is None
    assert silent["r3_prioritaires_non_reserve"]["taux"] is None


def test_every_commune_listed_sorted_by_insee():
    document = bilan(attribution(commune_insee=V2), communes=[V2, "2A004", V1])
    assert [(c["insee"], c["attributions"]) for c in document["par_commune"]] == [
        ("2A004", 0),
        (V1, 0),
        (V2, 1),
    ]
    assert document["par_commune"][0]["r1_q1_hors_qpv"]["taux"] is None


def test_conference_rates_and_legal_defaults():
    rows = (attribution(), attribution(in_qpv=True, is_q1=False))
    defaults = bilan(*rows)
    assert (defaults["r1_q1_hors_qpv"]["cible"], defaults["r2_hors_q1_en_qpv"]["cible"]) == (
        0.25,
        0.5,
    )
    adapted = bilan(*rows, rates={"r1": Decimal("0.3000"), "r2": Decimal("0.4"), "r3": 0.2})
    assert adapted["r1_q1_hors_qpv"]["cible"] == 0.3
    assert adapted["r2_hors_q1_en_qpv"]["cible"] == 0.4
    assert adapted["par_commune"][0]["r1_q1_hors_qpv"]["cible"] == 0.3
    assert adapted["par_bailleur"][0]["r3_prioritaires_non_reserve"]["cible"] == 0.2
    assert isinstance(adapted["r1_q1_hors_qpv"]["cible"], float)


def test_a_bailleurs_cia_objective_replaces_the_conference_rate():
    document = bilan(
        attribution(),
        attribution(bailleur_siren=B2),
        rates={"r1": Decimal("0.3"), "r2": Decimal("0.4"), "r3": Decimal("0.2")},
        objectives={
            (B1, 2025): {"r1": Decimal("0.35")},  # only R1 set: R2, R3 stay the conference's
            (B2, 2024): {"r1": Decimal("0.9")},  # another year: not in force in 2025
        },
    )
    habitat_1, habitat_2 = document["par_bailleur"]
    assert habitat_1["r1_q1_hors_qpv"]["cible"] == 0.35
    assert habitat_1["r2_hors_q1_en_qpv"]["cible"] == 0.4
    assert habitat_1["r3_prioritaires_non_reserve"]["cible"] == 0.2
    assert habitat_2["r1_q1_hors_qpv"]["cible"] == 0.3
    # The conference's own figures keep the conference's rate.
    assert document["r1_q1_hors_qpv"]["cible"] == 0.3


def test_a_reservataires_objective():
    document = bilan(
        attribution(reservataire="action_logement"),
        attribution(reservataire="commune", reservataire_siren="217600000"),
        reservataire_objectives={("commune", "217600000"): Decimal("0.4")},
    )
    assert [r["r3_prioritaires"]["cible"] for r in document["par_reservataire"]] == [0.25, 0.4]


def test_no_threshold_is_null():
    assert bilan(attribution(is_q1=None), threshold=None)["seuil_q1"] is None


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        (1, 3, 0.3333),
        (2, 3, 0.6667),
        (1, 32, 0.0313),  # 0.03125: half up, where round() would give 0.0312
        (1, 7, 0.1429),
        (0, 5, 0.0),
        (5, 5, 1.0),
        (0, 0, None),
    ],
)
def test_rate_rounded_to_4_decimals(numerator, denominator, expected):
    assert rate(numerator, denominator) == expected


def test_rate_in_the_document():
    rows = [attribution()] + [attribution(is_q1=False)] * 6
    assert bilan(*rows)["r1_q1_hors_qpv"]["taux"] == 0.1429


@pytest.mark.parametrize(
    ("numerator", "denominator", "target", "missing"),
    [
        (5, 40, Decimal("0.25"), 5),  # 0.25 × 40 = 10 exactly
        (10, 40, 0.25, 0),
        (12, 40, 0.25, 0),  # above the target: nothing missing, never negative
        (0, 41, 0.25, 11),  # ceil(10.25)
        (0, 30, 0.1, 3),  # 0.1 × 30 in binary floats is 3.0000000000000004: ceil would say 4
        (0, 0, 0.25, 0),
        (1, 3, "0.5", 1),  # ceil(1.5) − 1
    ],
)
def test_missing_attributions_is_exact(numerator, denominator, target, missing):
    assert missing_attributions(numerator, denominator, target) == missing


def test_gap_in_points_and_attributions():
    assert gap({"numerateur": 5, "denominateur": 40, "taux": 0.125, "cible": 0.25}) == {
        "points": -12.5,
        "manquantes": 5,
    }
    assert gap({"numerateur": 0, "denominateur": 0, "taux": None, "cible": 0.25}) == {
        "points": None,
        "manquantes": 0,
    }


def test_trend_orders_the_years():
    documents = [bilan(attribution(), year=2025), bilan(attribution(is_q1=False), year=2024)]
    assert [(point["annee"], point["taux"]) for point in trend(documents)] == [
        (2024, 0.0),
        (2025, 1.0),
    ]


def test_many_conferences_in_one_pass_equal_one_by_one():
    rows = [
        attribution(),
        attribution(in_qpv=True, is_q1=False, reservataire="commune"),
        attribution(bailleur_siren=B2, dalo=True, prioritaire=True),
    ]
    settings = {
        "nord": ConferenceInputs(
            threshold=9876, bailleurs=[(B1, "Habitat 1")], communes=[V1], rates={"r1": 0.3}
        ),
        "sud": ConferenceInputs(threshold=None, bailleurs=[(B2, "Habitat 2")], communes=[V2]),
        "vide": ConferenceInputs(bailleurs=[(B3, "Sans rapport")], communes=[V1]),
    }
    national = frame(*rows).assign(conference=["nord", "nord", "sud"])
    documents = compute_many(national, year=2025, conferences=settings)
    for slug, inputs in settings.items():
        alone = national[national["conference"] == slug].drop(columns="conference")
        assert documents[slug] == compute_bilan(
            alone,
            conference_slug=slug,
            year=2025,
            threshold=inputs.threshold,
            rates=inputs.rates,
            objectives=inputs.objectives,
            bailleurs=inputs.bailleurs,
            communes=inputs.communes,
        )
    assert documents["nord"]["total"]["attributions"] == 2
    assert documents["vide"]["total"]["attributions"] == 0
    assert documents["vide"]["par_bailleur"][0]["attributions"] == 0


def test_rows_of_an_unknown_conference_are_refused():
    with pytest.raises(ValueError, match="sans paramètres"):
        compute_many(frame(attribution()).assign(conference="x"), year=2025, conferences={})


def test_no_attribution_at_all():
    document = bilan()
    assert set(document["total"].values()) == {0}
    assert document["par_reservataire"] == []
    assert len(document["par_bailleur"]) == 2
    assert len(document["par_commune"]) == 2


def test_contract_order_restored_after_a_jsonb_round_trip():
    document = bilan(
        attribution(reservataire="commune", reservataire_siren="217600000"), attribution()
    )

    def shuffled(value):
        # jsonb sorts keys by length, then bytes: any order must come back to the contract's.
        if isinstance(value, dict):
            return {k: shuffled(value[k]) for k in sorted(value, key=lambda k: (len(k), k))}
        if isinstance(value, list):
            return [shuffled(item) for item in value]
        return value

    scrambled = shuffled(document)
    assert json.dumps(scrambled) != json.dumps(document)
    assert json.dumps(in_contract_order(scrambled)) == json.dumps(document)


# --- Counting and building apart -------------------------------------------------------------


def test_count_tables_structure():
    national = frame(
        attribution(),
        attribution(in_qpv=True, is_q1=False, reservataire="commune", reservataire_siren=None),
        attribution(bailleur_siren=B2, commune_insee=V2, reservataire="commune"),
        attribution(reservataire="commune", reservataire_siren="217600000", dalo=True),
    ).assign(conference=["nord", "nord", "nord", "sud"])
    tables = count_tables(national)
    assert list(tables) == list(TABLES)
    assert set(tables["total"]) == {"nord", "sud"}
    assert list(tables["total"]["nord"]) == [None]
    assert set(tables["bailleur"]["nord"]) == {B1, B2}
    assert set(tables["commune"]["nord"]) == {V1, V2}
    # None and "" are one « no SIREN » key, "" (it sorts first); non_reserve is not listed.
    assert tables["reservataire"]["nord"] == {("commune", ""): (2, 0)}
    assert tables["reservataire"]["sud"] == {("commune", "217600000"): (1, 1)}
    nord = dict(zip(COUNTS, tables["total"]["nord"][None], strict=True))
    assert nord["attributions"] == 3
    assert nord["r2_num"] == 1
    assert nord["non_reserve"] == 1
    for table in tables.values():
        for by_key in table.values():
            for counts in by_key.values():
                assert all(type(value) is int for value in counts)  # JSON-ready, not numpy
    assert all(
        len(counts) == len(RESERVATAIRE_COUNTS)
        for by_key in tables["reservataire"].values()
        for counts in by_key.values()
    )


def test_count_tables_ignores_the_frames_index_and_categorical_columns():
    rows = [
        attribution(),
        attribution(bailleur_siren=B2, reservataire="epci", in_qpv=True),
        attribution(reservataire="epci", reservataire_siren="200000008", prioritaire=True),
        attribution(reservataire="epci", reservataire_siren=""),
    ]
    plain = frame(*rows).assign(conference="nord")
    shuffled = plain.set_axis([10, 3, 7, 1]).astype(
        {"bailleur_siren": "category", "reservataire": "category", "reservataire_siren": "category"}
    )
    tables = count_tables(shuffled)
    assert tables == count_tables(plain)
    assert tables["reservataire"]["nord"] == {("epci", ""): (2, 0), ("epci", "200000008"): (1, 1)}


def test_documents_from_tables_produced_elsewhere():
    """The builder takes the count tables whatever produced them (e.g. SQL): written by hand
    here, they give the document the frame gives."""

    def counts(**values):
        return tuple(values.get(name, 0) for name in COUNTS)

    one = counts(attributions=1, hors_qpv=1, r1_num=1, non_reserve=1)
    in_qpv = counts(attributions=1, en_qpv=1, r2_num=1)
    tables = {
        "total": {
            "agglo": {
                None: counts(
                    attributions=2, hors_qpv=1, en_qpv=1, r1_num=1, r2_num=1, non_reserve=1
                )
            }
        },
        "bailleur": {"agglo": {B1: one, B2: in_qpv}},
        "commune": {"agglo": {V1: one, V2: in_qpv}},
        # A producer may say None for « no SIREN »: same line as "".
        "reservataire": {"agglo": {("commune", None): (1, 0)}},
    }
    settings = ConferenceInputs(
        threshold=Decimal("9876.00"),
        bailleurs=[(B1, "Habitat 1"), (B2, "Habitat 2")],
        communes=[V1, V2],
    )
    expected = bilan(
        attribution(),
        attribution(
            bailleur_siren=B2, commune_insee=V2, in_qpv=True, is_q1=False, reservataire="commune"
        ),
    )
    assert build_documents(tables, year=2025, conferences={"agglo": settings}) == {
        "agglo": expected
    }


def test_none_and_empty_siren_keys_are_one_line():
    empty = {name: {} for name in TABLES}
    tables = {**empty, "reservataire": {"a": {("epci", None): (1, 1), ("epci", ""): (2, 0)}}}
    (line,) = build_documents(tables, year=2025, conferences={"a": ConferenceInputs()})["a"][
        "par_reservataire"
    ]
    assert line == {
        "reservataire": "epci",
        "siren": None,
        "r3_prioritaires": {"numerateur": 1, "denominateur": 3, "taux": 0.3333, "cible": 0.25},
    }


def test_tables_of_an_unknown_conference_are_refused():
    tables = {name: {} for name in TABLES}
    tables["commune"] = {"x": {V1: (1,) + (0,) * (len(COUNTS) - 1)}}
    with pytest.raises(ValueError, match="sans paramètres"):
        build_documents(tables, year=2025, conferences={})


def test_gc_postponed_restores_the_collector():
    assert gc.isenabled()
    with gc_postponed():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), gc_postponed():
        raise RuntimeError
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_postponed():
            pass
        assert not gc.isenabled()  # disabled by someone else: left as it was
    finally:
        gc.enable()
