"""PostgreSQL out of reach, then back: every request answers a clean French 503 with
Retry-After (HTML pages and the JSON API alike, including errors raised by the session and
authentication middleware), and the same running application serves again once the database
is back, with no restart.

The shared PostgreSQL is never stopped: a TCP proxy (tests/faults/db_proxy.py) stands in for
it and is cut, then restored."""

import json

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import ProgrammingError, connection
from django.test import Client

from cil.roles import RoleName
from tests.factories import ConferenceFactory, OrganisationFactory, UserFactory, grant
from tests.faults.db_proxy import AppServer, HttpSession, TcpProxy

PASSWORD = "mot-de-passe-solide-42"
UNAVAILABLE = "Service momentanément indisponible"


def _refuse_every_query(exception_class):
    def blocker(execute, sql, params, many, context):
        raise exception_class("server closed the connection unexpectedly")

    return blocker


# --- Through the test client: the handler itself ------------------------------------------


@pytest.fixture
def member(db):
    conference = ConferenceFactory(slug="conf-panne")
    user = UserFactory(email="membre@panne.test", organisation=OrganisationFactory())
    grant(user, conference, RoleName.MEMBRE)
    return conference, user


def test_outage_below_the_middleware_answers_the_french_503_page(member):
    """A logged-in request: the session middleware reads the database first; the answer is
    the standalone page, rendered without any query."""
    from django.db import OperationalError

    conference, user = member
    client = Client(raise_request_exception=False)
    client.force_login(user)
    with connection.execute_wrapper(_refuse_every_query(OperationalError)):
        response = client.get(f"/{conference.slug}/membres/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert f"<h1>{UNAVAILABLE}</h1>" in page
    assert "Réessayez dans 30 secondes" in page
    assert "/static/dsfr/dist/dsfr/dsfr.min.css" in page


@pytest.mark.django_db
def test_outage_on_the_api_answers_json_503():
    from django.db import InterfaceError

    client = Client(raise_request_exception=False)
    with connection.execute_wrapper(_refuse_every_query(InterfaceError)):
        response = client.get("/api/v1/attributions/", HTTP_AUTHORIZATION="Bearer jeton-inconnu")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.json()["statut"] == "indisponible"
    assert UNAVAILABLE in response.json()["detail"]


@pytest.mark.django_db
def test_a_database_bug_stays_a_500(member):
    """Only an unreachable database is a 503: a broken query is our bug, and says so."""
    conference, user = member
    client = Client(raise_request_exception=False)
    client.force_login(user)
    with connection.execute_wrapper(_refuse_every_query(ProgrammingError)):
        response = client.get(f"/{conference.slug}/membres/")
    assert response.status_code == 500
    assert UNAVAILABLE not in response.content.decode()
    assert "Retry-After" not in response


# --- A real application behind a proxy that is cut, then restored --------------------------


@pytest.fixture
def app_behind_proxy(transactional_db):
    conference = ConferenceFactory(slug="conf-coupure")
    user = UserFactory(email="membre@coupure.test", organisation=OrganisationFactory())
    # The application runs with the production hashers, not the tests' fast one.
    user.password = PBKDF2PasswordHasher().encode(PASSWORD, "selcoupure")
    user.save(update_fields=["password"])
    grant(user, conference, RoleName.MEMBRE)
    proxy = TcpProxy(port=0).start()
    app = AppServer(proxy.url(connection.settings_dict["NAME"]), connect_timeout=2)
    try:
        app.start()
        yield proxy, app, conference, user
    finally:
        app.stop()
        proxy.stop()


def test_the_running_application_answers_503_during_the_outage_then_recovers(app_behind_proxy):
    proxy, app, conference, user = app_behind_proxy
    pages = [f"/{conference.slug}/", f"/{conference.slug}/membres/", "/conferences/"]
    browser = HttpSession(app.port, timeout=20)
    browser.login(user.email, PASSWORD)
    assert [browser.get(path).status for path in pages] == [200, 200, 200]

    proxy.cut()
    # Both workers have a pooled connection (CONN_MAX_AGE) that the cut has broken, and the
    # next connection attempts are refused: each request answers the page, none hangs
    # (the socket timeout would fail the test).
    during = [browser.get(path) for path in pages * 2]
    assert [answer.status for answer in during] == [503] * len(during)
    for answer in during:
        assert f"<h1>{UNAVAILABLE}</h1>" in answer.text
        assert answer.headers["Retry-After"] == "30"
    api = browser.get("/api/v1/attributions/", headers={"Authorization": "Bearer jeton"})
    assert api.status == 503
    assert UNAVAILABLE in json.loads(api.text)["detail"]
    assert api.headers["Content-Type"] == "application/json"
    health = browser.get("/sante/")
    assert (health.status, health.headers["Content-Type"]) == (503, "application/json")

    proxy.restore()
    # The same processes, the same session cookie: served again at the first request.
    assert app.process.poll() is None
    after = [browser.get(path) for path in pages * 2]
    assert [answer.status for answer in after] == [200] * len(after)
    assert "membre@coupure.test" in after[1].text or conference.name in after[1].text
    assert browser.get("/sante/").status == 200
