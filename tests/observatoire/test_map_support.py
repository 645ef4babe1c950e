"""A small territory for the map and commune page tests (no test here).

Conference « conf-carte »: three communes, one QPV in Exempleville, the Q1 thresholds of
2024 and 2025, a user per role. `add_leases` writes attributions through the contract's
checks (`attributions.services.check_row`), so their Q1 and QPV status are derived by the
real rules. Counts used by the tests (2025, `standard_leases`):

| commune | hors QPV (Q1 / other / unknown income) | en QPV (Q1 / other) | total |
|---|---|---|---|
| 76101 Exempleville | 40 (12 / 26 / 2) | 20 (8 / 12) | 60 |
| 76102 Bourg-sur-Mer | 30 (6 / 24 / 0) | 0 | 30 |
| 76103 Petit-Village | 5 (2 / 3 / 0) | 0 | 5 |

2024: Exempleville 30 hors QPV (6 Q1) + 15 en QPV (5 Q1); Bourg-sur-Mer 25 (8 Q1);
Petit-Village 4 (1 Q1).
"""

import itertools
import json
from dataclasses import dataclass, field

from attributions import derivation
from attributions.models import Attribution, Q1Threshold
from attributions.services import check_row
from cil.models import Conference, Qpv, QpvYear, User
from cil.roles import RoleName
from cil.tenancy import conference_scope
from tests.factories import (
    CommuneFactory,
    ConferenceFactory,
    OrganisationFactory,
    UserFactory,
    grant,
)

COMMUNES = {"76101": "Exempleville", "76102": "Bourg-sur-Mer", "76103": "Petit-Village"}
QPV_CODE = "QN07601M"
THRESHOLDS = {2024: 9000, 2025: 9876}
ROLE_TRAITS = {
    RoleName.SECRETARIAT: {"epci": True},
    RoleName.BAILLEUR: {},
    RoleName.ELU: {"commune": True},
    RoleName.PREFECTURE: {"etat": True},
    RoleName.MEMBRE: {"type": "association"},
}
_references = itertools.count(1)


@dataclass
class Territory:
    conference: Conference
    users: dict[str, User] = field(default_factory=dict)


def build_territory(slug: str = "conf-carte") -> Territory:
    conference = ConferenceFactory(slug=slug, name=f"Conférence {slug}")
    territory = Territory(conference=conference)
    for role, traits in ROLE_TRAITS.items():
        user = UserFactory(email=f"{role}@{slug}.test", organisation=OrganisationFactory(**traits))
        grant(user, conference, role)
        territory.users[role] = user
    with conference_scope(conference):
        communes = {
            insee: CommuneFactory(conference=conference, insee=insee, name=name)
            for insee, name in COMMUNES.items()
        }
        qpv = Qpv.objects.create(conference=conference, code=QPV_CODE, name="Les Tours")
        qpv.communes.add(communes["76101"])
        for year in THRESHOLDS:
            QpvYear.objects.create(conference=conference, qpv=qpv, year=year)
        for year, value in THRESHOLDS.items():
            Q1Threshold.objects.create(
                conference=conference, year=year, value=value, source="arrêté test"
            )
    return territory


def add_leases(
    territory: Territory,
    insee: str,
    *,
    year: int = 2025,
    q1: int = 0,
    other: int = 0,
    unknown: int = 0,
    in_qpv: bool = False,
) -> None:
    """Attributions of one person households: Q1 (income 5,000 €), not Q1 (20,000 €), or of
    unknown income, in Exempleville's QPV or outside any."""
    conference = territory.conference
    bailleur = territory.users[RoleName.BAILLEUR].organisation
    with conference_scope(conference):
        reference = derivation.load_reference(conference)
        incomes = ["5000"] * q1 + ["20000"] * other + [""] * unknown
        for income in incomes:
            raw = {
                "reference": f"REF-{next(_references)}",
                "bailleur_siren": bailleur.siren,
                "date_signature_bail": f"{year}-06-15",
                "commune_insee": insee,
                "qpv_code": QPV_CODE if in_qpv else "",
                "reservataire": "non_reserve",
                "nb_personnes": "1",
                "revenu_annuel": income,
            }
            fields = check_row(raw, conference=conference, reference=reference)
            Attribution.objects.create(conference=conference, **fields)


def standard_leases(territory: Territory) -> None:
    add_leases(territory, "76101", q1=12, other=26, unknown=2)
    add_leases(territory, "76101", q1=8, other=12, in_qpv=True)
    add_leases(territory, "76102", q1=6, other=24)
    add_leases(territory, "76103", q1=2, other=3)
    add_leases(territory, "76101", year=2024, q1=6, other=24)
    add_leases(territory, "76101", year=2024, q1=5, other=10, in_qpv=True)
    add_leases(territory, "76102", year=2024, q1=8, other=17)
    add_leases(territory, "76103", year=2024, q1=1, other=3)


# --- GeoJSON ------------------------------------------------------------------------------


def square(lon: float, lat: float, size: float = 0.02) -> list[list[float]]:
    """A closed counter-clockwise ring."""
    return [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]


def feature(insee, ring=None, *, key: str = "code_insee", name: str | None = None) -> dict:
    properties = {key: insee}
    if name:
        properties["nom"] = name
    return {
        "type": "Feature",
        "properties": properties,
        "geometry": {"type": "Polygon", "coordinates": [ring or square(1.0, 49.4)]},
    }


def collection(*features: dict) -> dict:
    return {"type": "FeatureCollection", "features": list(features)}


def three_communes() -> dict:
    """The three communes of the territory side by side."""
    return collection(
        *(
            feature(insee, square(1.0 + 0.02 * n, 49.4), name=name)
            for n, (insee, name) in enumerate(COMMUNES.items())
        )
    )


def encode(data) -> bytes:
    return json.dumps(data).encode()
