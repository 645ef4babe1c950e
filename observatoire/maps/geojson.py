"""Validation of a commune boundaries file uploaded by the secretariat (GeoJSON, RFC 7946).

Standard library only (json, math): no GDAL. The whole file is checked before anything is
written; every problem is reported with the path of the feature and field it concerns
(`features[3].properties`, `features[3].geometry.coordinates[0][12]`), in French.

What is accepted:
- a `FeatureCollection` whose `features` are `Feature`s with a `Polygon` or `MultiPolygon`
  geometry in WGS84 longitude/latitude (RFC 7946; a `crs` member naming anything else is
  refused, so is a file whose coordinates look projected, e.g. Lambert 93);
- each feature names its commune by its INSEE code in one of `INSEE_PROPERTIES` (case does
  not matter; a number is read as a code with its leading zero restored);
- one feature per commune of the conference (a commune in several parts is one
  MultiPolygon); the arrondissements municipaux of Paris, Lyon and Marseille are merged
  into their commune; communes of the conference absent from the file are a warning, not
  an error (they are drawn as missing).
"""

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cil.validators import insee_error
from observatoire.contracts.common import PLM_COMMUNES

DEFAULT_MAX_BYTES = 10 * 1024 * 1024  # settings.CIL_MAP_MAX_BYTES overrides it
MAX_ISSUES = 50  # a broken file would otherwise list thousands of points
# Property names carrying the commune's INSEE code in common sources, in order of preference.
INSEE_PROPERTIES = (
    "code_insee",
    "insee",
    "insee_com",  # IGN ADMIN EXPRESS (INSEE_COM)
    "codgeo",  # INSEE
    "code",  # geo.api.gouv.fr, france-geojson
    "code_commune",
    "com_code",  # Opendatasoft
    "depcom",  # RPLS, Filosofi
)
NAME_PROPERTIES = ("nom", "nom_commune", "nom_com", "libgeo", "name", "com_name")
# A territory of the platform is one EPCI: a few tens of kilometres. Coordinates spread over
# more than this many degrees mix systems (or swap longitude and latitude) somewhere.
MAX_EXTENT_DEGREES = 5.0
WGS84_CRS = frozenset(
    {
        "urn:ogc:def:crs:ogc:1.3:crs84",
        "urn:ogc:def:crs:epsg::4326",
        "epsg:4326",
        "crs84",
    }
)
COORDINATE_DECIMALS = 6  # about 0.1 m: more is noise
_NUMBERS = frozenset({int, float})  # exact types: a JSON true is a bool, not a number


class BoundariesError(Exception):
    """The file cannot be loaded: `issues` says why, each with its path."""

    def __init__(self, issues: list["Issue"]):
        super().__init__("; ".join(f"{i.path} : {i.message}" for i in issues))
        self.issues = issues


@dataclass(frozen=True)
class Issue:
    path: str  # "$" for the whole file, else "features[3].geometry…"
    message: str


@dataclass(frozen=True)
class ParsedBoundaries:
    # INSEE code → {"type": "Polygon"|"MultiPolygon", "coordinates": …} (2D, rounded)
    geometries: dict[str, dict]
    names: dict[str, str]  # INSEE code → name given in the file (when it gives one)
    missing: list[str]  # communes of the conference absent from the file, sorted
    points: int  # positions in the file's rings


@dataclass
class _Collector:
    issues: list[Issue] = field(default_factory=list)
    dropped: int = 0

    def add(self, path: str, message: str) -> None:
        if len(self.issues) < MAX_ISSUES:
            self.issues.append(Issue(path, message))
        else:
            self.dropped += 1

    def raise_if_any(self) -> None:
        if self.issues:
            issues = list(self.issues)
            if self.dropped:
                issues.append(
                    Issue("$", f"… et {self.dropped} autre(s) erreur(s) non détaillée(s).")
                )
            raise BoundariesError(issues)


def _reject_constant(name: str):
    raise ValueError(f"valeur {name} interdite en JSON")


def too_big(size: int, max_bytes: int) -> Issue:
    return Issue(
        "$",
        f"Le fichier pèse {_size(size)}, au-delà de la taille maximale de {_size(max_bytes)} : "
        "simplifiez les contours avant de l'envoyer.",
    )


