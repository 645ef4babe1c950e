"""Transactional outbox of the Celery tasks: a job asked for by a committed change runs once,
even if the broker (Redis) was down when it was asked for, or a worker died while running it.

Publishing straight to the broker after the commit loses the job when the broker is down,
and can hold the request while the client retries. Instead:

1. `enqueue_on_commit(task, **kwargs)` writes an `OutboxMessage` in the current transaction:
   the job exists if and only if the change that asked for it is committed;
2. after the commit, one attempt to publish it, failing fast (no retry, short timeouts). A
   failure leaves it pending and is logged, never raised to the user; for
   `BROKER_BACKOFF_SECONDS` afterwards, the process does not even try (the relay will);
3. `relay()` (Celery beat, `cil.tasks.relay_outbox`; or `manage.py relay_outbox --loop`)
   publishes the pending messages, and again those published `CIL_OUTBOX_REDISPATCH_SECONDS`
   ago and never completed (a message lost by the broker);
4. the run of the task (`run_once`, called by `cil.tenancy.ConferenceTask`) skips a message
   already completed, or being run by another worker (a PostgreSQL advisory lock held for
   the run), and marks it completed. With acks_late, a message is re-delivered only if its
   run died; the tasks themselves stay idempotent for that case (their job's state).

Eager mode (no broker: the embedded default and the tests): the task runs in the process
after the commit, as it always did, without an outbox row.
"""

import functools
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from celery.exceptions import Retry
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from cil.celery import app
from cil.models import Conference, OutboxMessage, OutboxStatus
from cil.tenancy import conference_scope

logger = logging.getLogger(__name__)

TASK_ID_PREFIX = "outbox-"
LOCK_NAMESPACE = 0x4F42  # "OB": keeps these advisory lock keys apart from other uses
# Not kept once the task has run: the invitation's secret (only its hash is stored).
SENSITIVE_KWARGS = frozenset({"token"})
# After a failed publication, a web process leaves the next messages to the relay.
BROKER_BACKOFF_SECONDS = 10
# A publication that fails fails at once: no reconnection loop inside a request.
FAIL_FAST = {"max_retries": 0}
ENDED = (OutboxStatus.COMPLETED, OutboxStatus.FAILED)
RELAY_BATCH = 500

_broker_down_until = 0.0


def enqueue_on_commit(task, **kwargs) -> None:
    """Queue `task(**kwargs)` once the current transaction commits. `kwargs` are JSON and
    name the conference (`conference_id`)."""
    if app.conf.task_always_eager:
        transaction.on_commit(functools.partial(task.delay, **kwargs))
        return
    conference_id = kwargs["conference_id"]
    with conference_scope(conference_id):
        message = OutboxMessage.objects.create(
            conference_id=conference_id, task_name=task.name, kwargs=kwargs
        )
    transaction.on_commit(functools.partial(publish_after_commit, conference_id, message.pk))


def publish_after_commit(conference_id: int, message_id: int) -> None:
    """One attempt to publish, right after the commit. Never raises: the relay catches up."""
    if time.monotonic() < _broker_down_until:
        logger.info("Courtier indisponible : la tâche %s attend le relais.", message_id)
        return
    try:
        with app.connection_for_write(transport_options=FAIL_FAST) as broker:
            _publish(conference_id, message_id, broker)
    except Exception:
        # The row is committed and pending: the relay publishes it later.
        logger.warning("Tâche %s non transmise après validation.", message_id, exc_info=True)


