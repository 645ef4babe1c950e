"""Redis stopped: pages and forms keep working, and the jobs they asked for run exactly once
after Redis is back (cil/outbox.py).

A real broker (a private redis-server), a real worker (a `celery worker` subprocess on the
test database, hence transaction=True: it sees only committed rows), requests through the
test client as the secretariat and a bailleur.
"""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from attributions.models import Attribution, BilanResult, ImportJob, ImportStatus
from cil.celery import app
from cil.models import AuditAction, AuditEntry, OutboxMessage, OutboxStatus
from cil.roles import RoleName
from cil.tasks import purge_outbox
from cil.tenancy import conference_scope, unscoped
from conventions.models import DocumentStatus, GeneratedDocument
from tests.attributions.test_import_support import csv_bytes, last_job, lines, make_place, upload
from tests.conventions.documents_support import YEAR, bilan_world
from tests.faults.support import (
    RedisServer,
    Worker,
    broker_mode,
    mails_to,
    media_on_disk,
    outbox_statuses,
    record,
    timed,
    wait_for,
)

pytestmark = pytest.mark.django_db(transaction=True)

INVITEE = "nouvelle.personne@bailleur.fr"
IMPORT_LINES = 30
# A request during the outage answers within this (the publication fails fast, never hangs).
MAX_SECONDS = 5


@pytest.fixture
def lab(tmp_path, settings):
    """Broker mode on a private Redis, files on disk shared with the worker subprocess."""
    media_on_disk(settings, tmp_path)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CIL_IMPORT_ASYNC_LINES = 20  # the uploaded file goes through a task
    server = RedisServer()
    server.start()
    worker = Worker(broker_url=server.url, workdir=tmp_path)
    try:
        with broker_mode(server.url):
            yield server, worker
    finally:
        worker.stop()
        server.stop()


def _all_ended() -> bool:
    statuses = outbox_statuses()
    return set(statuses) <= {OutboxStatus.COMPLETED, OutboxStatus.FAILED}


def test_redis_down_pages_and_forms_work_then_each_job_runs_once(client, lab):
    server, worker = lab
    world = bilan_world()
    place = make_place()
    a = world.a
    slug = a.conference.slug
    secretariat, bailleur = a.users[RoleName.SECRETARIAT], a.users[RoleName.BAILLEUR]
    answers = []

    def visit(user, method, url, data=None):
        client.force_login(user)
        response, seconds = timed(lambda: getattr(client, method)(url, data or {}))
        answers.append((method, url, response.status_code, seconds))
        return response

    server.stop()
    for name in ("conference_home", "member_list", "user_list", "document_list"):
        visit(secretariat, "get", reverse(name, kwargs={"conference_slug": slug}))
    invited = visit(
        secretariat,
        "post",
        reverse("user_invite", kwargs={"conference_slug": slug}),
        {
            "email": INVITEE,
            "organisation": str(a.membership.organisation.public_id),
            "role": RoleName.BAILLEUR,
        },
    )
    requested = visit(
        secretariat,
        "post",
        reverse("document_bilan_request", kwargs={"conference_slug": slug}),
        {"year": YEAR},
    )
    bilan = visit(bailleur, "get", reverse("bilan", kwargs={"conference_slug": slug}))
    started, seconds = timed(
        lambda: upload(
            client, place, "gros.csv", csv_bytes(lines(place.bailleurs[0], IMPORT_LINES))
        )
    )
    answers.append(("post", "import_upload", started.status_code, seconds))
    visit(place.secretariat, "get", started.url)

    assert [answer for answer in answers if answer[2] >= 500] == []
    assert (invited.status_code, requested.status_code, started.status_code) == (302, 302, 302)
    assert bilan.status_code == 200
    slowest = max(seconds for *_, seconds in answers)
    assert slowest < MAX_SECONDS, answers
    pending = outbox_statuses()
    with unscoped():
        asked = set(OutboxMessage.objects.values_list("task_name", flat=True))
        invitation_message = OutboxMessage.objects.get(task_name="cil.tasks.send_invitation_email")
    assert set(pending) == {OutboxStatus.PENDING}
    assert asked == {
        "cil.tasks.send_invitation_email",
        "conventions.tasks_documents.generate_document",
        "attributions.bilan_tasks.compute_bilan",
        "attributions.import_tasks.import_validate",
    }
    assert last_job(place).status == ImportStatus.VALIDATING

    server.start()
    relayed = io.StringIO()
    call_command("relay_outbox", stdout=relayed)
    assert f"Tâches transmises : {pending.total()} ;" in relayed.getvalue()
    assert set(outbox_statuses()) == {OutboxStatus.DISPATCHED}
    worker.start()
    _, recovery = timed(lambda: wait_for(_all_ended, timeout=45))
    assert _all_ended(), worker.log()

    mail = worker.workdir / "mail"
    assert mails_to(mail, INVITEE) == 1
    job = last_job(place)
    assert job.status == ImportStatus.READY
    with conference_scope(a.conference):
        document = GeneratedDocument.objects.get()
        assert document.status == DocumentStatus.READY, document.error
        assert BilanResult.objects.filter(year=YEAR).count() == 1
    with unscoped():
        runs = list(OutboxMessage.objects.values_list("status", "attempts"))
    assert runs == [(OutboxStatus.COMPLETED, 1)] * pending.total()

    # The broker delivers a message twice (a relay's re-publication, a restored message):
    # the second delivery does nothing.
    with app.connection_for_write() as broker:
        app.send_task(
            invitation_message.task_name,
            kwargs=invitation_message.kwargs,
            task_id=f"outbox-{invitation_message.public_id}",
            connection=broker,
            ignore_result=True,
        )
    assert wait_for(lambda: server.backlog() == 0, timeout=15)
    assert mails_to(mail, INVITEE) == 1

    # Broker back: a confirmation is published at once and imports the lines once.
    client.force_login(place.secretariat)
    confirmed = client.post(
        reverse("import_confirm", kwargs={"conference_slug": place.slug, "job_id": job.public_id})
    )
    assert confirmed.status_code == 302
    assert wait_for(lambda: last_job(place).status == ImportStatus.DONE, timeout=30)
    with conference_scope(place.conference):
        assert Attribution.objects.count() == IMPORT_LINES
        assert AuditEntry.objects.filter(action=AuditAction.IMPORT).count() == 1
        assert ImportJob.objects.get().counts["create"] == IMPORT_LINES
    assert wait_for(_all_ended, timeout=10)  # marked right after the task's body returns
    record(
        {
            "scenario": "redis_stopped",
            "requests": len(answers),
            "server_errors": sum(status >= 500 for _, _, status, _ in answers),
            "max_seconds": round(slowest, 3),
            "pending_during_outage": pending.total(),
            "completed_after": outbox_statuses()[OutboxStatus.COMPLETED],
            "invitation_mails": mails_to(mail, INVITEE),
            "seconds_to_complete_after_restart": round(recovery, 2),
        }
    )


