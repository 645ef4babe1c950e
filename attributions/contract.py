"""The `attributions` v1 contract (shared/formats.md): its columns and how a value typed by a
person, read from a spreadsheet cell or sent as JSON becomes a typed value.

Pure Python (no Django): every input path (form, CSV/XLSX import, API) goes through
`parse_row`, so they accept and refuse exactly the same things, with the same French messages.
"""

import datetime
import functools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from cil.validators import insee_error, qpv_code_error, siren_error

RESERVATAIRE_CODES = (
    "etat_prioritaires",
    "etat_fonctionnaires",
    "action_logement",
    "commune",
    "epci",
    "departement",
    "region",
    "autre_reservataire",
    "non_reserve",
)
TYPOLOGIES = {"T1": "T1", "T2": "T2", "T3": "T3", "T4": "T4", "T5": "T5", "T6+": "T6+", "T6": "T6+"}
TYPOLOGIES.update({"1": "T1", "2": "T2", "3": "T3", "4": "T4", "5": "T5", "6": "T6+", "6+": "T6+"})
FINANCEMENTS = {"PLAI": "PLAI", "PLUS": "PLUS", "PLS": "PLS", "PLI": "PLI", "AUTRE": "autre"}
TRUE_WORDS = {"oui", "o", "1", "true", "vrai", "x", "yes", "y"}
FALSE_WORDS = {"non", "n", "0", "false", "faux", "no", ""}
MAX_DECIMAL = Decimal("9999999999.99")
_CENT = Decimal("0.01")
_NUMBER = (int, float)  # a cell a spreadsheet typed as a number (bool is an int: checked apart)


class ValueProblem(ValueError):
    """A value that does not fit its column; the message is French and shown to the user."""


def _blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and raw.strip() == "")


# The checks of identifiers are pure functions of the value, and a file repeats the same few
# SIREN (its bailleurs, its réservataires) on every line: each value is checked once.
_siren_error = functools.lru_cache(maxsize=4096)(siren_error)


