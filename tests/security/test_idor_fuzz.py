"""Authorisation proof, part 1: a Hypothesis-driven cross-tenant (IDOR) fuzz.

Members of conference A who hold the permission (each role's user, `multi` who is
prefecture in both conferences, and `omni` who holds every role in A and in B) send A's
URLs with B's identifiers put in: path kwargs, query-string filters, POST form fields
(foreign keys and choices), API paths and JSON bodies. The identifiers are B's matching
objects, every primary key and public id of every tenant-owned model of B, and B's natural
keys (INSEE and QPV codes, SIRENs, references).

A request "succeeds" when it answers 2xx with B's marker or one of B's public ids in what
it shows (the injected values themselves taken out: a form may echo them), or when it
changes the database. None may succeed, none may answer 500, and the fingerprint of the
whole database (tests/security/support.py) is the same before and after.
"""

import collections
import datetime
import json
import re
from dataclasses import dataclass, field

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attributions.models import Attribution
from attributions.tokens import token_issue
from cil.governance.models import ItemKind
from cil.permissions import PERMISSIONS
from cil.roles import RoleName
from cil.tenancy import conference_scope
from conventions.models import Signatory
from tests.security.support import (
    changed_tables,
    db_fingerprint,
    foreign_identifiers,
    organisations_only_in,
    populate,
    response_text,
    row_kwargs,
)
from tests.test_tenant_isolation import CONFERENCE_ROWS, OBJECT_ROWS
from tests.world import build_world

pytestmark = pytest.mark.django_db

MIN_REQUESTS = 1000
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
WRITE_METHODS = {"post", "put", "patch", "delete"}
# Refusals: not found, forbidden, invalid (API), method not allowed; 200 re-renders a form
# with its error, 302 follows a refused action (checked against the database).
ALLOWED_STATUSES = {200, 302, 400, 403, 404, 405}


@dataclass(frozen=True)
class Probe:
    point: str  # the injection point (a label of the report)
    actor: str
    method: str
    url: str
    data: dict | None = None
    api_token: str = ""
    htmx: bool = False
    injected: tuple[str, ...] = ()
    # Path probes aim at B's object: anything but "not found" (or a refused method) fails.
    expect_404: bool = False


@dataclass
class Run:
    """What the fuzz saw: requests per injection point and statuses, baseline fingerprint."""

    world: object
    clients: dict
    baseline: dict
    b_uuids: set
    b_marker: str
    points: collections.Counter = field(default_factory=collections.Counter)
    statuses: collections.Counter = field(default_factory=collections.Counter)
    sent: int = 0


# --- The world and the actors ------------------------------------------------------------


def _actors(world) -> dict:
    a = world.a
    return {**{f"a-{role}": user for role, user in a.users.items()}, "multi": world.multi} | {
        "omni": world.omni
    }


def _actors_with(permission: str) -> list[str]:
    roles = PERMISSIONS[permission]
    names = [f"a-{role}" for role in sorted(roles)] + ["omni"]
    if RoleName.PREFECTURE in roles:
        names.append("multi")
    return names


def _a_url(world, name: str, **kwargs) -> str:
    return reverse(name, kwargs={"conference_slug": world.a.conference.slug, **kwargs})


# --- Strategies ---------------------------------------------------------------------------


def _b_values(ids, uuids_first: bool = False):
    """B's identifiers as text: public ids (also upper-cased), primary keys, natural keys."""
    uuids = st.sampled_from(ids.uuids)
    choices = [
        uuids,
        uuids.map(str.upper),
        st.sampled_from(ids.pks).map(str),
        st.sampled_from(ids.keys),
    ]
    if uuids_first:
        choices = [uuids, uuids, *choices]
    return st.one_of(*choices)


