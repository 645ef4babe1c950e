"""What the bilan is computed from, read from the database: the year's attributions as one
frame and the conference's settings for the year. The computation itself is the pure
`attributions.indicators.bilan`."""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pandas as pd
from django.db.models import BooleanField, ExpressionWrapper, Q

from attributions import derivation
from attributions.indicators import bilan
from attributions.models import (
    DEFAULT_TARGET_R1,
    DEFAULT_TARGET_R2,
    DEFAULT_TARGET_R3,
    Attribution,
    Q1Threshold,
    RuleRates,
)
from cil.models import Commune, Conference, Membership, Organisation, OrganisationType
from cil.tenancy import conference_scope

# Frame column (`bilan.COLUMNS`, same order) -> query expression.
FRAME_FIELDS = {
    "bailleur_siren": "bailleur__siren",
    "commune_insee": "commune__insee",
    "in_qpv": "in_qpv",
    "is_q1": "is_q1",
    "income_known": "income_known",
    "dalo": "dalo",
    "prioritaire": "prioritaire",
    "relogement_npnru": "relogement_npnru",
    "mutation": "mutation",
    "reservataire": "reservataire",
    "reservataire_siren": "reservataire_siren",
}


@dataclass(frozen=True)
class BilanInputs:
    """A conference's settings for a year, as `bilan.compute_bilan` takes them."""

    threshold: Decimal | None
    # The year's arrêté is not published yet: the previous year's value applies (flag it).
    threshold_provisional: bool
    rates: dict[str, Decimal]
    objectives: dict[tuple[str, int], dict[str, Decimal]]
    bailleurs: list[tuple[str, str]]
    communes: list[str]
    reservataire_objectives: dict[tuple[str, str | None], Decimal] = field(default_factory=dict)


def attribution_frame(conference: Conference, year: int) -> pd.DataFrame:
    """One row per attribution whose lease was signed in `year` (the frame of
    `attributions.indicators.bilan`), in one query."""
    with conference_scope(conference):
        rows = list(
            Attribution.objects.filter(year=year)
            .annotate(
                income_known=ExpressionWrapper(
                    Q(annual_income__isnull=False) | Q(given_income_per_uc__isnull=False),
                    output_field=BooleanField(),
                )
            )
            .order_by()
            .values_list(*FRAME_FIELDS.values())
        )
    frame = pd.DataFrame.from_records(rows, columns=list(FRAME_FIELDS))
    # True / False / NA (« non classable »): the nullable boolean keeps the three states.
    frame["is_q1"] = frame["is_q1"].astype("boolean")
    for name in ("in_qpv", "income_known", "dalo", "prioritaire", "relogement_npnru", "mutation"):
        frame[name] = frame[name].astype(bool)
    return frame


def cia_objectives(conference: Conference, year: int) -> dict[tuple[str, int], dict[str, Any]]:
    """The CIA's objectives per bailleur for `year`: {(SIREN, year): {"r1"|"r2"|"r3": rate}}.

    Empty today: the convention intercommunale d'attribution (CCH L.441-1-6) and its
    per-bailleur objectives are the CIA work item's, which fills this function. Until then
    every bailleur's target is the conference's rate."""
    return {}


def bilan_inputs(conference: Conference, year: int) -> BilanInputs:
    """The threshold (the previous year's applies provisionally, as for Q1 status), the
    rates (legal defaults when the conference set none), the bailleurs and the communes."""
    with conference_scope(conference):
        thresholds = dict(Q1Threshold.objects.values_list("year", "value"))
        reference = derivation.Reference(
            conference_id=conference.pk, communes={}, qpvs={}, bailleurs={}, thresholds=thresholds
        )
        threshold, provisional = reference.threshold_for(year)
        rates = RuleRates.objects.filter(year=year).first()
        members = dict(
            Membership.objects.filter(organisation__type=OrganisationType.BAILLEUR).values_list(
                "organisation__siren", "organisation__name"
            )
        )
        # A former member's attributions still count: list it under its name.
        reporting = Attribution.objects.filter(year=year).values("bailleur_id")
        former = dict(
            Organisation.objects.filter(pk__in=reporting)
            .exclude(siren__in=members)
            .values_list("siren", "name")
        )
        communes = list(Commune.objects.order_by("insee").values_list("insee", flat=True))
    return BilanInputs(
        threshold=threshold,
        threshold_provisional=provisional,
        rates={
            "r1": rates.target_r1 if rates else DEFAULT_TARGET_R1,
            "r2": rates.target_r2 if rates else DEFAULT_TARGET_R2,
            "r3": rates.target_r3 if rates else DEFAULT_TARGET_R3,
        },
        objectives=cia_objectives(conference, year),
        bailleurs=sorted({**members, **former}.items()),
        communes=communes,
    )


def compute(conference: Conference, year: int) -> dict:
    """The `bilan` v1 document of a conference for a year, computed now (not from the
    cache)."""
    inputs = bilan_inputs(conference, year)
    return bilan.compute_bilan(
        attribution_frame(conference, year),
        conference_slug=conference.slug,
        year=year,
        threshold=inputs.threshold,
        rates=inputs.rates,
        objectives=inputs.objectives,
        bailleurs=inputs.bailleurs,
        communes=inputs.communes,
        reservataire_objectives=inputs.reservataire_objectives,
    )
