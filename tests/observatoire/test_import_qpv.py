"""Importing the ANCT list of the QPV for a year: the conference's QPV created or updated
through the territory's writer, multi-commune QPV, the rest of the country ignored."""

import pytest

from cil.models import AuditAction, AuditEntry, Qpv
from cil.signals import conference_structure_changed
from cil.tenancy import conference_scope
from tests.observatoire.test_import_support import (
    csv_bytes,
    imported,
    last_job,
    make_place,
    upload,
    xlsx_bytes,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def place(db):
    return make_place()


def _line(code, name, communes, dep="76"):
    return {
        "code_qp": code,
        "lib_qp": name,
        "insee_reg": "28",
        "lib_reg": "Normandie",
        "insee_dep": dep,
        "lib_dep": "Seine-Maritime",
        "insee_com": communes,
        "lib_com": "…",
        "siren_epci": "200000008",
        "lib_epci": "Agglo",
    }


def _qpvs(place) -> dict[str, dict]:
    with conference_scope(place.conference):
        return {
            q.code: {
                "name": q.name,
                "communes": sorted(c.insee for c in q.communes.all()),
                "years": sorted(y.year for y in q.years.all()),
            }
            for q in Qpv.objects.prefetch_related("communes", "years")
        }


def test_a_multi_commune_qpv_is_linked_to_the_conference_communes_only(
    client, place, django_capture_on_commit_callbacks
):
    rows = [
        # Over two communes of the conference, listed in one cell as the ANCT does.
        _line("QN07602M", "Les Coteaux", "76540; 76541"),
        # Over a commune of the conference and one outside it.
        _line("QN07603N", "Le Val", "76541; 27229"),
        # The conference's existing QPV, now listed for 2026.
        _line("QN07601M", "Quartier des Tilleuls", "76540"),
        # The rest of the country: ignored, even a broken code.
        _line("QN00201M", "Ailleurs", "02571; 02691", dep="02"),
        _line("QNXXXX", "Cassé", "27229", dep="27"),
    ]
    seen = []

    def listener(sender, conference_id, **kwargs):
        seen.append(conference_id)

    conference_structure_changed.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            job = imported(client, place, "qpv", "listeqp2026.csv", csv_bytes(rows), year=2026)
    finally:
        conference_structure_changed.disconnect(listener)

    assert (job.counts["create"], job.counts["update"], job.counts["ignored"]) == (2, 1, 2)
    assert _qpvs(place) == {
        "QN07601M": {
            "name": "Quartier des Tilleuls",
            "communes": ["76540"],
            "years": [2024, 2025, 2026],
        },
        "QN07602M": {"name": "Les Coteaux", "communes": ["76540", "76541"], "years": [2026]},
        "QN07603N": {"name": "Le Val", "communes": ["76541"], "years": [2026]},
    }
    assert seen == [place.conference.pk]  # the stored bilans are invalidated
    with conference_scope(place.conference):
        # The territory's writer audits each QPV created or changed, the import its job.
        assert AuditEntry.objects.filter(object_type="cil.qpv").count() == 3
        assert AuditEntry.objects.filter(action=AuditAction.IMPORT).count() == 1


def test_one_line_per_commune_reads_like_one_cell_and_import_is_idempotent(client, place):
    rows = [
        _line("QN07602M", "Les Coteaux", "76540"),
        _line("QN07602M", "Les Coteaux", "76541"),
    ]
    first = imported(client, place, "qpv", "liste.csv", csv_bytes(rows), year=2025)
    assert first.counts["create"] == 1
    assert _qpvs(place)["QN07602M"]["communes"] == ["76540", "76541"]
    with conference_scope(place.conference):
        entries = AuditEntry.objects.exclude(action=AuditAction.IMPORT).count()

    again = imported(client, place, "qpv", "liste.csv", csv_bytes(rows), year=2025)
    assert (again.counts["create"], again.counts["update"], again.counts["unchanged"]) == (0, 0, 1)
    with conference_scope(place.conference):
        assert AuditEntry.objects.exclude(action=AuditAction.IMPORT).count() == entries


def test_qpv_absent_from_the_list_keep_their_years_and_are_reported(client, place):
    rows = [_line("QN07602M", "Les Coteaux", "76540")]
    job = imported(
        client,
        place,
        "qpv",
        "liste.xlsx",
        xlsx_bytes(list(rows[0]), [list(rows[0].values())]),
        year=2025,
    )
    assert job.counts["absent"] == ["QN07601M"]
    assert _qpvs(place)["QN07601M"]["years"] == [2024, 2025]
    page = client.get(f"/{place.slug}/observatoire/imports/{job.public_id}/").content.decode()
    assert "absents de cette liste, conservés tels quels : QN07601M" in page


def test_errors_of_the_conference_lines_are_reported_and_nothing_written(client, place):
    rows = [
        _line("QN07602M", "Les Coteaux", "76540"),  # line 2: valid
        _line("QX123", "Code faux", "76540"),  # line 3
        _line("QN07604M", "", "76541; 7654"),  # line 4
    ]
    upload(client, place, "qpv", "liste.csv", csv_bytes(rows), year=2025)
    job = last_job(place)
    assert job.status == "invalid"
    assert [(e["line"], e["column"], e["value"]) for e in job.errors] == [
        (3, "code_qp", "QX123"),
        (4, "insee_com", "7654"),
        (4, "lib_qp", ""),
    ]
    assert _qpvs(place) == {
        "QN07601M": {"name": "Quartier des Tilleuls", "communes": ["76540"], "years": [2024, 2025]}
    }


def test_a_list_without_the_columns_read_is_refused(client, place):
    rows = [{"code": "QN07602M", "commune": "76540"}]
    response = upload(client, place, "qpv", "liste.csv", csv_bytes(rows), year=2025)
    assert "Colonnes absentes : code_qp, lib_qp, insee_com." in response.content.decode()
