"""The open-data tables, protected by statistical secrecy (domain.md §4, §5). Pure pandas,
no Django: `observatoire.opendata.data` loads the inputs.

Every count published about the same households goes into ONE set of cells with the
relations a reader knows between them (a « book »): the attributions of a year by commune
and by QPV, and the conference's totals that the yearly indicators and the segregation
indices publish (this module); the active demands by commune and typology
(`tables_demand`, which also reads the pressure from both books). Each book is protected as a
whole by `suppress_linked` — as if every dataset built on it were published, so that any
choice of datasets is safe — and each dataset reads its lines from the book:

- a count is shown as the book holds it, or hidden (None, flagged secret);
- a rate (share, pressure) is shown only when its numerator and its denominator are both
  shown counts: a rate built on a hidden count is hidden too, and a shown rate tells
  nothing that the shown counts do not;
- every complement a reader can compute (hors QPV minus its Q1 households, all
  attributions minus DALO ones…) is a cell of the book, so primary suppression covers it.

The segregation indices are not counts: they are computed on units (each QPV, each
commune's part outside QPV) in which every count of Q1 and of other households is 0 or at
least the threshold — smaller units are grouped (`grouped_units`) — so that no household
count under the threshold enters them.

Limits: the tables follow the data (a corrected attribution changes the published year),
so two successive downloads may differ by fewer than 11 households; successive
publications are not protected against each other (`suppress_linked`'s limits).
"""

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import pandas as pd

from attributions.indicators import bilan
from attributions.indicators.secrecy import TOTAL
from observatoire.indicators import segregation
from observatoire.opendata.book import INDEX_DIGITS, RATE_DIGITS, Book, Line, protect

NO_QPV_CODE = ""  # attributions in QPV without a QPV code (none when the data are valid)


# --- Attributions of a year -----------------------------------------------------------------

# Frame of `attribution_book`: the attributions of one year counted by these columns (`n`).
ATTRIBUTION_GROUPS = (
    "commune_insee",
    "qpv_code",
    "in_qpv",
    "is_q1",
    "income_known",
    "dalo",
    "prioritaire",
    "relogement_npnru",
    "mutation",
    "reservataire",
)
# Per commune and per QPV: (total, parts) relations between the counts of a row.
COMMUNE_ROW = (
    ("attributions", ("hors_qpv", "en_qpv")),
    # CCH L.441-1 (R1): outside QPV, Q1 or NPNRU-rehoused households, and the others.
    ("hors_qpv", ("r1", "hors_qpv_autres")),
    # CCH L.441-1 (R2): in QPV, households other than Q1 (income known), and the others.
    ("en_qpv", ("r2", "en_qpv_autres")),
    ("attributions", ("dalo", "non_dalo")),
)
QPV_ROW = (
    ("attributions", ("r2", "autres")),
    ("attributions", ("dalo", "non_dalo")),
)
# The conference's totals also published by the yearly indicators and the indices.
TOTAL_ROW = (
    ("attributions", ("prioritaires", "non_prioritaires")),
    ("attributions", ("mutations", "non_mutations")),
    # Income known: Q1 or not; unknown (« non classable »).
    ("attributions", ("q1", "hors_q1", "revenu_inconnu")),
)


def _columns(rows: Sequence[tuple[str, Sequence[str]]]) -> list[str]:
    names: list[str] = []
    for total, parts in rows:
        for name in (total, *parts):
            if name not in names:
                names.append(name)
    return names


