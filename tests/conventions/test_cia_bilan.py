"""The CIA's objectives as the bilan's targets: the version in force for the year replaces the
conference's rate for the bailleurs it sets an objective for, and for the réservataires' R3
lines; drafts never count; the stored bilans are invalidated when a version is signed, then
enters into force."""

import datetime
from decimal import Decimal

import pytest

from attributions import bilan_cache, bilan_data
from attributions.models import BilanResult, RuleRates
from attributions.services import attribution_save
from cil.roles import RoleName
from conventions import selectors_cia, services_cia
from tests.attributions.factories import row
from tests.conventions.test_cia_support import (
    add_attributions,
    adopt,
    build_cia_world,
    create_cia,
    designate_all,
    entry_of,
    run_bilan,
    set_objectives,
    sign,
    sign_all,
    signatory,
    submit,
)
from tests.factories import OrganisationFactory, UserFactory, grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    world = build_cia_world()
    add_attributions(world, 2025)
    add_attributions(world, 2026)
    with world.scope():
        # The conference's own rate for R1 in 2025 and 2026: 25 % (legal default) → 28 %.
        for year in (2025, 2026):
            RuleRates.objects.create(
                conference=world.conference, year=year, target_r1=Decimal("0.28")
            )
    return world


@pytest.fixture
def version(world):
    convention = create_cia(world)
    with world.scope():
        version = convention.versions.get()
    set_objectives(
        world,
        version,
        {
            ("bailleur1", 2025): {"r1": "0.35", "r3": "0.30"},
            ("bailleur1", 2026): {"r1": "0.35"},
        },
    )
    return version


def targets(world, year: int) -> tuple[dict, dict]:
    """(Habitat 1's targets, Habitat 2's) in the output of `manage.py bilan`."""
    document = run_bilan(world.conference, year)
    first = entry_of(document, world.orgs["bailleur1"].siren)
    second = entry_of(document, world.orgs["bailleur2"].siren)
    return (
        {rule: first[key]["cible"] for rule, key in RULE_KEYS.items()},
        {rule: second[key]["cible"] for rule, key in RULE_KEYS.items()},
    )


RULE_KEYS = {"r1": "r1_q1_hors_qpv", "r2": "r2_hors_q1_en_qpv", "r3": "r3_prioritaires_non_reserve"}


def test_a_draft_or_a_version_in_signature_never_drives_the_bilan(world, version):
    conference_rates = {"r1": 0.28, "r2": 0.5, "r3": 0.25}
    assert targets(world, 2025) == (conference_rates, conference_rates)
    submit(world, version)
    assert targets(world, 2025) == (conference_rates, conference_rates)
    assert bilan_data.cia_objectives(world.conference, 2025) == {}


