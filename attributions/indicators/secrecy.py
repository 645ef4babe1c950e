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

`mask_indicator(item, threshold=11)`: a rate shown with its numerator and denominator (a
`bilan` v1 indicator). Hidden: everything when 0 < denominator < threshold; the numerator
and the rate when 0 < numerator < threshold or 0 < denominator − numerator < threshold (the
complement is a count of households too). Guarantee: no number shown for that indicator
gives a count of 1 … threshold − 1 households, alone or subtracted from another shown
number of the same indicator. Relations between indicators (two denominators that add up
to a total shown elsewhere) are not covered: lay such counts out as a table and use
`suppress_table`.
"""

from collections.abc import Iterable, Mapping
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
