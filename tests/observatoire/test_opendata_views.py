"""Open data through HTTP: the secretariat publishes and withdraws (others are refused), the
public reads without an account what is published and nothing else, the files' content
(CSV, JSON, dictionary) and the statistical secrecy of every published count."""

import csv
import io
import json

import pytest
from django.urls import reverse

from attributions import bilan_cache, derivation
from attributions.models import Attribution
from attributions.services import check_row
from cil.models import AuditEntry
from cil.roles import RoleName
from cil.tenancy import conference_scope
from observatoire.models import OpenDataPublication
from observatoire.opendata import catalogue
from tests.attributions.factories import territory
from tests.factories import ConferenceFactory, OrganisationFactory, UserFactory, grant
from tests.observatoire.factories import DemandFactory, DwellingFactory

pytestmark = pytest.mark.django_db

Q1_INCOME = "12000"  # 2 persons (1.5 UC): 8,000 € per UC, under the 9,876 € threshold
OTHER_INCOME = "30000"


def _attributions(place, bailleur, n, *, commune, qpv="", income=Q1_INCOME, dalo=False):
    conference = place["conference"]
    reference = derivation.load_reference(conference)
    start = Attribution.objects.count()
    for i in range(n):
        raw = {
            "reference": f"A-{start + i:05d}",
            "bailleur_siren": bailleur.siren,
            "date_signature_bail": "2025-03-14",
            "commune_insee": commune,
            "qpv_code": qpv,
            "reservataire": "non_reserve",
            "nb_personnes": "2",
            "revenu_annuel": income,
            "dalo": "oui" if dalo else "non",
        }
        Attribution.objects.create(
            conference=conference, **check_row(raw, conference=conference, reference=reference)
        )


@pytest.fixture
def place():
    """Exempleville (76540, QPV QN07601M): 40 attributions outside QPV (20 Q1), 30 in QPV
    (12 Q1, 18 not Q1 of which 5 DALO); Autreville (76541): 5, all Q1 — a secret count.
    Active demands and RPLS dwellings of 2025. A user per role."""
    place = territory()
    conference, bailleur = place["conference"], place["bailleurs"][0]
    with conference_scope(conference):
        _attributions(place, bailleur, 20, commune="76540")
        _attributions(place, bailleur, 20, commune="76540", income=OTHER_INCOME)
        _attributions(place, bailleur, 12, commune="76540", qpv="QN07601M")
        _attributions(place, bailleur, 13, commune="76540", qpv="QN07601M", income=OTHER_INCOME)
        _attributions(
            place, bailleur, 5, commune="76540", qpv="QN07601M", income=OTHER_INCOME, dalo=True
        )
        _attributions(place, bailleur, 5, commune="76541")
        for _ in range(30):
            DemandFactory(conference=conference, commune_insee="76540", typologie="T2")
        for _ in range(4):
            DemandFactory(conference=conference, commune_insee="76540", typologie="T3")
        for _ in range(12):
            DemandFactory(conference=conference, commune_insee="76541", typologie="T2")
        for _ in range(3):
            DwellingFactory(conference=conference)
    place["users"] = {}
    for role in RoleName:
        user = UserFactory(organisation=OrganisationFactory(epci=role == RoleName.SECRETARIAT))
        grant(user, conference, role)
        place["users"][role] = user
    return place


def _url(name, conference, **kwargs):
    return reverse(name, kwargs={"conference_slug": conference.slug, **kwargs})


def _publish(conference, dataset, year=2025):
    from observatoire.opendata.services import publication_publish

    with conference_scope(conference):
        return publication_publish(conference=conference, actor=None, dataset=dataset, year=year)


def _csv(response) -> list[dict]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:]), delimiter=";"))


# --- The secretariat -------------------------------------------------------------------------


