"""Demand indicators on small hand-made frames (observatoire/indicators/demand.py). Each
expected value is computed by hand in the test's docstring."""

from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from observatoire.indicators import demand

NAN = float("nan")


def demands(*rows: dict) -> pd.DataFrame:
    """A demand frame; each row gives what it needs, the rest takes neutral defaults."""
    defaults = {
        "date_depot": date(2024, 1, 1),
        "date_radiation": None,
        "motif_radiation": "",
        "commune_insee": "76540",
        "typologie": "T2",
        "nb_personnes": 2,
        "mutation": False,
        "revenu_par_uc": 10000.0,
    }
    return pd.DataFrame([{**defaults, **row} for row in rows])


def attributions(*rows: dict) -> pd.DataFrame:
    defaults = {"year": 2025, "commune_insee": "76540", "typologie": "T2", "mutation": False}
    return pd.DataFrame([{**defaults, **row} for row in rows])


# --- Q1 threshold ---------------------------------------------------------------------------


def test_threshold_is_the_highest_income_of_the_poorest_quarter():
    """Known incomes 1000, 3000, 2000, 5000, 4000 (the NaN is excluded): n = 5, the poorest
    quarter is the first ⌈5/4⌉ = 2 applicants (1000, 2000), the threshold is 2000."""
    incomes = pd.Series([1000, 3000, 2000, NAN, 5000, 4000])
    assert demand.q1_threshold(incomes) == Decimal("2000.00")


@pytest.mark.parametrize(
    ("incomes", "expected"),
    [
        # n = 4: ⌈4/4⌉ = 1 → the smallest.
        ([40, 10, 30, 20], "10.00"),
        # n = 8: ⌈8/4⌉ = 2 → the second smallest.
        ([80, 70, 60, 50, 40, 30, 20, 10], "20.00"),
        # n = 9: ⌈9/4⌉ = 3 → the third smallest.
        ([9, 8, 7, 6, 5, 4, 3, 2, 1], "3.00"),
        # n = 1: the only income; a zero income is an income.
        ([0], "0.00"),
    ],
)
def test_threshold_rank_is_the_ceiling_of_a_quarter(incomes, expected):
    assert demand.q1_threshold(pd.Series(incomes, dtype="float64")) == Decimal(expected)


def test_threshold_from_decimals_is_exact_to_the_cent():
    """n = 3, ⌈3/4⌉ = 1: the smallest, 8 671.37 €, given as Decimal objects."""
    incomes = pd.Series([Decimal("9243.10"), None, Decimal("8671.37"), Decimal("12087.99")])
    assert demand.q1_threshold(incomes) == Decimal("8671.37")


def test_no_known_income_gives_no_threshold():
    assert demand.q1_threshold(pd.Series([NAN, NAN])) is None
    assert demand.q1_threshold(pd.Series([], dtype="float64")) is None


def test_threshold_for_a_year_uses_the_stock_at_31_december_before():
    """For 2025: the demands active at 31/12/2024. Out: deposited 05/01/2025 (100 €), closed
    31/12/2024 (200 €). In: 300, 400 (closed in 2025, still active at 31/12/2024), 500,
    600 € → n = 4, ⌈4/4⌉ = 1 → 300 €."""
    frame = demands(
        {"date_depot": date(2025, 1, 5), "revenu_par_uc": 100.0},
        {"date_radiation": date(2024, 12, 31), "revenu_par_uc": 200.0},
        {"revenu_par_uc": 300.0},
        {"date_radiation": date(2025, 2, 1), "revenu_par_uc": 400.0},
        {"revenu_par_uc": 500.0},
        {"revenu_par_uc": 600.0},
    )
    assert demand.q1_threshold_for_year(frame, 2025) == Decimal("300.00")


