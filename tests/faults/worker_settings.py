"""Settings of the Celery workers started by the fault tests (tests/faults/support.py): the
platform's own settings, read from the environment the test gives them (test database,
private Redis, files, mail to a folder), and a broker that checks every second for the
messages of a dead worker, so that a test waits seconds for them, not minutes."""

from cil.settings import *  # noqa: F403
from cil.settings import CELERY_BROKER_TRANSPORT_OPTIONS

CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
