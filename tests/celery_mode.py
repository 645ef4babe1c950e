"""Switch Celery from eager tasks (the test settings) to tasks meant for a worker.

The Celery app reads the Django settings live, but a value assigned to `app.conf` lands in a
layer above them (`app.conf.changes`) and stays there. Restoring by assignment would pin
whatever was read at the time (a test that had already turned the Django setting off would
pin False for every later test): the key is removed from that layer instead.
"""

from contextlib import contextmanager


@contextmanager
def tasks_for_a_worker(settings):
    from cil.celery import app

    changes = app.conf.changes
    saved = changes.get("task_always_eager", None)
    had = "task_always_eager" in changes
    settings.CELERY_TASK_ALWAYS_EAGER = False
    changes["task_always_eager"] = False
    try:
        yield app
    finally:
        changes.pop("task_always_eager", None)
        if had:
            changes["task_always_eager"] = saved
