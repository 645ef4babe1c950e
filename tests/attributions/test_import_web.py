"""Importing `attributions` v1 files from the web: the files French users produce, the
preview, the confirmation, what each role may import and see."""

import datetime
from decimal import Decimal

import pytest

from attributions.models import Attribution, BilanResult, ImportJob, ImportStatus
from cil.models import AuditAction, AuditEntry
from cil.tenancy import conference_scope
from tests.attributions.factories import row
from tests.attributions.test_import_support import (
    confirm,
    csv_bytes,
    last_job,
    lines,
    make_place,
    upload,
    url,
    xlsx_bytes,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def place(db):
    return make_place()


HEADERS_AS_TYPED = {
    "reference": "Référence",
    "bailleur_siren": "SIREN bailleur",
    "date_signature_bail": "Date signature bail",
    "commune_insee": "Code INSEE",
    "qpv_code": "Code QPV",
    "reservataire": "Réservataire",
    "nb_personnes": "Nombre de personnes",
    "nb_enfants_moins_14": "Enfants de moins de 14 ans",
    "revenu_annuel": "Revenu annuel",
    "dalo": "DALO",
    "prioritaire": "Prioritaire",
    "mutation": "Mutation",
}


def _attributions(place):
    with conference_scope(place.conference):
        return {a.reference: a for a in Attribution.objects.all()}


def _preview_then_confirm(client, place, filename, content, *, user=None):
    response = upload(client, place, filename, content, user=user)
    assert response.status_code == 302, response.content.decode()[:2000]
    job = last_job(place)
    assert job.status == ImportStatus.READY, job.errors
    preview = client.get(response.url).content.decode()
    assert "Confirmer l'import" in preview
    assert confirm(client, place, job).status_code == 302
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE, job.errors
    return job, preview


def test_windows_1252_semicolon_file_as_french_users_type_it_imports_as_is(client, place):
    bailleur = place.bailleurs[0]
    rows = [
        {
            **row(bailleur, reference="Réf-é1", date_signature_bail="14/03/2025"),
            "commune_insee": "76540",
            "qpv_code": "QN07601M",
            "revenu_annuel": "12 345,67",
            "nb_personnes": "3",
            "nb_enfants_moins_14": "1",
            "dalo": "oui",
            "prioritaire": "non",
            "mutation": "non",
            "reservataire": "action_logement",
        },
        {
            **row(bailleur, reference="Réf-è2", date_signature_bail="02/01/2024"),
            "revenu_annuel": "8000,5",
            "dalo": "",
            "prioritaire": "Oui",
            "mutation": "o",
        },
    ]
    content = csv_bytes(rows, headers=HEADERS_AS_TYPED, sep=";", encoding="cp1252")
    assert b"R\xe9f-\xe91" in content  # really Windows-1252

    job, preview = _preview_then_confirm(client, place, "attributions.csv", content)

    assert 'id="count-create">2<' in preview
    assert job.counts["create"] == 2
    stored = _attributions(place)
    first, second = stored["Réf-é1"], stored["Réf-è2"]
    assert first.lease_date == datetime.date(2025, 3, 14)
    assert first.annual_income == Decimal("12345.67")
    assert (first.dalo, first.prioritaire, first.mutation) == (
        True,
        True,
        False,
    )  # DALO ⇒ prioritaire
    assert first.in_qpv
    assert first.qpv.code == "QN07601M"
    assert (first.household_size, first.children_under_14) == (3, 1)
    assert first.reservataire == "action_logement"
    assert second.lease_date == datetime.date(2024, 1, 2)
    assert second.year == 2024
    assert second.annual_income == Decimal("8000.50")
    assert (second.dalo, second.prioritaire, second.mutation) == (False, True, True)


def test_utf8_with_bom_comma_file_imports(client, place):
    bailleur = place.bailleurs[1]
    rows = [
        row(bailleur, reference="Réf-1", revenu_annuel="12345,50"),  # quoted: holds the separator
        row(bailleur, reference="Réf-2", revenu_annuel="9999.99", date_signature_bail="2024-12-31"),
    ]
    content = csv_bytes(rows, sep=",", encoding="utf-8", bom=True)
    assert content.startswith(b"\xef\xbb\xbfreference,")

    _preview_then_confirm(client, place, "export.CSV", content)

    stored = _attributions(place)
    assert stored["Réf-1"].annual_income == Decimal("12345.50")
    assert stored["Réf-2"].lease_date == datetime.date(2024, 12, 31)
    assert stored["Réf-2"].bailleur_id == bailleur.pk


def test_xlsx_file_reads_its_first_sheet_with_typed_cells(client, place):
    bailleur = place.bailleurs[0]
    header = [
        "Référence",
        "SIREN bailleur",
        "Date signature bail",
        "Code INSEE",
        "Réservataire",
        "Nombre de personnes",
        "Revenu annuel",
        "DALO",
    ]
    cell = datetime.datetime(2025, 6, 2)  # noqa: DTZ001 - a spreadsheet cell has no time zone
    rows = [
        ["X-1", int(bailleur.siren), datetime.date(2025, 6, 1), 76541, "commune", 2, 15000.5, True],
        ["X-2", bailleur.siren, cell, "76540", "epci", 1.0, None, "non"],
        [None] * 8,  # an empty line is skipped
        ["X-3", bailleur.siren, "15/06/2025", "76541", "non_reserve", 4, "20000,00", None],
    ]
    job, _preview = _preview_then_confirm(
        client, place, "attributions.xlsx", xlsx_bytes(header, rows)
    )

    assert job.counts["create"] == 3
    stored = _attributions(place)
    assert stored["X-1"].lease_date == datetime.date(2025, 6, 1)
    assert stored["X-1"].annual_income == Decimal("15000.50")
    assert stored["X-1"].dalo is True
    assert stored["X-1"].commune.insee == "76541"
    assert stored["X-2"].annual_income is None
    assert stored["X-2"].is_q1 is None
    assert stored["X-3"].household_size == 4


def test_reimporting_the_same_file_changes_nothing(
    client, place, django_capture_on_commit_callbacks
):
    content = csv_bytes(lines(place.bailleurs[0], 5) + lines(place.bailleurs[1], 3))
    _preview_then_confirm(client, place, "a.csv", content)
    before = {ref: a.updated_at for ref, a in _attributions(place).items()}
    with conference_scope(place.conference):
        audit_before = AuditEntry.objects.count()
        BilanResult.objects.create(conference=place.conference, year=2025, document={})

    with django_capture_on_commit_callbacks(execute=True):
        job, preview = _preview_then_confirm(client, place, "a.csv", content)

    assert 'id="count-unchanged">8<' in preview
    assert job.counts["create"] == job.counts["update"] == 0
    assert job.counts["unchanged"] == job.counts["lines"] == 8
    assert {ref: a.updated_at for ref, a in _attributions(place).items()} == before
    with conference_scope(place.conference):
        new_entries = list(AuditEntry.objects.order_by("pk")[audit_before:])
        assert BilanResult.objects.filter(year=2025).exists()  # nothing to recompute
    assert [e.action for e in new_entries] == [AuditAction.IMPORT]
    assert new_entries[0].changes == {"lignes": 8, "créées": 0, "modifiées": 0, "inchangées": 8}


def test_a_changed_line_is_updated_and_its_bilan_invalidated(
    client, place, django_capture_on_commit_callbacks
):
    rows = lines(place.bailleurs[0], 4)
    _preview_then_confirm(client, place, "a.csv", csv_bytes(rows))
    untouched = _attributions(place)["A-00001"].updated_at
    rows[2]["revenu_annuel"] = "30000"
    rows[3]["date_signature_bail"] = "2024-05-01"  # moves to 2024
    with conference_scope(place.conference):
        for year in (2024, 2025):
            BilanResult.objects.create(conference=place.conference, year=year, document={})

    with django_capture_on_commit_callbacks(execute=True):
        job, preview = _preview_then_confirm(client, place, "a.csv", csv_bytes(rows))

    assert 'id="count-update">2<' in preview
    assert (job.counts["create"], job.counts["update"], job.counts["unchanged"]) == (0, 2, 2)
    stored = _attributions(place)
    assert stored["A-00003"].annual_income == Decimal("30000.00")
    assert stored["A-00004"].year == 2024
    assert stored["A-00001"].updated_at == untouched
    assert stored["A-00003"].updated_at > untouched
    with conference_scope(place.conference):
        assert not BilanResult.objects.exists()  # 2025 and 2024 both touched
        entry = AuditEntry.objects.get(action=AuditAction.IMPORT, object_id=str(job.public_id))
    assert entry.changes == {"lignes": 4, "créées": 0, "modifiées": 2, "inchangées": 2}
    assert entry.actor == place.secretariat


def test_unknown_columns_are_refused_with_their_list(client, place):
    rows = [
        {**r, "Nom du locataire": "Dupont", "Commentaire": "à voir"}
        for r in lines(place.bailleurs[0], 2)
    ]
    response = upload(client, place, "a.csv", csv_bytes(rows))

    assert response.status_code == 200
    content = response.content.decode()
    assert "Le fichier a été refusé" in content
    assert "Colonnes inconnues : « Nom du locataire », « Commentaire »" in content
    assert "Rien n'a été enregistré" in content
    with conference_scope(place.conference):
        assert not ImportJob.objects.exists()
        assert not Attribution.objects.exists()


def test_missing_required_columns_are_refused(client, place):
    rows = [
        {k: v for k, v in r.items() if k != "reservataire"} for r in lines(place.bailleurs[0], 1)
    ]
    content = upload(client, place, "a.csv", csv_bytes(rows)).content.decode()
    assert "Colonnes obligatoires absentes : reservataire." in content


def test_duplicated_reference_is_refused_naming_both_lines(client, place):
    first, second = place.bailleurs
    rows = [
        row(first, reference="R-1"),
        row(first, reference="R-2"),
        row(second, reference="R-1"),  # another bailleur may use the same reference
        row(first, reference="R-1", revenu_annuel="1"),
    ]
    response = upload(client, place, "a.csv", csv_bytes(rows))
    job = last_job(place)

    assert job.status == ImportStatus.INVALID
    assert job.errors == [
        {
            "line": 5,
            "column": "reference",
            "value": "R-1",
            "message": f"Référence en double pour le bailleur {first.siren} : lignes 2 et 5 du fichier.",
        }
    ]
    page = client.get(response.url).content.decode()
    assert "Le fichier n'a pas été importé : 1 erreur" in page
    assert "lignes 2 et 5" in page
    assert "Confirmer l'import" not in page
    assert confirm(client, place, job).status_code == 302  # refused: still invalid
    job.refresh_from_db()
    assert job.status == ImportStatus.INVALID
    assert not _attributions(place)


def test_every_error_is_listed_with_line_column_and_value(client, place):
    bailleur = place.bailleurs[0]
    rows = [
        row(bailleur, reference="OK-1"),
        row(bailleur, reference="KO-1", date_signature_bail="31/02/2025"),
        row(bailleur, reference="KO-2", commune_insee="99999", nb_personnes="zéro"),
        {**row(bailleur, reference="KO-3"), "qpv_code": "QN07601M"},  # not in commune 76541
    ]
    upload(client, place, "a.csv", csv_bytes(rows))
    job = last_job(place)

    found = {(e["line"], e["column"], e["value"]) for e in job.errors}
    assert found == {
        (3, "date_signature_bail", "31/02/2025"),
        (4, "nb_personnes", "zéro"),
        (4, "commune_insee", "99999"),
        (5, "qpv_code", "QN07601M"),
    }
    assert job.counts["errors"] == 4
    assert not _attributions(place)


def test_a_value_under_no_header_is_an_error(client, place):
    content = csv_bytes(lines(place.bailleurs[0], 2))
    content = content.rstrip(b"\r\n") + b";en trop\r\n"
    upload(client, place, "a.csv", content)
    job = last_job(place)
    assert job.status == ImportStatus.INVALID
    [error] = job.errors
    assert (error["line"], error["value"]) == (3, "en trop")
    assert "sans en-tête" in error["column"]


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("a.csv", b"", "Le fichier soumis est vide."),
        ("a.csv", b"\xef\xbb\xbf\r\n  \r\n", "Le fichier est vide."),
        ("a.xls", b"reference;x", "Format de fichier non pris en charge (.xls)"),
        ("a.txt", b"reference;x", "Format de fichier non pris en charge (.txt)"),
        ("a.csv", xlsx_bytes(["reference"], []), "ne correspond pas à son extension .csv"),
        ("a.xlsx", b"reference;bailleur_siren\r\n", "ne correspond pas à son extension .xlsx"),
        ("a.csv", "reference".encode("utf-16"), "encodé en UTF-16"),
        (
            "a.csv",
            b"\xef\xbb\xbfreference;bailleur_siren\r\nA;1\r\nR\xe9f;2\r\n",
            "Ligne 3 : le fichier est enregistré en UTF-8 mais contient des caractères",
        ),
        ("a.csv", b"reference;" + b"x" * 20_000 + b"\r\n", "La ligne d&#x27;en-tête dépasse"),
    ],
)
def test_unreadable_files_are_refused_and_nothing_is_stored(
    client, place, filename, content, message
):
    response = upload(client, place, filename, content)
    assert response.status_code == 200
    assert message in response.content.decode()
    with conference_scope(place.conference):
        assert not ImportJob.objects.exists()


