"""Statistical secrecy for what aggregate-only roles see and for open data (domain.md §4).

Pure pandas/numpy, no Django. Two tools:

`suppress_table(counts, threshold=11)`: a two-way table of counts (rows × categories) shown
with its row totals, column totals and grand total.
- Primary suppression: every cell, margins included, holding 1 … threshold − 1 households.
  A zero is a true zero and is shown: it is not a count of households that could be
  identified (usual practice of statistical offices).
- Secondary suppression, so that no hidden cell can be recomputed from what is shown:
  1. every line (a row or a column, its margin cell included) with exactly one hidden cell
     gets its smallest non-zero shown cell hidden too, repeated until stable;
  2. then, as two hidden cells per line is necessary but not sufficient (two blocks of
     hidden cells joined by a single cell let that cell be recomputed), every hidden cell
     that lies on no cycle of hidden cells gets one: the smallest non-zero cell joining its
     two sides is hidden (zero only when no other cell does it).

Guarantee, and its limits. The equations a reader has are the table's additivity: each row
sums to its total, each column to its total. Seeing the hidden cells as the edges of a
bipartite graph (rows including the total row, columns including the total column), a
hidden cell's value is fixed by those equations exactly when its edge lies on no cycle.
After step 2, every hidden cell lies on a cycle: none can be recomputed exactly, and in
particular every line holds 0 or ≥ 2 hidden cells. Not covered: bounds a reader derives
from counts being ≥ 0 (a hidden cell may be known to lie in a narrow interval, notably when
a hidden zero closes its cycle), several tables sharing cells or totals (the same counts
published in two breakdowns), and differences between successive publications.

`suppress_linked(values, equations, threshold=11)`: any set of published counts tied by
additive equations (`total = part + part + …`): one two-way table, a hierarchical table
(subtotals), or several tables sharing margins (the same commune totals in two datasets,
a QPV table whose counts add up to the communes' « en QPV » counts). For open data, where
every table published about the same households must be protected together. See its
docstring for the guarantee; it is stronger than `suppress_table`'s on three points:
equations linking several tables, non-negativity (no zero is ever hidden, so every hidden
count can move both ways), and the hidden part of a line whose total is shown.

`mask_indicator(item, threshold=11)`: a rate shown with its numerator and denominator (a
`bilan` v1 indicator). Hidden: everything when 0 < denominator < threshold; the numerator
and the rate when 0 < numerator < threshold or 0 < denominator − numerator < threshold (the
complement is a count of households too). Guarantee: no number shown for that indicator
gives a count of 1 … threshold − 1 households, alone or subtracted from another shown
number of the same indicator. Relations between indicators (two denominators that add up
to a total shown elsewhere) are not covered: lay such counts out as a table and use
`suppress_table`.
"""

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

DEFAULT_THRESHOLD = 11  # households (domain.md §4)
HIDDEN_MARKER = "s"  # shown instead of a hidden count (« secret »)
TOTAL = "Total"


@dataclass(frozen=True)
class SecretTable:
    """A table of counts with its margins (last row and last column are the totals) and the
    mask of the cells to hide (True = secret)."""

    values: pd.DataFrame
    mask: pd.DataFrame

    def shown(self, marker: str = HIDDEN_MARKER) -> pd.DataFrame:
        """The table as displayed: counts, and `marker` for each hidden cell."""
        return self.values.astype(object).mask(self.mask, marker)


def with_margins(counts: pd.DataFrame, *, total_label: str = TOTAL) -> pd.DataFrame:
    """`counts` with a total column and a total row (the grand total at their crossing)."""
    table = counts.astype("int64").copy()
    table[total_label] = table.sum(axis=1)
    table.loc[total_label] = table.sum(axis=0)
    return table


def suppress_table(
    counts: pd.DataFrame, *, threshold: int = DEFAULT_THRESHOLD, total_label: str = TOTAL
) -> SecretTable:
    """Primary and secondary suppression of a table of counts (inner cells, margins are
    computed here so that they are consistent). See the module docstring for what is
    guaranteed."""
    if (counts.to_numpy() < 0).any():
        raise ValueError("Un tableau de comptages ne peut pas contenir de valeur négative.")
    table = with_margins(counts, total_label=total_label)
    values = table.to_numpy()
    mask = (values > 0) & (values < threshold)
    changed = True
    while changed:
        changed = _complete_lines(values, mask)
        if not changed:
            changed = _close_one_bridge(values, mask)
    return SecretTable(
        values=table, mask=pd.DataFrame(mask, index=table.index, columns=table.columns)
    )


