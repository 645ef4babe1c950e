"""factory_boy factories. Tenant-owned factories are used inside `conference_scope` or
`unscoped()` (tests/conftest.py opens the latter for fixtures)."""

import datetime
import itertools

import factory
from factory.django import DjangoModelFactory

from cil.models import (
    Access,
    College,
    Commune,
    Conference,
    Membership,
    Organisation,
    OrganisationType,
    Representative,
    RepresentativeKind,
    Role,
    User,
)
from cil.validators import luhn_valid

_siren_counter = itertools.count(100_000_00)


def next_siren() -> str:
    """A fresh 9-digit SIREN with a valid Luhn key."""
    while True:
        base = f"{next(_siren_counter):08d}"
        for key in range(10):
            candidate = base + str(key)
            if luhn_valid(candidate):
                return candidate


class ConferenceFactory(DjangoModelFactory):
    class Meta:
        model = Conference

    slug = factory.Sequence(lambda n: f"conf-{n}")
    name = factory.Sequence(lambda n: f"Conférence intercommunale du logement n°{n}")
    epci_siren = factory.LazyFunction(next_siren)
    prefet_name = "Mme la préfète"
    president_name = "M. le président"


class OrganisationFactory(DjangoModelFactory):
    class Meta:
        model = Organisation

    siren = factory.LazyFunction(next_siren)
    name = factory.Sequence(lambda n: f"Organisation {n}")
    type = OrganisationType.BAILLEUR

    class Params:
        etat = factory.Trait(
            type=OrganisationType.ETAT, name=factory.Sequence(lambda n: f"Préfecture {n}")
        )
        epci = factory.Trait(
            type=OrganisationType.EPCI, name=factory.Sequence(lambda n: f"EPCI {n}")
        )
        commune = factory.Trait(
            type=OrganisationType.COMMUNE, name=factory.Sequence(lambda n: f"Commune {n}")
        )


class CommuneFactory(DjangoModelFactory):
    class Meta:
        model = Commune

    conference = factory.SubFactory(ConferenceFactory)
    insee = factory.Sequence(lambda n: f"{76000 + n % 1000:05d}")
    name = factory.Sequence(lambda n: f"Commune {n}")


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    conference = factory.SubFactory(ConferenceFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    college = College.PROFESSIONNELS
    voting_right = True


class RepresentativeFactory(DjangoModelFactory):
    class Meta:
        model = Representative

    membership = factory.SubFactory(MembershipFactory)
    conference = factory.SelfAttribute("membership.conference")
    first_name = "Camille"
    last_name = factory.Sequence(lambda n: f"Martin{n}")
    kind = RepresentativeKind.TITULAIRE
    mandate_start = datetime.date(2024, 1, 1)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"personne{n}@exemple.fr")
    first_name = "Dominique"
    last_name = factory.Sequence(lambda n: f"Durand{n}")
    organisation = factory.SubFactory(OrganisationFactory)
    password = factory.PostGenerationMethodCall("set_password", "mot-de-passe-solide-42")

    @factory.post_generation
    def _save(self, create, extracted, **kwargs):
        if create:
            self.save()


def grant(user: User, conference: Conference, *roles: str) -> Access:
    """Give `user` the roles in `conference`, with a membership for their organisation."""
    from cil.tenancy import conference_scope

    with conference_scope(conference):
        if (
            user.organisation_id
            and not Membership.objects.filter(organisation=user.organisation).exists()
        ):
            Membership.objects.create(
                conference=conference,
                organisation=user.organisation,
                college=College.PROFESSIONNELS,
            )
        access, _ = Access.objects.get_or_create(conference=conference, user=user)
        for role in roles:
            Role.objects.get_or_create(conference=conference, access=access, name=role)
    return access
