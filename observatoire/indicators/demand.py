"""Demand indicators (domain.md §3 « seuil du 1er quartile », §5; domain-reference §3.4).

Pure pandas, no Django. Input frames, columns named like the model fields:

demands (one row per demand, `observatoire.models.Demand`):

| column | dtype | meaning |
|---|---|---|
| `date_depot` | datetime64 | initial deposit date (kept on renewal) |
| `date_radiation` | datetime64, NaT = still active | closure date |
| `motif_radiation` | str, "" = none | `ClosureReason` value (`attribution`, …) |
| `commune_insee` | str | first wished commune |
| `typologie` | str, "" = not given | wished typology (`T1`…`T6+`) |
| `nb_personnes` | int | household size |
| `mutation` | bool | the applicant already rents social housing |
| `revenu_par_uc` | float, NaN = unknown income | annual income per consumption unit (€) |

attributions (one row per attribution with a signed lease, `attributions.models.Attribution`):
`year` (int, year of the lease), `commune_insee`, `typologie` (of the dwelling), `mutation`.

Dates may also be given as `datetime.date` objects: they are converted.
"""

import math
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd

QUARTILE = "quartile"  # pseudo-column of `active_demand_by`: income quartile of the demand
HOUSEHOLD_SIZE = "taille_menage"  # pseudo-column: household size, 6 and more grouped
QUARTILE_LABELS = ("Q1", "Q2", "Q3", "Q4")
UNKNOWN_INCOME = "inconnu"
LARGE_HOUSEHOLD = "6+"
ATTRIBUTION = "attribution"  # ClosureReason.ATTRIBUTION


def _dates(values: pd.Series) -> pd.Series:
    """A date column as datetime64 (object columns of `datetime.date` are converted)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    return pd.to_datetime(values)


def _incomes(values: pd.Series) -> pd.Series:
    """Incomes per UC as floats, unknown (None/NaN) as NaN. Decimal objects are accepted:
    incomes are stored to the cent, far below float precision, so the order is exact."""
    return pd.to_numeric(values, errors="raise").astype("float64")


def _cents(value: float) -> Decimal:
    return Decimal(f"{value:.2f}")


# --- The first-quartile threshold -------------------------------------------------------


def q1_threshold(revenu_par_uc: pd.Series) -> Decimal | None:
    """« Le niveau de ressources le plus élevé du quartile des demandeurs aux ressources les
    plus faibles » (CCH L.441-1; wording of the yearly arrêtés): the highest income per UC
    among the poorest quarter of the applicants.

    Choice of quantile (inverted empirical distribution function, « type 1 » of Hyndman &
    Fan 1996): sort the known incomes per UC; the poorest quartile is the first ⌈n/4⌉
    applicants; the threshold is the highest of them, i.e. the ⌈n/4⌉-th smallest value. No
    interpolation: the threshold is an income some applicant actually has, as the arrêté's
    wording says. Unknown incomes (NaN) are excluded from n. None when no income is known.

    Population: the SNE computes it on the demands active at 31 December of the previous
    year, for the EPCI's territory (domain.md §3): pass
    `active_demands(demands, date(year - 1, 12, 31))["revenu_par_uc"]`, or call
    `q1_threshold_for_year`.

    Example: incomes 1000, 3000, 2000, 5000, 4000 (n = 5, ⌈5/4⌉ = 2) → sorted 1000, 2000, …
    → threshold 2000.
    """
    known = np.sort(_incomes(revenu_par_uc).dropna().to_numpy())
    if known.size == 0:
        return None
    return _cents(known[math.ceil(known.size / 4) - 1])


def q1_threshold_for_year(demands: pd.DataFrame, year: int) -> Decimal | None:
    """The threshold applying to the leases of `year`, from the demand stock at 31 December
    of `year − 1` (domain-reference §2.1)."""
    stock = active_demands(demands, date(year - 1, 12, 31))
    return q1_threshold(stock["revenu_par_uc"])


def q1_thresholds_by(
    demands: pd.DataFrame, at: date, by: Sequence[str] = ("conference",)
) -> pd.DataFrame:
    """`q1_threshold` for every group at once (vectorised, for many conferences): one row per
    group with at least one known income, columns `by` + `threshold` (float, € per UC) +
    `applicants` (known incomes counted). Same rule: the ⌈n/4⌉-th smallest known income
    of the group's demands active at `at`.

    One sort of all incomes by (group, income), then each group's ⌈n/4⌉-th value is read at
    its start + ⌈n/4⌉ − 1: no loop over the groups."""
    by = list(by)
    stock = active_demands(demands, at)
    incomes = _incomes(stock["revenu_par_uc"])
    known = stock[incomes.notna().to_numpy()]
    values = incomes.dropna().to_numpy()
    grouped = known.groupby(by, observed=True, sort=True)
    group = grouped.ngroup().to_numpy()
    order = _order_by_group_then_value(group, values)
    sizes = np.bincount(group, minlength=grouped.ngroups)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    picked = order[starts + np.ceil(sizes / 4).astype(np.int64) - 1]
    result = known[by].iloc[picked].reset_index(drop=True)
    result["threshold"] = values[picked]
    result["applicants"] = sizes
    return result


def _order_by_group_then_value(group: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Indices sorting by (group, value). Incomes are stored to the cent: one int64 key
    (group × span + cents) sorts three to four times faster than `np.lexsort` on two keys;
    lexsort remains for values that are not whole cents or a key that would overflow."""
    if values.size:
        cents = np.rint(values * 100)
        span = cents.max() + 1
        whole_cents = np.abs(values * 100 - cents).max() < 1e-6 and cents.min() >= 0
        if whole_cents and span * (group.max() + 1) < 2**62:
            return np.argsort(group.astype(np.int64) * int(span) + cents.astype(np.int64))
    return np.lexsort((values, group))


