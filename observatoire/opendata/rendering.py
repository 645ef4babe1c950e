"""The public files of a dataset: CSV and JSON of a year's table, and its data dictionary.

CSV: separator `;`, UTF-8 with a byte-order mark, lines ended by CRLF, first line the
column keys (as in the dictionary), decimal comma — the file opens as is in a French
spreadsheet, like the platform's other exports; programs read the JSON, whose numbers are
numbers. A value hidden by statistical secrecy is « s » in the CSV, null in the JSON with
its column listed in the line's `secret`; an undefined value (a share over no attribution)
is empty / null and not listed. Text starting like a formula is neutralised
(`attributions.exports.neutralise`).
"""

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from attributions.exports import neutralise
from attributions.indicators.secrecy import HIDDEN_MARKER
from observatoire.opendata.book import Line
from observatoire.opendata.catalogue import Column, Dataset

LICENCE = {
    "nom": "Licence Ouverte / Open Licence version 2.0",
    "identifiant": "etalab-2.0",
    "url": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
}
DICTIONARY_KEYS = ("nom", "libelle", "type", "unite", "description", "secret_statistique")


def dictionary(dataset: Dataset) -> list[dict[str, Any]]:
    return [_entry(column) for column in dataset.columns]


def _entry(column: Column) -> dict[str, Any]:
    return {
        "nom": column.key,
        "libelle": column.label,
        "type": column.type,
        "unite": column.unit,
        "description": column.description,
        "secret_statistique": column.secret,
    }


def json_lines(lines: Iterable[Line]) -> list[dict[str, Any]]:
    return [{**line.values, "secret": sorted(line.secret)} for line in lines]


def json_document(
    dataset: Dataset,
    *,
    conference,
    year: int,
    lines: Sequence[Line],
    published_at: datetime,
    threshold: int,
) -> dict[str, Any]:
    return {
        "dataset": dataset.key,
        "titre": dataset.title,
        "description": dataset.description,
        "conference": conference.slug,
        "producteur": conference.name,
        "annee": year,
        "annee_signification": dataset.year_label,
        "publie_le": published_at.isoformat(),
        "licence": LICENCE,
        "secret_statistique": secrecy_note(dataset, threshold),
        "dictionnaire": dictionary(dataset),
        "lignes": json_lines(lines),
    }


def secrecy_note(dataset: Dataset, threshold: int) -> dict[str, Any]:
    return {
        "seuil_menages": threshold,
        "colonnes": list(dataset.secret_columns),
        "regle": (
            f"Aucun effectif de 1 à {threshold - 1} ménages n'est publié, ni recalculable à "
            "partir des totaux et des autres tableaux publiés (secret secondaire) ; un taux "
            "calculé sur un effectif masqué est masqué."
        ),
    }


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_csv_value(value) for value in row])
    return "\ufeff" + buffer.getvalue()


def _csv_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float):
        return repr(value).replace(".", ",")
    return neutralise(value)


def table_csv(dataset: Dataset, lines: Iterable[Line]) -> str:
    keys = [column.key for column in dataset.columns]
    rows = (
        [HIDDEN_MARKER if key in line.secret else line.values.get(key) for key in keys]
        for line in lines
    )
    return csv_text(keys, rows)


def dictionary_csv(dataset: Dataset) -> str:
    return csv_text(
        DICTIONARY_KEYS, ([entry[key] for key in DICTIONARY_KEYS] for entry in dictionary(dataset))
    )


def preview_rows(dataset: Dataset, lines: Iterable[Line]) -> list[list[str]]:
    """The table as the HTML pages show it (French number formats, « s » for a secret)."""
    return [[_display(line, column) for column in dataset.columns] for line in lines]


def _display(line: Line, column: Column) -> str:
    if column.key in line.secret:
        return HIDDEN_MARKER
    value = line.values.get(column.key)
    if value is None:
        return "—"
    if isinstance(value, float):
        if column.unit.startswith("part"):
            return f"{value * 100:.1f} %".replace(".", ",")
        return str(value).replace(".", ",")
    if isinstance(value, int):
        return f"{value:,}".replace(",", "\u202f")
    return str(value)
