"""Authorisation proof, part 2: a canary crawl.

Both conferences hold the same kinds of objects, each carrying its marker (MARQUEUR-A,
MARQUEUR-B) in names, references, titles, demands and documents
(tests/security/support.py). Each role of conference A, `multi` (prefecture in both) and
`omni` (every role in both) signs in and reads every page of A the matrix gives them, every
export variant, every PDF, then every same-origin link under /conf-a/ those pages lead to.
B's marker and B's public ids appear in none of them (PDF text extracted, XLSX parts
unzipped); A's marker does appear (the crawl reads real data); nothing answers 500.
"""

import html
import re
from collections import Counter, deque
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from django.test import Client
from django.urls import Resolver404, resolve, reverse

from cil.permissions import PERMISSIONS
from cil.roles import RoleName
from tests.security.support import (
    OTHER_ORIENTATION_STATES,
    foreign_identifiers,
    populate,
    response_text,
    row_kwargs,
)
from tests.test_tenant_isolation import CONFERENCE_ROWS
from tests.world import build_world

pytestmark = pytest.mark.django_db

MAX_URLS_PER_ROLE = 400
HREF_RE = re.compile(r"""href\s*=\s*["']([^"']+)["']""", re.I)
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
# Views that only take POST (the crawl reads): their URLs are never followed.
POST_ONLY = {name for name, row in CONFERENCE_ROWS.items() if row.method == "post"}
EXPORT_FORMATS = ("csv", "xlsx")


def _url(tenant, name: str, **kwargs) -> str:
    return reverse(name, kwargs={"conference_slug": tenant.conference.slug, **kwargs})


def _seeds(world, roles: frozenset) -> list[str]:
    """Every GET page of A the roles may read (the matrix rows), and every export variant."""
    a = world.a
    allowed = {name for name, row in CONFERENCE_ROWS.items() if roles & PERMISSIONS[row.permission]}
    urls = []
    for name in sorted(allowed - POST_ONLY - OTHER_ORIENTATION_STATES):
        urls.append(_url(a, name, **row_kwargs(a, name)))
    variants = {
        "attribution_export": [{"fmt": f} for f in EXPORT_FORMATS],
        "access_journal_export": [{"fmt": f} for f in EXPORT_FORMATS],
        "bilan_export": [
            {"table": t, "fmt": f}
            for t in ("bailleurs", "reservataires", "communes")
            for f in EXPORT_FORMATS
        ],
        "observatoire_export": [
            {"table": t, "fmt": f}
            for t in ("demande_communes", "offre_communes")
            for f in EXPORT_FORMATS
        ],
    }
    for name, kwargs_list in variants.items():
        if name in allowed:
            urls += [_url(a, name, **kwargs) for kwargs in kwargs_list]
    # The public open-data pages of A (linked from the conference's pages).
    urls.append(reverse("opendata_public", kwargs={"conference_slug": a.conference.slug}))
    return list(dict.fromkeys(urls))


def _links(base: str, text: str, prefix: str) -> list[str]:
    found = []
    for raw in HREF_RE.findall(text):
        url, _fragment = urldefrag(urljoin(base, html.unescape(raw)))
        parts = urlsplit(url)
        if parts.netloc not in ("", "testserver") or not parts.path.startswith(prefix):
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        try:
            match = resolve(parts.path)
        except Resolver404:
            continue
        if match.url_name in POST_ONLY or match.url_name == "logout":
            continue
        found.append(path)
    return found


def _crawl(client, seeds: list[str], prefix: str, check) -> int:
    """Breadth-first from the seeds, within `prefix`, at most MAX_URLS_PER_ROLE URLs."""
    queue, seen = deque(seeds), set(seeds)
    fetched = 0
    while queue and fetched < MAX_URLS_PER_ROLE:
        url = queue.popleft()
        response = client.get(url)
        fetched += 1
        text = check(url, response)
        if text is None or "html" not in response.get("Content-Type", ""):
            continue
        for link in _links(url, text, prefix):
            if link not in seen:
                seen.add(link)
                queue.append(link)
    return fetched


def test_no_page_export_or_pdf_of_a_shows_b(capsys):
    world = build_world()
    populate(world)
    a, b = world.a, world.b
    b_uuids = set(foreign_identifiers(b, a).uuids)
    prefix = f"/{a.conference.slug}/"
    actors = {role: (user, frozenset({role})) for role, user in a.users.items()}
    actors["multi"] = (world.multi, frozenset({RoleName.PREFECTURE}))
    actors["omni"] = (world.omni, frozenset(RoleName.values))

    statuses, kinds, per_actor = Counter(), Counter(), {}
    a_marker_seen = Counter()
    problems = []

    for label, (user, roles) in actors.items():
        client = Client()
        client.force_login(user)

        def check(url, response, label=label):
            statuses[response.status_code] += 1
            if response.status_code >= 500:
                problems.append(f"{response.status_code} : {url} ({label})")
                return None
            if response.status_code != 200:
                return None
            kind = response.get("Content-Type", "").split(";")[0]
            kinds[kind] += 1
            text = response_text(response)
            if b.marker in text:
                problems.append(f"{b.marker} visible : {url} ({label})")
            leaked = {u.lower() for u in UUID_RE.findall(text)} & b_uuids
            if leaked:
                problems.append(f"identifiant de B {sorted(leaked)[0]} : {url} ({label})")
            if a.marker in text:
                a_marker_seen[kind] += 1
            return text

        per_actor[label] = _crawl(client, _seeds(world, roles), prefix, check)

    with capsys.disabled():
        print(  # the figures of the run, for the report
            f"\nURL lues par rôle : {per_actor}\nstatuts : {dict(statuses)}\n"
            f"types : {dict(kinds)}\nMARQUEUR-A vu par type : {dict(a_marker_seen)}"
        )
    assert not problems, "\n".join(problems[:20])
    # The crawl proves something: A's own marker is in its pages, exports and PDFs.
    assert a_marker_seen["text/html"]
    assert a_marker_seen["application/pdf"]
    assert (
        a_marker_seen["text/csv"]
        or a_marker_seen["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"]
    )
