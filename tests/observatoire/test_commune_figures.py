"""The figures of each commune, on hand-made frames: the counts, then statistical secrecy
for aggregate-only roles (which cells are hidden, and why).

The territory (2025), threshold 11:

| commune | hors QPV (Q1) | en QPV (Q1) | total | active demands (mutations) |
|---|---|---|---|---|
| A 76001 | 30 (8) | 12 (3) | 42 | 25 (5) |
| B 76002 | 5 (2) | 0 | 5 | 3 (0) |
| C 76003 | 40 (10, and 1 unknown income) | 20 (5) | 60 | 0 |

Suppression of the table communes × (hors QPV, en QPV) with its margins: B's 5 and B's
total 5 are below 11 (primary). Column « hors QPV » then holds one hidden cell: its smallest
other non-zero cell, A's 30, is hidden too; likewise column « total »: A's 42. Row A holds
two hidden cells, and the four hidden cells form a cycle: nothing else is hidden.
"""

from datetime import date

import pandas as pd
import pytest

from observatoire import commune_figures as cf
from observatoire.commune_figures import FEW_IN_GROUP, FEW_IN_TOTAL, LINKED, MISSING, SECRET

COMMUNES = ["76001", "76002", "76003"]


def leases(insee, n, *, q1=0, unknown=0, in_qpv=False, year=2025, mutation=0):
    flags = [True] * q1 + [pd.NA] * unknown + [False] * (n - q1 - unknown)
    return [
        {
            "year": year,
            "commune_insee": insee,
            "in_qpv": in_qpv,
            "qpv_code": "QN07601M" if in_qpv else "",
            "is_q1": flag,
            "typologie": "T3",
            "mutation": i < mutation,
        }
        for i, flag in enumerate(flags)
    ]


def attribution_frame(*groups) -> pd.DataFrame:
    frame = pd.DataFrame([row for group in groups for row in group])
    frame["is_q1"] = frame["is_q1"].astype("boolean")
    return frame


ATTRIBUTIONS = attribution_frame(
    leases("76001", 30, q1=8),
    leases("76001", 12, q1=3, in_qpv=True),
    leases("76002", 5, q1=2),
    leases("76003", 40, q1=10, unknown=1),
    leases("76003", 20, q1=5, in_qpv=True),
    leases("76003", 7, q1=7, year=2024),  # another year: not counted in 2025
)


def demands_frame() -> pd.DataFrame:
    rows = [
        {"commune_insee": "76001", "mutation": i < 5, "date_radiation": None} for i in range(25)
    ]
    rows += [{"commune_insee": "76002", "mutation": False, "date_radiation": None}] * 3
    # Closed before the end of 2025: not active at 31 December.
    rows += [{"commune_insee": "76001", "mutation": False, "date_radiation": date(2025, 6, 1)}]
    frame = pd.DataFrame(rows)
    frame["date_depot"] = pd.Timestamp("2024-03-01")
    frame["date_radiation"] = pd.to_datetime(frame["date_radiation"])
    frame["motif_radiation"] = ""
    frame["typologie"] = "T3"
    frame["nb_personnes"] = 2
    frame["revenu_par_uc"] = 8000.0
    return frame


BILAN = {
    "par_commune": [
        {
            "insee": "76001",
            "attributions": 42,
            "r1_q1_hors_qpv": {"numerateur": 8, "denominateur": 30, "taux": 8 / 30, "cible": 0.25},
            "r2_hors_q1_en_qpv": {"numerateur": 9, "denominateur": 12, "taux": 0.75, "cible": 0.5},
        },
        {
            "insee": "76002",
            "attributions": 5,
            "r1_q1_hors_qpv": {"numerateur": 2, "denominateur": 5, "taux": 0.4, "cible": 0.25},
            "r2_hors_q1_en_qpv": {"numerateur": 0, "denominateur": 0, "taux": None, "cible": 0.5},
        },
        {
            "insee": "76003",
            "attributions": 60,
            "r1_q1_hors_qpv": {"numerateur": 12, "denominateur": 40, "taux": 0.3, "cible": 0.25},
            "r2_hors_q1_en_qpv": {"numerateur": 15, "denominateur": 20, "taux": 0.75, "cible": 0.5},
        },
    ]
}


def figures(threshold):
    dwellings = pd.DataFrame(
        {
            "millesime": [2025] * 3,
            "commune_insee": ["76001", "76001", "76003"],
            "in_qpv": [True, False, False],
            "qpv_code": ["QN07601M", "", ""],
            "typologie": ["T2", "T3", "T4"],
            "financement": ["PLUS"] * 3,
        }
    )
    return cf.communes_figures(
        COMMUNES,
        year=2025,
        attributions=ATTRIBUTIONS,
        demands=demands_frame(),
        dwellings=dwellings,
        bilan=BILAN,
        threshold=threshold,
    )


