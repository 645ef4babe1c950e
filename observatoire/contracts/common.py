"""What the observatory's contracts share: communes (INSEE codes, with the arrondissements of
Paris, Lyon and Marseille folded into their commune) and lists of communes in one cell."""

import re
from typing import Any

from attributions.contract import ValueProblem
from cil.validators import insee_error

# Arrondissements municipaux (COG): Paris 75101–75120, Lyon 69381–69389, Marseille
# 13201–13216. Files such as RPLS give them in place of the commune (domain-reference §4.3).
_ARRONDISSEMENTS = (
    ("75056", 75101, 75120),  # Paris
    ("69123", 69381, 69389),  # Lyon
    ("13055", 13201, 13216),  # Marseille
)
PLM_COMMUNES = {
    f"{code:05d}": commune
    for commune, low, high in _ARRONDISSEMENTS
    for code in range(low, high + 1)
}
# Separators of a list of communes in one cell: INSEE codes are letters and digits only, so
# any other character separates them ("76540|76541", "02571; 02691", "76540, 76541").
_LIST_SEPARATORS = re.compile(r"[^0-9A-Za-z]+")
_NUMBER = (int, float)


def insee_code(raw: Any) -> str:
    """An INSEE code as read from a cell (a spreadsheet may have made 01053 the number 1053).
    ValueProblem when it is not one."""
    if isinstance(raw, _NUMBER) and not isinstance(raw, bool):
        if isinstance(raw, float) and not raw.is_integer():
            raise ValueProblem(insee_error(str(raw)))
        value = f"{int(raw):05d}"
    else:
        value = str(raw).strip().upper()
    message = insee_error(value)
    if message:
        raise ValueProblem(message)
    return value


def fold(insee: str, communes) -> str | None:
    """The conference's commune for a code: itself when it is one of `communes`, the commune
    of an arrondissement of Paris, Lyon or Marseille when that commune is, else None."""
    if insee in communes:
        return insee
    commune = PLM_COMMUNES.get(insee)
    if commune is not None and commune in communes:
        return commune
    return None


def split_codes(raw: Any) -> list[Any]:
    """The tokens of a cell listing codes ("76540|76541", "02571; 02691"), in order, blanks
    dropped. A number (one code read by a spreadsheet) is one token."""
    if isinstance(raw, _NUMBER) and not isinstance(raw, bool):
        return [raw]
    return [token for token in _LIST_SEPARATORS.split(str(raw)) if token]
