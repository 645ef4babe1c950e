"""The OpenAPI schema: generated without a tenant scope, served at /api/v1/schema/, and
exercised by schemathesis against the Django WSGI application (no network): with a valid
bailleur token, no operation answers 5xx and every answer conforms to the schema."""

import datetime
import io
import time

import pytest
import schemathesis
import yaml
from django.core.cache import cache
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.attributions.test_api import commune_insee, issue
from tests.world import build_world

pytestmark = pytest.mark.django_db

MAX_EXAMPLES = 25  # per operation
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def test_schema_generation_needs_no_scope(tmp_path):
    """`manage.py spectacular --validate` runs outside any conference scope."""
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    assert set(schema["paths"]) == {
        "/api/v1/attributions/",
        "/api/v1/attributions/{reference}/",
        "/api/v1/bilan/{annee}/",
    }
    scheme = schema["components"]["securitySchemes"]["jetonOrganisation"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    # The same with the generator the schema view uses.
    out = io.StringIO()
    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--generator-class",
        "attributions.api.schema.ScopesDisabledSchemaGenerator",
        stdout=out,
    )
    assert "/api/v1/attributions/" in out.getvalue()


def test_schema_is_served_publicly_in_json_and_yaml(client):
    response = client.get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "API de la plateforme CIL"
    assert "jetonOrganisation" in schema["components"]["securitySchemes"]
    response = client.get("/api/v1/schema/")
    assert response.status_code == 200
    assert yaml.safe_load(response.content)["openapi"].startswith("3.")


@pytest.fixture
def wsgi_app():
    """Django's WSGI application, in the test's transaction: like Django's test client, keep
    the end of each request from closing the connection (and the test transaction)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _valid_bodies(insee: str):
    """Bodies the contract accepts (most random bodies are refused: SIREN keys, territory…),
    so that the success paths are exercised too."""
    return st.fixed_dictionaries(
        {
            "reference": st.text(
                alphabet=st.characters(codec="utf-8", exclude_characters="\x00"),
                min_size=1,
                max_size=64,
            ).filter(str.strip),
            "date_signature_bail": st.dates(
                min_value=datetime.date(2020, 1, 1), max_value=datetime.date(2026, 12, 31)
            ).map(datetime.date.isoformat),
            "commune_insee": st.just(insee),
            "reservataire": st.sampled_from(["action_logement", "non_reserve", "commune"]),
            "nb_personnes": st.integers(1, 9),
            "revenu_annuel": st.one_of(
                st.none(), st.decimals(0, 99999, places=2).map(str), st.integers(0, 99999)
            ),
            "dalo": st.booleans(),
            "mutation": st.booleans(),
        }
    )


def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    wsgi_app, settings_fixture_free_rate
):
    world = build_world()
    token = issue(world.a)
    headers = {"Authorization": f"Bearer {token}"}
    own_reference = world.a.attribution.reference
    insee = commune_insee(world.a)
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", wsgi_app)
    operations = {result.ok().label: result.ok() for result in schema.get_all_operations()}
    assert len(operations) == 7

    # The success paths, by hand: their answers conform too.
    body = {
        "reference": "SCHEMA-1",
        "date_signature_bail": "2025-05-05",
        "commune_insee": insee,
        "reservataire": "etat_prioritaires",
        "nb_personnes": 3,
        "nb_enfants_moins_14": 1,
        "revenu_annuel": "15000.50",
        "dalo": True,
    }
    own = {"reference": own_reference}
    known = [
        ("GET /api/v1/attributions/", {"query": {"annee": 2025, "limit": 5}}, 200),
        ("POST /api/v1/attributions/", {"body": body}, 201),
        ("GET /api/v1/attributions/{reference}/", {"path_parameters": own}, 200),
        (
            "PUT /api/v1/attributions/{reference}/",
            {"path_parameters": own, "body": body | own},
            200,
        ),
        (
            "PATCH /api/v1/attributions/{reference}/",
            {"path_parameters": own, "body": {"qpv_code": None, "typologie": "T3"}},
            200,
        ),
        ("DELETE /api/v1/attributions/{reference}/", {"path_parameters": own}, 204),
        ("GET /api/v1/bilan/{annee}/", {"path_parameters": {"annee": 2025}}, 200),
    ]
    for label, data, expected in known:
        case = operations[label].Case(**data)
        response = _call(case, headers)
        assert response.status_code == expected, (label, response.text)
        case.validate_response(response, checks=CHECKS, headers=headers)

    # Then the fuzzing: schema-valid data, schema-violating data, the bailleur's own line
    # (so that the 200 paths are reached too) and bodies the contract accepts.
    started = time.monotonic()
    calls: dict[str, int] = {}
    statuses: dict[str, set[int]] = {}
    for label, operation in operations.items():
        strategies = [
            operation.as_strategy(),
            operation.as_strategy(schemathesis.GenerationMode.NEGATIVE),
        ]
        fixed = {"path_parameters": own} if "{reference}" in operation.path else {}
        if fixed:
            strategies.append(operation.as_strategy(**fixed))
        if operation.method in ("post", "put", "patch"):
            strategies.append(
                _valid_bodies(insee).flatmap(
                    lambda body, op=operation, fixed=fixed: op.as_strategy(body=body, **fixed)
                )
            )
        _fuzz(st.one_of(strategies), headers, label, calls, statuses)
    duration = time.monotonic() - started
    print(  # the figures quoted in reviews (pytest -s)
        f"schemathesis {schemathesis.__version__}: {len(operations)} operations × "
        f"{MAX_EXAMPLES} examples, {sum(calls.values())} calls in {duration:.1f} s; "
        f"statuses {statuses}"
    )
    assert all(calls[label] >= MAX_EXAMPLES // 2 for label in operations)
    assert duration < 60


def _call(case, headers):
    """Send the case through the WSGI application; its writes are rolled back so that every
    example starts from the same data."""
    with transaction.atomic():
        response = case.call(headers=headers)
        transaction.set_rollback(True)
    return response


def _fuzz(strategy, headers, label, calls, statuses) -> None:
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case):
        response = _call(case, headers)
        calls[label] = calls.get(label, 0) + 1
        statuses.setdefault(label, set()).add(response.status_code)
        case.validate_response(response, checks=CHECKS, headers=headers)

    run()


@pytest.fixture
def settings_fixture_free_rate(settings):
    """Hundreds of requests in seconds: lift the per-token rate limit, start from zero."""
    settings.CIL_API_THROTTLE_RATE = "100000/minute"
    cache.clear()
