"""The journal of reads of household-level data (domain.md §6): every page, export and API
read of attribution lines writes exactly one entry with the right row count; aggregates
write none; the secretariat reads the whole conference's journal, everyone else their own."""

import csv
import io
import uuid

import pytest
from django.urls import reverse

from attributions.models import Attribution, ImportJob, ImportStatus
from cil.models import AccessChannel, AccessLogEntry
from cil.roles import RoleName
from cil.tenancy import conference_scope
from tests.attributions.test_api import add_line, auth, issue, valid_body
from tests.world import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


def _url(tenant, name, **kwargs):
    return reverse(name, kwargs={"conference_slug": tenant.conference.slug, **kwargs})


def _entries(tenant) -> list[AccessLogEntry]:
    with conference_scope(tenant.conference):
        return list(AccessLogEntry.objects.select_related("organisation").order_by("pk"))


def _copies(tenant, count: int) -> list[Attribution]:
    """`count` more lines of the bailleur user's organisation (copies of the world's)."""
    with conference_scope(tenant.conference):
        template = Attribution.objects.get(pk=tenant.attribution.pk)
        made = []
        for n in range(count):
            template.pk, template.public_id, template.reference = None, uuid.uuid4(), f"C-{n:03d}"
            template.save()
            made.append(Attribution.objects.get(pk=template.pk))
    return made


# --- Pages ----------------------------------------------------------------------------


def test_list_page_writes_one_entry_with_the_rows_shown(client, world):
    a = world.a
    _copies(a, 55)  # 57 lines in A: a first page of 50, a second of 7
    client.force_login(a.users[RoleName.SECRETARIAT])

    response = client.get(_url(a, "attribution_list"))
    assert response.status_code == 200
    (entry,) = _entries(a)
    assert entry.channel == AccessChannel.PAGE
    assert entry.object_type == "attributions.attribution"
    assert entry.row_count == 50
    shown = {str(row.public_id) for row in response.context["page"]}
    assert set(entry.object_ids) == shown
    assert entry.user == a.users[RoleName.SECRETARIAT]
    assert entry.actor_label == "secretariat@a.test"
    assert entry.organisation == a.users[RoleName.SECRETARIAT].organisation
    assert entry.ip_address == "127.0.0.1"
    assert "page 1" in entry.description
    assert "Toutes les attributions" in entry.description

    client.get(_url(a, "attribution_list"), {"page": 2})
    assert [e.row_count for e in _entries(a)] == [50, 7]


def test_list_filters_are_described_and_a_bailleur_reads_its_own_lines(client, world):
    a = world.a
    bailleur = a.users[RoleName.BAILLEUR]
    client.force_login(bailleur)
    client.get(_url(a, "attribution_list"), {"annee": "2025", "q": "REF"})
    (entry,) = _entries(a)
    # The world gives the bailleur's organisation one line; the other bailleur's is not read.
    assert entry.row_count == 1
    assert entry.object_ids == [str(a.attribution.public_id)]
    assert entry.organisation == bailleur.organisation
    assert "Attributions de l'organisation" in entry.description
    assert "Année : 2025" in entry.description
    assert "Référence contenant : REF" in entry.description


def test_detail_and_edit_form_write_one_entry_each_and_saving_none(client, world):
    a = world.a
    client.force_login(a.users[RoleName.BAILLEUR])
    line = a.attribution
    assert (
        client.get(_url(a, "attribution_detail", attribution_id=line.public_id)).status_code == 200
    )
    assert client.get(_url(a, "attribution_edit", attribution_id=line.public_id)).status_code == 200
    entries = _entries(a)
    assert [(e.row_count, e.object_ids) for e in entries] == [(1, [str(line.public_id)])] * 2
    assert entries[0].description == f"Fiche de l'attribution {line.reference}"
    assert entries[1].description.startswith("Formulaire de modification")

    # Another conference's line: 404, nothing journaled.
    url = _url(a, "attribution_detail", attribution_id=world.b.attribution.public_id)
    assert client.get(url).status_code == 404
    assert len(_entries(a)) == 2
    assert _entries(world.b) == []


