"""Segregation indices on small hand-made frames, and their properties (Hypothesis)."""

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from observatoire.indicators import segregation

NA = pd.NA


def units(*counts: tuple[int, int]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unit": [f"u{n}" for n in range(len(counts))],
            "q1": [q1 for q1, _ in counts],
            "other": [other for _, other in counts],
        }
    )


def entropy(p: float) -> float:
    return -sum(x * math.log(x) for x in (p, 1 - p) if x > 0)


def test_dissimilarity_by_hand():
    """QPV: 6 Q1, 4 others; commune A outside QPV: 2, 8; commune B outside QPV: 2, 18.
    Q1 = 10, O = 30. D = ½ (|6/10 − 4/30| + |2/10 − 8/30| + |2/10 − 18/30|)
    = ½ (7/15 + 1/15 + 6/15) = 7/15 ≈ 0,467."""
    assert segregation.dissimilarity(units((6, 4), (2, 8), (2, 18))) == pytest.approx(7 / 15)


def test_theil_by_hand():
    """Same units, T = 40, p = 10/40 = 0,25.
    E = −(0,25 ln 0,25 + 0,75 ln 0,75) = 0,562335; E_QPV (p = 0,6) = 0,673012;
    E_A (p = 0,2) = 0,500402; E_B (p = 0,1) = 0,325083.
    H = [10/40 (E − 0,673012) + 10/40 (E − 0,500402) + 20/40 (E − 0,325083)] / E
      = (−0,027669 + 0,015483 + 0,118626) / 0,562335 = 0,106440 / 0,562335 ≈ 0,18928."""
    e = entropy(0.25)
    expected = (
        0.25 * (e - entropy(0.6)) + 0.25 * (e - entropy(0.2)) + 0.5 * (e - entropy(0.1))
    ) / e
    value = segregation.theil(units((6, 4), (2, 8), (2, 18)))
    assert value == pytest.approx(expected)
    assert value == pytest.approx(0.18928, abs=1e-5)


def test_complete_segregation_is_one():
    """Q1 households only in one unit, the others only in another: D = ½ (1 + 1) = 1; each
    unit's entropy is 0 (0·ln 0 = 0), so H = (E − 0)/E = 1."""
    table = units((5, 0), (0, 7))
    assert segregation.dissimilarity(table) == pytest.approx(1.0)
    assert segregation.theil(table) == pytest.approx(1.0)


def test_same_composition_everywhere_is_zero():
    """Every unit 1 Q1 for 3 others: D = ½ Σ |q/4 − 3q/12| = 0, and Eᵢ = E so H = 0."""
    table = units((1, 3), (2, 6), (10, 30))
    assert segregation.dissimilarity(table) == pytest.approx(0.0)
    assert segregation.theil(table) == pytest.approx(0.0)


def test_an_empty_group_leaves_the_indices_undefined():
    assert segregation.dissimilarity(units((0, 3), (0, 5))) is None
    assert segregation.theil(units((4, 0), (2, 0))) is None
    assert segregation.dissimilarity(units()) is None


def attributions(*rows: tuple) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["year", "commune_insee", "in_qpv", "qpv_code", "is_q1"]
    ).astype({"is_q1": "boolean"})


def test_units_from_attributions():
    """2025: QPV QN1 (spanning two communes: one unit) has 1 Q1 + 1 other + 1 unknown; 76540
    outside QPV has 1 other; 76541 outside QPV only an unknown income → not a unit."""
    frame = attributions(
        (2025, "76540", True, "QN1", True),
        (2025, "76541", True, "QN1", False),
        (2025, "76541", True, "QN1", NA),
        (2025, "76540", False, "", False),
        (2025, "76541", False, "", NA),
    )
    table = segregation.segregation_units(frame)
    assert table.to_dict("records") == [
        {"unit": "76540 hors QPV", "in_qpv": False, "q1": 0, "other": 1},
        {"unit": "QN1", "in_qpv": True, "q1": 1, "other": 1},
    ]


def test_indices_by_year():
    """2024: QPV 2 Q1, outside 2 others → D = H = 1. 2025: QPV 1 Q1 + 1 other, outside 1 Q1 +
    1 other → D = H = 0. 2026: no Q1 → undefined."""
    frame = attributions(
        (2024, "76540", True, "QN1", True),
        (2024, "76540", True, "QN1", True),
        (2024, "76540", False, "", False),
        (2024, "76540", False, "", False),
        (2025, "76540", True, "QN1", True),
        (2025, "76540", True, "QN1", False),
        (2025, "76540", False, "", True),
        (2025, "76540", False, "", False),
        (2026, "76540", False, "", False),
    )
    trend = segregation.indices_by_year(frame).set_index("year")
    assert trend.loc[2024, "dissimilarity"] == pytest.approx(1.0)
    assert trend.loc[2024, "theil"] == pytest.approx(1.0)
    assert trend.loc[2025, "dissimilarity"] == pytest.approx(0.0)
    assert trend.loc[2025, "theil"] == pytest.approx(0.0)
    assert pd.isna(trend.loc[2026, "dissimilarity"])
    assert list(trend["units"]) == [2, 2, 1]


# --- Properties ------------------------------------------------------------------------------

# pandas on a shared machine: no per-example deadline, fewer examples than the default.
PROPERTY = settings(deadline=None, max_examples=40)

counts = st.lists(
    st.tuples(st.integers(0, 500), st.integers(0, 500)), min_size=1, max_size=15
).filter(lambda c: sum(q for q, _ in c) > 0 and sum(o for _, o in c) > 0)


@PROPERTY
@given(counts)
def test_indices_lie_between_zero_and_one(pairs):
    table = units(*pairs)
    assert -1e-12 <= segregation.dissimilarity(table) <= 1 + 1e-12
    assert -1e-12 <= segregation.theil(table) <= 1 + 1e-12


@PROPERTY
@given(counts, st.integers(2, 50))
def test_indices_do_not_change_when_every_count_is_scaled(pairs, factor):
    table = units(*pairs)
    scaled = units(*((q * factor, o * factor) for q, o in pairs))
    assert segregation.dissimilarity(scaled) == pytest.approx(
        segregation.dissimilarity(table), abs=1e-9
    )
    assert segregation.theil(scaled) == pytest.approx(segregation.theil(table), abs=1e-9)


@PROPERTY
@given(
    st.integers(1, 20),
    st.integers(1, 20),
    st.lists(st.integers(1, 30), min_size=1, max_size=10),
)
def test_same_proportion_in_every_unit_gives_zero(q1_part, other_part, sizes):
    table = units(*((q1_part * size, other_part * size) for size in sizes))
    assert segregation.dissimilarity(table) == pytest.approx(0.0, abs=1e-9)
    assert segregation.theil(table) == pytest.approx(0.0, abs=1e-9)


@PROPERTY
@given(counts)
def test_vectorised_indices_by_group_match_one_group_at_a_time(pairs):
    table = units(*pairs)
    both = pd.concat([table.assign(year=2024), table.iloc[::-1].assign(year=2025)])
    result = segregation.indices_by(both, ["year"]).set_index("year")
    for year in (2024, 2025):
        assert result.loc[year, "dissimilarity"] == pytest.approx(segregation.dissimilarity(table))
        assert result.loc[year, "theil"] == pytest.approx(segregation.theil(table))
