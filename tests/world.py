"""A small two-conference world for permission and isolation tests.

Conference A and B each have one user per role; `multi` holds the prefecture role in both.
Every object a URL can name exists in both conferences, so a test can aim A's URL at B's
object ids.
"""

import datetime
from dataclasses import dataclass, field

from attributions.models import Attribution, Q1Threshold
from attributions.services import check_row
from cil.models import College, Conference, Invitation, Membership, Representative, User
from cil.roles import RoleName
from cil.tenancy import conference_scope
from tests.factories import (
    CommuneFactory,
    ConferenceFactory,
    OrganisationFactory,
    RepresentativeFactory,
    UserFactory,
    grant,
)

ROLE_ORG_TRAITS = {
    RoleName.SECRETARIAT: {"epci": True},
    RoleName.BAILLEUR: {},
    RoleName.ELU: {"commune": True},
    RoleName.PREFECTURE: {"etat": True},
    RoleName.MEMBRE: {"type": "association"},
}


@dataclass
class Tenant:
    conference: Conference
    users: dict[str, User] = field(default_factory=dict)
    membership: Membership | None = None
    representative: Representative | None = None
    invitation: Invitation | None = None
    # An attribution of the bailleur user's organisation, and one of another bailleur.
    attribution: Attribution | None = None
    other_bailleur_attribution: Attribution | None = None
    access_ids: dict[str, str] = field(default_factory=dict)
    marker: str = ""


@dataclass
class World:
    a: Tenant
    b: Tenant
    multi: User


def build_tenant(label: str) -> Tenant:
    conference = ConferenceFactory(slug=f"conf-{label}", name=f"Conférence {label.upper()}")
    tenant = Tenant(conference=conference, marker=f"MARQUEUR-{label.upper()}")
    for role, traits in ROLE_ORG_TRAITS.items():
        organisation = OrganisationFactory(**traits)
        user = UserFactory(email=f"{role}@{label}.test", organisation=organisation)
        access = grant(user, conference, role)
        tenant.users[role] = user
        tenant.access_ids[role] = str(access.public_id)
    with conference_scope(conference):
        CommuneFactory(conference=conference, name=f"Commune {tenant.marker}")
        tenant.membership = Membership.objects.create(
            conference=conference,
            organisation=OrganisationFactory(name=f"Bailleur {tenant.marker}"),
            college=College.PROFESSIONNELS,
        )
        tenant.representative = RepresentativeFactory(
            membership=tenant.membership, last_name=f"Représentant {tenant.marker}"
        )
        tenant.invitation = Invitation.objects.create(
            conference=conference,
            email=f"invite-{label}@exemple.fr",
            organisation=tenant.membership.organisation,
            role=RoleName.BAILLEUR,
            token_hash=f"{label}" * 8,
            expires_at=datetime.datetime(2100, 1, 1, tzinfo=datetime.UTC),
        )
        add_attributions(tenant)
    return tenant


def add_attributions(tenant: Tenant) -> None:
    """Inside the tenant's scope: a threshold, then one attribution for the bailleur user's
    organisation and one for the other bailleur member."""
    conference = tenant.conference
    Q1Threshold.objects.create(conference=conference, year=2025, value=9876, source="arrêté test")
    commune = conference.communes.first()
    for attr, organisation in (
        ("attribution", tenant.users[RoleName.BAILLEUR].organisation),
        ("other_bailleur_attribution", tenant.membership.organisation),
    ):
        raw = {
            "reference": f"REF-{tenant.marker}",
            "bailleur_siren": organisation.siren,
            "date_signature_bail": "2025-03-14",
            "commune_insee": commune.insee,
            "reservataire": "non_reserve",
            "nb_personnes": "2",
            "revenu_annuel": "12000",
        }
        fields = check_row(raw, conference=conference)
        setattr(tenant, attr, Attribution.objects.create(conference=conference, **fields))


def build_world() -> World:
    a = build_tenant("a")
    b = build_tenant("b")
    multi = UserFactory(email="multi@ab.test", organisation=OrganisationFactory(etat=True))
    grant(multi, a.conference, RoleName.PREFECTURE)
    grant(multi, b.conference, RoleName.PREFECTURE)
    return World(a=a, b=b, multi=multi)
