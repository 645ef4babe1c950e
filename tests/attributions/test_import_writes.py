"""How an import writes: COPY on PostgreSQL (new rows, then changed rows through a temporary
table), the ORM elsewhere; the same stored values either way; all or nothing; the command
writes the rows its check derived without reading the file a second time."""

import datetime
import io
import uuid
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from attributions import contract
from attributions.importing import committing, jobs, planning
from attributions.importing.planning import WRITTEN_FIELDS, RowSpool
from attributions.models import Attribution, ImportStatus, Q1Threshold
from attributions.services import attribution_save
from cil.models import AuditAction, AuditEntry, Commune, Qpv
from cil.tenancy import conference_scope, unscoped
from tests.attributions.factories import row
from tests.attributions.test_import_support import (
    confirm,
    csv_bytes,
    last_job,
    lines,
    make_place,
    upload,
)

pytestmark = pytest.mark.django_db

TECHNICAL = {"id", "public_id", "created_at", "updated_at"}
STORED = [f.attname for f in Attribution._meta.concrete_fields if f.attname not in TECHNICAL]


@pytest.fixture
def place(db):
    return make_place()


def _varied_rows(place) -> list[dict]:
    """Lines covering every kind of value, and text COPY must escape."""
    first, second = place.bailleurs
    return [
        row(first, reference="V-01"),
        {
            **row(first, reference="V-02", date_signature_bail="02/01/2024"),
            "commune_insee": "76540",
            "qpv_code": "QN07601M",
            "nb_personnes": "3",
            "nb_enfants_moins_14": "1",
            "revenu_annuel": "10 000,00",  # 10000 / 1.8 UC: 5555.555… rounded by the rules
            "dalo": "oui",
            "mutation": "x",
            "typologie": "4",
            "financement": "plai",
            "reservataire": "commune",
            "reservataire_siren": second.siren,
        },
        row(first, reference="V-03", revenu_annuel="", revenu_par_uc="9000,5"),
        row(first, reference="V-04", revenu_annuel=""),  # income unknown: Q1 unknown
        row(first, reference="V-05", revenu_annuel="0", relogement_npnru="1", prioritaire="vrai"),
        {
            **row(second, reference="B\\S\tT"),  # a backslash and a tab
            "numero_unique": "multi\nligne",  # a newline (quoted in the CSV)
            "rpls_id": "é\"'; \\N",  # what looks like COPY's NULL
            "typologie": "T6+",
            "financement": "autre",
        },
        row(second, reference="V-07", date_signature_bail="2025-12-31", revenu_annuel="9876"),
    ]


def _stored(place) -> dict:
    with conference_scope(place.conference):
        return {
            values["reference"]: values
            for values in Attribution.objects.values(*STORED, "updated_at", "created_at", "pk")
        }


def _values(stored: dict) -> dict:
    """The stored values an import decides (technical columns aside)."""
    return {ref: {k: v for k, v in values.items() if k in STORED} for ref, values in stored.items()}


def _by_command(place, rows, folder) -> str:
    file = folder / f"import-{uuid.uuid4().hex}.csv"
    file.write_bytes(csv_bytes(rows))
    out = io.StringIO()
    call_command("import_attributions", "--conference", place.slug, str(file), stdout=out)
    return out.getvalue().strip()


def _by_web(client, place, rows) -> str:
    upload(client, place, "a.csv", csv_bytes(rows))
    job = last_job(place)
    assert job.status == ImportStatus.READY, job.errors
    confirm(client, place, job)
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE, job.errors
    c = job.counts
    return f"{c['create']} créées, {c['update']} modifiées, {c['unchanged']} inchangées"


def _clear(place) -> None:
    with conference_scope(place.conference):
        Attribution.objects.all().delete()


@pytest.fixture
def run(client, place, tmp_path):
    def run(way, rows):
        if way == "command":
            return _by_command(place, rows, tmp_path)
        return _by_web(client, place, rows)

    return run


