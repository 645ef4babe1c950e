"""Factories and a small territory for attribution tests."""

import datetime
from decimal import Decimal

from attributions.models import Q1Threshold
from cil.models import College, Commune, Membership, OrganisationType, Qpv, QpvYear
from cil.tenancy import conference_scope
from tests.factories import ConferenceFactory, OrganisationFactory


def territory(conference=None, *, threshold=Decimal("9876.00"), years=(2024, 2025)):
    """A conference with two communes, one QPV in the first valid for `years`, two bailleur
    members and a threshold for each year. Returns a dict of what it made."""
    conference = conference or ConferenceFactory()
    with conference_scope(conference):
        ville = Commune.objects.create(conference=conference, insee="76540", name="Exempleville")
        autre = Commune.objects.create(conference=conference, insee="76541", name="Autreville")
        qpv = Qpv.objects.create(
            conference=conference, code="QN07601M", name="Quartier des Tilleuls"
        )
        qpv.communes.add(ville)
        for year in years:
            QpvYear.objects.create(conference=conference, qpv=qpv, year=year)
        bailleurs = [
            OrganisationFactory(type=OrganisationType.BAILLEUR, name=f"Habitat {n}") for n in (1, 2)
        ]
        for bailleur in bailleurs:
            Membership.objects.create(
                conference=conference, organisation=bailleur, college=College.PROFESSIONNELS
            )
        for year in years:
            Q1Threshold.objects.create(
                conference=conference, year=year, value=threshold, source="arrêté test"
            )
    return {
        "conference": conference,
        "ville": ville,
        "autre": autre,
        "qpv": qpv,
        "bailleurs": bailleurs,
    }


def row(bailleur, **overrides) -> dict:
    """A valid `attributions` v1 row (raw strings, as from a file)."""
    base = {
        "reference": "A-001",
        "bailleur_siren": bailleur.siren,
        "date_signature_bail": "2025-03-14",
        "commune_insee": "76541",
        "reservataire": "non_reserve",
        "nb_personnes": "2",
        "nb_enfants_moins_14": "0",
        "revenu_annuel": "12000",
    }
    base.update(overrides)
    return base


LEASE = datetime.date(2025, 3, 14)
