"""Statistical secrecy (`attributions.indicators.secrecy`): hand-made tables, then a property
test on random small tables."""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from attributions.indicators.secrecy import mask_indicator, suppress_table, with_margins


def table(rows: list[list[int]]) -> pd.DataFrame:
    return pd.DataFrame(
        rows,
        index=[f"c{i}" for i in range(len(rows))],
        columns=[f"k{j}" for j in range(len(rows[0]))],
    )


def lines(mask: np.ndarray) -> list[np.ndarray]:
    return [mask[i, :] for i in range(mask.shape[0])] + [mask[:, j] for j in range(mask.shape[1])]


def determined(values: np.ndarray, mask: np.ndarray) -> list[tuple[int, int]]:
    """Hidden cells a reader can recompute from the shown cells with the table's equations
    (each row sums to its total, each column to its total), by linear algebra."""
    rows, columns = values.shape
    unknowns = [(i, j) for i in range(rows) for j in range(columns) if mask[i, j]]
    equations = []
    for i in range(rows):  # Σ inner cells − total = 0
        equations.append([(1 if j < columns - 1 else -1) if u == i else 0 for (u, j) in unknowns])
    for j in range(columns):
        equations.append([(1 if i < rows - 1 else -1) if v == j else 0 for (i, v) in unknowns])
    matrix = np.array(equations, dtype=float).reshape(len(equations), len(unknowns))
    rank = np.linalg.matrix_rank(matrix) if unknowns else 0
    found = []
    for k, cell in enumerate(unknowns):
        unit = np.zeros((1, len(unknowns)))
        unit[0, k] = 1
        if np.linalg.matrix_rank(np.vstack([matrix, unit])) == rank:
            found.append(cell)
    return found


def test_primary_and_secondary_suppression_by_hand():
    result = suppress_table(table([[5, 40, 12], [20, 25, 13], [30, 0, 14]]))
    assert result.shown().values.tolist() == [
        # 5 is secret; its row's smallest other cell (12) and its column's (20) follow;
        # then column k2 had one secret (12): 13 follows. Every line now has 0 or 2.
        ["s", 40, "s", 57],
        ["s", 25, "s", 58],
        [30, 0, 14, 44],
        [55, 65, 39, 159],
    ]
    assert list(result.shown().index) == ["c0", "c1", "c2", "Total"]
    assert list(result.shown().columns) == ["k0", "k1", "k2", "Total"]


def test_zeros_are_shown_and_a_table_without_small_counts_is_untouched():
    result = suppress_table(table([[0, 12], [11, 0]]))
    assert not result.mask.to_numpy().any()
    assert result.values.to_numpy().tolist() == [[0, 12, 12], [11, 0, 11], [11, 12, 23]]


def test_a_small_total_is_secret_too():
    # Row c0 sums to 6: its total is a count of 6 households.
    result = suppress_table(table([[3, 3], [20, 30]]))
    shown = result.shown()
    assert shown.loc["c0", "Total"] == "s"
    assert shown.loc["c0", "k0"] == "s"
    assert shown.loc["c0", "k1"] == "s"
    assert determined(result.values.to_numpy(), result.mask.to_numpy()) == []


def test_two_secrets_per_line_is_not_enough_a_bridge_is_closed():
    # Two blocks of small counts (c0–c1 × k0–k1 and c2–c3 × k2–k3) joined by the small
    # cell (c0, k2): every line holds 0, 2 or 3 secrets, yet (c0, k2) can be recomputed.
    counts = table(
        [
            [1, 2, 3, 50],
            [4, 5, 60, 70],
            [80, 90, 6, 7],
            [95, 85, 8, 9],
        ]
    )
    values = with_margins(counts).to_numpy()
    primary = (values > 0) & (values < 11)
    assert all(line.sum() in (0, 2, 3) for line in lines(primary))
    assert determined(values, primary) == [(0, 2)]

    result = suppress_table(counts)
    mask = result.mask.to_numpy()
    assert determined(values, mask) == []
    assert (mask & ~primary).sum() == 1  # one more cell closes the cycle


def test_mask_indicator():
    def item(numerator, denominator):
        return {"numerateur": numerator, "denominateur": denominator, "taux": 0.1, "cible": 0.25}

    assert mask_indicator(item(20, 40)) == {**item(20, 40), "secret": False}
    # A true zero is shown.
    assert mask_indicator(item(0, 40)) == {**item(0, 40), "secret": False}
    # 3 households: the count and the rate (3 = rate × 40) are hidden.
    assert mask_indicator(item(3, 40)) == {
        "numerateur": None,
        "denominateur": 40,
        "taux": None,
        "cible": 0.25,
        "secret": True,
    }
    # 37 of 40: the 3 others would be 40 − 37.
    assert mask_indicator(item(37, 40))["numerateur"] is None
    assert mask_indicator(item(40, 40))["numerateur"] == 40
    # Fewer than 11 in all: nothing but the target.
    assert mask_indicator(item(0, 7)) == {
        "numerateur": None,
        "denominateur": None,
        "taux": None,
        "cible": 0.25,
        "secret": True,
    }
    assert mask_indicator(item(3, 7), threshold=3)["numerateur"] == 3


@settings(max_examples=200, deadline=None)
@given(
    counts=st.tuples(st.integers(2, 6), st.integers(2, 5)).flatmap(
        lambda shape: arrays(np.int64, shape, elements=st.integers(0, 40))
    ),
    threshold=st.sampled_from([3, 11]),
)
def test_no_small_count_shown_and_no_secret_recomputable(counts, threshold):
    result = suppress_table(pd.DataFrame(counts), threshold=threshold)
    values, mask = result.values.to_numpy(), result.mask.to_numpy()
    shown = values[~mask]
    assert ((shown == 0) | (shown >= threshold)).all()
    # Every row and column, margins included, holds 0 or ≥ 2 secrets…
    assert all(line.sum() != 1 for line in lines(mask))
    # …and, stronger, no secret is fixed by the table's equations.
    assert determined(values, mask) == []
    # The shown table is the table: margins add up.
    assert (values[:-1, :-1].sum(axis=1) == values[:-1, -1]).all()
    assert (values[:-1, :-1].sum(axis=0) == values[-1, :-1]).all()
