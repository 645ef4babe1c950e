"""What the three kinds of import share: the plan (counts and errors), the rejection of a
commit, fingerprints of stored rows, and writing by batches of upserts."""

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.utils import timezone

from attributions.importing.committing import copy_writes
from attributions.importing.planning import ErrorLog
from cil.tabular import FileRefused, TabularFile

Progress = Callable[[int], None]
PROGRESS_EVERY = 500  # lines between two calls of the progress callback
BATCH_SIZE = 1000  # rows an upsert statement writes


class ImportRejected(Exception):
    """The file has errors now: nothing was written."""

    def __init__(self, errors: ErrorLog):
        super().__init__(f"{errors.count} erreur(s)")
        self.errors = errors


@dataclass
class Plan:
    """What importing a file would do (`counts`), or why it cannot be imported (`errors`)."""

    counts: dict[str, Any] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_count: int = 0

    @property
    def is_valid(self) -> bool:
        return self.error_count == 0

    @classmethod
    def refused(cls, refused: FileRefused) -> "Plan":
        errors = ErrorLog()
        errors.refused(refused)
        return cls(errors=errors.kept, error_count=errors.count)

    @classmethod
    def of(cls, counts: dict[str, Any], errors: ErrorLog) -> "Plan":
        return cls(
            counts={**counts, "errors": errors.count}, errors=errors.kept, error_count=errors.count
        )


class LineReader:
    """Goes through the lines of a file, counting them, calling `progress` now and then and
    logging a FileRefused met on the way (a line too long, undecodable bytes) as an error of
    its line. `empty_message`, when given, is logged when no line follows the header."""

    def __init__(
        self,
        file: TabularFile,
        errors: ErrorLog,
        *,
        progress: Progress | None,
        empty_message: str | None,
        accept: Callable[[int, list[Any]], bool] | None = None,
    ):
        self.file = file
        self.errors = errors
        self.progress = progress
        self.empty_message = empty_message
        self.accept = accept
        self.lines = 0  # non-empty lines read (accepted)

    def __iter__(self):
        try:
            for line in self.file.lines(self._accept if self.progress else self.accept):
                self.lines += 1
                yield line
        except FileRefused as refused:
            self.errors.refused(refused)
            return
        if not self.lines and not self.errors and self.empty_message:
            self.errors.add(self.file.header_line or 1, "", "", self.empty_message)

    def _accept(self, number: int, record: list[Any]) -> bool:
        # Progress on every line of the file (accepted or not): a national RPLS file is
        # mostly other communes' lines.
        if number % PROGRESS_EVERY == 0:
            self.progress(number)
        return self.accept is None or self.accept(number, record)


def comparable(model: type[models.Model], names: list[str]) -> Callable[[Iterable[Any]], tuple]:
    """A function turning values of `names` (as a line derives them, or as the database
    returns them) into a tuple equal for equal stored values. Lists (JSON) become tuples;
    decimals compare by value (Decimal("65") == Decimal("65.00"), with equal hashes): the
    contracts never derive more decimal places than the model stores."""
    lists = [
        index
        for index, name in enumerate(names)
        if isinstance(model._meta.get_field(name), models.JSONField)
    ]

    def key(values: Iterable[Any]) -> tuple:
        values = list(values)
        for index in lists:
            if isinstance(values[index], list):
                values[index] = tuple(values[index])
        return tuple(values)

    return key


UPSERTS_TABLE = "cil_observatoire_upserts"  # temporary: dropped at the end of the write


