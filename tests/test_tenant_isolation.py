"""Every named URL × {anonymous, member of another conference, member without the
permission, member with it} → {login redirect, 404, 403, 200 (or the action's redirect)}.

A URL without a row here fails `test_every_named_url_has_a_row`. Object URLs are also
aimed at the other conference's object ids from a fully-privileged member (IDOR → 404).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from cil.models import Access
from cil.permissions import PERMISSIONS, roles_granting
from cil.roles import RoleName
from cil.tenancy import conference_scope
from tests.world import Tenant, build_world

pytestmark = pytest.mark.django_db


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


def _membership(t):
    return {"membership_id": t.membership.public_id}


def _representative(t):
    return {"representative_id": t.representative.public_id}


def _bailleur_access(t):
    return {"access_id": t.access_ids[RoleName.BAILLEUR]}


def _attribution(t):
    return {"attribution_id": t.attribution.public_id}


def _invitation(t):
    return {"invitation_id": t.invitation.public_id}


def _api_token(t):
    """A fresh API token of the tenant's bailleur (issued when the row is requested)."""
    from attributions.tokens import token_issue

    with conference_scope(t.conference):
        token, _clear = token_issue(
            conference=t.conference,
            actor=t.users[RoleName.SECRETARIAT],
            organisation=t.users[RoleName.BAILLEUR].organisation,
            name=f"Jeton {t.marker}",
        )
    return {"token_id": token.public_id}


def _import_job(t):
    """An import job of the tenant's bailleur user, made on first use (the world has none)."""
    if getattr(t, "import_job", None) is None:
        from attributions.models import ImportJob, ImportStatus

        bailleur = t.users[RoleName.BAILLEUR]
        with conference_scope(t.conference):
            t.import_job = ImportJob.objects.create(
                conference=t.conference,
                created_by=bailleur,
                acting_bailleur=bailleur.organisation,
                filename=f"attributions-{t.marker}.csv",
                file="imports/isolation.csv",
                sha256="0" * 64,
                status=ImportStatus.DONE,
            )
    return {"job_id": t.import_job.public_id}


CONFERENCE_ROWS: dict[str, Row] = {
    "conference_home": Row("conference.view"),
    "conference_settings": Row("conference.manage"),
    "territory_detail": Row("conference.view"),
    "territory_upload": Row("territory.manage"),
    "member_list": Row("members.view"),
    "member_add": Row("members.manage"),
    "member_edit": Row("members.manage", _membership),
    "member_remove": Row("members.manage", _membership, method="post", ok_status=302),
    "representative_add": Row("members.manage", _membership),
    "representative_list": Row("members.view"),
    "representative_edit": Row("members.manage", _representative),
    "user_list": Row("users.view"),
    "user_invite": Row("users.manage"),
    "user_edit": Row("users.manage", _bailleur_access),
    "user_deactivate": Row("users.manage", _bailleur_access, method="post", ok_status=302),
    "user_reactivate": Row("users.manage", _bailleur_access, method="post", ok_status=302),
    "invitation_revoke": Row("users.manage", _invitation, method="post", ok_status=302),
    "audit_log": Row("audit.view"),
    "token_list": Row("tokens.manage"),
    "token_issue": Row("tokens.manage"),
    "token_revoke": Row("tokens.manage", _api_token, method="post", ok_status=302),
    # Attribution lines (a bailleur's own line: _attribution; the world gives the bailleur
    # user's organisation one line in each conference).
    "attribution_list": Row("attributions.view"),
    "attribution_create": Row("attributions.manage_own"),
    "attribution_detail": Row("attributions.view", _attribution),
    "attribution_edit": Row("attributions.manage_own", _attribution),
    "attribution_delete": Row(
        "attributions.manage_own", _attribution, method="post", ok_status=302
    ),
    "reference_detail": Row("reference.view"),
    "bilan": Row("bilan.view_aggregates"),
    "bilan_export": Row(
        "bilan.view_aggregates", lambda t: {"table": "communes", "fmt": "csv"}, names_objects=False
    ),
    "threshold_edit": Row("threshold.manage"),
    "rates_edit": Row("rates.manage"),
    # Import of attributions files (_import_job: a job of the bailleur user's organisation).
    "import_upload": Row("attributions.import"),
    "import_template": Row("attributions.import"),
    "import_detail": Row("attributions.import", _import_job),
    "import_progress": Row("attributions.import", _import_job),
    "import_confirm": Row("attributions.import", _import_job, method="post", ok_status=302),
}

