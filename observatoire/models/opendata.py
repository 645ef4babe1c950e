"""Aggregates the secretariat chose to publish as open data (under statistical secrecy)."""

from django.conf import settings
from django.db import models
from django_scopes import ScopedManager

from cil.models import Conference, TenantModel


class OpenDataPublication(TenantModel):
    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="+")
    dataset = models.CharField("jeu de données", max_length=64)  # key of the catalogue
    year = models.PositiveSmallIntegerField("année")
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    published_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(conference="conference")

    class Meta:
        ordering = ["dataset", "-year"]
        constraints = [
            models.UniqueConstraint(
                fields=["conference", "dataset", "year"], name="opendata_unique_dataset_year"
            )
        ]