def test_thresholds_of_many_conferences_at_once_match_one_by_one():
    """Conference a: 10, 20, 30, 40, 50 → ⌈5/4⌉ = 2 → 20. Conference b: 7, NaN → n = 1 → 7.
    Conference c: only unknown incomes → no row."""
    frame = demands(
        *({"revenu_par_uc": float(v), "conference": "a"} for v in (50, 10, 40, 20, 30)),
        {"revenu_par_uc": 7.0, "conference": "b"},
        {"revenu_par_uc": NAN, "conference": "b"},
        {"revenu_par_uc": NAN, "conference": "c"},
    )
    result = demand.q1_thresholds_by(frame, date(2025, 12, 31))
    assert result.to_dict("records") == [
        {"conference": "a", "threshold": 20.0, "applicants": 5},
        {"conference": "b", "threshold": 7.0, "applicants": 1},
    ]
    one = frame[frame["conference"] == "a"]
    assert demand.q1_threshold(one["revenu_par_uc"]) == Decimal("20.00")


# --- Active demand ----------------------------------------------------------------------------


def test_active_at_a_date_bounds():
    """At 31/12/2025: deposited that day → active; closed that day → not active; closed the
    day after → active; deposited the day after → not yet."""
    frame = demands(
        {"date_depot": date(2025, 12, 31)},
        {"date_radiation": date(2025, 12, 31)},
        {"date_radiation": date(2026, 1, 1)},
        {"date_depot": date(2026, 1, 1)},
    )
    active = demand.active_demands(frame, date(2025, 12, 31))
    assert list(active.index) == [0, 2]


def test_income_quartiles_from_the_cut_points():
    """Incomes 10…80 (n = 8): cuts at ranks ⌈8/4⌉ = 2, ⌈16/4⌉ = 4, ⌈24/4⌉ = 6 → 20, 40, 60.
    A value equal to a cut is in the lower quartile."""
    incomes = pd.Series([10, 20, 30, 40, 50, 60, 70, 80, NAN])
    assert demand.quartile_cuts(incomes) == (20.0, 40.0, 60.0)
    assert list(demand.income_quartiles(incomes)) == [
        "Q1",
        "Q1",
        "Q2",
        "Q2",
        "Q3",
        "Q3",
        "Q4",
        "Q4",
        "inconnu",
    ]


def test_active_demand_by_commune_counts_mutations_and_shares():
    """Active at 31/12/2025: 76540 has 3 (1 mutation), 76541 has 1; one closed demand of
    76541 is left out. Shares 3/4 and 1/4."""
    frame = demands(
        {"commune_insee": "76540", "mutation": True},
        {"commune_insee": "76540"},
        {"commune_insee": "76540"},
        {"commune_insee": "76541"},
        {"commune_insee": "76541", "date_radiation": date(2025, 6, 1)},
    )
    table = demand.active_demand_by(frame, date(2025, 12, 31), ["commune_insee"])
    assert table.to_dict("records") == [
        {"commune_insee": "76540", "demands": 3, "mutations": 1, "share": 0.75},
        {"commune_insee": "76541", "demands": 1, "mutations": 0, "share": 0.25},
    ]


def test_active_demand_by_quartile_and_household_size():
    """Active: incomes 100, 200, 300, 400 and one unknown. Cuts ⌈1⌉, ⌈2⌉, ⌈3⌉ → 100, 200,
    300: one demand per quartile, one « inconnu ». Sizes 1, 2, 6, 9, 2 → 1: 1, 2: 2, 6+: 2."""
    frame = demands(
        {"revenu_par_uc": 100.0, "nb_personnes": 1},
        {"revenu_par_uc": 200.0, "nb_personnes": 2},
        {"revenu_par_uc": 300.0, "nb_personnes": 6},
        {"revenu_par_uc": 400.0, "nb_personnes": 9},
        {"revenu_par_uc": NAN, "nb_personnes": 2},
    )
    at = date(2025, 12, 31)
    by_quartile = demand.active_demand_by(frame, at, [demand.QUARTILE])
    assert dict(zip(by_quartile["quartile"], by_quartile["demands"], strict=True)) == {
        "Q1": 1,
        "Q2": 1,
        "Q3": 1,
        "Q4": 1,
        "inconnu": 1,
    }
    by_size = demand.active_demand_by(frame, at, [demand.HOUSEHOLD_SIZE])
    assert dict(zip(by_size["taille_menage"], by_size["demands"], strict=True)) == {
        "1": 1,
        "2": 2,
        "6+": 2,
    }