# URLs outside any conference: (expected status anonymous, expected status signed in).
GLOBAL_ROWS: dict[str, tuple[Callable[[Tenant], dict], str, int, int]] = {
    "home": (lambda t: {}, "get", 200, 302),
    "conference_picker": (lambda t: {}, "get", 302, 200),
    "login": (lambda t: {}, "get", 200, 302),
    "logout": (lambda t: {}, "post", 302, 302),
    "password_reset": (lambda t: {}, "get", 200, 200),
    "password_reset_done": (lambda t: {}, "get", 200, 200),
    "password_reset_confirm": (lambda t: {"uidb64": "MQ", "token": "jeton-faux"}, "get", 200, 200),
    "password_reset_complete": (lambda t: {}, "get", 200, 200),
    "password_change": (lambda t: {}, "get", 302, 200),
    "password_change_done": (lambda t: {}, "get", 302, 200),
    # A wrong token answers the "invitation non valable" page with 404, to anyone.
    "invitation_accept": (
        lambda t: {"conference": t.conference.slug, "token": "jeton-inconnu"},
        "get",
        404,
        404,
    ),
    "accessibility": (lambda t: {}, "get", 200, 200),
    "legal_notice": (lambda t: {}, "get", 200, 200),
    "personal_data": (lambda t: {}, "get", 200, 200),
    "health": (lambda t: {}, "get", 200, 200),
    # The API ignores sessions: 401 without a token, signed in or not (token matrix:
    # tests/attributions/test_api.py). Its schema holds no data: public.
    "api:attribution_list": (lambda t: {}, "get", 401, 401),
    "api:attribution_detail": (lambda t: {"reference": t.attribution.reference}, "get", 401, 401),
    "api:bilan": (lambda t: {"annee": 2025}, "get", 401, 401),
    "api:schema": (lambda t: {}, "get", 200, 200),
}


def _named_urls(resolver=None, namespace=None) -> set[str]:
    names = set()
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue  # platform staff only; covered by test_admin_refuses_non_staff
            names |= _named_urls(pattern, pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)
    return names


def test_every_named_url_has_a_row():
    missing = _named_urls() - set(CONFERENCE_ROWS) - set(GLOBAL_ROWS)
    assert not missing, f"URL sans ligne dans la matrice d'isolation : {sorted(missing)}"


def test_rows_match_the_permission_each_view_declares():
    """The permission a view declares (cil.views.decorators.requires) is its row's."""
    for row in CONFERENCE_ROWS.values():
        roles_granting(row.permission)
    for pattern in _conference_patterns():
        row = CONFERENCE_ROWS[pattern.name]
        assert getattr(pattern.callback, "permission", None) == row.permission, pattern.name


def _conference_patterns():
    for pattern in get_resolver().url_patterns:
        if isinstance(pattern, URLResolver) and "conference_slug" in str(pattern.pattern):
            yield from (p for p in pattern.url_patterns if isinstance(p, URLPattern))


def _url(name: str, tenant: Tenant, kwargs: dict) -> str:
    return reverse(name, kwargs={"conference_slug": tenant.conference.slug, **kwargs})


def _request(client, row: Row, url: str, tenant: Tenant):
    if row.method == "post":
        return client.post(url)
    return client.get(url)


def _role_without(permission: str) -> str | None:
    lacking = sorted(set(RoleName) - PERMISSIONS[permission])
    return lacking[0] if lacking else None


def _role_with(permission: str) -> str:
    return sorted(PERMISSIONS[permission])[0]