def test_a_line_too_long_stops_the_check_at_that_line(client, place):
    rows = lines(place.bailleurs[0], 3)
    rows[1]["numero_unique"] = "x" * 20_000
    upload(client, place, "a.csv", csv_bytes(rows))
    job = last_job(place)
    assert job.status == ImportStatus.INVALID
    assert job.errors[-1]["line"] == 3
    assert "dépasse 10000 caractères" in job.errors[-1]["message"]


def test_a_file_over_the_size_limit_is_refused(client, place, settings):
    settings.CIL_IMPORT_MAX_BYTES = 1024
    content = csv_bytes(lines(place.bailleurs[0], 30))
    response = upload(client, place, "a.csv", content)
    assert "Le fichier dépasse la taille maximale" in response.content.decode()
    with conference_scope(place.conference):
        assert not ImportJob.objects.exists()


def test_header_only_file_is_invalid(client, place):
    upload(
        client, place, "a.csv", csv_bytes(lines(place.bailleurs[0], 1)).split(b"\r\n")[0] + b"\r\n"
    )
    job = last_job(place)
    assert job.status == ImportStatus.INVALID
    assert "aucune ligne d'attribution" in job.errors[0]["message"]


def test_secretariat_imports_for_several_bailleurs(client, place):
    first, second = place.bailleurs
    content = csv_bytes(lines(first, 3) + lines(second, 2, start=10))
    _preview_then_confirm(client, place, "a.csv", content)
    with conference_scope(place.conference):
        assert Attribution.objects.filter(bailleur=first).count() == 3
        assert Attribution.objects.filter(bailleur=second).count() == 2


