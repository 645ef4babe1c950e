"""Big files go through Celery tasks, whose progress the page polls; the tasks are idempotent."""

import datetime

import pytest
from django.core.files.storage import default_storage
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from attributions.import_tasks import import_commit, import_validate, purge_unconfirmed_imports
from attributions.importing import jobs
from attributions.models import Attribution, ImportStatus
from cil.models import AuditAction, AuditEntry, Commune, Qpv
from cil.tenancy import conference_scope
from tests.attributions.test_import_support import (
    confirm,
    csv_bytes,
    last_job,
    lines,
    make_place,
    upload,
    url,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def place(db):
    return make_place()


@pytest.fixture
def small_threshold(settings):
    settings.CIL_IMPORT_ASYNC_LINES = 20


def _progress(client, place, job, **headers):
    return client.get(url(place, "import_progress", job_id=job.public_id), **headers)


def test_big_file_is_checked_then_imported_by_tasks_with_progress(
    client, place, small_threshold, django_capture_on_commit_callbacks
):
    content = csv_bytes(lines(place.bailleurs[0], 30))  # 31 lines with the header

    with django_capture_on_commit_callbacks() as queued:
        response = upload(client, place, "gros.csv", content)
    assert response.status_code == 302
    job = last_job(place)
    assert job.status == ImportStatus.VALIDATING  # not checked in the request
    assert job.total_lines == 31
    assert len(queued) == 1

    page = client.get(response.url).content.decode()
    assert 'hx-trigger="every 1s"' in page
    assert "Vérification du fichier en cours" in page
    with conference_scope(place.conference):
        type(job).objects.filter(pk=job.pk).update(processed_lines=15)
    partial = _progress(client, place, job, HTTP_HX_REQUEST="true")
    assert partial.status_code == 200
    assert "HX-Refresh" not in partial
    body = partial.content.decode()
    assert "<strong>48 %</strong>" in body
    assert '<progress class="cil-import-progress" max="100" value="48"' in body
    assert 'hx-get="' in body
    assert 'hx-swap="outerHTML"' in body

    queued[0]()  # the worker runs the task
    job.refresh_from_db()
    assert job.status == ImportStatus.READY
    assert job.counts["create"] == 30
    finished = _progress(client, place, job, HTTP_HX_REQUEST="true")
    assert finished["HX-Refresh"] == "true"  # htmx reloads the page to show the preview

    with django_capture_on_commit_callbacks() as queued:
        assert confirm(client, place, job).status_code == 302
    job.refresh_from_db()
    assert job.status == ImportStatus.IMPORTING
    assert "Import en cours" in _progress(client, place, job).content.decode()
    with conference_scope(place.conference):
        assert not Attribution.objects.exists()
    assert len(queued) == 1

    queued[0]()
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert job.progress_percent == 100
    with conference_scope(place.conference):
        assert Attribution.objects.count() == 30
        entry = AuditEntry.objects.get(action=AuditAction.IMPORT)
    assert entry.actor == place.secretariat  # who confirmed, passed to the task by id
    assert entry.changes == {"lignes": 30, "créées": 30, "modifiées": 0, "inchangées": 0}


def test_tasks_run_again_do_nothing(
    client, place, small_threshold, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, place, "gros.csv", csv_bytes(lines(place.bailleurs[0], 25)))
    job = last_job(place)
    with django_capture_on_commit_callbacks(execute=True):
        confirm(client, place, job)
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    with conference_scope(place.conference):
        stamps = dict(Attribution.objects.values_list("reference", "updated_at"))
        entries = AuditEntry.objects.count()

    ids = {"conference_id": place.conference.pk, "job_id": job.pk}
    import_validate.delay(**ids)
    import_commit.delay(**ids, actor_id=place.secretariat.pk)

    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    with conference_scope(place.conference):
        assert dict(Attribution.objects.values_list("reference", "updated_at")) == stamps
        assert AuditEntry.objects.count() == entries


def test_a_confirmed_import_that_became_wrong_writes_nothing(
    client, place, small_threshold, django_capture_on_commit_callbacks
):
    """The commit checks every line again: a commune removed since the preview refuses all."""
    rows = lines(place.bailleurs[0], 25)
    rows[-1]["commune_insee"] = "76540"
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, place, "gros.csv", csv_bytes(rows))
    job = last_job(place)
    assert job.status == ImportStatus.READY
    with conference_scope(place.conference):
        Qpv.objects.all().delete()
        Commune.objects.filter(insee="76540").delete()

    with django_capture_on_commit_callbacks(execute=True):
        confirm(client, place, job)
    job.refresh_from_db()
    assert job.status == ImportStatus.INVALID
    assert [(e["line"], e["column"]) for e in job.errors] == [(26, "commune_insee")]
    with conference_scope(place.conference):
        assert not Attribution.objects.exists()
        assert not AuditEntry.objects.filter(action=AuditAction.IMPORT).exists()


