"""The yearly bilan of attributions (`bilan` v1, shared/formats.md).

Pure pandas, no Django: the caller (attributions/bilan_data.py) reads the data and the
conferences' settings. Two stages, kept apart so that the counts may come from elsewhere:

1. **Counting** — `count_tables(frame)`: the counts of every group, from a frame of rows.
   `attributions.bilan_data.national_bilans` produces the same tables by one SQL query.
2. **Building** — `build_documents(tables, …)` / `build_document(…)`: the documents from the
   count tables and each conference's settings (`ConferenceInputs`), whatever produced the
   tables.

`compute_bilan` (one conference) and `compute_many` (several, one pass) chain both.

Input frame: one row per attribution whose lease was signed in the year (the lease date
decides the year, domain.md §4):

| column | dtype | meaning |
|---|---|---|
| `bailleur_siren` | str | the bailleur |
| `commune_insee` | str | commune of the dwelling |
| `in_qpv` | bool | dwelling in a QPV in force at the lease date |
| `is_q1` | nullable boolean | True: Q1; False: income known and ≥ threshold; NA: « non classable » (income unknown, or no threshold) |
| `income_known` | bool | an annual income or a given income per UC was reported |
| `dalo`, `prioritaire`, `relogement_npnru`, `mutation` | bool | the household's flags |
| `reservataire` | str | contingent code (`attributions` v1); `non_reserve` for the bailleur's own stock |
| `reservataire_siren` | str or None | which commune/EPCI/… when several exist; "" and None both mean none |

`compute_many` and `count_tables` also need a `conference` column (the conference's slug).

Count tables: `{table: {conference slug: {key: counts}}}`, a group present only when it has
at least one attribution:

| table | key | counts |
|---|---|---|
| `total` | None | tuple of ints in `COUNTS` order |
| `bailleur` | bailleur's SIREN | tuple in `COUNTS` order |
| `commune` | INSEE code | tuple in `COUNTS` order |
| `reservataire` | (code, SIREN; "" or None for none) | tuple in `RESERVATAIRE_COUNTS` order; `non_reserve` excluded |
"""

import gc
import math
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

FORMAT = "bilan/v1"
NON_RESERVE = "non_reserve"
COLUMNS = (
    "bailleur_siren",
    "commune_insee",
    "in_qpv",
    "is_q1",
    "income_known",
    "dalo",
    "prioritaire",
    "relogement_npnru",
    "mutation",
    "reservataire",
    "reservataire_siren",
)
# Legal defaults (CCH L.441-1), used when neither the CIA nor the conference sets a rate.
LEGAL_TARGETS = {"r1": Decimal("0.25"), "r2": Decimal("0.5"), "r3": Decimal("0.25")}

# The document's keys, in the contract's order (the `total` counts first).
TOTALS = (
    "attributions",
    "hors_qpv",
    "en_qpv",
    "revenu_inconnu",
    "dalo",
    "prioritaires",
    "mutations",
    "relogements_npnru",
)
DOCUMENT_KEYS = (
    "format",
    "conference",
    "annee",
    "seuil_q1",
    "total",
    "r1_q1_hors_qpv",
    "r2_hors_q1_en_qpv",
    "par_bailleur",
    "par_reservataire",
    "par_commune",
)
INDICATOR_KEYS = ("numerateur", "denominateur", "taux", "cible")
ENTRY_KEYS = {
    "par_bailleur": (
        "siren",
        "nom",
        "attributions",
        "r1_q1_hors_qpv",
        "r2_hors_q1_en_qpv",
        "r3_prioritaires_non_reserve",
    ),
    "par_reservataire": ("reservataire", "siren", "r3_prioritaires"),
    "par_commune": ("insee", "attributions", "r1_q1_hors_qpv", "r2_hors_q1_en_qpv"),
}
# What is counted per group: the totals, then the rules' numerators and R3's denominator.
COUNTS = (*TOTALS, "r1_num", "r2_num", "non_reserve", "non_reserve_prioritaires")
# What is counted per (réservataire, SIREN): R3's numerator and denominator.
RESERVATAIRE_COUNTS = ("attributions", "prioritaires")
# The count tables (see the module doc), in this order.
TABLES = ("total", "bailleur", "commune", "reservataire")


