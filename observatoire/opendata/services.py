"""Writes of the open-data choices: publish or withdraw a dataset for a year (the
secretariat's decision, `opendata.manage`). One transaction, one audit entry each."""

from django.core.exceptions import ValidationError
from django.db import transaction

from cil import audit
from cil.models import AuditAction, Conference, User
from observatoire.models import OpenDataPublication
from observatoire.opendata import catalogue


def _dataset(key: str, year: int, conference: Conference) -> catalogue.Dataset:
    dataset = catalogue.get(key)
    if dataset is None:
        raise ValidationError(f"Jeu de données inconnu : « {key} ».")
    if year not in dataset.years(conference):
        raise ValidationError(f"Aucune donnée {year} pour « {dataset.title} ».")
    return dataset


def _label(dataset: catalogue.Dataset, year: int) -> str:
    return f"Données ouvertes : {dataset.title} ({year})"


@transaction.atomic
def publication_publish(
    *, conference: Conference, actor: User | None, dataset: str, year: int
) -> OpenDataPublication:
    """Publish `dataset` for `year`: its table, under statistical secrecy, becomes public
    at /<conference>/donnees-ouvertes/."""
    chosen = _dataset(dataset, year, conference)
    if OpenDataPublication.objects.filter(dataset=dataset, year=year).exists():
        raise ValidationError(f"« {chosen.title} » est déjà publié pour {year}.")
    publication = OpenDataPublication.objects.create(
        conference=conference, dataset=dataset, year=year, published_by=actor
    )
    audit.record(
        conference=conference,
        actor=actor,
        action=AuditAction.CREATE,
        obj=publication,
        object_repr=_label(chosen, year),
        changes={"publication": [None, f"{dataset} {year}"]},
    )
    return publication


@transaction.atomic
def publication_withdraw(
    *, conference: Conference, actor: User | None, dataset: str, year: int
) -> None:
    """Withdraw `dataset` for `year`: its files answer 404 from now on."""
    publication = (
        OpenDataPublication.objects.select_for_update().filter(dataset=dataset, year=year).first()
    )
    chosen = catalogue.get(dataset)
    if publication is None or chosen is None:
        raise ValidationError(f"« {dataset} » n'est pas publié pour {year}.")
    audit.record(
        conference=conference,
        actor=actor,
        action=AuditAction.DELETE,
        obj=publication,
        object_repr=_label(chosen, year),
        changes={"publication": [f"{dataset} {year}", None]},
    )
    publication.delete()