# --- Pressure -----------------------------------------------------------------------------------


def test_pressure_by_commune_and_typology_with_and_without_mutations():
    """Active demands at 31/12/2025 — 76540 T2: 6 (2 mutations), 76540 T3: 3, 76541 T2: 4.
    Attributions of 2025 — 76540 T2: 4 (1 mutation), 76541 T2: 2, 76542 T1: 1; one of 2024
    in 76540 T2 is not counted.
    - 76540 T2: 6/4 = 1.5; without mutations (6 − 2)/(4 − 1) = 4/3.
    - 76540 T3: 3/0 → NaN (« — »).
    - 76541 T2: 4/2 = 2; 4/2 = 2.
    - 76542 T1: 0/1 = 0."""
    frame = demands(
        *[{"commune_insee": "76540", "typologie": "T2", "mutation": n < 2} for n in range(6)],
        *[{"commune_insee": "76540", "typologie": "T3"}] * 3,
        *[{"commune_insee": "76541", "typologie": "T2"}] * 4,
    )
    leases = attributions(
        *[{"commune_insee": "76540", "typologie": "T2", "mutation": n == 0} for n in range(4)],
        {"commune_insee": "76541", "typologie": "T2"},
        {"commune_insee": "76541", "typologie": "T2"},
        {"commune_insee": "76542", "typologie": "T1"},
        {"commune_insee": "76540", "typologie": "T2", "year": 2024},
    )
    table = demand.pressure(frame, leases, 2025).set_index(["commune_insee", "typologie"])
    assert table.loc[("76540", "T2"), "pressure"] == 1.5
    assert table.loc[("76540", "T2"), "pressure_excl_mutations"] == pytest.approx(4 / 3)
    assert np.isnan(table.loc[("76540", "T3"), "pressure"])
    assert table.loc[("76540", "T3"), "demands"] == 3
    assert table.loc[("76541", "T2"), "pressure"] == 2.0
    assert table.loc[("76542", "T1"), "pressure"] == 0.0
    assert table.loc[("76542", "T1"), "demands"] == 0
    assert list(table.index) == [("76540", "T2"), ("76540", "T3"), ("76541", "T2"), ("76542", "T1")]


def test_pressure_of_the_whole_territory():
    """3 active demands (1 mutation) for 2 attributions (1 mutation): 1.5 and 2/1 = 2."""
    frame = demands({"mutation": True}, {}, {})
    leases = attributions({"mutation": True}, {})
    row = demand.pressure(frame, leases, 2025, by=()).iloc[0]
    assert (row["demands"], row["attributions"], row["pressure"]) == (3, 2, 1.5)
    assert row["pressure_excl_mutations"] == 2.0


# --- Waiting time ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        (date(2025, 1, 15), date(2025, 3, 14), 1),
        (date(2025, 1, 15), date(2025, 3, 15), 2),
        (date(2025, 1, 31), date(2025, 2, 28), 0),
        (date(2023, 12, 31), date(2025, 12, 31), 24),
    ],
)
def test_age_in_completed_months(start, end, months):
    assert demand.age_in_months(pd.Series([start]), end).iloc[0] == months


