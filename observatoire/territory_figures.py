"""Every commune's figures for some years, as the commune list, the commune pages and the map
show them, cached per data generation (observatoire/cache.py).

One entry serves every commune page of a conference (the figures of all its communes for
all years), another the list, one per indicator kind the map. The figures depend on the
reader's role only through the secrecy threshold, which is part of the key. A result
computed while a stored bilan was missing (a worker computes it) is provisional and not
cached.
"""

from dataclasses import dataclass

from observatoire import cache, commune_figures
from observatoire import selectors_communes as selectors


@dataclass
class TerritoryFigures:
    communes: dict[str, str]  # INSEE → name
    has_demands: bool  # demands were imported
    millesimes: list[int]  # RPLS millésimes imported
    by_year: dict[int, dict[str, dict[str, commune_figures.Figure]]]  # year → INSEE → key
    bilan_pending: frozenset[int]  # years whose bilan was being computed

    def millesime(self, year: int) -> int | None:
        """The RPLS millésime shown for `year` (None without dwellings)."""
        return commune_figures.pick_millesime(self.millesimes, year)


def years(conference) -> list[int]:
    """`selectors_communes.years()` (a DISTINCT over every attribution), cached."""
    return cache.cached(conference, "years", (), selectors.years)


def territory_figures(
    conference, years: list[int], *, roles, demand: bool = True, offer: bool = True
) -> TerritoryFigures:
    """The figures of `years` (see `selectors_communes.figures_for_year`)."""
    threshold = selectors.secrecy_threshold(roles)
    years = sorted(years)

    def compute() -> TerritoryFigures:
        data = selectors.territory_data(conference, years)
        by_year = {
            year: selectors.figures_for_year(data, year, roles=roles, demand=demand, offer=offer)
            for year in years
        }
        return TerritoryFigures(
            communes=data.communes,
            has_demands=data.has_demands,
            millesimes=data.millesimes,
            by_year=by_year,
            bilan_pending=frozenset(y for y in years if data.bilans.get(y) is None),
        )

    return cache.cached(
        conference,
        "territory",
        (tuple(years), threshold, demand, offer),
        compute,
        keep=lambda figures: not figures.bilan_pending,
    )
