"""The `demandes` v1 contract (docs/formats-demandes.md): one line per demand for social
housing, as an SNE extract gives it — without names nor NIR (domain.md §6).

Pure Python (no Django). Values are read by the parsers of the `attributions` v1 contract
(dates `AAAA-MM-JJ` or `JJ/MM/AAAA`, amounts with `,` or `.`, oui/non…), so both files accept
and refuse exactly the same things, with the same French messages.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from attributions import contract
from attributions.contract import ValueProblem, header_key
from observatoire.contracts.common import insee_code, split_codes

# Motifs de radiation (CCH R.441-2-8), the codes of observatoire.models.ClosureReason.
CLOSURE_CODES = (
    "attribution",
    "non_renouvellement",
    "renonciation",
    "irrecevabilite",
    "absence_reponse",
    "autre",
)
_CLOSURE_KEYS = {header_key(code): code for code in CLOSURE_CODES}
_CLOSURE_KEYS.update(
    {
        header_key("attribution d'un logement"): "attribution",
        header_key("non renouvellement"): "non_renouvellement",
        header_key("défaut de renouvellement"): "non_renouvellement",
        header_key("renonciation écrite"): "renonciation",
        header_key("irrecevabilité"): "irrecevabilite",
        header_key("absence de réponse"): "absence_reponse",
        header_key("autre motif"): "autre",
    }
)
# An applicant names a few communes; far more is not a list of wishes.
MAX_COMMUNES = 30


def _closure(raw: Any) -> str:
    code = _CLOSURE_KEYS.get(header_key(str(raw)))
    if code is None:
        raise ValueProblem(
            f"Motif de radiation inconnu ; codes admis : {', '.join(CLOSURE_CODES)}."
        )
    return code


def _communes(raw: Any) -> tuple[str, ...]:
    """The communes wished, in order: INSEE codes separated by `|` (or `,`, `;`, spaces)."""
    codes: list[str] = []
    for token in split_codes(raw):
        try:
            code = insee_code(token)
        except ValueProblem as problem:
            raise ValueProblem(f"« {token} » : {problem}") from None
        if code in codes:
            raise ValueProblem(f"La commune {code} est citée deux fois.")
        codes.append(code)
    if not codes:
        raise ValueProblem("Au moins une commune souhaitée (code INSEE) est attendue.")
    if len(codes) > MAX_COMMUNES:
        raise ValueProblem(f"{MAX_COMMUNES} communes souhaitées au plus (ici {len(codes)}).")
    return tuple(codes)


_text_32 = contract._text(32)


def _numero(raw: Any) -> str:
    value = _text_32(raw).replace(" ", "")
    if not value:
        raise ValueProblem("Valeur obligatoire manquante.")
    return value


@dataclass(frozen=True)
class Column:
    name: str
    required: bool
    parse: Callable[[Any], Any]
    default: Any = None


_boolean = contract._memoized(contract._boolean)

COLUMNS: tuple[Column, ...] = (
    Column("numero_unique", True, _numero),
    Column("date_depot", True, contract._memoized(contract._date)),
    Column("communes_souhaitees", True, contract._memoized(_communes)),
    Column("nb_personnes", True, contract._memoized(contract._integer(1))),
    Column("nb_enfants_moins_14", False, contract._memoized(contract._integer(0)), 0),
    Column("revenu_annuel", False, contract._decimal, None),
    Column(
        "typologie",
        False,
        contract._memoized(contract._choice(contract.TYPOLOGIES, "Typologie")),
        "",
    ),
    Column("mutation", False, _boolean, False),
    Column("dalo", False, _boolean, False),
    Column("prioritaire", False, _boolean, False),
    Column("date_radiation", False, contract._memoized(contract._date), None),
    Column("motif_radiation", False, contract._memoized(_closure), ""),
)
_ROW_SPEC = tuple((c.name, c.required, c.parse, c.default) for c in COLUMNS)

_HEADER_KEYS = {header_key(column.name): column.name for column in COLUMNS}
# How people actually type some headers.
_HEADER_KEYS.update(
    {
        header_key(typed): name
        for typed, name in (
            ("n° unique", "numero_unique"),
            ("numéro unique", "numero_unique"),
            ("numéro unique national", "numero_unique"),
            ("date de dépôt", "date_depot"),
            ("date de dépôt initial", "date_depot"),
            ("date dépôt", "date_depot"),
            ("communes souhaitées", "communes_souhaitees"),
            ("commune souhaitée", "communes_souhaitees"),
            ("communes demandées", "communes_souhaitees"),
            ("nombre de personnes", "nb_personnes"),
            ("taille du ménage", "nb_personnes"),
            ("enfants de moins de 14 ans", "nb_enfants_moins_14"),
            ("nb enfants moins de 14 ans", "nb_enfants_moins_14"),
            ("revenu annuel", "revenu_annuel"),
            ("typologie souhaitée", "typologie"),
            ("type de logement", "typologie"),
            ("demande de mutation", "mutation"),
            ("locataire hlm", "mutation"),
            ("déjà locataire hlm", "mutation"),
            ("date de radiation", "date_radiation"),
            ("motif de radiation", "motif_radiation"),
        )
    }
)
# Columns of identity the platform never keeps (domain.md §6): named apart in the refusal.
_PERSONAL_KEYS = {
    header_key(word)
    for word in (
        "nom",
        "prénom",
        "nom d'usage",
        "nom de naissance",
        "nir",
        "numéro de sécurité sociale",
        "date de naissance",
        "adresse",
        "téléphone",
        "courriel",
        "email",
        "e-mail",
    )
}


def match_headers(headers: list[str]) -> tuple[dict[int, str], list[str]]:
    """Map header positions to column names. Returns (positions, problems): unknown,
    duplicated and missing columns, each described in French. Nothing is silently dropped."""
    positions: dict[int, str] = {}
    unknown, personal, seen, problems = [], [], {}, []
    for index, header in enumerate(headers):
        if header is None or str(header).strip() == "":
            continue
        key = header_key(header)
        name = _HEADER_KEYS.get(key)
        if name is None:
            (personal if key in _PERSONAL_KEYS else unknown).append(str(header).strip())
        elif name in seen:
            problems.append(
                f"La colonne « {name} » apparaît deux fois (« {seen[name]} » et « {header} »)."
            )
        else:
            seen[name] = str(header).strip()
            positions[index] = name
    if personal:
        problems.append(
            "Colonnes de données d'identité refusées : "
            + ", ".join(f"« {p} »" for p in personal)
            + ". La plateforme ne conserve ni nom, ni NIR, ni coordonnées des demandeurs : "
            "retirez ces colonnes du fichier."
        )
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


Problem = tuple[str, Any, str]  # (column, raw value, French message)


def parse_row(raw: dict[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """Typed values of one line, keyed by column name, and its problems."""
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    for name, required, parse, default in _ROW_SPEC:
        raw_value = raw.get(name)
        if raw_value is None or (isinstance(raw_value, str) and not raw_value.strip()):
            if required:
                problems.append((name, "", "Valeur obligatoire manquante."))
            values[name] = default
            continue
        try:
            values[name] = parse(raw_value)
        except ValueProblem as problem:
            problems.append((name, raw_value, str(problem)))
            values[name] = default
    return values, problems


def check_row(values: dict[str, Any], failed: frozenset[str] = frozenset()) -> list[Problem]:
    """The rules between the values of one line; a rule involving a column whose value did
    not parse (`failed`) is not checked (that column's error is reported already)."""
    problems: list[Problem] = []
    size, children = values.get("nb_personnes"), values.get("nb_enfants_moins_14") or 0
    if size is not None and children >= size and "nb_enfants_moins_14" not in failed:
        problems.append(
            (
                "nb_enfants_moins_14",
                children,
                "Le nombre d'enfants de moins de 14 ans doit être inférieur au nombre de "
                "personnes du ménage.",
            )
        )
    deposit, closed, motif = (
        values.get("date_depot"),
        values.get("date_radiation"),
        values.get("motif_radiation"),
    )
    if closed is not None and deposit is not None and closed < deposit:
        problems.append(
            (
                "date_radiation",
                closed,
                f"La date de radiation précède la date de dépôt ({deposit.strftime('%d/%m/%Y')}).",
            )
        )
    if closed is not None and not motif and "motif_radiation" not in failed:
        problems.append(
            ("motif_radiation", "", "Une demande radiée doit indiquer son motif de radiation.")
        )
    if motif and closed is None and "date_radiation" not in failed:
        problems.append(
            (
                "date_radiation",
                "",
                "Un motif de radiation est donné : la date de radiation est obligatoire.",
            )
        )
    return problems
