"""The boundaries file: every check of the validator (each bad input with its French
message naming the feature and field), then the secretariat's upload over HTTP (atomic
replace, audit entry, warning for missing communes, nothing written on error)."""

import copy
import itertools

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cil.models import AuditEntry
from cil.roles import RoleName
from cil.tenancy import conference_scope
from observatoire.maps import geojson
from observatoire.models import CommuneBoundary, TerritoryMap
from tests.observatoire.test_map_support import (
    COMMUNES,
    build_territory,
    collection,
    encode,
    feature,
    square,
    three_communes,
)


def parse(data, communes=COMMUNES, **kwargs):
    content = data if isinstance(data, bytes) else encode(data)
    return geojson.parse_boundaries(content, communes=communes, **kwargs)


def issues_of(data, communes=COMMUNES, **kwargs) -> list[geojson.Issue]:
    with pytest.raises(geojson.BoundariesError) as raised:
        parse(data, communes, **kwargs)
    return raised.value.issues


# --- Accepted files --------------------------------------------------------------------------


def test_a_valid_file_gives_each_commune_its_geometry_and_reports_the_missing_ones():
    data = collection(
        feature("76101", square(1.0, 49.4), name="Exempleville"),
        feature("76102", square(1.02, 49.4)),
    )
    parsed = parse(data)
    assert sorted(parsed.geometries) == ["76101", "76102"]
    assert parsed.geometries["76101"] == {"type": "Polygon", "coordinates": [square(1.0, 49.4)]}
    assert parsed.missing == ["76103"]
    assert parsed.names == {"76101": "Exempleville"}
    assert parsed.points == 10  # two rings of five positions


@pytest.mark.parametrize(
    "key", ["code", "insee", "code_insee", "INSEE_COM", "codgeo", "CODE_COMMUNE", "depcom"]
)
def test_the_usual_property_names_of_the_insee_code_are_accepted(key):
    parsed = parse(collection(feature("76101", key=key)))
    assert list(parsed.geometries) == ["76101"]


def test_a_code_written_as_a_number_gets_its_leading_zero_back():
    parsed = parse(collection(feature(1053)), communes={"01053": "Bourg-en-Bresse"})
    assert list(parsed.geometries) == ["01053"]


def test_altitudes_are_dropped_and_a_bom_is_accepted():
    ring = [[*point, 120.0] for point in square(1.0, 49.4)]
    content = "\ufeff".encode() + encode(collection(feature("76101", ring)))
    parsed = parse(content)
    assert parsed.geometries["76101"]["coordinates"][0][0] == [1.0, 49.4]


def test_the_arrondissements_of_paris_are_merged_into_their_commune():
    data = collection(feature("75101", square(2.33, 48.86)), feature("75102", square(2.35, 48.86)))
    parsed = parse(data, communes={"75056": "Paris"})
    assert list(parsed.geometries) == ["75056"]
    assert parsed.geometries["75056"]["type"] == "MultiPolygon"
    assert len(parsed.geometries["75056"]["coordinates"]) == 2


def test_a_multipolygon_is_accepted():
    data = collection(
        {
            "type": "Feature",
            "properties": {"insee": "76101"},
            "geometry": {
                "type": "MultiPolygon",
                "coordinates": [
                    [square(1.0, 49.4)],
                    [square(1.1, 49.4), square(1.105, 49.405, 0.005)],
                ],
            },
        }
    )
    assert parse(data).geometries["76101"]["type"] == "MultiPolygon"


# --- Refused files: one problem each, with its path and its French message -------------------


def _with(change):
    data = collection(feature("76101"), feature("76102", square(1.02, 49.4)))
    change(data)
    return data


def _geometry(data, index=0):
    return data["features"][index]["geometry"]


