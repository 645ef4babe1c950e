"""Session timeouts, on a frozen clock: 30 minutes without a request, 12 hours after the
login; a French message on the login page, `next` kept; htmx gets 401 + HX-Redirect."""

import datetime
from urllib.parse import quote

import pytest
import time_machine
from django.urls import reverse

from cil.roles import RoleName
from tests.world import build_world

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 3, 2, 8, 0, 0, tzinfo=datetime.UTC)
MINUTE = 60


@pytest.fixture
def world():
    return build_world()


@pytest.fixture
def signed_in(client, world):
    """The secretariat of A, signed in at T0 on a frozen clock."""
    with time_machine.travel(T0, tick=False) as clock:
        client.force_login(world.a.users[RoleName.SECRETARIAT])
        yield client, clock


def _home(world):
    return reverse("conference_home", kwargs={"conference_slug": world.a.conference.slug})


def _expired_to_login(response, next_url: str):
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={quote(next_url, safe='')}"


def test_idle_for_the_timeout_is_still_signed_in_one_second_more_is_not(signed_in, world):
    client, clock = signed_in
    home = _home(world)
    clock.shift(30 * MINUTE)
    assert client.get(home).status_code == 200  # exactly 30 minutes: still signed in
    clock.shift(30 * MINUTE + 1)
    response = client.get(f"{home}?onglet=1")
    _expired_to_login(response, f"{home}?onglet=1")
    page = client.get(response.url).content.decode()
    assert "Votre session a expiré après 30 minutes sans activité" in page
    assert f'name="next" value="{home}?onglet=1"' in page
    assert "_auth_user_id" not in client.session


def test_activity_keeps_the_session_until_the_absolute_limit(signed_in, world):
    client, clock = signed_in
    home = _home(world)
    for _ in range(36):  # a request every 20 minutes for 12 hours
        clock.shift(20 * MINUTE)
        assert client.get(home).status_code == 200
    clock.shift(1)  # 12 h and 1 s after the login
    response = client.get(home)
    _expired_to_login(response, home)
    page = client.get(response.url).content.decode()
    assert "une connexion dure au plus 12 heures" in page


def test_the_durations_are_settings(signed_in, world, settings):
    client, clock = signed_in
    settings.CIL_SESSION_IDLE_TIMEOUT = datetime.timedelta(minutes=5)
    clock.shift(5 * MINUTE + 1)
    response = client.get(_home(world))
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert "après 5 minutes sans activité" in page


def test_htmx_requests_get_401_and_hx_redirect(signed_in, world):
    client, clock = signed_in
    clock.shift(31 * MINUTE)
    home = _home(world)
    response = client.get(home, headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response["HX-Redirect"] == f"{reverse('login')}?next={quote(home, safe='')}"


def test_a_form_sent_after_expiry_comes_back_to_its_page(signed_in, world):
    client, clock = signed_in
    clock.shift(31 * MINUTE)
    form_page = reverse("member_add", kwargs={"conference_slug": world.a.conference.slug})
    response = client.post(
        form_page, {"siren": "123456789"}, headers={"Referer": f"http://testserver{form_page}"}
    )
    _expired_to_login(response, form_page)
    # A foreign referer is not followed.
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    clock.shift(31 * MINUTE)
    response = client.post(form_page, {}, headers={"Referer": "https://ailleurs.example/x"})
    assert response.url == reverse("login")


def test_a_new_login_restarts_the_absolute_clock(signed_in, world):
    client, clock = signed_in
    home = _home(world)
    for _ in range(33):  # 11 hours of activity
        clock.shift(20 * MINUTE)
        assert client.get(home).status_code == 200
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    for _ in range(6):  # 2 more hours: 13 h after the first login, 2 h after the second
        clock.shift(20 * MINUTE)
        assert client.get(home).status_code == 200


def test_anonymous_pages_are_not_affected(client, world):
    with time_machine.travel(T0, tick=False) as clock:
        assert client.get(reverse("login")).status_code == 200
        clock.shift(24 * 60 * MINUTE)
        assert client.get(reverse("personal_data")).status_code == 200
