"""Offer indicators (domain.md §5; domain-reference §3.5 O1): the stock of social dwellings
from RPLS, by commune, QPV, typology and financing.

Pure pandas, no Django. Input: one row per dwelling of ONE millésime (state of the stock at
1 January; `latest_millesime` picks it), columns named like `observatoire.models.Dwelling`:
`millesime` (int), `commune_insee` (str), `in_qpv` (bool), `qpv_code` (str, "" outside),
`typologie` (str, "" unknown), `financement` (str, "" unknown).
"""

from collections.abc import Sequence

import numpy as np
import pandas as pd


def latest_millesime(dwellings: pd.DataFrame) -> int | None:
    """The most recent millésime of the frame, None when it is empty."""
    if dwellings.empty:
        return None
    return int(dwellings["millesime"].max())


def of_millesime(dwellings: pd.DataFrame, millesime: int | None) -> pd.DataFrame:
    """The dwellings of one millésime (the stock must not be summed over years)."""
    return dwellings[dwellings["millesime"] == millesime]


def offer_by(dwellings: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Dwellings counted by `by` (any dwelling columns, e.g. `commune_insee`, `qpv_code`,
    `typologie`, `financement`).

    Columns: `by` + `dwellings` (count), `in_qpv` (of which in a QPV), `qpv_share`
    (in_qpv / dwellings), `share` (dwellings / all dwellings of the frame). Sorted by `by`,
    only groups holding a dwelling. With `by=()`, one row for the whole frame. Pass one
    millésime (`of_millesime`).
    """
    by = list(by)
    total = len(dwellings)
    in_qpv = dwellings["in_qpv"].astype(bool).astype("int64")
    if not by:
        counts = pd.DataFrame({"dwellings": [total], "in_qpv": [int(in_qpv.sum())]})
    else:
        counts = (
            dwellings[by]
            .assign(dwellings=1, in_qpv=in_qpv)
            .groupby(by, observed=True, sort=True)[["dwellings", "in_qpv"]]
            .sum()
            .reset_index()
        )
    counts["qpv_share"] = counts["in_qpv"] / counts["dwellings"].replace(0, np.nan)
    counts["share"] = counts["dwellings"] / total if total else np.nan
    return counts
