"""Importing the RPLS open-data file: columns found by name, the rest of the country ignored
without error, financing codes mapped through the one table, every error of the conference's
lines reported, idempotent re-import, the file as the stock of each commune it contains."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cil.models import AccessLogEntry
from cil.tenancy import conference_scope
from observatoire.contracts import financement
from observatoire.models import Dwelling
from tests.observatoire.test_import_support import (
    csv_bytes,
    dwelling,
    imported,
    last_job,
    make_place,
    upload,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def place(db):
    return make_place()


def _stored(place, millesime=2025) -> dict[str, Dwelling]:
    with conference_scope(place.conference):
        return {d.rpls_id: d for d in Dwelling.objects.filter(millesime=millesime)}


def _rpls(rows, **options) -> bytes:
    return csv_bytes(rows, sep=";", bom=True, **options)


def test_lines_of_other_departements_are_ignored_without_error_and_counted(client, place):
    rows = [
        dwelling("0000000001", "76540", QPV="1", NBPIECE="4", FINAN="10"),
        dwelling("0000000002", "76541", NBPIECE="7", FINAN="52", DPEENERGIE="", LOYERPRINC="9999"),
        # The rest of the country: other départements, and even broken lines, are not read.
        dwelling("0000000003", "27229", NBPIECE="beaucoup"),
        dwelling("0000000004", "14118", QPV="?"),
        dwelling("0000000005", "75112"),
    ]
    job = imported(client, place, "rpls", "rpls2025.csv", _rpls(rows), year=2025)

    counts = job.counts
    assert (counts["lines"], counts["ignored"], counts["create"]) == (2, 3, 2)
    assert counts["communes"] == ["76540", "76541"]
    stored = _stored(place)
    assert set(stored) == {"0000000001", "0000000002"}
    first, second = stored["0000000001"], stored["0000000002"]
    assert (first.commune_insee, first.in_qpv, first.nb_pieces, first.typologie) == (
        "76540",
        True,
        4,
        "T4",
    )
    assert (first.financement, first.financement_code) == ("PLAI", "10")
    assert first.surface == Decimal("65.00")
    assert first.loyer == Decimal("412.35")
    assert (first.annee_construction, first.dpe_energie) == (1972, "D")
    assert (second.in_qpv, second.typologie) == (False, "T6+")
    assert (second.financement, second.financement_code) == ("PLUS", "52")  # HLM/O
    assert second.loyer is None  # 9999: "sans objet" in the RPLS format
    assert second.dpe_energie == ""
    page = client.get(f"/{place.slug}/observatoire/imports/{job.public_id}/").content.decode()
    assert "3 lignes d'autres communes ignorées" in page


def test_red_variants_arrondissements_and_latin1_files_are_read(client, place):
    """2017–2018 files: `_red` columns, ISO-8859-1; Paris's arrondissements count for
    Paris when the conference has Paris (its commune, 75056)."""
    with conference_scope(place.conference):
        place.conference.communes.create(insee="75056", name="Paris")
    rows = [
        {
            "IDENT_REP": "0000000011",
            "DEPCOM_red": "75112",
            "LIBCOM": "Paris 12e Arrondissement",
            "QPV_red": "1",
            "nbpiece_red": "2",
            "surfhab_red": "48,5",
            "construct_red": "1931",
            "finan_red": "13",
            "loyerprinc_red": "350",
            "DPEENERGIE_red": "E",
        },
        {
            "IDENT_REP": "0000000012",
            "DEPCOM_red": "76540",
            "LIBCOM": "Exempleville (Vallée d'Émeraude)",
            "QPV_red": "2",
            "nbpiece_red": "1",
            "surfhab_red": "30",
            "construct_red": "2012",
            "finan_red": "14",
            "loyerprinc_red": "",
            "DPEENERGIE_red": "B",
        },
    ]
    content = csv_bytes(rows, sep=";", encoding="latin-1")
    assert "\xc9meraude".encode("latin-1") in content
    job = imported(client, place, "rpls", "rpls2018_detail_normandie.csv", content, year=2018)

    stored = _stored(place, 2018)
    paris = stored["0000000011"]
    assert (paris.commune_insee, paris.in_qpv, paris.typologie, paris.financement) == (
        "75056",
        True,
        "T2",
        "PLUS",
    )
    assert paris.surface == Decimal("48.50")
    assert stored["0000000012"].financement == "PLS"
    assert job.counts["columns"]["commune"] == "DEPCOM_red"


def test_unknown_financing_codes_go_to_autre_keep_their_code_and_are_counted(client, place):
    rows = [
        dwelling("0000000021", FINAN="77"),
        dwelling("0000000022", FINAN="77"),
        dwelling("0000000023", FINAN="", finan_cus="PLS"),
        dwelling("0000000024", FINAN="", finan_cus=""),
        dwelling("0000000025", FINAN="16"),
    ]
    job = imported(client, place, "rpls", "rpls.csv", _rpls(rows), year=2025)

    assert job.counts["financement_unknown"] == 2
    assert job.counts["financement_unknown_codes"] == ["77"]
    assert job.counts["financement_absent"] == 1
    stored = _stored(place)
    assert (stored["0000000021"].financement, stored["0000000021"].financement_code) == (
        "autre",
        "77",
    )
    assert stored["0000000023"].financement == "PLS"  # the CUS group when FINAN is blank
    assert stored["0000000024"].financement == "autre"
    assert stored["0000000025"].financement == "PLI"
    page = client.get(f"/{place.slug}/observatoire/imports/{job.public_id}/").content.decode()
    assert "2 logements au code de financement inconnu (77)" in page


def test_the_mapping_table_is_the_one_documented():
    """docs/formats-rpls.md shows the table of observatoire/contracts/financement.py."""
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "formats-rpls.md").read_text()
    for row in financement.FINAN_CODES:
        assert f"| `{row.code}` | {row.label} | {row.group} |" in doc


def test_a_bad_file_lists_every_error_of_the_conference_lines_and_writes_nothing(client, place):
    rows = [
        dwelling("0000000031"),  # line 2: valid
        dwelling("0000000032", QPV="peut-être", NBPIECE="0"),  # line 3
        dwelling("0000000031"),  # line 4: IDENT_REP twice
        dwelling("", SURFHAB="grand", LOYERPRINC="-3"),  # line 5
        dwelling("0000000035", CONSTRUCT="72", DPEENERGIE="H"),  # line 6
        dwelling("0000000036", "27229", NBPIECE="0"),  # line 7: another département, ignored
    ]
    response = upload(client, place, "rpls", "rpls.csv", _rpls(rows), year=2025)
    assert response.status_code == 302
    job = last_job(place)
    assert job.status == "invalid"
    found = [(e["line"], e["column"], e["value"]) for e in job.errors]
    assert found == [
        (3, "QPV", "peut-être"),
        (3, "NBPIECE", "0"),
        (4, "IDENT_REP", "0000000031"),
        (5, "IDENT_REP", ""),
        (5, "SURFHAB", "grand"),
        (5, "LOYERPRINC", "-3"),
        (6, "CONSTRUCT", "72"),
        (6, "DPEENERGIE", "H"),
    ]
    assert job.errors[2]["message"] == "Identifiant RPLS en double : lignes 2 et 4 du fichier."
    assert client.get(response.url).status_code == 200
    with conference_scope(place.conference):
        assert not Dwelling.objects.exists()
        # Dwellings are no household's data: showing their errors is not a journaled read.
        assert not AccessLogEntry.objects.exists()


def test_a_file_without_the_indispensable_columns_is_refused(client, place):
    rows = [{"IDENT_REP": "1", "NBPIECE": "3", "FINAN": "13"}]
    response = upload(client, place, "rpls", "rpls.csv", _rpls(rows), year=2025)
    assert response.status_code == 200
    assert "Colonnes indispensables absentes : DEPCOM, QPV." in response.content.decode()


def test_a_file_without_any_line_of_the_conference_is_refused(client, place):
    rows = [dwelling("1", "27229"), dwelling("2", "14118")]
    upload(client, place, "rpls", "rpls.csv", _rpls(rows), year=2025)
    job = last_job(place)
    assert job.status == "invalid"
    assert (
        "Aucune ligne du fichier ne concerne une commune de la conférence (2 lignes"
        in (job.errors[0]["message"])
    )


def test_the_millesime_is_required(client, place):
    response = upload(client, place, "rpls", "rpls.csv", _rpls([dwelling("1")]))
    assert response.status_code == 200
    assert "Indiquez le millésime du fichier RPLS." in response.content.decode()


def test_reimport_is_idempotent_and_the_file_is_the_stock_of_its_communes(client, place):
    rows = [
        dwelling("0000000041", "76540"),
        dwelling("0000000042", "76540"),
        dwelling("0000000043", "76541"),
    ]
    first = imported(client, place, "rpls", "rpls.csv", _rpls(rows), year=2025)
    assert first.counts["create"] == 3

    with CaptureQueriesContext(connection) as queries:
        again = imported(client, place, "rpls", "rpls.csv", _rpls(rows), year=2025)
    assert (again.counts["create"], again.counts["update"], again.counts["unchanged"]) == (0, 0, 3)
    assert again.counts["delete"] == 0
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith(("INSERT", "UPDATE", "DELETE"))
        and "observatoire_dwelling" in q["sql"]
    ]
    assert writes == []  # nothing written for unchanged dwellings

    # A file of 76540 only: 0000000042 was sold (deleted), 0000000041 renovated (DPE B);
    # 76541, absent from the file, is left as it is.
    later = [dwelling("0000000041", "76540", DPEENERGIE="B")]
    third = imported(client, place, "rpls", "rpls-76540.csv", _rpls(later), year=2025)
    assert (third.counts["update"], third.counts["delete"]) == (1, 1)
    stored = _stored(place)
    assert set(stored) == {"0000000041", "0000000043"}
    assert stored["0000000041"].dpe_energie == "B"

    # Another millésime is another stock.
    imported(client, place, "rpls", "rpls2026.csv", _rpls(rows), year=2026)
    assert len(_stored(place, 2026)) == 3
    assert len(_stored(place, 2025)) == 2