@pytest.mark.parametrize("way", ["command", "web"])
def test_copy_writes_the_same_values_as_the_orm(place, run, monkeypatch, way):
    assert committing.copy_writes()  # the suite runs on PostgreSQL
    first_file = _varied_rows(place)
    second_file = [dict(r) for r in first_file]
    second_file[0]["revenu_annuel"] = "30000"
    second_file[1].update(qpv_code="", date_signature_bail="2025-06-30")
    second_file[2].update(revenu_par_uc="", revenu_annuel="4500,25")
    second_file[5].update(dalo="oui", rpls_id="autre\tvaleur")
    second_file.append(row(place.bailleurs[0], reference="V-08"))

    results = {}
    for writes in ("orm", "copy"):
        _clear(place)
        with monkeypatch.context() as patch:
            if writes == "orm":
                patch.setattr(committing, "copy_writes", lambda: False)
            assert "7 créées" in run(way, first_file)
            created = _stored(place)
            assert "1 créées, 4 modifiées, 3 inchangées" in run(way, second_file)
            updated = _stored(place)
        results[writes] = (created, updated)

    (orm_created, orm_updated), (copy_created, copy_updated) = results["orm"], results["copy"]
    assert _values(copy_created) == _values(orm_created)
    assert _values(copy_updated) == _values(orm_updated)
    assert len(copy_created) == 7
    assert len(copy_updated) == 8

    tricky = copy_created["B\\S\tT"]
    assert (tricky["numero_unique"], tricky["rpls_id"]) == ("multi\nligne", "é\"'; \\N")
    assert copy_updated["B\\S\tT"]["rpls_id"] == "autre\tvaleur"
    assert copy_created["V-02"]["income_per_uc"] == Decimal("5555.56")
    assert copy_created["V-02"]["qpv_id"] is not None
    assert copy_updated["V-02"]["qpv_id"] is None
    assert copy_created["V-04"]["is_q1"] is None
    with conference_scope(place.conference):
        new = Attribution.objects.get(reference="V-01")
        public_ids = list(Attribution.objects.values_list("public_id", flat=True))
    assert new.conference_id == place.conference.pk
    assert len(set(public_ids)) == len(public_ids)
    assert all(public_id.version == 4 for public_id in public_ids)
    # A new row is stamped like save() would; an updated one keeps its id and creation time,
    # an unchanged one is not touched.
    assert copy_created["V-01"]["created_at"] == copy_created["V-01"]["updated_at"]
    for reference in ("V-01", "V-02", "V-03", "B\\S\tT"):
        before, after = copy_created[reference], copy_updated[reference]
        assert (after["pk"], after["created_at"]) == (before["pk"], before["created_at"])
        assert after["updated_at"] > before["updated_at"]
    for reference in ("V-04", "V-05", "V-07"):
        assert copy_updated[reference] == copy_created[reference]


def test_the_update_is_confined_to_the_conference(place):
    """Raw SQL bypasses the tenant scope: the UPDATE names the conference itself."""
    elsewhere = make_place()
    with conference_scope(elsewhere.conference):
        foreign = attribution_save(
            conference=elsewhere.conference,
            actor=None,
            raw=row(elsewhere.bailleurs[0], reference="AILLEURS"),
        )
    with unscoped():
        values = list(Attribution.objects.filter(pk=foreign.pk).values_list(*WRITTEN_FIELDS)[0])
    values[WRITTEN_FIELDS.index("annual_income")] = Decimal("1.00")

    with conference_scope(place.conference):
        writer = committing._CopyWriter(place.conference)
        writer.update(foreign.pk, tuple(values))
        writer.finish()

    with unscoped():
        foreign_after = Attribution.objects.get(pk=foreign.pk)
    assert foreign_after.annual_income == Decimal("12000.00")
    assert foreign_after.updated_at == foreign.updated_at


def _copies(monkeypatch) -> list[str]:
    """Record the COPY statements the writer runs."""
    statements: list[str] = []
    original = committing._CopyWriter._copy

    def recording(writer, cursor, statement, rows):
        statements.append(statement)
        return original(writer, cursor, statement, rows)

    monkeypatch.setattr(committing._CopyWriter, "_copy", recording)
    return statements


