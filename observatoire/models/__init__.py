"""The observatory's data (domain.md §5): demand (SNE extracts, `demandes` v1), offer
(RPLS), commune boundaries for maps, its settings, import jobs and open-data choices.

One module per subject; every model is tenant-owned (scoped to its conference).
"""

from observatoire.models.boundaries import CommuneBoundary, TerritoryMap
from observatoire.models.demand import ClosureReason, Demand
from observatoire.models.imports import ObservatoireImport, ObservatoireImportKind
from observatoire.models.offer import Dwelling
from observatoire.models.opendata import OpenDataPublication
from observatoire.models.settings import ObservatoireSettings

__all__ = [
    "ClosureReason",
    "CommuneBoundary",
    "Demand",
    "Dwelling",
    "ObservatoireImport",
    "ObservatoireImportKind",
    "ObservatoireSettings",
    "OpenDataPublication",
    "TerritoryMap",
]
