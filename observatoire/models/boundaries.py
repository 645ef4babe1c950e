"""Commune boundaries uploaded by the secretariat as GeoJSON, for the territory map (drawn
on the server as SVG; no tile server)."""

from django.conf import settings
from django.db import models
from django_scopes import ScopedManager

from cil.models import Commune, Conference, TenantModel


class TerritoryMap(TenantModel):
    conference = models.OneToOneField(Conference, on_delete=models.PROTECT, related_name="+")
    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(conference="conference")


class CommuneBoundary(TenantModel):
    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="+")
    commune = models.OneToOneField(Commune, on_delete=models.CASCADE, related_name="boundary")
    # GeoJSON geometry (Polygon or MultiPolygon, WGS84 lon/lat) as uploaded, validated.
    geometry = models.JSONField()

    objects = ScopedManager(conference="conference")