def decode(content: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Any:
    """The file's JSON value, or BoundariesError (size, encoding, syntax)."""
    if len(content) > max_bytes:
        raise BoundariesError([too_big(len(content), max_bytes)])
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BoundariesError(
            [Issue("$", f"Le fichier n'est pas encodé en UTF-8 (octet {error.start}).")]
        ) from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise BoundariesError(
            [
                Issue(
                    "$",
                    f"Le fichier n'est pas un JSON valide : ligne {error.lineno}, "
                    f"colonne {error.colno} ({_json_problem(error.msg)}).",
                )
            ]
        ) from None
    except RecursionError:
        raise BoundariesError(
            [Issue("$", "Le fichier n'est pas un JSON valide (imbrication trop profonde).")]
        ) from None
    except ValueError as error:  # NaN, Infinity (_reject_constant)
        raise BoundariesError(
            [Issue("$", f"Le fichier n'est pas un JSON valide ({error}).")]
        ) from None


# The json module's messages (English), as the secretariat reads them.
_JSON_PROBLEMS = {
    "Expecting value": "valeur attendue",
    "Expecting ',' delimiter": "virgule attendue",
    "Expecting ':' delimiter": "deux-points attendus",
    "Expecting property name enclosed in double quotes": (
        "nom de propriété entre guillemets doubles attendu"
    ),
    "Unterminated string starting at": "chaîne de caractères non terminée",
    "Extra data": "contenu en trop après la fin du JSON",
    "Invalid control character at": "caractère de contrôle interdit dans une chaîne",
    "Invalid \\escape": "séquence d'échappement invalide",
}


def _json_problem(message: str) -> str:
    return next(
        (french for english, french in _JSON_PROBLEMS.items() if message.startswith(english)),
        "syntaxe invalide",
    )


def parse_boundaries(
    content: bytes, *, communes: Mapping[str, str], max_bytes: int = DEFAULT_MAX_BYTES
) -> ParsedBoundaries:
    """Check a whole boundaries file against the conference's communes ({INSEE: name}).

    Returns the geometries by INSEE code, or raises BoundariesError listing every problem
    (up to MAX_ISSUES)."""
    return validate_collection(decode(content, max_bytes=max_bytes), communes=communes)


def validate_collection(data: Any, *, communes: Mapping[str, str]) -> ParsedBoundaries:
    """`parse_boundaries` on an already decoded JSON value."""
    out = _Collector()
    if not isinstance(data, dict):
        raise BoundariesError([Issue("$", "Le fichier doit contenir un objet GeoJSON.")])
    kind = data.get("type")
    if kind != "FeatureCollection":
        hint = {
            "Feature": " Ce fichier ne contient qu'un seul objet (Feature).",
            "Polygon": " Ce fichier ne contient qu'une géométrie, sans code commune.",
            "MultiPolygon": " Ce fichier ne contient qu'une géométrie, sans code commune.",
            "GeometryCollection": " Une GeometryCollection ne porte pas de code commune.",
        }.get(kind, "")
        raise BoundariesError(
            [
                Issue(
                    "$.type",
                    f"Type « {_shown(kind)} » : une FeatureCollection est attendue "
                    f"(une Feature par commune).{hint}",
                )
            ]
        )
    _check_crs(data.get("crs"), out)
    features = data.get("features")
    if not isinstance(features, list) or not features:
        out.add("$.features", "La liste « features » est absente ou vide.")
        out.raise_if_any()

    geometries: dict[str, dict] = {}
    names: dict[str, str] = {}
    first_index: dict[str, int] = {}
    seen_codes: dict[str, int] = {}
    points = 0
    for index, feature in enumerate(features):
        path = f"features[{index}]"
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            out.add(path, "Chaque élément de « features » doit être un objet de type Feature.")
            continue
        code = _commune_code(feature.get("properties"), path, out)
        # An arrondissement of Paris, Lyon or Marseille is drawn as part of its commune.
        insee = PLM_COMMUNES.get(code, code) if code is not None else None
        where = f" (commune {code})" if code else ""
        if code is not None:
            if insee not in communes:
                out.add(
                    f"{path}.properties",
                    f"Le code INSEE {code} n'est pas une commune de la conférence.",
                )
                insee = None
            elif code in seen_codes:
                out.add(
                    f"{path}.properties",
                    f"La commune {code} figure déjà dans features[{seen_codes[code]}] : "
                    "réunissez ses parties en un seul MultiPolygon.",
                )
                insee = None
            else:
                seen_codes[code] = index
                first_index.setdefault(insee, index)
        geometry, count = _geometry(feature.get("geometry"), f"{path}.geometry", where, out)
        points += count
        if insee is not None and geometry is not None:
            geometries[insee] = _merged(geometries.get(insee), geometry)
            name = _name(feature.get("properties"))
            if name and code == insee:
                names[insee] = name
    _check_extent(geometries, first_index, out)
    out.raise_if_any()
    return ParsedBoundaries(
        geometries=geometries,
        names=names,
        missing=sorted(set(communes) - set(geometries)),
        points=points,
    )


def _merged(first: dict | None, second: dict) -> dict:
    """Two geometries of one commune (its arrondissements) as one MultiPolygon."""
    if first is None:
        return second
    polygons = [
        *([first["coordinates"]] if first["type"] == "Polygon" else first["coordinates"]),
        *([second["coordinates"]] if second["type"] == "Polygon" else second["coordinates"]),
    ]
    return {"type": "MultiPolygon", "coordinates": polygons}


# --- Pieces --------------------------------------------------------------------------------


def _check_crs(crs: Any, out: _Collector) -> None:
    """RFC 7946 dropped `crs`: WGS84 is implied. An old-style member naming another system
    (Lambert 93 is common in French exports) is refused."""
    if crs is None:
        return
    name = crs.get("properties", {}).get("name") if isinstance(crs, dict) else None
    if not isinstance(name, str) or name.strip().lower() not in WGS84_CRS:
        out.add(
            "$.crs",
            f"Système de coordonnées « {_shown(name)} » non pris en charge : exportez le "
            "fichier en WGS84 (EPSG:4326, longitude puis latitude en degrés).",
        )


def _commune_code(properties: Any, path: str, out: _Collector) -> str | None:
    if not isinstance(properties, dict):
        out.add(
            f"{path}.properties",
            "Propriétés absentes : le code INSEE de la commune est attendu dans l'une des "
            f"propriétés {_accepted()}.",
        )
        return None
    by_name = {str(key).lower(): key for key in properties}
    key = next((by_name[name] for name in INSEE_PROPERTIES if name in by_name), None)
    if key is None:
        out.add(
            f"{path}.properties",
            f"Aucun code INSEE trouvé : il est attendu dans l'une des propriétés {_accepted()}.",
        )
        return None
    value = properties[key]
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 100_000:
        value = f"{value:05d}"  # a number loses the leading zero of départements 01–09
    if isinstance(value, str):
        value = value.strip().upper()
    message = insee_error(value)
    if message:
        out.add(f"{path}.properties.{key}", f"« {_shown(value)} » : {message}")
        return None
    return value


def _name(properties: dict) -> str:
    by_name = {str(key).lower(): value for key, value in properties.items()}
    for name in NAME_PROPERTIES:
        if isinstance(by_name.get(name), str) and by_name[name].strip():
            return by_name[name].strip()[:255]
    return ""


def _geometry(geometry: Any, path: str, where: str, out: _Collector) -> tuple[dict | None, int]:
    """The geometry normalised (2D, rounded), and its number of positions; None if invalid."""
    if not isinstance(geometry, dict):
        out.add(path, f"Géométrie absente{where}.")
        return None, 0
    kind = geometry.get("type")
    coordinates = geometry.get("coordinates")
    if kind not in ("Polygon", "MultiPolygon"):
        out.add(
            f"{path}.type",
            f"Géométrie de type « {_shown(kind)} »{where} : Polygon ou MultiPolygon attendu.",
        )
        return None, 0
    before = len(out.issues) + out.dropped
    if kind == "Polygon":
        rings, count = _polygon(coordinates, f"{path}.coordinates", where, out)
        result = {"type": "Polygon", "coordinates": rings}
    else:
        polygons, count = [], 0
        if not isinstance(coordinates, list) or not coordinates:
            out.add(f"{path}.coordinates", f"Un MultiPolygon contient au moins un polygone{where}.")
        else:
            for n, polygon in enumerate(coordinates):
                rings, counted = _polygon(polygon, f"{path}.coordinates[{n}]", where, out)
                polygons.append(rings)
                count += counted
        result = {"type": "MultiPolygon", "coordinates": polygons}
    if len(out.issues) + out.dropped > before:
        return None, count
    return result, count


def _polygon(rings: Any, path: str, where: str, out: _Collector) -> tuple[list, int]:
    if not isinstance(rings, list) or not rings:
        out.add(path, f"Un polygone est une liste d'anneaux, le contour extérieur d'abord{where}.")
        return [], 0
    result, count = [], 0
    for n, ring in enumerate(rings):
        checked = _ring(ring, f"{path}[{n}]", where, out)
        count += len(checked)
        result.append(checked)
    return result, count


def _ring(ring: Any, path: str, where: str, out: _Collector) -> list:
    """The ring's positions as [lon, lat] rounded; reports the first problem only."""
    if not isinstance(ring, list) or len(ring) < 4:
        size = len(ring) if isinstance(ring, list) else 0
        out.add(
            path,
            f"Un anneau compte au moins 4 positions, la dernière égale à la première "
            f"({size} trouvée{'s' if size > 1 else ''}){where}.",
        )
        return []
    positions = []
    for n, position in enumerate(ring):
        # Fast path for the usual position (NaN and infinities fail the comparisons).
        if (
            type(position) is list
            and len(position) >= 2
            and type(position[0]) in _NUMBERS
            and type(position[1]) in _NUMBERS
            and -180 <= position[0] <= 180
            and -90 <= position[1] <= 90
        ):
            positions.append(
                [round(position[0], COORDINATE_DECIMALS), round(position[1], COORDINATE_DECIMALS)]
            )
            continue
        problem = _position_problem(position)
        if problem:
            out.add(f"{path}[{n}]", f"{problem}{where}.")
            return []
        positions.append(
            [
                round(float(position[0]), COORDINATE_DECIMALS),
                round(float(position[1]), COORDINATE_DECIMALS),
            ]
        )
    if ring[0][:2] != ring[-1][:2]:
        out.add(
            path,
            f"Anneau non fermé : la dernière position {_point(ring[-1])} doit répéter la "
            f"première {_point(ring[0])}{where}.",
        )
        return []
    return positions


def _position_problem(position: Any) -> str | None:
    if not isinstance(position, list) or len(position) < 2:
        return "Une position est une liste [longitude, latitude]"
    lon, lat = position[0], position[1]
    for value in (lon, lat):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"Coordonnée « {_shown(value)} » : un nombre est attendu"
        if not math.isfinite(value):
            return "Coordonnée non finie"
    if abs(lon) > 180 or abs(lat) > 90:
        projected = abs(lon) > 1000 or abs(lat) > 1000
        hint = (
            " : les coordonnées semblent projetées (Lambert 93 ?), exportez le fichier en "
            "WGS84 (EPSG:4326)"
            if projected
            else ""
        )
        return (
            f"Position {_point(position)} hors des bornes (longitude entre −180 et 180, "
            f"latitude entre −90 et 90){hint}"
        )
    return None


def _check_extent(geometries: dict[str, dict], first_index: dict[str, int], out: _Collector):
    """Refuse a file whose communes lie far apart: a mix of systems, swapped axes, or a
    commune placed at (0, 0), which would shrink the rest of the map to a dot."""
    if len(geometries) < 2:
        return
    centres = {insee: _centre(geometry) for insee, geometry in geometries.items()}
    lons = sorted(c[0] for c in centres.values())
    lats = sorted(c[1] for c in centres.values())
    median = (lons[len(lons) // 2], lats[len(lats) // 2])
    for insee, (lon, lat) in centres.items():
        if max(abs(lon - median[0]), abs(lat - median[1])) > MAX_EXTENT_DEGREES:
            out.add(
                f"features[{first_index[insee]}].geometry",
                f"La commune {insee} est à plus de {MAX_EXTENT_DEGREES:g}° des autres "
                f"(centre {_point([lon, lat])}) : vérifiez ses coordonnées (WGS84, "
                "longitude puis latitude).",
            )


def _centre(geometry: dict) -> tuple[float, float]:
    polygons = (
        [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    )
    outer = [position for polygon in polygons for position in polygon[0]]
    lons = [p[0] for p in outer]
    lats = [p[1] for p in outer]
    return (min(lons) + max(lons)) / 2, (min(lats) + max(lats)) / 2


def _accepted() -> str:
    return ", ".join(f"« {name} »" for name in INSEE_PROPERTIES)


def _point(position: Any) -> str:
    try:
        return f"[{position[0]:g}, {position[1]:g}]"
    except (TypeError, ValueError, IndexError, KeyError):
        return _shown(position)


def _shown(value: Any, limit: int = 40) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _size(count: int) -> str:
    if count >= 1024 * 1024:
        return f"{count / 1024 / 1024:.1f} Mo".replace(".", ",")
    return f"{math.ceil(count / 1024)} Ko"