def _path_probes(world, ids):
    """A's object URLs with some of their ids replaced by B's (the matching object, or any
    public id of B), as GET and as POST."""
    rows = OBJECT_ROWS
    a_kwargs = {name: row_kwargs(world.a, name) for name in rows}
    b_kwargs = {name: row_kwargs(world.b, name) for name in rows}

    @st.composite
    def probe(draw):
        name = draw(st.sampled_from(rows))
        row = CONFERENCE_ROWS[name]
        kwargs = dict(a_kwargs[name])
        replaceable = [
            k for k, v in kwargs.items() if k in b_kwargs[name] and v != b_kwargs[name][k]
        ]
        chosen = draw(st.lists(st.sampled_from(replaceable), min_size=1, unique=True))
        injected = []
        for key in chosen:
            if key.endswith("_id"):
                value = draw(
                    st.one_of(st.just(str(b_kwargs[name][key])), st.sampled_from(ids.uuids))
                )
            else:
                value = str(b_kwargs[name][key])
            kwargs[key] = value
            injected.append(value)
        method = row.method if row.method == "post" else draw(st.sampled_from(["get", "post"]))
        return Probe(
            point=f"chemin ({name})",
            actor=draw(st.sampled_from(_actors_with(row.permission))),
            method=method,
            url=_a_url(world, name, **kwargs),
            data={} if method == "post" else None,
            htmx=draw(st.booleans()),
            injected=tuple(injected),
            expect_404=True,
        )

    return probe()


def _query_probes(world, ids):
    """A's list pages and exports with B's identifiers in every filter they read."""
    a = world.a
    cia = row_kwargs(a, "cia_detail")
    pages = {
        # name: (kwargs, parameters)
        "attribution_list": ({}, ["bailleur", "commune", "q", "annee", "page"]),
        "attribution_export": ({"fmt": "csv"}, ["bailleur", "commune", "q", "annee"]),
        "access_journal": ({}, ["organisation", "person", "object_type", "channel", "page"]),
        "access_journal_export": ({"fmt": "csv"}, ["organisation", "person", "object_type"]),
        "audit_log": ({}, ["action", "object_type", "actor", "page"]),
        "decision_list": ({}, ["annee"]),
        "reference_detail": ({}, ["annee"]),
        "bilan": ({}, ["annee", "tri", "ordre"]),
        "bilan_export": ({"table": "communes", "fmt": "csv"}, ["annee"]),
        "cia_detail": (cia, ["version", "annee"]),
        "cia_objectives_edit": (row_kwargs(a, "cia_objectives_edit"), ["perimetre"]),
        "cia_reservataire_objectives_edit": (
            row_kwargs(a, "cia_reservataire_objectives_edit"),
            ["perimetre"],
        ),
        "orientation_compare": (row_kwargs(a, "orientation_compare"), ["a", "de"]),
        "observatoire_home": ({}, ["annee"]),
        "observatoire_map": ({}, ["annee", "indicateur", "classes"]),
        "observatoire_communes": ({}, ["annee", "commune"]),
        "observatoire_export": ({"table": "demande_communes", "fmt": "csv"}, ["annee"]),
        "member_list": ({}, ["college", "organisation"]),
        "meeting_list": ({}, ["annee", "instance"]),
        "document_list": ({}, ["annee", "document"]),
    }
    values = _b_values(ids)
    prefixed = st.one_of(
        values,
        st.sampled_from(ids.keys).map(lambda k: f"commune-{k}"),
        st.sampled_from(ids.keys).map(lambda k: f"qpv-{k}"),
    )

    @st.composite
    def probe(draw):
        name = draw(st.sampled_from(sorted(pages)))
        kwargs, parameters = pages[name]
        chosen = draw(st.lists(st.sampled_from(parameters), min_size=1, unique=True))
        query = {p: draw(prefixed if p == "perimetre" else values) for p in chosen}
        url = _a_url(world, name, **kwargs)
        return Probe(
            point=f"paramètre d'URL ({name} : {', '.join(sorted(query))})",
            actor=draw(st.sampled_from(_actors_with(CONFERENCE_ROWS[name].permission))),
            method="get",
            url=f"{url}?{_encode(query)}",
            injected=tuple(query.values()),
        )

    return probe()


def _encode(query: dict) -> str:
    from urllib.parse import urlencode

    return urlencode(query)