# --- Active demand ----------------------------------------------------------------------


def active_mask(demands: pd.DataFrame, at: date) -> pd.Series:
    """Demands active at the end of day `at`: deposited on or before `at`, and not closed on
    or before `at` (a demand closed on `at` is no longer active at the end of that day)."""
    when = pd.Timestamp(at)
    closed = _dates(demands["date_radiation"])
    return (_dates(demands["date_depot"]) <= when) & ~(closed <= when)


def active_demands(demands: pd.DataFrame, at: date) -> pd.DataFrame:
    """The demands active at `at` (see `active_mask`): domain-reference D1."""
    return demands[active_mask(demands, at)]


def quartile_cuts(revenu_par_uc: pd.Series) -> tuple[float, float, float] | None:
    """The three quartile cut points of the known incomes per UC, with the same rule as
    `q1_threshold`: the k-th cut is the ⌈k·n/4⌉-th smallest value. None when none is known."""
    known = np.sort(_incomes(revenu_par_uc).dropna().to_numpy())
    if known.size == 0:
        return None
    return tuple(float(known[math.ceil(k * known.size / 4) - 1]) for k in (1, 2, 3))


def income_quartiles(
    revenu_par_uc: pd.Series, cuts: tuple[float, float, float] | None = None
) -> pd.Series:
    """The income quartile of each demand, `Q1`…`Q4`, `inconnu` for an unknown income.

    Cut points are those of `revenu_par_uc` itself unless given (`quartile_cuts`). A value
    equal to a cut belongs to the lower quartile: the k-th cut is the highest income of the
    k-th quartile, as the Q1 threshold is the highest income of the poorest quartile.
    (The legal test for an attribution is « strictly below the arrêté's threshold »,
    `attributions.rules.is_q1`: this describes the demand, it classifies no attribution.)
    """
    incomes = _incomes(revenu_par_uc)
    labels = pd.Categorical(
        np.full(len(incomes), UNKNOWN_INCOME, dtype=object),
        categories=[*QUARTILE_LABELS, UNKNOWN_INCOME],
    )
    result = pd.Series(labels, index=revenu_par_uc.index, name=QUARTILE)
    cuts = cuts if cuts is not None else quartile_cuts(incomes)
    if cuts is None:
        return result
    known = incomes.notna().to_numpy()
    position = np.searchsorted(np.asarray(cuts), incomes.to_numpy()[known], side="left")
    result[known] = np.asarray(QUARTILE_LABELS, dtype=object)[position]
    return result