BAD_FILES = [
    (
        "not json",
        b'{"type": ',
        "$",
        "n'est pas un JSON valide : ligne 1, colonne 10 (valeur attendue).",
    ),
    (
        "nested too deep",
        b"[" * 100_000,
        "$",
        "n'est pas un JSON valide (imbrication trop profonde).",
    ),
    ("not utf-8", b"\xff\xfe{}", "$", "n'est pas encodé en UTF-8"),
    ("NaN", b'{"type": NaN}', "$", "n'est pas un JSON valide"),
    ("a list", [], "$", "Le fichier doit contenir un objet GeoJSON."),
    (
        "a single feature",
        feature("76101"),
        "$.type",
        "une FeatureCollection est attendue (une Feature par commune). Ce fichier ne contient qu'un seul objet",
    ),
    ("no features", collection(), "$.features", "La liste « features » est absente ou vide."),
    (
        "Lambert 93 crs",
        _with(lambda d: d.update(crs={"type": "name", "properties": {"name": "EPSG:2154"}})),
        "$.crs",
        "Système de coordonnées « EPSG:2154 » non pris en charge",
    ),
    (
        "not a feature",
        _with(lambda d: d["features"].__setitem__(0, {"type": "Polygon"})),
        "features[0]",
        "doit être un objet de type Feature",
    ),
    (
        "no properties",
        _with(lambda d: d["features"][0].pop("properties")),
        "features[0].properties",
        "Propriétés absentes : le code INSEE de la commune est attendu dans l'une des propriétés « code_insee »",
    ),
    (
        "no code",
        _with(lambda d: d["features"][0].update(properties={"nom": "Exempleville"})),
        "features[0].properties",
        "Aucun code INSEE trouvé",
    ),
    (
        "malformed code",
        _with(lambda d: d["features"][0].update(properties={"code_insee": "7610"})),
        "features[0].properties.code_insee",
        "« 7610 » : Un code commune INSEE comporte 5 caractères",
    ),
    (
        "commune of no conference of ours",
        _with(lambda d: d["features"][0].update(properties={"code_insee": "76999"})),
        "features[0].properties",
        "Le code INSEE 76999 n'est pas une commune de la conférence.",
    ),
    (
        "duplicate",
        _with(lambda d: d["features"][1].update(properties={"code_insee": "76101"})),
        "features[1].properties",
        "La commune 76101 figure déjà dans features[0] : réunissez ses parties en un seul MultiPolygon.",
    ),
    (
        "a point",
        _with(
            lambda d: d["features"][0].update(geometry={"type": "Point", "coordinates": [1, 49]})
        ),
        "features[0].geometry.type",
        "Géométrie de type « Point » (commune 76101) : Polygon ou MultiPolygon attendu.",
    ),
    (
        "no geometry",
        _with(lambda d: d["features"][0].update(geometry=None)),
        "features[0].geometry",
        "Géométrie absente (commune 76101).",
    ),
    (
        "ring too short",
        _with(lambda d: _geometry(d).update(coordinates=[[[1, 49], [1.1, 49], [1, 49]]])),
        "features[0].geometry.coordinates[0]",
        "Un anneau compte au moins 4 positions, la dernière égale à la première (3 trouvées) (commune 76101).",
    ),
    (
        "ring not closed",
        _with(lambda d: _geometry(d)["coordinates"][0].__setitem__(-1, [1.001, 49.4])),
        "features[0].geometry.coordinates[0]",
        "Anneau non fermé : la dernière position [1.001, 49.4] doit répéter la première [1, 49.4] (commune 76101).",
    ),
    (
        "longitude out of range",
        _with(lambda d: _geometry(d)["coordinates"][0].__setitem__(1, [200.0, 49.4])),
        "features[0].geometry.coordinates[0][1]",
        "Position [200, 49.4] hors des bornes (longitude entre −180 et 180, latitude entre −90 et 90) (commune 76101).",
    ),
    (
        "projected coordinates",
        _with(lambda d: _geometry(d)["coordinates"][0].__setitem__(2, [560000.0, 6920000.0])),
        "features[0].geometry.coordinates[0][2]",
        "les coordonnées semblent projetées (Lambert 93 ?)",
    ),
    (
        "a coordinate as text",
        _with(lambda d: _geometry(d)["coordinates"][0].__setitem__(1, ["1.02", 49.4])),
        "features[0].geometry.coordinates[0][1]",
        "Coordonnée « 1.02 » : un nombre est attendu (commune 76101).",
    ),
    (
        "a coordinate as a boolean",
        _with(lambda d: _geometry(d)["coordinates"][0].__setitem__(1, [True, 49.4])),
        "features[0].geometry.coordinates[0][1]",
        "Coordonnée « True » : un nombre est attendu",
    ),
    (
        "empty multipolygon",
        _with(
            lambda d: d["features"][1].update(geometry={"type": "MultiPolygon", "coordinates": []})
        ),
        "features[1].geometry.coordinates",
        "Un MultiPolygon contient au moins un polygone (commune 76102).",
    ),
    (
        "a commune far from the others",
        _with(lambda d: _geometry(d, 1).update(coordinates=[square(0.0, 0.0)])),
        "features[1].geometry",
        "La commune 76102 est à plus de 5° des autres",
    ),
]