def test_secretariat_publishes_then_withdraws_with_audit(client, place):
    conference = place["conference"]
    secretariat = place["users"][RoleName.SECRETARIAT]
    client.force_login(secretariat)
    file_url = _url(
        "opendata_file", conference, dataset="attributions-communes", year=2025, fmt="csv"
    )
    assert client.get(file_url).status_code == 404

    kwargs = {"dataset": "attributions-communes", "year": 2025}
    response = client.post(_url("opendata_publish", conference, **kwargs))
    assert response.status_code == 302
    with conference_scope(conference):
        publication = OpenDataPublication.objects.get()
        assert (publication.dataset, publication.year) == ("attributions-communes", 2025)
        assert publication.published_by == secretariat
        entry = AuditEntry.objects.get(action="create")
        assert entry.actor == secretariat
        assert "Attributions de logements sociaux par commune (2025)" in entry.object_repr
    client.logout()
    assert client.get(file_url).status_code == 200

    client.force_login(secretariat)
    page = client.get(_url("opendata_manage", conference)).content.decode()
    assert "publié le" in page
    assert "Retirer" in page
    response = client.post(_url("opendata_withdraw", conference, **kwargs))
    assert response.status_code == 302
    with conference_scope(conference):
        assert not OpenDataPublication.objects.exists()
        assert AuditEntry.objects.filter(action="delete").count() == 1
    client.logout()
    assert client.get(file_url).status_code == 404


@pytest.mark.parametrize("role", [r for r in RoleName if r != RoleName.SECRETARIAT])
def test_only_the_secretariat_chooses(client, place, role):
    conference = place["conference"]
    client.force_login(place["users"][role])
    kwargs = {"dataset": "attributions-communes", "year": 2025}
    assert client.get(_url("opendata_manage", conference)).status_code == 403
    assert client.get(_url("opendata_preview", conference, **kwargs)).status_code == 403
    assert client.post(_url("opendata_publish", conference, **kwargs)).status_code == 403
    _publish(conference, "attributions-communes")
    assert client.post(_url("opendata_withdraw", conference, **kwargs)).status_code == 403
    with conference_scope(conference):
        assert OpenDataPublication.objects.count() == 1
        assert not AuditEntry.objects.filter(action="delete").exists()


def test_another_conference_secretariat_gets_404(client, place):
    other = territory(ConferenceFactory())
    secretariat = UserFactory(organisation=OrganisationFactory(epci=True))
    grant(secretariat, other["conference"], RoleName.SECRETARIAT)
    client.force_login(secretariat)
    conference = place["conference"]
    kwargs = {"dataset": "attributions-communes", "year": 2025}
    assert client.post(_url("opendata_publish", conference, **kwargs)).status_code == 404
    assert client.get(_url("opendata_manage", conference)).status_code == 404
    with conference_scope(conference):
        assert not OpenDataPublication.objects.exists()


def test_nothing_to_publish_is_refused_in_french(client, place):
    conference = place["conference"]
    client.force_login(place["users"][RoleName.SECRETARIAT])
    response = client.post(
        _url("opendata_publish", conference, dataset="attributions-communes", year=2019),
        follow=True,
    )
    assert "Aucune donnée 2019 pour « Attributions de logements sociaux par commune »" in (
        response.content.decode()
    )
    _publish(conference, "attributions-communes")
    response = client.post(
        _url("opendata_publish", conference, dataset="attributions-communes", year=2025),
        follow=True,
    )
    assert "est déjà publié pour 2025" in response.content.decode()
    unknown = client.post(_url("opendata_publish", conference, dataset="inconnu", year=2025))
    assert unknown.status_code == 404
    with conference_scope(conference):
        assert OpenDataPublication.objects.count() == 1


def test_preview_shows_exactly_the_public_table(client, place):
    conference = place["conference"]
    client.force_login(place["users"][RoleName.SECRETARIAT])
    kwargs = {"dataset": "attributions-communes", "year": 2025}
    preview = client.get(_url("opendata_preview", conference, **kwargs)).content.decode()
    assert "voici exactement ce que verra le public" in preview
    _publish(conference, "attributions-communes")
    client.logout()
    rows = _csv(client.get(_url("opendata_file", conference, fmt="csv", **kwargs)))
    autreville = next(row for row in rows if row["code_insee"] == "76541")
    assert autreville["attributions"] == "s"
    assert '<abbr title="secret statistique">s</abbr>' in preview
    # The same cells are secret in the preview and in the file: one « s » per secret cell.
    secret_cells = sum(value == "s" for row in rows for value in row.values())
    assert preview.count('<abbr title="secret statistique">s</abbr>') == secret_cells


# --- Public ------------------------------------------------------------------------------------