def _form_probes(world, ids, a_refs):
    """A's forms, valid but for one foreign-key or choice field that names B's object."""
    a = world.a
    today = datetime.date.today()  # noqa: DTZ011 - a form's date, local to the test
    b_orgs = organisations_only_in(world.b, world.a)
    org_uuids = [str(o.public_id) for o in b_orgs]
    org_pks = [str(o.pk) for o in b_orgs]
    by_model = ids.by_model
    uuid_values = _b_values(ids, uuids_first=True)

    def of(label):
        return st.one_of(st.sampled_from(by_model[label]), uuid_values)

    attribution = {
        "reference": "FUZZ-0001",
        "date_signature_bail": "2025-04-02",
        "commune_insee": a_refs["insee"],
        "qpv_code": "",
        "reservataire": "non_reserve",
        "reservataire_siren": "",
        "nb_personnes": "2",
        "nb_enfants_moins_14": "0",
        "revenu_annuel": "11000",
        "revenu_par_uc": "",
        "typologie": "",
        "financement": "",
        "numero_unique": "",
        "rpls_id": "",
    }
    body = {"name": "Instance fuzz", "kind": "commission", "rhythm": "annuel", "is_active": "on"}
    meeting = {"title": "Séance fuzz", "day": (today + datetime.timedelta(days=40)).isoformat()}
    meeting |= {"start": "14:00"}
    forms = [
        # (name, kwargs, actors, base data, field, strategy of B values, list field)
        ("attribution_create", {}, ["a-bailleur", "omni"], attribution, "commune_insee", None),
        ("attribution_create", {}, ["a-bailleur", "omni"], attribution, "qpv_code", None),
        (
            "attribution_edit",
            {"attribution_id": a.attribution.public_id},
            ["a-bailleur"],
            attribution,
            "commune_insee",
            None,
        ),
        (
            "attribution_edit",
            {"attribution_id": a_refs["omni_attribution"]},
            ["omni"],
            attribution,
            "qpv_code",
            None,
        ),
        (
            "user_invite",
            {},
            ["a-secretariat", "omni"],
            {"email": "fuzz@exemple.fr", "role": RoleName.BAILLEUR},
            "organisation",
            st.one_of(st.sampled_from(org_uuids), uuid_values),
        ),
        (
            "token_issue",
            {},
            ["a-secretariat", "omni"],
            {"name": "Jeton fuzz"},
            "organisation",
            st.one_of(st.sampled_from(org_pks), _b_values(ids)),
        ),
        ("body_create", {}, ["a-secretariat", "omni"], body, "members", of("cil.membership")),
        (
            "body_edit",
            row_kwargs(a, "body_edit"),
            ["a-secretariat", "omni"],
            body,
            "members",
            of("cil.membership"),
        ),
        ("meeting_create", {}, ["a-secretariat", "omni"], meeting, "body", of("governance.body")),
        (
            "item_add",
            row_kwargs(a, "item_add"),
            ["a-secretariat", "omni"],
            {"kind": ItemKind.CIA, "title": ""},
            "cia_version",
            of("conventions.conventionversion"),
        ),
        (
            "item_add",
            row_kwargs(a, "item_add"),
            ["a-secretariat", "omni"],
            {"kind": ItemKind.PROCES_VERBAL, "title": ""},
            "minutes",
            of("governance.minutes"),
        ),
        (
            "item_edit",
            row_kwargs(a, "item_edit"),
            ["a-secretariat", "omni"],
            {"kind": ItemKind.CIA, "title": ""},
            "cia_version",
            of("conventions.conventionversion"),
        ),
        (
            "attachment_add",
            row_kwargs(a, "attachment_add"),
            ["a-secretariat", "omni"],
            {"title": ""},
            "document",
            of("conventions.generateddocument"),
        ),
        (
            "cia_signatories_edit",
            row_kwargs(a, "cia_signatories_edit"),
            ["a-secretariat", "omni"],
            {},
            "organisations",
            st.one_of(st.sampled_from(org_uuids), uuid_values),
        ),
        (
            "cia_designate",
            row_kwargs(a, "cia_sign"),  # a version in signature
            _actors_with("cia.designate_signer"),
            {"signer": a_refs["a_signer"]},
            "signatory",
            of("conventions.signatory"),
        ),
        (
            "cia_designate",
            row_kwargs(a, "cia_sign"),  # a version in signature
            _actors_with("cia.designate_signer"),
            {"signatory": a_refs["a_signatory"]},
            "signer",
            of("cil.user"),
        ),
        (
            "attendance_row",
            row_kwargs(a, "attendance_row"),
            ["a-secretariat", "omni"],
            {"status": "represente"},
            "proxy_holder",
            of("cil.membership"),
        ),
        (
            "attendance_row",
            row_kwargs(a, "attendance_row"),
            ["a-secretariat", "omni"],
            {"status": "supplee"},
            "attendee",
            of("cil.representative"),
        ),
    ]
    list_fields = {"members", "organisations"}
    a_memberships = [a_refs["a_membership"]]

    @st.composite
    def probe(draw):
        name, kwargs, actors, base, target, values = draw(st.sampled_from(forms))
        value = draw(values if values is not None else _b_values(ids))
        data = dict(base)
        if target in list_fields:
            # B's id alone, or next to a legitimate A choice.
            data[target] = [value, *draw(st.sampled_from([[], a_memberships]))]
        else:
            data[target] = value
        return Probe(
            point=f"champ de formulaire ({name} : {target})",
            actor=draw(st.sampled_from(actors)),
            method="post",
            url=_a_url(world, name, **kwargs),
            data=data,
            htmx=draw(st.booleans()),
            injected=(value,),
        )

    return probe()


