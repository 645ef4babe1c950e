"""Importing an RPLS file (docs/formats-rpls.md) for a millésime chosen at upload.

Only the lines of the conference's communes are read (an arrondissement of Paris, Lyon or
Marseille counts for its commune); the rest of the country is skipped unread and counted.
A dwelling is keyed by (millésime, IDENT_REP): importing the file again updates what changed
and leaves the rest untouched. For each commune the file contains, the file is the stock of
that millésime: a dwelling of that commune and millésime absent from the file is deleted
(sold, demolished, merged). Communes the file does not contain are left as they are, so a
file per département can be imported after another.
"""

from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from attributions.importing.planning import ErrorLog
from cil import tabular
from cil.models import Commune, Conference
from observatoire.contracts import financement
from observatoire.contracts import rpls as contract
from observatoire.contracts.common import PLM_COMMUNES, fold
from observatoire.importing.base import (
    BATCH_SIZE,
    ImportRejected,
    LineReader,
    Plan,
    Progress,
    Upserts,
    comparable,
)
from observatoire.models import Dwelling

LAYOUT = tabular.Layout(
    match_headers=contract.match_headers,
    file_noun="un fichier RPLS",
    line_noun="une ligne de logement",
)
WRITTEN_FIELDS = (
    "rpls_id",
    "commune_insee",
    "in_qpv",
    "qpv_code",
    "nb_pieces",
    "typologie",
    "financement",
    "financement_code",
    "surface",
    "loyer",
    "annee_construction",
    "dpe_energie",
)
COMPARED_FIELDS = WRITTEN_FIELDS[1:]
_key = comparable(Dwelling, COMPARED_FIELDS)
MAX_LISTED_CODES = 20  # unknown financing codes listed in the report


@dataclass(frozen=True)
class Reference:
    communes: frozenset[str]


def load_reference(conference: Conference) -> Reference:
    return Reference(communes=frozenset(Commune.objects.values_list("insee", flat=True)))


class Filter:
    """Decides on a line's raw cells whether it is one of the conference's communes, before
    anything else is read; counts the lines of other communes."""

    def __init__(self, file: tabular.TabularFile, communes: frozenset[str]):
        self.index = next(i for i, name in file.positions.items() if name == "commune")
        # Every spelling of a commune of ours: itself, and its arrondissements.
        self.ours = set(communes) | {
            code for code, parent in PLM_COMMUNES.items() if parent in communes
        }
        self.ignored = 0
        self.without_commune = 0

    def __call__(self, number: int, record: list[Any]) -> bool:
        cell = record[self.index] if self.index < len(record) else None
        if isinstance(cell, int | float) and not isinstance(cell, bool):
            code = f"{int(cell):05d}"
        else:
            code = "" if cell is None else str(cell).strip().upper()
        if code in self.ours:
            return True
        if code:
            self.ignored += 1
        elif any(c is not None and str(c).strip() for c in record):
            self.without_commune += 1
        return False


class Checker:
    """Checks the conference's lines; yields (line number, model fields) of the valid ones,
    logs every error (with the file's own column name), counts financing codes."""

    def __init__(self, reference: Reference, errors: ErrorLog, progress: Progress | None):
        self.reference = reference
        self.errors = errors
        self.progress = progress
        self.reader: LineReader | None = None
        self.filter: Filter | None = None
        self.unknown_codes: Counter[str] = Counter()
        self.absent_financing = 0
        self.communes: set[str] = set()  # communes the file contains
        self._seen: dict[str, int] = {}

    @property
    def lines(self) -> int:
        return self.reader.lines if self.reader else 0

    def counts(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "ignored": self.filter.ignored if self.filter else 0,
            "without_commune": self.filter.without_commune if self.filter else 0,
            "financement_unknown": sum(self.unknown_codes.values()),
            "financement_unknown_codes": sorted(self.unknown_codes)[:MAX_LISTED_CODES],
            "financement_absent": self.absent_financing,
            "communes": sorted(self.communes),
        }

    def valid_lines(self, file: tabular.TabularFile):
        columns = contract.column_of(file.positions, file.headers)
        self.filter = Filter(file, self.reference.communes)
        self.reader = LineReader(
            file, self.errors, progress=self.progress, empty_message=None, accept=self.filter
        )
        for line in self.reader:
            values, problems = contract.parse_row(line.raw)
            problems = [*line.problems, *((columns.get(c, c), v, m) for c, v, m in problems)]
            rpls_id = values["rpls_id"]
            if rpls_id:
                first = self._seen.setdefault(rpls_id, line.number)
                if first != line.number:
                    problems.append(
                        (
                            columns["rpls_id"],
                            rpls_id,
                            f"Identifiant RPLS en double : lignes {first} et {line.number} du fichier.",
                        )
                    )
            if problems:
                for column, value, message in problems:
                    self.errors.add(line.number, column, value, message)
                continue
            yield line.number, self._fields(values)
        if not self.lines and not self.errors:
            self.errors.add(
                file.header_line or 1,
                "",
                "",
                "Aucune ligne du fichier ne concerne une commune de la conférence "
                f"({self.filter.ignored} ligne{'s' if self.filter.ignored > 1 else ''} d'autres "
                "communes) : vérifiez qu'il s'agit du bon fichier (département, région).",
            )

    def _fields(self, values: dict[str, Any]) -> dict[str, Any]:
        commune = fold(values["commune"], self.reference.communes)
        self.communes.add(commune)
        in_qpv, qpv_code = values["qpv"]
        group, status = financement.group_of(values["finan"], values["finan_cus"])
        if status == financement.UNKNOWN:
            self.unknown_codes[values["finan"]] += 1
        elif status == financement.ABSENT:
            self.absent_financing += 1
        return {
            "rpls_id": values["rpls_id"],
            "commune_insee": commune,
            "in_qpv": in_qpv,
            "qpv_code": qpv_code,
            "nb_pieces": values["nb_pieces"],
            "typologie": contract.typology(values["nb_pieces"]),
            "financement": group,
            "financement_code": values["finan"],
            "surface": values["surface"],
            "loyer": values["loyer"],
            "annee_construction": values["annee_construction"],
            "dpe_energie": values["dpe_energie"],
        }


