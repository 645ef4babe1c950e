"""Issue 7: every page costs at most 25 queries, and the same number for 5 or 500 rows.

Every GET page of the isolation matrix (tests/test_tenant_isolation.py, the apps' rows
merged), as every role that may see it, and the global pages (public open data included),
anonymous and signed in: conference A of tests/world.py is grown to 5 rows of everything its
pages list (attributions, members, users, sessions, CIA objectives…), each page is counted,
then A is grown to 500 rows and each page counted again. A list paginated at N rows
counts the same at 5 and 500: no page here has a count that legitimately depends on its
number of rows.
"""

import pytest
from django.test import Client

from cil.roles import RoleName
from tests.query_counts_support import ANONYMOUS, extra_queries, grow, measure, pages, table
from tests.world import build_world

pytestmark = pytest.mark.django_db

MAX_QUERIES = 25


def test_every_page_costs_a_bounded_number_of_queries(monkeypatch):
    # The last-request stamp of a session is written at most once a minute (3 queries,
    # whatever the page): never during this test, so that a slow run counts the same.
    monkeypatch.setattr("cil.middleware_timeouts.SEEN_RESOLUTION", 3600)
    world = build_world()
    clients = {ANONYMOUS: Client()}
    for role in RoleName:
        clients[role] = Client()
        clients[role].force_login(world.a.users[role])
    found = pages(world)

    grow(world, 5)
    small = measure(clients, found)
    grow(world, 495)
    big = measure(clients, found, like=small)

    rows = [(page, small[page], big[page]) for page in found]
    too_many = [row for row in rows if max(len(row[1].queries), len(row[2].queries)) > MAX_QUERIES]
    growing = [row for row in rows if len(row[1].queries) != len(row[2].queries)]
    broken = [row for row in rows if row[2].status >= 500]
    assert not too_many + growing + broken, "\n\n".join(
        [
            f"Pages en erreur :\n{table(broken)}",
            f"Pages au-delà de {MAX_QUERIES} requêtes :\n{table(too_many)}",
            f"Pages dont le nombre de requêtes dépend du nombre de lignes :\n{table(growing)}",
            *(f"{page.name} ({page.role}) :\n{extra_queries(a, b)}" for page, a, b in growing[:5]),
        ]
    )
