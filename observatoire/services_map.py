"""Writes of the territory map: the secretariat's boundaries file (GeoJSON).

The file is checked as a whole first (`observatoire.maps.geojson`); then, in one
transaction, the conference's boundaries are replaced by the file's, the `TerritoryMap` row
records the file, and the audit log says who loaded what. A refused file changes nothing.
"""

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from cil import audit
from cil.models import AuditAction, Commune, Conference
from cil.tenancy import conference_scope
from observatoire import cache as observatoire_cache
from observatoire.maps import geojson
from observatoire.maps.projection import bounds, count_positions, simplify_geometry
from observatoire.models import CommuneBoundary, TerritoryMap

# Stored geometries are simplified to this fraction of the territory's extent: a quarter of
# a pixel on a 1,000-pixel map, so the pages draw fast whatever the file's detail.
STORED_PRECISION = 1 / 4000


def max_bytes() -> int:
    return getattr(settings, "CIL_MAP_MAX_BYTES", geojson.DEFAULT_MAX_BYTES)


@dataclass(frozen=True)
class MapUploadReport:
    territory_map: TerritoryMap
    communes: int  # communes drawn
    missing: list[tuple[str, str]]  # (INSEE, name) of the conference's communes not in the file
    points_read: int
    points_kept: int

    def summary(self) -> str:
        plural = "s" if self.communes > 1 else ""
        text = f"{self.communes} commune{plural} dessinée{plural}"
        if self.missing:
            text += (
                f", {len(self.missing)} absente{'s' if len(self.missing) > 1 else ''} du fichier"
            )
        return text


def territory_map_upload(
    *, conference: Conference, actor, filename: str, content: bytes
) -> MapUploadReport:
    """Replace the conference's commune boundaries by those of a GeoJSON file.

    Raises `geojson.BoundariesError` (nothing written) when the file is refused."""
    with conference_scope(conference):
        communes = dict(Commune.objects.values_list("insee", "name"))
        parsed = geojson.parse_boundaries(content, communes=communes, max_bytes=max_bytes())
        lon_min, lat_min, lon_max, lat_max = bounds(parsed.geometries.values())
        tolerance = max(lon_max - lon_min, lat_max - lat_min) * STORED_PRECISION
        geometries = {
            insee: simplify_geometry(geometry, tolerance)
            for insee, geometry in parsed.geometries.items()
        }
        ids = dict(Commune.objects.filter(insee__in=geometries).values_list("insee", "pk"))
        with transaction.atomic():
            CommuneBoundary.objects.all().delete()
            CommuneBoundary.objects.bulk_create(
                CommuneBoundary(conference=conference, commune_id=ids[insee], geometry=geometry)
                for insee, geometry in sorted(geometries.items())
            )
            territory_map, created = TerritoryMap.objects.update_or_create(
                conference=conference,
                defaults={
                    "filename": filename[:255],
                    "sha256": hashlib.sha256(content).hexdigest(),
                    "uploaded_by": actor,
                },
            )
            missing = [(insee, communes[insee]) for insee in parsed.missing]
            report = MapUploadReport(
                territory_map=territory_map,
                communes=len(geometries),
                missing=missing,
                points_read=parsed.points,
                points_kept=sum(count_positions(g) for g in geometries.values()),
            )
            audit.record(
                conference=conference,
                actor=actor,
                action=AuditAction.IMPORT,
                obj=territory_map,
                object_type="observatoire.territorymap",
                object_repr=f"Carte du territoire ({territory_map.filename})",
                changes={
                    "fichier": territory_map.filename,
                    "sha256": territory_map.sha256,
                    "communes dessinées": len(geometries),
                    "communes absentes": [insee for insee, _name in missing],
                    "remplacement": not created,
                },
            )
            observatoire_cache.bump(conference.pk)
    return report
