"""`python manage.py import_observatoire --conference SLUG --kind K [--year N] FILE`."""

import io
import re

import pytest
from django.core.management import CommandError, call_command

from cil.models import AuditAction, AuditEntry
from cil.tenancy import conference_scope
from observatoire.models import Demand, Dwelling, ObservatoireImport
from tests.observatoire.test_import_support import (
    csv_bytes,
    demand,
    demands,
    dwelling,
    make_place,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def place(db):
    return make_place()


def _run(place, path, *extra):
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "import_observatoire",
        "--conference",
        place.slug,
        *extra,
        str(path),
        stdout=out,
        stderr=err,
    )
    return out.getvalue(), err.getvalue()


def test_command_imports_demands_and_prints_the_counts(
    place, tmp_path, django_capture_on_commit_callbacks
):
    path = tmp_path / "demandes.csv"
    path.write_bytes(csv_bytes(demands(3)))

    with django_capture_on_commit_callbacks(execute=True):
        out, err = _run(place, path, "--kind", "demandes")
    assert out.strip() == "Import terminé : 3 lignes, 3 créées, 0 modifiées, 0 inchangées."
    assert err == ""
    with django_capture_on_commit_callbacks(execute=True):
        out, _err = _run(place, path, "--kind", "demandes", "--year", "2025")
    assert out.strip() == "Import terminé : 3 lignes, 0 créées, 0 modifiées, 3 inchangées."
    with conference_scope(place.conference):
        assert Demand.objects.count() == 3
        jobs = list(ObservatoireImport.objects.order_by("created_at"))
        assert [(j.status, j.created_by, j.year, j.file.name) for j in jobs] == [
            ("done", None, None, ""),
            ("done", None, 2025, ""),
        ]
        assert AuditEntry.objects.filter(action=AuditAction.IMPORT).count() == 2


def test_command_prints_every_error_and_writes_nothing(place, tmp_path):
    path = tmp_path / "demandes.csv"
    path.write_bytes(
        csv_bytes(
            [demand("A1"), demand("A2", nb_personnes="zéro"), demand("A3", date_depot="hier")]
        )
    )
    err = io.StringIO()
    with pytest.raises(
        CommandError, match=re.escape("2 erreur(s) dans demandes.csv : rien n'a été enregistré")
    ):
        call_command(
            "import_observatoire",
            "--conference",
            place.slug,
            "--kind",
            "demandes",
            str(path),
            stderr=err,
        )
    assert err.getvalue().splitlines() == [
        "ligne 3, colonne nb_personnes, valeur « zéro » : Nombre entier attendu.",
        "ligne 4, colonne date_depot, valeur « hier » : Date attendue au format AAAA-MM-JJ ou JJ/MM/AAAA.",
    ]
    with conference_scope(place.conference):
        assert not Demand.objects.exists()
        assert not ObservatoireImport.objects.exists()


def test_command_imports_rpls_with_its_millesime(place, tmp_path):
    path = tmp_path / "rpls.csv"
    path.write_bytes(
        csv_bytes(
            [dwelling("1", "76540"), dwelling("2", "27229"), dwelling("3", "76541", FINAN="88")]
        )
    )
    with pytest.raises(CommandError, match="--year est obligatoire"):
        _run(place, path, "--kind", "rpls")
    out, _err = _run(place, path, "--kind", "rpls", "--year", "2025")
    assert out.strip() == (
        "Import terminé : 2 lignes, 2 créées, 0 modifiées, 0 inchangées, 0 supprimées, "
        "1 lignes d'autres communes ignorées, 1 codes de financement inconnus (88)."
    )
    with conference_scope(place.conference):
        assert set(Dwelling.objects.values_list("millesime", "rpls_id")) == {
            (2025, "1"),
            (2025, "3"),
        }


def test_command_refuses_an_unknown_conference_and_a_refused_file(place, tmp_path):
    path = tmp_path / "demandes.txt"
    path.write_bytes(b"x")
    with pytest.raises(CommandError, match="Aucune conférence « nulle-part »"):
        call_command(
            "import_observatoire",
            "--conference",
            "nulle-part",
            "--kind",
            "qpv",
            "--year",
            "2025",
            str(path),
        )
    err = io.StringIO()
    with pytest.raises(CommandError, match="rien n'a été enregistré"):
        call_command(
            "import_observatoire",
            "--conference",
            place.slug,
            "--kind",
            "qpv",
            "--year",
            "2025",
            str(path),
            stderr=err,
        )
    assert "Format de fichier non pris en charge (.txt)" in err.getvalue()
