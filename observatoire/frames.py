"""The observatory's data as pandas frames, for `observatoire.indicators` (columns named as
its modules document).

One query per frame, built by the ORM inside the conference's scope (the scope's filter is
in the SQL), and no model instance. On PostgreSQL the rows travel as CSV
(`COPY (SELECT …) TO STDOUT`) and pandas' C parser reads them: for 300,000 demands this is
about five times faster than `values_list`, which builds a Python tuple, two dates and a
Decimal per row (figures in bench/README.md). Other databases (the demo's SQLite) read
through `values_list`; both give the same frame.

The national variants (`national_*_frame`: every conference at once, with a `conference`
column holding the slug as a categorical) are for State-wide follow-up and the benchmark
(bench/observatoire); they run outside any scope, like
`attributions.bilan_data.national_bilans`, and read the conference id (an integer), not
the slug, on every row.

Dates become datetime64, incomes floats (NaN = unknown: incomes are stored to the cent, far
below float precision), booleans bool (`is_q1` the nullable "boolean"), repeated strings
categoricals (smaller, faster groupby; empty string for none).
"""

import io
from collections.abc import Iterable
from datetime import date

import pandas as pd
from django.db import connection
from django.db.models import F, FloatField, Q, QuerySet, Value
from django.db.models.functions import Cast, Coalesce

from attributions.models import Attribution
from cil.models import Conference
from cil.tenancy import conference_scope, unscoped
from observatoire.models import Demand, Dwelling

# Frame column -> (query expression, kind). Kinds: date, text (categorical), bool,
# nullbool, int, float.
DEMAND_FIELDS = {
    "date_depot": (F("date_depot"), "date"),
    "date_radiation": (F("date_radiation"), "date"),
    "motif_radiation": (F("motif_radiation"), "text"),
    "commune_insee": (F("commune_insee"), "text"),
    "typologie": (F("typologie"), "text"),
    "nb_personnes": (F("nb_personnes"), "int"),
    "mutation": (F("mutation"), "bool"),
    "dalo": (F("dalo"), "bool"),
    "prioritaire": (F("prioritaire"), "bool"),
    "revenu_par_uc": (Cast("revenu_par_uc", FloatField()), "float"),
}
DWELLING_FIELDS = {
    "millesime": (F("millesime"), "int"),
    "commune_insee": (F("commune_insee"), "text"),
    "in_qpv": (F("in_qpv"), "bool"),
    "qpv_code": (F("qpv_code"), "text"),
    "typologie": (F("typologie"), "text"),
    "financement": (F("financement"), "text"),
}
ATTRIBUTION_FIELDS = {
    "year": (F("year"), "int"),
    "commune_insee": (F("commune__insee"), "text"),
    "in_qpv": (F("in_qpv"), "bool"),
    "qpv_code": (Coalesce(F("qpv__code"), Value("")), "text"),
    "is_q1": (F("is_q1"), "nullbool"),
    "typologie": (F("typologie"), "text"),
    "mutation": (F("mutation"), "bool"),
}
CONFERENCE = "conference"  # column of the national frames (slug, categorical)
_CONFERENCE_ID = "_conference_id"


def _frame(
    rows: QuerySet,
    fields: dict,
    *,
    columns: Iterable[str] | None = None,
    national: bool = False,
    via_copy: bool | None = None,
) -> pd.DataFrame:
    """One query: `rows` annotated with `fields` (only `columns` of them when given), read
    without model instances: through COPY on PostgreSQL, else `values_list` (`via_copy`
    forces one way; the tests compare them)."""
    if columns is not None:
        fields = {name: fields[name] for name in columns}
    aliases = {f"_{name}": expression for name, (expression, _kind) in fields.items()}
    names = list(fields)
    kinds = {name: kind for name, (_expression, kind) in fields.items()}
    if national:
        aliases[_CONFERENCE_ID] = F("conference_id")
        names.append(_CONFERENCE_ID)
        kinds[_CONFERENCE_ID] = "int"
    query = rows.order_by().annotate(**aliases).values_list(*aliases)
    if via_copy is None:
        via_copy = connection.vendor == "postgresql"
    if via_copy:
        frame = _read_csv(query, names, kinds)
    else:
        frame = _typed(pd.DataFrame.from_records(list(query), columns=names), kinds)
    if national:
        frame = _with_slugs(frame)
    return frame


def _read_csv(query: QuerySet, names: list[str], kinds: dict[str, str]) -> pd.DataFrame:
    """The query's rows through COPY … TO STDOUT (CSV), parsed by pandas (C engine)."""
    sql, params = query.query.sql_with_params()
    connection.ensure_connection()
    buffer = io.BytesIO()
    statement = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)"
    # Django's psycopg cursor merges the parameters client-side, as COPY needs.
    with connection.cursor() as cursor, cursor.cursor.copy(statement, params) as copy:
        for block in copy:
            buffer.write(block)
    buffer.seek(0)
    if not buffer.getbuffer().nbytes:
        empty = {
            name: pd.Series([], dtype="str" if kinds[name] == "text" else object) for name in names
        }
        return _typed(pd.DataFrame(empty), kinds)
    # Text as Python strings, made categorical by `_typed`: read_csv's own "category" would
    # infer numbers from codes like INSEE's ("01001" → 1001), and it is slower here.
    dtypes = {
        name: {"text": object, "int": "int64", "float": "float64"}[kind]
        for name, kind in kinds.items()
        if kind in ("text", "int", "float")
    }
    frame = pd.read_csv(
        buffer,
        names=names,
        header=None,
        dtype=dtypes,
        # PostgreSQL's CSV: NULL is an empty field, an empty string is "" (both read as
        # empty here; text columns use "" for none anyway), booleans are t / f.
        keep_default_na=False,
        na_values={name: [""] for name, kind in kinds.items() if kind in ("float", "date")},
        true_values=["t"],
        false_values=["f"],
    )
    return _typed(frame, kinds)