def attribution_counts(groups: pd.DataFrame) -> pd.DataFrame:
    """The counts of each group of `groups` (columns ATTRIBUTION_GROUPS and `n`), with the
    bilan's own definitions (`attributions.indicators.bilan.flags`)."""
    weights = groups["n"].astype("int64").to_numpy()
    flags = bilan.flags(groups.assign(reservataire=groups["reservataire"].astype(str)))
    is_q1 = groups["is_q1"].astype("boolean")
    counts = pd.DataFrame(
        {
            "commune_insee": groups["commune_insee"].astype(str).to_numpy(),
            "qpv_code": groups["qpv_code"].fillna(NO_QPV_CODE).astype(str).to_numpy(),
            "attributions": flags["attributions"].to_numpy(),
            "hors_qpv": flags["hors_qpv"].to_numpy(),
            "en_qpv": flags["en_qpv"].to_numpy(),
            "r1": flags["r1_num"].to_numpy(),
            "r2": flags["r2_num"].to_numpy(),
            "dalo": flags["dalo"].to_numpy(),
            "prioritaires": flags["prioritaires"].to_numpy(),
            "mutations": flags["mutations"].to_numpy(),
            "q1": is_q1.fillna(False).astype(bool).to_numpy(),
            "hors_q1": (~is_q1).fillna(False).astype(bool).to_numpy(),
            "revenu_inconnu": is_q1.isna().to_numpy(),
        }
    )
    for name in counts.columns[2:]:
        counts[name] = counts[name].astype("int64") * weights
    counts["hors_qpv_autres"] = counts["hors_qpv"] - counts["r1"]
    counts["en_qpv_autres"] = counts["en_qpv"] - counts["r2"]
    counts["autres"] = counts["en_qpv_autres"]
    counts["non_dalo"] = counts["attributions"] - counts["dalo"]
    counts["non_prioritaires"] = counts["attributions"] - counts["prioritaires"]
    counts["non_mutations"] = counts["attributions"] - counts["mutations"]
    return counts


def attribution_book(
    groups: pd.DataFrame,
    *,
    communes: Sequence[str],
    qpv_communes: Mapping[str, Sequence[str]],
    threshold: int,
) -> Book:
    """The book of a year's attributions (`attribution_cells`), protected."""
    cells, equations, balances = attribution_cells(
        groups, communes=communes, qpv_communes=qpv_communes
    )
    return protect(cells, equations, balances, threshold=threshold)


def attribution_cells(
    groups: pd.DataFrame,
    *,
    communes: Sequence[str],
    qpv_communes: Mapping[str, Sequence[str]],
) -> tuple[dict[Hashable, int], list, list]:
    """The cells of a year's attributions and the relations a reader knows between them:
    `("commune", insee | TOTAL, column)` for COMMUNE_ROW's columns (TOTAL also
    TOTAL_ROW's) and `("qpv", code | TOTAL, column)` for QPV_ROW's; every territory commune
    and every QPV of `qpv_communes` (code → INSEE codes of the communes it spans) is
    listed, with zeros when it has no attribution. Returns (cells, equations, balances)."""
    counts = attribution_counts(groups)
    commune_columns = _columns(COMMUNE_ROW)
    qpv_columns = _columns(QPV_ROW)
    total_columns = _columns(TOTAL_ROW)
    rows = sorted(set(communes) | set(counts["commune_insee"]))
    in_qpv = counts[counts["en_qpv"] > 0]
    qpvs = sorted(set(qpv_communes) | set(in_qpv["qpv_code"]))
    by_commune = counts.groupby("commune_insee")[commune_columns].sum().reindex(rows, fill_value=0)
    by_qpv = in_qpv.groupby("qpv_code")[qpv_columns].sum().reindex(qpvs, fill_value=0)
    extra_columns = [column for column in total_columns if column not in commune_columns]
    totals = counts[[*commune_columns, *extra_columns]].sum()

    cells: dict[Hashable, int] = {}
    equations: list[tuple[Hashable, list[Hashable]]] = []
    for insee in rows:
        for column in commune_columns:
            cells[("commune", insee, column)] = int(by_commune.at[insee, column])
    for code in qpvs:
        for column in qpv_columns:
            cells[("qpv", code, column)] = int(by_qpv.at[code, column])
    for column in [*commune_columns, *extra_columns]:
        cells[("commune", TOTAL, column)] = int(totals[column])
    for column in qpv_columns:
        cells[("qpv", TOTAL, column)] = int(by_qpv[column].sum())

    for name, row_relations, keys in (
        ("commune", COMMUNE_ROW, [*rows, TOTAL]),
        ("qpv", QPV_ROW, [*qpvs, TOTAL]),
        ("commune", TOTAL_ROW, [TOTAL]),
    ):
        for key in keys:
            for total, parts in row_relations:
                equations.append(((name, key, total), [(name, key, part) for part in parts]))
    for column in commune_columns:
        equations.append((("commune", TOTAL, column), [("commune", c, column) for c in rows]))
    for column in qpv_columns:
        equations.append((("qpv", TOTAL, column), [("qpv", q, column) for q in qpvs]))
    # The QPV table's totals are the communes' « en QPV » counts.
    for qpv_column, commune_column in (
        ("attributions", "en_qpv"),
        ("r2", "r2"),
        ("autres", "en_qpv_autres"),
    ):
        equations.append((("commune", TOTAL, commune_column), [("qpv", TOTAL, qpv_column)]))
    balances = []
    for communes_of_zone, qpvs_of_zone in zones(qpv_communes, rows):
        for qpv_column, commune_column in (
            ("attributions", "en_qpv"),
            ("r2", "r2"),
            ("autres", "en_qpv_autres"),
        ):
            balances.append(
                (
                    [("commune", c, commune_column) for c in communes_of_zone],
                    [("qpv", q, qpv_column) for q in qpvs_of_zone],
                )
            )
    return cells, equations, balances


