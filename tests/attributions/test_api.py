"""API v1 with organisation tokens: a bailleur's own attributions (create, read, update,
delete, list), the same validation as the form, the token's conference as the tenant, the
bilan per organisation type, authentication failures and rate limiting."""

import datetime
import json

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from attributions import bilan_cache
from attributions.models import ApiToken, Attribution
from attributions.services import RowInvalid, check_row
from attributions.tokens import token_hash, token_issue, token_revoke
from cil.models import AuditAction, AuditEntry, College, Commune, Membership
from cil.roles import RoleName
from cil.tenancy import conference_scope
from tests.factories import OrganisationFactory
from tests.world import Tenant, build_world

pytestmark = pytest.mark.django_db

LIST_URL = "/api/v1/attributions/"


# --- Helpers (also used by test_api_schema.py) ----------------------------------------


def issue(tenant: Tenant, organisation=None, name: str = "Logiciel de test") -> str:
    """Issue a token in the tenant's conference (default: the bailleur user's organisation)
    and return its clear value."""
    organisation = organisation or tenant.users[RoleName.BAILLEUR].organisation
    with conference_scope(tenant.conference):
        _token, clear = token_issue(
            conference=tenant.conference,
            actor=tenant.users[RoleName.SECRETARIAT],
            organisation=organisation,
            name=name,
        )
    return clear


def auth(clear: str, keyword: str = "Bearer") -> dict[str, str]:
    return {"Authorization": f"{keyword} {clear}"}


def commune_insee(tenant: Tenant) -> str:
    with conference_scope(tenant.conference):
        return Commune.objects.order_by("insee").first().insee


def valid_body(tenant: Tenant, **overrides) -> dict:
    body = {
        "reference": "API-0001",
        "date_signature_bail": "2025-06-02",
        "commune_insee": commune_insee(tenant),
        "reservataire": "action_logement",
        "nb_personnes": 2,
        "revenu_annuel": "12000",
    }
    body.update(overrides)
    return body


def detail_url(reference: str) -> str:
    return reverse("api:attribution_detail", kwargs={"reference": reference})


def add_line(tenant: Tenant, organisation, reference: str, year: int = 2025) -> Attribution:
    """An attribution of `organisation` written directly (fixture), inside the scope."""
    with conference_scope(tenant.conference):
        raw = {
            "reference": reference,
            "bailleur_siren": organisation.siren,
            "date_signature_bail": f"{year}-02-03",
            "commune_insee": Commune.objects.order_by("insee").first().insee,
            "reservataire": "non_reserve",
            "nb_personnes": "1",
            "revenu_annuel": "20000",
        }
        fields = check_row(raw, conference=tenant.conference)
        return Attribution.objects.create(conference=tenant.conference, **fields)


def send(client, method: str, url: str, clear: str, body=None):
    kwargs = {"headers": auth(clear)}
    if body is not None:
        kwargs |= {"data": json.dumps(body), "content_type": "application/json"}
    return getattr(client, method)(url, **kwargs)


@pytest.fixture
def world():
    cache.clear()  # throttling counters
    return build_world()


@pytest.fixture
def bailleur(world):
    return world.a.users[RoleName.BAILLEUR].organisation


@pytest.fixture
def token(world):
    return issue(world.a)


# --- Create, read, update, delete -----------------------------------------------------


def test_bailleur_creates_reads_updates_and_deletes_its_attribution(client, world, bailleur, token):
    response = send(client, "post", LIST_URL, token, valid_body(world.a))
    assert response.status_code == 201, response.json()
    created = response.json()
    assert response["Location"] == detail_url("API-0001")
    assert created["bailleur_siren"] == bailleur.siren  # defaults to the token's organisation
    assert created["annee"] == 2025
    assert created["uc"] == "1.50"
    assert created["revenu_par_uc_calcule"] == "8000.00"
    assert created["premier_quartile"] is True  # 8000 < 9876 (world's 2025 threshold)
    assert created["qpv_code"] is None
    assert created["en_qpv"] is False

    response = send(client, "get", detail_url("API-0001"), token)
    assert response.status_code == 200
    assert response.json() == created

    body = valid_body(world.a, nb_personnes=4, nb_enfants_moins_14=2, dalo="oui")
    response = send(client, "put", detail_url("API-0001"), token, body)
    assert response.status_code == 200, response.json()
    updated = response.json()
    assert updated["nb_personnes"] == 4
    assert updated["uc"] == "2.10"
    assert updated["dalo"] is True
    assert updated["prioritaire"] is True  # CCH L.441-1: DALO implies prioritaire

    response = send(client, "patch", detail_url("API-0001"), token, {"mutation": True})
    assert response.status_code == 200, response.json()
    patched = response.json()
    assert patched["mutation"] is True
    assert patched["nb_personnes"] == 4  # unchanged by PATCH

    response = send(client, "delete", detail_url("API-0001"), token)
    assert response.status_code == 204
    assert send(client, "get", detail_url("API-0001"), token).status_code == 404

    with conference_scope(world.a.conference):
        entries = list(
            AuditEntry.objects.filter(object_type="attributions.attribution").order_by("id")
        )
    assert [e.action for e in entries] == [
        AuditAction.CREATE,
        AuditAction.UPDATE,
        AuditAction.UPDATE,
        AuditAction.DELETE,
    ]
    for entry in entries:
        assert entry.actor is None
        assert entry.actor_organisation == bailleur
        assert entry.actor_label.startswith("API, jeton cil_")
        assert token not in entry.actor_label


