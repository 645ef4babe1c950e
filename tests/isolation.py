"""The row type of the isolation matrix (tests/test_tenant_isolation.py).

Apps keep their rows next to their tests (`tests/<app>/isolation_rows.py`, with
`CONFERENCE_ROWS` and `GLOBAL_ROWS`); the matrix merges them.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.world import Tenant


def _no_kwargs(tenant: Tenant) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Row:
    permission: str
    kwargs: Callable[[Tenant], dict[str, Any]] = _no_kwargs
    method: str = "get"
    # Status for a member with the permission: 200 for pages, 302 for POST actions.
    ok_status: int = 200
    # Whether kwargs name objects (ids); False for URL parameters like a table name.
    names_objects: bool = True
