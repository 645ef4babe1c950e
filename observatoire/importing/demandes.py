"""Importing a `demandes` v1 file (docs/formats-demandes.md).

Every line is checked against the contract and the conference's territory (its first wished
commune must be one of the conference's); UC and income per UC are derived with the same
scale and functions as the attributions (`attributions.rules`, setting CIL_UC_SCALE). A
numéro unique is the key: importing it again updates the demand when something changed, and
leaves it untouched otherwise. Demands absent from the file are kept (an extract may cover
part of the stock only).
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction

from attributions import rules
from attributions.derivation import uc_scale_from_settings
from attributions.importing.planning import ErrorLog
from cil import tabular
from cil.models import Commune, Conference
from observatoire.contracts import demandes as contract
from observatoire.contracts.common import fold
from observatoire.importing.base import (
    ImportRejected,
    LineReader,
    Plan,
    Progress,
    Upserts,
    comparable,
)
from observatoire.models import Demand

LAYOUT = tabular.Layout(
    match_headers=contract.match_headers,
    file_noun="un fichier de demandes",
    line_noun="une ligne de demande",
)
EMPTY = "Le fichier ne contient aucune demande après la ligne d'en-tête."

# The model fields an import writes; the numéro unique is the key.
WRITTEN_FIELDS = (
    "numero_unique",
    "date_depot",
    "communes_souhaitees",
    "commune_insee",
    "nb_personnes",
    "nb_enfants_moins_14",
    "revenu_annuel",
    "typologie",
    "mutation",
    "dalo",
    "prioritaire",
    "date_radiation",
    "motif_radiation",
    "uc",
    "revenu_par_uc",
)
COMPARED_FIELDS = WRITTEN_FIELDS[1:]
UC_PLACES = Decimal("0.01")  # Demand.uc: 2 decimal places
_key = comparable(Demand, COMPARED_FIELDS)


@dataclass(frozen=True)
class Reference:
    communes: frozenset[str]
    uc_scale: rules.UcScale


def load_reference(conference: Conference) -> Reference:
    """The conference's communes and the UC scale (call inside its scope)."""
    return Reference(
        communes=frozenset(Commune.objects.values_list("insee", flat=True)),
        uc_scale=uc_scale_from_settings(),
    )


def derive(values: dict[str, Any], reference: Reference) -> tuple[dict | None, list]:
    """The model fields of one parsed line, or its problems with the territory."""
    wished = values["communes_souhaitees"]
    first = fold(wished[0], reference.communes)
    if first is None:
        return None, [
            (
                "communes_souhaitees",
                wished[0],
                f"La première commune souhaitée ({wished[0]}) n'appartient pas au territoire "
                "de la conférence.",
            )
        ]
    # The others are kept as given (an applicant may wish communes of a neighbouring EPCI);
    # an arrondissement of Paris, Lyon or Marseille counts for its commune.
    communes = list(dict.fromkeys(fold(code, reference.communes) or code for code in wished))
    size, children = values["nb_personnes"], values["nb_enfants_moins_14"]
    uc = rules.consumption_units(size, children, reference.uc_scale)
    stored_uc = uc.quantize(UC_PLACES)  # as the model stores it; income per UC uses the exact UC
    fields = {name: values[name] for name in WRITTEN_FIELDS if name in values}
    fields.update(
        communes_souhaitees=communes,
        commune_insee=first,
        # CCH L.441-1: a household recognised DALO is a priority household.
        prioritaire=bool(values["prioritaire"] or values["dalo"]),
        uc=stored_uc,
        revenu_par_uc=rules.income_per_uc(values["revenu_annuel"], uc),
    )
    return fields, []