def household_size_class(nb_personnes: pd.Series) -> pd.Series:
    """Household size as shown: `1`…`5`, `6+`."""
    labels = ["1", "2", "3", "4", "5", LARGE_HOUSEHOLD]
    size = nb_personnes.astype("int64").clip(upper=6).astype(str).replace("6", LARGE_HOUSEHOLD)
    return pd.Series(pd.Categorical(size, categories=labels), index=nb_personnes.index)


def _with_pseudo_columns(frame: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    if QUARTILE not in by and HOUSEHOLD_SIZE not in by:
        return frame
    frame = frame.copy()
    if QUARTILE in by:
        frame[QUARTILE] = income_quartiles(frame["revenu_par_uc"])
    if HOUSEHOLD_SIZE in by:
        frame[HOUSEHOLD_SIZE] = household_size_class(frame["nb_personnes"])
    return frame


def active_demand_by(demands: pd.DataFrame, at: date, by: Sequence[str]) -> pd.DataFrame:
    """Active demands at `at`, counted by `by` (domain-reference D1, D7): any demand columns,
    plus the pseudo-columns `quartile` (`income_quartiles`, cut points of the active demand
    itself) and `taille_menage` (`household_size_class`).

    Columns: `by` + `demands` (count), `mutations` (of which mutation demands), `share`
    (demands / all active demands). Sorted by `by`; only groups holding a demand.
    """
    by = list(by)
    stock = _with_pseudo_columns(active_demands(demands, at), by)
    total = len(stock)
    mutation = stock["mutation"].astype(bool).astype("int64")
    if not by:
        counts = pd.DataFrame({"demands": [total], "mutations": [int(mutation.sum())]})
    else:
        counts = (
            stock[by]
            .assign(demands=1, mutations=mutation)
            .groupby(by, observed=True, sort=True)[["demands", "mutations"]]
            .sum()
            .reset_index()
        )
    counts["share"] = counts["demands"] / total if total else np.nan
    return counts


# --- Pressure ---------------------------------------------------------------------------


def pressure(
    demands: pd.DataFrame,
    attributions: pd.DataFrame,
    year: int,
    by: Sequence[str] = ("commune_insee", "typologie"),
) -> pd.DataFrame:
    """Taux de pression (domain-reference D2): demands active at 31 December of `year` /
    attributions whose lease was signed in `year`, by `by` (columns present in both frames;
    for demands the wished commune and typology, for attributions the dwelling's).

    Published with and without mutations: `pressure_excl_mutations` compares the demands of
    applicants not already in social housing with the attributions to them.

    Columns: `by` + `demands`, `attributions`, `pressure`, `demands_excl_mutations`,
    `attributions_excl_mutations`, `pressure_excl_mutations`. Every group of either side is
    listed (outer join, missing counts are 0); a ratio over 0 attributions is NaN (shown
    « — »). With `by=()`, one row for the whole territory.
    """
    by = list(by)
    stock = active_demands(demands, date(year, 12, 31))
    leases = attributions[attributions["year"] == year]

    def counts(frame: pd.DataFrame, prefix: str) -> pd.DataFrame:
        external = int((~frame["mutation"].astype(bool)).sum())
        return pd.DataFrame({prefix: [len(frame)], f"{prefix}_excl_mutations": [external]})

    if by:
        table = _counts_side_by_side(stock, leases, by)
    else:
        left, right = counts(stock, "demands"), counts(leases, "attributions")
        table = pd.concat([left, right], axis=1)
    for suffix in ("", "_excl_mutations"):
        denominator = table[f"attributions{suffix}"].astype("float64").replace(0, np.nan)
        table[f"pressure{suffix}"] = table[f"demands{suffix}"] / denominator
    return table[
        [
            *by,
            "demands",
            "attributions",
            "pressure",
            "demands_excl_mutations",
            "attributions_excl_mutations",
            "pressure_excl_mutations",
        ]
    ]


def _counts_side_by_side(
    demands: pd.DataFrame, attributions: pd.DataFrame, by: list[str]
) -> pd.DataFrame:
    """Counts of both frames by `by` in one groupby: the rows of both are stacked (their
    categorical keys put on shared categories), each carrying its 0/1 counters."""
    columns = {}
    for name in by:
        left, right = demands[name], attributions[name]
        if isinstance(left.dtype, pd.CategoricalDtype) or isinstance(
            right.dtype, pd.CategoricalDtype
        ):
            left, right = left.astype("category"), right.astype("category")
            if left.cat.categories.dtype != right.cat.categories.dtype:
                # e.g. one side empty (categories of no type): compare the codes as text
                left, right = (
                    side.cat.rename_categories(side.cat.categories.astype(str))
                    for side in (left, right)
                )
            shared = pd.api.types.union_categoricals(
                [left, right],
                ignore_order=True,
                sort_categories=True,
            )
            columns[name] = shared
        else:
            columns[name] = pd.concat([left, right], ignore_index=True)
    n, m = len(demands), len(attributions)
    demand_external = (~demands["mutation"].astype(bool)).to_numpy().astype("int64")
    lease_external = (~attributions["mutation"].astype(bool)).to_numpy().astype("int64")
    stacked = pd.DataFrame(columns)
    stacked["demands"] = np.concatenate([np.ones(n, "int64"), np.zeros(m, "int64")])
    stacked["demands_excl_mutations"] = np.concatenate([demand_external, np.zeros(m, "int64")])
    stacked["attributions"] = np.concatenate([np.zeros(n, "int64"), np.ones(m, "int64")])
    stacked["attributions_excl_mutations"] = np.concatenate([np.zeros(n, "int64"), lease_external])
    return stacked.groupby(by, observed=True, sort=True).sum().reset_index()


# --- Waiting time -----------------------------------------------------------------------


def age_in_months(start: pd.Series, end: pd.Series | date) -> pd.Series:
    """Completed calendar months from `start` to `end` (like an age in years): 15 January →
    14 March is 1 month, → 15 March is 2 months; 31 January → 28 February is 0 month."""
    start = _dates(start)
    if isinstance(end, pd.Series):
        end = _dates(end)
        end_year, end_month, end_day = end.dt.year, end.dt.month, end.dt.day
    else:
        end_year, end_month, end_day = end.year, end.month, end.day
    months = (end_year - start.dt.year) * 12 + (end_month - start.dt.month)
    return months - (end_day < start.dt.day).astype("int64")


def waiting_time(demands: pd.DataFrame, year: int, delai_mois: int | None) -> dict:
    """Waiting time (domain-reference D3, D4).

    - Demands satisfied in `year`: closed for attribution (`motif_radiation` =
      `attribution`) with a closure date in `year`; their age is the completed months from
      the deposit to the closure (`age_in_months`; the closure is the lease signature).
    - Délai anormalement long (CCH L.441-1-4, fixed by arrêté préfectoral per département):
      a demand has reached it when its age in completed months is ≥ `delai_mois`.
    - D4 also counts the demands still active at 31 December of `year` that reached it.

    Keys: `satisfied` (count), `median_months` (float or None when none was satisfied),
    `satisfied_beyond` / `satisfied_beyond_share`, `active`, `active_beyond` /
    `active_beyond_share`. The `*_beyond*` values are None when no délai is set; a share is
    None when its denominator is 0.
    """
    closed = _dates(demands["date_radiation"])
    satisfied_mask = (demands["motif_radiation"] == ATTRIBUTION) & (closed.dt.year == year)
    satisfied = demands[satisfied_mask]
    ages = age_in_months(satisfied["date_depot"], closed[satisfied_mask])
    end_of_year = date(year, 12, 31)
    stock = active_demands(demands, end_of_year)
    result = {
        "satisfied": len(satisfied),
        "median_months": float(ages.median()) if len(ages) else None,
        "satisfied_beyond": None,
        "satisfied_beyond_share": None,
        "active": len(stock),
        "active_beyond": None,
        "active_beyond_share": None,
    }
    if delai_mois is None:
        return result
    satisfied_beyond = int((ages >= delai_mois).sum())
    active_beyond = int((age_in_months(stock["date_depot"], end_of_year) >= delai_mois).sum())
    result.update(
        satisfied_beyond=satisfied_beyond,
        satisfied_beyond_share=satisfied_beyond / len(satisfied) if len(satisfied) else None,
        active_beyond=active_beyond,
        active_beyond_share=active_beyond / len(stock) if len(stock) else None,
    )
    return result
