"""`python manage.py import_attributions --conference SLUG [--as-bailleur SIREN] FILE`."""

import io
import time

import pytest
from django.core.management import CommandError, call_command

from attributions.models import Attribution, ImportJob, ImportStatus
from cil.models import AuditAction, AuditEntry
from cil.tenancy import conference_scope
from tests.attributions.factories import row
from tests.attributions.test_import_support import (
    csv_bytes,
    lines,
    make_place,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def place(db):
    return make_place()


def _run(place, path, *extra):
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "import_attributions", "--conference", place.slug, *extra, str(path), stdout=out, stderr=err
    )
    return out.getvalue(), err.getvalue()


def _fail(place, path, *extra) -> str:
    err = io.StringIO()
    with pytest.raises(CommandError, match="rien n'a été enregistré"):
        call_command(
            "import_attributions", "--conference", place.slug, *extra, str(path), stderr=err
        )
    return err.getvalue()


def _nothing_written(place) -> None:
    with conference_scope(place.conference):
        assert not Attribution.objects.exists()
        assert not ImportJob.objects.exists()
        assert not AuditEntry.objects.filter(action=AuditAction.IMPORT).exists()


def test_command_imports_and_prints_the_counts(place, tmp_path):
    path = tmp_path / "attributions.csv"
    path.write_bytes(csv_bytes(lines(place.bailleurs[0], 3) + lines(place.bailleurs[1], 2)))

    out, err = _run(place, path)

    assert out.strip() == "Import terminé : 5 lignes, 5 créées, 0 modifiées, 0 inchangées."
    assert err == ""
    with conference_scope(place.conference):
        assert Attribution.objects.count() == 5
        job = ImportJob.objects.get()
        assert job.status == ImportStatus.DONE
        assert job.created_by is None
        entry = AuditEntry.objects.get(action=AuditAction.IMPORT)
    assert entry.actor_label == "plateforme"

    out, _err = _run(place, path)
    assert out.strip() == "Import terminé : 5 lignes, 0 créées, 0 modifiées, 5 inchangées."


def test_command_reports_every_error_on_stderr_and_writes_nothing(place, tmp_path):
    bailleur = place.bailleurs[0]
    rows = [
        row(bailleur, reference="A-1"),
        row(bailleur, reference="A-2", commune_insee="99999"),
        row(bailleur, reference="A-3", date_signature_bail="2025-13-01"),
    ]
    path = tmp_path / "attributions.csv"
    path.write_bytes(csv_bytes(rows))

    err = _fail(place, path)

    assert err.splitlines() == [
        "ligne 3, colonne commune_insee, valeur « 99999 » : Cette commune n'appartient pas au "
        "territoire de la conférence.",
        "ligne 4, colonne date_signature_bail, valeur « 2025-13-01 » : Date attendue au format "
        "AAAA-MM-JJ ou JJ/MM/AAAA.",
    ]
    _nothing_written(place)


def test_command_refuses_unknown_columns(place, tmp_path):
    path = tmp_path / "attributions.csv"
    path.write_bytes(
        csv_bytes([{**r, "locataire": "Dupont"} for r in lines(place.bailleurs[0], 1)])
    )
    err = _fail(place, path)
    assert "ligne 1 : Colonnes inconnues : « locataire »." in err
    _nothing_written(place)


def test_command_as_bailleur_refuses_another_bailleurs_lines(place, tmp_path):
    own, other = place.bailleurs
    path = tmp_path / "attributions.csv"
    path.write_bytes(csv_bytes([row(own, reference="A-1"), row(other, reference="B-1")]))

    err = _fail(place, path, "--as-bailleur", own.siren)

    assert err.splitlines() == [
        f"ligne 3, colonne bailleur_siren, valeur « {other.siren} » : Vous ne pouvez déclarer "
        "que les attributions de votre propre organisme."
    ]
    _nothing_written(place)

    path.write_bytes(csv_bytes([row(own, reference="A-1")]))
    out, _err = _run(place, path, "--as-bailleur", own.siren)
    assert "1 créées" in out
    with conference_scope(place.conference):
        assert ImportJob.objects.get().acting_bailleur == own


def test_command_refuses_an_unknown_bailleur_or_conference(place, tmp_path):
    path = tmp_path / "attributions.csv"
    path.write_bytes(csv_bytes(lines(place.bailleurs[0], 1)))
    with pytest.raises(CommandError, match="n'est pas celui d'un bailleur membre"):
        call_command(
            "import_attributions",
            "--conference",
            place.slug,
            "--as-bailleur",
            "123456782",
            str(path),
        )
    with pytest.raises(CommandError, match="Aucune conférence « inconnue »"):
        call_command("import_attributions", "--conference", "inconnue", str(path))
    _nothing_written(place)


def test_fifty_thousand_lines_with_one_bad_line_write_nothing(place, tmp_path):
    first, second = place.bailleurs
    rows = lines(first, 25_000) + lines(second, 25_000)
    rows[31_337 - 2]["date_signature_bail"] = "31/02/2025"  # line 31 337 of the file
    path = tmp_path / "gros.csv"
    path.write_bytes(csv_bytes(rows))

    started = time.monotonic()
    err = _fail(place, path)
    elapsed = time.monotonic() - started

    assert err.splitlines() == [
        "ligne 31337, colonne date_signature_bail, valeur « 31/02/2025 » : Date attendue au "
        "format AAAA-MM-JJ ou JJ/MM/AAAA."
    ]
    _nothing_written(place)
    assert elapsed < 20, f"{elapsed:.1f} s pour vérifier 50 000 lignes"