def test_bailleur_imports_its_own_lines_only(client, place):
    own, other = place.bailleurs
    user = place.bailleur_users[0]
    content = csv_bytes([*lines(own, 2), row(other, reference="AUTRE-1")])
    upload(client, place, "a.csv", content, user=user)
    job = last_job(place)

    assert job.acting_bailleur == own
    assert job.status == ImportStatus.INVALID
    assert job.errors == [
        {
            "line": 4,
            "column": "bailleur_siren",
            "value": other.siren,
            "message": "Vous ne pouvez déclarer que les attributions de votre propre organisme.",
        }
    ]
    assert not _attributions(place)

    _preview_then_confirm(client, place, "b.csv", csv_bytes(lines(own, 2)), user=user)
    assert set(_attributions(place)) == {"A-00001", "A-00002"}


def test_bailleur_sees_only_its_organisation_jobs(client, place):
    own_user, other_user = place.bailleur_users
    upload(client, place, "mien.csv", csv_bytes(lines(place.bailleurs[0], 1)), user=own_user)
    own_job = last_job(place)
    upload(client, place, "autre.csv", csv_bytes(lines(place.bailleurs[1], 1)), user=other_user)
    other_job = last_job(place)

    client.force_login(own_user)
    for name in ("import_detail", "import_progress"):
        assert client.get(url(place, name, job_id=own_job.public_id)).status_code == 200
        assert client.get(url(place, name, job_id=other_job.public_id)).status_code == 404
    assert confirm(client, place, other_job).status_code == 404
    other_job.refresh_from_db()
    assert other_job.status == ImportStatus.READY
    listing = client.get(url(place, "import_upload")).content.decode()
    assert "mien.csv" in listing
    assert "autre.csv" not in listing

    client.force_login(place.secretariat)
    listing = client.get(url(place, "import_upload")).content.decode()
    assert "mien.csv" in listing
    assert "autre.csv" in listing
    assert client.get(url(place, "import_detail", job_id=other_job.public_id)).status_code == 200