def test_public_page_lists_what_is_published_for_anyone(client, place):
    conference = place["conference"]
    empty = client.get(_url("opendata_public", conference)).content.decode()
    assert "aucun jeu de données" in empty
    _publish(conference, "attributions-communes")
    response = client.get(_url("opendata_public", conference))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Attributions de logements sociaux par commune" in page
    assert "Licence Ouverte / Open Licence version 2.0" in page
    assert "Etalab 2.0" in page
    assert "part_q1_hors_qpv" in page  # the data dictionary
    assert "Demandes de logement social actives" not in page  # not published
    assert "max-age=300" in response["Cache-Control"]
    # A member sees the same page (no membership needed, none used).
    client.force_login(place["users"][RoleName.MEMBRE])
    assert "part_q1_hors_qpv" in client.get(_url("opendata_public", conference)).content.decode()


def test_unpublished_unknown_and_other_conference_files_are_404(client, place):
    conference = place["conference"]
    territory(ConferenceFactory(slug="autre-conference"))
    _publish(conference, "attributions-communes")

    def status(slug, **kwargs):
        return client.get(reverse("opendata_file", kwargs={"conference_slug": slug, **kwargs}))

    ok = {"dataset": "attributions-communes", "year": 2025}
    assert status(conference.slug, fmt="csv", **ok).status_code == 200
    assert status(conference.slug, fmt="xlsx", **ok).status_code == 404
    assert (
        status(conference.slug, fmt="csv", dataset="attributions-qpv", year=2025).status_code == 404
    )
    assert (
        status(conference.slug, fmt="csv", dataset="attributions-communes", year=2024).status_code
        == 404
    )
    assert status(conference.slug, fmt="csv", dataset="inconnu", year=2025).status_code == 404
    # The other conference published nothing: its URLs answer 404, even for a year this one
    # published.
    assert status("autre-conference", fmt="csv", **ok).status_code == 404
    assert status("conference-inexistante", fmt="csv", **ok).status_code == 404
    assert client.get("/conference-inexistante/donnees-ouvertes/").status_code == 404
    dictionary = reverse(
        "opendata_dictionary",
        kwargs={
            "conference_slug": "autre-conference",
            "dataset": "attributions-communes",
            "fmt": "csv",
        },
    )
    assert client.get(dictionary).status_code == 404


def test_csv_file(client, place):
    conference = place["conference"]
    _publish(conference, "attributions-communes")
    response = client.get(
        _url("opendata_file", conference, dataset="attributions-communes", year=2025, fmt="csv")
    )
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "public" in response["Cache-Control"]
    text = response.content.decode("utf-8")
    header = text[1:].split("\r\n")[0].split(";")
    assert header == [c.key for c in catalogue.get("attributions-communes").columns]
    rows = _csv(response)
    assert [row["code_insee"] for row in rows] == ["76540", "76541", ""]
    total = rows[-1]
    assert total["niveau"] == "ensemble"
    assert total["attributions"] == "75"
    assert total["attributions_hors_qpv"] == "45"
    assert total["attributions_en_qpv"] == "30"
    # 25 Q1 of 45 outside QPV; 18 not Q1 of 30 in QPV; 5 DALO of 75: decimal comma.
    assert total["part_q1_hors_qpv"] == "0,5556"
    assert total["part_hors_q1_en_qpv"] == "0,6"
    assert total["part_dalo"] == "s"  # 5 DALO households
    # Autreville's 5 cannot be recomputed as 75 − Exempleville's count.
    assert rows[1]["attributions"] == "s"
    assert rows[0]["attributions"] == "s"
    # An ETag: asked again with it, the file is not sent again.
    again = client.get(
        _url("opendata_file", conference, dataset="attributions-communes", year=2025, fmt="csv"),
        HTTP_IF_NONE_MATCH=response["ETag"],
    )
    assert again.status_code == 304


