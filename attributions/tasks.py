"""Celery discovers this module: it gathers the app's tasks."""

from attributions.bilan_tasks import *  # noqa: F403
from attributions.import_tasks import *  # noqa: F403