def test_an_error_in_the_middle_of_the_writes_leaves_nothing(client, place, monkeypatch):
    """Batches already copied (new rows, and changed rows in the temporary table) are rolled
    back when a later line turns out wrong: the preview's « nothing is written »."""
    bailleur = place.bailleurs[0]
    _by_web(client, place, lines(bailleur, 6))
    before = _stored(place)

    rows = lines(bailleur, 6, revenu_annuel="20000") + lines(bailleur, 12, start=7)
    rows[15]["commune_insee"] = "76540"  # line 17: its commune goes after the preview
    upload(client, place, "a.csv", csv_bytes(rows))
    job = last_job(place)
    assert job.status == ImportStatus.READY
    assert (job.counts["create"], job.counts["update"]) == (12, 6)
    with conference_scope(place.conference):
        Qpv.objects.all().delete()
        Commune.objects.filter(insee="76540").delete()

    monkeypatch.setattr(committing, "COPY_BATCH_SIZE", 3)
    statements = _copies(monkeypatch)
    confirm(client, place, job)

    job.refresh_from_db()
    assert job.status == ImportStatus.INVALID
    assert [(e["line"], e["column"]) for e in job.errors] == [(17, "commune_insee")]
    assert any("cil_import_updates" in s for s in statements)  # written, then rolled back
    assert any("attributions_attribution" in s for s in statements)
    assert _stored(place) == before
    with conference_scope(place.conference):
        assert AuditEntry.objects.filter(action=AuditAction.IMPORT).count() == 1


def test_a_conflict_during_the_copy_fails_the_import_and_leaves_nothing(client, place, monkeypatch):
    """A row written meanwhile by another way: COPY's unique violation is Django's
    IntegrityError (the job says so), and nothing of the import stays."""
    bailleur = place.bailleurs[0]
    _by_web(client, place, lines(bailleur, 2))
    before = _stored(place)
    upload(client, place, "a.csv", csv_bytes(lines(bailleur, 4)))
    job = last_job(place)
    monkeypatch.setattr(committing, "_stored", lambda bailleur_ids: {})  # « not there yet »

    confirm(client, place, job)

    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    assert "enregistrées en même temps par un autre moyen" in job.errors[0]["message"]
    assert _stored(place) == before


def test_the_command_reads_and_checks_the_file_once(place, run, monkeypatch):
    calls = []
    parse_row = contract.parse_row

    def counted(raw):
        calls.append(1)
        return parse_row(raw)

    monkeypatch.setattr(contract, "parse_row", counted)
    statements = _copies(monkeypatch)
    assert "5 créées" in run("command", lines(place.bailleurs[0], 5))
    assert len(calls) == 5
    assert len(statements) == 1

    calls.clear()
    assert "0 créées, 0 modifiées, 5 inchangées" in run("command", lines(place.bailleurs[0], 5))
    assert len(calls) == 5
    assert len(statements) == 1  # nothing to write: nothing written


def _between_plan_and_commit(monkeypatch, change) -> None:
    """Run `change` once the command's plan is made, before its commit."""
    create = jobs.import_job_create

    def then_change(**kwargs):
        job = create(**kwargs)
        change()
        return job

    monkeypatch.setattr(jobs, "import_job_create", then_change)


def test_the_command_checks_the_file_again_when_the_reference_data_changed(place, run, monkeypatch):
    """A Q1 threshold changed after the check: the kept rows were derived with the old one."""
    calls = []
    parse_row = contract.parse_row
    monkeypatch.setattr(contract, "parse_row", lambda raw: calls.append(1) or parse_row(raw))

    def lower_threshold():
        Q1Threshold.objects.filter(year=2025).update(value=Decimal("5000.00"))

    _between_plan_and_commit(monkeypatch, lower_threshold)
    with conference_scope(place.conference):
        assert "3 créées" in run("command", lines(place.bailleurs[0], 3))  # 8000 € per UC
        assert len(calls) == 6
        assert not Attribution.objects.filter(is_q1=True).exists()  # with the new threshold


def test_the_command_checks_the_file_again_when_a_line_became_wrong(place, monkeypatch, tmp_path):
    rows = lines(place.bailleurs[0], 3)
    rows[1]["commune_insee"] = "76540"

    def remove_commune():
        Qpv.objects.all().delete()
        Commune.objects.filter(insee="76540").delete()

    _between_plan_and_commit(monkeypatch, remove_commune)
    err = io.StringIO()
    file = tmp_path / "a.csv"
    file.write_bytes(csv_bytes(rows))
    with conference_scope(place.conference), pytest.raises(CommandError):
        call_command("import_attributions", "--conference", place.slug, str(file), stderr=err)
    assert "ligne 3, colonne commune_insee" in err.getvalue()
    with conference_scope(place.conference):
        assert not Attribution.objects.exists()


