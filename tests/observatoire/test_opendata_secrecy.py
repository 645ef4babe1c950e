"""Statistical secrecy of open data (`attributions.indicators.secrecy.suppress_linked`):
hand-made tables a reader can check, then properties on random tables — one two-way table
with its totals, and two tables sharing their row totals (the same communes' counts in two
datasets) — checked against what a reader can compute from what is published."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from attributions.indicators.secrecy import (
    TOTAL,
    suppress_linked,
    suppress_table,
    table_cells,
    with_margins,
)


def frame(rows: list[list[int]]) -> pd.DataFrame:
    return pd.DataFrame(
        rows,
        index=[f"c{i}" for i in range(len(rows))],
        columns=[f"k{j}" for j in range(len(rows[0]))],
    )


def shown_table(counts: pd.DataFrame, hidden: frozenset, name: str = "t") -> list[list]:
    table = with_margins(counts)
    return [
        ["s" if (name, row, column) in hidden else int(table.at[row, column]) for column in table]
        for row in table.index
    ]


# --- What a reader can compute ----------------------------------------------------------------


def system(cells: dict, equations: list, balances: list = ()) -> tuple[list, np.ndarray]:
    """The relations as a matrix (one row each: Σ left − Σ right = 0)."""
    keys = list(cells)
    position = {key: i for i, key in enumerate(keys)}
    relations = [([total], parts) for total, parts in equations] + list(balances)
    matrix = np.zeros((len(relations), len(keys)))
    for row, (left, right) in enumerate(relations):
        for key in left:
            matrix[row, position[key]] += 1
        for key in right:
            matrix[row, position[key]] -= 1
    return keys, matrix


def recomputable(cells: dict, equations: list, hidden: frozenset, balances: list = ()) -> list:
    """Hidden counts that the equations give from the shown counts (linear algebra: the
    count's unit vector is a combination of the equations restricted to the hidden counts)."""
    keys, matrix = system(cells, equations, balances)
    secret = [i for i, key in enumerate(keys) if key in hidden]
    restricted = matrix[:, secret]
    rank = np.linalg.matrix_rank(restricted) if secret else 0
    found = []
    for k, i in enumerate(secret):
        unit = np.zeros((1, len(secret)))
        unit[0, k] = 1
        if np.linalg.matrix_rank(np.vstack([restricted, unit])) == rank:
            found.append(keys[i])
    return found


def interval_witnesses(
    cells: dict, equations: list, hidden: frozenset, balances: list = ()
) -> dict:
    """For each hidden count, two tables that agree with everything published (same shown
    counts, every equation true, every count ≥ 0) and give it different values: the width
    of its feasible interval. A reader bounding it with non-negativity cannot pin it."""
    keys, matrix = system(cells, equations, balances)
    values = np.array([cells[key] for key in keys], dtype=float)
    secret = [i for i, key in enumerate(keys) if key in hidden]
    restricted = matrix[:, secret]
    widths = {}
    for k, i in enumerate(secret):
        # The direction moving count i the most while keeping every equation: its unit
        # vector's projection on the null space of the restricted equations.
        unit = np.zeros(len(secret))
        unit[k] = 1
        _u, singular, right = np.linalg.svd(restricted, full_matrices=False)
        right = right[singular > 1e-9]
        direction = unit - right.T @ (right @ unit)
        widths[keys[i]] = 0.0
        if direction[k] < 1e-9:
            continue
        direction /= np.abs(direction).max()
        current = values[secret]
        down = direction < -1e-12
        up = direction > 1e-12
        step_plus = min(1.0, *(current[down] / -direction[down])) if down.any() else 1.0
        step_minus = min(1.0, *(current[up] / direction[up])) if up.any() else 1.0
        plus, minus = current + step_plus * direction, current - step_minus * direction
        for candidate in (plus, minus):
            complete = values.copy()
            complete[secret] = candidate
            assert np.allclose(matrix @ complete, 0)  # every equation holds
            assert (complete >= -1e-9).all()  # every count ≥ 0
        widths[keys[i]] = plus[k] - minus[k]
    return widths


def hidden_parts_of_shown_totals(cells: dict, equations: list, hidden: frozenset) -> list[int]:
    """Sums a reader gets as « total − shown parts »: the households of the hidden parts."""
    return [
        sum(cells[part] for part in parts if part in hidden)
        for total, parts in equations
        if total not in hidden and any(part in hidden for part in parts)
    ]


def check_publication(
    cells: dict, equations: list, hidden: frozenset, threshold: int, balances: list = ()
) -> None:
    """What a reader of the shown counts can do, knowing every relation: no count of 1 …
    threshold − 1 shown, no hidden count recomputed, none pinned by non-negativity, no small
    sum of hidden parts under a shown total."""
    shown = [cells[key] for key in cells if key not in hidden]
    assert all(value == 0 or value >= threshold for value in shown)
    assert all(cells[key] > 0 for key in hidden)  # a zero is never hidden
    assert recomputable(cells, equations, hidden, balances) == []
    widths = interval_witnesses(cells, equations, hidden, balances)
    assert all(width > 0 for width in widths.values()), widths
    assert all(
        s == 0 or s >= threshold for s in hidden_parts_of_shown_totals(cells, equations, hidden)
    )


# --- By hand -----------------------------------------------------------------------------------


def test_one_table_by_hand():
    counts = frame([[5, 40, 12], [20, 25, 13], [30, 0, 14]])
    cells, equations = table_cells(counts, "t")
    hidden = suppress_linked(cells, equations)
    # 5 is secret; its row's smallest other count (12) and its column's (20) follow; then
    # column k2 holds one secret (12): 13 follows. The same as suppress_table here.
    assert shown_table(counts, hidden) == [
        ["s", 40, "s", 57],
        ["s", 25, "s", 58],
        [30, 0, 14, 44],
        [55, 65, 39, 159],
    ]
    assert shown_table(counts, hidden) == suppress_table(counts).shown().values.tolist()
    check_publication(cells, equations, hidden, 11)


def test_the_hidden_part_of_a_line_is_not_a_small_count():
    # Row c0: 3 and 4 are secret, but 47 − 40 would give their sum, 7 households: 40 is
    # hidden too. Columns k0 and k1 then need a second secret each (c1's counts).
    counts = frame([[3, 4, 40], [30, 25, 60]])
    cells, equations = table_cells(counts, "t")
    hidden = suppress_linked(cells, equations)
    assert shown_table(counts, hidden) == [
        ["s", "s", "s", 47],
        ["s", "s", "s", 115],
        [33, 29, 100, 162],
    ]
    check_publication(cells, equations, hidden, 11)


def test_a_zero_is_never_hidden_where_suppress_table_hides_one():
    # suppress_table closes a cycle with the zero at (c0, k0) when nothing else joins the
    # two sides; a hidden zero sits at the bottom of its interval, so every count on its
    # cycle can move one way only. suppress_linked hides non-zero counts instead: each
    # hidden count can move both ways.
    counts = frame([[0, 30, 30, 30], [40, 0, 30, 0], [0, 40, 0, 5], [5, 0, 30, 0]])
    assert suppress_table(counts).mask.at["c0", "k0"]

    cells, equations = table_cells(counts, "t")
    hidden = suppress_linked(cells, equations)
    assert ("t", "c0", "k0") not in hidden
    check_publication(cells, equations, hidden, 11)


def linked(communes: list[list[int]], dalo: list[list[int]]) -> tuple[dict, list]:
    """Two tables of the same households by commune (rows): by QPV status and by DALO
    status. Their row totals are the same counts: equations tie them."""
    a_cells, a_equations = table_cells(frame(communes), "qpv")
    b_cells, b_equations = table_cells(frame(dalo), "dalo")
    rows = [*frame(communes).index, TOTAL]
    ties = [(("qpv", row, TOTAL), [("dalo", row, TOTAL)]) for row in rows]
    return a_cells | b_cells, a_equations + b_equations + ties


def test_two_tables_protected_apart_leak_together_they_do_not():
    # The same 80 households by commune: by QPV status (first table), by DALO status
    # (second). Commune c0 has 9 households in QPV (secret).
    communes = [[16, 9], [23, 0], [0, 32]]
    dalo = [[16, 9], [3, 20], [20, 12]]
    cells, equations = linked(communes, dalo)

    # Each table protected alone, the shared commune totals then hidden in both wherever
    # one table hides them: the DALO table shows c2's counts (20 and 12), so c2's total is
    # 32; in the first table c2 has no household outside QPV (0, shown): c2 in QPV = 32, and
    # c0 in QPV = 41 (column total) − 0 − 32 = 9.
    apart = _hidden_apart(communes, "qpv") | _hidden_apart(dalo, "dalo")
    for row in ("c0", "c1", "c2", TOTAL):
        if ("qpv", row, TOTAL) in apart or ("dalo", row, TOTAL) in apart:
            apart |= {("qpv", row, TOTAL), ("dalo", row, TOTAL)}
    assert ("qpv", "c0", "k1") in apart
    assert ("qpv", "c0", "k1") in recomputable(cells, equations, frozenset(apart))

    together = suppress_linked(cells, equations)
    check_publication(cells, equations, together, 11)


def _hidden_apart(rows: list[list[int]], name: str) -> set:
    mask = suppress_table(frame(rows)).mask
    return {
        (name, row, column) for row in mask.index for column in mask.columns if mask.at[row, column]
    }


def test_a_false_equation_is_refused():
    with pytest.raises(ValueError, match="Équation fausse"):
        suppress_linked({"a": 12, "b": 5}, [("a", ["b"])])
    with pytest.raises(ValueError, match="comptage inconnu"):
        suppress_linked({"a": 12}, [("a", ["b"])])
    with pytest.raises(ValueError, match="négative"):
        suppress_linked({"a": -1}, [])


# --- Properties ------------------------------------------------------------------------------

# Counts of households: many small ones (below the threshold), zeros, and larger ones.
COUNT = st.one_of(st.integers(0, 12), st.integers(0, 60))


@settings(max_examples=100, deadline=None)
@given(
    counts=st.tuples(st.integers(1, 6), st.integers(1, 5)).flatmap(
        lambda shape: arrays(np.int64, shape, elements=COUNT)
    ),
    threshold=st.sampled_from([3, 11]),
)
def test_one_table_with_totals_no_secret_can_be_recomputed(counts, threshold):
    table = pd.DataFrame(counts)
    cells, equations = table_cells(table, "t")
    hidden = suppress_linked(cells, equations, threshold=threshold)
    check_publication(cells, equations, hidden, threshold)
    # Integer bounds too: every hidden count lies on a cycle of hidden counts (rows and
    # columns, totals included, as the nodes of a graph): moving the cycle by ±1, every
    # count staying ≥ 0 as none is 0, gives two integer tables a reader cannot tell apart.
    for key in hidden:
        assert _on_cycle(key, hidden), key


def _on_cycle(key, hidden) -> bool:
    """Whether the hidden cell `key` = (name, row, column) lies on a cycle of hidden cells."""
    edges = [(("r", r), ("c", c)) for (_n, r, c) in hidden if (_n, r, c) != key]
    start, goal = ("r", key[1]), ("c", key[2])
    adjacent: dict = {}
    for u, v in edges:
        adjacent.setdefault(u, []).append(v)
        adjacent.setdefault(v, []).append(u)
    seen, stack = {start}, [start]
    while stack:
        for node in adjacent.get(stack.pop(), ()):
            if node == goal:
                return True
            if node not in seen:
                seen.add(node)
                stack.append(node)
    return False


@settings(max_examples=100, deadline=None)
@given(
    households=st.tuples(st.integers(1, 5), st.integers(1, 3), st.integers(2, 3)).flatmap(
        lambda shape: arrays(np.int64, shape, elements=st.one_of(st.integers(0, 8), COUNT))
    ),
    threshold=st.sampled_from([3, 11]),
)
def test_two_tables_sharing_totals_no_secret_can_be_recomputed(households, threshold):
    """`households[commune, a, b]`: households by commune and two other variables (QPV
    status, DALO status…). Published: the commune × a table and the commune × b table,
    whose commune totals are the same counts. Whatever the reader combines from both, no
    hidden count is recomputed. (A non-negative 3-way table with these two tables as margins
    always exists for the witnesses, so they are witnesses for the households too.)"""
    communes = households.sum(axis=2).tolist()
    other = households.sum(axis=1).tolist()
    cells, equations = linked(communes, other)
    hidden = suppress_linked(cells, equations, threshold=threshold)
    check_publication(cells, equations, hidden, threshold)
    for row in [*frame(communes).index, TOTAL]:  # a shared count: hidden in both or neither
        assert (("qpv", row, TOTAL) in hidden) == (("dalo", row, TOTAL) in hidden)
