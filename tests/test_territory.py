"""The `territoire` v1 contract (shared/formats.md): cil/territory.py and load_territory."""

import copy
import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from attributions.models import Q1Threshold, RuleRates
from cil.models import (
    AuditAction,
    AuditEntry,
    College,
    Commune,
    Conference,
    Membership,
    Organisation,
    Qpv,
)
from cil.tenancy import conference_scope
from cil.territory import TerritoryError, load_territory
from tests.factories import ConferenceFactory, OrganisationFactory, UserFactory

# The example of shared/formats.md, as published.
EXAMPLE = {
    "format": "territoire/v1",
    "conference": {
        "slug": "agglo-exemple",
        "nom": "Conférence intercommunale du logement de l'Agglo Exemple",
        "epci_siren": "200000008",
    },
    "communes": [{"insee": "76540", "nom": "Exempleville"}],
    "qpv": [
        {
            "code": "QN07601M",
            "nom": "Quartier des Tilleuls",
            "communes": ["76540"],
            "annees": [2024, 2025],
        }
    ],
    "organisations": [
        {"siren": "123456782", "nom": "Habitat Exemple", "type": "bailleur", "college": 2},
        {"siren": "130000003", "nom": "Préfecture", "type": "etat", "college": 1},
    ],
    "annees": [
        {
            "annee": 2025,
            "seuil_q1": 9876.0,
            "source_seuil": "arrêté du …",
            "cible_r1": 0.25,
            "cible_r2": 0.5,
            "cible_r3": 0.25,
        }
    ],
}


@pytest.fixture
def example():
    return copy.deepcopy(EXAMPLE)