@pytest.mark.parametrize(
    ("content", "path", "message"),
    [case[1:] for case in BAD_FILES],
    ids=[case[0] for case in BAD_FILES],
)
def test_each_bad_input_is_refused_with_its_path_and_message(content, path, message):
    issues = issues_of(copy.deepcopy(content))
    assert len(issues) == 1, issues
    assert issues[0].path == path
    assert message in issues[0].message


def test_a_file_over_the_size_limit_is_refused_before_parsing():
    issues = issues_of(b"x" * 3000, max_bytes=2048)
    assert [i.message for i in issues] == [
        "Le fichier pèse 3 Ko, au-delà de la taille maximale de 2 Ko : simplifiez les contours "
        "avant de l'envoyer."
    ]


def test_every_problem_of_the_file_is_reported_at_once():
    data = collection(
        feature("76999"),
        {"type": "Feature", "properties": {"insee": "76102"}, "geometry": {"type": "Point"}},
    )
    assert [i.path for i in issues_of(data)] == [
        "features[0].properties",
        "features[1].geometry.type",
    ]


def test_the_list_of_problems_is_capped():
    data = collection(*(feature("76999") for _ in range(60)))
    issues = issues_of(data)
    assert len(issues) == geojson.MAX_ISSUES + 1
    assert issues[-1].message == "… et 10 autre(s) erreur(s) non détaillée(s)."


# --- The upload page ---------------------------------------------------------------------------


@pytest.fixture
def territory(db):
    return build_territory()


def _upload(client, territory, content: bytes, role=RoleName.SECRETARIAT):
    client.force_login(territory.users[role])
    url = reverse("observatoire_map_upload", kwargs={"conference_slug": territory.conference.slug})
    return client.post(url, {"file": SimpleUploadedFile("communes.geojson", content)}, follow=True)


def _stored(territory) -> dict:
    with conference_scope(territory.conference):
        return dict(CommuneBoundary.objects.values_list("commune__insee", "geometry"))


def test_the_secretariat_uploads_the_boundaries(client, territory):
    data = collection(feature("76101", name="Exempleville"), feature("76102", square(1.02, 49.4)))
    response = _upload(client, territory, encode(data))
    content = response.content.decode()
    assert response.redirect_chain[-1][0].endswith("/observatoire/carte/")
    assert "Carte du territoire chargée : 2 communes dessinées, 1 absente du fichier." in content
    assert (
        "Communes de la conférence absentes du fichier, non dessinées : Petit-Village (76103)."
        in content
    )
    assert sorted(_stored(territory)) == ["76101", "76102"]
    with conference_scope(territory.conference):
        territory_map = TerritoryMap.objects.get()
        entry = AuditEntry.objects.get(object_type="observatoire.territorymap")
    assert territory_map.filename == "communes.geojson"
    assert territory_map.uploaded_by == territory.users[RoleName.SECRETARIAT]
    assert entry.action == "import"
    assert entry.changes["communes absentes"] == ["76103"]
    assert entry.changes["remplacement"] is False


def test_a_new_file_replaces_the_previous_boundaries(client, territory):
    _upload(client, territory, encode(three_communes()))
    _upload(client, territory, encode(collection(feature("76103", square(1.5, 49.5)))))
    stored = _stored(territory)
    assert list(stored) == ["76103"]
    assert stored["76103"]["coordinates"][0][0] == [1.5, 49.5]
    with conference_scope(territory.conference):
        assert TerritoryMap.objects.count() == 1
        assert AuditEntry.objects.filter(object_type="observatoire.territorymap").count() == 2


