"""Book and lines of the open-data tables (see `observatoire.opendata.tables` for how
they are protected). Pure, no Django."""

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from attributions.indicators.secrecy import suppress_linked

RATE_DIGITS = 4  # like the bilan's `taux`
INDEX_DIGITS = 3
PRESSURE_DIGITS = 2


@dataclass(frozen=True)
class Book:
    """Published counts and the keys of those to hide."""

    cells: Mapping[Hashable, int]
    hidden: frozenset = frozenset()

    def get(self, key: Hashable) -> int | None:
        return None if key in self.hidden else int(self.cells[key])

    def secret(self, key: Hashable) -> bool:
        return key in self.hidden


@dataclass
class Line:
    """One line of a dataset: values by column key (None when hidden or undefined) and the
    keys of the values hidden by statistical secrecy."""

    values: dict[str, Any]
    secret: set[str] = field(default_factory=set)

    def count(self, column: str, book: Book, key: Hashable) -> None:
        self.values[column] = book.get(key)
        if book.secret(key):
            self.secret.add(column)

    def ratio(
        self,
        column: str,
        book: Book,
        numerator: Hashable,
        denominator: Hashable,
        digits: int = RATE_DIGITS,
    ) -> None:
        """numerator / denominator, hidden when either count is; None (not secret) when
        the denominator is 0."""
        if book.secret(numerator) or book.secret(denominator):
            self.values[column] = None
            self.secret.add(column)
            return
        den = book.cells[denominator]
        self.values[column] = round(book.cells[numerator] / den, digits) if den else None


def protect(
    cells: Mapping[Hashable, int],
    equations: Iterable[tuple[Hashable, Sequence[Hashable]]],
    balances: Iterable[tuple[Sequence[Hashable], Sequence[Hashable]]] = (),
    *,
    threshold: int,
) -> Book:
    hidden = suppress_linked(cells, equations, balances=balances, threshold=threshold)
    return Book(cells=dict(cells), hidden=hidden)
