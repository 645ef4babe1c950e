"""The RPLS file (Répertoire des logements locatifs des bailleurs sociaux) as the State
publishes it in open data: one line per social dwelling at 1 January of the millésime
(docs/formats-rpls.md, domain-reference §4.3).

The file is not ours: its columns are found by name (case, accents, `_`, spaces ignored; the
`_red` variants of 2017–2018 and the `_code` variants of the DiDo files accepted), only those
the observatory needs are read, every other column is ignored. Pure Python (no Django).
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from attributions import contract
from attributions.contract import ValueProblem, header_key
from cil.validators import qpv_code_error
from observatoire.contracts.common import insee_code
from observatoire.contracts.financement import normalised_code

TYPOLOGY_OF_ROOMS = {1: "T1", 2: "T2", 3: "T3", 4: "T4", 5: "T5"}  # 6 rooms or more: T6+
# The RPLS format writes 9999 for a rent "sans objet" (dwelling not let the whole of January).
RENT_NOT_APPLICABLE = Decimal("9999")
_DPE_CLASSES = frozenset("ABCDEFG")
# Cells meaning "no diagnostic": left blank.
_DPE_NOT_GIVEN = frozenset({"", "-", "0", "9", "N", "NC", "ND", "NR", "SO", "NA", "VIERGE"})
_QPV_YES = frozenset({"1", "oui", "o", "true", "vrai", "x", "yes", "y"})
_QPV_NO = frozenset({"0", "2", "non", "n", "false", "faux", "no"})


_text_32 = contract._text(32)


def _ident(raw: Any) -> str:
    value = _text_32(raw).replace(" ", "")
    if not value:
        raise ValueProblem("Valeur obligatoire manquante.")
    return value


def _qpv(raw: Any) -> tuple[bool, str]:
    """(in QPV, QPV code): a flag (1 = en QPV; 0 or 2 = hors QPV; oui/non) or a QPV code."""
    if isinstance(raw, bool):
        return raw, ""
    if isinstance(raw, int | float):
        raw = str(int(raw)) if float(raw).is_integer() else str(raw)
    value = str(raw).strip()
    word = value.lower()
    if word in _QPV_YES:
        return True, ""
    if word in _QPV_NO:
        return False, ""
    if not qpv_code_error(value.upper()):
        return True, value.upper()
    raise ValueProblem(
        "Valeur QPV attendue : 1 (en QPV), 0 ou 2 (hors QPV), oui ou non, ou un code de QPV "
        "(par exemple QN07621M)."
    )


_rooms = contract._integer(1, 20)


def _pieces(raw: Any) -> int:
    try:
        return _rooms(raw)
    except ValueProblem:
        raise ValueProblem("Nombre de pièces attendu (nombre entier de 1 à 20).") from None


def _finan(raw: Any) -> str:
    value = normalised_code(str(int(raw)) if isinstance(raw, int | float) else str(raw))
    if len(value) > 16:
        raise ValueProblem("Code de financement de 16 caractères au plus.")
    return value


def _cus(raw: Any) -> str:
    return str(raw).strip().upper()[:16]


def _number(message: str) -> Callable[[Any], Decimal]:
    def parse(raw: Any) -> Decimal:
        try:
            return contract._decimal(raw)
        except ValueProblem:
            raise ValueProblem(message) from None

    return parse


_surface_number = _number("Surface en m² attendue (par exemple 65 ou 65,5).")
_rent_number = _number("Loyer mensuel en euros attendu (par exemple 412,35).")
MAX_SURFACE = Decimal("99999.99")
MAX_RENT = Decimal("9999999.99")


def _surface(raw: Any) -> Decimal | None:
    value = _surface_number(raw)
    if value > MAX_SURFACE:
        raise ValueProblem("Surface trop grande pour un logement.")
    return value or None  # 0: not given


def _rent(raw: Any) -> Decimal | None:
    value = _rent_number(raw)
    if value == RENT_NOT_APPLICABLE or not value:
        return None
    if value > MAX_RENT:
        raise ValueProblem("Loyer trop élevé.")
    return value


_year_number = contract._integer(0, 2100)


def _year(raw: Any) -> int | None:
    try:
        value = _year_number(raw)
    except ValueProblem:
        raise ValueProblem("Année attendue (par exemple 1972).") from None
    if value == 0:
        return None
    if value < 1000:
        raise ValueProblem("Année attendue (par exemple 1972).")
    return value


def _dpe(raw: Any) -> str:
    value = str(raw).strip().upper()
    if value in _DPE_CLASSES:
        return value
    if value in _DPE_NOT_GIVEN:
        return ""
    raise ValueProblem("Classe énergie attendue : une lettre de A à G (ou vide).")


@dataclass(frozen=True)
class Field:
    """A column the observatory reads: `names` are the headers accepted (compared in
    `header_key` form, each also with a `_red` suffix), best first; the first is how the
    documentation and the messages name it."""

    name: str
    names: tuple[str, ...]
    parse: Callable[[Any], Any]
    column_required: bool = False  # the file is refused without this column
    value_required: bool = False  # a line of the conference without a value is an error
    default: Any = None

    @property
    def shown(self) -> str:
        return self.names[0]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(header_key(name) for name in self.names)


_memo = contract._memoized
FIELDS: tuple[Field, ...] = (
    Field("rpls_id", ("IDENT_REP",), _ident, True, True),
    Field(
        "commune",
        ("DEPCOM", "DEPCOM_CODE", "CODE_COMMUNE", "CODE_INSEE", "DEPCOM_ARM"),
        _memo(insee_code),
        True,
        True,
    ),
    Field("qpv", ("QPV", "QPV_CODE", "CODE_QPV"), _memo(_qpv), True, False, (False, "")),
    Field("nb_pieces", ("NBPIECE", "NBPIECES", "NBPIECE_CODE"), _memo(_pieces)),
    Field("finan", ("FINAN", "FINAN_CODE"), _memo(_finan), default=""),
    Field("finan_cus", ("finan_cus", "FINAN_CUS_CODE"), _memo(_cus), default=""),
    Field("surface", ("SURFHAB",), _surface),
    Field("loyer", ("LOYERPRINC",), _rent),
    Field("annee_construction", ("CONSTRUCT", "CONSTRUCT_CODE"), _memo(_year)),
    Field("dpe_energie", ("DPEENERGIE", "DPEENERGIE_CODE"), _memo(_dpe), default=""),
)
_KEYS = {key: (field.name, rank) for field in FIELDS for rank, key in enumerate(field.keys)}
REQUIRED_SHOWN = ", ".join(field.shown for field in FIELDS if field.column_required)


def rpls_key(header: str) -> tuple[str, int, int] | None:
    """(field name, rank of the name among the field's, 1 for a `_red` variant) for a header
    the observatory reads; None for a column it ignores."""
    key = header_key(header)
    found = _KEYS.get(key)
    if found is not None:
        return found[0], found[1], 0
    if key.endswith("red"):
        found = _KEYS.get(key[:-3])
        if found is not None:
            return found[0], found[1], 1
    return None


def match_headers(headers: list[str]) -> tuple[dict[int, str], list[str]]:
    """Positions of the columns read (the best-named one when several name the same field),
    and the problems: only missing indispensable columns. Other columns are ignored."""
    best: dict[str, tuple[int, int, int]] = {}  # field → (rank, red, index)
    for index, header in enumerate(headers):
        if header is None or str(header).strip() == "":
            continue
        found = rpls_key(str(header))
        if found is None:
            continue
        name, rank, red = found
        candidate = (rank, red, index)
        if name not in best or candidate < best[name]:
            best[name] = candidate
    positions = {index: name for name, (_rank, _red, index) in best.items()}
    missing = [field.shown for field in FIELDS if field.column_required and field.name not in best]
    problems = []
    if missing:
        problems.append(
            "Colonnes indispensables absentes : "
            + ", ".join(missing)
            + f". Un fichier RPLS doit contenir au moins les colonnes {REQUIRED_SHOWN} "
            "(majuscules et variantes « _red » admises) ; les autres colonnes sont facultatives."
        )
    return positions, problems


def column_of(positions: dict[int, str], headers: list[str]) -> dict[str, str]:
    """Field name → the header of the file it is read from (for messages and the report)."""
    return {name: headers[index] for index, name in positions.items()}


def typology(rooms: int | None) -> str:
    if rooms is None:
        return ""
    return TYPOLOGY_OF_ROOMS.get(rooms, "T6+")


Problem = tuple[str, Any, str]


def parse_row(raw: dict[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """Typed values of one line of the conference (keyed by field name) and its problems,
    each named by the field's `shown` column name."""
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    for field in FIELDS:
        raw_value = raw.get(field.name)
        if raw_value is None or (isinstance(raw_value, str) and not raw_value.strip()):
            if field.value_required:
                problems.append((field.name, "", "Valeur obligatoire manquante."))
            values[field.name] = field.default
            continue
        try:
            values[field.name] = field.parse(raw_value)
        except ValueProblem as problem:
            problems.append((field.name, raw_value, str(problem)))
            values[field.name] = field.default
    return values, problems
