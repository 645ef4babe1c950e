"""Reads for the territory map and the commune pages (inside the request's conference scope).

The figures are computed by `observatoire.commune_figures` from the frames of
`observatoire.frames` and the stored bilan (`attributions.bilan_cache`); statistical secrecy
applies to every role that does not see the bilan's detail (domain.md §4, §6).
"""

from dataclasses import dataclass, field

import pandas as pd
from django.conf import settings
from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404
from django.utils import timezone

from attributions import bilan_cache
from attributions.selectors import attribution_years
from cil.models import Commune, Conference, Qpv
from cil.permissions import has_permission
from observatoire import commune_figures, frames
from observatoire.models import CommuneBoundary, Demand, Dwelling, TerritoryMap


def sees_detail(roles) -> bool:
    """The secretariat and the prefecture see every count; others, aggregates under
    statistical secrecy (the bilan's rule)."""
    return has_permission(roles, "bilan.view_detail")


def secrecy_threshold(roles) -> int | None:
    return None if sees_detail(roles) else settings.CIL_SECRECY_THRESHOLD


def years() -> list[int]:
    """Years with attributions, most recent first (the current year when there is none)."""
    return attribution_years() or [timezone.localdate().year]


def communes_with_qpv(year: int) -> list[Commune]:
    """The conference's communes by name, each with `qpv_list`: its QPV in force in `year`."""
    in_force = Qpv.objects.filter(years__year=year).order_by("code")
    return list(
        Commune.objects.order_by("name").prefetch_related(
            Prefetch("qpvs", queryset=in_force, to_attr="qpv_list")
        )
    )


def access_commune(*, insee: str) -> Commune:
    """A commune of the conference by its INSEE code; 404 for « absent » and « not ours »."""
    return get_object_or_404(Commune, insee=insee)


def qpvs_of(commune: Commune, year: int) -> list[Qpv]:
    return list(Qpv.objects.filter(communes=commune, years__year=year).order_by("code"))


def territory_map() -> TerritoryMap | None:
    return TerritoryMap.objects.select_related("uploaded_by").first()


def boundaries() -> dict[str, dict]:
    """{INSEE: GeoJSON geometry} of the communes drawn on the map."""
    return dict(CommuneBoundary.objects.values_list("commune__insee", "geometry"))


def boundary_counts() -> dict[str, int]:
    return {
        "communes": Commune.objects.count(),
        "drawn": CommuneBoundary.objects.count(),
    }


@dataclass
class TerritoryData:
    """What the figures are computed from, read once per request."""

    conference: Conference
    communes: dict[str, str]  # INSEE → name
    attributions: pd.DataFrame
    has_demands: bool  # demands were imported
    millesimes: list[int]  # RPLS millésimes imported
    bilans: dict[int, dict | None] = field(default_factory=dict)
    _dwellings: dict[int, pd.DataFrame] = field(default_factory=dict)
    _demands: pd.DataFrame | None = None

    @property
    def demands(self) -> pd.DataFrame | None:
        """Every demand of the conference (read on first use); None when none was imported."""
        if self.has_demands and self._demands is None:
            self._demands = frames.demand_frame(self.conference)
        return self._demands

    def bilan(self, year: int) -> dict | None:
        if year not in self.bilans:
            # None while a worker computes it (production); computed inline in development.
            self.bilans[year] = bilan_cache.get_bilan(self.conference, year)
        return self.bilans[year]

    def dwellings(self, year: int) -> tuple[int | None, pd.DataFrame | None]:
        millesime = commune_figures.pick_millesime(self.millesimes, year)
        if millesime is None:
            return None, None
        if millesime not in self._dwellings:
            self._dwellings[millesime] = frames.dwelling_frame(self.conference, millesime)
        return millesime, self._dwellings[millesime]


def territory_data(conference: Conference, year_list: list[int]) -> TerritoryData:
    return TerritoryData(
        conference=conference,
        communes=dict(Commune.objects.values_list("insee", "name")),
        attributions=frames.attribution_frame(conference, year_list),
        has_demands=Demand.objects.exists(),
        millesimes=sorted(
            Dwelling.objects.order_by().values_list("millesime", flat=True).distinct()
        ),
    )


def figures_for_year(
    data: TerritoryData, year: int, *, roles, demand: bool = True, offer: bool = True
) -> dict[str, dict[str, commune_figures.Figure]]:
    """Every commune's figures for `year`, as `roles` may see them; the demand and offer
    figures only when asked for (they read the largest frames)."""
    dwellings = data.dwellings(year)[1] if offer else None
    return commune_figures.communes_figures(
        list(data.communes),
        year=year,
        attributions=data.attributions,
        demands=data.demands if demand else None,
        dwellings=dwellings,
        bilan=data.bilan(year),
        threshold=secrecy_threshold(roles),
    )


def qpv_counts() -> dict[str, int]:
    """{INSEE: number of QPV (any year)} for the commune list."""
    return dict(Commune.objects.annotate(n=Count("qpvs", distinct=True)).values_list("insee", "n"))