def _lines(shape: tuple[int, int]) -> list[list[tuple[int, int]]]:
    """Every row and every column of the table with margins, as lists of cells."""
    rows, columns = shape
    return [[(i, j) for j in range(columns)] for i in range(rows)] + [
        [(i, j) for i in range(rows)] for j in range(columns)
    ]


def _pick(values: np.ndarray, cells: Iterable[tuple[int, int]]) -> tuple[int, int]:
    """The cell to hide among candidates: the smallest non-zero count (least information
    lost), a zero only when nothing else will do; ties go to the first cell."""
    return min(cells, key=lambda cell: (values[cell] == 0, values[cell], cell))


def _complete_lines(values: np.ndarray, mask: np.ndarray) -> bool:
    """Step 1: hide a second cell in every line holding exactly one hidden cell."""
    changed = False
    for line in _lines(values.shape):
        hidden = [cell for cell in line if mask[cell]]
        if len(hidden) == 1:
            mask[_pick(values, [cell for cell in line if not mask[cell]])] = True
            changed = True
    return changed


def _close_one_bridge(values: np.ndarray, mask: np.ndarray) -> bool:
    """Step 2: find a hidden cell on no cycle of hidden cells (a bridge of the bipartite
    graph rows–columns) and hide a cell joining its two sides. Returns whether it did."""
    rows, columns = values.shape
    edges = [(i, j) for i in range(rows) for j in range(columns) if mask[i, j]]
    bridge = next(iter(_bridges(rows, columns, edges)), None)
    if bridge is None:
        return False
    rest = [edge for edge in edges if edge != bridge]
    row_side = _component(rest, start=("r", bridge[0]))
    column_side = _component(rest, start=("c", bridge[1]))
    # A shown cell joining the bridge's two sides closes a cycle through it. Every line holds
    # 0 or ≥ 2 hidden cells here (step 1 ran), so each side holds a row and a column other
    # than the bridge's: such a cell exists (it is shown, or the sides would be one).
    candidates = [
        (i, j)
        for i in range(rows)
        for j in range(columns)
        if not mask[i, j]
        and (
            (("r", i) in row_side and ("c", j) in column_side)
            or (("r", i) in column_side and ("c", j) in row_side)
        )
    ]
    mask[_pick(values, candidates)] = True
    return True


def _component(edges: list[tuple[int, int]], *, start: tuple[str, int]) -> set:
    """Nodes ("r", i) / ("c", j) reachable from `start` through `edges`."""
    adjacent: dict[tuple[str, int], list[tuple[str, int]]] = {}
    for i, j in edges:
        adjacent.setdefault(("r", i), []).append(("c", j))
        adjacent.setdefault(("c", j), []).append(("r", i))
    seen, stack = {start}, [start]
    while stack:
        for node in adjacent.get(stack.pop(), ()):
            if node not in seen:
                seen.add(node)
                stack.append(node)
    return seen


