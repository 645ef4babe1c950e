"""The retention policy (cil/retention.py), on a frozen clock on both sides of each limit:
household-level rows go, aggregates stay, each conference is purged in its own scope with an
audit entry of the counts; `--dry-run` only counts."""

import datetime
import uuid
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command

from attributions import bilan_cache
from attributions.models import Attribution, BilanResult, ImportJob, ImportStatus
from cil import retention
from cil.models import AccessLogEntry, AuditAction, AuditEntry, Invitation, PurgedPeriod
from cil.roles import RoleName
from cil.tenancy import conference_scope
from observatoire.models import Demand
from tests.world import build_world

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")


def at(*args) -> datetime.datetime:
    """A moment, Paris time (dates and years are Paris's)."""
    return datetime.datetime(*args, tzinfo=PARIS)


def utc(*args) -> datetime.datetime:
    """A moment in UTC (durations in days are counted in UTC: no daylight-saving shift)."""
    return datetime.datetime(*args, tzinfo=datetime.UTC)


@pytest.fixture
def world():
    return build_world()


def _purge(when: datetime.datetime, *args) -> str:
    out = StringIO()
    with time_machine.travel(when, tick=False):
        call_command("purge_personal_data", *args, stdout=out)
    return out.getvalue()


def _count(tenant, model, **filters) -> int:
    with conference_scope(tenant.conference):
        return model.objects.filter(**filters).count()


def _demand(tenant, numero: str, *, radiation: datetime.date | None) -> Demand:
    with conference_scope(tenant.conference):
        return Demand.objects.create(
            conference=tenant.conference,
            numero_unique=numero,
            date_depot=datetime.date(2023, 1, 10),
            communes_souhaitees=["76540"],
            commune_insee="76540",
            nb_personnes=2,
            uc=Decimal("1.5"),
            date_radiation=radiation,
        )


# --- Demands: one year after the radiation (domain.md §6) ----------------------------------


def test_a_closed_demand_is_kept_one_year_then_purged(world):
    a, b = world.a, world.b
    _demand(a, "076-A-CLOSE", radiation=datetime.date(2025, 3, 1))
    _demand(a, "076-A-OPEN", radiation=None)
    _demand(b, "076-B-CLOSE", radiation=datetime.date(2025, 3, 1))

    _purge(at(2026, 3, 1, 23, 59))  # 365 days after the radiation: kept
    assert _count(a, Demand) == 2
    _purge(at(2026, 3, 2, 0, 1))  # the day after: gone, the open demand stays
    assert list(_numeros(a)) == ["076-A-OPEN"]
    assert list(_numeros(b)) == []
    # The observatoire can tell that its figures of 2025 lost rows.
    with conference_scope(a.conference):
        period = PurgedPeriod.objects.get()
    assert (period.category, period.year, period.row_count) == ("demandes", 2025, 1)


def _numeros(tenant):
    with conference_scope(tenant.conference):
        return Demand.objects.values_list("numero_unique", flat=True)


# --- Attributions: the lines of a year go, its bilan stays ------------------------------------


def test_attribution_lines_go_after_the_retention_years_and_their_bilan_stays(
    world, django_capture_on_commit_callbacks
):
    a = world.a
    # The world's lines are of 2025: kept until the end of 2025 + 6 = 2031.
    _purge(at(2031, 12, 31, 23, 59))
    assert _count(a, Attribution) == 2
    assert _count(a, BilanResult) == 0

    _purge(at(2032, 1, 1, 0, 1))
    assert _count(a, Attribution) == 0
    with conference_scope(a.conference):
        bilan = BilanResult.objects.get(year=2025)
        period = PurgedPeriod.objects.get()
    assert bilan.document["annee"] == 2025
    assert bilan.document["total"]["attributions"] == 2
    assert (period.category, period.year, period.row_count) == ("attributions", 2025, 2)
    assert _count(world.b, Attribution) == 0  # B's lines were as old

    # The bilan of a purged year is final: a change that invalidates every year keeps it.
    with django_capture_on_commit_callbacks(execute=True):
        bilan_cache.invalidate_all(conference_id=a.conference.pk)
    assert _count(a, BilanResult, year=2025) == 1


