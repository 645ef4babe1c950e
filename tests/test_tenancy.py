import pytest
from django_scopes.exceptions import ScopeError

from cil.models import AuditEntry, Commune, Membership, Representative
from cil.roles import RoleName
from cil.tasks import send_invitation_email
from cil.tenancy import ConferenceTask, conference_scope
from tests.factories import CommuneFactory, ConferenceFactory
from tests.world import build_world

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", [Commune, Membership, Representative, AuditEntry])
def test_query_on_a_tenant_model_outside_a_scope_raises(model):
    with pytest.raises(ScopeError):
        list(model.objects.all())
    with pytest.raises(ScopeError):
        model.objects.filter(pk=1).exists()


def test_scope_shows_only_its_conference():
    a, b = ConferenceFactory(), ConferenceFactory()
    with conference_scope(a):
        CommuneFactory(conference=a, insee="76001")
    with conference_scope(b):
        CommuneFactory(conference=b, insee="76002")
        assert list(Commune.objects.values_list("insee", flat=True)) == ["76002"]


@pytest.mark.parametrize("bad", [None, "1", 1.0])
def test_scope_refuses_anything_but_one_conference(bad):
    # django-scopes reads None as "every tenant": that must never happen by accident.
    with pytest.raises(ValueError, match="Conférence invalide"), conference_scope(bad):
        pass


def test_every_tenant_model_has_a_scoped_default_manager():
    from django.apps import apps

    for model in apps.get_models():
        if "conference" not in {f.name for f in model._meta.fields}:
            continue
        if model._meta.app_label not in {"cil", "attributions", "conventions", "observatoire"}:
            continue
        with pytest.raises(ScopeError):
            list(model._default_manager.all())


def test_task_reopens_the_scope_from_its_conference_id(mailoutbox):
    world = build_world()
    invitation = world.a.invitation
    send_invitation_email.delay(
        conference_id=world.a.conference.pk, invitation_id=invitation.pk, token="t"
    )
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [invitation.email]


def test_task_without_conference_id_refuses_to_run():
    assert issubclass(send_invitation_email.__class__, ConferenceTask)
    with pytest.raises(TypeError, match="conference_id"):
        send_invitation_email.apply(kwargs={"invitation_id": 1, "token": "t"}, throw=True)


def test_task_does_not_reach_another_conference(mailoutbox):
    world = build_world()
    # B's invitation id, run in A's scope: not found, nothing sent.
    send_invitation_email.delay(
        conference_id=world.a.conference.pk, invitation_id=world.b.invitation.pk, token="t"
    )
    assert mailoutbox == []


def test_roles_are_per_conference(client):
    world = build_world()
    client.force_login(world.a.users[RoleName.BAILLEUR])
    assert client.get(f"/{world.a.conference.slug}/").status_code == 200
    assert client.get(f"/{world.b.conference.slug}/").status_code == 404