def run_command(tmp_path, data, *args, bom=False):
    path = tmp_path / "territoire.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8-sig" if bom else "utf-8")
    out, err = StringIO(), StringIO()
    call_command("load_territory", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def table_sizes(conference) -> dict:
    with conference_scope(conference):
        return {
            "communes": Commune.objects.count(),
            "qpv": Qpv.objects.count(),
            "qpv_years": sum(qpv.years.count() for qpv in Qpv.objects.all()),
            "members": Membership.objects.count(),
            "thresholds": Q1Threshold.objects.count(),
            "rates": RuleRates.objects.count(),
            "audit": AuditEntry.objects.count(),
            "organisations": Organisation.objects.count(),
        }


@pytest.mark.django_db
def test_the_formats_example_creates_the_conference_and_its_territory(tmp_path, example):
    out, err = run_command(tmp_path, example, bom=True)

    assert err == ""
    assert "conférence « agglo-exemple » : créée" in out
    assert "communes : 1 créée" in out
    conference = Conference.objects.get(slug="agglo-exemple")
    assert conference.name == "Conférence intercommunale du logement de l'Agglo Exemple"
    assert conference.epci_siren == "200000008"
    with conference_scope(conference):
        assert list(Commune.objects.values_list("insee", "name")) == [("76540", "Exempleville")]
        qpv = Qpv.objects.get()
        assert (qpv.code, qpv.name) == ("QN07601M", "Quartier des Tilleuls")
        assert [commune.insee for commune in qpv.communes.all()] == ["76540"]
        assert [row.year for row in qpv.years.all()] == [2024, 2025]
        colleges = dict(Membership.objects.values_list("organisation__siren", "college"))
        assert colleges == {"123456782": College.PROFESSIONNELS, "130000003": College.COLLECTIVITES}
        threshold = Q1Threshold.objects.get()
        assert (threshold.year, threshold.value) == (2025, Decimal("9876.00"))
        assert threshold.source == "arrêté du …"
        rates = RuleRates.objects.get()
        assert (rates.year, rates.target_r1, rates.target_r2, rates.target_r3) == (
            2025,
            Decimal("0.25"),
            Decimal("0.5"),
            Decimal("0.25"),
        )
        assert AuditEntry.objects.filter(action=AuditAction.IMPORT).count() == 1
    assert Organisation.objects.get(siren="123456782").name == "Habitat Exemple"


@pytest.mark.django_db
def test_loading_the_same_file_twice_changes_nothing(tmp_path, example):
    run_command(tmp_path, example)
    conference = Conference.objects.get(slug="agglo-exemple")
    before = table_sizes(conference)
    updated_at = conference.updated_at

    out, _ = run_command(tmp_path, example)

    assert table_sizes(conference) == before
    conference.refresh_from_db()
    assert conference.updated_at == updated_at
    assert "conférence « agglo-exemple » : inchangée" in out
    assert "communes : 0 créée, 0 modifiée, 1 inchangée" in out
    assert "QPV : 0 créé, 0 modifié, 1 inchangé" in out
    assert "organisations : 0 créée, 2 déjà connues" in out
    assert "membres : 0 créé, 0 modifié, 2 inchangés" in out
    assert "seuils Q1 : 0 créé, 0 modifié, 1 inchangé" in out
    assert "taux des règles : 0 créé, 0 modifié, 1 inchangé" in out
    report = load_territory(example)
    assert not report.changed


@pytest.mark.django_db
def test_every_error_is_reported_with_its_path_and_nothing_is_written(tmp_path, example):
    example["format"] = "territoire/v2"
    example["organisations"][0]["siren"] = "123456789"  # wrong Luhn key
    example["organisations"][1]["college"] = 4
    example["communes"].append({"insee": "7654", "nom": "Trop-Court"})
    example["qpv"][0]["communes"].append("76999")
    example["annees"][0]["seuil"] = 9000

    with pytest.raises(TerritoryError) as caught:
        load_territory(example)
    errors = dict(caught.value.errors)
    assert list(errors) == [
        "$.format",
        "$.communes[1].insee",
        "$.qpv[0].communes[1]",
        "$.organisations[0].siren",
        "$.organisations[1].college",
        "$.annees[0]",
    ]
    assert "territoire/v1" in errors["$.format"]
    assert errors["$.communes[1].insee"].startswith("Code INSEE invalide : « 7654 »")
    assert errors["$.qpv[0].communes[1]"] == "Commune « 76999 » absente de $.communes."
    assert "clé de contrôle" in errors["$.organisations[0].siren"]
    assert "« 4 »" in errors["$.organisations[1].college"]
    assert "« seuil »" in errors["$.annees[0]"]

    with pytest.raises(CommandError, match="6 erreur"):
        run_command(tmp_path, example)
    assert not Conference.objects.exists()
    assert not Organisation.objects.exists()


@pytest.mark.django_db
def test_the_command_writes_each_error_on_stderr(tmp_path, example):
    example["communes"][0]["insee"] = "7654"
    path = tmp_path / "territoire.json"
    path.write_text(json.dumps(example), encoding="utf-8")
    err = StringIO()

    with pytest.raises(CommandError):
        call_command("load_territory", str(path), stdout=StringIO(), stderr=err)

    lines = err.getvalue().splitlines()
    assert lines[0].startswith("$.communes[0].insee : Code INSEE invalide : « 7654 »")
    assert lines[1] == "$.qpv[0].communes[0] : Commune « 76540 » absente de $.communes."
    assert not Conference.objects.exists()


@pytest.mark.django_db
def test_wrong_types_are_errors_not_exceptions(example):
    example["communes"] = {"insee": "76540"}
    example["qpv"][0]["annees"] = [2025, "2026", True, 1990]
    example["organisations"][0] = "Habitat Exemple"
    example["annees"][0]["cible_r2"] = 1.5
    example["annees"][0]["seuil_q1"] = -3

    with pytest.raises(TerritoryError) as caught:
        load_territory(example)

    paths = [path for path, _ in caught.value.errors]
    assert paths == [
        "$.communes",
        "$.qpv[0].communes[0]",
        "$.qpv[0].annees[1]",
        "$.qpv[0].annees[2]",
        "$.qpv[0].annees[3]",
        "$.organisations[0]",
        "$.annees[0].seuil_q1",
        "$.annees[0].cible_r2",
    ]
    for document in ([], None, "texte", {"format": "territoire/v1"}):
        with pytest.raises(TerritoryError):
            load_territory(document)


@pytest.mark.django_db
def test_an_update_is_applied_and_audited(example):
    user = UserFactory()
    load_territory(example)
    example["communes"][0]["nom"] = "Exempleville-sur-Mer"
    example["qpv"][0]["annees"].append(2026)

    report = load_territory(example, actor=user)

    assert report.counts["communes"]["updated"] == 1
    assert report.counts["qpv"]["updated"] == 1
    assert "communes : 0 créée, 1 modifiée, 0 inchangée" in report.summary()
    with conference_scope(report.conference):
        assert Commune.objects.get().name == "Exempleville-sur-Mer"
        assert [row.year for row in Qpv.objects.get().years.all()] == [2024, 2025, 2026]
        entries = AuditEntry.objects.filter(actor=user)
        assert sorted(entries.values_list("object_type", "action")) == [
            ("cil.commune", AuditAction.UPDATE),
            ("cil.conference", AuditAction.IMPORT),
            ("cil.qpv", AuditAction.UPDATE),
        ]
        assert entries.get(object_type="cil.commune").changes == {
            "name": ["Exempleville", "Exempleville-sur-Mer"]
        }
        assert entries.get(object_type="cil.qpv").changes == {
            "annees": [[2024, 2025], [2024, 2025, 2026]]
        }


@pytest.mark.django_db
def test_rows_absent_from_the_file_are_kept(example):
    load_territory(example)
    example["communes"].append({"insee": "76541", "nom": "Autreville"})
    load_territory(example)
    partial = {"format": "territoire/v1", "conference": example["conference"]}

    report = load_territory(partial)

    assert "communes : 0 créée, 0 modifiée, 0 inchangée, 2 absentes du fichier, conservées" in (
        report.summary()
    )
    assert "membres : 0 créé, 0 modifié, 0 inchangé, 2 absents du fichier, conservés" in (
        report.summary()
    )
    with conference_scope(report.conference):
        assert Commune.objects.count() == 2
        assert Membership.objects.count() == 2
        assert Q1Threshold.objects.count() == 1


@pytest.mark.django_db
def test_missing_rates_take_the_legal_defaults(example):
    example["annees"] = [{"annee": 2026}]

    report = load_territory(example)

    with conference_scope(report.conference):
        rates = RuleRates.objects.get(year=2026)
        assert (rates.target_r1, rates.target_r2, rates.target_r3) == (
            Decimal("0.25"),
            Decimal("0.50"),
            Decimal("0.25"),
        )
        assert not Q1Threshold.objects.exists()


@pytest.mark.django_db
def test_a_file_for_another_conference_is_refused(tmp_path, example):
    with pytest.raises(TerritoryError) as caught:
        load_territory(example, expected_slug="autre-conference")
    assert caught.value.errors == [
        (
            "$.conference.slug",
            "Ce fichier décrit la conférence « agglo-exemple », pas « autre-conference ».",
        )
    ]

    with pytest.raises(CommandError):
        run_command(tmp_path, example, "--conference", "autre-conference")
    assert not Conference.objects.exists()


@pytest.mark.django_db
def test_an_epci_already_holding_a_conference_is_refused(example):
    ConferenceFactory(slug="deja-la", epci_siren="200000008")

    with pytest.raises(TerritoryError) as caught:
        load_territory(example)

    assert caught.value.errors == [
        ("$.conference.epci_siren", "Cet EPCI a déjà sa conférence : « deja-la »."),
    ]
    assert not Conference.objects.filter(slug="agglo-exemple").exists()


@pytest.mark.django_db
def test_an_organisation_of_another_conference_is_reused_not_renamed(example):
    other = ConferenceFactory()
    bailleur = OrganisationFactory(siren="123456782", name="Habitat Exemple SA d'HLM")
    with conference_scope(other):
        Membership.objects.create(
            conference=other, organisation=bailleur, college=College.PROFESSIONNELS
        )

    report = load_territory(example)

    assert report.counts["organisations"] == {"existing": 1, "created": 1}
    bailleur.refresh_from_db()
    assert bailleur.name == "Habitat Exemple SA d'HLM"
    assert Organisation.objects.filter(siren="123456782").count() == 1
    with conference_scope(report.conference):
        assert Membership.objects.filter(organisation=bailleur).exists()
    with conference_scope(other):
        assert Membership.objects.filter(organisation=bailleur).exists()


@pytest.mark.django_db
def test_a_college_change_goes_through_the_membership_service(example):
    load_territory(example)
    example["organisations"][1]["college"] = 2

    report = load_territory(example)

    assert report.counts["membres"]["updated"] == 1
    with conference_scope(report.conference):
        membership = Membership.objects.get(organisation__siren="130000003")
        assert membership.college == College.PROFESSIONNELS
        assert AuditEntry.objects.filter(
            object_type="cil.membership", action=AuditAction.UPDATE
        ).exists()
