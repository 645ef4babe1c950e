"""factory_boy factories of the observatory's models (shared by the observatory's tests: add,
don't rewrite). Tenant-owned: use them inside `conference_scope`."""

import datetime
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from observatoire.models import Demand, Dwelling


class DemandFactory(DjangoModelFactory):
    """A demand of a 2-person household without children (UC 1.5), 18,000 € a year."""

    class Meta:
        model = Demand

    numero_unique = factory.Sequence(lambda n: f"076{n:012d}")
    date_depot = datetime.date(2025, 3, 14)
    commune_insee = "76540"
    communes_souhaitees = factory.LazyAttribute(lambda d: [d.commune_insee])
    nb_personnes = 2
    nb_enfants_moins_14 = 0
    revenu_annuel = Decimal("18000.00")
    uc = Decimal("1.50")
    revenu_par_uc = Decimal("12000.00")


class DwellingFactory(DjangoModelFactory):
    class Meta:
        model = Dwelling

    millesime = 2025
    rpls_id = factory.Sequence(lambda n: f"R{n:09d}")
    commune_insee = "76540"
    nb_pieces = 3
    typologie = "T3"
    financement = "PLUS"
    financement_code = "13"
