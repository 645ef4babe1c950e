"""The observatory's import jobs: big files through Celery tasks with htmx progress, tasks run
again doing nothing, the uploaded file deleted once done, only the secretariat allowed."""

import datetime

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from cil.roles import RoleName
from cil.tenancy import conference_scope
from observatoire.models import Demand, Dwelling, ObservatoireImport
from observatoire.tasks import (
    observatoire_import_commit,
    observatoire_import_validate,
    purge_unconfirmed_observatoire_imports,
)
from tests.factories import OrganisationFactory, UserFactory, grant
from tests.observatoire.test_import_support import (
    confirm,
    csv_bytes,
    demand,
    demands,
    dwelling,
    last_job,
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
    return client.get(url(place, "observatoire_import_progress", job_id=job.public_id), **headers)


def test_big_demand_file_is_checked_then_imported_by_tasks_with_progress(
    client, place, small_threshold, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:
        response = upload(client, place, "demandes", "gros.csv", csv_bytes(demands(30)))
    assert response.status_code == 302
    job = last_job(place)
    assert job.status == "validating"  # not checked in the request
    assert job.total_lines == 31
    assert len(queued) == 1

    page = client.get(response.url).content.decode()
    assert 'hx-trigger="every 1s"' in page
    assert "Vérification du fichier en cours" in page
    with conference_scope(place.conference):
        ObservatoireImport.objects.filter(pk=job.pk).update(processed_lines=15)
    partial = _progress(client, place, job, HTTP_HX_REQUEST="true")
    assert "HX-Refresh" not in partial
    assert "<strong>48 %</strong>" in partial.content.decode()

    queued[0]()  # the worker runs the task (eager in tests)
    job.refresh_from_db()
    assert job.status == "ready"
    assert job.counts["create"] == 30
    assert _progress(client, place, job, HTTP_HX_REQUEST="true")["HX-Refresh"] == "true"

    with django_capture_on_commit_callbacks() as queued:
        assert confirm(client, place, job).status_code == 302
    job.refresh_from_db()
    assert job.status == "committing"
    assert "Import en cours" in _progress(client, place, job).content.decode()
    with conference_scope(place.conference):
        assert not Demand.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        queued[0]()
    job.refresh_from_db()
    assert job.status == "done"
    assert job.progress_percent == 100
    with conference_scope(place.conference):
        assert Demand.objects.count() == 30
    assert job.file.name == ""  # deleted once done


def test_big_rpls_file_reports_progress_over_every_line_of_the_file(
    client, place, small_threshold, django_capture_on_commit_callbacks, monkeypatch
):
    """A national file is mostly other communes' lines: the progress counts them too."""
    from attributions.importing.jobs import ProgressWriter

    seen = []
    record = ProgressWriter.__call__

    def observed(writer, line):
        seen.append(line)
        record(writer, line)

    monkeypatch.setattr("observatoire.importing.base.PROGRESS_EVERY", 100)
    monkeypatch.setattr(ProgressWriter, "__call__", observed)
    rows = [dwelling(f"{n:010d}", "27229") for n in range(450)] + [dwelling("0000009999")]
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, place, "rpls", "rpls.csv", csv_bytes(rows), year=2025)
    job = last_job(place)
    assert job.status == "ready"
    assert seen == [100, 200, 300, 400]
    assert (job.counts["lines"], job.counts["ignored"]) == (1, 450)
    with django_capture_on_commit_callbacks(execute=True):
        confirm(client, place, job)
    with conference_scope(place.conference):
        assert list(Dwelling.objects.values_list("rpls_id", flat=True)) == ["0000009999"]


def test_tasks_run_again_do_nothing(
    client, place, small_threshold, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, place, "demandes", "gros.csv", csv_bytes(demands(25)))
    job = last_job(place)
    with django_capture_on_commit_callbacks(execute=True):
        confirm(client, place, job)
    job.refresh_from_db()
    assert job.status == "done"
    with conference_scope(place.conference):
        stamps = dict(Demand.objects.values_list("numero_unique", "updated_at"))

    ids = {"conference_id": place.conference.pk, "job_id": job.pk}
    observatoire_import_validate.delay(**ids)
    observatoire_import_commit.delay(**ids, actor_id=place.secretariat.pk)
    job.refresh_from_db()
    assert job.status == "done"
    with conference_scope(place.conference):
        assert dict(Demand.objects.values_list("numero_unique", "updated_at")) == stamps


def test_a_confirmed_import_that_became_wrong_writes_nothing(
    client, place, small_threshold, django_capture_on_commit_callbacks
):
    """The commit checks every line again: a commune removed since the preview refuses all."""
    rows = [*demands(24, communes_souhaitees="76541"), demand("0765499999999")]
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, place, "demandes", "gros.csv", csv_bytes(rows))
    job = last_job(place)
    assert job.status == "ready"
    with conference_scope(place.conference):
        place.conference.qpvs.all().delete()
        place.conference.communes.filter(insee="76540").delete()
    with django_capture_on_commit_callbacks(execute=True):
        confirm(client, place, job)
    job.refresh_from_db()
    assert job.status == "invalid"
    assert [(e["line"], e["column"]) for e in job.errors] == [(26, "communes_souhaitees")]
    with conference_scope(place.conference):
        assert not Demand.objects.exists()