def test_relay_publishes_again_a_message_the_broker_lost_then_gives_up(client, lab, settings):
    server, _ = lab
    world = bilan_world()
    a = world.a
    client.force_login(a.users[RoleName.SECRETARIAT])
    response = client.post(
        reverse("user_invite", kwargs={"conference_slug": a.conference.slug}),
        {
            "email": INVITEE,
            "organisation": str(a.membership.organisation.public_id),
            "role": RoleName.BAILLEUR,
        },
    )
    assert response.status_code == 302
    assert outbox_statuses() == {OutboxStatus.DISPATCHED: 1}  # published after the commit
    assert server.backlog() == 1

    server.stop()  # no persistence: the message is lost, as in a crash
    server.start()
    assert server.backlog() == 0
    call_command("relay_outbox", stdout=io.StringIO())
    assert server.backlog() == 0  # dispatched recently: maybe still queued, left alone

    long_ago = timezone.now() - timedelta(seconds=settings.CIL_OUTBOX_REDISPATCH_SECONDS + 1)
    with unscoped():
        OutboxMessage.objects.update(dispatched_at=long_ago)
    call_command("relay_outbox", stdout=io.StringIO())
    assert server.backlog() == 1
    with unscoped():
        message = OutboxMessage.objects.get()
    assert (message.status, message.attempts) == (OutboxStatus.DISPATCHED, 2)
    assert "token" in message.kwargs

    # Never run however often published (a task that kills its worker): abandoned, and the
    # invitation's secret is not kept.
    with unscoped():
        OutboxMessage.objects.update(
            dispatched_at=long_ago, attempts=settings.CIL_OUTBOX_MAX_ATTEMPTS
        )
    relayed = io.StringIO()
    call_command("relay_outbox", stdout=relayed)
    assert "abandonnées : 1" in relayed.getvalue()
    with unscoped():
        message = OutboxMessage.objects.get()
    assert message.status == OutboxStatus.FAILED
    assert "token" not in message.kwargs
    assert message.last_error.startswith("Abandonnée après")

    # Ended messages go after CIL_OUTBOX_RETENTION_DAYS (daily beat task).
    assert purge_outbox() == 0
    with unscoped():
        OutboxMessage.objects.update(
            completed_at=timezone.now() - timedelta(days=settings.CIL_OUTBOX_RETENTION_DAYS + 1)
        )
    assert purge_outbox() == 1
    assert outbox_statuses() == {}
