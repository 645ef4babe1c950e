"""What the observatory's analysis page shows (domain.md §5), built from the frames and the
pure indicators (no HTTP here; no query either: the caller passes the frames and names).

Every table is a `Table`: the page renders it, the export writes it (CSV/XLSX), from the
same cells. For roles that see aggregates only (élus, members, bailleurs: no
`attributions.view_all`), counts of households go through statistical secrecy
(`attributions.indicators.secrecy.suppress_table`: no count of 1 … threshold − 1 shown, none
recomputable inside its table), and a ratio is shown only when the counts it is made of
may be. Dwellings (RPLS, open data) are not households: the offer is shown whole.
Not covered by the secrecy here: differences between two tables sharing a total (by
commune and by typology of the same demands), as the module of `suppress_table` says.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pandas as pd

from attributions.indicators.secrecy import TOTAL, mask_indicator
from attributions.models import Financement, Typologie
from observatoire.analysis_charts import index_lines, share_bars
from observatoire.analysis_tables import (
    FORMATS,
    HIDDEN,
    SECRET,
    Column,
    Secrecy,
    Table,
    missing,
    ratio,
    shown_count,
)
from observatoire.indicators import balance, demand, offer, segregation

TYPOLOGY_LABELS = {"": "Non renseignée", **dict(Typologie.choices)}
FINANCING_LABELS = {"": "Non renseigné", **dict(Financement.choices)}
QUARTILE_LABELS = {
    "Q1": "1er quartile",
    "Q2": "2e quartile",
    "Q3": "3e quartile",
    "Q4": "4e quartile",
    "inconnu": "Revenu inconnu",
}
SIZE_LABELS = {"1": "1 personne", "6+": "6 personnes et plus"}


# --- Demand -----------------------------------------------------------------------------------


def threshold_comparison(
    demands: pd.DataFrame, year: int, register: Decimal | None, secrecy: Secrecy
) -> dict:
    """The threshold computed from the demand stock at 31 December of `year − 1` beside the
    register's value for `year` (the arrêté's), with the gap."""
    stock = demand.active_demands(demands, date(year - 1, 12, 31))
    applicants = int(stock["revenu_par_uc"].notna().sum())
    computed = demand.q1_threshold(stock["revenu_par_uc"])
    hidden = secrecy.applies and 0 < applicants < secrecy.threshold
    gap = None
    if computed is not None and register is not None and not hidden:
        gap = {
            "euros": computed - register,
            "share": float((computed - register) / register) if register else None,
        }
    return {
        "year": year,
        "stock_date": date(year - 1, 12, 31),
        "applicants": applicants,
        "applicants_text": FORMATS["count"](applicants),
        "computed": None if hidden else computed,
        "hidden": hidden,
        "register": register,
        "gap": gap,
    }


def _label(mapping: dict, value) -> str:
    return mapping.get(str(value), str(value))


def active_demand_table(
    demands: pd.DataFrame,
    at: date,
    by: str,
    *,
    key: str,
    caption: str,
    heading: str,
    labels: Callable[[str], str],
    secrecy: Secrecy,
) -> Table:
    """Active demands at `at` by one column: count, of which mutation demands, share."""
    counts = demand.active_demand_by(demands, at, [by])
    keys = [str(k) for k in counts[by]]
    parts = pd.DataFrame(
        {
            "mutations": counts["mutations"].to_numpy(),
            "external": (counts["demands"] - counts["mutations"]).to_numpy(),
        },
        index=keys,
    )
    values, mask = secrecy.table(parts)
    total = shown_count(values, mask, TOTAL, TOTAL) if len(keys) else 0
    table = Table(
        key=key,
        caption=caption,
        columns=[
            Column(heading, "text"),
            Column("Demandes actives"),
            Column("dont demandes de mutation"),
            Column("Part du total", "percent"),
        ],
        total=True,
    )
    for row in [*keys, TOTAL]:
        if row == TOTAL and not keys:
            table.rows.append(["Total", 0, 0, None])
            continue
        count = shown_count(values, mask, row, TOTAL)
        table.rows.append(
            [
                "Total" if row == TOTAL else labels(row),
                count,
                shown_count(values, mask, row, "mutations"),
                ratio(count, total),
            ]
        )
    return table


def pressure_table(
    demands: pd.DataFrame,
    attributions: pd.DataFrame,
    year: int,
    by: str,
    *,
    key: str,
    caption: str,
    heading: str,
    labels: Callable[[str], str],
    secrecy: Secrecy,
) -> Table:
    """Pressure (active demands at 31/12 / attributions of the year) by one column, with and
    without mutations (domain-reference D2)."""
    table_ = demand.pressure(demands, attributions, year, by=[by])
    keys = [str(k) for k in table_[by]]
    sides = {}
    for side in ("demands", "attributions"):
        parts = pd.DataFrame(
            {
                "mutations": (table_[side] - table_[f"{side}_excl_mutations"]).to_numpy(),
                "external": table_[f"{side}_excl_mutations"].to_numpy(),
            },
            index=keys,
        )
        sides[side] = secrecy.table(parts)
    table = Table(
        key=key,
        caption=caption,
        columns=[
            Column(heading, "text"),
            Column(f"Demandes actives au 31/12/{year}"),
            Column(f"Attributions {year}"),
            Column("Pression", "ratio"),
            Column("Pression hors mutations", "ratio"),
        ],
        total=True,
        note="Pression : demandes actives pour une attribution ; « — » quand il n'y a eu aucune attribution.",
    )
    for row in [*keys, TOTAL] if keys else []:
        d_values, d_mask = sides["demands"]
        a_values, a_mask = sides["attributions"]
        demands_n = shown_count(d_values, d_mask, row, TOTAL)
        attributions_n = shown_count(a_values, a_mask, row, TOTAL)
        table.rows.append(
            [
                "Total" if row == TOTAL else labels(row),
                demands_n,
                attributions_n,
                ratio(demands_n, attributions_n),
                ratio(
                    shown_count(d_values, d_mask, row, "external"),
                    shown_count(a_values, a_mask, row, "external"),
                ),
            ]
        )
    return table


def waiting_figures(demands: pd.DataFrame, year: int, delai: int | None, secrecy: Secrecy) -> dict:
    """Median age of the demands satisfied in `year` and the shares beyond the délai, with
    secrecy: no median on fewer than `threshold` households, shares as indicators."""
    figures = demand.waiting_time(demands, year, delai)
    shown = {**figures, "delai": delai, "median_hidden": False}
    if secrecy.applies:
        _mask_waiting(figures, shown, secrecy)
    percent, months = FORMATS["percent"], FORMATS["months"]
    shown["texts"] = {
        "median": SECRET
        if shown["median_hidden"]
        else ("—" if shown["median_months"] is None else months(shown["median_months"])),
        **{
            name: Table._text(shown[name], Column("", "count"))
            for name in ("satisfied", "active", "satisfied_beyond", "active_beyond")
        },
        **{
            name: SECRET
            if shown[name] is HIDDEN
            else ("—" if shown[name] is None else percent(shown[name]))
            for name in ("satisfied_beyond_share", "active_beyond_share")
        },
    }
    return shown


def _mask_waiting(figures: dict, shown: dict, secrecy: Secrecy) -> None:
    if 0 < figures["satisfied"] < secrecy.threshold:
        shown.update(median_months=None, median_hidden=True)
    for prefix, denominator in (("satisfied", "satisfied"), ("active", "active")):
        numerator = figures[f"{prefix}_beyond"]
        if numerator is None:
            continue
        masked = mask_indicator(
            {
                "numerateur": numerator,
                "denominateur": figures[denominator],
                "taux": figures[f"{prefix}_beyond_share"],
            },
            threshold=secrecy.threshold,
        )
        shown[f"{prefix}_beyond"] = HIDDEN if masked["numerateur"] is None else numerator
        shown[f"{prefix}_beyond_share"] = HIDDEN if masked["secret"] else masked["taux"]
        if masked["denominateur"] is None:
            shown[denominator] = HIDDEN


# --- Offer ------------------------------------------------------------------------------------


def offer_table(
    dwellings: pd.DataFrame, by: str, *, key: str, caption: str, heading: str, labels
) -> Table:
    counts = offer.offer_by(dwellings, [by])
    whole = offer.offer_by(dwellings, ())
    table = Table(
        key=key,
        caption=caption,
        columns=[
            Column(heading, "text"),
            Column("Logements sociaux"),
            Column("dont en QPV"),
            Column("Part en QPV", "percent"),
            Column("Part du parc", "percent"),
        ],
        total=True,
    )
    for _, row in counts.iterrows():
        table.rows.append(
            [labels(str(row[by])), row["dwellings"], row["in_qpv"], row["qpv_share"], row["share"]]
        )
    total = whole.iloc[0]
    table.rows.append(
        ["Total", total["dwellings"], total["in_qpv"], total["qpv_share"], total["share"]]
    )
    return table


# --- Territorial balance ------------------------------------------------------------------------


def q1_share_table(
    attributions: pd.DataFrame,
    by: str,
    *,
    key: str,
    caption: str,
    heading: str,
    labels,
    secrecy: Secrecy,
) -> Table:
    """Attributions, Q1 households and unknown incomes by one column; the Q1 share keeps
    unknown incomes in its denominator (as the bilan's R1)."""
    counts = balance.q1_share(attributions, [by])
    keys = [str(k) for k in counts[by]]
    parts = pd.DataFrame(
        {
            "q1": counts["q1"].to_numpy(),
            "not_q1": counts["not_q1"].to_numpy(),
            "unknown": counts["unknown_income"].to_numpy(),
        },
        index=keys,
    )
    values, mask = secrecy.table(parts)
    table = Table(
        key=key,
        caption=caption,
        columns=[
            Column(heading, "text"),
            Column("Attributions"),
            Column("dont 1er quartile"),
            Column("dont revenu inconnu"),
            Column("Part du 1er quartile", "percent"),
        ],
        total=True,
        note="Les ménages de revenu inconnu restent au dénominateur de la part du 1er quartile, comme pour la règle R1 du bilan.",
    )
    for row in [*keys, TOTAL] if keys else []:
        attributions_n = shown_count(values, mask, row, TOTAL)
        q1 = shown_count(values, mask, row, "q1")
        table.rows.append(
            [
                "Total" if row == TOTAL else labels(row),
                attributions_n,
                q1,
                shown_count(values, mask, row, "unknown"),
                ratio(q1, attributions_n),
            ]
        )
    return table


def segregation_trend(attributions: pd.DataFrame) -> tuple[Table, str | None]:
    """Both indices per year (table and chart). Indices are not counts: shown to every role."""
    trend = segregation.indices_by_year(attributions) if len(attributions) else None
    table = Table(
        key="segregation",
        caption="Indices de ségrégation des ménages du 1er quartile entre les QPV et le reste de chaque commune",
        columns=[
            Column("Année", "text"),
            Column("Unités (QPV, communes hors QPV)"),
            Column("Indice de dissimilarité (Duncan)", "index"),
            Column("Indice d'entropie (Theil)", "index"),
        ],
        note="0 : chaque unité a la même composition que le territoire ; 1 : les ménages du 1er quartile ne partagent aucune unité avec les autres. Ménages de revenu inconnu exclus.",
    )
    if trend is None or trend.empty:
        return table, None
    for _, row in trend.iterrows():
        table.rows.append([str(int(row["year"])), row["units"], row["dissimilarity"], row["theil"]])
    years = [int(y) for y in trend["year"]]
    chart = index_lines(
        years,
        {
            "Dissimilarité (Duncan)": [
                None if pd.isna(v) else float(v) for v in trend["dissimilarity"]
            ],
            "Entropie (Theil)": [None if pd.isna(v) else float(v) for v in trend["theil"]],
        },
        title="Indices de ségrégation des ménages du 1er quartile par année (0 à 1)",
    )
    return table, chart


# --- The page ---------------------------------------------------------------------------------


def share_chart(table: Table, *, value_column: int, title: str, description: str) -> str | None:
    """Bars of a table's shares (its last row, the total, and hidden values left out)."""
    rows = table.rows[:-1] if table.total else table.rows
    bars = [
        (str(row[0]), float(row[value_column]))
        for row in rows
        if row[value_column] is not HIDDEN and not missing(row[value_column])
    ]
    if not bars:
        return None
    return share_bars(bars, title=title, description=description)


@dataclass
class Names:
    communes: dict[str, str]
    qpvs: dict[str, str]

    def commune(self, insee: str) -> str:
        name = self.communes.get(insee)
        return f"{name} ({insee})" if name else insee or "Non renseignée"

    def qpv(self, code: str) -> str:
        if not code:
            return "Hors QPV"
        name = self.qpvs.get(code)
        return f"{name} ({code})" if name else code


def years_of(demands: pd.DataFrame, attributions: pd.DataFrame) -> list[int]:
    """Years the page can show, most recent first: those with attributions or demands."""
    years = {int(y) for y in attributions["year"].unique()} if len(attributions) else set()
    if len(demands):
        deposits = pd.to_datetime(demands["date_depot"])
        closures = pd.to_datetime(demands["date_radiation"]).dropna()
        first = int(deposits.min().year)
        last = max(int(deposits.max().year), int(closures.max().year) if len(closures) else first)
        years |= set(range(first, last + 1))
    return sorted(years, reverse=True)


def default_year(attributions: pd.DataFrame, years: Sequence[int]) -> int | None:
    if len(attributions):
        return int(attributions["year"].max())
    return years[0] if years else None


def demand_section(
    demands: pd.DataFrame,
    attributions: pd.DataFrame,
    year: int,
    *,
    register: Decimal | None,
    delai: int | None,
    names: Names,
    secrecy: Secrecy,
) -> dict:
    at = date(year, 12, 31)
    common = {"secrecy": secrecy}
    tables = [
        active_demand_table(
            demands,
            at,
            "commune_insee",
            key="demande_communes",
            caption=f"Demandes actives au 31/12/{year} par première commune souhaitée",
            heading="Commune souhaitée",
            labels=names.commune,
            **common,
        ),
        active_demand_table(
            demands,
            at,
            "typologie",
            key="demande_typologies",
            caption=f"Demandes actives au 31/12/{year} par typologie souhaitée",
            heading="Typologie",
            labels=lambda v: _label(TYPOLOGY_LABELS, v),
            **common,
        ),
        active_demand_table(
            demands,
            at,
            demand.HOUSEHOLD_SIZE,
            key="demande_tailles",
            caption=f"Demandes actives au 31/12/{year} par taille du ménage",
            heading="Taille du ménage",
            labels=lambda v: SIZE_LABELS.get(v, f"{v} personnes"),
            **common,
        ),
        active_demand_table(
            demands,
            at,
            demand.QUARTILE,
            key="demande_quartiles",
            caption=f"Demandes actives au 31/12/{year} par quartile de revenu par unité de consommation (quartiles de la demande elle-même)",
            heading="Quartile de revenu",
            labels=lambda v: _label(QUARTILE_LABELS, v),
            **common,
        ),
    ]
    pressure = [
        pressure_table(
            demands,
            attributions,
            year,
            "commune_insee",
            key="pression_communes",
            caption=f"Pression de la demande en {year} par commune (commune souhaitée, commune du logement attribué)",
            heading="Commune",
            labels=names.commune,
            **common,
        ),
        pressure_table(
            demands,
            attributions,
            year,
            "typologie",
            key="pression_typologies",
            caption=f"Pression de la demande en {year} par typologie (souhaitée, attribuée)",
            heading="Typologie",
            labels=lambda v: _label(TYPOLOGY_LABELS, v),
            **common,
        ),
    ]
    typology_chart = share_chart(
        tables[1],
        value_column=3,
        title=f"Répartition des demandes actives au 31/12/{year} par typologie souhaitée",
        description="Part de chaque typologie dans les demandes actives",
    )
    return {
        "threshold": threshold_comparison(demands, year, register, secrecy),
        "tables": tables,
        "pressure": pressure,
        "typology_chart": typology_chart,
        "waiting": waiting_figures(demands, year, delai, secrecy),
        "empty": demands.empty,
    }


def offer_section(dwellings: pd.DataFrame, year: int, *, names: Names) -> dict:
    """The stock at 1 January of the millésime closest to the year's end (`year + 1` when
    imported, else the latest one before it, else the latest)."""
    millesimes = sorted({int(m) for m in dwellings["millesime"].unique()}) if len(dwellings) else []
    if not millesimes:
        return {"empty": True, "millesime": None, "tables": []}
    before = [m for m in millesimes if m <= year + 1]
    millesime = before[-1] if before else millesimes[-1]
    stock = offer.of_millesime(dwellings, millesime)
    tables = [
        offer_table(
            stock,
            "commune_insee",
            key="offre_communes",
            caption=f"Logements sociaux au 1er janvier {millesime} par commune",
            heading="Commune",
            labels=names.commune,
        ),
        offer_table(
            stock,
            "qpv_code",
            key="offre_qpv",
            caption=f"Logements sociaux au 1er janvier {millesime} par quartier prioritaire",
            heading="Quartier",
            labels=names.qpv,
        ),
        offer_table(
            stock,
            "typologie",
            key="offre_typologies",
            caption=f"Logements sociaux au 1er janvier {millesime} par typologie",
            heading="Typologie",
            labels=lambda v: _label(TYPOLOGY_LABELS, v),
        ),
        offer_table(
            stock,
            "financement",
            key="offre_financements",
            caption=f"Logements sociaux au 1er janvier {millesime} par financement",
            heading="Financement",
            labels=lambda v: _label(FINANCING_LABELS, v),
        ),
    ]
    chart = share_chart(
        tables[3],
        value_column=4,
        title=f"Répartition du parc au 1er janvier {millesime} par financement",
        description="Part de chaque financement dans le parc social",
    )
    return {
        "empty": False,
        "millesime": millesime,
        "millesimes": millesimes,
        "tables": tables,
        "financing_chart": chart,
    }


def balance_section(
    attributions: pd.DataFrame, year: int, *, names: Names, secrecy: Secrecy
) -> dict:
    of_year = attributions[attributions["year"] == year]
    communes = q1_share_table(
        of_year,
        "commune_insee",
        key="equilibre_communes",
        caption=f"Ménages du 1er quartile parmi les attributions {year}, par commune du logement",
        heading="Commune",
        labels=names.commune,
        secrecy=secrecy,
    )
    quarters = q1_share_table(
        of_year,
        "qpv_code",
        key="equilibre_qpv",
        caption=f"Ménages du 1er quartile parmi les attributions {year}, par QPV et hors QPV",
        heading="Quartier",
        labels=names.qpv,
        secrecy=secrecy,
    )
    trend, trend_chart = segregation_trend(attributions)
    chart = share_chart(
        communes,
        value_column=4,
        title=f"Part des ménages du 1er quartile parmi les attributions {year}, par commune",
        description="Part du 1er quartile par commune du logement (communes sous secret statistique omises)",
    )
    return {
        "tables": [communes, quarters],
        "chart": chart,
        "segregation": trend,
        "segregation_chart": trend_chart,
        "empty": of_year.empty,
    }


def tables_of(*sections: dict) -> dict[str, Table]:
    """Every table of the page by key (for the exports)."""
    found: dict[str, Table] = {}
    for section in sections:
        for name in ("tables", "pressure"):
            for table in section.get(name, []):
                found[table.key] = table
        if "segregation" in section:
            found["segregation"] = section["segregation"]
    return found
