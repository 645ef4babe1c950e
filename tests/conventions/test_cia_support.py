"""A conference ready for a CIA, and helpers that walk a version through its status machine
(used by the other test_cia* modules). The few tests here check the helpers' own promises."""

import io
import json
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.core.management import call_command

from attributions.services import attribution_save
from cil.models import College, Conference, Membership, Organisation, OrganisationType, User
from cil.roles import RoleName
from cil.tenancy import conference_scope
from conventions import services_cia
from conventions.models import Convention, ConventionVersion, Signatory, SignatoryCapacity
from tests.attributions.factories import row, territory
from tests.factories import OrganisationFactory, UserFactory, grant

PASSWORD = "mot-de-passe-solide-42"  # tests/factories.py UserFactory


@dataclass
class CiaWorld:
    conference: Conference
    ville: object
    autre: object
    qpv: object
    # Organisations by name, users by name (each user acts for the organisation of the same
    # name, except "bailleur1_bis", a second person of bailleur1).
    orgs: dict[str, Organisation] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)

    def scope(self):
        return conference_scope(self.conference)


def build_cia_world(conference=None) -> CiaWorld:
    """Territory of tests/attributions/factories.py (two communes, a QPV, two bailleurs
    « Habitat 1 » and « Habitat 2 », thresholds 2024–2025), plus: the EPCI (secretariat),
    the State (prefecture), a commune (élu), Action Logement (membre), an association
    (membre, not a signatory by default)."""
    made = territory(conference)
    conference = made["conference"]
    world = CiaWorld(
        conference=conference, ville=made["ville"], autre=made["autre"], qpv=made["qpv"]
    )
    bailleur1, bailleur2 = made["bailleurs"]
    world.orgs |= {"bailleur1": bailleur1, "bailleur2": bailleur2}
    world.orgs["epci"] = OrganisationFactory(epci=True, name="Agglo de test")
    world.orgs["etat"] = OrganisationFactory(etat=True, name="Préfecture de test")
    world.orgs["commune"] = OrganisationFactory(commune=True, name="Ville de test")
    world.orgs["action_logement"] = OrganisationFactory(
        type=OrganisationType.ACTION_LOGEMENT, name="Action Logement Services"
    )
    world.orgs["association"] = OrganisationFactory(
        type=OrganisationType.ASSOCIATION, name="Association de locataires"
    )
    people = {
        "epci": RoleName.SECRETARIAT,
        "etat": RoleName.PREFECTURE,
        "bailleur1": RoleName.BAILLEUR,
        "bailleur2": RoleName.BAILLEUR,
        "commune": RoleName.ELU,
        "action_logement": RoleName.MEMBRE,
        "association": RoleName.MEMBRE,
    }
    for name, role in people.items():
        user = UserFactory(email=f"{name}@{conference.slug}.test", organisation=world.orgs[name])
        grant(user, conference, role)
        world.users[name] = user
    bis = UserFactory(email=f"bailleur1-bis@{conference.slug}.test", organisation=bailleur1)
    grant(bis, conference, RoleName.BAILLEUR)
    world.users["bailleur1_bis"] = bis
    with world.scope():
        # grant() makes every membership in college 2; put the collectivities in college 1.
        Membership.objects.filter(
            organisation__in=[world.orgs["commune"], world.orgs["epci"]]
        ).update(college=College.COLLECTIVITES)
    return world


def signatory(version: ConventionVersion, org: Organisation) -> Signatory:
    return Signatory.objects.get(version=version, organisation=org)


def create_cia(world: CiaWorld, *, start=2024, end=2029, title="CIA de test") -> Convention:
    with world.scope():
        return services_cia.convention_create(
            conference=world.conference,
            actor=world.users["epci"],
            title=title,
            start_year=start,
            end_year=end,
        )


def set_objectives(world: CiaWorld, version, values: dict) -> None:
    """`values`: {(org name, year): {"r1": "0.30", …}} (strings → Decimal)."""
    cells = {
        (world.orgs[name].pk, year): {
            "r1": Decimal(v["r1"]) if v.get("r1") else None,
            "r2": Decimal(v["r2"]) if v.get("r2") else None,
            "r3": Decimal(v["r3"]) if v.get("r3") else None,
            "npnru_relogements": v.get("npnru"),
        }
        for (name, year), v in values.items()
    }
    with world.scope():
        services_cia.bailleur_objectives_save(
            conference=world.conference, actor=world.users["epci"], version=version, values=cells
        )