def test_the_command_compares_again_when_stored_attributions_changed(place, run, monkeypatch):
    """The plan found every line unchanged; one attribution was edited before the commit: the
    commit compares the lines with the stored attributions again, and writes the file's
    value back (as it always did)."""
    rows = lines(place.bailleurs[0], 4)
    run("command", rows)

    def edit():
        Attribution.objects.filter(reference="A-00002").update(
            annual_income=Decimal("1.00"), updated_at=timezone.now()
        )

    _between_plan_and_commit(monkeypatch, edit)
    assert "0 créées, 1 modifiées, 3 inchangées" in run("command", rows)
    with conference_scope(place.conference):
        assert Attribution.objects.get(reference="A-00002").annual_income == Decimal("12000.00")


def test_the_command_commits_creates_updates_and_unchanged_from_its_kept_rows(place, run):
    rows = lines(place.bailleurs[0], 4)
    run("command", rows)
    before = _stored(place)
    rows[0]["revenu_annuel"] = "1"
    rows.append(row(place.bailleurs[1], reference="A-00001"))
    assert "1 créées, 1 modifiées, 3 inchangées" in run("command", rows)
    with conference_scope(place.conference):
        mine = Attribution.objects.get(reference="A-00001", bailleur=place.bailleurs[0])
        assert mine.annual_income == Decimal("1.00")
        assert mine.updated_at > before["A-00001"]["updated_at"]
        assert Attribution.objects.filter(bailleur=place.bailleurs[1]).count() == 1
        entry = AuditEntry.objects.filter(action=AuditAction.IMPORT).order_by("pk").last()
    assert entry.changes == {"lignes": 5, "créées": 1, "modifiées": 1, "inchangées": 3}


def test_kept_rows_go_to_a_temporary_file_and_read_back_in_order():
    spool = RowSpool()
    records = [(n, -n, (f"réf-{n}", None, True, "12.50", "2025-03-14")) for n in range(4500)]
    for record in records:
        spool.append(record)
    assert spool.count == 4500
    assert list(spool) == records
    assert list(spool) == records  # read again
    spool.close()
    with pytest.raises(ValueError, match="fermé"):
        list(spool)


def test_portable_values_read_back_to_the_same_stored_values():
    values = tuple(
        {
            "lease_date": datetime.date(2025, 3, 14),
            "annual_income": Decimal("12345.67"),
            "given_income_per_uc": None,
            "uc": Decimal("1.8"),
            "income_per_uc": Decimal("6858.705"),
        }.get(name, name)
        for name in WRITTEN_FIELDS
    )
    portable = planning.portable(values)
    as_text = dict(zip(WRITTEN_FIELDS, portable, strict=True))
    assert as_text["lease_date"] == "2025-03-14"
    assert as_text["annual_income"] == "12345.67"
    assert as_text["given_income_per_uc"] is None
    assert as_text["uc"] == "1.8"
    assert as_text["income_per_uc"] == "6858.705"
    assert as_text["reference"] == "reference"


def _dates_as_before(value):
    """`contract._date` as it was before its fast path: strptime, format after format."""
    formats = ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d.%m.%Y")
    text = str(value).strip()
    if " " in text:
        text = text.split(" ", 1)[0]
    for date_format in formats:
        try:
            parsed = datetime.datetime.strptime(text, date_format).date()  # noqa: DTZ007
        except ValueError:
            continue
        if not 2000 <= parsed.year <= 2100:
            return "Année hors de la plage attendue (2000 à 2100)."
        return parsed
    return "Date attendue au format AAAA-MM-JJ ou JJ/MM/AAAA."


@pytest.mark.parametrize(
    "value",
    [
        "2025-03-14",
        "14/03/2025",
        " 14/03/2025 ",
        "2025-03-14 00:00:00",
        "29/02/2024",
        "29/02/2025",
        "31/02/2025",
        "2025-02-31",
        "00/01/2025",
        "01/13/2025",
        "2025-13-01",
        "2025-00-10",
        "1999-12-31",
        "31/12/1999",
        "2101-01-01",
        "0000-01-01",
        "2025-3-14",
        "1/3/2025",
        "14/03/25",
        "14-03-2025",
        "14.03.2025",
        "20250314",
        "2025-W11-5",
        "١٤/٠٣/٢٠٢٥",  # other digits: still read by strptime, as before
        "14/03/2025x",
        "",
    ],
)
def test_the_date_fast_path_reads_and_refuses_as_strptime_did(value):
    try:
        parsed = contract._date(value)
    except contract.ValueProblem as problem:
        parsed = str(problem)
    assert parsed == _dates_as_before(value)
