"""Celery discovers this module: it gathers the app's tasks.

Each flow adds its own import line below (and nothing else).
"""

from conventions.emails_orientations import send_orientation_step_email  # noqa: F401
from conventions.tasks_documents import *  # noqa: F403
