"""The second factor (TOTP + backup codes): enrolment with a server-drawn QR code, the code
step of the login (sharing django-axes' lockout with passwords), backup codes, removal with
password + code, the conference's requirement per role, and the signer's code."""

import datetime
import re
from binascii import unhexlify

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from cil.models import AuditAction, AuditEntry, Conference
from cil.roles import RoleName
from cil.tenancy import conference_scope
from cil.two_factor import devices
from tests.factories import UserFactory
from tests.world import build_world

pytestmark = pytest.mark.django_db

PASSWORD = "mot-de-passe-solide-42"
T0 = datetime.datetime(2026, 3, 2, 9, 0, 0, tzinfo=datetime.UTC)


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world():
    return build_world()


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)  # the frozen clock's time


def code_at(key_hex: str, when: datetime.datetime) -> str:
    checker = TOTP(unhexlify(key_hex))
    checker.time = when.timestamp()
    return f"{checker.token():06d}"


def enrol(client, user, clock) -> tuple[TOTPDevice, list[str]]:
    """Enrol `user` (signed in on `client`) through the pages; returns the device and the
    backup codes shown. Leaves the clock 30 s later (the confirming code is used up)."""
    client.force_login(user)
    client.get(reverse("two_factor_enrol"))
    key = client.session[devices.ENROLMENT_SESSION_FIELD]
    response = client.post(reverse("two_factor_enrol"), {"code": code_at(key, _now())})
    assert response.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", response.content.decode())
    clock.shift(30)
    return TOTPDevice.objects.get(user=user), codes


def password_step(client, user, next_url=""):
    data = {"username": user.email, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    return client.post(reverse("login"), data)


def now_code(device: TOTPDevice, clock) -> str:
    return code_at(device.key, _now())


# --- Enrolment ------------------------------------------------------------------------------


def test_enrolment_shows_a_server_drawn_qr_code_and_the_secret(client, clock):
    user = UserFactory(email="camille@exemple.fr")
    client.force_login(user)
    response = client.get(reverse("two_factor_enrol"))
    content = response.content.decode()
    key = client.session[devices.ENROLMENT_SESSION_FIELD]
    svg = re.search(r"<svg.*?</svg>", content, re.S).group(0)
    assert 'class="cil-qr"' in svg
    # Strict CSP: no style attribute, no script in the inline SVG.
    assert "style=" not in svg
    assert "<script" not in svg
    # The secret for manual entry is the key in base32, by groups of 4.
    secret = devices.secret_for_manual_entry(key)
    assert secret in content
    assert re.fullmatch(r"([A-Z2-7]{4} )+[A-Z2-7]{4}", secret)
    # The QR code encodes the provisioning URI with the issuer and the account.
    uri = devices.provisioning_uri(user, key)
    assert uri.startswith("otpauth://totp/Plateforme%20CIL%3Acamille%40exemple.fr?secret=")
    # Reloading keeps the same secret; nothing is stored before the confirmation.
    client.get(reverse("two_factor_enrol"))
    assert client.session[devices.ENROLMENT_SESSION_FIELD] == key
    assert not TOTPDevice.objects.filter(user=user).exists()


def test_a_wrong_code_does_not_enrol(client, clock):
    user = UserFactory()
    client.force_login(user)
    client.get(reverse("two_factor_enrol"))
    response = client.post(reverse("two_factor_enrol"), {"code": "000000"})
    assert "Code incorrect" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=user).exists()
    response = client.post(reverse("two_factor_enrol"), {"code": ""})
    assert "Saisissez le code." in response.content.decode()


def test_enrolment_confirms_shows_backup_codes_once_and_audits(client, world, clock):
    user = world.multi  # prefecture in A and B
    device, codes = enrol(client, user, clock)
    assert device.confirmed
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert sorted(codes) == sorted(
        StaticToken.objects.filter(device__user=user).values_list("token", flat=True)
    )
    # The session that enrolled is confirmed by the device.
    assert client.session["otp_device_id"] == device.persistent_id
    for tenant in (world.a, world.b):
        with conference_scope(tenant.conference):
            entry = AuditEntry.objects.get(action=AuditAction.TWO_FACTOR_ON)
        assert entry.actor == user
        assert entry.object_id == str(user.public_id)
    # Already enrolled: the page sends back to the status page, which shows no code.
    response = client.get(reverse("two_factor_enrol"))
    assert response.status_code == 302
    status = client.get(reverse("two_factor")).content.decode()
    assert "La double authentification est active" in status
    assert "Codes de secours restants : 10" in status
    assert codes[0] not in status


# --- Login --------------------------------------------------------------------------------


def test_login_asks_the_code_after_the_password_and_keeps_next(client, world, clock):
    user = world.a.users[RoleName.BAILLEUR]
    device, _codes = enrol(client, user, clock)
    client.logout()

    target = f"/{world.a.conference.slug}/attributions/"
    response = password_step(client, user, next_url=target)
    assert response.status_code == 302
    assert response.url == reverse("login_code")
    assert "_auth_user_id" not in client.session  # not logged in yet
    page = client.get(reverse("login_code")).content.decode()
    assert "Confirmer la connexion" in page

    response = client.post(reverse("login_code"), {"code": now_code(device, clock)})
    assert response.status_code == 302
    assert response.url == target
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.session["otp_device_id"] == device.persistent_id
    assert client.get(target).status_code == 200


