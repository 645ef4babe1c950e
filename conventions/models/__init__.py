"""Models of the conventions app, one module per flow.

Each module adds its own import line below (and nothing else); the order does not matter.
"""

from conventions.models.cia import *  # noqa: F403
from conventions.models.documents import *  # noqa: F403
from conventions.models.orientations import *  # noqa: F403