def test_a_stored_bilan_is_kept_as_it_was(world):
    a = world.a
    with time_machine.travel(at(2026, 2, 1, 9, 0), tick=False):
        bilan_cache.refresh(a.conference, 2025)
    _purge(at(2032, 1, 1, 0, 1))
    with conference_scope(a.conference):
        # Not recomputed: the one stored while the lines were there.
        assert BilanResult.objects.get(year=2025).computed_at == at(2026, 2, 1, 9, 0)


def test_the_number_of_years_is_a_setting(world, settings):
    settings.CIL_RETENTION_ATTRIBUTION_YEARS = 1
    _purge(at(2026, 12, 31, 12, 0))
    assert _count(world.a, Attribution) == 2
    _purge(at(2027, 1, 1, 12, 0))
    assert _count(world.a, Attribution) == 0


# --- Import jobs, the journal, invitations --------------------------------------------------


def _job(tenant, status: str, created: datetime.datetime, *, with_file: bool) -> ImportJob:
    bailleur = tenant.users[RoleName.BAILLEUR]
    with time_machine.travel(created, tick=False), conference_scope(tenant.conference):
        job = ImportJob(
            conference=tenant.conference,
            created_by=bailleur,
            acting_bailleur=bailleur.organisation,
            filename="lignes.csv",
            sha256="0" * 64,
            status=status,
            errors=[{"line": 2, "column": "nb_personnes", "value": "x", "message": "Nombre."}],
        )
        if with_file:
            job.file.save(f"{uuid.uuid4()}.csv", ContentFile(b"reference;x\n"), save=False)
        job.save()
    return job


def test_ended_import_jobs_and_their_files_go_after_their_duration(
    world, django_capture_on_commit_callbacks
):
    a = world.a
    created = utc(2026, 1, 10, 12, 0)
    ended = _job(a, ImportStatus.INVALID, created, with_file=True)
    waiting = _job(a, ImportStatus.READY, created, with_file=False)
    path = ended.file.name
    assert default_storage.exists(path)

    _purge(utc(2026, 4, 10, 11, 59))  # 90 days after the upload, minus a minute
    assert _count(a, ImportJob) == 2
    with django_capture_on_commit_callbacks(execute=True):
        _purge(utc(2026, 4, 10, 12, 1))
    with conference_scope(a.conference):
        assert list(ImportJob.objects.values_list("pk", flat=True)) == [waiting.pk]
    assert not default_storage.exists(path)


def test_journal_entries_and_expired_invitations_go_after_their_duration(world):
    a = world.a
    with time_machine.travel(utc(2026, 1, 10, 12, 0), tick=False), conference_scope(a.conference):
        AccessLogEntry.objects.create(
            conference=a.conference,
            actor_label="lecteur@a.test",
            channel="page",
            object_type="attributions.attribution",
            row_count=3,
        )
        Invitation.objects.create(
            conference=a.conference,
            email="ancienne@exemple.fr",
            organisation=a.membership.organisation,
            role=RoleName.MEMBRE,
            token_hash="f" * 64,
            expires_at=utc(2026, 1, 17, 12, 0),
        )
    # Journal: 365 days after the read; invitation: 90 days after its expiry (17 April).
    _purge(utc(2026, 4, 17, 11, 59))
    assert _count(a, Invitation, email="ancienne@exemple.fr") == 1
    _purge(utc(2026, 4, 17, 12, 1))
    assert _count(a, Invitation, email="ancienne@exemple.fr") == 0
    assert _count(a, Invitation) == 1  # the world's pending one (expires in 2100)
    assert _count(a, AccessLogEntry) == 1
    _purge(utc(2027, 1, 10, 11, 59))
    assert _count(a, AccessLogEntry) == 1
    _purge(utc(2027, 1, 10, 12, 1))
    assert _count(a, AccessLogEntry) == 0


# --- Dry run, audit, one conference at a time ----------------------------------------------------


