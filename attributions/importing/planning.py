"""Planning an import: the WHOLE file is checked before anything is written (shared/formats.md:
« if any line is wrong, nothing is written and every error is reported »), then compared with
the stored attributions to count what the import would create, update or leave unchanged.

Every line goes through `contract.parse_row` and `derivation.derive` — the same checks as the
form and the API — against ONE `load_reference` of the conference; the stored attributions are
read in ONE query. Memory per line is a key and a hash, never the line itself.

When the commit follows in the same process (`manage.py import_attributions`), the plan can
keep its derived rows (`keep_rows`) so that the commit does not read and check the file a
second time: they go to an anonymous temporary file (`RowSpool`), not to memory, so memory
stays flat whatever the file's size.
"""

import datetime
import marshal
import operator
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, BinaryIO

from django.db import models
from django.db.models import Count, Max

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
_QUANTIZED = tuple((i, quantum) for i, quantum in enumerate(_QUANTA) if quantum is not None)
_COLUMN_DEFAULTS = {column.name: column.default for column in contract.COLUMNS}
_compared_values = operator.itemgetter(*COMPARED_FIELDS)
written_values = operator.itemgetter(*WRITTEN_FIELDS)  # fields → tuple, in WRITTEN_FIELDS order

Fields = dict[str, Any]
Progress = Callable[[int], None]


def fingerprint(values) -> int:
    """A hash of the compared fields' values (in COMPARED_FIELDS order), equal for a line and
    the stored attribution it would leave unchanged. Computed on both sides in one process."""
    values = list(values)
    if len(values) != len(_QUANTA):
        raise ValueError(f"{len(values)} valeurs pour {len(_QUANTA)} champs comparés")
    for index, quantum in _QUANTIZED:
        value = values[index]
        if value is not None:
            values[index] = value.quantize(quantum)
    return hash(tuple(values))


def fingerprint_of(fields: Fields) -> int:
    return fingerprint(_compared_values(fields))


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
        if parse_problems or derive_problems:
            problems = [*problems, *parse_problems, *derive_problems]
        siren, reference = values.get("bailleur_siren"), values.get("reference")
        if siren and reference:
            first = self._seen.setdefault((siren, reference), number)
            if first != number:
                problems = [*problems]  # the line's own list: it may be the reader's
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


# Positions (in WRITTEN_FIELDS) of the values a derived row holds as a Decimal or a date: a
# `RowSpool` stores them as text, marshal knowing only plain types. PostgreSQL (COPY) and the
# ORM read such text back to the same value.
_AS_TEXT = tuple(
    index
    for index, name in enumerate(WRITTEN_FIELDS)
    if isinstance(Attribution._meta.get_field(name), models.DecimalField | models.DateField)
)


def portable(values: tuple) -> tuple:
    """A derived row (WRITTEN_FIELDS order) with its Decimal and date values as text
    ("12345.67", "2025-03-14"): what `RowSpool` stores."""
    values = list(values)
    for index in _AS_TEXT:
        value = values[index]
        if value is not None:
            values[index] = str(value)  # a date's str is its isoformat
    return tuple(values)


class RowSpool:
    """Records (tuples of ints, text, booleans and None) appended to an anonymous temporary
    file, by batches, then read back in order. Memory holds one batch, whatever the number of
    records. Written and read by the same process (marshal is not for data from elsewhere)."""

    BATCH = 2000

    def __init__(self) -> None:
        self._file: BinaryIO | None = tempfile.TemporaryFile(prefix="cil-import-")  # noqa: SIM115
        self._batch: list[tuple] = []
        self.count = 0

    def append(self, record: tuple) -> None:
        self._batch.append(record)
        self.count += 1
        if len(self._batch) >= self.BATCH:
            self._dump()

    def _dump(self) -> None:
        if self._batch:
            data = marshal.dumps(self._batch)
            self._file.write(len(data).to_bytes(8, "little"))
            self._file.write(data)
            self._batch = []

    def __iter__(self) -> Iterator[tuple]:
        if self._file is None:
            raise ValueError("RowSpool fermé")
        self._dump()
        self._file.seek(0)
        while header := self._file.read(8):
            data = self._file.read(int.from_bytes(header, "little"))
            yield from marshal.loads(data)  # noqa: S302 - written by this object, just above  # nosec B302
        self._file.seek(0, 2)  # appending may go on

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._batch = []


