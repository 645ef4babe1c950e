"""Territorial balance (domain.md §5): the share of first-quartile (Q1) households among
attributions, per commune, per QPV and outside QPV.

Pure pandas, no Django. Input: one row per attribution with a signed lease, columns named
like `attributions.models.Attribution` (the commune and QPV flattened to their codes):

| column | dtype | meaning |
|---|---|---|
| `year` | int | year of the lease signature |
| `commune_insee` | str | commune of the dwelling |
| `in_qpv` | bool | dwelling in a QPV in force at the lease date |
| `qpv_code` | str, "" outside QPV | the QPV |
| `is_q1` | nullable boolean | True: Q1; False: income known and ≥ threshold; NA: unknown |
| `mutation` | bool | the household already rented social housing |

Same counting rule as the bilan's R1 (domain.md §3): a household of unknown income is « non
classable » — in no numerator, but in the denominator, and counted apart.
"""

from collections.abc import Sequence

import numpy as np
import pandas as pd


def q1_flags(is_q1: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(q1, not_q1, unknown) as 0/1 int series from a nullable `is_q1` column."""
    flags = is_q1.astype("boolean")
    unknown = flags.isna()
    q1 = flags.fillna(False).astype(bool)
    not_q1 = ~q1 & ~unknown
    return q1.astype("int64"), not_q1.astype("int64"), unknown.astype("int64")


def q1_share(attributions: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Attributions and Q1 households counted by `by` (e.g. `["commune_insee"]`,
    `["qpv_code"]`, `["in_qpv"]`, `["year", "commune_insee", "in_qpv"]`).

    Columns: `by` + `attributions`, `q1`, `not_q1`, `unknown_income`, `q1_share`
    (q1 / attributions, unknown incomes in the denominator; NaN for no attribution).
    Sorted by `by`; only groups holding an attribution. With `by=()`, one row.
    """
    by = list(by)
    q1, not_q1, unknown = q1_flags(attributions["is_q1"])
    columns = ["attributions", "q1", "not_q1", "unknown_income"]
    tally = attributions[by].assign(attributions=1, q1=q1, not_q1=not_q1, unknown_income=unknown)
    if not by:
        counts = tally[columns].sum().to_frame().T.astype("int64")
    else:
        counts = tally.groupby(by, observed=True, sort=True)[columns].sum().reset_index()
    counts["q1_share"] = counts["q1"] / counts["attributions"].replace(0, np.nan)
    return counts