def test_the_file_is_deleted_once_the_job_has_ended(
    client, place, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, place, "demandes", "a.csv", csv_bytes(demands(2)))
    job = last_job(place)
    name = job.file.name
    assert job.status == "ready"
    assert default_storage.exists(name)  # kept until confirmed
    with django_capture_on_commit_callbacks(execute=True):
        confirm(client, place, job)
    job.refresh_from_db()
    assert job.file.name == ""
    assert not default_storage.exists(name)

    with django_capture_on_commit_callbacks(execute=True):
        upload(client, place, "demandes", "b.csv", csv_bytes([demand(nb_personnes="0")]))
    refused = last_job(place)
    assert refused.status == "invalid"
    assert refused.file.name == ""


def test_unconfirmed_jobs_end_after_a_week(client, place, django_capture_on_commit_callbacks):
    upload(client, place, "demandes", "a.csv", csv_bytes(demands(2)))
    recent = last_job(place)
    upload(client, place, "demandes", "b.csv", csv_bytes(demands(2)))
    old = last_job(place)
    with conference_scope(place.conference):
        ObservatoireImport.objects.filter(pk=old.pk).update(
            created_at=timezone.now() - datetime.timedelta(days=8)
        )
    with django_capture_on_commit_callbacks(execute=True):
        assert purge_unconfirmed_observatoire_imports.delay().get() == 1
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.status == "failed"
    assert old.file.name == ""
    assert recent.status == "ready"
    assert confirm(client, place, old).status_code == 302
    with conference_scope(place.conference):
        assert not Demand.objects.exists()


@pytest.mark.parametrize(
    "role", [RoleName.BAILLEUR, RoleName.ELU, RoleName.PREFECTURE, RoleName.MEMBRE]
)
def test_only_the_secretariat_imports(client, place, role):
    user = UserFactory(organisation=OrganisationFactory())
    grant(user, place.conference, role)
    response = upload(client, place, "demandes", "a.csv", csv_bytes(demands(1)), user=user)
    assert response.status_code == 403
    assert client.get(url(place, "observatoire_import_upload")).status_code == 403
    with conference_scope(place.conference):
        assert not ObservatoireImport.objects.exists()
        assert not Demand.objects.exists()


def test_a_job_of_another_conference_is_not_found(client, place):
    other = make_place()
    upload(client, other, "demandes", "a.csv", csv_bytes(demands(1)))
    job = last_job(other)
    client.force_login(place.secretariat)
    assert (
        client.get(url(place, "observatoire_import_detail", job_id=job.public_id)).status_code
        == 404
    )
    assert confirm(client, place, job).status_code == 404
    job.refresh_from_db()
    assert job.status == "ready"


def test_upload_page_lists_past_imports_and_the_template_downloads(client, place):
    upload(client, place, "demandes", "demandes-2025.csv", csv_bytes(demands(1)), year=2025)
    page = client.get(url(place, "observatoire_import_upload")).content.decode()
    assert "demandes-2025.csv" in page
    assert "Demandes (extraction SNE, demandes v1)" in page
    template = client.get(url(place, "observatoire_import_template"))
    assert template.content.decode("utf-8-sig").strip() == ";".join(demand())