def zones(
    qpv_communes: Mapping[str, Sequence[str]], communes: Sequence[str]
) -> list[tuple[list[str], list[str]]]:
    """Groups of communes joined by the QPV they share, with those QPV: within a group, the
    attributions in QPV of the communes are those of the QPV (a reader knows which communes
    a QPV spans). Communes without QPV are left out (their « en QPV » count is 0)."""
    parent = {insee: insee for insee in communes}

    def root(insee: str) -> str:
        while parent[insee] != insee:
            parent[insee] = parent[parent[insee]]
            insee = parent[insee]
        return insee

    spans = {
        code: [c for c in sorted(spanned) if c in parent]
        for code, spanned in qpv_communes.items()
        if code != NO_QPV_CODE
    }
    for spanned in spans.values():
        for insee in spanned[1:]:
            parent[root(insee)] = root(spanned[0])
    groups: dict[str, tuple[list[str], list[str]]] = {}
    for code, spanned in sorted(spans.items()):
        if spanned:
            groups.setdefault(root(spanned[0]), ([], []))[1].append(code)
    for insee in communes:
        if root(insee) in groups:
            groups[root(insee)][0].append(insee)
    return list(groups.values())


def commune_lines(book: Book, names: Mapping[str, str]) -> list[Line]:
    """Dataset `attributions-communes`: one line per commune, then the territory."""
    lines = []
    keys = sorted({key[1] for key in book.cells if key[0] == "commune" and key[1] != TOTAL})
    for insee in [*keys, TOTAL]:
        total = insee == TOTAL
        line = Line(
            {
                "niveau": "ensemble" if total else "commune",
                "code_insee": "" if total else insee,
                "commune": "Ensemble du territoire" if total else names.get(insee, ""),
            }
        )
        row = ("commune", insee)
        line.count("attributions", book, (*row, "attributions"))
        line.count("attributions_hors_qpv", book, (*row, "hors_qpv"))
        line.count("attributions_en_qpv", book, (*row, "en_qpv"))
        line.ratio("part_q1_hors_qpv", book, (*row, "r1"), (*row, "hors_qpv"))
        line.ratio("part_hors_q1_en_qpv", book, (*row, "r2"), (*row, "en_qpv"))
        line.ratio("part_dalo", book, (*row, "dalo"), (*row, "attributions"))
        lines.append(line)
    return lines


def qpv_lines(book: Book, qpvs: Mapping[str, tuple[str, Sequence[str]]]) -> list[Line]:
    """Dataset `attributions-qpv`: one line per QPV (code → (name, communes)), then all QPV."""
    lines = []
    keys = sorted({key[1] for key in book.cells if key[0] == "qpv" and key[1] != TOTAL})
    for code in [*keys, TOTAL]:
        total = code == TOTAL
        name, communes = qpvs.get(code, ("QPV non précisé" if code == NO_QPV_CODE else "", ()))
        line = Line(
            {
                "niveau": "ensemble" if total else "qpv",
                "code_qpv": "" if total else code,
                "qpv": "Ensemble des QPV" if total else name,
                "communes": "" if total else " ".join(sorted(communes)),
            }
        )
        row = ("qpv", code)
        line.count("attributions", book, (*row, "attributions"))
        line.ratio("part_hors_q1", book, (*row, "r2"), (*row, "attributions"))
        line.ratio("part_dalo", book, (*row, "dalo"), (*row, "attributions"))
        lines.append(line)
    return lines