def _typed(frame: pd.DataFrame, kinds: dict[str, str]) -> pd.DataFrame:
    for name, kind in kinds.items():
        column = frame[name]
        if kind == "date":
            dates = pd.to_datetime(column, format="%Y-%m-%d" if _strings(column) else None)
            frame[name] = dates.astype("datetime64[s]")  # whatever the reading gave
        elif kind == "text":
            if not isinstance(column.dtype, pd.CategoricalDtype):
                column = column.fillna("").astype("category")
            # Categories in code order (tables are sorted by them), whatever the reading.
            frame[name] = column.cat.set_categories(sorted(column.cat.categories))
        elif kind == "bool":
            frame[name] = column.astype(bool)
        elif kind == "nullbool":
            flags = column.astype(object)
            result = pd.Series(pd.NA, index=frame.index, dtype="boolean")
            result[flags.isin([True, "t"]).to_numpy()] = True
            result[flags.isin([False, "f"]).to_numpy()] = False
            frame[name] = result
        elif kind == "int":
            frame[name] = column.astype("int64")
        else:
            frame[name] = pd.to_numeric(column).astype("float64")
    return frame


def _strings(column: pd.Series) -> bool:
    """Whether a column holds dates as text (CSV) rather than date objects (values_list)."""
    first = column.dropna()
    return bool(len(first)) and isinstance(first.iloc[0], str)


def _with_slugs(frame: pd.DataFrame) -> pd.DataFrame:
    """Replace the conference ids by their slugs (a categorical; one small query)."""
    ids = pd.Categorical(frame.pop(_CONFERENCE_ID))
    slugs = dict(Conference.objects.filter(pk__in=list(ids.categories)).values_list("pk", "slug"))
    frame.insert(0, CONFERENCE, ids.rename_categories([slugs[i] for i in ids.categories]))
    return frame


# --- One conference -----------------------------------------------------------------------


def _not_closed_by(rows: QuerySet, day: date | None) -> QuerySet:
    """Leave out the demands closed on or before `day`: none of them is active on `day` or
    later, nor closed after it (what the indicators of the year after `day` look at)."""
    if day is None:
        return rows
    return rows.filter(Q(date_radiation__isnull=True) | Q(date_radiation__gt=day))


def demand_frame(
    conference: Conference,
    columns: Iterable[str] | None = None,
    *,
    not_closed_by: date | None = None,
    via_copy: bool | None = None,
) -> pd.DataFrame:
    """The demands of the conference (active or closed), one row each; all the columns of
    DEMAND_FIELDS, or only `columns`. With `not_closed_by` (e.g. 31 December of the year
    before the one studied), the demands closed on or before that day are not read."""
    with conference_scope(conference):
        rows = _not_closed_by(Demand.objects.all(), not_closed_by)
        return _frame(rows, DEMAND_FIELDS, columns=columns, via_copy=via_copy)


def dwelling_frame(
    conference: Conference, millesime: int | None = None, *, via_copy: bool | None = None
) -> pd.DataFrame:
    """The conference's RPLS dwellings, of one millésime when given (else all of them)."""
    with conference_scope(conference):
        rows = Dwelling.objects.all()
        if millesime is not None:
            rows = rows.filter(millesime=millesime)
        return _frame(rows, DWELLING_FIELDS, via_copy=via_copy)


def attribution_frame(
    conference: Conference, years: Iterable[int] | None = None, *, via_copy: bool | None = None
) -> pd.DataFrame:
    """The conference's attributions (of `years` when given), one row each."""
    with conference_scope(conference):
        rows = Attribution.objects.all()
        if years is not None:
            rows = rows.filter(year__in=list(years))
        return _frame(rows, ATTRIBUTION_FIELDS, via_copy=via_copy)


# --- Every conference ---------------------------------------------------------------------


def _national(model, fields: dict, conference_ids, **filters):
    with unscoped():
        rows = model.objects.filter(**filters)
        if conference_ids is not None:
            rows = rows.filter(conference_id__in=list(conference_ids))
        return _frame(rows, fields, national=True)


def national_demand_frame(
    conference_ids: Iterable[int] | None = None,
    columns: Iterable[str] | None = None,
    *,
    not_closed_by: date | None = None,
) -> pd.DataFrame:
    """The demands of every conference (or of `conference_ids`), with a `conference` column;
    all the columns of DEMAND_FIELDS, or only `columns`; `not_closed_by` as for
    `demand_frame`."""
    with unscoped():
        rows = _not_closed_by(Demand.objects.all(), not_closed_by)
        if conference_ids is not None:
            rows = rows.filter(conference_id__in=list(conference_ids))
        return _frame(rows, DEMAND_FIELDS, columns=columns, national=True)


def national_attribution_frame(
    conference_ids: Iterable[int] | None = None, years: Iterable[int] | None = None
) -> pd.DataFrame:
    filters = {} if years is None else {"year__in": list(years)}
    return _national(Attribution, ATTRIBUTION_FIELDS, conference_ids, **filters)


def national_dwelling_frame(
    conference_ids: Iterable[int] | None = None, millesime: int | None = None
) -> pd.DataFrame:
    filters = {} if millesime is None else {"millesime": millesime}
    return _national(Dwelling, DWELLING_FIELDS, conference_ids, **filters)