def test_dry_run_counts_per_category_and_deletes_nothing(world):
    a = world.a
    _demand(a, "076-A-CLOSE", radiation=datetime.date(2025, 3, 1))
    output = _purge(at(2032, 1, 1, 12, 0), "--dry-run")
    assert "conf-a — Conférence A" in output
    assert "Demandes radiées depuis plus de 365 jours : 1 à supprimer" in output
    assert (
        "Lignes d'attribution de plus de 6 ans (le bilan de leur année est conservé) : 2 à supprimer"
        in output
    )
    assert "Simulation (rien n'a été supprimé) — total :" in output
    # Totals over both conferences: A's 2 lines and B's 2.
    assert output.rstrip().splitlines()[-4].endswith(": 4 à supprimer")
    assert _count(a, Attribution) == 2
    assert _count(a, Demand) == 1
    assert _count(a, BilanResult) == 0
    with conference_scope(a.conference):
        assert not AuditEntry.objects.filter(action=AuditAction.PURGE).exists()


def test_one_audit_entry_per_conference_with_the_counts(world):
    a = world.a
    _demand(a, "076-A-CLOSE", radiation=datetime.date(2025, 3, 1))
    _purge(at(2032, 1, 1, 12, 0))
    with conference_scope(a.conference):
        (entry,) = AuditEntry.objects.filter(action=AuditAction.PURGE)
    assert entry.actor is None
    assert entry.actor_label == "plateforme"
    assert entry.changes == {
        "Demandes radiées depuis plus de 365 jours": [1, 0],
        "Lignes d'attribution de plus de 6 ans (le bilan de leur année est conservé)": [2, 0],
    }
    with conference_scope(world.b.conference):
        assert AuditEntry.objects.filter(action=AuditAction.PURGE).count() == 1
    # Nothing left to delete: no new entry.
    _purge(at(2032, 1, 2, 12, 0))
    with conference_scope(a.conference):
        assert AuditEntry.objects.filter(action=AuditAction.PURGE).count() == 1


def test_one_conference_only_leaves_the_others_untouched(world):
    output = _purge(at(2032, 1, 1, 12, 0), "--conference", "conf-a")
    assert "conf-b" not in output
    assert _count(world.a, Attribution) == 0
    assert _count(world.b, Attribution) == 2
    with pytest.raises(Exception, match="Conférence inconnue"):
        _purge(at(2032, 1, 1, 12, 0), "--conference", "inconnue")


def test_the_beat_task_purges_every_conference(world):
    from cil.tasks import purge_personal_data

    with time_machine.travel(at(2032, 1, 1, 12, 0), tick=False):
        result = purge_personal_data.delay().get()
    assert result["conf-a"]["attributions"] == 2
    assert result["conf-b"]["attributions"] == 2
    assert _count(world.a, Attribution) == 0


def test_the_personal_data_page_states_the_durations(client, settings):
    settings.CIL_RETENTION_ACCESS_LOG_DAYS = 180
    page = client.get("/donnees-personnelles/").content.decode()
    assert "365 jours après la radiation de la demande" in page
    assert "180 jours après la consultation" in page
    assert "double authentification" in page
    assert "Journal des consultations" in page
    assert "30 minutes sans activité" in page
    assert retention.retention_summary()["access_log_days"] == 180


def test_a_failing_conference_does_not_stop_the_others(world, monkeypatch):
    real_refresh = bilan_cache.refresh

    def refresh(conference, year):
        if conference.slug == "conf-a":
            raise RuntimeError("calcul impossible")
        return real_refresh(conference, year)

    monkeypatch.setattr(bilan_cache, "refresh", refresh)
    with (
        time_machine.travel(at(2032, 1, 1, 12, 0), tick=False),
        pytest.raises(retention.PurgeFailed, match="conf-a"),
    ):
        retention.purge_all()
    assert _count(world.a, Attribution) == 2  # nothing deleted without its bilan
    assert _count(world.b, Attribution) == 0
    out, err = StringIO(), StringIO()
    with (
        time_machine.travel(at(2032, 1, 1, 12, 0), tick=False),
        pytest.raises(Exception, match="Purge en échec pour : conf-a"),
    ):
        call_command("purge_personal_data", stdout=out, stderr=err)
    assert "ÉCHEC, rien n'a été supprimé" in err.getvalue()
