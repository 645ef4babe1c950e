"""The demo data (cil/demo.py) and `python manage.py load_demo`."""

import re
import smtplib
from decimal import Decimal
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
from tests.celery_mode import tasks_for_a_worker

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
    from attributions.models import RuleRates
    from conventions import selectors_cia
    from conventions.models import (
        BailleurObjective,
        Convention,
        DocumentStatus,
        GapExplanation,
        GeneratedDocument,
        VersionStatus,
    )
    from conventions.models.orientations import OrientationDocument, OrientationTransition
    from conventions.selectors_orientations import sections_of

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
        # The final PDF of each CIA version, the bilan annuel 2025, the minutes of the two
        # past plenaries (cil/governance/demo.py).
        assert sorted(d.kind for d in documents) == [
            "bilan_annuel",
            "cia",
            "cia",
            "proces_verbal",
            "proces_verbal",
        ]
        assert {d.status for d in documents} == {DocumentStatus.READY}
        caux = Organisation.objects.get(siren=ORGANISATIONS["caux-logement"].siren)
        assert GapExplanation.objects.filter(bailleur=caux, year=2025, rule="r1").exists()
    vds_habitat = ORGANISATIONS["vds-habitat"].siren
    bilan = get_bilan(conference, 2026)
    entry = next(b for b in bilan["par_bailleur"] if b["siren"] == vds_habitat)
    assert entry["r1_q1_hors_qpv"]["cible"] == 0.32

    # One R2 everywhere: the conference's rate of the year, the orientations, the CIA.
    with conference_scope(conference):
        rates = dict(RuleRates.objects.values_list("year", "target_r2"))
        stated = {s.objective_r2 for s in sections_of(orientation.current_version)} - {None}
        in_force = selectors_cia.in_force_by_year(convention)
        cia_r2 = {
            year: set(
                BailleurObjective.objects.filter(
                    version=in_force[year], year=year, commune=None, qpv=None
                ).values_list("r2", flat=True)
            )
            for year in (2024, 2025, 2026)
        }
    assert rates[2026] == Decimal("0.55")
    assert stated == {rates[2026]}
    assert cia_r2 == {2024: {Decimal("0.5")}, 2025: {Decimal("0.5")}, 2026: {rates[2026]}}
    assert {b["r2_hors_q1_en_qpv"]["cible"] for b in bilan["par_bailleur"]} == {0.55}
    assert bilan["r2_hors_q1_en_qpv"]["cible"] == 0.55
    # Action Logement's R3 objective in the CIA is the target of its line of the bilan.
    lines = {
        (r["reservataire"], r["siren"]): r for r in get_bilan(conference, 2025)["par_reservataire"]
    }
    assert lines[("action_logement", None)]["r3_prioritaires"]["cible"] == 0.3
    assert lines[("commune", None)]["r3_prioritaires"]["cible"] == 0.25

    with django_capture_on_commit_callbacks(execute=True):
        load_demo()  # idempotent
    with conference_scope(conference):
        assert OrientationDocument.objects.count() == 1
        assert convention.versions.count() == 2
        assert GeneratedDocument.objects.count() == len(documents)


@pytest.fixture
def worker_deployment(settings):
    """Settings of an instance whose Celery tasks go to a worker (not run eagerly)."""
    with tasks_for_a_worker(settings) as app:
        yield app


@pytest.mark.django_db(transaction=True)
def test_load_demo_never_sends_mail_through_smtp(monkeypatch, settings, worker_deployment):
    """The circuits the demo walks through notify people: with a real SMTP server configured
    and Celery tasks meant for a worker, nothing connects to it. Committed for real (a
    transactional test): the queued tasks run when the demo's transaction commits."""
    from conventions.models import DocumentStatus, GeneratedDocument

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "smtp.invalid", 2525
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    connections = []

    class NoSmtp:
        def __init__(self, *args, **kwargs):
            connections.append((args, kwargs))
            raise OSError("connexion SMTP interdite pendant ce test")

    monkeypatch.setattr(smtplib, "SMTP", NoSmtp)
    monkeypatch.setattr(smtplib, "SMTP_SSL", NoSmtp)

    out = load_demo()

    assert connections == []
    assert "e-mails : aucun envoi pendant le chargement (boîte d'envoi en mémoire)" in out
    kept = re.search(r"e-mails : (\d+) notification\(s\) écartée\(s\), aucune envoyée", out)
    assert kept is not None
    assert int(kept.group(1)) > 0  # the circuit of the document d'orientation notified
    # The tasks ran here (not queued for a worker), and the settings are back.
    conference = Conference.objects.get(slug="agglo-val-de-seine")
    with conference_scope(conference):
        assert {d.status for d in GeneratedDocument.objects.all()} == {DocumentStatus.READY}
    assert worker_deployment.conf.task_always_eager is False
    assert settings.EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend"
