"""The yearly bilan of attributions (`bilan` v1, shared/formats.md), from a frame of rows.

Pure pandas, no Django: the caller (attributions/bilan_data.py) builds the frame and the
conference's settings. One grouped count table serves both paths: `compute_bilan` for one
conference, `compute_many` for every conference of a national run in one pass.

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

`compute_many` also needs a `conference` column (the conference's slug).
"""

import math
from collections.abc import Iterable, Mapping
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
    column (slug): one grouped pass over all rows, then a light loop per conference over its
    bailleurs, communes and réservataires. A conference without rows gets a document of
    zeros; a row naming a conference absent from `conferences` is an error."""
    unknown = set(frame["conference"].unique()) - set(conferences)
    if unknown:
        raise ValueError(f"Conférences sans paramètres : {sorted(unknown)}")
    tables = _tables(frame)
    return {
        slug: _document(slug, year, inputs, {name: t.get(slug, {}) for name, t in tables.items()})
        for slug, inputs in conferences.items()
    }


def flags(frame: pd.DataFrame) -> pd.DataFrame:
    """One 0/1 column per count of the bilan, one row per attribution (vectorised)."""
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


def _tables(frame: pd.DataFrame) -> dict[str, dict]:
    """{table: {conference: {key: counts}}} for the totals, bailleurs, communes and
    réservataires; counts are tuples in COUNTS order (réservataires: attributions,
    prioritaires). Python loops run over groups, never over attributions."""
    counts = flags(frame)
    counts["conference"] = frame["conference"].to_numpy()
    counts["bailleur_siren"] = frame["bailleur_siren"].to_numpy()
    counts["commune_insee"] = frame["commune_insee"].to_numpy()
    counts["reservataire"] = frame["reservataire"].to_numpy()
    # "" and None both mean "no SIREN": "" sorts first, as `null` must (formats.md).
    counts["reservataire_siren"] = frame["reservataire_siren"].fillna("").to_numpy()
    values = list(COUNTS)
    tables = {
        "total": _nest(counts.groupby(["conference"], sort=False)[values].sum()),
        "bailleur": _nest(
            counts.groupby(["conference", "bailleur_siren"], sort=False)[values].sum()
        ),
        "commune": _nest(counts.groupby(["conference", "commune_insee"], sort=False)[values].sum()),
    }
    # `non_reserve` is not a réservataire: R3 on the non-reserved stock is the bailleur's.
    reserved = counts[counts["non_reserve"] == 0]
    tables["reservataire"] = _nest(
        reserved.groupby(["conference", "reservataire", "reservataire_siren"], sort=False)[
            ["attributions", "prioritaires"]
        ].sum()
    )
    return tables


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


def _document(slug: str, year: int, inputs: ConferenceInputs, tables: dict[str, dict]) -> dict:
    rates = {rule: _rate_or_default(inputs.rates, rule) for rule in LEGAL_TARGETS}
    zero = (0,) * len(COUNTS)
    total = dict(zip(COUNTS, tables["total"].get(None, zero), strict=True))
    names = dict(inputs.bailleurs)
    by_bailleur = tables["bailleur"]
    by_commune = tables["commune"]

    par_bailleur = []
    for siren in sorted(set(names) | set(by_bailleur)):
        counts = dict(zip(COUNTS, by_bailleur.get(siren, zero), strict=True))
        objective = inputs.objectives.get((siren, year)) or {}
        target = {rule: _first(objective.get(rule), rates[rule]) for rule in LEGAL_TARGETS}
        par_bailleur.append(
            {
                "siren": siren,
                # A SIREN with rows but missing from `bailleurs` is still listed (its rows are
                # in the totals); the caller passes former members' names to avoid a null.
                "nom": names.get(siren),
                "attributions": int(counts["attributions"]),
                **_r1_r2(counts, target),
                "r3_prioritaires_non_reserve": indicator(
                    counts["non_reserve_prioritaires"], counts["non_reserve"], target["r3"]
                ),
            }
        )

    par_commune = []
    for insee in sorted(set(inputs.communes) | set(by_commune)):
        counts = dict(zip(COUNTS, by_commune.get(insee, zero), strict=True))
        # No per-commune objective exists: the conference's rates apply.
        par_commune.append(
            {"insee": insee, "attributions": int(counts["attributions"]), **_r1_r2(counts, rates)}
        )

    reservataire_objectives = inputs.reservataire_objectives or {}
    par_reservataire = []
    for (code, siren), (attributions, prioritaires) in sorted(tables["reservataire"].items()):
        siren = siren or None
        target = _first(reservataire_objectives.get((code, siren)), rates["r3"])
        par_reservataire.append(
            {
                "reservataire": code,
                "siren": siren,
                "r3_prioritaires": indicator(prioritaires, attributions, target),
            }
        )

    return {
        "format": FORMAT,
        "conference": slug,
        "annee": year,
        "seuil_q1": None if inputs.threshold is None else float(inputs.threshold),
        "total": {name: int(total[name]) for name in TOTALS},
        **_r1_r2(total, rates),
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


def _r1_r2(counts: Mapping[str, int], target: Mapping[str, Any]) -> dict:
    return {
        "r1_q1_hors_qpv": indicator(counts["r1_num"], counts["hors_qpv"], target["r1"]),
        "r2_hors_q1_en_qpv": indicator(counts["r2_num"], counts["en_qpv"], target["r2"]),
    }


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
