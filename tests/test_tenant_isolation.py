"""Every named URL × {anonymous, member of another conference, member without the
permission, member with it} → {login redirect, 404, 403, 200 (or the action's redirect)}.

A URL without a row here fails `test_every_named_url_has_a_row`. Object URLs are also
aimed at the other conference's object ids from a fully-privileged member (IDOR → 404).
"""

from collections.abc import Callable

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from cil.models import Access
from cil.permissions import PERMISSIONS, roles_granting
from cil.roles import RoleName
from cil.tenancy import conference_scope
from tests.governance import isolation_rows as governance_rows
from tests.isolation import Row, _no_kwargs
from tests.observatoire import isolation_rows as observatoire_rows
from tests.world import Tenant, build_world

pytestmark = pytest.mark.django_db


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


def _generated_document(t):
    """A ready produced document of the tenant, visible to every member (made on first use)."""
    if getattr(t, "generated_document", None) is None:
        from django.core.files.base import ContentFile

        from conventions.models import DocumentKind, DocumentStatus, GeneratedDocument

        with conference_scope(t.conference):
            document = GeneratedDocument(
                conference=t.conference,
                kind=DocumentKind.PROCES_VERBAL,
                title=f"Procès-verbal {t.marker}",
                status=DocumentStatus.READY,
                progress=100,
                sha256="0" * 64,
            )
            document.file.save("pv.pdf", ContentFile(f"%PDF-1.7 {t.marker}".encode()), save=False)
            document.save()
            t.generated_document = document
    return {"document_id": t.generated_document.public_id}


def _cia(t):
    """A CIA of the tenant (2025–2030) whose initial version is a draft, made on first use;
    its signatories are pre-filled from the members (the bailleur user's organisation, the
    prefecture's, `multi`'s…)."""
    if getattr(t, "cia", None) is None:
        from conventions import services_cia

        with conference_scope(t.conference):
            t.cia = services_cia.convention_create(
                conference=t.conference,
                actor=t.users[RoleName.SECRETARIAT],
                title=f"CIA {t.marker}",
                start_year=2025,
                end_year=2030,
            )
            t.cia_draft = t.cia.versions.get()
    return t.cia


def _cia_convention(t):
    return {"convention_id": _cia(t).public_id}


def _cia_draft(t):
    _cia(t)
    return {"version_id": t.cia_draft.public_id}


def _cia_explanation(t):
    return {"convention_id": _cia(t).public_id, "year": 2025, "rule": "r3"}


def _cia_signing_version(t, *, label: str, start_year: int, sign: bool):
    """A CIA in signature over other years: the signatories are the organisations with a
    person in the conference, each designated as its signer (the bailleur user, `multi`…);
    signed by all when `sign`."""
    from conventions import selectors_cia, services_cia
    from conventions.models import Signatory

    secretariat = t.users[RoleName.SECRETARIAT]
    with conference_scope(t.conference):
        convention = services_cia.convention_create(
            conference=t.conference,
            actor=secretariat,
            title=f"CIA {label} {t.marker}",
            start_year=start_year,
            end_year=start_year + 3,
        )
        version = convention.versions.get()
        signers = {}
        for signatory in Signatory.objects.filter(version=version).select_related("organisation"):
            people = selectors_cia.users_who_may_sign(organisation=signatory.organisation)
            if people:
                signers[signatory.organisation] = people[0]
        services_cia.signatories_set(
            conference=t.conference, actor=secretariat, version=version, organisations=list(signers)
        )
        services_cia.version_submit(conference=t.conference, actor=secretariat, version=version)
        for signatory in Signatory.objects.filter(version=version).select_related("organisation"):
            services_cia.signer_designate(
                conference=t.conference,
                actor=secretariat,
                signatory=signatory,
                signer=signers[signatory.organisation],
            )
        if sign:
            for person in signers.values():
                version.refresh_from_db()
                services_cia.version_sign(
                    conference=t.conference,
                    actor=person,
                    version=version,
                    password="mot-de-passe-solide-42",  # tests/factories.py
                    confirmed_sha256=version.canonical_sha256,
                )
    return version


def _cia_in_signature(t):
    """A version in signature (2019–2022), made on first use."""
    if getattr(t, "cia_in_signature", None) is None:
        t.cia_in_signature = _cia_signing_version(
            t, label="en signature", start_year=2019, sign=False
        )
    return {"version_id": t.cia_in_signature.public_id}


def _cia_signed_convention(t):
    _cia_signed(t)
    return {"convention_id": t.cia_signed.convention.public_id}