def test_a_user_without_device_logs_in_with_the_password_alone(client, clock):
    user = UserFactory()
    response = password_step(client, user)
    assert response.status_code == 302
    assert response.url == reverse("home")
    assert client.session["_auth_user_id"] == str(user.pk)


def test_a_code_cannot_be_replayed_and_a_backup_code_works_once(client, clock):
    user = UserFactory()
    device, codes = enrol(client, user, clock)
    client.logout()

    code = now_code(device, clock)
    password_step(client, user)
    assert client.post(reverse("login_code"), {"code": code}).status_code == 302
    client.logout()
    clock.shift(3)  # django-otp slows down retries after a failure
    password_step(client, user)
    response = client.post(reverse("login_code"), {"code": code})
    assert "Code incorrect ou déjà utilisé" in response.content.decode()
    assert "_auth_user_id" not in client.session

    clock.shift(5)
    response = client.post(reverse("login_code"), {"code": f" {codes[0].upper()} "})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    client.logout()
    clock.shift(5)
    password_step(client, user)
    response = client.post(reverse("login_code"), {"code": codes[0]})
    assert "Code incorrect" in response.content.decode()
    assert devices.backup_codes_left(user) == 9


def test_wrong_codes_count_towards_the_lockout_with_wrong_passwords(client, clock):
    user = UserFactory()
    device, _codes = enrol(client, user, clock)
    client.logout()
    for _ in range(3):
        response = client.post(reverse("login"), {"username": user.email, "password": "faux"})
        assert response.status_code == 200
    password_step(client, user)
    assert client.post(reverse("login_code"), {"code": "123456"}).status_code == 200
    # The 5th failure of the account (3 passwords, 2 codes) locks it out.
    clock.shift(60)
    response = client.post(reverse("login_code"), {"code": "654321"})
    assert response.status_code == 429
    assert "Compte temporairement bloqué" in response.content.decode()
    # Locked out: the right password and the right code no longer open the account.
    assert password_step(client, user).status_code == 429
    clock.shift(60)
    assert client.post(reverse("login_code"), {"code": now_code(device, clock)}).status_code == 302
    assert client.get(reverse("login_code")).status_code == 302  # back to the login page
    assert "_auth_user_id" not in client.session


def test_the_code_step_expires_and_cannot_be_reached_without_a_password(client, clock):
    user = UserFactory()
    device, _codes = enrol(client, user, clock)
    client.logout()
    response = client.get(reverse("login_code"))
    assert response.status_code == 302
    assert response.url == reverse("login")
    password_step(client, user)
    clock.shift(5 * 60 + 1)
    response = client.post(reverse("login_code"), {"code": now_code(device, clock)})
    assert response.status_code == 302
    assert response.url == reverse("login")
    assert "_auth_user_id" not in client.session


# --- Backup codes and removal --------------------------------------------------------------


def test_new_backup_codes_replace_the_old_ones_after_a_code(client, clock):
    user = UserFactory()
    device, old = enrol(client, user, clock)
    response = client.post(reverse("two_factor_backup_codes"), {"code": "111111"})
    assert "Code incorrect" in response.content.decode()
    clock.shift(30)
    response = client.post(reverse("two_factor_backup_codes"), {"code": now_code(device, clock)})
    new = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", response.content.decode())
    assert len(new) == 10
    tokens = set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert tokens == set(new)
    assert not tokens & set(old)


def test_removal_needs_the_password_and_a_code(client, world, clock):
    user = world.a.users[RoleName.SECRETARIAT]
    device, codes = enrol(client, user, clock)
    url = reverse("two_factor_disable")
    response = client.post(url, {"password": "faux", "code": now_code(device, clock)})
    assert "Mot de passe incorrect." in response.content.decode()
    response = client.post(url, {"password": PASSWORD, "code": "000000"})
    assert "Code incorrect ou déjà utilisé." in response.content.decode()
    assert TOTPDevice.objects.filter(user=user).exists()

    clock.shift(30)
    response = client.post(url, {"password": PASSWORD, "code": codes[3]})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not StaticToken.objects.filter(device__user=user).exists()
    assert "otp_device_id" not in client.session
    with conference_scope(world.a.conference):
        assert AuditEntry.objects.filter(action=AuditAction.TWO_FACTOR_OFF, actor=user).count() == 1
    # Without a device the login is the password alone again.
    client.logout()
    assert password_step(client, user).url == reverse("home")


# --- The conference's requirement -----------------------------------------------------------


def _conference_url(tenant, name="conference_home"):
    return reverse(name, kwargs={"conference_slug": tenant.conference.slug})