# (code, label, numerator, denominator, target key) of the yearly indicators.
INDICATORS = (
    ("r1", "Attributions hors QPV aux ménages du 1er quartile ou relogés NPNRU", "r1", "hors_qpv"),
    ("r2", "Attributions en QPV aux ménages hors 1er quartile", "r2", "en_qpv"),
    (
        "r3",
        "Attributions aux ménages DALO ou prioritaires (tous contingents)",
        "prioritaires",
        "attributions",
    ),
    ("dalo", "Attributions aux ménages DALO", "dalo", "attributions"),
    (
        "mutations",
        "Mutations (ménages déjà locataires du parc social)",
        "mutations",
        "attributions",
    ),
)


def indicator_lines(book: Book, targets: Mapping[str, Any]) -> list[Line]:
    """Dataset `indicateurs-attributions`: the conference's rates of the year (R1 to R3,
    DALO, mutations) with their counts and the target in force (None without one)."""
    lines = []
    for code, label, numerator, denominator in INDICATORS:
        target = targets.get(code)
        line = Line(
            {
                "indicateur": code,
                "libelle": label,
                "cible": None if target is None else round(float(target), RATE_DIGITS),
            }
        )
        num, den = ("commune", TOTAL, numerator), ("commune", TOTAL, denominator)
        line.count("numerateur", book, num)
        line.count("denominateur", book, den)
        line.ratio("taux", book, num, den)
        lines.append(line)
    # Keep the contract's column order.
    order = ("indicateur", "libelle", "numerateur", "denominateur", "taux", "cible")
    for line in lines:
        line.values = {key: line.values[key] for key in order}
    return lines


# --- Segregation indices -------------------------------------------------------------------------


def grouped_units(units: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Units (columns `unit`, `q1`, `other`) where every count is 0 or ≥ threshold: the
    units holding a count of 1 … threshold − 1 are grouped into one unit « autres
    unités »; while that group itself holds such a count, the smallest remaining unit joins
    it. The result may be a single unit (then no index is meaningful)."""

    def small(q1: int, other: int) -> bool:
        return 0 < q1 < threshold or 0 < other < threshold

    kept = {
        row.unit: (int(row.q1), int(row.other))
        for row in units.itertuples(index=False)
        if int(row.q1) + int(row.other) > 0
    }
    grouped = [unit for unit, counts in kept.items() if small(*counts)]
    rest = [unit for unit in kept if unit not in grouped]
    while grouped:
        q1 = sum(kept[u][0] for u in grouped)
        other = sum(kept[u][1] for u in grouped)
        if not small(q1, other) or not rest:
            break
        rest.sort(key=lambda u: (sum(kept[u]), u))
        grouped.append(rest.pop(0))
    rows = [{"unit": u, "q1": kept[u][0], "other": kept[u][1]} for u in sorted(rest)]
    if grouped:
        rows.append(
            {
                "unit": "autres unités",
                "q1": sum(kept[u][0] for u in grouped),
                "other": sum(kept[u][1] for u in grouped),
            }
        )
    return pd.DataFrame(rows, columns=["unit", "q1", "other"])


def index_lines(book: Book, attributions: pd.DataFrame, *, threshold: int) -> list[Line]:
    """Dataset `indices-segregation`: one line, the year's dissimilarity and Theil indices
    of Q1 households between units (`observatoire.indicators.segregation`), computed on
    `grouped_units`. `attributions`: one row per attribution of the year (`commune_insee`,
    `in_qpv`, `qpv_code`, `is_q1`)."""
    units = grouped_units(segregation.segregation_units(attributions), threshold)
    line = Line({"unites": len(units)})
    q1, other = ("commune", TOTAL, "q1"), ("commune", TOTAL, "hors_q1")
    line.count("menages_q1", book, q1)
    line.count("menages_hors_q1", book, other)
    hidden = book.secret(q1) or book.secret(other)
    indices = segregation.indices_by(units, ()) if len(units) >= 2 else None
    for column, source in (("indice_dissimilarite", "dissimilarity"), ("indice_theil", "theil")):
        value = None if indices is None or indices.empty else indices[source].iloc[0]
        if hidden:
            line.values[column] = None
            line.secret.add(column)
        else:
            line.values[column] = (
                None if value is None or pd.isna(value) else round(float(value), INDEX_DIGITS)
            )
    return [line]
