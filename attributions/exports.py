"""Table exports to CSV and XLSX, with spreadsheet formula injection neutralised.

A cell whose text starts with =, +, -, @, a tab or a carriage return would be run as a formula
by a spreadsheet (OWASP "CSV injection"): such text is prefixed with an apostrophe. Numbers
stay numbers.
"""

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.http import HttpResponse
from openpyxl import Workbook

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def neutralise(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, int | float | Decimal):
        return value
    text = str(value)
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def _filename(name: str, extension: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in name)
    return f"{safe}.{extension}"


def csv_response(name: str, header: Sequence[str], rows: Iterable[Sequence]) -> HttpResponse:
    """CSV as French spreadsheets open it: `;`, UTF-8 with BOM, decimal comma."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in header])
    for row in rows:
        writer.writerow([_csv_cell(neutralise(v)) for v in row])
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(name, "csv")}"'
    return response


def _csv_cell(value):
    if isinstance(value, float | Decimal):
        return str(value).replace(".", ",")
    return value


def xlsx_response(
    name: str, header: Sequence[str], rows: Iterable[Sequence], *, sheet: str = "Données"
) -> HttpResponse:
    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(sheet[:31])
    worksheet.append([neutralise(h) for h in header])
    for row in rows:
        worksheet.append([_xlsx_cell(neutralise(v)) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{_filename(name, "xlsx")}"'
    return response


def _xlsx_cell(value):
    return float(value) if isinstance(value, Decimal) else value