def _cia_signed(t):
    """A version signed by all (2015–2018), made on first use."""
    if getattr(t, "cia_signed", None) is None:
        t.cia_signed = _cia_signing_version(t, label="signée", start_year=2015, sign=True)
    return {"version_id": t.cia_signed.public_id}


def _orientation(t, state="delibere_epci"):
    """The tenant's document d'orientation, made on first use through the services (the
    world has none). By default at the délibération of the EPCI: editable, open to comments,
    with its PDF attached and awaiting the préfet, so one document serves every row."""
    from tests.conventions.orientations_support import orientation_at

    documents = t.__dict__.setdefault("orientations", {})
    if state not in documents:
        documents[state] = orientation_at(t.conference, t.users, state)
    return documents[state]


def _orientation_doc(state="delibere_epci"):
    return lambda t: {"document_id": _orientation(t, state).public_id}


def _orientation_section(t):
    from conventions.selectors_orientations import sections_of

    document = _orientation(t)
    with conference_scope(t.conference):
        key = sections_of(document.current_version)[0].key
    return {"document_id": document.public_id, "section_key": key}


def _orientation_comment(t):
    """A comment of the tenant's bailleur on the first section."""
    from conventions.services_orientations import orientation_comment_add

    kwargs = _orientation_section(t)
    with conference_scope(t.conference):
        comment = orientation_comment_add(
            conference=t.conference,
            actor=t.users[RoleName.BAILLEUR],
            document=_orientation(t),
            key=kwargs["section_key"],
            body=f"Commentaire {t.marker}",
        )
    return {"document_id": kwargs["document_id"], "comment_id": comment.public_id}


def _orientation_attachment(t):
    from conventions.models import OrientationTransition

    document = _orientation(t)
    with conference_scope(t.conference):
        row = OrientationTransition.objects.get(document=document, name="deliberer")
    return {"document_id": document.public_id, "transition_id": row.public_id}


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
    # Journal of reads of household-level data (everyone: their own; the secretariat: all)
    # and the conference's second-factor rule.
    "access_journal": Row("access_journal.view"),
    "access_journal_export": Row(
        "access_journal.view", lambda t: {"fmt": "csv"}, names_objects=False
    ),
    "conference_security": Row("security.manage"),
    "token_list": Row("tokens.manage"),
    "token_issue": Row("tokens.manage"),
    "token_revoke": Row("tokens.manage", _api_token, method="post", ok_status=302),
    # Attribution lines (a bailleur's own line: _attribution; the world gives the bailleur
    # user's organisation one line in each conference).
    "attribution_list": Row("attributions.view"),
    "attribution_create": Row("attributions.manage_own"),
    "attribution_export": Row("attributions.view", lambda t: {"fmt": "csv"}, names_objects=False),
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
    # Convention intercommunale d'attribution (_cia_draft: a draft; _cia_in_signature: in
    # signature, the bailleur user and `multi` designated signers; _cia_signed: signed by all).
    "cia_list": Row("cia.view"),
    "cia_create": Row("cia.edit"),
    "cia_detail": Row("cia.view", _cia_convention),
    "cia_avenant_create": Row("cia.edit", _cia_signed_convention),
    "cia_explanation_edit": Row("cia.explain_gap", _cia_explanation),
    "cia_version_edit": Row("cia.edit", _cia_draft),
    "cia_objectives_edit": Row("cia.edit", _cia_draft),
    "cia_reservataire_objectives_edit": Row("cia.edit", _cia_draft),
    "cia_signatories_edit": Row("cia.edit", _cia_draft),
    "cia_submit": Row("cia.edit", _cia_draft, method="post", ok_status=302),
    "cia_enter_into_force": Row("cia.edit", _cia_signed, method="post", ok_status=302),
    "cia_designate": Row("cia.designate_signer", _cia_draft),
    "cia_sign": Row("cia.sign", _cia_in_signature),
    "cia_version_document": Row("cia.view", _cia_in_signature),
    # Produced documents (_generated_document: a ready document of the tenant). The bilan
    # request posted empty re-renders the list with the form's error.
    "document_list": Row("documents.view"),
    "document_progress": Row("documents.view", _generated_document),
    "document_download": Row("documents.view", _generated_document),
    "document_bilan_request": Row("documents.generate", method="post", ok_status=200),
    # Document d'orientation (_orientation: the tenant's document, by default awaiting the
    # préfet's agrément; each step's row puts it where that step can be taken).
    "orientation_home": Row("orientations.view"),
    "orientation_create": Row("orientations.edit"),
    "orientation_detail": Row("orientations.view", _orientation_doc()),
    "orientation_versions": Row("orientations.view", _orientation_doc()),
    "orientation_compare": Row("orientations.view", _orientation_doc()),
    "orientation_version": Row(
        "orientations.view", lambda t: {"document_id": _orientation(t).public_id, "number": 1}
    ),
    "orientation_attachment": Row("orientations.view", _orientation_attachment),
    "orientation_section_add": Row("orientations.edit", _orientation_doc()),
    "orientation_section_edit": Row("orientations.edit", _orientation_section),
    "orientation_section_remove": Row(
        "orientations.edit", _orientation_section, method="post", ok_status=302
    ),
    "orientation_reorder": Row("orientations.edit", _orientation_doc()),
    "orientation_comment": Row("orientations.comment", _orientation_section),
    "orientation_comment_resolve": Row(
        "orientations.resolve_comments", _orientation_comment, method="post", ok_status=302
    ),
    "orientation_pdf": Row("documents.generate", _orientation_doc(), method="post", ok_status=302),
    "orientation_submit": Row("orientations.advance", _orientation_doc("brouillon")),
    "orientation_adopt": Row("orientations.advance", _orientation_doc("consultation")),
    "orientation_deliberate": Row("orientations.advance", _orientation_doc("adopte_cil")),
    "orientation_approve": Row("orientations.approve", _orientation_doc()),
    "orientation_refuse": Row("orientations.approve", _orientation_doc()),
    "orientation_enforce": Row("orientations.advance", _orientation_doc("agree_prefet")),
}

