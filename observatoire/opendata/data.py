"""What the open-data tables of one conference and one year are computed from, read from
the database (inside the conference's scope), then handed to the pure builders of
`observatoire.opendata.tables`.

Household-level rows are read only to be counted here, never published: the attributions
as counts by group (one grouped query), the demands and the attributions as the frames of
`observatoire.frames` for the observatory's own functions (active demand, pressure,
segregation units). Each book is computed at most once per `YearData`.
"""

from datetime import date
from functools import cached_property

import pandas as pd
from django.conf import settings
from django.db.models import BooleanField, Count, ExpressionWrapper, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from attributions import bilan_cache, bilan_data
from attributions.models import Attribution
from cil.models import Commune, Conference, Qpv, QpvYear
from cil.tenancy import conference_scope
from observatoire import frames
from observatoire.indicators import demand, offer
from observatoire.models import Demand, Dwelling
from observatoire.opendata import tables, tables_demand
from observatoire.opendata.book import Book

# Attribution fields of `tables.ATTRIBUTION_GROUPS` (same order).
GROUP_FIELDS = {
    "commune_insee": "commune__insee",
    "qpv_code": "qpv_code",
    "in_qpv": "in_qpv",
    "is_q1": "is_q1",
    "income_known": "income_known",
    "dalo": "dalo",
    "prioritaire": "prioritaire",
    "relogement_npnru": "relogement_npnru",
    "mutation": "mutation",
    "reservataire": "reservataire",
}


class YearData:
    """The inputs and books of one conference × year, computed on first use."""

    def __init__(self, conference: Conference, year: int, *, threshold: int | None = None):
        self.conference = conference
        self.year = year
        self.threshold = threshold or settings.CIL_SECRECY_THRESHOLD

    # --- Reference data ------------------------------------------------------------------

    @cached_property
    def commune_names(self) -> dict[str, str]:
        with conference_scope(self.conference):
            return dict(Commune.objects.order_by("insee").values_list("insee", "name"))

    @cached_property
    def qpvs(self) -> dict[str, tuple[str, list[str]]]:
        """The QPV in force in the year (QPV list of that year): code → (name, INSEE codes
        of the communes it spans)."""
        with conference_scope(self.conference):
            in_force = QpvYear.objects.filter(year=self.year).values("qpv_id")
            result: dict[str, tuple[str, list[str]]] = {
                code: (name, [])
                for code, name in Qpv.objects.filter(pk__in=in_force).values_list("code", "name")
            }
            links = Qpv.communes.through.objects.filter(qpv__in=in_force)
            for code, insee in links.values_list("qpv__code", "commune__insee"):
                result[code][1].append(insee)
        return result

    # --- Attributions ---------------------------------------------------------------------

    @cached_property
    def attribution_groups(self) -> pd.DataFrame:
        """The year's attributions counted by `tables.ATTRIBUTION_GROUPS` (column `n`)."""
        with conference_scope(self.conference):
            rows = list(
                Attribution.objects.filter(year=self.year)
                .annotate(
                    qpv_code=Coalesce("qpv__code", Value("")),
                    income_known=ExpressionWrapper(
                        Q(annual_income__isnull=False) | Q(given_income_per_uc__isnull=False),
                        output_field=BooleanField(),
                    ),
                )
                .order_by()
                .values(*GROUP_FIELDS.values())
                .annotate(n=Count("id"))
                .values_list(*GROUP_FIELDS.values(), "n")
            )
        frame = pd.DataFrame.from_records(rows, columns=[*GROUP_FIELDS, "n"])
        frame["is_q1"] = frame["is_q1"].astype("boolean")
        for name in ("in_qpv", "income_known", "dalo", "prioritaire", "relogement_npnru"):
            frame[name] = frame[name].astype(bool)
        frame["mutation"] = frame["mutation"].astype(bool)
        return frame

    @cached_property
    def attribution_book(self) -> Book:
        qpv_communes = {code: communes for code, (_name, communes) in self.qpvs.items()}
        return tables.attribution_book(
            self.attribution_groups,
            communes=list(self.commune_names),
            qpv_communes=qpv_communes,
            threshold=self.threshold,
        )

    @cached_property
    def attribution_frame(self) -> pd.DataFrame:
        """One row per attribution of the year (`observatoire.frames`), for the
        observatory's functions (pressure, segregation units)."""
        return frames.attribution_frame(self.conference, [self.year])

    @cached_property
    def targets(self) -> dict:
        """The rates in force for the conference (R1, R2 from the stored bilan; R3 from the
        conference's rates of the year, legal default without)."""
        rates = bilan_data.bilan_inputs(self.conference, self.year).rates
        targets = {rule: rates[rule] for rule in ("r1", "r2", "r3")}
        document = bilan_cache.get_bilan(self.conference, self.year)
        if document is not None:
            targets["r1"] = document["r1_q1_hors_qpv"]["cible"]
            targets["r2"] = document["r2_hors_q1_en_qpv"]["cible"]
        return targets

    # --- Demand ----------------------------------------------------------------------------

    @cached_property
    def demand_frame(self) -> pd.DataFrame:
        return frames.demand_frame(self.conference)

    @cached_property
    def demand_book(self) -> Book:
        """Active demands at 31 December of the year (domain-reference D1)."""
        counts = demand.active_demand_by(
            self.demand_frame, date(self.year, 12, 31), ["commune_insee", "typologie"]
        )
        return tables_demand.demand_book(
            counts, communes=list(self.commune_names), threshold=self.threshold
        )

    @cached_property
    def pressure(self) -> pd.DataFrame:
        return demand.pressure(
            self.demand_frame, self.attribution_frame, self.year, by=["commune_insee"]
        )

    # --- Offer -------------------------------------------------------------------------------

    @cached_property
    def dwellings(self) -> pd.DataFrame:
        """The RPLS dwellings of the millésime `year` (state of the stock at 1 January)."""
        return frames.dwelling_frame(self.conference, millesime=self.year)

    def offer_tables(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        detail = offer.offer_by(self.dwellings, ["commune_insee", "typologie", "financement"])
        return detail, offer.offer_by(self.dwellings, ())


# --- Years with data ------------------------------------------------------------------------


def attribution_years(conference: Conference) -> list[int]:
    with conference_scope(conference):
        # DISTINCT in the database (index conference × year): not one row per attribution.
        return list(Attribution.objects.order_by("-year").values_list("year", flat=True).distinct())


def demand_years(conference: Conference) -> list[int]:
    """From the year of the first deposit to the last year a demand was deposited or
    closed: each has a stock of active demands at 31 December — once that day is past
    (the stock of the current year is not known yet)."""
    with conference_scope(conference):
        deposits = Demand.objects.order_by().values_list("date_depot", flat=True)
        first = deposits.order_by("date_depot").first()
        if first is None:
            return []
        last_deposit = deposits.order_by("-date_depot").first()
        last_closure = (
            Demand.objects.filter(date_radiation__isnull=False)
            .order_by("-date_radiation")
            .values_list("date_radiation", flat=True)
            .first()
        )
    last = min(
        max(last_deposit.year, last_closure.year if last_closure else 0),
        timezone.localdate().year - 1,
    )
    return list(range(last, first.year - 1, -1))


def pressure_years(conference: Conference) -> list[int]:
    attributions = set(attribution_years(conference))
    return [year for year in demand_years(conference) if year in attributions]


def offer_years(conference: Conference) -> list[int]:
    with conference_scope(conference):
        return sorted(set(Dwelling.objects.values_list("millesime", flat=True)), reverse=True)
