import io
from decimal import Decimal

from openpyxl import load_workbook

from attributions.charts import Bar, rate_bars, trend_lines
from attributions.exports import csv_response, neutralise, xlsx_response

HOSTILE = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]


def test_formula_triggers_are_neutralised_numbers_are_not():
    for text in HOSTILE:
        assert neutralise(text) == "'" + text
    assert neutralise(-3) == -3
    assert neutralise(Decimal("0.25")) == Decimal("0.25")
    assert neutralise("Habitat 76") == "Habitat 76"
    assert neutralise(None) == ""
    assert neutralise(True) == "oui"


def test_csv_export_is_french_and_safe():
    response = csv_response("bilan 2025", ["Bailleur", "Taux"], [["=cmd|' /C calc'!A0", 0.2512]])
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeffBailleur;Taux\r\n")
    assert "'=cmd|' /C calc'!A0;0,2512" in body
    assert response["Content-Disposition"] == 'attachment; filename="bilan-2025.csv"'


def test_xlsx_export_keeps_numbers_and_neutralises_text():
    response = xlsx_response("bilan", ["Bailleur", "Taux"], [["@SUM(A1)", Decimal("0.25")]])
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows == [("Bailleur", "Taux"), ("'@SUM(A1)", 0.25)]


def test_charts_escape_labels_and_carry_a_title():
    svg = rate_bars([Bar("<script>alert(1)</script>", 0.3, 0.25)], title="Taux R1 & cible")
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert ">Taux R1 &amp; cible</title>" in svg
    other = rate_bars([Bar("x", 0.1, 0.25)], title="Autre")
    assert svg.split('<title id="')[1].split('"')[0] != other.split('<title id="')[1].split('"')[0]
    assert "style=" not in svg  # the CSP forbids inline styles
    trend = trend_lines([2024, 2025, 2026], {"R1": [0.2, None, 0.3]}, target=0.25, title="Tendance")
    assert "polyline" not in trend  # a missing year breaks the line: no segment of 2 points
    assert trend.count("<circle") == 2