class Checker:
    """Checks the lines of a file, yields (line number, model fields) of the valid ones and
    logs every error, numéros uniques given twice included. Shared by plan and commit."""

    def __init__(self, reference: Reference, errors: ErrorLog, progress: Progress | None):
        self.reference = reference
        self.errors = errors
        self.progress = progress
        self.reader: LineReader | None = None
        self._seen: dict[str, int] = {}

    @property
    def lines(self) -> int:
        return self.reader.lines if self.reader else 0

    def valid_lines(self, file: tabular.TabularFile):
        self.reader = LineReader(file, self.errors, progress=self.progress, empty_message=EMPTY)
        for line in self.reader:
            values, problems = contract.parse_row(line.raw)
            failed = frozenset(column for column, _value, _message in problems)
            problems = [*line.problems, *problems, *contract.check_row(values, failed)]
            fields = None
            if values["communes_souhaitees"] and values["nb_personnes"] is not None:
                fields, territory = derive(values, self.reference)
                problems.extend(territory)
            numero = values["numero_unique"]
            if numero:
                first = self._seen.setdefault(numero, line.number)
                if first != line.number:
                    problems.append(
                        (
                            "numero_unique",
                            numero,
                            f"Numéro unique en double : lignes {first} et {line.number} du fichier.",
                        )
                    )
            if problems:
                for column, value, message in problems:
                    self.errors.add(line.number, column, value, message)
                continue
            yield line.number, fields


def _stored() -> dict[str, tuple[int, tuple]]:
    """numéro unique → (pk, comparable values) of the conference's demands: one query."""
    rows = Demand.objects.values_list("numero_unique", "pk", *COMPARED_FIELDS)
    return {numero: (pk, _key(values)) for numero, pk, *values in rows.iterator(chunk_size=5000)}


def plan(
    file: tabular.TabularFile,
    *,
    conference: Conference,
    year: int | None,
    progress: Progress | None = None,
    on_error=None,
) -> Plan:
    """Check every line and count what importing the file would do (inside the conference's
    scope). Writes nothing."""
    errors = ErrorLog(on_error=on_error)
    checker = Checker(load_reference(conference), errors, progress)
    planned = {
        fields["numero_unique"]: _key(_compared(fields)) for _n, fields in checker.valid_lines(file)
    }
    counts = {"lines": checker.lines, "create": 0, "update": 0, "unchanged": 0}
    if not errors:
        stored = _stored()
        for numero, key in planned.items():
            known = stored.get(numero)
            if known is None:
                counts["create"] += 1
            elif known[1] == key:
                counts["unchanged"] += 1
            else:
                counts["update"] += 1
    return Plan.of(counts, errors)


def _compared(fields: dict[str, Any]) -> list:
    return [fields[name] for name in COMPARED_FIELDS]


@transaction.atomic
def commit(
    file: tabular.TabularFile,
    *,
    conference: Conference,
    year: int | None,
    progress: Progress | None = None,
    actor=None,
) -> dict[str, Any]:
    """Write the file's demands (inside the conference's scope): every line is checked again;
    on any error, ImportRejected and nothing is written."""
    errors = ErrorLog()
    checker = Checker(load_reference(conference), errors, progress)
    stored = _stored()
    upserts = Upserts(
        Demand,
        fixed={"conference_id": conference.pk},
        key=["conference_id", "numero_unique"],
        fields=list(WRITTEN_FIELDS),
    )
    counts = {"create": 0, "update": 0, "unchanged": 0}
    years: set[int] = set()
    for _number, fields in checker.valid_lines(file):
        if errors:
            continue  # keep checking, to report every error; write no more
        known = stored.get(fields["numero_unique"])
        if known is not None and known[1] == _key(_compared(fields)):
            counts["unchanged"] += 1
            continue
        counts["update" if known else "create"] += 1
        years.add(fields["date_depot"].year)
        if fields["date_radiation"]:
            years.add(fields["date_radiation"].year)
        upserts.add(fields)
    if errors:
        raise ImportRejected(errors)
    upserts.flush()
    return {"lines": checker.lines, **counts, "years": sorted(years)}
