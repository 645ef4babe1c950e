"""Open-data tables of the demand, the pressure and the offer (see
`observatoire.opendata.tables` for the secrecy of the books). Pure pandas, no Django."""

from collections.abc import Hashable, Mapping, Sequence

import pandas as pd

from attributions.indicators.secrecy import TOTAL, table_cells
from observatoire.opendata.book import PRESSURE_DIGITS, Book, Line, protect

TYPOLOGIES = ("T1", "T2", "T3", "T4", "T5", "T6+", "")


# --- Demand --------------------------------------------------------------------------------------


def typology_column(typologie: str) -> str:
    return (
        f"demandes_{typologie.lower().replace('+', '_plus')}"
        if typologie
        else ("demandes_typologie_non_precisee")
    )


def demand_book(counts: pd.DataFrame, *, communes: Sequence[str], threshold: int) -> Book:
    """The book of the active demands at a date: commune (first wished) × typology wished
    (`TYPOLOGIES`, "" = not given), with totals: `("demandes", insee | TOTAL, typology |
    TOTAL)`. `counts`: columns `commune_insee`, `typologie`, `demands`
    (`observatoire.indicators.demand.active_demand_by`). Every territory commune is
    listed."""
    rows = sorted(set(communes) | set(counts["commune_insee"].astype(str)))
    table = (
        counts.assign(
            commune_insee=counts["commune_insee"].astype(str),
            typologie=counts["typologie"].astype(str),
        )
        .pivot_table(
            index="commune_insee",
            columns="typologie",
            values="demands",
            aggfunc="sum",
            fill_value=0,
            observed=True,
        )
        .reindex(index=rows, columns=list(TYPOLOGIES), fill_value=0)
        .astype("int64")
    )
    cells, equations = table_cells(table, "demandes")
    return protect(cells, equations, threshold=threshold)


def demand_lines(book: Book, names: Mapping[str, str]) -> list[Line]:
    """Dataset `demandes-communes-typologies`."""
    keys = sorted({key[1] for key in book.cells if key[1] != TOTAL})
    lines = []
    for insee in [*keys, TOTAL]:
        total = insee == TOTAL
        line = Line(
            {
                "niveau": "ensemble" if total else "commune",
                "code_insee": "" if total else insee,
                "commune": "Ensemble du territoire" if total else names.get(insee, ""),
            }
        )
        for typologie in TYPOLOGIES:
            line.count(typology_column(typologie), book, ("demandes", insee, typologie))
        line.count("demandes", book, ("demandes", insee, TOTAL))
        lines.append(line)
    return lines


def pressure_lines(
    demands: Book, attributions: Book, pressure: pd.DataFrame, names: Mapping[str, str]
) -> list[Line]:
    """Dataset `pression-communes`: active demands at 31 December and attributions of the
    year by commune, from the two books (shown or hidden as in their own datasets), and the
    pressure (`observatoire.indicators.demand.pressure`, by `commune_insee`) shown when both
    counts are shown and equal those it was computed from."""
    computed = {
        str(row.commune_insee): (int(row.demands), int(row.attributions), row.pressure)
        for row in pressure.itertuples(index=False)
    }
    keys = sorted(
        {key[1] for key in demands.cells if key[1] != TOTAL}
        | {key[1] for key in attributions.cells if key[0] == "commune" and key[1] != TOTAL}
    )
    lines = []
    for insee in [*keys, TOTAL]:
        total = insee == TOTAL
        line = Line(
            {
                "niveau": "ensemble" if total else "commune",
                "code_insee": "" if total else insee,
                "commune": "Ensemble du territoire" if total else names.get(insee, ""),
            }
        )
        demand_key = ("demandes", insee, TOTAL)
        attribution_key = ("commune", insee, "attributions")
        demand_count = _count(line, "demandes_actives", demands, demand_key)
        attribution_count = _count(line, "attributions", attributions, attribution_key)
        if "demandes_actives" in line.secret or "attributions" in line.secret:
            line.values["pression"] = None
            line.secret.add("pression")
            lines.append(line)
            continue
        if total:
            value = demand_count / attribution_count if attribution_count else None
        else:
            expected = computed.get(insee, (0, 0, None))
            agrees = expected[:2] == (demand_count, attribution_count)
            value = expected[2] if agrees else None
        line.values["pression"] = (
            None if value is None or pd.isna(value) else round(float(value), PRESSURE_DIGITS)
        )
        lines.append(line)
    return lines


def _count(line: Line, column: str, book: Book, key: Hashable) -> int:
    """Put the count in the line (as the book shows it) and return its true value, or 0 for
    a commune the book does not list."""
    if key not in book.cells:
        line.values[column] = 0
        return 0
    line.count(column, book, key)
    return int(book.cells[key])


# --- Offer (RPLS: dwellings, public data, no secrecy) --------------------------------------------


def offer_lines(detail: pd.DataFrame, total: pd.DataFrame, names: Mapping[str, str]) -> list[Line]:
    """Dataset `offre-logements`: `detail` = `observatoire.indicators.offer.offer_by` by
    (`commune_insee`, `typologie`, `financement`), `total` = the same with `by=()`."""
    lines = []
    for row in detail.itertuples(index=False):
        insee = str(row.commune_insee)
        lines.append(
            Line(
                {
                    "niveau": "detail",
                    "code_insee": insee,
                    "commune": names.get(insee, ""),
                    "typologie": str(row.typologie) or "non précisée",
                    "financement": str(row.financement) or "non précisé",
                    "logements": int(row.dwellings),
                    "logements_en_qpv": int(row.in_qpv),
                }
            )
        )
    dwellings = int(total["dwellings"].iloc[0]) if len(total) else 0
    in_qpv = int(total["in_qpv"].iloc[0]) if len(total) else 0
    lines.append(
        Line(
            {
                "niveau": "ensemble",
                "code_insee": "",
                "commune": "Ensemble du territoire",
                "typologie": "",
                "financement": "",
                "logements": dwellings,
                "logements_en_qpv": in_qpv,
            }
        )
    )
    return lines
