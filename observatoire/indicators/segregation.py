"""Segregation of first-quartile (Q1) households between the parts of the territory
(domain.md §5; domain-reference §3.5 O6), from the attributions of a year.

Pure pandas, no Django. The territory is cut into units: each QPV, and each commune's part
outside QPV (a QPV spanning two communes is one unit). In each unit, households of known
income are counted in two groups: Q1 and the others (not Q1). Households of unknown income
are left out: an index compares known compositions.

Two classic indices, both 0 when every unit has the territory's composition and 1 when the
two groups never share a unit:

- Dissimilarity index (Duncan & Duncan 1955, « A methodological analysis of segregation
  indexes », American Sociological Review 20(2)): D = ½ Σᵢ |q1ᵢ/Q1 − otherᵢ/O|, the share
  of one group that would have to move to another unit for every unit to have the same
  composition.
- Theil's information theory index H (Theil 1972, « Statistical decomposition analysis »;
  Theil & Finizza 1971; for two groups as in Reardon & Firebaugh 2002, « Measures of
  multigroup segregation », Sociological Methodology 32): with p = Q1/T the territory's Q1
  share, E = −[p ln p + (1 − p) ln(1 − p)] its entropy, Eᵢ the same for unit i (0·ln 0 = 0),
  H = Σᵢ (tᵢ / T) · (E − Eᵢ) / E.

Both are undefined (None / NaN) when one group is empty (no Q1 or no other household).

Input of `segregation_units`: attributions with `commune_insee`, `in_qpv`, `qpv_code`
(str, "" outside QPV), `is_q1` (nullable boolean) and any grouping columns (`year`,
`conference`). Units frame: `unit` (str), `in_qpv` (bool), `q1`, `other` (counts), plus the
grouping columns.
"""

from collections.abc import Sequence

import numpy as np
import pandas as pd

OUTSIDE_QPV = " hors QPV"  # label of a commune's part outside QPV: "76540 hors QPV"
UNKNOWN_QPV = "QPV non précisé"


def segregation_units(attributions: pd.DataFrame, by: Sequence[str] = ()) -> pd.DataFrame:
    """One row per unit (and per group of `by`): `unit`, `in_qpv`, `q1`, `other`.

    Only households of known income are counted; a unit with none is not listed. The rows
    are grouped by (QPV code, commune outside QPV) and labelled afterwards, so that no
    string is built per attribution.
    """
    by = list(by)
    flags = attributions["is_q1"].astype("boolean")
    known_mask = flags.notna().to_numpy()
    known = attributions[known_mask]
    q1 = flags[known_mask].astype(bool).to_numpy()
    in_qpv = known["in_qpv"].astype(bool).to_numpy()
    tally = known[by].assign(
        in_qpv=in_qpv,
        # The unit: the QPV for a dwelling in QPV, the commune for one outside.
        _qpv=np.where(in_qpv, known["qpv_code"].astype(str).to_numpy(), ""),
        _commune=np.where(in_qpv, "", known["commune_insee"].astype(str).to_numpy()),
        q1=q1.astype("int64"),
        other=(~q1).astype("int64"),
    )
    units = (
        tally.groupby([*by, "in_qpv", "_qpv", "_commune"], observed=True, sort=True)[
            ["q1", "other"]
        ]
        .sum()
        .reset_index()
    )
    qpv = units.pop("_qpv").astype(str)
    commune = units.pop("_commune").astype(str)
    label = np.where(
        units["in_qpv"].to_numpy(),
        qpv.where(qpv != "", UNKNOWN_QPV).to_numpy(),
        (commune + OUTSIDE_QPV).to_numpy(),
    )
    units.insert(len(by), "unit", label)
    return units[[*by, "unit", "in_qpv", "q1", "other"]]


def _entropy(p: np.ndarray) -> np.ndarray:
    """Binary entropy in nats, with 0·ln 0 = 0."""
    p = np.asarray(p, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
        rest = np.where(p < 1, (1 - p) * np.log(np.where(p < 1, 1 - p, 1.0)), 0.0)
    return -(terms + rest)


def indices_by(units: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Both indices for every group of `by` at once (vectorised: one pass over all the units
    of all the years / conferences). Columns: `by` + `units`, `q1`, `other`,
    `dissimilarity`, `theil` (NaN when a group is empty)."""
    by = list(by)
    frame = units[[*by, "q1", "other"]].astype({"q1": "float64", "other": "float64"})
    frame = frame[(frame["q1"] + frame["other"]) > 0]
    if by:
        grouped = frame.groupby(by, observed=True, sort=True)
        q1_total = grouped["q1"].transform("sum").to_numpy()
        other_total = grouped["other"].transform("sum").to_numpy()
    else:
        q1_total = np.full(len(frame), frame["q1"].sum())
        other_total = np.full(len(frame), frame["other"].sum())
    q1, other = frame["q1"].to_numpy(), frame["other"].to_numpy()
    total = q1_total + other_total
    unit_total = q1 + other
    with np.errstate(divide="ignore", invalid="ignore"):
        dissimilarity_terms = 0.5 * np.abs(q1 / q1_total - other / other_total)
        whole_entropy = _entropy(q1_total / total)
        theil_terms = (
            unit_total * (whole_entropy - _entropy(q1 / unit_total)) / (total * whole_entropy)
        )
    parts = frame[by].assign(
        units=1, q1=q1, other=other, dissimilarity=dissimilarity_terms, theil=theil_terms
    )
    columns = ["units", "q1", "other", "dissimilarity", "theil"]
    if by:
        result = parts.groupby(by, observed=True, sort=True)[columns].sum().reset_index()
    else:
        result = parts[columns].sum().to_frame().T
    undefined = (result["q1"] == 0) | (result["other"] == 0)
    result.loc[undefined, ["dissimilarity", "theil"]] = np.nan
    return result.astype({"units": "int64", "q1": "int64", "other": "int64"})


def _one(units: pd.DataFrame, column: str) -> float | None:
    result = indices_by(units, ())
    if result.empty:
        return None
    value = result[column].iloc[0]
    return None if pd.isna(value) else float(value)


def dissimilarity(units: pd.DataFrame) -> float | None:
    """Duncan's dissimilarity index D = ½ Σᵢ |q1ᵢ/Q1 − otherᵢ/O| over the units (columns
    `q1`, `other`); None when there is no Q1 or no other household."""
    return _one(units, "dissimilarity")


def theil(units: pd.DataFrame) -> float | None:
    """Theil's entropy index H = Σᵢ (tᵢ/T)(E − Eᵢ)/E over the units (columns `q1`,
    `other`); None when there is no Q1 or no other household (E = 0)."""
    return _one(units, "theil")


def indices_by_year(attributions: pd.DataFrame) -> pd.DataFrame:
    """The trend: one row per year of the attributions, columns `year`, `units`, `q1`,
    `other`, `dissimilarity`, `theil` (NaN when undefined)."""
    return indices_by(segregation_units(attributions, by=["year"]), ["year"])
