"""Importing `demandes` v1 files from the web: the files French users produce, every error
reported with its line, column and value and nothing written, idempotent re-import."""

import datetime
from decimal import Decimal

import pytest

from attributions import rules
from attributions.derivation import uc_scale_from_settings
from cil.models import AccessLogEntry, AuditAction, AuditEntry
from cil.tenancy import conference_scope
from observatoire.models import Demand, ObservatoireImport
from tests.observatoire.test_import_support import (
    confirm,
    csv_bytes,
    demand,
    demands,
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


def _stored(place) -> dict[str, Demand]:
    with conference_scope(place.conference):
        return {d.numero_unique: d for d in Demand.objects.all()}


HEADERS_AS_TYPED = {
    "numero_unique": "N° unique",
    "date_depot": "Date de dépôt",
    "communes_souhaitees": "Communes souhaitées",
    "nb_personnes": "Nombre de personnes",
    "nb_enfants_moins_14": "Enfants de moins de 14 ans",
    "revenu_annuel": "Revenu annuel",
    "typologie": "Typologie souhaitée",
    "mutation": "Locataire HLM",
    "dalo": "DALO",
    "prioritaire": "Prioritaire",
    "date_radiation": "Date de radiation",
    "motif_radiation": "Motif de radiation",
}


def test_windows_1252_semicolon_file_with_french_dates_imports_as_is(client, place):
    rows = [
        demand(
            "0765400000001",
            date_depot="14/03/2024",
            communes_souhaitees="76540|76541|27229",
            revenu_annuel="12 345,67",
            dalo="oui",
            mutation="o",
            typologie="4",
        ),
        demand(
            "0765400000002",
            date_depot="02/01/2023",
            communes_souhaitees="76541",
            nb_personnes="1",
            nb_enfants_moins_14="0",
            revenu_annuel="",
            date_radiation="15/06/2025",
            motif_radiation="Attribution d'un logement",
        ),
    ]
    content = csv_bytes(rows, headers=HEADERS_AS_TYPED, sep=";", encoding="cp1252")
    assert "Communes souhait\xe9es".encode("latin-1") in content  # really Windows-1252

    job = imported(client, place, "demandes", "demandes.csv", content, year=2025)

    assert job.counts["create"] == 2
    stored = _stored(place)
    first, second = stored["0765400000001"], stored["0765400000002"]
    assert first.date_depot == datetime.date(2024, 3, 14)
    # The first commune is the territory's; the others are kept in order, even outside it.
    assert first.communes_souhaitees == ["76540", "76541", "27229"]
    assert first.commune_insee == "76540"
    assert first.revenu_annuel == Decimal("12345.67")
    assert (first.dalo, first.prioritaire, first.mutation) == (
        True,
        True,
        True,
    )  # DALO ⇒ prioritaire
    assert first.typologie == "T4"
    # 3 people of whom 1 child under 14: the attributions' UC function and scale.
    expected_uc = rules.consumption_units(3, 1, uc_scale_from_settings())
    assert expected_uc == Decimal("1.8")
    assert first.uc == expected_uc
    assert first.revenu_par_uc == rules.income_per_uc(Decimal("12345.67"), expected_uc)
    assert first.revenu_par_uc == Decimal("6858.71")
    assert second.commune_insee == "76541"
    assert second.revenu_annuel is None  # unknown income stays unknown
    assert second.revenu_par_uc is None
    assert second.uc == Decimal("1")
    assert (second.date_radiation, second.motif_radiation) == (
        datetime.date(2025, 6, 15),
        "attribution",
    )


def test_xlsx_first_sheet_with_typed_cells_imports(client, place):
    header = list(demand())
    values = demand("0765400000009", communes_souhaitees=76540)
    row = [values[name] for name in header]
    # A date cell: openpyxl reads it back as a naive datetime, as Excel stores it.
    row[header.index("date_depot")] = datetime.datetime(2025, 1, 6)  # noqa: DTZ001
    row[header.index("nb_personnes")] = 3
    row[header.index("revenu_annuel")] = 21000.5
    imported(client, place, "demandes", "demandes.xlsx", xlsx_bytes(header, [row]))

    stored = _stored(place)["0765400000009"]
    assert stored.date_depot == datetime.date(2025, 1, 6)
    assert stored.communes_souhaitees == ["76540"]
    assert stored.revenu_annuel == Decimal("21000.50")


def test_a_bad_file_lists_every_error_with_line_column_and_value_and_writes_nothing(client, place):
    rows = [
        demand("A1"),  # line 2: valid
        demand("A2", date_depot="31/02/2025", nb_personnes="0"),  # line 3
        demand("A3", communes_souhaitees="27229|76540"),  # line 4: first wish outside
        demand("A1"),  # line 5: numéro twice
        demand("A5", nb_personnes="2", nb_enfants_moins_14="2", revenu_annuel="-5"),  # line 6
        demand("A6", date_radiation="2024-01-01", motif_radiation=""),  # line 7
        demand("A7", motif_radiation="déménagement"),  # line 8
        demand("A8", communes_souhaitees="7654|76540|76540", typologie="T9"),  # line 9
        demand("", mutation="peut-être"),  # line 10
    ]
    response = upload(client, place, "demandes", "demandes.csv", csv_bytes(rows), year=2025)
    assert response.status_code == 302
    job = last_job(place)
    assert job.status == "invalid"

    found = [(e["line"], e["column"], e["value"]) for e in job.errors]
    assert found == [
        (3, "date_depot", "31/02/2025"),
        (3, "nb_personnes", "0"),
        (4, "communes_souhaitees", "27229"),
        (5, "numero_unique", "A1"),
        (6, "revenu_annuel", "-5"),
        (6, "nb_enfants_moins_14", "2"),
        (7, "date_radiation", "2024-01-01"),
        (7, "motif_radiation", ""),
        (8, "motif_radiation", "déménagement"),
        (9, "communes_souhaitees", "7654|76540|76540"),
        (9, "typologie", "T9"),
        (10, "numero_unique", ""),
        (10, "mutation", "peut-être"),
    ]
    messages = {(e["line"], e["column"]): e["message"] for e in job.errors}
    assert "n'appartient pas au territoire" in messages[(4, "communes_souhaitees")]
    assert messages[(5, "numero_unique")] == "Numéro unique en double : lignes 2 et 5 du fichier."
    assert "précède la date de dépôt (14/03/2025)" in messages[(7, "date_radiation")]
    assert "doit indiquer son motif" in messages[(7, "motif_radiation")]
    assert "Motif de radiation inconnu" in messages[(8, "motif_radiation")]
    assert "« 7654 »" in messages[(9, "communes_souhaitees")]
    page = client.get(response.url).content.decode()
    assert "13 erreurs" in page
    assert "Rien n'a été enregistré" in page
    with conference_scope(place.conference):
        assert not Demand.objects.exists()
        assert not AuditEntry.objects.filter(action=AuditAction.IMPORT).exists()
        # The error list quotes cells of demand lines (household-level data): a journaled read.
        (read,) = AccessLogEntry.objects.all()
    assert (read.user, read.object_type, read.row_count) == (
        place.secretariat,
        "observatoire.observatoireimport",
        8,  # lines 3 to 10
    )
    assert read.object_ids == [str(job.public_id)]


def test_identity_and_unknown_columns_refuse_the_file(client, place):
    rows = [{**demand(), "Nom": "Dupont", "NIR": "1850175123456", "Commentaire": "x"}]
    response = upload(client, place, "demandes", "demandes.csv", csv_bytes(rows))
    assert response.status_code == 200  # refused at upload: nothing stored
    page = response.content.decode()
    assert "Colonnes de données d&#x27;identité refusées : « Nom », « NIR »" in page
    assert "Colonnes inconnues : « Commentaire »" in page
    with conference_scope(place.conference):
        assert not ObservatoireImport.objects.exists()


def test_importing_again_is_idempotent_and_updates_by_numero_unique(client, place):
    content = csv_bytes(demands(5))
    first = imported(client, place, "demandes", "demandes.csv", content)
    assert (first.counts["create"], first.counts["update"], first.counts["unchanged"]) == (5, 0, 0)
    stamps = {n: d.updated_at for n, d in _stored(place).items()}

    again = imported(client, place, "demandes", "demandes.csv", content)
    assert (again.counts["create"], again.counts["update"], again.counts["unchanged"]) == (0, 0, 5)
    assert {n: d.updated_at for n, d in _stored(place).items()} == stamps  # untouched

    changed = demands(5)
    changed[1]["date_radiation"] = "2025-09-01"
    changed[1]["motif_radiation"] = "renonciation"
    changed.append(demand("0765400000099"))
    third = imported(client, place, "demandes", "demandes.csv", csv_bytes(changed))
    assert (third.counts["create"], third.counts["update"], third.counts["unchanged"]) == (1, 1, 4)
    stored = _stored(place)
    assert len(stored) == 6
    assert stored["0765400000002"].motif_radiation == "renonciation"
    assert stored["0765400000001"].updated_at == stamps["0765400000001"]


def test_demands_absent_from_a_later_file_are_kept(client, place):
    imported(client, place, "demandes", "a.csv", csv_bytes(demands(3)))
    imported(client, place, "demandes", "b.csv", csv_bytes(demands(2, start=10)))
    assert len(_stored(place)) == 5


def test_preview_shows_the_counts_then_the_import_is_audited(client, place):
    imported(client, place, "demandes", "a.csv", csv_bytes(demands(2)))
    response = upload(client, place, "demandes", "b.csv", csv_bytes(demands(3)))
    page = client.get(response.url).content.decode()
    assert 'id="count-create">1<' in page
    assert "demande à créer" in page
    assert 'id="count-unchanged">2<' in page
    assert "demandes inchangées" in page
    assert "Confirmer l'import" in page
    job = last_job(place)
    confirm(client, place, job)
    with conference_scope(place.conference):
        entry = AuditEntry.objects.filter(action=AuditAction.IMPORT).latest("pk")
    assert entry.actor == place.secretariat
    assert entry.changes["créées"] == 1
    assert entry.changes["inchangées"] == 2
    assert entry.changes["type"] == "Demandes (extraction SNE, demandes v1)"


def test_demands_of_another_conference_are_not_touched(client, place):
    other = make_place()
    imported(client, other, "demandes", "a.csv", csv_bytes(demands(2)))
    job = imported(client, place, "demandes", "a.csv", csv_bytes(demands(2)))
    assert job.counts["create"] == 2  # same numéros, another conference: its own demands
    with conference_scope(other.conference):
        assert Demand.objects.count() == 2