def _api_probes(world, ids, tokens):
    """The token API: B's references in the path (read, replace, amend, delete), B's
    communes and QPVs in a new line's body, B's ids in the list's filters."""
    a_commune = world.a_refs["insee"]
    body = {
        "reference": "API-FUZZ-1",
        "date_signature_bail": "2025-06-02",
        "commune_insee": a_commune,
        "reservataire": "action_logement",
        "nb_personnes": 2,
        "revenu_annuel": "12000",
    }
    b_refs = [k for k in ids.keys if k.startswith(("REF-", "OMNI-"))]

    @st.composite
    def probe(draw):
        token = draw(st.sampled_from(sorted(tokens)))
        kind = draw(st.sampled_from(["reference", "body", "filter"]))
        if kind == "reference":
            reference = draw(st.one_of(st.sampled_from(b_refs), _b_values(ids)))
            method = draw(st.sampled_from(["get", "put", "patch", "delete"]))
            return Probe(
                point=f"API : référence de B dans le chemin ({method.upper()})",
                actor=token,
                method=method,
                url=reverse("api:attribution_detail", kwargs={"reference": reference}),
                data=None if method in ("get", "delete") else body | {"reference": reference},
                api_token=tokens[token],
                injected=(reference,),
                expect_404=True,
            )
        if kind == "body":
            column = draw(st.sampled_from(["commune_insee", "qpv_code"]))
            value = draw(_b_values(ids))
            return Probe(
                point=f"API : corps JSON ({column})",
                actor=token,
                method="post",
                url=reverse("api:attribution_list"),
                data=body | {column: value},
                api_token=tokens[token],
                injected=(value,),
            )
        value = draw(_b_values(ids))
        parameter = draw(st.sampled_from(["annee", "commune", "bailleur", "reference", "page"]))
        return Probe(
            point=f"API : paramètre ({parameter})",
            actor=token,
            method="get",
            url=f"{reverse('api:attribution_list')}?{_encode({parameter: value})}",
            api_token=tokens[token],
            injected=(value,),
        )

    return probe()


# --- Sending and judging -------------------------------------------------------------------


def _send(run: Run, probe: Probe):
    client = run.clients["api" if probe.api_token else probe.actor]
    extra = {"HTTP_HX_REQUEST": "true"} if probe.htmx else {}
    if probe.api_token:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {probe.api_token}"
        cache.clear()  # the per-token rate limit is not what this test is about
    method = getattr(client, probe.method)
    if probe.api_token and probe.data is not None:
        return method(probe.url, json.dumps(probe.data), content_type="application/json", **extra)
    if probe.data is not None:
        return method(probe.url, probe.data, **extra)
    return method(probe.url, **extra)