@dataclass(frozen=True)
class ConferenceInputs:
    """What a conference's bilan needs besides its rows.

    `rates`: {"r1", "r2", "r3"} → the conference's rate for the year (missing → legal
    default). `objectives`: {(bailleur SIREN, year): {"r1"|"r2"|"r3": rate}}, the CIA's
    objectives. `bailleurs`: [(SIREN, name)] of the bailleur members. `communes`: INSEE codes
    of the territory. `reservataire_objectives`: {(code, SIREN or None): rate} for R3.
    """

    threshold: Decimal | float | None = None
    rates: Mapping[str, Any] = field(default_factory=dict)
    objectives: Mapping[tuple[str, int], Mapping[str, Any]] = field(default_factory=dict)
    bailleurs: Iterable[tuple[str, str]] = ()
    communes: Iterable[str] = ()
    reservataire_objectives: Mapping[tuple[str, str | None], Any] | None = None


def compute_bilan(
    frame: pd.DataFrame,
    *,
    conference_slug: str,
    year: int,
    threshold: Decimal | float | None,
    rates: Mapping[str, Any] | None,
    objectives: Mapping[tuple[str, int], Mapping[str, Any]] | None,
    bailleurs: Iterable[tuple[str, str]],
    communes: Iterable[str],
    reservataire_objectives: Mapping[tuple[str, str | None], Any] | None = None,
) -> dict:
    """The `bilan` v1 document of one conference for `year` (frame: see the module doc)."""
    inputs = ConferenceInputs(
        threshold=threshold,
        rates=rates or {},
        objectives=objectives or {},
        bailleurs=bailleurs,
        communes=communes,
        reservataire_objectives=reservataire_objectives,
    )
    frame = frame.assign(conference=conference_slug)
    return compute_many(frame, year=year, conferences={conference_slug: inputs})[conference_slug]


def compute_many(
    frame: pd.DataFrame, *, year: int, conferences: Mapping[str, ConferenceInputs]
) -> dict[str, dict]:
    """The documents of several conferences for `year`, from one frame with a `conference`
    column (slug): one grouped pass over all rows (`count_tables`), then a light loop per
    conference over its bailleurs, communes and réservataires (`build_documents`). A
    conference without rows gets a document of zeros; a row naming a conference absent from
    `conferences` is an error."""
    unknown = set(frame["conference"].unique()) - set(conferences)
    if unknown:
        raise ValueError(f"Conférences sans paramètres : {sorted(unknown)}")
    return build_documents(count_tables(frame), year=year, conferences=conferences)


def flags(frame: pd.DataFrame) -> pd.DataFrame:
    """One 0/1 column per count of the bilan, one row per attribution (vectorised).

    The same definitions, in SQL, are `attributions.bilan_data.NATIONAL_COUNTS_SQL`'s: change
    both together (tests/attributions/test_bilan_national.py checks they agree)."""
    in_qpv = frame["in_qpv"].to_numpy(dtype=bool)
    q1 = frame["is_q1"].astype("boolean")
    is_q1 = q1.fillna(False).to_numpy(dtype=bool)
    # Income known and at or above the threshold; NA (« non classable ») is neither Q1 nor not.
    not_q1 = (~q1).fillna(False).to_numpy(dtype=bool)
    dalo = frame["dalo"].to_numpy(dtype=bool)
    # CCH L.441-1: a DALO household is a priority household.
    prioritaire = dalo | frame["prioritaire"].to_numpy(dtype=bool)
    npnru = frame["relogement_npnru"].to_numpy(dtype=bool)
    non_reserve = (frame["reservataire"] == NON_RESERVE).to_numpy(dtype=bool)
    columns = {
        "attributions": np.ones(len(frame), dtype=bool),
        "hors_qpv": ~in_qpv,
        "en_qpv": in_qpv,
        "revenu_inconnu": ~frame["income_known"].to_numpy(dtype=bool),
        "dalo": dalo,
        "prioritaires": prioritaire,
        "mutations": frame["mutation"].to_numpy(dtype=bool),
        "relogements_npnru": npnru,
        # CCH L.441-1 (R1): outside QPV, to Q1 households or to households rehoused by urban
        # renewal (NPNRU/ORCOD) whatever their income, even unknown. An EPCI without any QPV
        # applies R1 to all its attributions: then every row is outside QPV.
        "r1_num": ~in_qpv & (is_q1 | npnru),
        # CCH L.441-1 (R2): in QPV, to households other than Q1 (income known, ≥ threshold).
        "r2_num": in_qpv & not_q1,
        # CCH L.441-1 (ELAN), L.313-26-2 for Action Logement (R3): ≥ 25 % of each
        # réservataire's attributions, and of the bailleur's non-reserved stock, go to DALO
        # households, failing that to priority households.
        "non_reserve": non_reserve,
        "non_reserve_prioritaires": non_reserve & prioritaire,
    }
    return pd.DataFrame({name: values.astype(np.int32) for name, values in columns.items()})