def relay(*, now: datetime | None = None) -> dict[str, int]:
    """Publish the pending messages, and again those dispatched long ago and never
    completed, conference by conference. Stops at the first failed publication (the
    broker is down: the next run goes on)."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.CIL_OUTBOX_REDISPATCH_SECONDS)
    counts = {"published": 0, "abandoned": 0, "waiting": 0}
    with app.connection_for_write(transport_options=FAIL_FAST) as broker:
        for conference_id in Conference.objects.order_by("pk").values_list("pk", flat=True):
            with conference_scope(conference_id):
                ids = list(
                    _due(stale)
                    .order_by("created_at", "pk")
                    .values_list("pk", flat=True)[:RELAY_BATCH]
                )
            for position, message_id in enumerate(ids):
                outcome = _publish(conference_id, message_id, broker, stale=stale)
                if outcome is None:
                    counts["waiting"] += len(ids) - position
                    return counts
                if outcome in counts:
                    counts[outcome] += 1
    return counts


def run_once(task, call: Callable[[], object]):
    """Run the body of `task` (`call`) unless its outbox message has already run, or is
    running elsewhere; mark the message completed (or failed) afterwards. Runs inside the
    conference scope. A task not published from the outbox (eager, beat) just runs."""
    request = task.request
    task_id = request.id or ""
    if request.is_eager or not task_id.startswith(TASK_ID_PREFIX):
        return call()
    try:
        public_id = uuid.UUID(task_id.removeprefix(TASK_ID_PREFIX))
    except ValueError:
        return call()
    message = OutboxMessage.objects.filter(public_id=public_id).first()
    if message is None or message.status in ENDED:
        logger.info("Tâche %s déjà exécutée : ignorée.", task_id)
        return None
    with _run_lock(message.pk) as acquired:
        if not acquired:
            logger.info("Tâche %s en cours d'exécution ailleurs : ignorée.", task_id)
            return None
        message.refresh_from_db(fields=["status"])
        if message.status in ENDED:
            return None
        try:
            result = call()
        except Retry:
            raise  # a new delivery of the same message is on its way
        except Exception as error:
            _end(message, OutboxStatus.FAILED, error=repr(error))
            raise
        _end(message, OutboxStatus.COMPLETED)
        return result


def purge(*, now: datetime | None = None) -> int:
    """Delete the ended messages older than CIL_OUTBOX_RETENTION_DAYS."""
    limit = (now or timezone.now()) - timedelta(days=settings.CIL_OUTBOX_RETENTION_DAYS)
    count = 0
    for conference_id in Conference.objects.values_list("pk", flat=True):
        with conference_scope(conference_id):
            deleted, _ = OutboxMessage.objects.filter(
                status__in=ENDED, completed_at__lt=limit
            ).delete()
            count += deleted
    return count


def _due(stale: datetime | None):
    due = Q(status=OutboxStatus.PENDING)
    if stale is not None:
        due |= Q(status=OutboxStatus.DISPATCHED, dispatched_at__lt=stale)
    return OutboxMessage.objects.filter(due)


def _publish(conference_id: int, message_id: int, broker, *, stale=None) -> str | None:
    """Publish one due message, locked so that one process publishes it. Returns
    "published", "abandoned", "skipped" (not due, or locked by another process), or None
    when the broker refused it."""
    with conference_scope(conference_id), transaction.atomic():
        message = _due(stale).select_for_update(skip_locked=True).filter(pk=message_id).first()
        if message is None:
            return "skipped"
        if message.attempts >= settings.CIL_OUTBOX_MAX_ATTEMPTS:
            logger.error("Tâche %s abandonnée : jamais exécutée.", message.public_id)
            _end(
                message,
                OutboxStatus.FAILED,
                error=f"Abandonnée après {message.attempts} transmissions sans exécution.",
            )
            return "abandoned"
        try:
            _task(message.task_name).apply_async(
                kwargs=message.kwargs,
                task_id=f"{TASK_ID_PREFIX}{message.public_id}",
                connection=broker,
                retry=False,
                ignore_result=True,
            )
        except Exception as error:
            _broker_failed()
            logger.warning(
                "Courtier indisponible, tâche %s (%s) en attente : %s",
                message.public_id,
                message.task_name,
                error,
            )
            message.last_error = f"Transmission impossible : {error}"[:2000]
            message.save(update_fields=["last_error"])
            return None
        _broker_answered()
        message.status = OutboxStatus.DISPATCHED
        message.dispatched_at = timezone.now()
        message.attempts += 1
        message.last_error = ""
        message.save(update_fields=["status", "dispatched_at", "attempts", "last_error"])
        return "published"


def _task(name: str):
    if name not in app.tasks:
        # A web process registers the task modules it imported; the relay may need others.
        app.loader.import_default_modules()
    return app.tasks[name]


def _broker_failed() -> None:
    global _broker_down_until
    _broker_down_until = time.monotonic() + BROKER_BACKOFF_SECONDS


def _broker_answered() -> None:
    """A publication went through (the relay's, typically): the broker is back, so the next
    messages are published right after their commit again."""
    global _broker_down_until
    _broker_down_until = 0.0


def _end(message: OutboxMessage, status: str, *, error: str = "") -> None:
    kwargs = {key: value for key, value in message.kwargs.items() if key not in SENSITIVE_KWARGS}
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=status, completed_at=timezone.now(), kwargs=kwargs, last_error=error[:2000]
    )


@contextmanager
def _run_lock(message_id: int) -> Iterator[bool]:
    """Session-level advisory lock on one message for the length of its run (PostgreSQL):
    released at the end, or by PostgreSQL when a killed worker's connection drops."""
    if connection.vendor != "postgresql":
        yield True
        return
    key = (LOCK_NAMESPACE << 48) | message_id
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
            except DatabaseError:
                logger.warning("Verrou de la tâche %s non libéré.", message_id, exc_info=True)