def test_put_sent_back_as_received_is_accepted(client, world, token):
    """A client may PUT what it GOT: the read-only derived fields are ignored."""
    created = send(client, "post", LIST_URL, token, valid_body(world.a)).json()
    response = send(client, "put", detail_url("API-0001"), token, created | {"rpls_id": "R-9"})
    assert response.status_code == 200, response.json()
    assert response.json() == created | {"rpls_id": "R-9"}


def test_reference_with_a_slash_is_addressable(client, world, token):
    response = send(client, "post", LIST_URL, token, valid_body(world.a, reference="2025/007"))
    assert response.status_code == 201
    url = "/api/v1/attributions/2025%2F007/"
    assert send(client, "get", url, token).json()["reference"] == "2025/007"


def test_token_keyword_is_accepted(client, world, token):
    response = client.get(LIST_URL, headers=auth(token, "Token"))
    assert response.status_code == 200


# --- Same validation as the form and the import ---------------------------------------


def test_validation_errors_are_the_contract_s(client, world, token):
    body = valid_body(
        world.a,
        date_signature_bail="31/02/2025",
        commune_insee="99999",
        nb_personnes=2,
        nb_enfants_moins_14=2,
        typologie="T9",
    )
    del body["reservataire"]
    response = send(client, "post", LIST_URL, token, body)
    assert response.status_code == 400
    errors = response.json()["erreurs"]
    # Exactly what the form and the import say about the same row.
    with conference_scope(world.a.conference), pytest.raises(RowInvalid) as expected:
        check_row(
            body | {"bailleur_siren": world.a.users[RoleName.BAILLEUR].organisation.siren},
            conference=world.a.conference,
        )
    assert errors == [
        {"champ": column, "valeur": value, "message": message}
        for column, value, message in expected.value.problems
    ]
    fields = {e["champ"] for e in errors}
    assert {"date_signature_bail", "typologie", "reservataire"} <= fields
    assert any(e["message"] == "Valeur obligatoire manquante." for e in errors)
    assert any("AAAA-MM-JJ" in e["message"] for e in errors)


def test_territory_errors_name_the_field(client, world, token):
    response = send(client, "post", LIST_URL, token, valid_body(world.a, commune_insee="99999"))
    assert response.status_code == 400
    assert response.json()["erreurs"] == [
        {
            "champ": "commune_insee",
            "valeur": "99999",
            "message": "Cette commune n'appartient pas au territoire de la conférence.",
        }
    ]


def test_existing_reference_is_refused_on_create(client, world, token):
    assert send(client, "post", LIST_URL, token, valid_body(world.a)).status_code == 201
    response = send(client, "post", LIST_URL, token, valid_body(world.a))
    assert response.status_code == 400
    assert response.json()["erreurs"][0]["champ"] == "reference"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"colonne_inconnue": "x"}, "colonne_inconnue"),
        ({"reference": ["liste"]}, "reference"),
        ({"reference": "a\x00b"}, "reference"),
    ],
)
def test_json_only_problems_are_refused(client, world, token, body, field):
    response = send(client, "post", LIST_URL, token, valid_body(world.a) | body)
    assert response.status_code == 400
    assert [e["champ"] for e in response.json()["erreurs"]] == [field]


def test_body_must_be_a_json_object(client, world, token):
    response = send(client, "post", LIST_URL, token, ["pas", "un", "objet"])
    assert response.status_code == 400
    assert response.json()["erreurs"][0]["message"].startswith("Le corps de la requête")
    response = client.post(
        LIST_URL, data="{pas du json", content_type="application/json", headers=auth(token)
    )
    assert response.status_code == 400
    assert response.json()["erreurs"][0]["message"].startswith("Corps de requête illisible")


