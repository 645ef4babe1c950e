"""A worker killed in the middle of tasks: after a restart, each task completes exactly once
(acks_late: the broker gives the message back; the outbox runs it once; the import job's
state makes the interrupted step start again from scratch).

Six confirmed imports are queued as `import_commit` tasks; a real worker (two processes)
starts on them and its whole process group gets SIGKILL while tasks are running; a new
worker then finishes the work.
"""

import time

import pytest
from django.db import connection
from django.urls import reverse

from attributions.models import Attribution, ImportJob, ImportStatus
from cil.models import AuditAction, AuditEntry, OutboxMessage, OutboxStatus
from cil.outbox import LOCK_NAMESPACE
from cil.tenancy import conference_scope, unscoped
from tests.attributions.test_import_support import csv_bytes, lines, make_place, upload
from tests.faults.support import (
    VISIBILITY_TIMEOUT,
    RedisServer,
    Worker,
    broker_mode,
    media_on_disk,
    outbox_statuses,
    record,
    wait_for,
)

pytestmark = pytest.mark.django_db(transaction=True)

JOBS = 6
LINES = 1500


@pytest.fixture
def lab(tmp_path, settings):
    media_on_disk(settings, tmp_path)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    server = RedisServer()
    server.start()
    worker = Worker(broker_url=server.url, workdir=tmp_path, concurrency=2)
    try:
        with broker_mode(server.url):
            yield worker
    finally:
        worker.stop()
        server.stop()


def running_tasks() -> int:
    """Outbox messages whose run holds its advisory lock now (cil/outbox.py `_run_lock`)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1 "
            "AND classid::bigint = %s "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            [LOCK_NAMESPACE << 16],
        )
        return cursor.fetchone()[0]


def jobs_done(place) -> int:
    with conference_scope(place.conference):
        return ImportJob.objects.filter(status=ImportStatus.DONE).count()


def test_killed_worker_each_task_completes_once_after_restart(client, lab, settings):
    worker = lab
    place = make_place()
    settings.CIL_IMPORT_ASYNC_LINES = LINES + 10  # checked in the request: READY at once
    for n in range(JOBS):
        content = csv_bytes(lines(place.bailleurs[0], LINES, start=n * LINES + 1))
        assert upload(client, place, f"lot-{n}.csv", content).status_code == 302
    with conference_scope(place.conference):
        jobs = list(ImportJob.objects.order_by("pk"))
    assert {job.status for job in jobs} == {ImportStatus.READY}

    settings.CIL_IMPORT_ASYNC_LINES = 1  # confirmed: written by a task
    for job in jobs:
        url = reverse(
            "import_confirm", kwargs={"conference_slug": place.slug, "job_id": job.public_id}
        )
        assert client.post(url).status_code == 302
    assert outbox_statuses() == {OutboxStatus.DISPATCHED: JOBS}

    worker.start()
    interrupted = wait_for(running_tasks, timeout=30, interval=0.05)
    assert interrupted, worker.log()
    worker.kill()
    killed_at = time.monotonic()
    done_before_restart = jobs_done(place)
    assert done_before_restart < JOBS

    time.sleep(VISIBILITY_TIMEOUT)  # the killed worker's messages become visible again
    worker.start()
    assert wait_for(lambda: jobs_done(place) == JOBS, timeout=45), worker.log()
    recovery = time.monotonic() - killed_at

    with conference_scope(place.conference):
        written = Attribution.objects.count()
        imports = AuditEntry.objects.filter(action=AuditAction.IMPORT).count()
        assert written == JOBS * LINES
        assert imports == JOBS
        assert [job.counts["create"] for job in ImportJob.objects.order_by("pk")] == [LINES] * JOBS
    assert wait_for(lambda: outbox_statuses() == {OutboxStatus.COMPLETED: JOBS}, timeout=10)
    with unscoped():
        assert set(OutboxMessage.objects.values_list("attempts", flat=True)) == {1}
    record(
        {
            "scenario": "worker_killed",
            "tasks_queued": JOBS,
            "running_when_killed": interrupted,
            "done_before_restart": done_before_restart,
            "completed": outbox_statuses()[OutboxStatus.COMPLETED],
            "import_audit_entries": imports,
            "lines_written": written,
            "lines_expected": JOBS * LINES,
            "seconds_from_kill_to_all_done": round(recovery, 2),
        }
    )
