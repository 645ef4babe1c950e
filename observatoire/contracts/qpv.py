"""The list of the QPV as the ANCT publishes it (`listeqp2024`: `code_qp; lib_qp; insee_reg;
lib_reg; insee_dep; lib_dep; insee_com; lib_com; siren_epci; lib_epci`, domain-reference §4.4).

A QPV over several communes lists them in one cell (`"02571; 02691"`), or comes on one line
per commune: both read the same. Only `code_qp`, `lib_qp` and `insee_com` are read (by name,
case and accents ignored); every other column is ignored. Pure Python (no Django).
"""

from typing import Any

from attributions import contract
from attributions.contract import ValueProblem, header_key
from cil.validators import qpv_code_error

FIELDS = (
    ("code", "code_qp", ("codeqp", "codeqpv", "codequartier", "qp")),
    ("name", "lib_qp", ("libqp", "nomqp", "libelleqp", "nomquartier", "libqpv", "nomqpv")),
    (
        "communes",
        "insee_com",
        ("inseecom", "codeinsee", "inseecommunes", "codescommunes", "codecommune", "depcom"),
    ),
)
SHOWN = {name: shown for name, shown, _keys in FIELDS}
_KEYS = {key: name for name, _shown, keys in FIELDS for key in keys}


def match_headers(headers: list[str]) -> tuple[dict[int, str], list[str]]:
    """Positions of `code_qp`, `lib_qp`, `insee_com` (the first column naming each); other
    columns are ignored. The problem: a missing one."""
    positions: dict[int, str] = {}
    seen: set[str] = set()
    for index, header in enumerate(headers):
        if header is None or str(header).strip() == "":
            continue
        name = _KEYS.get(header_key(str(header)))
        if name is not None and name not in seen:
            seen.add(name)
            positions[index] = name
    missing = [shown for name, shown, _keys in FIELDS if name not in seen]
    if missing:
        return positions, [
            "Colonnes absentes : "
            + ", ".join(missing)
            + ". La liste des QPV doit contenir les colonnes code_qp, lib_qp et insee_com "
            "(comme le fichier de l'ANCT) ; les autres colonnes sont ignorées."
        ]
    return positions, []


_name = contract._text(255)


def code(raw: Any) -> str:
    value = str(raw).strip().upper()
    message = qpv_code_error(value)
    if message:
        raise ValueProblem(message)
    return value


def name(raw: Any) -> str:
    value = _name(raw)
    if not value:
        raise ValueProblem("Valeur obligatoire manquante.")
    return value