def test_the_detail_shows_every_count_and_share():
    a, b, c = (figures(None)[insee] for insee in COMMUNES)
    assert (a["attributions"].value, a["hors_qpv"].value, a["en_qpv"].value) == (42, 30, 12)
    assert (a["part_q1"].numerator, a["part_q1"].denominator) == (11, 42)
    assert a["part_q1_hors_qpv"].value == pytest.approx(8 / 30)
    # An unknown income stays in the denominator, never in the numerator.
    assert (c["part_q1_hors_qpv"].numerator, c["part_q1_hors_qpv"].denominator) == (10, 40)
    assert c["taux_r1"].value == pytest.approx(0.3)
    assert c["taux_r1"].target == 0.25
    assert b["taux_r2"].state == MISSING  # no attribution in QPV
    assert (a["demandes"].value, b["demandes"].value, c["demandes"].value) == (25, 3, 0)
    assert a["demandes_mutation"].value == pytest.approx(5 / 25)
    assert a["pression"].value == pytest.approx(25 / 42)
    assert c["pression"].value == 0
    assert (a["logements"].value, a["logements_qpv"].value, b["logements"].value) == (2, 1, 0)


def test_secrecy_hides_small_counts_and_what_would_give_them_away():
    a, b, c = (figures(11)[insee] for insee in COMMUNES)
    # B: fewer than 11 attributions (primary); a true zero stays shown.
    assert (b["attributions"].state, b["attributions"].reason) == (SECRET, FEW_IN_TOTAL)
    assert (b["hors_qpv"].state, b["hors_qpv"].reason) == (SECRET, FEW_IN_TOTAL)
    assert b["en_qpv"].value == 0
    assert (b["part_q1"].state, b["part_q1"].reason) == (SECRET, FEW_IN_TOTAL)
    # A: hidden so that B's cannot be recomputed from the totals (secondary).
    assert (a["attributions"].state, a["attributions"].reason) == (SECRET, LINKED)
    assert (a["hors_qpv"].state, a["hors_qpv"].reason) == (SECRET, LINKED)
    assert a["en_qpv"].value == 12
    assert (a["part_q1"].state, a["part_q1"].reason) == (SECRET, LINKED)
    assert (a["taux_r1"].state, a["taux_r1"].reason) == (SECRET, LINKED)
    # A's R2: 9 of 12 in QPV, complement 3 < 11.
    assert (a["taux_r2"].state, a["taux_r2"].reason) == (SECRET, FEW_IN_GROUP)
    # C: shown, except shares whose numerator or complement is small.
    assert c["attributions"].value == 60
    assert c["part_q1"].value == pytest.approx(15 / 60)
    assert (c["part_q1_hors_qpv"].state, c["part_q1_hors_qpv"].reason) == (
        SECRET,
        FEW_IN_GROUP,
    )
    assert c["part_q1_hors_qpv"].denominator == 40  # the denominator itself may be shown
    assert c["taux_r1"].value == pytest.approx(0.3)
    assert (c["taux_r2"].state, c["taux_r2"].reason) == (SECRET, FEW_IN_GROUP)  # 20 − 15 = 5


def test_secrecy_on_demand_and_pressure_and_none_on_the_offer():
    a, b, c = (figures(11)[insee] for insee in COMMUNES)
    # Column « demands »: B's 3 (primary), then its smallest other non-zero cell, A's 25.
    assert (b["demandes"].state, b["demandes"].reason) == (SECRET, FEW_IN_TOTAL)
    assert (a["demandes"].state, a["demandes"].reason) == (SECRET, LINKED)
    assert c["demandes"].value == 0
    assert (b["pression"].state, b["pression"].reason) == (SECRET, FEW_IN_TOTAL)
    assert (a["pression"].state, a["pression"].reason) == (SECRET, LINKED)
    assert c["pression"].value == 0
    # Dwellings (RPLS, public): never hidden, even one.
    assert a["logements_qpv"].value == 1


def test_without_demand_nor_offer_those_figures_are_absent():
    result = cf.communes_figures(COMMUNES, year=2025, attributions=ATTRIBUTIONS, threshold=11)
    assert "demandes" not in result["76001"]
    assert "logements" not in result["76001"]
    assert result["76001"]["taux_r1"].state == MISSING  # no bilan given


def test_a_year_without_attributions():
    result = cf.communes_figures(COMMUNES, year=2023, attributions=ATTRIBUTIONS, threshold=11)
    assert result["76001"]["attributions"].value == 0
    assert result["76001"]["part_q1"].state == MISSING


@pytest.mark.parametrize(
    ("millesimes", "year", "expected"),
    [
        ([2023, 2024, 2025, 2026], 2024, 2025),
        ([2023], 2025, 2023),
        ([2027], 2024, 2027),
        ([], 2025, None),
    ],
)
def test_the_rpls_millesime_of_a_year(millesimes, year, expected):
    assert cf.pick_millesime(millesimes, year) == expected
