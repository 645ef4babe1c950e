"""Planning an import: the WHOLE file is checked before anything is written (shared/formats.md:
« if any line is wrong, nothing is written and every error is reported »), then compared with
the stored attributions to count what the import would create, update or leave unchanged.

Every line goes through `contract.parse_row` and `derivation.derive` — the same checks as the
form and the API — against ONE `load_reference` of the conference; the stored attributions are
read in ONE query. Memory per line is a key and a hash, never the line itself.
"""

import datetime
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import models

from attributions import contract, derivation
from attributions.importing.reading import AttributionFile, FileRefused
from attributions.models import Attribution
from cil.models import Conference

# The page and the job keep this many errors; the total is always counted (the command prints
# every one of them).
MAX_KEPT_ERRORS = 1000
MAX_SHOWN_VALUE = 200  # characters of a wrong value kept in an error
PROGRESS_EVERY = 500  # lines between two calls of the progress callback

# The model fields an import writes: `derive` returns exactly these (checked on the first line).
WRITTEN_FIELDS: tuple[str, ...] = (
    *derivation.MODEL_FIELDS.values(),
    "bailleur_id",
    "commune_id",
    "qpv_id",
    "year",
    "in_qpv",
    "uc",
    "income_per_uc",
    "is_q1",
)
KEY_FIELDS = ("bailleur_id", "reference")  # (bailleur, reference) is unique (formats.md)
COMPARED_FIELDS: tuple[str, ...] = tuple(f for f in WRITTEN_FIELDS if f not in KEY_FIELDS)


def _quantum(name: str) -> Decimal | None:
    model_field = Attribution._meta.get_field(name)
    if isinstance(model_field, models.DecimalField):
        return Decimal(1).scaleb(-model_field.decimal_places)
    return None


# A decimal is compared as the database stores it (rounded to the field's places).
_QUANTA = tuple(_quantum(name) for name in COMPARED_FIELDS)
_COLUMN_DEFAULTS = {column.name: column.default for column in contract.COLUMNS}

Fields = dict[str, Any]
Progress = Callable[[int], None]


def fingerprint(values) -> int:
    """A hash of the compared fields' values (in COMPARED_FIELDS order), equal for a line and
    the stored attribution it would leave unchanged. Computed on both sides in one process."""
    return hash(
        tuple(
            value.quantize(quantum) if quantum is not None and value is not None else value
            for value, quantum in zip(values, _QUANTA, strict=True)
        )
    )


def fingerprint_of(fields: Fields) -> int:
    return fingerprint([fields[name] for name in COMPARED_FIELDS])