def _stored(millesime: int) -> dict[str, tuple[int, str, tuple]]:
    """IDENT_REP → (pk, commune, comparable values) of the conference's dwellings of the
    millésime: one query."""
    rows = Dwelling.objects.filter(millesime=millesime).values_list(
        "rpls_id", "pk", *COMPARED_FIELDS
    )
    return {
        rpls_id: (pk, values[0], _key(values))
        for rpls_id, pk, *values in rows.iterator(chunk_size=5000)
    }


def _compared(fields: dict[str, Any]) -> list:
    return [fields[name] for name in COMPARED_FIELDS]


def _missing_columns(file: tabular.TabularFile) -> list[str]:
    read = set(file.positions.values())
    return [field.shown for field in contract.FIELDS if field.name not in read]


def plan(
    file: tabular.TabularFile,
    *,
    conference: Conference,
    year: int,
    progress: Progress | None = None,
    on_error=None,
) -> Plan:
    """Check the conference's lines and count what importing the file would do (inside the
    conference's scope). Writes nothing."""
    errors = ErrorLog(on_error=on_error)
    checker = Checker(load_reference(conference), errors, progress)
    planned = {
        fields["rpls_id"]: _key(_compared(fields)) for _n, fields in checker.valid_lines(file)
    }
    counts = {
        **checker.counts(),
        "create": 0,
        "update": 0,
        "unchanged": 0,
        "delete": 0,
        "columns": contract.column_of(file.positions, file.headers),
        "missing_columns": _missing_columns(file),
    }
    if not errors:
        covered = checker.communes
        for rpls_id, (_pk, commune, key) in _stored(year).items():
            if rpls_id in planned:
                counts["unchanged" if planned.pop(rpls_id) == key else "update"] += 1
            elif commune in covered:
                counts["delete"] += 1
        counts["create"] = len(planned)
    return Plan.of(counts, errors)


@transaction.atomic
def commit(
    file: tabular.TabularFile,
    *,
    conference: Conference,
    year: int,
    progress: Progress | None = None,
    actor=None,
) -> dict[str, Any]:
    """Write the file's dwellings of the conference for the millésime `year` (inside the
    conference's scope); every line is checked again: on any error, ImportRejected and
    nothing is written."""
    errors = ErrorLog()
    checker = Checker(load_reference(conference), errors, progress)
    stored = _stored(year)
    upserts = Upserts(
        Dwelling,
        fixed={"conference_id": conference.pk, "millesime": year},
        key=["conference_id", "millesime", "rpls_id"],
        fields=list(WRITTEN_FIELDS),
    )
    counts = {"create": 0, "update": 0, "unchanged": 0, "delete": 0}
    seen: set[str] = set()
    for _number, fields in checker.valid_lines(file):
        if errors:
            continue
        seen.add(fields["rpls_id"])
        known = stored.get(fields["rpls_id"])
        if known is not None and known[2] == _key(_compared(fields)):
            counts["unchanged"] += 1
            continue
        counts["update" if known else "create"] += 1
        upserts.add(fields)
    if errors:
        raise ImportRejected(errors)
    upserts.flush()
    covered = checker.communes
    gone = [
        pk
        for rpls_id, (pk, commune, _key_) in stored.items()
        if rpls_id not in seen and commune in covered
    ]
    for start in range(0, len(gone), BATCH_SIZE):
        Dwelling.objects.filter(pk__in=gone[start : start + BATCH_SIZE]).delete()
    counts["delete"] = len(gone)
    return {**checker.counts(), **counts, "years": [year]}