def test_bad_year_filter_is_a_400(client, world, token):
    response = client.get(LIST_URL, {"annee": "deux mille"}, headers=auth(token))
    assert response.status_code == 400
    assert response.json()["erreurs"][0]["champ"] == "annee"


# --- A bailleur reaches only its own lines --------------------------------------------


def test_another_bailleur_s_line_is_invisible_and_untouchable(client, world, token):
    other = world.a.membership.organisation  # another bailleur member of A
    line = add_line(world.a, other, "AUTRE-0001")
    url = detail_url("AUTRE-0001")
    assert send(client, "get", url, token).status_code == 404
    assert send(client, "put", url, token, valid_body(world.a)).status_code == 404
    assert send(client, "patch", url, token, {"mutation": True}).status_code == 404
    assert send(client, "delete", url, token).status_code == 404
    references = [a["reference"] for a in send(client, "get", LIST_URL, token).json()["results"]]
    assert "AUTRE-0001" not in references
    with conference_scope(world.a.conference):
        line.refresh_from_db()
        assert line.mutation is False


def test_creating_a_line_for_another_bailleur_is_refused(client, world, token):
    other = world.a.membership.organisation
    body = valid_body(world.a, bailleur_siren=other.siren)
    response = send(client, "post", LIST_URL, token, body)
    assert response.status_code == 400
    assert response.json()["erreurs"] == [
        {
            "champ": "bailleur_siren",
            "valeur": other.siren,
            "message": "Vous ne pouvez déclarer que les attributions de votre propre organisme.",
        }
    ]
    with conference_scope(world.a.conference):
        assert not Attribution.objects.filter(bailleur=other, reference="API-0001").exists()


def test_moving_a_line_to_another_bailleur_is_refused(client, world, token):
    other = world.a.membership.organisation
    send(client, "post", LIST_URL, token, valid_body(world.a))
    response = send(client, "patch", detail_url("API-0001"), token, {"bailleur_siren": other.siren})
    assert response.status_code == 400
    assert response.json()["erreurs"][0]["champ"] == "bailleur_siren"


def test_list_shows_own_lines_filtered_and_paginated(
    client, world, bailleur, token, django_assert_num_queries
):
    add_line(world.a, bailleur, "L-2024", year=2024)
    add_line(world.a, bailleur, "L-2025", year=2025)
    add_line(world.a, world.a.membership.organisation, "AUTRE-2025", year=2025)
    page = send(client, "get", LIST_URL, token).json()
    references = {a["reference"] for a in page["results"]}
    assert references == {"L-2024", "L-2025", world.a.attribution.reference}
    assert page["count"] == 3

    response = client.get(LIST_URL, {"annee": "2024"}, headers=auth(token))
    assert [a["reference"] for a in response.json()["results"]] == ["L-2024"]

    response = client.get(LIST_URL, {"limit": 1, "offset": 1}, headers=auth(token))
    assert response.json()["count"] == 3
    assert len(response.json()["results"]) == 1
    assert response.json()["next"]
    assert response.json()["previous"] is not None

    # Token lookup, membership check, count, page, the entry of the journal of reads:
    # whatever the number of lines.
    with django_assert_num_queries(5):
        send(client, "get", LIST_URL, token)


# --- The token's conference is the tenant ---------------------------------------------


def test_a_token_of_conference_a_never_reaches_conference_b(client, world, bailleur, token):
    # The same bailleur is also a member of B and has a line there.
    with conference_scope(world.b.conference):
        Membership.objects.create(
            conference=world.b.conference, organisation=bailleur, college=College.PROFESSIONNELS
        )
    b_line = add_line(world.b, bailleur, "B-SEULEMENT")
    url = detail_url("B-SEULEMENT")
    assert send(client, "get", url, token).status_code == 404
    assert send(client, "put", url, token, valid_body(world.a)).status_code == 404
    assert send(client, "delete", url, token).status_code == 404
    page = send(client, "get", LIST_URL, token).json()
    assert "B-SEULEMENT" not in {a["reference"] for a in page["results"]}
    assert page["count"] == 1  # A's line only
    # A commune of B is not in A's territory.
    body = valid_body(world.a, commune_insee=commune_insee(world.b))
    if commune_insee(world.b) != commune_insee(world.a):
        assert send(client, "post", LIST_URL, token, body).status_code == 400
    # B's bailleur cannot be named from A.
    b_bailleur = world.b.users[RoleName.BAILLEUR].organisation
    body = valid_body(world.a, bailleur_siren=b_bailleur.siren)
    response = send(client, "post", LIST_URL, token, body)
    assert response.status_code == 400
    with conference_scope(world.b.conference):
        b_line.refresh_from_db()
        assert Attribution.objects.count() == 3  # world's two lines and B-SEULEMENT