# URLs outside any conference: (expected status anonymous, expected status signed in).
GLOBAL_ROWS: dict[str, tuple[Callable[[Tenant], dict], str, int, int]] = {
    "home": (lambda t: {}, "get", 200, 302),
    "conference_picker": (lambda t: {}, "get", 302, 200),
    "login": (lambda t: {}, "get", 200, 302),
    # The code step without a pending login sends back to the login page; signed in without
    # a device, home. The account's second factor: signed in only; backup codes and removal
    # need a device (otherwise back to the status page).
    "login_code": (lambda t: {}, "get", 302, 302),
    "two_factor": (lambda t: {}, "get", 302, 200),
    "two_factor_enrol": (lambda t: {}, "get", 302, 200),
    "two_factor_backup_codes": (lambda t: {}, "get", 302, 302),
    "two_factor_disable": (lambda t: {}, "get", 302, 302),
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
    # The public verification of a produced PDF: anyone.
    "document_verification": (lambda t: {}, "get", 200, 200),
    # The API ignores sessions: 401 without a token, signed in or not (token matrix:
    # tests/attributions/test_api.py). Its schema holds no data: public.
    "api:attribution_list": (lambda t: {}, "get", 401, 401),
    "api:attribution_detail": (lambda t: {"reference": t.attribution.reference}, "get", 401, 401),
    "api:bilan": (lambda t: {"annee": 2025}, "get", 401, 401),
    "api:schema": (lambda t: {}, "get", 200, 200),
}

# Rows of the apps that keep theirs next to their tests (same Row semantics).
for _module in (observatoire_rows, governance_rows):
    _overlap = (set(_module.CONFERENCE_ROWS) | set(_module.GLOBAL_ROWS)) & (
        set(CONFERENCE_ROWS) | set(GLOBAL_ROWS)
    )
    assert not _overlap, _overlap
    CONFERENCE_ROWS |= _module.CONFERENCE_ROWS
    GLOBAL_ROWS |= _module.GLOBAL_ROWS


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


def _leaf_patterns(resolver):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _leaf_patterns(pattern)
        elif isinstance(pattern, URLPattern):
            yield pattern


def _conference_patterns():
    """Every view under /<conference_slug>/ that requires a membership (public conference
    views, e.g. open data, are in GLOBAL_ROWS)."""
    for pattern in get_resolver().url_patterns:
        if isinstance(pattern, URLResolver) and "conference_slug" in str(pattern.pattern):
            for leaf in _leaf_patterns(pattern):
                if not getattr(leaf.callback, "public_conference_view", False):
                    yield leaf


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
            # getvalue(): also reads a streamed response (a document download); binary files
            # (PDF) are searched as bytes decoded leniently.
            content = response.getvalue().decode(errors="replace")
            assert other.marker not in content, f"{other.marker} visible sur {url}"