def test_validation_costs_the_same_queries_whatever_the_number_of_lines(
    client, place, small_threshold, django_capture_on_commit_callbacks
):
    counted = []
    for count in (25, 250):
        with django_capture_on_commit_callbacks() as queued:
            upload(client, place, f"{count}.csv", csv_bytes(lines(place.bailleurs[0], count)))
        with CaptureQueriesContext(connection) as queries:
            queued[0]()
        counted.append(len(queries))
    assert counted[0] == counted[1]


@pytest.mark.django_db(transaction=True)
def test_progress_of_a_commit_is_visible_before_it_ends(client, small_threshold, monkeypatch):
    """The commit is one transaction: its progress goes through another connection, so that
    the page polling the job sees it while the attributions are not yet visible."""
    place = make_place()
    upload(client, place, "gros.csv", csv_bytes(lines(place.bailleurs[0], 1200)))  # validated
    job = last_job(place)
    assert job.status == ImportStatus.READY

    seen = []
    record = jobs.ProgressWriter.__call__

    def observed(writer, line):
        record(writer, line)
        if writer.inside_transaction:
            outside = connections.create_connection(DEFAULT_DB_ALIAS)
            try:
                with outside.cursor() as cursor:
                    cursor.execute(
                        "SELECT j.status, j.processed_lines, "
                        "(SELECT count(*) FROM attributions_attribution) "
                        "FROM attributions_importjob j WHERE j.id = %s",
                        [job.pk],
                    )
                    seen.append(cursor.fetchone())
            finally:
                outside.close()

    monkeypatch.setattr(jobs.ProgressWriter, "INTERVAL", 0)
    monkeypatch.setattr(jobs.ProgressWriter, "__call__", observed)
    confirm(client, place, job)

    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert seen == [("importing", 501, 0), ("importing", 1001, 0)]


def test_the_file_is_deleted_once_the_job_has_ended(
    client, place, django_capture_on_commit_callbacks
):
    """The file holds household-level data: kept only while the job needs it."""
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, place, "a.csv", csv_bytes(lines(place.bailleurs[0], 2)))
    job = last_job(place)
    name = job.file.name
    assert job.status == ImportStatus.READY
    assert default_storage.exists(name)

    with django_capture_on_commit_callbacks(execute=True):
        confirm(client, place, job)
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert job.file.name == ""
    assert not default_storage.exists(name)
    assert client.get(url(place, "import_detail", job_id=job.public_id)).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        upload(
            client, place, "b.csv", csv_bytes(lines(place.bailleurs[0], 1, commune_insee="99999"))
        )
    refused = last_job(place)
    assert refused.status == ImportStatus.INVALID
    assert refused.file.name == ""


def test_unconfirmed_jobs_end_after_a_week(client, place, django_capture_on_commit_callbacks):
    upload(client, place, "a.csv", csv_bytes(lines(place.bailleurs[0], 2)))
    recent = last_job(place)
    upload(client, place, "b.csv", csv_bytes(lines(place.bailleurs[0], 2)))
    old = last_job(place)
    with conference_scope(place.conference):
        type(old).objects.filter(pk=old.pk).update(
            created_at=timezone.now() - datetime.timedelta(days=8)
        )

    with django_capture_on_commit_callbacks(execute=True):
        assert purge_unconfirmed_imports.delay().get() == 1

    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.status == ImportStatus.FAILED
    assert old.file.name == ""
    assert "non confirmé dans les 7 jours" in old.errors[0]["message"]
    assert recent.status == ImportStatus.READY
    assert default_storage.exists(recent.file.name)
    assert confirm(client, place, old).status_code == 302
    with conference_scope(place.conference):
        assert not Attribution.objects.exists()
