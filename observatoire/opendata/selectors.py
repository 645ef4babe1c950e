"""Reads of the open-data choices, inside the conference's scope."""

from dataclasses import dataclass
from datetime import datetime

from django.http import Http404

from observatoire.models import OpenDataPublication
from observatoire.opendata import catalogue


@dataclass(frozen=True)
class Published:
    dataset: catalogue.Dataset
    # (year, published at), most recent year first.
    years: list[tuple[int, datetime]]

    @property
    def updated_at(self) -> datetime:
        return max(published_at for _year, published_at in self.years)


def published() -> list[Published]:
    """The datasets with at least one published year, in the catalogue's order."""
    years: dict[str, list[tuple[int, datetime]]] = {}
    for key, year, published_at in OpenDataPublication.objects.order_by(
        "dataset", "-year"
    ).values_list("dataset", "year", "published_at"):
        years.setdefault(key, []).append((year, published_at))
    return [
        Published(dataset, years[dataset.key])
        for dataset in catalogue.DATASETS
        if dataset.key in years
    ]


def published_years(key: str) -> dict[int, datetime]:
    return dict(OpenDataPublication.objects.filter(dataset=key).values_list("year", "published_at"))


def access_published(*, key: str, year: int | None = None) -> catalogue.Dataset:
    """The dataset `key`, published (for `year` when given) in the current conference;
    Http404 otherwise — an unknown key and an unpublished year alike."""
    dataset = catalogue.get(key)
    rows = OpenDataPublication.objects.filter(dataset=key)
    if year is not None:
        rows = rows.filter(year=year)
    if dataset is None or not rows.exists():
        raise Http404("Jeu de données non publié.")
    return dataset


def access_dataset(key: str) -> catalogue.Dataset:
    dataset = catalogue.get(key)
    if dataset is None:
        raise Http404("Jeu de données inconnu.")
    return dataset