def test_json_file_and_dictionary(client, place):
    conference = place["conference"]
    publication = _publish(conference, "attributions-communes")
    document = json.loads(
        client.get(
            _url(
                "opendata_file", conference, dataset="attributions-communes", year=2025, fmt="json"
            )
        ).content
    )
    assert document["dataset"] == "attributions-communes"
    assert document["conference"] == conference.slug
    assert document["annee"] == 2025
    assert document["licence"]["identifiant"] == "etalab-2.0"
    assert document["publie_le"] == publication.published_at.isoformat()
    assert [entry["nom"] for entry in document["dictionnaire"]] == [
        c.key for c in catalogue.get("attributions-communes").columns
    ]
    autreville = document["lignes"][1]
    assert autreville["code_insee"] == "76541"
    assert autreville["attributions"] is None
    assert "attributions" in autreville["secret"]
    total = document["lignes"][-1]
    assert total["attributions"] == 75
    assert total["part_q1_hors_qpv"] == 0.5556
    assert total["part_dalo"] is None
    assert total["secret"] == ["part_dalo"]

    dictionary = client.get(
        _url("opendata_dictionary", conference, dataset="attributions-communes", fmt="csv")
    )
    rows = _csv(dictionary)
    assert list(rows[0]) == ["nom", "libelle", "type", "unite", "description", "secret_statistique"]
    share = next(row for row in rows if row["nom"] == "part_dalo")
    assert share == {
        "nom": "part_dalo",
        "libelle": "Part DALO",
        "type": "décimal",
        "unite": "part (de 0 à 1)",
        "description": "Attributions aux ménages DALO / attributions.",
        "secret_statistique": "oui",
    }
    as_json = json.loads(
        client.get(
            _url("opendata_dictionary", conference, dataset="attributions-communes", fmt="json")
        ).content
    )
    assert as_json["dictionnaire"][0]["nom"] == "niveau"
    catalogue_json = json.loads(client.get(_url("opendata_catalogue", conference)).content)
    assert [d["dataset"] for d in catalogue_json["jeux"]] == ["attributions-communes"]
    assert catalogue_json["jeux"][0]["annees"][0]["csv"].endswith(
        "/donnees-ouvertes/attributions-communes/2025.csv"
    )


def test_no_count_under_the_threshold_in_any_public_file(client, place):
    """Every dataset with data, published: no count column shows 1 … 10 in CSV or JSON."""
    conference = place["conference"]
    published = []
    for dataset in catalogue.DATASETS:
        years = dataset.years(conference)
        assert 2025 in years, dataset.key
        _publish(conference, dataset.key)
        published.append(dataset)
    for dataset in published:
        counts = dataset.count_columns
        kwargs = {"dataset": dataset.key, "year": 2025}
        rows = _csv(client.get(_url("opendata_file", conference, fmt="csv", **kwargs)))
        lines = json.loads(
            client.get(_url("opendata_file", conference, fmt="json", **kwargs)).content
        )["lignes"]
        assert len(rows) == len(lines)
        keys = [c.key for c in dataset.columns]
        assert all(list(row) == keys for row in rows)
        assert all(list(line) == [*keys, "secret"] for line in lines)
        for row, line in zip(rows, lines, strict=True):
            for key in counts:
                assert row[key] == "s" or row[key] == "0" or int(row[key]) >= 11, (dataset.key, row)
                assert line[key] is None or line[key] == 0 or line[key] >= 11, (dataset.key, line)
                assert (row[key] == "s") == (key in line["secret"])
    # The RPLS counts are dwellings, public already: no secrecy (3 dwellings shown).
    offer = _csv(
        client.get(
            _url("opendata_file", conference, fmt="csv", dataset="offre-logements", year=2025)
        )
    )
    assert offer[-1]["logements"] == "3"


def test_indicators_are_the_stored_bilan(client, place):
    conference = place["conference"]
    _publish(conference, "indicateurs-attributions")
    document = bilan_cache.get_bilan(conference, 2025)
    lines = json.loads(
        client.get(
            _url(
                "opendata_file",
                conference,
                dataset="indicateurs-attributions",
                year=2025,
                fmt="json",
            )
        ).content
    )["lignes"]
    by_code = {line["indicateur"]: line for line in lines}
    r1, r2 = document["r1_q1_hors_qpv"], document["r2_hors_q1_en_qpv"]
    assert (by_code["r1"]["numerateur"], by_code["r1"]["denominateur"]) == (
        r1["numerateur"],
        r1["denominateur"],
    )
    assert by_code["r1"]["taux"] == r1["taux"]
    assert by_code["r1"]["cible"] == r1["cible"]
    assert (by_code["r2"]["numerateur"], by_code["r2"]["denominateur"]) == (18, 30)
    assert by_code["r2"]["cible"] == r2["cible"]
    assert by_code["r3"]["numerateur"] is None  # 5 priority (DALO) households: secret
    assert by_code["r3"]["denominateur"] == document["total"]["attributions"]
