"""The figures of each commune for a year, as the map and the commune pages show them, with
statistical secrecy applied for the roles that see aggregates only (domain.md §4).

Pure pandas, no Django: frames come from `observatoire.frames`, counts from
`observatoire.indicators` (balance, demand, offer), the R1/R2 rates per commune from the
year's `bilan` v1 document (the bilan's own counting, so both pages agree).

Secrecy (`threshold` given), with the tools of `attributions.indicators.secrecy`:
- attributions per commune, outside and in QPV: the table communes × (hors QPV, en QPV) with
  its margins, under primary and secondary suppression — the very table (same rows, same
  order) that the bilan's aggregate view suppresses, so the two pages hide the same cells;
- a share (Q1 among attributions, R1, R2): `mask_indicator` on its numerator and
  denominator, and hidden as well when its denominator is a hidden cell of that table;
- active demands per commune: the table communes × demands, suppressed the same way;
- the pressure (demands / attributions): hidden when either count is;
- social dwellings (RPLS, public open data, dwellings not households): never hidden.
Not covered (as in the bilan): differences between figures published in two tables.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from attributions.indicators.secrecy import mask_indicator, suppress_table
from observatoire.indicators import balance, demand, offer

VALUE, SECRET, MISSING = "value", "secret", "missing"
# Why a figure is hidden. Only FEW_IN_TOTAL is said in words (« moins de 11 attributions »):
# it gives nothing away that the rule does not already say.
FEW_IN_TOTAL = "effectif"  # 0 < the count (or the share's denominator) < threshold
FEW_IN_GROUP = "groupe"  # a share whose numerator, or its complement, is too small
LINKED = "recoupement"  # hidden so that another hidden figure cannot be recomputed

# Keys of the figures of a commune.
ATTRIBUTIONS = "attributions"
HORS_QPV = "hors_qpv"
EN_QPV = "en_qpv"
Q1_SHARE = "part_q1"
Q1_SHARE_HORS_QPV = "part_q1_hors_qpv"
R1 = "taux_r1"
R2 = "taux_r2"
DEMANDS = "demandes"
MUTATION_DEMANDS = "demandes_mutation"
PRESSURE = "pression"
DWELLINGS = "logements"
DWELLINGS_QPV = "logements_qpv"


@dataclass(frozen=True)
class Figure:
    """One figure as shown: its value (None unless state is VALUE), and for a share its
    numerator and denominator when they may be shown."""

    state: str
    value: float | int | None = None
    numerator: int | None = None
    denominator: int | None = None
    reason: str = ""  # why it is SECRET
    target: float | None = None  # for R1 and R2: the conference's rate

    @property
    def shown(self) -> bool:
        return self.state == VALUE


def _count(value: int, hidden: bool, *, threshold: int | None) -> Figure:
    if hidden:
        few = threshold is not None and 0 < value < threshold
        return Figure(SECRET, reason=FEW_IN_TOTAL if few else LINKED)
    return Figure(VALUE, value=int(value))


def _share(
    numerator: int,
    denominator: int,
    *,
    threshold: int | None,
    denominator_hidden: bool = False,
    target: float | None = None,
) -> Figure:
    """A share numerator / denominator under secrecy; MISSING without any denominator."""
    if denominator == 0:
        return Figure(MISSING, numerator=0, denominator=0, target=target)
    item = {"numerateur": numerator, "denominateur": denominator, "taux": numerator / denominator}
    if threshold is not None:
        masked = mask_indicator(item, threshold=threshold)
        if masked["denominateur"] is None:
            return Figure(SECRET, reason=FEW_IN_TOTAL, target=target)
        if denominator_hidden:
            return Figure(SECRET, reason=LINKED, target=target)
        if masked["secret"]:
            return Figure(SECRET, denominator=denominator, reason=FEW_IN_GROUP, target=target)
    return Figure(
        VALUE,
        value=item["taux"],
        numerator=numerator,
        denominator=denominator,
        target=target,
    )


def _table_mask(counts: pd.DataFrame, threshold: int | None) -> pd.DataFrame:
    """The cells of `counts` (margins included) to hide; none without a threshold."""
    if threshold is None or counts.empty:
        return pd.DataFrame(False, index=[*counts.index, "Total"], columns=[*counts, "Total"])
    return suppress_table(counts, threshold=threshold).mask


def attribution_counts(attributions: pd.DataFrame, communes: Sequence[str]) -> pd.DataFrame:
    """Per commune (rows sorted by INSEE code): attributions outside / in QPV, and Q1
    households among each (`balance.q1_share`)."""
    table = pd.DataFrame(
        0, index=sorted(communes), columns=["hors_qpv", "en_qpv", "q1_hors_qpv", "q1_en_qpv"]
    )
    if not attributions.empty:
        counts = balance.q1_share(attributions, ["commune_insee", "in_qpv"])
        for row in counts.itertuples(index=False):
            insee = str(row.commune_insee)
            if insee not in table.index:
                continue
            side = "en_qpv" if row.in_qpv else "hors_qpv"
            table.loc[insee, side] = int(row.attributions)
            table.loc[insee, f"q1_{side}"] = int(row.q1)
    return table.astype("int64")


def communes_figures(
    communes: Sequence[str],
    *,
    year: int,
    attributions: pd.DataFrame,
    demands: pd.DataFrame | None = None,
    dwellings: pd.DataFrame | None = None,
    bilan: Mapping | None = None,
    threshold: int | None = None,
) -> dict[str, dict[str, Figure]]:
    """{INSEE: {figure key: Figure}} for every commune of `communes` in `year`.

    `attributions`: frame of `observatoire.frames.attribution_frame` (any years; the year's
    rows are used, the pressure needs `mutation`). `demands`: `frames.demand_frame` (active
    at 31 December of `year`). `dwellings`: one millésime of `frames.dwelling_frame`.
    `bilan`: the year's `bilan` v1 document (R1, R2 per commune). `threshold`: the secrecy
    threshold for aggregate-only roles, None for the roles that see the detail."""
    leases = attributions[attributions["year"] == year]
    counts = attribution_counts(leases, communes)
    hidden = _table_mask(counts[["hors_qpv", "en_qpv"]], threshold)
    by_commune_bilan = {c["insee"]: c for c in (bilan or {}).get("par_commune", [])}

    demand_counts = _demand_counts(demands, leases, communes, year)
    demand_hidden = (
        _table_mask(demand_counts[["demands"]], threshold) if demand_counts is not None else None
    )
    dwelling_counts = _dwelling_counts(dwellings)

    figures: dict[str, dict[str, Figure]] = {}
    for insee in sorted(communes):
        row = counts.loc[insee]
        total = int(row["hors_qpv"] + row["en_qpv"])
        hide = hidden.loc[insee]
        entry = {
            ATTRIBUTIONS: _count(total, bool(hide["Total"]), threshold=threshold),
            HORS_QPV: _count(int(row["hors_qpv"]), bool(hide["hors_qpv"]), threshold=threshold),
            EN_QPV: _count(int(row["en_qpv"]), bool(hide["en_qpv"]), threshold=threshold),
            Q1_SHARE: _share(
                int(row["q1_hors_qpv"] + row["q1_en_qpv"]),
                total,
                threshold=threshold,
                denominator_hidden=bool(hide["Total"]),
            ),
            Q1_SHARE_HORS_QPV: _share(
                int(row["q1_hors_qpv"]),
                int(row["hors_qpv"]),
                threshold=threshold,
                denominator_hidden=bool(hide["hors_qpv"]),
            ),
        }
        for key, bilan_key, side in (
            (R1, "r1_q1_hors_qpv", "hors_qpv"),
            (R2, "r2_hors_q1_en_qpv", "en_qpv"),
        ):
            item = by_commune_bilan.get(insee, {}).get(bilan_key)
            entry[key] = (
                Figure(MISSING)
                if item is None
                else _share(
                    item["numerateur"],
                    item["denominateur"],
                    threshold=threshold,
                    denominator_hidden=bool(hide[side]),
                    target=float(item["cible"]),
                )
            )
        if demand_counts is not None:
            demand_row = demand_counts.loc[insee]
            demand_figure = _count(
                int(demand_row["demands"]),
                bool(demand_hidden.loc[insee, "demands"]),
                threshold=threshold,
            )
            entry[DEMANDS] = demand_figure
            entry[MUTATION_DEMANDS] = _share(
                int(demand_row["mutations"]),
                int(demand_row["demands"]),
                threshold=threshold,
                denominator_hidden=not demand_figure.shown,
            )
            entry[PRESSURE] = _pressure(demand_figure, entry[ATTRIBUTIONS])
        if dwelling_counts is not None:
            dwelling_row = dwelling_counts.get(insee, {"dwellings": 0, "in_qpv": 0})
            entry[DWELLINGS] = Figure(VALUE, value=int(dwelling_row["dwellings"]))
            entry[DWELLINGS_QPV] = Figure(VALUE, value=int(dwelling_row["in_qpv"]))
        figures[insee] = entry
    return figures


def _demand_counts(
    demands: pd.DataFrame | None, leases: pd.DataFrame, communes: Sequence[str], year: int
) -> pd.DataFrame | None:
    """Per commune (sorted): demands active at 31 December of `year` with the commune as
    first wish, of which mutation demands — the counts of `demand.pressure` (the same
    active demands as `demand.active_demand_by` at that date), so that the pressure and
    the counts shown beside it cannot disagree."""
    if demands is None:
        return None
    table = pd.DataFrame(0, index=sorted(communes), columns=["demands", "mutations"])
    if demands.empty:
        return table
    pressure = demand.pressure(demands, leases, year, by=["commune_insee"])
    external = pressure.set_index(pressure["commune_insee"].astype(str))
    for insee in table.index.intersection(external.index):
        demands_count = int(external.loc[insee, "demands"])
        table.loc[insee, "demands"] = demands_count
        table.loc[insee, "mutations"] = demands_count - int(
            external.loc[insee, "demands_excl_mutations"]
        )
    return table.astype("int64")


def _pressure(demands: Figure, attributions: Figure) -> Figure:
    """Taux de pression (domain-reference D2): demands / attributions of the year."""
    if not demands.shown or not attributions.shown:
        few = demands.reason == FEW_IN_TOTAL or attributions.reason == FEW_IN_TOTAL
        return Figure(SECRET, reason=FEW_IN_TOTAL if few else LINKED)
    if attributions.value == 0:
        return Figure(MISSING, numerator=demands.value, denominator=0)
    return Figure(
        VALUE,
        value=demands.value / attributions.value,
        numerator=demands.value,
        denominator=attributions.value,
    )


def _dwelling_counts(dwellings: pd.DataFrame | None) -> dict[str, dict] | None:
    if dwellings is None:
        return None
    if dwellings.empty:
        return {}
    counts = offer.offer_by(dwellings, ["commune_insee"])
    return {
        str(row.commune_insee): {"dwellings": int(row.dwellings), "in_qpv": int(row.in_qpv)}
        for row in counts.itertuples(index=False)
    }


def pick_millesime(millesimes: Sequence[int], year: int) -> int | None:
    """The RPLS millésime describing the stock during `year`: the latest one up to 1 January
    of the next year (the state at the end of `year`), else the earliest available."""
    if not millesimes:
        return None
    before = [m for m in millesimes if m <= year + 1]
    return max(before) if before else min(millesimes)
