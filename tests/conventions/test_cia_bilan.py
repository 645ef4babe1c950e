"""The CIA's objectives as the bilan's targets: the version in force for the year replaces the
conference's rate for the bailleurs it sets an objective for; drafts never count; the stored
bilans are invalidated when a version is signed, then enters into force."""

import datetime
from decimal import Decimal

import pytest

from attributions import bilan_cache, bilan_data
from attributions.models import BilanResult, RuleRates
from conventions import selectors_cia, services_cia
from tests.conventions.test_cia_support import (
    add_attributions,
    adopt,
    build_cia_world,
    create_cia,
    entry_of,
    run_bilan,
    set_objectives,
    submit,
)

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


def test_reservataire_objectives_are_keyed_as_the_bilan_takes_them(
    world, version, django_capture_on_commit_callbacks
):
    with world.scope():
        services_cia.reservataire_objectives_save(
            conference=world.conference,
            actor=world.users["epci"],
            version=version,
            values={
                (world.orgs["commune"].pk, 2025): Decimal("0.4"),
                (world.orgs["action_logement"].pk, 2025): Decimal("0.3"),
            },
        )
    with django_capture_on_commit_callbacks(execute=True):
        adopt(world, version)
    with world.scope():
        objectives = selectors_cia.reservataire_objectives_for_bilan(2025)
    commune, al = world.orgs["commune"].siren, world.orgs["action_logement"].siren
    assert objectives == {
        ("commune", commune): Decimal("0.4000"),
        ("commune", None): Decimal("0.4000"),
        ("action_logement", al): Decimal("0.3000"),
        ("action_logement", None): Decimal("0.3000"),
    }