def test_a_job_of_another_conference_is_not_found(client, place):
    elsewhere = make_place()
    upload(client, elsewhere, "ailleurs.csv", csv_bytes(lines(elsewhere.bailleurs[0], 1)))
    foreign = last_job(elsewhere)

    for user in (place.secretariat, place.bailleur_users[0]):
        client.force_login(user)
        for name in ("import_detail", "import_progress"):
            assert client.get(url(place, name, job_id=foreign.public_id)).status_code == 404
        assert confirm(client, place, foreign).status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == ImportStatus.READY


def test_upload_page_explains_the_format_and_lists_recent_imports(
    client, place, django_assert_max_num_queries
):
    for n in range(3):
        upload(client, place, f"lot-{n}.csv", csv_bytes(lines(place.bailleurs[0], 1)))
    client.force_login(place.secretariat)
    with django_assert_max_num_queries(12):
        content = client.get(url(place, "import_upload")).content.decode()
    assert 'class="fr-upload"' in content
    assert "date_signature_bail" in content
    assert "Télécharger le modèle CSV" in content
    assert all(f"lot-{n}.csv" in content for n in range(3))

    template = client.get(url(place, "import_template"))
    assert template["Content-Type"] == "text/csv; charset=utf-8"
    assert template.content.decode("utf-8-sig").startswith(
        "reference;bailleur_siren;date_signature_bail;commune_insee;"
    )