class Upserts:
    """Rows to create or update (`INSERT … ON CONFLICT (key) DO UPDATE`), inside the caller's
    transaction. On PostgreSQL (psycopg 3) the rows go by COPY into a temporary table, merged
    by one `INSERT … SELECT … ON CONFLICT` at the end, as the attributions import writes;
    elsewhere (SQLite, the development default) by multi-row `INSERT … VALUES`.

    Raw SQL, values converted once per column kind: Django's `bulk_create` compiles every
    value of every row (three quarters of an import's time for 20,000 demands). Raw SQL is
    outside the tenant scope: `fixed` must hold `conference_id`, written on every row, and the
    conflict key starts with it.
    """

    def __init__(
        self,
        model: type[models.Model],
        *,
        fixed: dict[str, Any],
        key: list[str],
        fields: list[str],
    ):
        if "conference_id" not in fixed or key[0] != "conference_id":
            raise ValueError("an upsert is always of one conference")
        self.copy = copy_writes()
        self.fixed = tuple(fixed.values())
        self.fields = fields
        self.pending: list[tuple] = []
        quote = connection.ops.quote_name
        meta = model._meta
        written = [*fixed, *fields]
        self.now_column = any(f.attname == "updated_at" for f in meta.concrete_fields)
        if self.now_column:
            written.append("updated_at")
        self.converters = [_converter(meta.get_field(name), copy=self.copy) for name in fields]
        columns = [meta.get_field(name).column for name in written]
        updated = [c for c, name in zip(columns, written, strict=True) if name not in fixed]
        # Names from the model, values as parameters or COPY data.
        self.table = quote(meta.db_table)
        self.names = ", ".join(quote(c) for c in columns)
        self.row_sql = "(" + ", ".join(["%s"] * len(columns)) + ")"
        self.conflict = (
            f" ON CONFLICT ({', '.join(quote(meta.get_field(name).column) for name in key)}) "
            f"DO UPDATE SET {', '.join(f'{quote(c)} = EXCLUDED.{quote(c)}' for c in updated)}"
        )
        # Rows a statement: SQLite caps the parameters of a statement.
        limit = connection.features.max_query_params
        self.batch = min(BATCH_SIZE, limit // len(columns)) if limit else BATCH_SIZE
        now = timezone.now()
        self.now = now if self.copy else connection.ops.adapt_datetimefield_value(now)
        self.temporary_ready = False

    def add(self, values: dict[str, Any]) -> None:
        row = [*self.fixed]
        row.extend(
            convert(values[name])
            for name, convert in zip(self.fields, self.converters, strict=True)
        )
        if self.now_column:
            row.append(self.now)
        self.pending.append(tuple(row))
        if len(self.pending) >= self.batch:
            self._write()

    def _write(self) -> None:
        rows, self.pending = self.pending, []
        if not rows:
            return
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            if not self.copy:
                sql = f"INSERT INTO {self.table} ({self.names}) VALUES "  # noqa: S608 - values as parameters  # nosec B608
                sql += ", ".join([self.row_sql] * len(rows)) + self.conflict
                cursor.execute(sql, [value for row in rows for value in row])
                return
            if not self.temporary_ready:
                # Its columns and types are the table's (no row is read: WITH NO DATA).
                cursor.execute(
                    f"CREATE TEMPORARY TABLE {quote(UPSERTS_TABLE)} ON COMMIT DROP AS "  # noqa: S608 - identifiers quoted from the model's meta  # nosec B608
                    f"SELECT {self.names} FROM {self.table} WITH NO DATA"
                )
                self.temporary_ready = True
            statement = f"COPY {quote(UPSERTS_TABLE)} ({self.names}) FROM STDIN"
            with connection.wrap_database_errors, cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)

    def flush(self) -> None:
        """Write what is pending, and merge the copied rows into the table."""
        self._write()
        if not self.temporary_ready:
            return
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {self.table} ({self.names}) "  # noqa: S608 - identifiers quoted from the model's meta  # nosec B608
                f"SELECT {self.names} FROM {quote(UPSERTS_TABLE)}{self.conflict}"
            )
            cursor.execute(f"DROP TABLE {quote(UPSERTS_TABLE)}")
        self.temporary_ready = False


def _converter(model_field: models.Field, *, copy: bool) -> Callable[[Any], Any]:
    """How a value of this field goes to the database, decided once per column (the values
    are already of the field's Python type: the contract parsed them). COPY takes Python
    values as they are, JSON as text."""
    db = connections[DEFAULT_DB_ALIAS]
    ops = db.ops
    if isinstance(model_field, models.JSONField):
        if copy:
            return lambda value: json.dumps(value, cls=model_field.encoder)
        return lambda value: model_field.get_db_prep_save(value, db)
    if copy:
        return lambda value: value
    if isinstance(model_field, models.DecimalField):
        digits, places = model_field.max_digits, model_field.decimal_places
        return lambda value: ops.adapt_decimalfield_value(value, digits, places)
    if isinstance(model_field, models.DateField) and not isinstance(
        model_field, models.DateTimeField
    ):
        return ops.adapt_datefield_value
    return lambda value: value