# --- Counting: a frame → the count tables -----------------------------------------------------


def count_tables(frame: pd.DataFrame) -> dict[str, dict]:
    """The count tables (see the module doc) of a frame with a `conference` column.

    Each key column is made categorical once: the four groupings then work on its integer
    codes instead of hashing 450,000 strings per grouping (`observed=True`: only the
    combinations that occur). Python loops run over groups, never over attributions."""
    counts = flags(frame)
    for name in ("conference", "bailleur_siren", "commune_insee", "reservataire"):
        counts[name] = _categorical(frame[name])
    # "" and None both mean "no SIREN": "" sorts first, as `null` must (formats.md).
    counts["reservataire_siren"] = _categorical(frame["reservataire_siren"], missing="")
    values = list(COUNTS)

    def grouped(table: pd.DataFrame, keys: list[str], columns: list[str]) -> dict[str, dict]:
        summed = table.groupby(keys, observed=True, sort=False)[columns].sum()
        with gc_postponed():  # one tuple per group (see gc_postponed)
            return _nest(summed)

    tables = {
        "total": grouped(counts, ["conference"], values),
        "bailleur": grouped(counts, ["conference", "bailleur_siren"], values),
        "commune": grouped(counts, ["conference", "commune_insee"], values),
        # `non_reserve` is not a réservataire: R3 on the non-reserved stock is the bailleur's.
        "reservataire": grouped(
            counts[counts["non_reserve"] == 0],
            ["conference", "reservataire", "reservataire_siren"],
            list(RESERVATAIRE_COUNTS),
        ),
    }
    return tables