def _memoized(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`parse`, remembering its results for text values: the columns whose values repeat
    from line to line (dates, communes, codes, booleans, small integers) are parsed once per
    distinct value. Only for parsers that are pure functions of the value and return
    immutable values; a refused value raises each time (exceptions are not remembered)."""
    remembered = functools.lru_cache(maxsize=1024)(parse)

    def parse_value(raw: Any) -> Any:
        return remembered(raw) if type(raw) is str else parse(raw)

    return parse_value


def _text(max_length: int) -> Callable[[Any], str]:
    def parse(raw: Any) -> str:
        value = str(raw).strip()
        if "\x00" in value:
            raise ValueProblem("Caractère nul interdit.")
        if isinstance(raw, float) and raw.is_integer():
            value = str(int(raw))  # a spreadsheet turned an identifier into a number
        if len(value) > max_length:
            raise ValueProblem(f"{max_length} caractères au plus (ici {len(value)}).")
        return value

    return parse


def _identifier(error_of: Callable[[str], str | None]) -> Callable[[Any], str]:
    def parse(raw: Any) -> str:
        value = (
            str(int(raw)) if isinstance(raw, _NUMBER) and not isinstance(raw, bool) else str(raw)
        )
        value = value.strip().replace(" ", "")
        message = error_of(value)
        if message:
            raise ValueProblem(message)
        return value

    return parse


def _commune(raw: Any) -> str:
    value = str(raw).strip()
    if isinstance(raw, _NUMBER) and not isinstance(raw, bool):
        value = f"{int(raw):05d}"  # 1053 read from a spreadsheet is 01053
    message = insee_error(value.upper())
    if message:
        raise ValueProblem(message)
    return value.upper()


def _qpv(raw: Any) -> str:
    value = str(raw).strip().upper()
    message = qpv_code_error(value)
    if message:
        raise ValueProblem(message)
    return value


_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d.%m.%Y")
# The contract's two formats, exactly as written (two-digit day and month): read without
# strptime (0.5 µs instead of 4.5 µs, and a French date used to cost two strptime calls).
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_FRENCH_DATE = re.compile(r"([0-9]{2})/([0-9]{2})/([0-9]{4})")
_YEAR_OUT_OF_RANGE = "Année hors de la plage attendue (2000 à 2100)."


def _date(raw: Any) -> datetime.date:
    if isinstance(raw, datetime.datetime):
        return raw.date()
    if isinstance(raw, datetime.date):
        return raw
    value = str(raw).strip()
    if " " in value:  # "2025-03-14 00:00:00" from a spreadsheet cell
        value = value.split(" ", 1)[0]
    # Fast path. Such a value is read by exactly one of _DATE_FORMATS ("%Y-%m-%d" or
    # "%d/%m/%Y"), to the same date; one that is not a date (31/02/2025) goes down the slow
    # path below, which refuses it with the usual message.
    if (match := _FRENCH_DATE.fullmatch(value)) is not None:
        day, month, year = match.groups()
    elif (match := _ISO_DATE.fullmatch(value)) is not None:
        year, month, day = match.groups()
    if match is not None:
        try:
            parsed = datetime.date(int(year), int(month), int(day))
        except ValueError:
            pass
        else:
            if not 2000 <= parsed.year <= 2100:
                raise ValueProblem(_YEAR_OUT_OF_RANGE)
            return parsed
    for date_format in _DATE_FORMATS:
        try:
            parsed = datetime.datetime.strptime(value, date_format).date()  # noqa: DTZ007 - a date
        except ValueError:
            continue
        if not 2000 <= parsed.year <= 2100:
            raise ValueProblem(_YEAR_OUT_OF_RANGE)
        return parsed
    raise ValueProblem("Date attendue au format AAAA-MM-JJ ou JJ/MM/AAAA.")


def _integer(minimum: int, maximum: int = 99) -> Callable[[Any], int]:
    def parse(raw: Any) -> int:
        if isinstance(raw, bool):
            raise ValueProblem("Nombre entier attendu.")
        if isinstance(raw, float):
            if not raw.is_integer():
                raise ValueProblem("Nombre entier attendu.")
            raw = int(raw)
        try:
            value = int(str(raw).strip())
        except ValueError:
            raise ValueProblem("Nombre entier attendu.") from None
        if value < minimum:
            raise ValueProblem(f"Nombre entier supérieur ou égal à {minimum} attendu.")
        if value > maximum:
            raise ValueProblem(f"Nombre entier inférieur ou égal à {maximum} attendu.")
        return value

    return parse


_THOUSANDS_WITH_DOTS = re.compile(r"\d{1,3}(\.\d{3})+,\d+")


def _decimal(raw: Any) -> Decimal:
    if isinstance(raw, bool):
        raise ValueProblem("Montant en euros attendu.")
    if isinstance(raw, _NUMBER):
        value = Decimal(str(raw))
    else:
        text = (
            str(raw)
            .strip()
            .replace("\u00a0", "")
            .replace("\u202f", "")
            .replace(" ", "")
            .replace("€", "")
        )
        if _THOUSANDS_WITH_DOTS.fullmatch(text):
            text = text.replace(".", "")  # 12.345,67
        text = text.replace(",", ".")
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise ValueProblem("Montant en euros attendu (par exemple 12345,67).") from None
    if not value.is_finite():
        raise ValueProblem("Montant en euros attendu (par exemple 12345,67).")
    if value < 0:
        raise ValueProblem("Le montant ne peut pas être négatif.")
    if value > MAX_DECIMAL:
        raise ValueProblem("Montant trop élevé.")
    return value.quantize(_CENT)


def _boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, _NUMBER) and raw in (0, 1):
        return bool(raw)
    word = str(raw).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueProblem("Valeur oui/non attendue (oui, non, o, n, 1, 0, vrai, faux, x ou vide).")


def _choice(mapping: dict[str, str], label: str) -> Callable[[Any], str]:
    def parse(raw: Any) -> str:
        key = str(int(raw)) if isinstance(raw, _NUMBER) and not isinstance(raw, bool) else str(raw)
        key = key.strip().upper().replace(" ", "")
        if key in mapping:
            return mapping[key]
        raise ValueProblem(
            f"{label} inconnue ; valeurs admises : {', '.join(sorted(set(mapping.values())))}."
        )

    return parse


def _reservataire(raw: Any) -> str:
    value = str(raw).strip().lower()
    if value in RESERVATAIRE_CODES:
        return value
    raise ValueProblem(
        f"Code réservataire inconnu ; codes admis : {', '.join(RESERVATAIRE_CODES)}."
    )


@dataclass(frozen=True)
class Column:
    name: str
    required: bool
    parse: Callable[[Any], Any]
    default: Any = None


_boolean_memoized = _memoized(_boolean)

COLUMNS: tuple[Column, ...] = (
    Column("reference", True, _text(64)),
    Column("bailleur_siren", True, _memoized(_identifier(_siren_error))),
    Column("date_signature_bail", True, _memoized(_date)),
    Column("commune_insee", True, _memoized(_commune)),
    Column("qpv_code", False, _memoized(_qpv), ""),
    Column("numero_unique", False, _text(32), ""),
    Column("rpls_id", False, _text(32), ""),
    Column("typologie", False, _memoized(_choice(TYPOLOGIES, "Typologie")), ""),
    Column("financement", False, _memoized(_choice(FINANCEMENTS, "Financement")), ""),
    Column("reservataire", True, _reservataire),
    Column("reservataire_siren", False, _memoized(_identifier(_siren_error)), ""),
    Column("nb_personnes", True, _memoized(_integer(1))),
    Column("nb_enfants_moins_14", False, _memoized(_integer(0)), 0),
    Column("revenu_annuel", False, _decimal, None),
    Column("revenu_par_uc", False, _decimal, None),
    Column("dalo", False, _boolean_memoized, False),
    Column("prioritaire", False, _boolean_memoized, False),
    Column("relogement_npnru", False, _boolean_memoized, False),
    Column("mutation", False, _boolean_memoized, False),
)
COLUMNS_BY_NAME = {column.name: column for column in COLUMNS}
_ROW_SPEC = tuple((c.name, c.required, c.parse, c.default) for c in COLUMNS)


def header_key(text: str) -> str:
    """Header matching ignores case, accents, spaces and `_`/`-` differences."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return re.sub(r"[\s_\-'’.]+", "", plain)


_HEADER_KEYS = {header_key(column.name): column.name for column in COLUMNS}
# How people actually type some headers ("Date signature bail", "N° unique", "Code INSEE").
_HEADER_KEYS.update(
    {
        header_key("date signature bail"): "date_signature_bail",
        header_key("date de signature du bail"): "date_signature_bail",
        header_key("date bail"): "date_signature_bail",
        header_key("siren bailleur"): "bailleur_siren",
        header_key("siren du bailleur"): "bailleur_siren",
        header_key("code insee"): "commune_insee",
        header_key("insee"): "commune_insee",
        header_key("code commune"): "commune_insee",
        header_key("code qpv"): "qpv_code",
        header_key("qpv"): "qpv_code",
        header_key("n° unique"): "numero_unique",
        header_key("numéro unique"): "numero_unique",
        header_key("nombre de personnes"): "nb_personnes",
        header_key("taille du ménage"): "nb_personnes",
        header_key("enfants de moins de 14 ans"): "nb_enfants_moins_14",
        header_key("nb enfants moins de 14 ans"): "nb_enfants_moins_14",
        header_key("revenu annuel"): "revenu_annuel",
        header_key("revenu par uc"): "revenu_par_uc",
        header_key("relogement anru"): "relogement_npnru",
        header_key("siren réservataire"): "reservataire_siren",
        header_key("contingent"): "reservataire",
    }
)


def match_headers(headers: list[str]) -> tuple[dict[int, str], list[str]]:
    """Map header positions to column names. Returns (positions, problems): unknown columns,
    duplicated columns and missing required columns, each described in French."""
    positions: dict[int, str] = {}
    unknown, seen, problems = [], {}, []
    for index, header in enumerate(headers):
        if header is None or str(header).strip() == "":
            continue
        name = _HEADER_KEYS.get(header_key(header))
        if name is None:
            unknown.append(str(header).strip())
        elif name in seen:
            problems.append(
                f"La colonne « {name} » apparaît deux fois (« {seen[name]} » et « {header} »)."
            )
        else:
            seen[name] = str(header).strip()
            positions[index] = name
    if unknown:
        problems.append(
            "Colonnes inconnues : "
            + ", ".join(f"« {u} »" for u in unknown)
            + ". Colonnes admises : "
            + ", ".join(c.name for c in COLUMNS)
            + "."
        )
    missing = [c.name for c in COLUMNS if c.required and c.name not in seen]
    if missing:
        problems.append("Colonnes obligatoires absentes : " + ", ".join(missing) + ".")
    return positions, problems


def parse_row(raw: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, Any, str]]]:
    """Typed values of one row, keyed by column name, and its problems as
    (column, raw value, French message)."""
    values: dict[str, Any] = {}
    problems: list[tuple[str, Any, str]] = []
    get = raw.get
    for name, required, parse, default in _ROW_SPEC:
        raw_value = get(name)
        # `_blank`, inlined for the common case (called 19 times a line).
        if raw_value is None or (
            (not raw_value or raw_value.isspace()) if type(raw_value) is str else _blank(raw_value)
        ):
            if required:
                problems.append((name, "", "Valeur obligatoire manquante."))
            values[name] = default
            continue
        try:
            values[name] = parse(raw_value)
        except ValueProblem as problem:
            problems.append((name, raw_value, str(problem)))
    return values, problems