def test_a_refused_file_lists_its_errors_and_changes_nothing(client, territory):
    _upload(client, territory, encode(three_communes()))
    before = _stored(territory)
    bad = three_communes()
    bad["features"][2]["geometry"]["coordinates"][0].pop()  # ring no longer closed
    bad["features"][0]["properties"]["code_insee"] = "76999"
    content = _upload(client, territory, encode(bad)).content.decode()
    assert "Le fichier n'a pas été chargé : 2 erreurs" in content
    assert "<code>features[0].properties</code>" in content
    assert "<code>features[2].geometry.coordinates[0]</code> : Anneau non fermé" in content
    assert _stored(territory) == before
    with conference_scope(territory.conference):
        assert AuditEntry.objects.filter(object_type="observatoire.territorymap").count() == 1


def test_a_file_over_the_limit_is_refused(client, territory, settings):
    settings.CIL_MAP_MAX_BYTES = 100
    content = _upload(client, territory, encode(three_communes())).content.decode()
    assert "au-delà de la taille maximale de 1 Ko" in content
    assert _stored(territory) == {}


def test_another_conferences_commune_is_not_ours(client, territory):
    other = build_territory("conf-voisine")
    with conference_scope(other.conference):
        from tests.factories import CommuneFactory

        CommuneFactory(conference=other.conference, insee="76200", name="Voisine")
    content = _upload(client, territory, encode(collection(feature("76200")))).content.decode()
    assert "Le code INSEE 76200 n&#x27;est pas une commune de la conférence." in content
    assert _stored(territory) == {}


@pytest.mark.parametrize(
    "role", [RoleName.ELU, RoleName.BAILLEUR, RoleName.PREFECTURE, RoleName.MEMBRE]
)
def test_only_the_secretariat_may_upload(client, territory, role):
    response = _upload(client, territory, encode(three_communes()), role=role)
    assert response.status_code == 403
    assert _stored(territory) == {}


def test_the_upload_page_documents_the_accepted_properties(client, territory):
    client.force_login(territory.users[RoleName.SECRETARIAT])
    url = reverse("observatoire_map_upload", kwargs={"conference_slug": territory.conference.slug})
    content = client.get(url).content.decode()
    for name in geojson.INSEE_PROPERTIES:
        assert f"<code>{name}</code>" in content
    assert "WGS84" in content
    assert "Aucun fichier importé pour l'instant" in content


def test_the_demo_boundaries_pass_the_validator_and_tile_without_gap_or_overlap():
    from cil.demo import DEMO_CONFERENCES
    from observatoire.demo_map import DEMO_MAPS, demo_file

    names = {demo.slug: demo.communes for demo in DEMO_CONFERENCES}
    for demo in DEMO_MAPS:
        parsed = geojson.parse_boundaries(
            demo_file(demo, names[demo.slug]), communes=names[demo.slug]
        )
        assert sorted(parsed.geometries) == sorted(names[demo.slug])
        assert parsed.missing == []
        # A tiling: every border piece is walked once by each side (no overlap), and each
        # commune shares part of its border with a neighbour (no island, no gap between).
        edges: dict[tuple, str] = {}
        for insee, geometry in parsed.geometries.items():
            ring = [tuple(p) for p in geometry["coordinates"][0]]
            for edge in itertools.pairwise(ring):
                assert edge not in edges, (insee, edge)
                edges[edge] = insee
        for insee in parsed.geometries:
            neighbours = {
                edges[(b, a)]
                for (a, b), owner in edges.items()
                if owner == insee and (b, a) in edges
            }
            assert neighbours - {insee}, insee


def test_the_demo_step_loads_the_boundaries_through_the_service_once(db):
    from cil.demo import DemoContext, load_territories
    from observatoire.demo_map import add_boundaries

    ctx = DemoContext(password="demo")
    load_territories(ctx)
    add_boundaries(ctx)
    add_boundaries(ctx)  # idempotent: the same file is not loaded again
    for slug, expected in (("agglo-val-de-seine", 12), ("cu-littoral-nord", 5)):
        with conference_scope(ctx.conferences[slug]):
            assert CommuneBoundary.objects.count() == expected
            assert TerritoryMap.objects.get().filename == "contours-demonstration.geojson"
            assert AuditEntry.objects.filter(object_type="observatoire.territorymap").count() == 1