def _categorical(values: pd.Series, *, missing: str | None = None) -> pd.Categorical:
    """`values` as a categorical, missing values replaced by `missing` when given. Strings
    are factorized once (categories in order of appearance: no sort needed); a categorical
    column is used as it is."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        categorical = values.array
        if missing is not None and categorical.isna().any():
            if missing not in categorical.categories:
                categorical = categorical.add_categories([missing])
            categorical = categorical.fillna(missing)
        return categorical
    if missing is not None and values.isna().any():
        values = values.fillna(missing)
    codes, uniques = pd.factorize(values)
    return pd.Categorical.from_codes(codes, categories=uniques, validate=False)


def _nest(table: pd.DataFrame) -> dict[str, dict]:
    """A grouped table → {conference: {rest of its key: tuple of counts}}. The rest of the
    key is None for the totals, a scalar for one more level, a tuple for two."""
    nested: dict[str, dict] = {}
    levels = table.index.nlevels
    for key, row in zip(table.index, table.itertuples(index=False, name=None), strict=True):
        if levels == 1:
            conference, rest = key, None
        elif levels == 2:
            conference, rest = key
        else:
            conference, rest = key[0], key[1:]
        nested.setdefault(conference, {})[rest] = row
    return nested


# --- Building: the count tables → the documents ---------------------------------------------

# Positions in a counts tuple (COUNTS order).
_AT = {name: index for index, name in enumerate(COUNTS)}
_ATTRIBUTIONS, _HORS_QPV, _EN_QPV = _AT["attributions"], _AT["hors_qpv"], _AT["en_qpv"]
_R1_NUM, _R2_NUM = _AT["r1_num"], _AT["r2_num"]
_NON_RESERVE, _NON_RESERVE_PRIORITAIRES = _AT["non_reserve"], _AT["non_reserve_prioritaires"]
_ZERO = (0,) * len(COUNTS)


def build_documents(
    tables: Mapping[str, Mapping[str, Mapping[Any, tuple]]],
    *,
    year: int,
    conferences: Mapping[str, ConferenceInputs],
) -> dict[str, dict]:
    """The documents of `conferences` for `year` from count tables, whatever produced them
    (`count_tables` from a frame, or SQL: `attributions.bilan_data.national_bilans`). A
    conference absent from the tables gets a document of zeros; counts of a conference
    absent from `conferences` are an error."""
    unknown = set().union(*(table.keys() for table in tables.values())) - set(conferences)
    if unknown:
        raise ValueError(f"Conférences sans paramètres : {sorted(unknown)}")
    with gc_postponed():
        return {
            slug: build_document(
                slug, year, inputs, {name: tables[name].get(slug, {}) for name in TABLES}
            )
            for slug, inputs in conferences.items()
        }


@contextmanager
def gc_postponed() -> Iterator[None]:
    """Postpone CPython's cyclic garbage collector while building many small containers.

    The documents of every conference are ~400,000 small dicts, their count tables ~60,000
    tuples: each batch of allocations triggers a collection that walks every live object,
    again and again (bench/bilan: the national documents took 230 ms with it, 85 ms
    without). Nothing built here holds a reference cycle, so the collection is postponed to
    the end of the block, not skipped. Process-wide, but short, and re-enabled only by
    whoever disabled it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def build_document(
    slug: str, year: int, inputs: ConferenceInputs, counts: Mapping[str, Mapping[Any, tuple]]
) -> dict:
    """The `bilan` v1 document of one conference from its part of the count tables
    ({table: {key: counts}}, the tables of the module doc without the conference level)."""
    rates = {rule: _rate_or_default(inputs.rates, rule) for rule in LEGAL_TARGETS}
    # Each target converted once per conference, not once per indicator.
    cibles = {rule: float(rate) for rule, rate in rates.items()}
    total = counts["total"].get(None, _ZERO)
    names = dict(inputs.bailleurs)
    by_bailleur = counts["bailleur"]
    by_commune = counts["commune"]

    par_bailleur = []
    for siren in sorted(set(names) | set(by_bailleur)):
        row = by_bailleur.get(siren, _ZERO)
        objective = inputs.objectives.get((siren, year))
        target = (
            {rule: float(_first(objective.get(rule), rates[rule])) for rule in LEGAL_TARGETS}
            if objective
            else cibles
        )
        par_bailleur.append(
            {
                "siren": siren,
                # A SIREN with rows but missing from `bailleurs` is still listed (its rows are
                # in the totals); the caller passes former members' names to avoid a null.
                "nom": names.get(siren),
                "attributions": int(row[_ATTRIBUTIONS]),
                "r1_q1_hors_qpv": _indicator(row[_R1_NUM], row[_HORS_QPV], target["r1"]),
                "r2_hors_q1_en_qpv": _indicator(row[_R2_NUM], row[_EN_QPV], target["r2"]),
                "r3_prioritaires_non_reserve": _indicator(
                    row[_NON_RESERVE_PRIORITAIRES], row[_NON_RESERVE], target["r3"]
                ),
            }
        )

    # No per-commune objective exists: the conference's rates apply. The hottest loop (every
    # commune of the country): the indicators are written inline, as `_indicator` makes them.
    cible_r1, cible_r2 = cibles["r1"], cibles["r2"]
    par_commune = []
    append = par_commune.append
    for insee in sorted(set(inputs.communes) | set(by_commune)):
        row = by_commune.get(insee, _ZERO)
        r1_num, hors_qpv = int(row[_R1_NUM]), int(row[_HORS_QPV])
        r2_num, en_qpv = int(row[_R2_NUM]), int(row[_EN_QPV])
        append(
            {
                "insee": insee,
                "attributions": int(row[_ATTRIBUTIONS]),
                "r1_q1_hors_qpv": {
                    "numerateur": r1_num,
                    "denominateur": hors_qpv,
                    "taux": rate(r1_num, hors_qpv),
                    "cible": cible_r1,
                },
                "r2_hors_q1_en_qpv": {
                    "numerateur": r2_num,
                    "denominateur": en_qpv,
                    "taux": rate(r2_num, en_qpv),
                    "cible": cible_r2,
                },
            }
        )

    # "" and None both mean "no SIREN" (whatever the producer of the tables used): one line,
    # sorted first as `null` must be (formats.md).
    by_reservataire: dict[tuple[str, str], tuple[int, int]] = {}
    for (code, siren), (attributions, prioritaires) in counts["reservataire"].items():
        key = (code, siren or "")
        before = by_reservataire.get(key, (0, 0))
        by_reservataire[key] = (before[0] + attributions, before[1] + prioritaires)
    reservataire_objectives = inputs.reservataire_objectives or {}
    par_reservataire = []
    for (code, siren), (attributions, prioritaires) in sorted(by_reservataire.items()):
        siren = siren or None
        # CCH L.441-1-6 3°: the réservataire's R3 objective in the CIA, else the conference's
        # R3 rate (formats.md: `cible` is the objective in force).
        objective = reservataire_objectives.get((code, siren))
        target = cibles["r3"] if objective is None else float(objective)
        par_reservataire.append(
            {
                "reservataire": code,
                "siren": siren,
                "r3_prioritaires": _indicator(prioritaires, attributions, target),
            }
        )

    return {
        "format": FORMAT,
        "conference": slug,
        "annee": year,
        "seuil_q1": None if inputs.threshold is None else float(inputs.threshold),
        "total": {name: int(total[_AT[name]]) for name in TOTALS},
        "r1_q1_hors_qpv": _indicator(total[_R1_NUM], total[_HORS_QPV], cible_r1),
        "r2_hors_q1_en_qpv": _indicator(total[_R2_NUM], total[_EN_QPV], cible_r2),
        "par_bailleur": par_bailleur,
        "par_reservataire": par_reservataire,
        "par_commune": par_commune,
    }


