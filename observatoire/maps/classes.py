"""Classes of values for a choropleth map, and their colours.

Two ways of cutting: quantiles (about as many communes in each class; follows this year's
spread) or fixed breaks chosen per indicator (the same colours mean the same values from one
year to the next; the breaks can carry a target, e.g. 25 % for R1). Classes include their
lower bound: [a, b), the last one also its upper bound.

Palette: ColorBrewer's sequential YlGnBu (Cynthia Brewer, colorbrewer2.org), marked safe for
colour-blind readers and for photocopies, light for low values. Communes under statistical
secrecy are hatched, communes without data plain grey: neither is a colour of the scale.
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# YlGnBu with 3, 4 and 5 classes (ColorBrewer); one or two classes use the ends of the 3.
PALETTES = {
    1: ("#2c7fb8",),
    2: ("#edf8b1", "#2c7fb8"),
    3: ("#edf8b1", "#7fcdbb", "#2c7fb8"),
    4: ("#ffffcc", "#a1dab4", "#41b6c4", "#225ea8"),
    5: ("#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494"),
}
MAX_CLASSES = 5
NO_DATA_COLOUR = "#e5e5e5"
HATCH_COLOUR = "#929292"  # the hatch lines; the background stays white


@dataclass(frozen=True)
class Classes:
    """`bounds`: k + 1 increasing values; class i holds bounds[i] ≤ v < bounds[i + 1] (the
    last one v ≤ bounds[k]). An open end is ±inf (fixed breaks)."""

    bounds: tuple[float, ...]
    method: str  # "quantiles" | "fixes"

    @property
    def count(self) -> int:
        return len(self.bounds) - 1

    @property
    def colours(self) -> tuple[str, ...]:
        return PALETTES[self.count]

    def index(self, value: float) -> int:
        for i in range(self.count - 1):
            if value < self.bounds[i + 1]:
                return i
        return self.count - 1

    def colour(self, value: float) -> str:
        return self.colours[self.index(value)]

    def labels(self, formatter: Callable[[float], str]) -> list[str]:
        labels = []
        for i in range(self.count):
            low, high = self.bounds[i], self.bounds[i + 1]
            last = i == self.count - 1
            if math.isinf(low) and math.isinf(high):
                labels.append("toutes les valeurs")
            elif math.isinf(low):
                labels.append(f"moins de {formatter(high)}")
            elif math.isinf(high):
                labels.append(f"{formatter(low)} ou plus")
            elif low == high:
                labels.append(formatter(low))
            elif last:
                labels.append(f"de {formatter(low)} à {formatter(high)}")
            else:
                labels.append(f"de {formatter(low)} à moins de {formatter(high)}")
        return labels


def _quantile(ordered: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (the usual definition, numpy's default)."""
    position = q * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def quantile_classes(values: Sequence[float], *, count: int = MAX_CLASSES) -> Classes | None:
    """Up to `count` classes holding about as many values each; fewer when values repeat
    (bounds are never duplicated). None without any value."""
    ordered = sorted(values)
    if not ordered:
        return None
    count = max(1, min(count, MAX_CLASSES, len(ordered)))
    bounds = [ordered[0]]
    for i in range(1, count):
        cut = _quantile(ordered, i / count)
        if cut > bounds[-1]:
            bounds.append(cut)
    if ordered[-1] > bounds[-1] or len(bounds) == 1:
        bounds.append(ordered[-1])
    return Classes(bounds=tuple(bounds), method="quantiles")


def fixed_classes(breaks: Sequence[float]) -> Classes:
    """Classes cut at `breaks` (increasing, at most MAX_CLASSES − 1), open at both ends."""
    if list(breaks) != sorted(set(breaks)) or len(breaks) > MAX_CLASSES - 1:
        raise ValueError(f"Seuils de classes invalides : {breaks!r}")
    return Classes(bounds=(-math.inf, *breaks, math.inf), method="fixes")


def nice_breaks(maximum: float, *, count: int = MAX_CLASSES) -> list[float]:
    """Equal-width breaks on a round step (1, 2 or 5 × 10^n) covering 0 … maximum: fixed
    classes for counts, whose range has no natural cut."""
    if maximum <= 0:
        return []
    raw = maximum / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return [step * i for i in range(1, count) if step * i < maximum]