def shown(value: Any) -> str:
    """A value as the person typed it, for error messages."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass
class ErrorLog:
    """The errors of a file: all counted, the first MAX_KEPT_ERRORS kept (in line order)."""

    kept: list[dict[str, Any]] = field(default_factory=list)
    count: int = 0
    limit: int = MAX_KEPT_ERRORS
    on_error: Callable[[dict[str, Any]], None] | None = None

    def add(self, line: int | None, column: str, value: Any, message: str) -> None:
        error = {
            "line": line,
            "column": column,
            "value": shown(value)[:MAX_SHOWN_VALUE],
            "message": message,
        }
        self.count += 1
        if len(self.kept) < self.limit:
            self.kept.append(error)
        if self.on_error is not None:
            self.on_error(error)

    def refused(self, refused: FileRefused) -> None:
        for problem in refused.problems:
            self.add(refused.line, "", "", problem)

    def __bool__(self) -> bool:
        return self.count > 0


class LineChecker:
    """Checks the lines of a file one by one; yields the model fields of the valid ones and
    logs every error, duplicated references included. Shared by planning and committing, so
    that a commit refuses exactly what a plan refuses."""

    def __init__(
        self,
        reference: derivation.Reference,
        *,
        acting_bailleur_id: int | None,
        errors: ErrorLog,
        progress: Progress | None = None,
    ):
        self.reference = reference
        self.acting_bailleur_id = acting_bailleur_id
        self.errors = errors
        self.progress = progress
        self.lines = 0  # non-empty data lines read
        self.last_line = 0
        # (SIREN, reference) → first line: a reference twice for a bailleur is an error.
        self._seen: dict[tuple[str, str], int] = {}
        self._fields_checked = False

    def valid_lines(self, file: AttributionFile) -> Iterator[tuple[int, Fields]]:
        """(line number, model fields) of each valid line. A FileRefused raised while reading
        (a line too long, undecodable bytes) is logged and ends the reading."""
        try:
            for line in file.lines():
                self.lines += 1
                self.last_line = line.number
                if self.progress is not None and self.lines % PROGRESS_EVERY == 0:
                    self.progress(line.number)
                fields = self._check(line.number, line.raw, line.problems)
                if fields is not None:
                    yield line.number, fields
        except FileRefused as refused:
            self.errors.refused(refused)
            return
        if not self.lines and not self.errors:
            self.errors.add(
                file.header_line or 1,
                "",
                "",
                "Le fichier ne contient aucune ligne d'attribution après la ligne d'en-tête.",
            )

    def _check(self, number: int, raw: dict, problems: list) -> Fields | None:
        values, parse_problems = contract.parse_row(raw)
        # Check the reference data even when some value did not parse (a column in error
        # keeps its default here), so that a line's errors are all reported at once.
        fields, derive_problems = derivation.derive(
            _COLUMN_DEFAULTS | values if parse_problems else values,
            self.reference,
            acting_bailleur_id=self.acting_bailleur_id,
        )
        problems = [*problems, *parse_problems, *derive_problems]
        siren, reference = values.get("bailleur_siren"), values.get("reference")
        if siren and reference:
            first = self._seen.setdefault((siren, reference), number)
            if first != number:
                problems.append(
                    (
                        "reference",
                        reference,
                        f"Référence en double pour le bailleur {siren} : lignes {first} et "
                        f"{number} du fichier.",
                    )
                )
        if problems:
            for column, value, message in problems:
                self.errors.add(number, column, value, message)
            return None
        if not self._fields_checked:
            if set(fields) != set(WRITTEN_FIELDS):
                raise RuntimeError(
                    "derivation.derive ne renvoie plus les champs attendus par l'import : "
                    f"{sorted(set(fields) ^ set(WRITTEN_FIELDS))}"
                )
            self._fields_checked = True
        return fields


@dataclass
class Plan:
    lines: int = 0
    create: int = 0
    update: int = 0
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_count: int = 0
    bailleur_ids: list[int] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        return self.error_count == 0

    def counts(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "create": self.create,
            "update": self.update,
            "unchanged": self.unchanged,
            "errors": self.error_count,
            "bailleurs": self.bailleur_ids,
        }


def existing_rows(bailleur_ids, *extra: str):
    """The stored attributions of these bailleurs, as tuples (bailleur_id, reference, *extra,
    *COMPARED_FIELDS): one query, streamed (call inside the conference's scope)."""
    return (
        Attribution.objects.filter(bailleur_id__in=sorted(bailleur_ids))
        .values_list(*KEY_FIELDS, *extra, *COMPARED_FIELDS)
        .iterator(chunk_size=5000)
    )


def plan_import(
    file: AttributionFile,
    *,
    conference: Conference,
    acting_bailleur_id: int | None = None,
    progress: Progress | None = None,
    on_error: Callable[[dict[str, Any]], None] | None = None,
) -> Plan:
    """Check every line of `file` and count what importing it would do (inside the
    conference's scope). Writes nothing."""
    errors = ErrorLog(on_error=on_error)
    checker = LineChecker(
        derivation.load_reference(conference),
        acting_bailleur_id=acting_bailleur_id,
        errors=errors,
        progress=progress,
    )
    planned: dict[tuple[int, str], int] = {}  # (bailleur_id, reference) → fingerprint
    for _number, fields in checker.valid_lines(file):
        if not errors:  # once the file is refused, counting is pointless
            planned[(fields["bailleur_id"], fields["reference"])] = fingerprint_of(fields)
    plan = Plan(lines=checker.lines, errors=errors.kept, error_count=errors.count)
    if errors:
        return plan
    plan.bailleur_ids = sorted({bailleur_id for bailleur_id, _ in planned})
    matched = 0
    for bailleur_id, reference, *values in existing_rows(plan.bailleur_ids):
        planned_fingerprint = planned.get((bailleur_id, reference))
        if planned_fingerprint is None:
            continue
        matched += 1
        if planned_fingerprint == fingerprint(values):
            plan.unchanged += 1
        else:
            plan.update += 1
    plan.create = len(planned) - matched
    return plan