def test_b_s_references_are_404_with_an_a_token(client, world):
    """B's own bailleur's line, aimed at with A's bailleur token: 404, nothing changes."""
    token = issue(world.a)
    reference = world.b.attribution.reference  # "REF-MARQUEUR-B"
    assert send(client, "get", detail_url(reference), token).status_code == 404
    assert send(client, "delete", detail_url(reference), token).status_code == 404
    with conference_scope(world.b.conference):
        assert Attribution.objects.filter(pk=world.b.attribution.pk).exists()


# --- Who may use the API ---------------------------------------------------------------


@pytest.mark.parametrize("role", [RoleName.SECRETARIAT, RoleName.PREFECTURE])
def test_non_bailleur_tokens_get_403_on_attributions(client, world, role):
    token = issue(world.a, world.a.users[role].organisation)
    response = send(client, "get", LIST_URL, token)
    assert response.status_code == 403
    assert "bailleurs" in response.json()["detail"]
    response = send(client, "post", LIST_URL, token, valid_body(world.a))
    assert response.status_code == 403


def test_missing_or_wrong_credentials_get_401_in_french(client, world, token):
    response = client.get(LIST_URL)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert "Authentification requise" in response.json()["detail"]
    response = client.get(LIST_URL, headers=auth("cil_inconnu"))
    assert response.status_code == 401
    assert response.json() == {"detail": "Jeton d'API invalide ou révoqué."}
    response = client.get(LIST_URL, headers={"Authorization": "Bearer deux morceaux"})
    assert response.status_code == 401


def test_revoked_token_gets_401(client, world, token):
    assert send(client, "get", LIST_URL, token).status_code == 200
    with conference_scope(world.a.conference):
        api_token = ApiToken.objects.get(prefix=token[:10])
        token_revoke(
            conference=world.a.conference,
            actor=world.a.users[RoleName.SECRETARIAT],
            token=api_token,
        )
    response = send(client, "get", LIST_URL, token)
    assert response.status_code == 401
    assert response.json() == {"detail": "Jeton d'API invalide ou révoqué."}


def test_organisation_that_left_the_conference_gets_401(client, world, bailleur, token):
    with conference_scope(world.a.conference):
        Membership.objects.filter(organisation=bailleur).delete()
    assert send(client, "get", LIST_URL, token).status_code == 401


def test_a_signed_in_person_without_token_gets_401(client, world):
    client.force_login(world.a.users[RoleName.BAILLEUR])
    assert client.get(LIST_URL).status_code == 401


def test_last_used_is_written_at_most_once_a_minute(client, world, token):
    with conference_scope(world.a.conference):
        api_token = ApiToken.objects.get(prefix=token[:10])
        assert api_token.last_used_at is None
    send(client, "get", LIST_URL, token)
    with conference_scope(world.a.conference):
        api_token.refresh_from_db()
        first = api_token.last_used_at
        assert first is not None
    send(client, "get", LIST_URL, token)
    with conference_scope(world.a.conference):
        api_token.refresh_from_db()
        assert api_token.last_used_at == first
        earlier = timezone.now() - datetime.timedelta(minutes=2)
        ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=earlier)
    send(client, "get", LIST_URL, token)
    with conference_scope(world.a.conference):
        api_token.refresh_from_db()
        assert api_token.last_used_at > earlier + datetime.timedelta(minutes=1)


def test_rate_limit_per_token(client, world, settings, token):
    settings.CIL_API_THROTTLE_RATE = "2/minute"
    other = issue(world.a, name="Autre logiciel")
    assert send(client, "get", LIST_URL, token).status_code == 200
    assert send(client, "get", LIST_URL, token).status_code == 200
    response = send(client, "get", LIST_URL, token)
    assert response.status_code == 429
    assert response.json()["detail"].startswith("Trop de requêtes avec ce jeton.")
    assert int(response["Retry-After"]) > 0
    assert send(client, "get", LIST_URL, other).status_code == 200  # per token


# --- The bilan -------------------------------------------------------------------------


