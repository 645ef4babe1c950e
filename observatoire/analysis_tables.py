"""Tables of the observatory's analysis page: raw cells (numbers, « — » for undefined, « s »
for secret), formatted for the page and kept raw for the exports, and statistical secrecy
on tables of counts (no Django import)."""

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from attributions.indicators.secrecy import HIDDEN_MARKER, TOTAL, suppress_table

SECRET = HIDDEN_MARKER  # « s », shown instead of a hidden count


class Hidden:
    """A count (or a ratio of counts) hidden by statistical secrecy."""

    def __str__(self) -> str:
        return SECRET

    def __reduce__(self) -> str:
        # Unpickled (observatoire.cache) as the same object, so that `is HIDDEN` holds.
        return "HIDDEN"


HIDDEN = Hidden()


def _number(value: float, decimals: int) -> str:
    text = f"{value:,.{decimals}f}".replace(",", "\u202f").replace(".", ",")
    return text


FORMATS: dict[str, Callable] = {
    "text": str,
    "count": lambda v: _number(v, 0),
    "percent": lambda v: _number(v * 100, 1) + "\u00a0%",
    "ratio": lambda v: _number(v, 2),
    "index": lambda v: _number(v, 3),
    "months": lambda v: _number(v, 1).removesuffix(",0") + "\u00a0mois",
    "euro": lambda v: _number(v, 0) + "\u00a0€",
}
EXPORT_DECIMALS = {"percent": 4, "ratio": 2, "index": 4, "months": 1, "euro": 2}


def missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


@dataclass
class Column:
    label: str
    kind: str = "count"


@dataclass
class Table:
    """A table of the page: `rows` of raw values (None or NaN = undefined, shown « — »;
    HIDDEN = secret, shown « s »); the last row is the total when `total` is set."""

    key: str
    caption: str
    columns: list[Column]
    rows: list[list] = field(default_factory=list)
    total: bool = False
    note: str = ""

    @property
    def header(self) -> list[str]:
        return [column.label for column in self.columns]

    def html_rows(self) -> list[list[dict]]:
        return [
            [
                {"text": self._text(value, column), "numeric": column.kind != "text"}
                for value, column in zip(row, self.columns, strict=True)
            ]
            for row in self.rows
        ]

    @staticmethod
    def _text(value, column: Column) -> str:
        if value is HIDDEN:
            return SECRET
        if missing(value):
            return "—"
        return FORMATS[column.kind](value)

    def export_rows(self) -> list[list]:
        """Raw values for CSV/XLSX: numbers as numbers, « s » for a secret, empty for none."""
        out = []
        for row in self.rows:
            cells = []
            for value, column in zip(row, self.columns, strict=True):
                if value is HIDDEN:
                    cells.append(SECRET)
                elif missing(value):
                    cells.append(None)
                elif column.kind in EXPORT_DECIMALS:
                    cells.append(round(float(value), EXPORT_DECIMALS[column.kind]))
                elif column.kind == "count":
                    cells.append(int(value))
                else:
                    cells.append(value)
            out.append(cells)
        return out


@dataclass(frozen=True)
class Secrecy:
    """Whether to apply statistical secrecy, and its threshold (households)."""

    applies: bool
    threshold: int = 11

    def table(self, parts: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(values, mask) of a table of counts with margins: rows × `parts` columns, plus a
        `Total` column and a `Total` row. Nothing is masked when secrecy does not apply."""
        parts = parts.astype("int64")
        if self.applies and len(parts):
            table = suppress_table(parts, threshold=self.threshold)
            return table.values, table.mask
        values = parts.copy()
        values[TOTAL] = values.sum(axis=1)
        values.loc[TOTAL] = values.sum(axis=0)
        return values, pd.DataFrame(False, index=values.index, columns=values.columns)


def shown_count(values: pd.DataFrame, mask: pd.DataFrame, row, column):
    return HIDDEN if mask.loc[row, column] else int(values.loc[row, column])


def ratio(numerator, denominator):
    if numerator is HIDDEN or denominator is HIDDEN:
        return HIDDEN
    return numerator / denominator if denominator else None
