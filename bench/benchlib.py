"""What the benchmarks of bench/ share: Django set-up on their own PostgreSQL database,
timing, the figures table, dataset markers and the deletion of a benchmark's conferences.

Not a benchmark itself (not executable: `make bench` runs only the executables of bench/).
"""

import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/cil_bench"
MARKER_TABLE = "bench_dataset"


class BenchError(Exception):
    """A reason not to run (printed, exit status 2)."""


# --- Set-up -------------------------------------------------------------------------------


def database_name(url: str) -> str:
    return unquote(urlsplit(url).path.lstrip("/"))


def check_database_url(url: str) -> None:
    """The benchmarks write, delete and truncate: only a PostgreSQL database whose name says
    it is a benchmark's is accepted, so a wrong DATABASE_URL never touches real data."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        raise BenchError(f"DATABASE_URL doit désigner PostgreSQL (ici « {parts.scheme} »).")
    if "bench" not in database_name(url):
        raise BenchError(
            f"Base « {database_name(url)} » refusée : le nom de la base des bancs d'essai doit "
            "contenir « bench » (défaut : cil_bench)."
        )


def ensure_database(url: str) -> bool:
    """Create the database when missing (through the server's `postgres` database). True
    when it was created."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = database_name(url)
    params = {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "user": unquote(parts.username or "postgres"),
        "dbname": "postgres",
        "autocommit": True,
    }
    if parts.password:
        params["password"] = unquote(parts.password)
    with psycopg.connect(**params) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if exists:
            return False
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


def setup_django(*, migrate: bool = True) -> None:
    """Django on the benchmark database (DATABASE_URL, default cil_bench), as in production:
    DEBUG off (with DEBUG on, Django keeps the SQL of the last 9,000 queries in memory, which
    would distort the memory figures)."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    os.environ["DJANGO_SETTINGS_MODULE"] = "cil.settings"
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ.setdefault("DEBUG", "false")
    url = os.environ["DATABASE_URL"]
    check_database_url(url)
    if migrate and ensure_database(url):
        print(f"Base {database_name(url)} créée.")
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)


# --- Timing -------------------------------------------------------------------------------


class Timings:
    """Durations (s) of the repetitions of one measurement."""

    def __init__(self, values: Iterable[float] = ()):
        self.values = list(values)

    @property
    def best(self) -> float:
        return min(self.values)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def __str__(self) -> str:
        return (
            f"meilleur {seconds(self.best)}, médiane {seconds(self.median)} (n={len(self.values)})"
        )


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def repeat(
    function: Callable[[], Any],
    times: int,
    *,
    before: Callable[[], Any] | None = None,
    warmup: bool = True,
) -> tuple[Timings, Any]:
    """Run `function` `times` times (after one untimed run when `warmup`); `before` runs
    untimed before each run. Returns the timings and the last result."""
    result = None
    if warmup:
        if before:
            before()
        result = function()
    timings = Timings()
    for _ in range(times):
        if before:
            before()
        elapsed, result = timed(function)
        timings.values.append(elapsed)
    return timings, result


def repeat_interleaved(
    functions: dict[str, Callable[[], Any]], times: int, *, warmup: bool = True
) -> dict[str, tuple[Timings, Any]]:
    """Like `repeat` for several functions whose times are compared (a ratio): their runs
    alternate (A, B, A, B…), so that the load of a shared machine, or what the server keeps
    in cache, weighs on each alike. Returns {name: (timings, last result)}."""
    results: dict[str, Any] = dict.fromkeys(functions)
    timings = {name: Timings() for name in functions}
    if warmup:
        for name, function in functions.items():
            results[name] = function()
    for _ in range(times):
        for name, function in functions.items():
            results[name] = None  # free the previous result outside the timed run
            elapsed, results[name] = timed(function)
            timings[name].values.append(elapsed)
    return {name: (timings[name], results[name]) for name in functions}


def seconds(value: float) -> str:
    if value < 1:
        return f"{value * 1000:.0f} ms"
    return f"{value:.2f} s"


# --- Output -------------------------------------------------------------------------------


def versions() -> str:
    import django
    import numpy
    import pandas
    import psycopg
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (server,) = cursor.fetchone()
    return (
        f"Python {platform.python_version()}, Django {django.get_version()}, "
        f"pandas {pandas.__version__}, numpy {numpy.__version__}, "
        f"psycopg {psycopg.__version__} ({psycopg.pq.__impl__}), PostgreSQL {server}; "
        f"{os.cpu_count()} cœurs, base {connection.settings_dict['NAME']}"
    )


def table(rows: list[tuple[str, str, str, str]]) -> str:
    """The figures table: (figure, measured, target, status)."""
    header = ("mesure", "mesuré", "cible", "résultat")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(4)]
    line = "+-" + "-+-".join("-" * width for width in widths) + "-+"
    out = [line, "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |"]
    out.append(line)
    for row in rows:
        out.append(
            "| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
        )
    out.append(line)
    return "\n".join(out)


def status(measured: float, target: float) -> str:
    return "OK" if measured <= target else "MISSED"


def top_functions(profile, count: int = 10) -> str:
    """The `count` functions where the most time is spent (own time), from a cProfile."""
    import io
    import pstats

    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("tottime").print_stats(count)
    text = out.getvalue()
    # Keep the table only (pstats prints a preamble).
    start = text.find("   ncalls")
    return text[start:] if start >= 0 else text


# --- Datasets -----------------------------------------------------------------------------


def _ensure_marker_table(cursor) -> None:
    cursor.execute(
        f"CREATE TABLE IF NOT EXISTS {MARKER_TABLE} "
        "(name text PRIMARY KEY, spec jsonb NOT NULL, built_at timestamptz NOT NULL DEFAULT now())"
    )


def marker(name: str) -> dict | None:
    """The spec a dataset was built with (None: never built, or its build did not finish)."""
    from django.db import connection

    with connection.cursor() as cursor:
        _ensure_marker_table(cursor)
        cursor.execute(f"SELECT spec FROM {MARKER_TABLE} WHERE name = %s", [name])  # noqa: S608 - identifiers are constants or the models' tables, values as parameters  # nosec B608
        row = cursor.fetchone()
    if row is None:
        return None
    return row[0] if isinstance(row[0], dict) else json.loads(row[0])


def set_marker(name: str, spec: dict | None) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        _ensure_marker_table(cursor)
        cursor.execute(f"DELETE FROM {MARKER_TABLE} WHERE name = %s", [name])  # noqa: S608 - identifiers are constants or the models' tables, values as parameters  # nosec B608
        if spec is not None:
            cursor.execute(
                f"INSERT INTO {MARKER_TABLE} (name, spec) VALUES (%s, %s)",  # noqa: S608 - identifiers are constants or the models' tables, values as parameters  # nosec B608
                [name, json.dumps(spec)],
            )


def luhn_siren(base: int) -> str:
    """A valid SIREN (Luhn key) from an 8-digit base."""
    from cil.validators import luhn_valid

    digits = f"{base:08d}"
    for key in range(10):
        if luhn_valid(digits + str(key)):
            return digits + str(key)
    raise AssertionError("unreachable")


def delete_conferences(conference_ids: list[int]) -> None:
    """Delete conferences and every row that belongs to them, with one DELETE per table (no
    ORM collector: it would load hundreds of thousands of rows). The tables are found from
    the models: those with a foreign key to Conference, then those pointing at them (the
    QPV × commune table), deleted referencing tables first."""
    from django.apps import apps
    from django.db import connection, transaction

    from cil.models import Conference

    if not conference_ids:
        return
    models = apps.get_models(include_auto_created=True)

    def foreign_keys(model):
        return [f for f in model._meta.concrete_fields if f.many_to_one and f.related_model]

    # How to select each owned model's rows: {model: SQL condition}.
    owned: dict[Any, str] = {}
    for model in models:
        for fk in foreign_keys(model):
            if fk.related_model is Conference:
                owned[model] = f'"{fk.column}" = ANY(%(ids)s)'
                break
    changed = True
    while changed:
        changed = False
        for model in models:
            if model in owned or model is Conference:
                continue
            for fk in foreign_keys(model):
                target = fk.related_model
                if target in owned:
                    owned[model] = (
                        f'"{fk.column}" IN (SELECT "{target._meta.pk.column}" FROM '  # noqa: S608
                        f'"{target._meta.db_table}" WHERE {owned[target]})'
                    )
                    changed = True
                    break
    # Referencing tables first (topological order on the foreign keys between owned models).
    order, done = [], set()

    def visit(model, path=()):
        if model in done:
            return
        if model in path:
            raise BenchError(f"Cycle de clés étrangères : {[m.__name__ for m in path]}")
        for other in owned:
            if other is not model and any(fk.related_model is model for fk in foreign_keys(other)):
                visit(other, (*path, model))
        done.add(model)
        order.append(model)

    for model in list(owned):
        visit(model)
    with transaction.atomic(), connection.cursor() as cursor:
        for model in order:
            cursor.execute(
                f'DELETE FROM "{model._meta.db_table}" WHERE {owned[model]}',  # noqa: S608 - identifiers are constants or the models' tables, values as parameters  # nosec B608
                {"ids": list(conference_ids)},
            )
        cursor.execute(
            f'DELETE FROM "{Conference._meta.db_table}" WHERE id = ANY(%(ids)s)',  # noqa: S608 - identifiers are constants or the models' tables, values as parameters  # nosec B608
            {"ids": list(conference_ids)},
        )


def delete_organisations(sirens: list[str]) -> None:
    from django.db import connection

    from cil.models import Organisation

    with connection.cursor() as cursor:
        cursor.execute(
            f'DELETE FROM "{Organisation._meta.db_table}" WHERE siren = ANY(%s)',  # noqa: S608 - identifiers are constants or the models' tables, values as parameters  # nosec B608
            [list(sirens)],
        )


def copy_rows(table: str, columns: list[str], rows: Iterable[tuple]) -> None:
    """COPY rows (Python values: psycopg adapts them) into a table, on Django's connection
    (inside the caller's transaction, if any)."""
    from django.db import connection
    from psycopg import sql

    connection.ensure_connection()
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    )
    with connection.connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def run_main(main: Callable[[], int | None]) -> None:
    try:
        sys.exit(main() or 0)
    except BenchError as error:
        print(f"Erreur : {error}", file=sys.stderr)
        sys.exit(2)