def test_the_objective_of_the_version_in_force_replaces_the_conference_rate(
    world, version, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        adopt(world, version, into_force=False)  # signed by all: it drives the bilan already
    first, second = targets(world, 2025)
    # Habitat 1: the CIA's R1 and R3; R2 left empty keeps the conference's rate.
    assert first == {"r1": 0.35, "r2": 0.5, "r3": 0.3}
    # Habitat 2 has no objective in the CIA: the conference's rates.
    assert second == {"r1": 0.28, "r2": 0.5, "r3": 0.25}
    # The gap follows: 3 Q1 out of 10 outside QPV against 35 % → 1 attribution missing.
    document = run_bilan(world.conference, 2025)
    r1 = entry_of(document, world.orgs["bailleur1"].siren)["r1_q1_hors_qpv"]
    assert (r1["numerateur"], r1["denominateur"], r1["taux"]) == (3, 10, 0.3)
    # Territory-wide figures keep the conference's rate (no per-commune objective).
    assert document["r1_q1_hors_qpv"]["cible"] == 0.28
    assert bilan_data.cia_objectives(world.conference, 2025) == {
        (world.orgs["bailleur1"].siren, 2025): {"r1": Decimal("0.3500"), "r3": Decimal("0.3000")}
    }


def test_signing_then_entering_into_force_invalidates_the_stored_bilans(
    world, version, django_capture_on_commit_callbacks
):
    for year in (2025, 2026):
        bilan_cache.refresh(world.conference, year)
    with world.scope():
        assert BilanResult.objects.count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        adopt(world, version, into_force=False)
    with world.scope():
        assert not BilanResult.objects.exists()
    # Recomputed on demand, with the CIA's objective.
    document = bilan_cache.get_bilan(world.conference, 2025)
    assert entry_of(document, world.orgs["bailleur1"].siren)["r1_q1_hors_qpv"]["cible"] == 0.35
    with world.scope():
        assert BilanResult.objects.filter(year=2025).exists()
    with django_capture_on_commit_callbacks(execute=True), world.scope():
        services_cia.version_enter_into_force(
            conference=world.conference, actor=world.users["epci"], version=version
        )
    with world.scope():
        assert not BilanResult.objects.exists()


def test_an_avenant_sets_the_objectives_from_its_year_earlier_years_keep_the_initial(
    world, version, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        adopt(world, version)
    with world.scope():
        avenant = services_cia.avenant_create(
            conference=world.conference,
            actor=world.users["epci"],
            convention=version.convention,
            effective_from=datetime.date(2026, 7, 1),
            purpose="R1 de Habitat 1 relevé à 40 % à partir de 2026",
        )
    set_objectives(world, avenant, {("bailleur1", 2026): {"r1": "0.40"}})
    # The avenant in draft, then in signature: still the initial version's objectives.
    assert targets(world, 2026)[0]["r1"] == 0.35
    bilan_cache.refresh(world.conference, 2026)
    with django_capture_on_commit_callbacks(execute=True):
        adopt(world, avenant)
    with world.scope():
        # Its signature invalidated the years it governs.
        assert not BilanResult.objects.filter(year=2026).exists()
        in_force = selectors_cia.in_force_by_year(version.convention)
    assert in_force[2024].pk == in_force[2025].pk == version.pk
    assert all(in_force[year].pk == avenant.pk for year in range(2026, 2030))
    assert targets(world, 2025)[0]["r1"] == 0.35  # the initial version's
    assert targets(world, 2026)[0]["r1"] == 0.4  # the avenant's, effective in 2026
    stored = bilan_cache.get_bilan(world.conference, 2026)
    assert entry_of(stored, world.orgs["bailleur1"].siren)["r1_q1_hors_qpv"]["cible"] == 0.4
    assert targets(world, 2027)[0]["r1"] == 0.25  # nothing for 2027: the legal default


def test_territorialised_objectives_stay_out_of_the_bailleur_target(world, version):
    with world.scope():
        services_cia.bailleur_objectives_save(
            conference=world.conference,
            actor=world.users["epci"],
            version=version,
            values={
                (world.orgs["bailleur2"].pk, 2025): {
                    "r1": Decimal("0.9"),
                    "r2": None,
                    "r3": None,
                    "npnru_relogements": 4,
                }
            },
            commune=world.ville,
        )
        assert version.bailleur_objectives.filter(commune=world.ville).count() == 1
    adopt(world, version, into_force=False)
    assert targets(world, 2025)[1]["r1"] == 0.28


def test_the_national_path_reads_the_same_objectives_for_every_conference(
    world, version, django_capture_on_commit_callbacks
):
    other = build_cia_world()
    set_reservataire_objectives(world, version, {("action_logement", 2025): "0.30"})
    with django_capture_on_commit_callbacks(execute=True):
        adopt(world, version)
    objectives = bilan_data.cia_objectives_by_conference(
        [world.conference.pk, other.conference.pk], 2025
    )
    assert objectives == {
        world.conference.pk: {
            (world.orgs["bailleur1"].siren, 2025): {
                "r1": Decimal("0.3500"),
                "r3": Decimal("0.3000"),
            }
        }
    }
    al = world.orgs["action_logement"].siren
    assert bilan_data.cia_reservataire_objectives_by_conference(
        [world.conference.pk, other.conference.pk], 2025
    ) == {
        world.conference.pk: {
            ("action_logement", al): Decimal("0.3000"),
            ("action_logement", None): Decimal("0.3000"),
        }
    }
    add_reservataire_lines(world, 2025)
    national = bilan_data.national_bilans(2025)
    assert national[world.conference.slug] == bilan_data.compute(world.conference, 2025)
    assert national[other.conference.slug] == bilan_data.compute(other.conference, 2025)


# --- The réservataires' R3 objectives -----------------------------------------------------------


def set_reservataire_objectives(world, version, values: dict) -> None:
    """`values`: {(org name, year): "0.30" or None}."""
    with world.scope():
        services_cia.reservataire_objectives_save(
            conference=world.conference,
            actor=world.users["epci"],
            version=version,
            values={
                (world.orgs[name].pk, year): None if rate is None else Decimal(rate)
                for (name, year), rate in values.items()
            },
        )


def add_reservataire_lines(world, year: int) -> None:
    """Habitat 2's attributions of `year` on the réservataires' contingents: the commune's
    with its SIREN (4, 1 prioritaire) and without (2, none), Action Logement's without SIREN
    (5, 2 DALO), the département's (2, 1 prioritaire; no objective in the CIA)."""
    commune = world.orgs["commune"].siren
    lines = [
        *(("commune", commune, n == 0) for n in range(4)),
        *(("commune", "", False) for _ in range(2)),
        *(("action_logement", "", n < 2) for n in range(5)),
        *(("departement", "", n == 0) for n in range(2)),
    ]
    with world.scope():
        for n, (code, siren, priority) in enumerate(lines):
            attribution_save(
                conference=world.conference,
                actor=None,
                raw=row(
                    world.orgs["bailleur2"],
                    reference=f"RES-{year}-{n}",
                    date_signature_bail=f"{year}-05-20",
                    reservataire=code,
                    reservataire_siren=siren,
                    dalo="oui" if priority and code == "action_logement" else "non",
                    prioritaire="oui" if priority else "non",
                ),
            )


def r3_lines(document: dict) -> dict[tuple[str, str | None], dict]:
    return {
        (r["reservataire"], r["siren"]): r["r3_prioritaires"] for r in document["par_reservataire"]
    }


def test_a_reservataire_objective_in_force_is_the_cible_of_its_r3_line(
    world, version, django_capture_on_commit_callbacks
):
    """End to end: objectives entered in the CIA, the version signed by all, then
    `manage.py bilan` shows them as the `cible` of those réservataires' R3 lines."""
    add_reservataire_lines(world, 2025)
    set_reservataire_objectives(
        world,
        version,
        {("commune", 2025): "0.40", ("commune", 2026): "0.10", ("action_logement", 2025): "0.30"},
    )
    commune = world.orgs["commune"].siren
    keys = [
        ("action_logement", None),
        ("commune", None),
        ("commune", commune),
        ("departement", None),
    ]
    # A draft never drives the bilan: the conference's R3 rate (the legal 25 %) everywhere.
    assert {
        key: line["cible"] for key, line in r3_lines(run_bilan(world.conference, 2025)).items()
    } == dict.fromkeys(keys, 0.25)

    with django_capture_on_commit_callbacks(execute=True):
        adopt(world, version, into_force=False)
    document = run_bilan(world.conference, 2025)
    lines = r3_lines(document)
    assert list(lines) == keys  # sorted by code, then SIREN, null first (formats.md)
    assert lines[("commune", commune)] == {
        "numerateur": 1,
        "denominateur": 4,
        "taux": 0.25,
        "cible": 0.4,
    }
    # The only commune signing the CIA: a commune line without SIREN can only be hers.
    assert lines[("commune", None)]["cible"] == 0.4
    # Action Logement, lines without SIREN: 2 DALO out of 5.
    assert lines[("action_logement", None)] == {
        "numerateur": 2,
        "denominateur": 5,
        "taux": 0.4,
        "cible": 0.3,
    }
    # No objective for the département: the conference's rate.
    assert lines[("departement", None)]["cible"] == 0.25
    # Bailleurs' R3 on their non-reserved stock is not the réservataires' objective.
    assert (
        entry_of(document, world.orgs["bailleur2"].siren)["r3_prioritaires_non_reserve"]["cible"]
        == 0.25
    )


def test_the_objective_is_the_year_s_and_an_avenant_s_from_its_year(
    world, version, django_capture_on_commit_callbacks
):
    for year in (2025, 2026):
        add_reservataire_lines(world, year)
    set_reservataire_objectives(
        world, version, {("commune", 2025): "0.40", ("commune", 2026): "0.10"}
    )
    with django_capture_on_commit_callbacks(execute=True):
        adopt(world, version)
    commune = world.orgs["commune"].siren
    assert r3_lines(run_bilan(world.conference, 2026))[("commune", commune)]["cible"] == 0.1
    with world.scope():
        avenant = services_cia.avenant_create(
            conference=world.conference,
            actor=world.users["epci"],
            convention=version.convention,
            effective_from=datetime.date(2026, 1, 1),
            purpose="R3 de la Ville de test porté à 45 % en 2026",
        )
    set_reservataire_objectives(world, avenant, {("commune", 2026): "0.45"})
    assert r3_lines(run_bilan(world.conference, 2026))[("commune", commune)]["cible"] == 0.1
    with django_capture_on_commit_callbacks(execute=True):
        adopt(world, avenant)
    assert r3_lines(run_bilan(world.conference, 2026))[("commune", commune)]["cible"] == 0.45
    # 2025 keeps the initial version's objective (the avenant takes effect in 2026).
    assert r3_lines(run_bilan(world.conference, 2025))[("commune", commune)]["cible"] == 0.4


def test_stored_bilans_are_invalidated_when_the_reservataire_objectives_come_into_force(
    world, version, django_capture_on_commit_callbacks
):
    add_reservataire_lines(world, 2025)
    set_reservataire_objectives(world, version, {("action_logement", 2025): "0.30"})
    before = bilan_cache.get_bilan(world.conference, 2025)
    assert r3_lines(before)[("action_logement", None)]["cible"] == 0.25
    with django_capture_on_commit_callbacks(execute=True):
        adopt(world, version, into_force=False)
    with world.scope():
        assert not BilanResult.objects.filter(year=2025).exists()
    after = bilan_cache.get_bilan(world.conference, 2025)
    assert r3_lines(after)[("action_logement", None)]["cible"] == 0.3
    with world.scope():
        assert BilanResult.objects.filter(year=2025).exists()


def test_reservataire_objectives_are_keyed_as_the_bilan_takes_them(
    world, version, django_capture_on_commit_callbacks
):
    set_reservataire_objectives(
        world, version, {("commune", 2025): "0.4", ("action_logement", 2025): "0.3"}
    )
    with world.scope():
        assert selectors_cia.reservataire_objectives_for_bilan([world.conference.pk], 2025) == {}
    with django_capture_on_commit_callbacks(execute=True):
        adopt(world, version)
    objectives = selectors_cia.reservataire_objectives_for_bilan([world.conference.pk], 2025)
    commune, al = world.orgs["commune"].siren, world.orgs["action_logement"].siren
    assert objectives == {
        world.conference.pk: {
            ("commune", commune): Decimal("0.4000"),
            ("commune", None): Decimal("0.4000"),
            ("action_logement", al): Decimal("0.3000"),
            ("action_logement", None): Decimal("0.3000"),
        }
    }
    assert selectors_cia.reservataire_objectives_for_bilan([world.conference.pk], 2026) == {}


def test_with_two_communes_signing_a_line_without_siren_keeps_the_conference_rate(
    world, django_capture_on_commit_callbacks
):
    """Two signatories hold the « commune » contingent: a line without SIREN belongs to
    neither, even when only one of them has an objective."""
    second = OrganisationFactory(commune=True, name="Ville voisine")
    user = UserFactory(email=f"commune2@{world.conference.slug}.test", organisation=second)
    grant(user, world.conference, RoleName.ELU)
    world.orgs["commune2"], world.users["commune2"] = second, user
    convention = create_cia(world)
    with world.scope():
        version = convention.versions.get()
    add_reservataire_lines(world, 2025)
    set_reservataire_objectives(world, version, {("commune", 2025): "0.40"})
    submit(world, version)
    designate_all(world, version)
    with world.scope():
        services_cia.signer_designate(
            conference=world.conference,
            actor=user,
            signatory=signatory(version, second),
            signer=user,
        )
    with django_capture_on_commit_callbacks(execute=True):
        sign_all(world, version)
        sign(world, version, "commune2")
    with world.scope():
        version.refresh_from_db()
    assert version.is_adopted
    lines = r3_lines(run_bilan(world.conference, 2025))
    assert lines[("commune", world.orgs["commune"].siren)]["cible"] == 0.4
    assert lines[("commune", None)]["cible"] == 0.25
