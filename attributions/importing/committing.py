"""Committing an import: all or nothing, in one transaction.

Two ways in, one way of writing:

- `commit_import` — the commit comes after the preview, in another request or a Celery task:
  the file is read again and every line checked again (the reference data or the stored
  attributions may have changed since the preview), in ONE pass that writes as it goes. If any
  line is wrong now, the transaction is rolled back and the errors reported: nothing is
  written.
- `commit_planned` — the commit follows the plan in the same process (`manage.py
  import_attributions`): the rows the plan derived (`plan_import(keep_rows=True)`) are
  written without reading the file again, provided the conference's reference data are still
  those they were derived from (else it returns None and the caller falls back on
  `commit_import`). When the plan found nothing to create or update and the stored
  attributions have not changed since, nothing is read nor written.

New lines are inserted and changed ones updated by batches (memory holds one batch), unchanged
ones are not touched (their `updated_at` stays). On PostgreSQL (psycopg 3) new rows go by COPY
and changed rows by COPY into a temporary table, then one UPDATE … FROM it; elsewhere (SQLite,
the embedded development default) through the ORM. One audit entry records the import; the
bilan of every year touched is invalidated.
"""

import operator
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.backends.postgresql.psycopg_any import is_psycopg3
from django.utils import timezone

from attributions.derivation import load_reference
from attributions.importing.planning import (
    COMPARED_FIELDS,
    PROGRESS_EVERY,
    WRITTEN_FIELDS,
    ErrorLog,
    LineChecker,
    Plan,
    Progress,
    existing_rows,
    fingerprint,
    stored_state,
    written_values,
)
from attributions.importing.reading import AttributionFile
from attributions.models import Attribution
from attributions.services import data_changed
from cil import audit
from cil.models import AuditAction, Conference

BATCH_SIZE = 2000  # rows a batch, through the ORM
COPY_BATCH_SIZE = 5000  # rows a COPY
# The fields an update writes: all but the key, which are also those a fingerprint compares.
UPDATED_FIELDS = list(COMPARED_FIELDS)
UPDATES_TABLE = "cil_import_updates"  # temporary: dropped at the end of the write

# A derived row is a tuple in WRITTEN_FIELDS order (planning.written_values).
_BAILLEUR = WRITTEN_FIELDS.index("bailleur_id")
_REFERENCE = WRITTEN_FIELDS.index("reference")
_YEAR = WRITTEN_FIELDS.index("year")
_updated_values = operator.itemgetter(*(WRITTEN_FIELDS.index(name) for name in UPDATED_FIELDS))


class ImportRejected(Exception):
    """The file has errors now: nothing was written."""

    def __init__(self, errors: ErrorLog):
        super().__init__(f"{errors.count} erreur(s)")
        self.errors = errors


@dataclass
class CommitResult:
    lines: int = 0
    create: int = 0
    update: int = 0
    unchanged: int = 0
    years: set[int] = field(default_factory=set)

    def counts(self) -> dict[str, int]:
        return {
            "lines": self.lines,
            "create": self.create,
            "update": self.update,
            "unchanged": self.unchanged,
        }


def copy_writes() -> bool:
    """Whether the import writes by COPY: PostgreSQL through psycopg 3."""
    return connection.vendor == "postgresql" and is_psycopg3