def _bridges(rows: int, columns: int, edges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Bridges of the bipartite graph (Tarjan, iterative): the hidden cells whose value the
    row and column equations determine."""
    adjacent: dict[int, list[tuple[int, int]]] = {}  # node -> [(neighbour, edge index)]
    for index, (i, j) in enumerate(edges):
        adjacent.setdefault(i, []).append((rows + j, index))
        adjacent.setdefault(rows + j, []).append((i, index))
    order: dict[int, int] = {}
    low: dict[int, int] = {}
    found = []
    for root in adjacent:
        if root in order:
            continue
        order[root] = low[root] = len(order)
        stack = [(root, -1, iter(adjacent[root]))]
        while stack:
            node, via, neighbours = stack[-1]
            for neighbour, index in neighbours:
                if index == via:
                    continue
                if neighbour in order:
                    low[node] = min(low[node], order[neighbour])
                else:
                    order[neighbour] = low[neighbour] = len(order)
                    stack.append((neighbour, index, iter(adjacent[neighbour])))
                    break
            else:
                stack.pop()
                if stack:
                    parent = stack[-1][0]
                    low[parent] = min(low[parent], low[node])
                    if low[node] > order[parent]:
                        found.append(edges[via])
    return sorted(found)


def mask_indicator(item: Mapping[str, Any], *, threshold: int = DEFAULT_THRESHOLD) -> dict:
    """A `bilan` v1 indicator ({numerateur, denominateur, taux, …}) as shown under secrecy:
    hidden values become None and `secret` says whether anything was hidden. Other keys
    (`cible`) pass through."""
    numerator, denominator = item["numerateur"], item["denominateur"]
    shown = {**item, "secret": False}

    def small(count: int) -> bool:
        return 0 < count < threshold

    if small(denominator):
        shown.update(numerateur=None, denominateur=None, taux=None, secret=True)
    elif small(numerator) or small(denominator - numerator):
        shown.update(numerateur=None, taux=None, secret=True)
    return shown


def mask_indicators(
    items: Iterable[Mapping[str, Any]], *, threshold: int = DEFAULT_THRESHOLD
) -> list[dict]:
    return [mask_indicator(item, threshold=threshold) for item in items]


# --- Linked tables (open data) ---------------------------------------------------------------

# Numerical tolerance of the linear algebra below: the equations' matrix holds 0 and ±1 only.
_TOLERANCE = 1e-9


def suppress_linked(
    values: Mapping[Hashable, int],
    equations: Iterable[tuple[Hashable, Sequence[Hashable]]],
    *,
    balances: Iterable[tuple[Sequence[Hashable], Sequence[Hashable]]] = (),
    threshold: int = DEFAULT_THRESHOLD,
) -> frozenset:
    """The keys of `values` to hide so that publishing the others, with `equations` known to
    the reader (each `(total, parts)`: the count `total` is the sum of the counts `parts`),
    discloses no count of 1 … threshold − 1 households.

    `values` are every count published about the same households (all the tables, margins
    included, that may be published together); `equations` every additive relation between
    them that a reader knows or can infer (a table's rows and columns, subtotals, the same
    count in two tables given as `(a, [b])`); `balances` relations with sums on both sides
    (`(left, right)`: Σ left = Σ right, e.g. the « en QPV » counts of the communes a QPV
    spans and the counts of those QPV). A relation that does not hold raises ValueError:
    the guarantee rests on the relations being true.

    Guarantee, for the counts shown and the relations given:
    1. every shown count is 0 or ≥ threshold (primary suppression; a zero is shown);
    2. no hidden count is fixed by the relations and the shown counts (no linear
       combination of them gives it);
    3. no zero is hidden: every hidden count is ≥ 1, so with 2. each one can move both ways
       while every count stays ≥ 0 — a reader bounding it with non-negativity gets an
       interval of positive width, never a single value;
    4. in a relation with one side entirely shown, the hidden counts of the other side add
       up to 0 or ≥ threshold (their sum is a count of households too: total − shown parts).
    Not covered: other sums or differences of hidden counts, relations not given, and
    successive publications of changing data.

    Method: primary suppression, then until stable: a relation with a single hidden count,
    or whose hidden counts add up to a small count, gets its smallest non-zero shown count
    hidden; a hidden count that the relations fix (its unit vector lies in the row space of
    the relations restricted to the hidden counts) gets hidden the smallest non-zero shown
    count that frees it, else one that takes part in fixing it.
    """
    keys = list(values)
    position = {key: index for index, key in enumerate(keys)}
    counts = np.array([int(values[key]) for key in keys], dtype=np.int64)
    if (counts < 0).any():
        raise ValueError("Un tableau de comptages ne peut pas contenir de valeur négative.")
    relations = [([total], list(parts)) for total, parts in equations]
    relations += [(list(left), list(right)) for left, right in balances]
    lines: list[tuple[list[int], list[int]]] = []
    for left, right in relations:
        try:
            line = ([position[key] for key in left], [position[key] for key in right])
        except KeyError as error:
            raise ValueError(f"Équation sur un comptage inconnu : {error.args[0]!r}") from None
        if counts[line[0]].sum() != counts[line[1]].sum():
            raise ValueError(f"Équation fausse : somme de {left!r} ≠ somme de {right!r}")
        lines.append(line)
    matrix = np.zeros((len(lines), len(keys)))
    for row, (left, right) in enumerate(lines):
        for index in left:
            matrix[row, index] += 1.0
        for index in right:
            matrix[row, index] -= 1.0

    hidden = (counts > 0) & (counts < threshold)
    while _complete_equations(counts, hidden, lines, threshold) or _free_one(
        matrix, counts, hidden
    ):
        pass
    return frozenset(key for key, secret in zip(keys, hidden, strict=True) if secret)


def table_cells(
    counts: pd.DataFrame, name: Hashable, *, total_label: str = TOTAL
) -> tuple[dict[tuple, int], list[tuple[tuple, list[tuple]]]]:
    """A two-way table of counts as `suppress_linked` takes it: the cells {(name, row,
    column): count}, margins included (row and column `total_label`), and the equations of
    its rows and columns. Several tables (different `name`s) are protected together by
    merging their cells and equations and adding the equations that link them."""
    table = with_margins(counts, total_label=total_label)
    cells = {
        (name, row, column): int(table.at[row, column])
        for row in table.index
        for column in table.columns
    }
    inner_rows, inner_columns = list(counts.index), list(counts.columns)
    equations = [
        ((name, row, total_label), [(name, row, column) for column in inner_columns])
        for row in table.index
    ] + [
        ((name, total_label, column), [(name, row, column) for row in inner_rows])
        for column in table.columns
    ]
    return cells, equations


def _smallest(counts: np.ndarray, candidates: Iterable[int]) -> int | None:
    """The non-zero candidate with the smallest count (ties: the first), or None."""
    choice = [index for index in candidates if counts[index] > 0]
    return min(choice, key=lambda index: (counts[index], index)) if choice else None


def _complete_equations(
    counts: np.ndarray,
    hidden: np.ndarray,
    lines: list[tuple[list[int], list[int]]],
    threshold: int,
) -> bool:
    """Hide one more count in every relation holding exactly one hidden count, or with one
    side shown while the other side's hidden counts add up to 1 … threshold − 1. Returns
    whether it hid anything."""
    changed = False
    for left, right in lines:
        terms = [*left, *right]
        secret = [index for index in terms if hidden[index]]
        if not secret:
            continue
        small_sum = any(
            not hidden[known].any() and 0 < counts[side][hidden[side]].sum() < threshold
            for known, side in ((left, right), (right, left))
        )
        if len(secret) == 1 or small_sum:
            choice = _smallest(counts, (index for index in terms if not hidden[index]))
            if choice is not None:
                hidden[choice] = True
                changed = True
    return changed


def _free_one(matrix: np.ndarray, counts: np.ndarray, hidden: np.ndarray) -> bool:
    """Find a hidden count that the equations fix and hide a shown count to free it.
    Returns whether it hid anything (False: no hidden count is fixed)."""
    secret = np.flatnonzero(hidden)
    if not len(secret):
        return False
    restricted = matrix[:, secret]
    if not restricted.any():
        return False
    left, singular, right = np.linalg.svd(restricted, full_matrices=False)
    rank = int((singular > singular.max() * max(restricted.shape) * np.finfo(float).eps).sum())
    left, singular, right = left[:, :rank], singular[:rank], right[:rank]
    # e_h lies in the row space of the restricted equations: the equations fix count h.
    fixed = np.flatnonzero((right**2).sum(axis=0) > 1 - _TOLERANCE)
    if not len(fixed):
        return False
    target = fixed[0]
    # y with yᵀ·restricted = e_h (minimal norm): the combination of equations giving h.
    combination = left @ (right[:, target] / singular)
    shown = np.flatnonzero(~hidden & (counts > 0))
    columns = matrix[:, shown]
    # Hiding s frees h iff s's column lies in the column space of the restricted equations
    # (then every combination giving h weighs s the same) and that weight is not zero.
    residual = columns - left @ (left.T @ columns)
    weight = combination @ columns
    in_space = np.linalg.norm(residual, axis=0) < _TOLERANCE
    involved = np.abs(weight) > _TOLERANCE
    for candidates in (shown[in_space & involved], shown[involved]):
        choice = _smallest(counts, candidates)
        if choice is not None:
            hidden[choice] = True
            return True
    # Unreachable when the equations hold: h ≥ 1 is a combination of shown counts, so some
    # non-zero shown count takes part in it.
    raise AssertionError(f"Aucun comptage à masquer pour protéger {secret[target]}")
