"""The indicators the territory map can show (chosen by the `indicateur` GET parameter): the
figure of `observatoire.commune_figures` each one reads, how its values are written, and its
fixed classes."""

from collections.abc import Callable
from dataclasses import dataclass

from observatoire import commune_figures as cf
from observatoire.commune_text import decimal, number, percent
from observatoire.maps.classes import Classes, fixed_classes, nice_breaks, quantile_classes

RATE, COUNT, RATIO = "rate", "count", "ratio"


@dataclass(frozen=True)
class MapIndicator:
    key: str  # GET value
    figure: str  # key in commune_figures
    label: str  # in the select and the legend
    kind: str  # RATE | COUNT | RATIO
    # Fixed breaks (RATE: shares; RATIO: plain numbers); None: equal round steps (counts).
    breaks: tuple[float, ...] | None = None
    needs: str = "attributions"  # "attributions" | "demandes" | "logements": data it needs
    note: str = ""  # said under the map's title

    def format(self, value: float) -> str:
        return FORMATTERS[self.kind](value)

    def classes(self, values: list[float], method: str) -> Classes | None:
        if not values:
            return None
        if method == "fixes":
            breaks = self.breaks if self.breaks is not None else nice_breaks(max(values))
            return fixed_classes(breaks)
        return quantile_classes(values)


FORMATTERS: dict[str, Callable[[float], str]] = {
    RATE: percent,
    COUNT: lambda value: number(round(value)),
    RATIO: decimal,
}

Q1_NOTE = (
    "Ménages du premier quartile : le quart des demandeurs du territoire aux revenus les plus "
    "faibles (seuil fixé chaque année par arrêté). Un ménage au revenu inconnu compte dans le "
    "total, jamais dans le premier quartile."
)
# 25 % is R1's legal target (CCH L.441-1): a class border, so the map shows who reaches it.
SHARE_BREAKS = (0.10, 0.20, 0.25, 0.30)
INDICATORS: dict[str, MapIndicator] = {
    indicator.key: indicator
    for indicator in (
        MapIndicator(
            "part-q1-hors-qpv",
            cf.Q1_SHARE_HORS_QPV,
            "Part du 1er quartile parmi les attributions hors QPV",
            RATE,
            SHARE_BREAKS,
            note=Q1_NOTE,
        ),
        MapIndicator(
            "part-q1",
            cf.Q1_SHARE,
            "Part du 1er quartile parmi toutes les attributions",
            RATE,
            SHARE_BREAKS,
            note=Q1_NOTE,
        ),
        MapIndicator(
            "taux-r1",
            cf.R1,
            "Taux R1 (hors QPV : 1er quartile ou relogés NPNRU)",
            RATE,
            SHARE_BREAKS,
            note=(
                "Part des attributions hors quartier prioritaire faites à des ménages du premier "
                "quartile de revenus ou relogés dans le cadre du renouvellement urbain. Objectif "
                "légal : 25 % au moins (article L.441-1 du code de la construction et de "
                "l'habitation), ou le taux fixé par la conférence."
            ),
        ),
        MapIndicator("attributions", cf.ATTRIBUTIONS, "Nombre d'attributions", COUNT),
        MapIndicator(
            "demandes",
            cf.DEMANDS,
            "Demandes actives (commune en 1er choix)",
            COUNT,
            needs="demandes",
        ),
        MapIndicator(
            "pression",
            cf.PRESSURE,
            "Pression (demandes actives pour une attribution)",
            RATIO,
            (2.0, 4.0, 6.0, 10.0),
            needs="demandes",
            note=(
                "Demandes actives au 31 décembre (à ce jour pour l'année en cours) plaçant la "
                "commune en premier choix, pour une attribution de l'année dans la commune."
            ),
        ),
        MapIndicator(
            "logements",
            cf.DWELLINGS,
            "Logements sociaux (RPLS)",
            COUNT,
            needs="logements",
        ),
    )
}
DEFAULT_INDICATOR = "part-q1-hors-qpv"
CLASS_METHODS = {"quantiles": "Quantiles (effectifs égaux)", "fixes": "Seuils fixes"}
DEFAULT_METHOD = "quantiles"