def waiting_frame() -> pd.DataFrame:
    return demands(
        # Satisfied in 2025: 13, 36, 23 and 24 months.
        {"date_depot": date(2024, 1, 15), "date_radiation": date(2025, 3, 14)},
        {"date_depot": date(2022, 6, 1), "date_radiation": date(2025, 6, 1)},
        {"date_depot": date(2023, 5, 10), "date_radiation": date(2025, 5, 9)},
        {"date_depot": date(2023, 5, 10), "date_radiation": date(2025, 5, 10)},
        # Not satisfied in 2025: a renunciation, an attribution of 2024.
        {
            "date_depot": date(2020, 1, 1),
            "date_radiation": date(2025, 2, 1),
            "motif_radiation": "renonciation",
        },
        {"date_depot": date(2020, 1, 1), "date_radiation": date(2024, 2, 1)},
        # Active at 31/12/2025: 24, 23, 6 and 71 months (the last closed in 2026).
        {"date_depot": date(2023, 12, 31)},
        {"date_depot": date(2024, 1, 1)},
        {"date_depot": date(2025, 6, 30)},
        {"date_depot": date(2020, 1, 1), "date_radiation": date(2026, 2, 1)},
    ).assign(
        motif_radiation=lambda f: np.where(
            f["date_radiation"].notna() & (f["motif_radiation"] == ""),
            "attribution",
            f["motif_radiation"],
        )
    )


def test_waiting_time_median_and_share_beyond_the_delai():
    """Satisfied in 2025: ages 13, 23, 24, 36 months → median (23 + 24)/2 = 23.5; with a délai
    of 24 months, 24 and 36 reached it: 2/4. Active at 31/12/2025: ages 24, 23, 6, 71 → 2/4."""
    result = demand.waiting_time(waiting_frame(), 2025, 24)
    assert result == {
        "satisfied": 4,
        "median_months": 23.5,
        "satisfied_beyond": 2,
        "satisfied_beyond_share": 0.5,
        "active": 4,
        "active_beyond": 2,
        "active_beyond_share": 0.5,
    }


def test_waiting_time_without_a_delai_gives_no_share():
    result = demand.waiting_time(waiting_frame(), 2025, None)
    assert result["median_months"] == 23.5
    assert result["satisfied_beyond"] is None
    assert result["active_beyond_share"] is None


def test_waiting_time_of_a_year_without_attribution():
    result = demand.waiting_time(waiting_frame(), 2019, 24)
    assert result["satisfied"] == 0
    assert result["median_months"] is None
    assert result["satisfied_beyond_share"] is None


def test_pressure_with_no_demand_at_all():
    """No demand (an empty frame, categorical keys of no type) and 2 attributions in 76540
    T2: demands 0, pressure 0/2 = 0."""
    frame = (
        demands({})
        .iloc[0:0]
        .astype({"commune_insee": object, "typologie": object})
        .astype({"commune_insee": "category", "typologie": "category"})
    )
    leases = attributions({}, {}).astype({"commune_insee": "category", "typologie": "category"})
    table = demand.pressure(frame, leases, 2025)
    assert table[["demands", "attributions", "pressure"]].to_dict("records") == [
        {"demands": 0, "attributions": 2, "pressure": 0.0}
    ]


@settings(deadline=None, max_examples=40)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c"]),
            st.one_of(st.none(), st.integers(0, 5_000_000).map(lambda c: c / 100)),
        ),
        min_size=1,
        max_size=40,
    ),
    st.booleans(),
)
def test_vectorised_thresholds_match_one_conference_at_a_time(rows, sub_cent):
    """Whatever the incomes (whole cents: the integer-key sort; or not: lexsort), each
    group's threshold is `q1_threshold` of its own incomes."""
    frame = demands(
        *(
            {
                "conference": conference,
                "revenu_par_uc": NAN if income is None else income + (0.001 if sub_cent else 0),
            }
            for conference, income in rows
        )
    )
    result = demand.q1_thresholds_by(frame, date(2025, 12, 31)).set_index("conference")
    for conference, group in frame.groupby("conference"):
        expected = demand.q1_threshold(group["revenu_par_uc"])
        if expected is None:
            assert conference not in result.index
        else:
            value = result.loc[conference, "threshold"]
            assert Decimal(f"{value:.2f}") == expected
            known = group["revenu_par_uc"].dropna()
            assert value == sorted(known)[-(-len(known) // 4) - 1]