class _OrmWriter:
    """Through the ORM: SQLite (the embedded development default), or psycopg 2."""

    def __init__(self, conference: Conference):
        self.conference = conference
        self.now = timezone.now()
        self.to_create: list[Attribution] = []
        self.to_update: list[tuple[int, dict[str, Any]]] = []

    def create(self, values: tuple) -> None:
        fields = dict(zip(WRITTEN_FIELDS, values, strict=True))
        self.to_create.append(Attribution(conference=self.conference, **fields))
        if len(self.to_create) >= BATCH_SIZE:
            self.flush_creates()

    def update(self, pk: int, values: tuple) -> None:
        self.to_update.append((pk, dict(zip(WRITTEN_FIELDS, values, strict=True))))
        if len(self.to_update) >= BATCH_SIZE:
            self.flush_updates()

    def flush_creates(self) -> None:
        if self.to_create:
            Attribution.objects.bulk_create(self.to_create, batch_size=BATCH_SIZE)
            self.to_create = []

    def flush_updates(self) -> None:
        if not self.to_update:
            return
        if connection.vendor == "postgresql":
            self._update_from_values()
        else:
            attributions = []
            for pk, fields in self.to_update:
                attribution = Attribution(pk=pk, conference=self.conference, **fields)
                attribution.updated_at = self.now  # bulk_update does not run auto_now
                attributions.append(attribution)
            Attribution.objects.bulk_update(
                attributions, [*UPDATED_FIELDS, "updated_at"], batch_size=BATCH_SIZE
            )
        self.to_update = []

    def _update_from_values(self) -> None:
        """One `UPDATE … FROM (VALUES …)` per batch. Django's bulk_update writes a CASE per
        column with one WHEN per row: quadratic, 2000 rows × 22 columns took 26 s a batch
        (50,000 updated lines: 11 minutes); this takes a fraction of a second."""
        model_fields = [Attribution._meta.get_field(name) for name in UPDATED_FIELDS]
        updated_at = Attribution._meta.get_field("updated_at")
        quote = connection.ops.quote_name
        columns = [(f.column, f.db_type(connection)) for f in [*model_fields, updated_at]]
        assignments = ", ".join(f"{quote(c)} = v.{quote(c)}::{db_type}" for c, db_type in columns)
        names = ", ".join(quote(c) for c in ["id", *(c for c, _ in columns)])
        row = "(" + ", ".join(["%s"] * (len(columns) + 1)) + ")"
        params: list[Any] = []
        for pk, fields in self.to_update:
            params.append(pk)
            params.extend(
                f.get_db_prep_save(fields[name], connection)
                for f, name in zip(model_fields, UPDATED_FIELDS, strict=True)
            )
            params.append(self.now)
        params.append(self.conference.pk)
        table = quote(Attribution._meta.db_table)
        # The tenant scope does not cover raw SQL: the conference is in the WHERE clause.
        sql = (
            f"UPDATE {table} AS t SET {assignments} "  # noqa: S608 - names from the model
            f"FROM (VALUES {', '.join([row] * len(self.to_update))}) AS v({names}) "
            "WHERE t.id = v.id::bigint AND t.conference_id = %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)

    def finish(self) -> None:
        self.flush_creates()
        self.flush_updates()


class _CopyWriter:
    """PostgreSQL through psycopg 3. New rows: `COPY attributions_attribution (…) FROM STDIN`,
    a COPY a batch. Changed rows: COPY into a temporary table, batch after batch, then one
    `UPDATE … FROM` it at the end. Inside the caller's transaction: a rollback undoes it all.

    A new row gets what `Attribution(**fields).save()` would give it: the conference, the
    model's defaults (a new `public_id`) and `created_at` = `updated_at` = now."""

    def __init__(self, conference: Conference):
        meta = Attribution._meta
        quote = connection.ops.quote_name
        self.conference_id = conference.pk
        self.now = timezone.now()
        self.table = quote(meta.db_table)
        fixed_columns, fixed, self.defaults, default_columns = [], [], [], []
        for model_field in meta.concrete_fields:
            if model_field.primary_key or model_field.attname in WRITTEN_FIELDS:
                continue
            if model_field.attname == "conference_id":
                fixed_columns.append(model_field.column)
                fixed.append(conference.pk)
            elif getattr(model_field, "auto_now", False) or getattr(
                model_field, "auto_now_add", False
            ):
                fixed_columns.append(model_field.column)
                fixed.append(self.now)
            elif model_field.has_default() and callable(model_field.default):
                default_columns.append(model_field.column)
                self.defaults.append(model_field.get_default)  # uuid4: one a row
            else:
                fixed_columns.append(model_field.column)
                fixed.append(model_field.get_default())
        self.fixed = tuple(fixed)
        written = [meta.get_field(name).column for name in WRITTEN_FIELDS]
        columns = ", ".join(quote(c) for c in [*fixed_columns, *default_columns, *written])
        self.insert = f"COPY {self.table} ({columns}) FROM STDIN"
        self.updated_columns = [meta.get_field(name).column for name in UPDATED_FIELDS]
        self.to_create: list[tuple] = []
        self.to_update: list[tuple] = []
        self.updates_table_ready = False

    def create(self, values: tuple) -> None:
        self.to_create.append(values)
        if len(self.to_create) >= COPY_BATCH_SIZE:
            self.flush_creates()

    def update(self, pk: int, values: tuple) -> None:
        self.to_update.append((pk, *_updated_values(values)))
        if len(self.to_update) >= COPY_BATCH_SIZE:
            self.flush_updates()

    def _copy(self, cursor, statement: str, rows) -> None:
        # Errors as Django's (IntegrityError…), as from cursor.execute.
        with connection.wrap_database_errors, cursor.copy(statement) as copy:
            write_row = copy.write_row
            for row in rows:
                write_row(row)

    def flush_creates(self) -> None:
        if not self.to_create:
            return
        fixed, defaults = self.fixed, self.defaults
        rows = ((*fixed, *[make() for make in defaults], *values) for values in self.to_create)
        with connection.cursor() as cursor:
            self._copy(cursor, self.insert, rows)
        self.to_create = []

    def flush_updates(self) -> None:
        if not self.to_update:
            return
        quote = connection.ops.quote_name
        columns = ", ".join(quote(c) for c in ["id", *self.updated_columns])
        with connection.cursor() as cursor:
            if not self.updates_table_ready:
                # Its columns and types are the table's (no row is read: WITH NO DATA).
                cursor.execute(
                    f"CREATE TEMPORARY TABLE {quote(UPDATES_TABLE)} ON COMMIT DROP AS "  # noqa: S608 - identifiers quoted from the model's meta, values as parameters  # nosec B608
                    f"SELECT {columns} FROM {self.table} WITH NO DATA"
                )
                self.updates_table_ready = True
            self._copy(
                cursor, f"COPY {quote(UPDATES_TABLE)} ({columns}) FROM STDIN", self.to_update
            )
        self.to_update = []

    def finish(self) -> None:
        self.flush_creates()
        self.flush_updates()
        if not self.updates_table_ready:
            return
        quote = connection.ops.quote_name
        assignments = ", ".join(f"{quote(c)} = u.{quote(c)}" for c in self.updated_columns)
        with connection.cursor() as cursor:
            # Raw SQL is outside the tenant scope: the conference is in the WHERE clause (the
            # ids come from this conference's scoped query; this keeps it so whatever happens).
            cursor.execute(
                f"UPDATE {self.table} AS t SET {assignments}, {quote('updated_at')} = %s "  # noqa: S608 - identifiers quoted from the model's meta, values as parameters  # nosec B608
                f"FROM {quote(UPDATES_TABLE)} AS u "
                "WHERE t.id = u.id AND t.conference_id = %s",
                [self.now, self.conference_id],
            )
            cursor.execute(f"DROP TABLE {quote(UPDATES_TABLE)}")
        self.updates_table_ready = False


def _writer(conference: Conference) -> _OrmWriter | _CopyWriter:
    return _CopyWriter(conference) if copy_writes() else _OrmWriter(conference)


def _stored(bailleur_ids) -> dict[tuple[int, str], tuple[int, int, int]]:
    """(bailleur_id, reference) → (pk, fingerprint, year) of the stored attributions of these
    bailleurs: one query."""
    return {
        (bailleur_id, reference): (pk, fingerprint(values), year)
        for bailleur_id, reference, pk, year, *values in existing_rows(bailleur_ids, "pk", "year")
    }


class _Writes:
    """Each derived row is created, updated or left alone, as it compares with the stored
    attributions; the counts and the years touched are kept."""

    def __init__(self, conference: Conference, stored: dict):
        self.stored = stored
        self.writer = _writer(conference)
        self.result = CommitResult()

    def add(self, values: tuple, key_fingerprint: int | None = None) -> None:
        """`values`: WRITTEN_FIELDS order; `key_fingerprint`: its fingerprint when known."""
        result = self.result
        stored = self.stored.get((values[_BAILLEUR], values[_REFERENCE]))
        if stored is None:
            self.writer.create(values)
            result.create += 1
            result.years.add(values[_YEAR])
            return
        if key_fingerprint is None:
            key_fingerprint = fingerprint(_updated_values(values))
        if key_fingerprint == stored[1]:
            result.unchanged += 1
        else:
            self.writer.update(stored[0], values)
            result.update += 1
            result.years.update((values[_YEAR], stored[2]))

    def finish(self, lines: int) -> CommitResult:
        self.writer.finish()
        self.result.lines = lines
        return self.result


def _recorded(conference: Conference, actor, job, result: CommitResult) -> CommitResult:
    audit.record(
        conference=conference,
        actor=actor,
        action=AuditAction.IMPORT,
        obj=job,
        changes={
            "lignes": result.lines,
            "créées": result.create,
            "modifiées": result.update,
            "inchangées": result.unchanged,
        },
    )
    if result.years:
        data_changed(conference, result.years)
    return result


@transaction.atomic
def commit_import(
    file: AttributionFile,
    *,
    conference: Conference,
    actor,
    job,
    acting_bailleur_id: int | None,
    bailleur_ids: list[int],
    progress: Progress | None = None,
) -> CommitResult:
    """Write the lines of `file` (checked by a plan whose bailleurs were `bailleur_ids`), inside
    the conference's scope. Raises ImportRejected, having written nothing, when a line is wrong.
    `job` (the ImportJob) is the object of the audit entry."""
    errors = ErrorLog()
    checker = LineChecker(
        load_reference(conference),
        acting_bailleur_id=acting_bailleur_id,
        errors=errors,
        progress=progress,
    )
    planned = set(bailleur_ids)
    writes = _Writes(conference, _stored(planned))
    for number, fields in checker.valid_lines(file):
        if errors:
            continue  # keep checking, to report every error; write no more
        if fields["bailleur_id"] not in planned:
            errors.add(
                number,
                "bailleur_siren",
                "",
                "Les données ont changé depuis la vérification du fichier : relancez l'import.",
            )
            continue
        writes.add(written_values(fields))
    if errors:
        raise ImportRejected(errors)  # rolls back the batches already written
    return _recorded(conference, actor, job, writes.finish(checker.lines))


@transaction.atomic
def commit_planned(
    plan: Plan, *, conference: Conference, actor, job, progress: Progress | None = None
) -> CommitResult | None:
    """Write the rows `plan` kept (`plan_import(keep_rows=True)`, in this process, of the file
    of `job`), inside the conference's scope, without reading the file again. None, having
    written nothing, when they cannot be reused: no rows kept, another file, conference or
    acting bailleur, or the conference's reference data changed since (its communes, QPV,
    bailleurs, thresholds): then `commit_import` must check the file again."""
    rows = plan.rows
    if (
        rows is None
        or rows.sha256 != job.sha256
        or rows.conference_id != conference.pk
        or job.conference_id != conference.pk
        or rows.acting_bailleur_id != job.acting_bailleur_id
        or load_reference(conference) != rows.reference
    ):
        return None
    as_planned = stored_state(plan.bailleur_ids) == rows.stored
    if as_planned and not plan.create and not plan.update:
        # Every line is unchanged, as the plan found, and nothing changed since.
        result = CommitResult(lines=plan.lines, unchanged=plan.unchanged)
        return _recorded(conference, actor, job, result)
    # No stored attribution matched a line, and nothing changed since: none to read.
    none_stored = as_planned and not plan.update and not plan.unchanged
    writes = _Writes(conference, {} if none_stored else _stored(plan.bailleur_ids))
    for count, (number, key_fingerprint, values) in enumerate(rows.spool, start=1):
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(number)
        writes.add(values, key_fingerprint)
    return _recorded(conference, actor, job, writes.finish(plan.lines))