def _check(run: Run, probe: Probe) -> None:
    response = _send(run, probe)
    run.sent += 1
    run.points[probe.point.split(" (")[0].split(" : ")[0]] += 1
    run.statuses[response.status_code] += 1
    where = f"{probe.method.upper()} {probe.url} par {probe.actor} ({probe.point})"
    assert response.status_code < 500, f"{response.status_code} : {where}"
    assert response.status_code in ALLOWED_STATUSES, f"{response.status_code} : {where}"
    if probe.expect_404:
        assert response.status_code in (404, 405), (
            f"{response.status_code} au lieu de 404 : {where}"
        )
    if 200 <= response.status_code < 300:
        text = response_text(response)
        for value in sorted(probe.injected, key=len, reverse=True):
            text = text.replace(value, "")
        assert run.b_marker not in text, f"{run.b_marker} visible : {where}"
        leaked = {u.lower() for u in UUID_RE.findall(text)} & run.b_uuids
        assert not leaked, f"identifiants de B visibles ({sorted(leaked)[:3]}) : {where}"
    if probe.method in WRITE_METHODS and response.status_code < 400:
        changed = changed_tables(run.baseline, db_fingerprint())
        assert not changed, f"écriture ({', '.join(changed)}) : {where}"


# --- The test ----------------------------------------------------------------------------


def _setup():
    world = build_world()
    populate(world)
    a = world.a
    with conference_scope(a.conference):
        omni_attribution = Attribution.objects.get(reference=f"OMNI-{a.marker}")
        signatory = Signatory.objects.get(
            version=a.cia_in_signature, organisation=a.users[RoleName.PREFECTURE].organisation
        )
    world.a_refs = {
        "insee": _insee(a),
        "omni_attribution": str(omni_attribution.public_id),
        "a_membership": str(a.membership.public_id),
        "a_signatory": str(signatory.public_id),
        "a_signer": str(a.users[RoleName.PREFECTURE].public_id),
    }
    # API tokens of A: the bailleur user's organisation, and the organisation in both.
    tokens = {}
    with conference_scope(a.conference):
        for label, organisation in (
            ("jeton-bailleur-a", a.users[RoleName.BAILLEUR].organisation),
            ("jeton-omni-a", world.omni.organisation),
        ):
            _token, clear = token_issue(
                conference=a.conference,
                actor=a.users[RoleName.SECRETARIAT],
                organisation=organisation,
                name=label,
            )
            tokens[label] = clear
    return world, tokens


def _insee(tenant) -> str:
    with conference_scope(tenant.conference):
        return tenant.conference.communes.order_by("insee").first().insee


def _warm_up(world, clients, tokens) -> None:
    """What a first read writes is written now, before the baseline: the bilan, computed
    and stored on its first view, and each token's last use (the sessions were written by
    the log-ins)."""
    for name in ("bilan", "reference_detail"):
        clients["omni"].get(_a_url(world, name))
    for clear in tokens.values():
        clients["api"].get(reverse("api:attribution_list"), HTTP_AUTHORIZATION=f"Bearer {clear}")


@pytest.fixture
def run():
    world, tokens = _setup()
    clients = {}
    for key, user in _actors(world).items():
        clients[key] = Client()
        clients[key].force_login(user)
    clients["api"] = Client()
    _warm_up(world, clients, tokens)
    for name in CONFERENCE_ROWS:  # made now (a builder may add a row on first use)
        row_kwargs(world.a, name)
        row_kwargs(world.b, name)
    ids = foreign_identifiers(world.b, world.a)
    run = Run(
        world=world,
        clients=clients,
        baseline=db_fingerprint(),
        b_uuids=set(ids.uuids),
        b_marker=world.b.marker,
    )
    run.ids, run.tokens = ids, tokens
    return run


def test_cross_tenant_requests_never_succeed(run):
    world, ids = run.world, run.ids
    probes = st.one_of(
        _path_probes(world, ids),
        _query_probes(world, ids),
        _form_probes(world, ids, world.a_refs),
        _api_probes(world, ids, run.tokens),
    )

    @settings(
        max_examples=400,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(batch=st.lists(probes, min_size=2, max_size=4))
    def fuzz(batch):
        for probe in batch:
            _check(run, probe)

    fuzz()
    changed = changed_tables(run.baseline, db_fingerprint())
    assert not changed, f"La base a changé : {changed}"
    print(f"\n{run.sent} requêtes ; points : {dict(run.points)} ; statuts : {dict(run.statuses)}")
    assert run.sent >= MIN_REQUESTS
