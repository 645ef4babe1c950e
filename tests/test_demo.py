"""The demo data (cil/demo.py) and `python manage.py load_demo`."""

from io import StringIO

import pytest
from django.core.management import call_command

from cil.demo import DEMO_CONFERENCES, ORGANISATIONS, siren_with_key, territory_document
from cil.models import (
    Access,
    AuditEntry,
    Commune,
    Conference,
    Membership,
    Organisation,
    Representative,
    User,
)
from cil.roles import RoleName
from cil.tenancy import conference_scope
from cil.territory import parse_territory
from cil.validators import siren_error

SLUGS = ("agglo-val-de-seine", "cu-littoral-nord")


def load_demo() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def row_counts() -> dict:
    counts = {"users": User.objects.count(), "organisations": Organisation.objects.count()}
    for conference in Conference.objects.all():
        with conference_scope(conference):
            counts[conference.slug] = (
                Commune.objects.count(),
                Membership.objects.count(),
                Representative.objects.count(),
                Access.objects.count(),
                AuditEntry.objects.count(),
            )
    return counts


def test_the_hard_coded_sirens_carry_their_luhn_key():
    for org in ORGANISATIONS.values():
        assert siren_error(org.siren) is None, org
        assert siren_with_key(org.siren[:8]) == org.siren
    assert len({org.siren for org in ORGANISATIONS.values()}) == len(ORGANISATIONS)


def test_the_demo_territories_satisfy_the_territoire_contract():
    for demo in DEMO_CONFERENCES:
        territory = parse_territory(territory_document(demo))
        assert territory.slug == demo.slug


@pytest.mark.django_db
def test_load_demo_twice_builds_two_conferences_without_duplicates(monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    load_demo()
    counts = row_counts()

    out = load_demo()

    assert row_counts() == counts
    assert sorted(Conference.objects.values_list("slug", flat=True)) == sorted(SLUGS)
    assert counts["agglo-val-de-seine"][0] == 12
    assert counts["cu-littoral-nord"][0] == 5
    assert "mot de passe : demo" in out
    assert "multi@demo.demo" in out


@pytest.mark.django_db
def test_every_role_of_every_conference_has_a_demo_login(monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    load_demo()

    for slug in SLUGS:
        conference = Conference.objects.get(slug=slug)
        for role in RoleName:
            user = User.objects.get(email=f"{role}@{slug}.demo")
            assert user.check_password("demo")
            assert user.first_name
            assert user.last_name
            with conference_scope(conference):
                access = Access.objects.get(user=user, is_active=True)
                assert list(access.roles.values_list("name", flat=True)) == [role]
                assert Membership.objects.filter(organisation=user.organisation).exists()


@pytest.mark.django_db
def test_conferences_share_the_state_and_a_bailleur(monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    load_demo()

    shared_bailleur = Organisation.objects.get(siren=ORGANISATIONS["iln"].siren)
    state = Organisation.objects.get(siren=ORGANISATIONS["etat"].siren)
    multi = User.objects.get(email="multi@demo.demo")
    assert multi.organisation == state
    for conference in Conference.objects.all():
        with conference_scope(conference):
            assert Membership.objects.filter(organisation=shared_bailleur).exists()
            assert Membership.objects.filter(organisation=state).exists()
            access = Access.objects.get(user=multi)
            assert list(access.roles.values_list("name", flat=True)) == [RoleName.PREFECTURE]
            # Some mandates have ended: the history of representatives is visible.
            assert Representative.objects.filter(mandate_end__isnull=False).exists()


@pytest.mark.django_db
def test_the_demo_password_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "autre-secret")

    out = load_demo()

    assert "mot de passe : autre-secret" in out
    assert User.objects.get(email="elu@cu-littoral-nord.demo").check_password("autre-secret")


@pytest.mark.django_db
def test_the_demo_conventions_of_val_de_seine(monkeypatch, django_capture_on_commit_callbacks):
    from attributions.bilan_cache import get_bilan
    from conventions.models import (
        Convention,
        DocumentStatus,
        GapExplanation,
        GeneratedDocument,
        VersionStatus,
    )
    from conventions.models.orientations import OrientationDocument, OrientationTransition

    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    # The demo's documents are produced after the commit of its transaction.
    with django_capture_on_commit_callbacks(execute=True):
        load_demo()

    conference = Conference.objects.get(slug="agglo-val-de-seine")
    with conference_scope(conference):
        orientation = OrientationDocument.objects.get()
        assert orientation.state == "en_vigueur"
        assert OrientationTransition.objects.filter(document=orientation).count() >= 4
        convention = Convention.objects.get()
        versions = list(convention.versions.order_by("number"))
        assert len(versions) == 2
        assert versions[1].status == VersionStatus.EN_VIGUEUR
        documents = list(GeneratedDocument.objects.all())
        # The final PDF of each CIA version, the bilan annuel 2025.
        assert sorted(d.kind for d in documents) == ["bilan_annuel", "cia", "cia"]
        assert {d.status for d in documents} == {DocumentStatus.READY}
        caux = Organisation.objects.get(siren=ORGANISATIONS["caux-logement"].siren)
        assert GapExplanation.objects.filter(bailleur=caux, year=2025, rule="r1").exists()
    vds_habitat = ORGANISATIONS["vds-habitat"].siren
    bilan = get_bilan(conference, 2026)
    entry = next(b for b in bilan["par_bailleur"] if b["siren"] == vds_habitat)
    assert entry["r1_q1_hors_qpv"]["cible"] == 0.32

    with django_capture_on_commit_callbacks(execute=True):
        load_demo()  # idempotent
    with conference_scope(conference):
        assert OrientationDocument.objects.count() == 1
        assert convention.versions.count() == 2
        assert GeneratedDocument.objects.count() == len(documents)