def test_export_writes_one_entry_with_every_row_exported(client, world):
    a = world.a
    _copies(a, 3)
    client.force_login(a.users[RoleName.PREFECTURE])

    response = client.get(_url(a, "attribution_export", fmt="csv"), {"annee": "2025"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["reference", "bailleur_siren", "date_signature_bail"]
    assert header[-1] == "premier_quartile"
    # The prefecture reads every line: the bailleur user's 1 + 3 copies, the other bailleur's 1.
    assert len(body) == 5
    by_reference = {r[0]: dict(zip(header, r, strict=True)) for r in body}
    assert by_reference["C-000"]["date_signature_bail"] == "2025-03-14"
    assert by_reference["C-000"]["nb_personnes"] == "2"
    assert by_reference["C-000"]["dalo"] == "non"

    (entry,) = _entries(a)
    assert entry.channel == AccessChannel.EXPORT
    assert entry.row_count == 5
    assert len(entry.object_ids) == 5
    assert entry.description.startswith("Export CSV")

    response = client.get(_url(a, "attribution_export", fmt="xlsx"))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert [e.row_count for e in _entries(a)] == [5, 5]

    assert client.get(_url(a, "attribution_export", fmt="pdf")).status_code == 404
    assert len(_entries(a)) == 2


def test_an_export_too_big_to_list_keeps_the_filters_not_the_ids(client, world, monkeypatch):
    from cil import access_journal

    monkeypatch.setattr(access_journal, "MAX_LISTED_IDS", 2)
    a = world.a
    client.force_login(a.users[RoleName.SECRETARIAT])
    client.get(_url(a, "attribution_export", fmt="csv"))
    (entry,) = _entries(a)
    assert entry.row_count == 2
    assert set(entry.object_ids) == {
        str(a.attribution.public_id),
        str(a.other_bailleur_attribution.public_id),
    }
    _copies(a, 1)
    client.get(_url(a, "attribution_export", fmt="csv"))
    assert _entries(a)[-1].row_count == 3
    assert _entries(a)[-1].object_ids == []
    assert "Sans filtre" in _entries(a)[-1].description


def test_import_errors_quoting_values_are_journaled_a_valid_preview_is_not(client, world):
    a = world.a
    bailleur = a.users[RoleName.BAILLEUR]
    with conference_scope(a.conference):
        invalid = ImportJob.objects.create(
            conference=a.conference,
            created_by=bailleur,
            acting_bailleur=bailleur.organisation,
            filename="erreurs.csv",
            sha256="0" * 64,
            status=ImportStatus.INVALID,
            counts={"lines": 4, "errors": 3},
            errors=[
                {"line": 3, "column": "nb_personnes", "value": "zéro", "message": "Nombre."},
                {"line": 3, "column": "revenu_annuel", "value": "beaucoup", "message": "Nombre."},
                {"line": 5, "column": "commune_insee", "value": "99999", "message": "Inconnue."},
                {"line": None, "column": "", "value": "", "message": "Fichier."},
            ],
        )
        ready = ImportJob.objects.create(
            conference=a.conference,
            created_by=bailleur,
            acting_bailleur=bailleur.organisation,
            filename="valide.csv",
            sha256="1" * 64,
            status=ImportStatus.READY,
            counts={"lines": 4, "create": 4},
        )
    client.force_login(bailleur)
    assert client.get(_url(a, "import_detail", job_id=invalid.public_id)).status_code == 200
    (entry,) = _entries(a)
    assert entry.object_type == "attributions.importjob"
    assert entry.object_ids == [str(invalid.public_id)]
    assert entry.row_count == 2  # lines 3 and 5
    assert "erreurs.csv" in entry.description

    assert client.get(_url(a, "import_detail", job_id=ready.public_id)).status_code == 200
    assert client.get(_url(a, "import_progress", job_id=invalid.public_id)).status_code == 200
    assert len(_entries(a)) == 1


# --- API ------------------------------------------------------------------------------


def test_api_reads_are_journaled_with_the_token_as_actor(client, world):
    a = world.a
    bailleur_org = a.users[RoleName.BAILLEUR].organisation
    clear = issue(a, name="Logiciel de gestion locative")
    add_line(a, bailleur_org, "API-LU", year=2024)

    response = client.get("/api/v1/attributions/", {"limit": 1}, headers=auth(clear))
    assert response.status_code == 200
    (entry,) = _entries(a)
    assert entry.channel == AccessChannel.API
    assert entry.user is None
    assert entry.organisation == bailleur_org
    assert entry.actor_label.startswith("API, jeton ")
    assert entry.actor_label.endswith("(Logiciel de gestion locative)")
    assert entry.row_count == 1
    assert entry.description == "Liste à partir de la ligne 1"

    client.get("/api/v1/attributions/", {"annee": "2024", "offset": 0}, headers=auth(clear))
    assert _entries(a)[-1].row_count == 1
    assert _entries(a)[-1].description == "Liste à partir de la ligne 1 ; année 2024"

    response = client.get(
        reverse("api:attribution_detail", kwargs={"reference": "API-LU"}), headers=auth(clear)
    )
    assert response.status_code == 200
    assert _entries(a)[-1].row_count == 1
    assert _entries(a)[-1].description == "Attribution API-LU"
    assert len(_entries(a)) == 3

    # A write answers the line it wrote: that is the audit log's, not a read.
    response = client.post(
        "/api/v1/attributions/",
        valid_body(a, reference="API-NOUVELLE"),
        content_type="application/json",
        headers=auth(clear),
    )
    assert response.status_code == 201
    # Unknown reference: 404, nothing read.
    response = client.get(
        reverse("api:attribution_detail", kwargs={"reference": "INCONNUE"}), headers=auth(clear)
    )
    assert response.status_code == 404
    assert len(_entries(a)) == 3


# --- Aggregates are not journaled ----------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "name", "kwargs"),
    [
        (RoleName.ELU, "bilan", {}),
        (RoleName.SECRETARIAT, "bilan", {}),
        (RoleName.SECRETARIAT, "bilan_export", {"table": "bailleurs", "fmt": "csv"}),
        (RoleName.MEMBRE, "bilan_export", {"table": "communes", "fmt": "xlsx"}),
        (RoleName.BAILLEUR, "conference_home", {}),
        (RoleName.SECRETARIAT, "reference_detail", {}),
        (RoleName.SECRETARIAT, "access_journal", {}),
        (RoleName.SECRETARIAT, "access_journal_export", {"fmt": "csv"}),
    ],
)
def test_aggregates_and_the_journal_itself_write_no_entry(client, world, role, name, kwargs):
    a = world.a
    client.force_login(a.users[role])
    assert client.get(_url(a, name, **kwargs)).status_code == 200
    assert _entries(a) == []


def test_api_bilan_is_not_journaled(client, world):
    a = world.a
    clear = issue(a)
    assert client.get("/api/v1/bilan/2025/", headers=auth(clear)).status_code == 200
    assert _entries(a) == []


# --- The journal page --------------------------------------------------------------------


def _read_some(client, world):
    """The bailleur reads its list, the prefecture a line, the secretariat an export, in A;
    B's secretariat reads B's list."""
    a, b = world.a, world.b
    for role, name, kwargs in (
        (RoleName.BAILLEUR, "attribution_list", {}),
        (RoleName.PREFECTURE, "attribution_detail", {"attribution_id": a.attribution.public_id}),
        (RoleName.SECRETARIAT, "attribution_export", {"fmt": "csv"}),
    ):
        client.force_login(a.users[role])
        assert client.get(_url(a, name, **kwargs)).status_code == 200
    client.force_login(b.users[RoleName.SECRETARIAT])
    assert client.get(_url(b, "attribution_list")).status_code == 200


def test_secretariat_reads_the_whole_conference_journal_and_only_its_own(client, world):
    _read_some(client, world)
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    response = client.get(_url(world.a, "access_journal"))
    page = list(response.context["page"])
    assert [e.actor_label for e in page] == [
        "secretariat@a.test",
        "prefecture@a.test",
        "bailleur@a.test",
    ]
    content = response.content.decode()
    assert "secretariat@b.test" not in content
    assert "Journal des consultations" in content

    response = client.get(_url(world.a, "access_journal"), {"channel": "export"})
    assert [e.actor_label for e in response.context["page"]] == ["secretariat@a.test"]
    response = client.get(_url(world.a, "access_journal"), {"person": "prefecture"})
    assert [e.actor_label for e in response.context["page"]] == ["prefecture@a.test"]
    organisation = world.a.users[RoleName.BAILLEUR].organisation
    response = client.get(_url(world.a, "access_journal"), {"organisation": organisation.public_id})
    assert [e.actor_label for e in response.context["page"]] == ["bailleur@a.test"]


def test_a_person_reads_only_their_own_reads(client, world):
    _read_some(client, world)
    for role in (RoleName.BAILLEUR, RoleName.PREFECTURE):
        client.force_login(world.a.users[role])
        response = client.get(_url(world.a, "access_journal"))
        assert [e.actor_label for e in response.context["page"]] == [f"{role}@a.test"]
        # No filter on other people for someone who sees only their own reads.
        assert "person" not in response.context["form"].fields
        content = response.content.decode()
        assert "secretariat@a.test" not in content
        # The export follows the same rule.
        exported = client.get(_url(world.a, "access_journal_export", fmt="csv"))
        text = exported.content.decode("utf-8-sig")
        assert f"{role}@a.test" in text
        assert "secretariat@a.test" not in text
    client.force_login(world.a.users[RoleName.ELU])
    response = client.get(_url(world.a, "access_journal"))
    assert list(response.context["page"]) == []
    assert "Aucune consultation" in response.content.decode()


def test_journal_export_has_the_columns_and_the_entries(client, world):
    _read_some(client, world)
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    response = client.get(_url(world.a, "access_journal_export", fmt="csv"))
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:6] == [
        "Date (heure de Paris)",
        "Personne ou jeton",
        "Organisation",
        "Canal",
        "Données",
        "Lignes",
    ]
    assert [(r[1], r[3], r[5]) for r in rows[1:]] == [
        ("secretariat@a.test", "Export", "2"),
        ("prefecture@a.test", "Page", "1"),
        ("bailleur@a.test", "Page", "1"),
    ]
    xlsx = client.get(_url(world.a, "access_journal_export", fmt="xlsx"))
    assert xlsx.status_code == 200
    assert client.get(_url(world.a, "access_journal_export", fmt="json")).status_code == 404


def test_journal_page_query_count_does_not_grow_with_entries(
    client, world, django_assert_max_num_queries
):
    a = world.a
    client.force_login(a.users[RoleName.BAILLEUR])
    for _ in range(30):
        client.get(_url(a, "attribution_detail", attribution_id=a.attribution.public_id))
    client.force_login(a.users[RoleName.SECRETARIAT])
    with django_assert_max_num_queries(12):
        response = client.get(_url(a, "access_journal"))
    assert response.context["page"].paginator.count == 30


def test_only_the_secretariat_has_the_journal_in_its_menu(client, world):
    a = world.a
    client.force_login(a.users[RoleName.SECRETARIAT])
    menu = client.get(_url(a, "conference_home")).content.decode()
    assert _url(a, "access_journal") in menu
    client.force_login(a.users[RoleName.BAILLEUR])
    menu = client.get(_url(a, "conference_home")).content.decode()
    assert _url(a, "access_journal") not in menu
    # …but everyone finds their own reads from their account page.
    account = client.get(reverse("password_change")).content.decode()
    assert _url(a, "access_journal") in account