@dataclass(eq=False)
class PlannedRows:
    """What a valid plan keeps for a commit in the same process (`keep_rows`): its derived
    rows, and what they were checked against. The commit reuses the rows only when it is the
    same file, for the same conference and acting bailleur, and the conference's reference
    data are still those the rows were derived from (else it reads the file again)."""

    conference_id: int
    acting_bailleur_id: int | None
    sha256: str
    reference: derivation.Reference
    # The stored attributions of the plan's bailleurs when the plan compared the file to them
    # (`stored_state`): when they are still so, the plan's counts still hold.
    stored: dict[str, Any]
    # (line number, fingerprint_of(fields), portable(written_values(fields))) per valid line.
    spool: RowSpool

    def close(self) -> None:
        self.spool.close()


def _new_spool() -> RowSpool | None:
    try:
        return RowSpool()
    except OSError:  # no temporary directory: the commit will read the file again
        return None


def stored_state(bailleur_ids) -> dict[str, Any]:
    """Count, last id and last change of the stored attributions of these bailleurs: one
    aggregate query (call inside the conference's scope). Every write of an attribution
    creates an id or sets `updated_at` (auto_now, or explicitly by the import and the bulk
    writers), except `services.recompute_q1`, which follows a change of the Q1 thresholds:
    that one shows in the conference's reference data, compared too."""
    return Attribution.objects.filter(bailleur_id__in=sorted(bailleur_ids)).aggregate(
        count=Count("pk"), last_id=Max("pk"), last_change=Max("updated_at")
    )


@dataclass
class Plan:
    lines: int = 0
    create: int = 0
    update: int = 0
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_count: int = 0
    bailleur_ids: list[int] = field(default_factory=list)
    # With `keep_rows`, for a valid plan: its rows, for the commit that follows.
    rows: PlannedRows | None = field(default=None, repr=False, compare=False)

    def close(self) -> None:
        """Discard the kept rows (their temporary file)."""
        if self.rows is not None:
            self.rows.close()
            self.rows = None

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
    keep_rows: bool = False,
) -> Plan:
    """Check every line of `file` and count what importing it would do (inside the
    conference's scope). Writes nothing. With `keep_rows`, a valid plan keeps its derived
    rows (`Plan.rows`, in a temporary file: call `Plan.close()` once done with them) for a
    commit in the same process (`committing.commit_planned`)."""
    errors = ErrorLog(on_error=on_error)
    reference_data = derivation.load_reference(conference)
    checker = LineChecker(
        reference_data,
        acting_bailleur_id=acting_bailleur_id,
        errors=errors,
        progress=progress,
    )
    spool = _new_spool() if keep_rows else None
    kept = False
    try:
        planned: dict[tuple[int, str], int] = {}  # (bailleur_id, reference) → fingerprint
        for number, fields in checker.valid_lines(file):
            if errors:  # once the file is refused, counting is pointless
                continue
            key_fingerprint = fingerprint_of(fields)
            planned[(fields["bailleur_id"], fields["reference"])] = key_fingerprint
            if spool is not None:
                try:
                    spool.append((number, key_fingerprint, portable(written_values(fields))))
                except OSError:  # no room left: the commit will read the file again
                    spool.close()
                    spool = None
        plan = Plan(lines=checker.lines, errors=errors.kept, error_count=errors.count)
        if errors:
            return plan
        plan.bailleur_ids = sorted({bailleur_id for bailleur_id, _ in planned})
        if spool is not None:
            # Taken before the comparison below: a change made after it shows at the commit.
            plan.rows = PlannedRows(
                conference_id=conference.pk,
                acting_bailleur_id=acting_bailleur_id,
                sha256=file.sha256,
                reference=reference_data,
                stored=stored_state(plan.bailleur_ids),
                spool=spool,
            )
            kept = True
    finally:
        if spool is not None and not kept:
            spool.close()
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
