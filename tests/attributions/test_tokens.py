"""The secretariat's API token page: issue (shown once, stored hashed), list, revoke; the
services behind it. The URL × role matrix is in tests/test_tenant_isolation.py."""

import hashlib
import re

import pytest
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.urls import reverse

from attributions.models import ApiToken
from attributions.tokens import token_issue
from cil.models import AuditAction, AuditEntry
from cil.roles import RoleName
from cil.tenancy import conference_scope
from tests.factories import OrganisationFactory
from tests.world import build_world

pytestmark = pytest.mark.django_db

TOKEN_RE = re.compile(r'value="(cil_[A-Za-z0-9_-]{43})"')


@pytest.fixture
def world():
    return build_world()


def _url(name, tenant, **kwargs):
    return reverse(name, kwargs={"conference_slug": tenant.conference.slug, **kwargs})


def _issue_through_the_page(client, tenant, organisation, name="SI du bailleur"):
    return client.post(_url("token_issue", tenant), {"organisation": organisation.pk, "name": name})


def test_secretariat_issues_a_token_shown_once_and_stored_hashed(client, world):
    tenant = world.a
    bailleur = tenant.users[RoleName.BAILLEUR].organisation
    client.force_login(tenant.users[RoleName.SECRETARIAT])
    response = _issue_through_the_page(client, tenant, bailleur)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    content = response.content.decode()
    assert "Il ne sera plus jamais affiché" in content
    clear = TOKEN_RE.search(content).group(1)

    with conference_scope(tenant.conference):
        token = ApiToken.objects.get()
        entry = AuditEntry.objects.get(object_type="attributions.apitoken")
    assert token.organisation == bailleur
    assert token.name == "SI du bailleur"
    assert token.created_by == tenant.users[RoleName.SECRETARIAT]
    assert token.token_hash == hashlib.sha256(clear.encode()).hexdigest()
    assert token.prefix == clear[:10]
    # The clear token is nowhere: not in the token row, the audit log or the sessions.
    stored = [token.name, token.prefix, token.token_hash]
    stored += [entry.actor_label, entry.object_repr, str(entry.changes)]
    stored += [s.session_data for s in Session.objects.all()]
    assert not any(clear in text for text in stored)
    assert entry.action == AuditAction.CREATE
    assert entry.changes["organisation"] == [None, str(bailleur)]

    # The list shows it by prefix, never in clear; the clear token works on the API.
    page = client.get(_url("token_list", tenant)).content.decode()
    assert f"{token.prefix}…" in page
    assert clear not in page
    assert token.token_hash not in page
    api = client.get("/api/v1/attributions/", headers={"Authorization": f"Bearer {clear}"})
    assert api.status_code == 200


def test_the_form_offers_bailleurs_epci_and_state_only(client, world):
    tenant = world.a
    client.force_login(tenant.users[RoleName.SECRETARIAT])
    form = client.get(_url("token_issue", tenant)).context["form"]
    offered = set(form.fields["organisation"].queryset)
    users = tenant.users
    assert {
        users[RoleName.BAILLEUR].organisation,
        users[RoleName.SECRETARIAT].organisation,
        users[RoleName.PREFECTURE].organisation,
        tenant.membership.organisation,
        world.multi.organisation,  # a prefecture agent of both conferences
    } == offered
    # A commune (not served by the API) and a non-member are refused.
    for organisation in (users[RoleName.ELU].organisation, OrganisationFactory()):
        response = _issue_through_the_page(client, tenant, organisation)
        assert response.status_code == 200
        assert response.context["form"].errors["organisation"]
    with conference_scope(tenant.conference):
        assert not ApiToken.objects.exists()


def test_a_name_is_required(client, world):
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    response = _issue_through_the_page(
        client, world.a, world.a.users[RoleName.BAILLEUR].organisation, name="  "
    )
    assert response.context["form"].errors["name"]


def test_secretariat_revokes_a_token(client, world):
    tenant = world.a
    with conference_scope(tenant.conference):
        token, clear = token_issue(
            conference=tenant.conference,
            actor=tenant.users[RoleName.SECRETARIAT],
            organisation=tenant.users[RoleName.BAILLEUR].organisation,
            name="SI",
        )
    client.force_login(tenant.users[RoleName.SECRETARIAT])
    url = _url("token_revoke", tenant, token_id=token.public_id)
    response = client.post(url, follow=True)
    assert "est révoqué" in response.content.decode()
    with conference_scope(tenant.conference):
        token.refresh_from_db()
        assert token.revoked_at is not None
        assert AuditEntry.objects.filter(
            object_type="attributions.apitoken", action=AuditAction.REVOKE
        ).exists()
    api = client.get("/api/v1/attributions/", headers={"Authorization": f"Bearer {clear}"})
    assert api.status_code == 401
    # Revoking twice says so, and changes nothing.
    response = client.post(url, follow=True)
    assert "déjà révoqué" in response.content.decode()


def test_revoking_another_conference_s_token_is_a_404(client, world):
    with conference_scope(world.b.conference):
        b_token, _clear = token_issue(
            conference=world.b.conference,
            actor=world.b.users[RoleName.SECRETARIAT],
            organisation=world.b.users[RoleName.BAILLEUR].organisation,
            name="SI de B",
        )
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    response = client.post(_url("token_revoke", world.a, token_id=b_token.public_id))
    assert response.status_code == 404
    with conference_scope(world.b.conference):
        b_token.refresh_from_db()
        assert b_token.revoked_at is None


def test_token_list_shows_only_the_conference_s_tokens(client, world):
    for tenant in (world.a, world.b):
        with conference_scope(tenant.conference):
            token_issue(
                conference=tenant.conference,
                actor=tenant.users[RoleName.SECRETARIAT],
                organisation=tenant.users[RoleName.BAILLEUR].organisation,
                name=f"Jeton {tenant.marker}",
            )
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    page = client.get(_url("token_list", world.a)).content.decode()
    assert world.a.marker in page
    assert world.b.marker not in page


def test_menu_and_home_offer_the_page_to_the_secretariat_only(client, world):
    url = _url("token_list", world.a)
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    assert url in client.get(_url("conference_home", world.a)).content.decode()
    client.force_login(world.a.users[RoleName.BAILLEUR])
    assert url not in client.get(_url("conference_home", world.a)).content.decode()


def test_service_refuses_non_members(world):
    tenant = world.a
    with conference_scope(tenant.conference), pytest.raises(ValidationError):
        token_issue(
            conference=tenant.conference,
            actor=None,
            organisation=OrganisationFactory(),
            name="SI",
        )