def in_contract_order(document: Mapping[str, Any]) -> dict:
    """The document with its keys in the contract's order, e.g. after a round trip through
    PostgreSQL's jsonb, which keeps no key order. Keys the contract does not name (a later
    optional addition) follow, in their current order."""

    def ordered(item: Mapping[str, Any], keys: Iterable[str]) -> dict:
        keys = list(keys)
        return {key: item[key] for key in [*keys, *(k for k in item if k not in keys)]}

    def entry(item: Mapping[str, Any], keys: Iterable[str]) -> dict:
        result = ordered(item, keys)
        for key, value in result.items():
            if isinstance(value, Mapping) and "numerateur" in value:
                result[key] = ordered(value, INDICATOR_KEYS)
        return result

    result = entry(document, DOCUMENT_KEYS)
    result["total"] = ordered(document["total"], TOTALS)
    for key, keys in ENTRY_KEYS.items():
        result[key] = [entry(item, keys) for item in document[key]]
    return result


def _rate_or_default(rates: Mapping[str, Any], rule: str) -> Any:
    return _first(rates.get(rule), LEGAL_TARGETS[rule])


def _first(*values: Any) -> Any:
    return next(value for value in values if value is not None)


def indicator(numerator: int, denominator: int, target: Any) -> dict:
    """{numerateur, denominateur, taux, cible}: `taux` rounded to 4 decimals (half up, exact
    integer arithmetic), None when the denominator is 0; `cible` as a float."""
    numerator, denominator = int(numerator), int(denominator)
    return {
        "numerateur": numerator,
        "denominateur": denominator,
        "taux": rate(numerator, denominator),
        "cible": float(target),
    }


def _indicator(numerator: int, denominator: int, cible: float) -> dict:
    """`indicator` with the target already a float (the documents' hot loop)."""
    numerator, denominator = int(numerator), int(denominator)
    return {
        "numerateur": numerator,
        "denominateur": denominator,
        "taux": rate(numerator, denominator),
        "cible": cible,
    }


def rate(numerator: int, denominator: int) -> float | None:
    """numerator / denominator rounded half up to 4 decimals; None when denominator is 0."""
    if denominator == 0:
        return None
    return (20000 * numerator + denominator) // (2 * denominator) / 10000


def _exact(value: Any) -> Fraction:
    # str() first: the float 0.1 means the decimal 0.1, not its binary approximation.
    return Fraction(Decimal(str(value)))


def missing_attributions(numerator: int, denominator: int, target: Any) -> int:
    """How many more attributions the numerator needs to reach the target (domain.md §4: « il
    manque 12 attributions… »): ceil(target × denominator) − numerator when positive, else 0.
    Exact arithmetic: 0.25 × 40 is 10, not 10.000000000000002."""
    needed = math.ceil(_exact(target) * int(denominator)) - int(numerator)
    return max(needed, 0)


def gap(item: Mapping[str, Any]) -> dict:
    """The gap of an indicator of the document to its target: in percentage points (rounded
    half up to 0.1, None without denominator) and in missing attributions."""
    numerator, denominator = item["numerateur"], item["denominateur"]
    if not denominator:
        return {"points": None, "manquantes": 0}
    tenths = (Fraction(numerator, denominator) - _exact(item["cible"])) * 1000
    return {
        "points": math.floor(tenths + Fraction(1, 2)) / 10,
        "manquantes": missing_attributions(numerator, denominator, item["cible"]),
    }


def trend(documents: Iterable[Mapping[str, Any]], key: str = "r1_q1_hors_qpv") -> list[dict]:
    """A conference-level indicator (`r1_q1_hors_qpv`, `r2_hors_q1_en_qpv`) over the years of
    several documents of one conference, oldest first: [{annee, numerateur, …}]."""
    return [
        {"annee": document["annee"], **document[key]}
        for document in sorted(documents, key=lambda document: document["annee"])
    ]