@pytest.fixture
def world():
    return build_world()


@pytest.mark.parametrize("name", sorted(CONFERENCE_ROWS))
def test_anonymous_is_sent_to_login(client, world, name):
    row = CONFERENCE_ROWS[name]
    response = _request(client, row, _url(name, world.a, row.kwargs(world.a)), world.a)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("name", sorted(CONFERENCE_ROWS))
def test_member_of_another_conference_gets_404(client, world, name):
    row = CONFERENCE_ROWS[name]
    # B's secretariat holds every permission in B, none in A.
    client.force_login(world.b.users[RoleName.SECRETARIAT])
    response = _request(client, row, _url(name, world.a, row.kwargs(world.a)), world.a)
    assert response.status_code == 404


@pytest.mark.parametrize("name", sorted(CONFERENCE_ROWS))
def test_member_without_the_permission_gets_403(client, world, name):
    row = CONFERENCE_ROWS[name]
    role = _role_without(row.permission)
    if role is None:
        pytest.skip(f"{row.permission} est accordée à tous les rôles")
    client.force_login(world.a.users[role])
    response = _request(client, row, _url(name, world.a, row.kwargs(world.a)), world.a)
    assert response.status_code == 403
    assert "Accès refusé" in response.content.decode()


@pytest.mark.parametrize("name", sorted(CONFERENCE_ROWS))
def test_member_with_the_permission_is_served(client, world, name):
    row = CONFERENCE_ROWS[name]
    client.force_login(world.a.users[_role_with(row.permission)])
    response = _request(client, row, _url(name, world.a, row.kwargs(world.a)), world.a)
    assert response.status_code == row.ok_status


OBJECT_ROWS = sorted(
    name
    for name, row in CONFERENCE_ROWS.items()
    if row.kwargs is not _no_kwargs and row.names_objects
)


@pytest.mark.parametrize("name", OBJECT_ROWS)
def test_other_conference_object_ids_get_404(client, world, name):
    """IDOR: a member of A holding the permission aims A's URL at B's object → 404, and B's
    object is unchanged."""
    row = CONFERENCE_ROWS[name]
    client.force_login(world.a.users[_role_with(row.permission)])
    url = _url(name, world.a, row.kwargs(world.b))
    response = _request(client, row, url, world.a)
    assert response.status_code == 404
    with conference_scope(world.b.conference):
        world.b.membership.refresh_from_db()  # still exists (member_remove refused)
        world.b.invitation.refresh_from_db()
        assert world.b.invitation.revoked_at is None
        assert Access.objects.get(public_id=world.b.access_ids[RoleName.BAILLEUR]).is_active
        world.b.attribution.refresh_from_db()  # not deleted


@pytest.mark.parametrize("name", sorted(GLOBAL_ROWS))
def test_global_urls(client, world, name):
    kwargs, method, anonymous_status, member_status = GLOBAL_ROWS[name]
    url = reverse(name, kwargs=kwargs(world.a) or None)
    response = getattr(client, method)(url)
    assert response.status_code == anonymous_status, "anonyme"
    client.force_login(world.a.users[RoleName.MEMBRE])
    response = getattr(client, method)(url)
    assert response.status_code == member_status, "connecté"


def test_admin_refuses_non_staff(client, world):
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert "login" in response.url


def _get_pages(tenant: Tenant) -> list[str]:
    return [
        _url(name, tenant, row.kwargs(tenant))
        for name, row in CONFERENCE_ROWS.items()
        if row.method == "get" and RoleName.PREFECTURE in PERMISSIONS[row.permission]
    ]


def test_person_in_two_conferences_never_sees_the_other_one(client, world):
    client.force_login(world.multi)
    for tenant, other in ((world.a, world.b), (world.b, world.a)):
        pages = _get_pages(tenant)
        assert pages
        for url in pages:
            response = client.get(url)
            assert response.status_code == 200, url
            content = response.content.decode()
            assert other.marker not in content, f"{other.marker} visible sur {url}"
