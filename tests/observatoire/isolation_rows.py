"""This app's rows of the isolation matrix (merged by tests/test_tenant_isolation.py).

CONFERENCE_ROWS: URL name → Row (see tests/isolation.py). GLOBAL_ROWS: URL name →
(kwargs builder, method, status anonymous, status signed in) for public URLs.
"""

from tests.isolation import Row  # noqa: F401

CONFERENCE_ROWS: dict = {}
GLOBAL_ROWS: dict = {}