def _fake_bilan(world, bailleur):
    line = {
        "attributions": 1,
        "r1_q1_hors_qpv": {"numerateur": 0, "denominateur": 0, "taux": None, "cible": 0.25},
        "r2_hors_q1_en_qpv": {"numerateur": 0, "denominateur": 0, "taux": None, "cible": 0.5},
        "r3_prioritaires_non_reserve": {
            "numerateur": 0,
            "denominateur": 0,
            "taux": None,
            "cible": 0.25,
        },
    }
    other = world.a.membership.organisation
    return {
        "format": "bilan/v1",
        "conference": world.a.conference.slug,
        "annee": 2025,
        "par_bailleur": [
            {"siren": bailleur.siren, "nom": bailleur.name, **line},
            {"siren": other.siren, "nom": other.name, **line},
        ],
        "par_reservataire": [{"reservataire": "action_logement", "siren": None}],
        "par_commune": [{"insee": "76000", "attributions": 2}],
    }


@pytest.fixture
def fake_bilan(monkeypatch, world, bailleur):
    calls = []
    document = _fake_bilan(world, bailleur)

    def get_bilan(conference, year, *, compute_if_missing=True):
        calls.append((conference.pk, year, compute_if_missing))
        return document

    monkeypatch.setattr(bilan_cache, "get_bilan", get_bilan)
    return calls, document


def test_bailleur_gets_the_bilan_with_its_own_line_only(client, world, bailleur, token, fake_bilan):
    calls, document = fake_bilan
    response = send(client, "get", reverse("api:bilan", kwargs={"annee": 2025}), token)
    assert response.status_code == 200
    body = response.json()
    assert [line["siren"] for line in body["par_bailleur"]] == [bailleur.siren]
    assert body["par_reservataire"] == document["par_reservataire"]
    assert body["par_commune"] == document["par_commune"]
    assert calls == [(world.a.conference.pk, 2025, True)]


@pytest.mark.parametrize("role", [RoleName.SECRETARIAT, RoleName.PREFECTURE])
def test_epci_and_state_get_the_whole_bilan(client, world, fake_bilan, role):
    _calls, document = fake_bilan
    token = issue(world.a, world.a.users[role].organisation)
    response = send(client, "get", reverse("api:bilan", kwargs={"annee": 2025}), token)
    assert response.status_code == 200
    assert response.json() == document


def test_other_organisations_get_403_on_the_bilan(client, world, fake_bilan):
    commune = world.a.users[RoleName.ELU].organisation
    with conference_scope(world.a.conference):
        clear = "cil_" + "x" * 40
        ApiToken.objects.create(
            conference=world.a.conference,
            organisation=commune,
            name="Jeton d'une commune",
            prefix=clear[:10],
            token_hash=token_hash(clear),
        )
    response = send(client, "get", reverse("api:bilan", kwargs={"annee": 2025}), clear)
    assert response.status_code == 403
    assert "bilan" in response.json()["detail"]


def test_bilan_being_computed_is_a_202(client, world, token, monkeypatch):
    monkeypatch.setattr(bilan_cache, "get_bilan", lambda *a, **k: None)
    response = send(client, "get", reverse("api:bilan", kwargs={"annee": 2025}), token)
    assert response.status_code == 202
    assert response.json() == {"statut": "calcul en cours"}
    assert int(response["Retry-After"]) > 0


@pytest.mark.parametrize("year", ["1999", "2101", "20x5", "202"])
def test_bilan_of_an_impossible_year_is_a_404(client, world, token, year):
    response = send(client, "get", f"/api/v1/bilan/{year}/", token)
    assert response.status_code == 404
    assert response.json()["detail"].startswith("Aucun bilan pour cette année")


def test_bilan_from_the_real_cache(client, world, bailleur, token):
    """The stored bilan (computed inline: tasks run eagerly in tests), reduced for a bailleur."""
    response = send(client, "get", reverse("api:bilan", kwargs={"annee": 2025}), token)
    assert response.status_code == 200
    body = response.json()
    assert body["format"] == "bilan/v1"
    assert body["conference"] == world.a.conference.slug
    assert [line["siren"] for line in body["par_bailleur"]] == [bailleur.siren]
    assert body["par_bailleur"][0]["attributions"] == 1
    assert body["total"]["attributions"] == 2  # the whole conference's


def test_an_organisation_member_of_two_conferences_gets_each_conference_s_bilan(client, world):
    """The token, not the organisation, decides the tenant."""
    epci = OrganisationFactory(epci=True)
    for tenant in (world.a, world.b):
        with conference_scope(tenant.conference):
            Membership.objects.create(
                conference=tenant.conference, organisation=epci, college=College.COLLECTIVITES
            )
    token_a, token_b = issue(world.a, epci), issue(world.b, epci)
    url = reverse("api:bilan", kwargs={"annee": 2025})
    assert send(client, "get", url, token_a).json()["conference"] == world.a.conference.slug
    assert send(client, "get", url, token_b).json()["conference"] == world.b.conference.slug