def test_secretariat_requires_the_second_factor_for_chosen_roles(client, world, clock):
    a = world.a
    client.force_login(a.users[RoleName.SECRETARIAT])
    response = client.post(
        _conference_url(a, "conference_security"),
        {"roles": [RoleName.BAILLEUR, RoleName.PREFECTURE]},
    )
    assert response.status_code == 302
    a.conference.refresh_from_db()
    assert a.conference.two_factor_roles == ["bailleur", "prefecture"]
    with conference_scope(a.conference):
        entry = AuditEntry.objects.get(object_type="cil.conference", action=AuditAction.UPDATE)
    assert entry.changes["double authentification exigée pour"] == [
        "aucun rôle",
        "Bailleur, Préfecture / DDETS",
    ]
    response = client.get(_conference_url(a, "conference_security"))
    # Those roles' people, none of whom has an application yet (`multi` is a prefecture).
    assert sorted(access.user.email for access in response.context["without_device"]) == [
        "bailleur@a.test",
        "multi@ab.test",
        "prefecture@a.test",
    ]
    assert "multi@ab.test" in response.content.decode()

    response = client.post(_conference_url(a, "conference_security"), {"roles": ["roi"]})
    assert "Sélectionnez un choix valide" in response.content.decode()
    a.conference.refresh_from_db()
    assert a.conference.two_factor_roles == ["bailleur", "prefecture"]


def test_a_required_role_without_device_is_sent_to_enrolment_first(client, world, clock):
    a = world.a
    Conference.objects.filter(pk=a.conference.pk).update(two_factor_roles=["bailleur"])
    bailleur = a.users[RoleName.BAILLEUR]
    client.force_login(bailleur)
    target = _conference_url(a, "attribution_list")
    response = client.get(target)
    assert response.status_code == 302
    assert (
        response.url
        == f"{reverse('two_factor_enrol')}?next=%2F{a.conference.slug}%2Fattributions%2F"
    )
    page = client.get(response.url).content.decode()
    assert "demande la double authentification pour votre rôle" in page
    # An htmx request gets 401 and HX-Redirect (htmx loads the page in full).
    response = client.get(target, headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response["HX-Redirect"].startswith(reverse("two_factor_enrol"))

    key = client.session[devices.ENROLMENT_SESSION_FIELD]
    response = client.post(
        reverse("two_factor_enrol"), {"code": code_at(key, _now()), "next": target}
    )
    assert f'href="{target}"' in response.content.decode()  # « continuer » after the codes
    assert client.get(target).status_code == 200

    # Other roles, and other conferences, are not held to it.
    client.force_login(a.users[RoleName.MEMBRE])
    assert client.get(_conference_url(a)).status_code == 200
    client.force_login(world.b.users[RoleName.BAILLEUR])
    assert client.get(_conference_url(world.b)).status_code == 200


def test_a_login_not_confirmed_by_a_code_is_asked_for_one(client, world, clock):
    a = world.a
    prefecture = world.multi
    device, _codes = enrol(client, prefecture, clock)
    Conference.objects.filter(pk=a.conference.pk).update(two_factor_roles=["prefecture"])
    other = client.__class__()
    other.force_login(prefecture)  # a session opened without the code step
    response = other.get(_conference_url(a))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login_code"))
    assert other.get(_conference_url(world.b)).status_code == 200  # B does not require it
    response = other.post(
        reverse("login_code"), {"code": now_code(device, clock), "next": _conference_url(a)}
    )
    assert response.url == _conference_url(a)
    assert other.get(_conference_url(a)).status_code == 200


def test_a_removed_device_no_longer_confirms_a_session(client, world, clock):
    a = world.a
    user = a.users[RoleName.SECRETARIAT]
    enrol(client, user, clock)
    Conference.objects.filter(pk=a.conference.pk).update(two_factor_roles=["secretariat"])
    assert client.get(_conference_url(a)).status_code == 200
    TOTPDevice.objects.filter(user=user).delete()  # removed from another session
    response = client.get(_conference_url(a))
    assert response.url.startswith(reverse("two_factor_enrol"))


# --- The signer's code ----------------------------------------------------------------------


def test_signing_asks_the_code_of_a_signer_with_the_second_factor(client, world, clock):
    from conventions import signing

    a = world.a
    user = a.users[RoleName.SECRETARIAT]
    conference = a.conference
    kwargs = {"conference": conference, "actor": user, "version": a.membership}
    # Without a device, nothing more is asked.
    with conference_scope(conference):
        signing.check_second_factor(**kwargs, code="", refused_key="signature_refusee")
    assert not signing.second_factor_required(user)

    device, _codes = enrol(client, user, clock)
    assert signing.second_factor_required(user)
    with conference_scope(conference):
        with pytest.raises(ValidationError) as missing:
            signing.check_second_factor(**kwargs, code=" ", refused_key="signature_refusee")
        assert "otp_code" in missing.value.message_dict
        with pytest.raises(ValidationError) as wrong:
            signing.check_second_factor(**kwargs, code="000000", refused_key="signature_refusee")
        assert "Code incorrect" in wrong.value.message_dict["otp_code"][0]
        refused = AuditEntry.objects.filter(changes__has_key="signature_refusee")
        assert refused.count() == 1
        clock.shift(30)
        signing.check_second_factor(
            **kwargs, code=now_code(device, clock), refused_key="signature_refusee"
        )
        assert refused.count() == 1