def submit(world: CiaWorld, version) -> ConventionVersion:
    with world.scope():
        return services_cia.version_submit(
            conference=world.conference, actor=world.users["epci"], version=version
        )


SIGNERS = {
    "epci": "epci",
    "etat": "etat",
    "bailleur1": "bailleur1",
    "bailleur2": "bailleur2",
    "commune": "commune",
    "action_logement": "action_logement",
}


def designate_all(world: CiaWorld, version) -> None:
    """Each signatory organisation designates its own person (the secretariat for the
    EPCI)."""
    with world.scope():
        for org_name, user_name in SIGNERS.items():
            s = signatory(version, world.orgs[org_name])
            services_cia.signer_designate(
                conference=world.conference,
                actor=world.users[user_name],
                signatory=s,
                signer=world.users[user_name],
            )


def sign(world: CiaWorld, version, user_name: str, *, password=PASSWORD):
    with world.scope():
        version.refresh_from_db()
        return services_cia.version_sign(
            conference=world.conference,
            actor=world.users[user_name],
            version=version,
            password=password,
            confirmed_sha256=version.canonical_sha256,
        )


def sign_all(world: CiaWorld, version) -> ConventionVersion:
    for user_name in SIGNERS.values():
        sign(world, version, user_name)
    with world.scope():
        version.refresh_from_db()
    return version


def adopt(world: CiaWorld, version, *, into_force=True) -> ConventionVersion:
    """Submit, designate, sign by all, and (by default) declare in force."""
    submit(world, version)
    designate_all(world, version)
    sign_all(world, version)
    if into_force:
        with world.scope():
            services_cia.version_enter_into_force(
                conference=world.conference, actor=world.users["epci"], version=version
            )
            version.refresh_from_db()
    return version


def add_attributions(world: CiaWorld, year: int = 2025) -> None:
    """For Habitat 1 in `year`, outside QPV: 10 attributions, 3 of them to Q1 households
    (R1 = 30 %); 10 non-reserved, 2 of them DALO (R3 = 20 %)."""
    bailleur = world.orgs["bailleur1"]
    with world.scope():
        for n in range(10):
            attribution_save(
                conference=world.conference,
                actor=None,
                raw=row(
                    bailleur,
                    reference=f"CIA-{year}-{n}",
                    date_signature_bail=f"{year}-03-14",
                    revenu_annuel="8000" if n < 3 else "40000",
                    dalo="oui" if n < 2 else "non",
                ),
            )


def run_bilan(conference, year) -> dict:
    out = io.StringIO()
    call_command("bilan", conference=conference.slug, year=str(year), stdout=out)
    return json.loads(out.getvalue())


def entry_of(document: dict, siren: str) -> dict:
    return next(b for b in document["par_bailleur"] if b["siren"] == siren)


# --- The helpers' own promises ------------------------------------------------------------------


@pytest.mark.django_db
def test_signatories_are_prefilled_from_the_members():
    world = build_cia_world()
    convention = create_cia(world)
    with world.scope():
        version = convention.versions.get()
        capacities = {
            s.organisation.name: s.capacity
            for s in Signatory.objects.filter(version=version).select_related("organisation")
        }
    assert capacities == {
        "Agglo de test": SignatoryCapacity.EPCI,
        "Préfecture de test": SignatoryCapacity.ETAT,
        "Habitat 1": SignatoryCapacity.BAILLEUR,
        "Habitat 2": SignatoryCapacity.BAILLEUR,
        "Ville de test": SignatoryCapacity.RESERVATAIRE,
        "Action Logement Services": SignatoryCapacity.RESERVATAIRE,
    }  # the association is a member but not a signatory by default


@pytest.mark.django_db
def test_every_prefilled_signatory_has_a_signer_in_the_world():
    world = build_cia_world()
    convention = create_cia(world)
    with world.scope():
        organisations = set(
            Signatory.objects.filter(version__convention=convention).values_list(
                "organisation_id", flat=True
            )
        )
    assert organisations == {world.orgs[name].pk for name in SIGNERS}
