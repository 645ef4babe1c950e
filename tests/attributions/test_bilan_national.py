"""The national path: every conference's bilan by one SQL query (`bilan_data.national_bilans`)
equals the per-conference pandas path (`bilan_data.compute`), and `manage.py bilan_national`."""

import datetime
import io
import json
import os
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes.exceptions import ScopeError

from attributions import bilan_data, services
from attributions.indicators import bilan
from attributions.models import Attribution, Q1Threshold, RuleRates
from cil.models import College, Commune, Conference, Membership, OrganisationType
from cil.tenancy import conference_scope, unscoped
from conventions.models import (
    CAPACITY_OF_TYPE,
    CAPACITY_RANK,
    BailleurObjective,
    Convention,
    ConventionVersion,
    ReservataireObjective,
    Signatory,
    VersionKind,
    VersionStatus,
)
from tests.attributions.factories import row, territory
from tests.factories import ConferenceFactory, OrganisationFactory, next_siren

pytestmark = pytest.mark.django_db


def save(world, *rows):
    conference = world["conference"]
    with conference_scope(conference):
        for raw in rows:
            services.attribution_save(conference=conference, actor=None, raw=raw)


@pytest.fixture
def platform():
    """Three conferences sharing INSEE codes (76540 with the QPV QN07601M, 76541 without):

    - « nord »: varied 2025 rows (incomes at the threshold, unknown, zero, given per UC;
      NPNRU outside and inside QPV; DALO; mutations; réservataires with and without SIREN), a
      2024 row, adapted 2025 rates, a member bailleur without attributions, a former member
      with attributions, a commune without attributions;
    - « sud »: another threshold, the 2025 one not published yet (2024's applies
      provisionally), the same SIRENs of réservataires as « nord » under other codes;
    - « vide »: members and communes, no attribution, no threshold at all.

    And a CIA in force in « nord » and « sud » (`in_force_cia`): objectives of bailleurs and
    of réservataires, the same commune (same SIREN) with another objective in each, a second
    commune signing in « nord » (its lines without SIREN then keep the rate), a draft
    avenant in « sud » that must not count.
    """
    nord = territory(ConferenceFactory(slug="nord"))
    h1, h2 = nord["bailleurs"]
    commune_siren, departement_siren = next_siren(), next_siren()
    save(
        nord,
        # 14,814 € for 1.5 UC = 9,876 € per UC: at the threshold, not Q1.
        row(h1, reference="N1", nb_personnes="2", revenu_annuel="14814"),
        # Q1, Action Logement, DALO (hence prioritaire), lease on 1 January.
        row(
            h1,
            reference="N2",
            nb_personnes="1",
            revenu_annuel="9000",
            date_signature_bail="2025-01-01",
            reservataire="action_logement",
            dalo="oui",
        ),
        # In QPV, income unknown: non classable. The commune's contingent, SIREN given.
        row(
            h1,
            reference="N3",
            commune_insee="76540",
            qpv_code="QN07601M",
            revenu_annuel="",
            reservataire="commune",
            reservataire_siren=commune_siren,
        ),
        # In QPV, not Q1, a mutation; the commune's contingent without SIREN.
        row(
            h1,
            reference="N4",
            commune_insee="76540",
            qpv_code="QN07601M",
            nb_personnes="1",
            revenu_annuel="20000",
            reservataire="commune",
            mutation="oui",
        ),
        # NPNRU outside QPV (in a QPV commune), income unknown: in R1's numerator anyway.
        row(
            h1,
            reference="N5",
            commune_insee="76540",
            revenu_annuel="",
            relogement_npnru="oui",
            prioritaire="oui",
        ),
        # NPNRU outside QPV, not Q1; NPNRU in QPV, Q1 (not in R1: R1 is outside QPV).
        row(h1, reference="N6", revenu_annuel="50000", relogement_npnru="oui"),
        row(
            h1,
            reference="N7",
            commune_insee="76540",
            qpv_code="QN07601M",
            revenu_annuel="1000",
            relogement_npnru="oui",
            reservataire="etat_prioritaires",
            prioritaire="oui",
        ),
        # Income per UC given by the bailleur (no annual income): known, Q1.
        row(
            h2,
            reference="N8",
            revenu_annuel="",
            revenu_par_uc="5000",
            reservataire="etat_prioritaires",
            prioritaire="oui",
        ),
        # Zero income: known, Q1. The département's contingent, SIREN given.
        row(
            h2,
            reference="N9",
            revenu_annuel="0",
            reservataire="departement",
            reservataire_siren=departement_siren,
            dalo="oui",
        ),
        # Signed on 31 December 2024: counts in 2024 only.
        row(h1, reference="N10", date_signature_bail="2024-12-31", revenu_annuel="5000"),
    )
    h3 = OrganisationFactory(name="Habitat 3 (sans attribution)")
    with conference_scope(nord["conference"]):
        Membership.objects.create(
            conference=nord["conference"], organisation=h3, college=College.PROFESSIONNELS
        )
        Commune.objects.create(conference=nord["conference"], insee="76542", name="Sansville")
        RuleRates.objects.create(
            conference=nord["conference"],
            year=2025,
            target_r1=Decimal("0.30"),
            target_r2=Decimal("0.40"),
            target_r3=Decimal("0.20"),
        )
        # Habitat 2 leaves the conference: its 2025 attributions still count.
        Membership.objects.filter(organisation=h2).delete()

    sud = territory(ConferenceFactory(slug="sud"), threshold=Decimal("8000.00"))
    with conference_scope(sud["conference"]):
        Q1Threshold.objects.filter(year=2025).delete()
    s1, s2 = sud["bailleurs"]
    save(
        sud,
        row(s1, reference="S1", nb_personnes="1", revenu_annuel="7999.99"),  # Q1 under 8,000
        row(
            s1,
            reference="S2",
            commune_insee="76540",
            qpv_code="QN07601M",
            nb_personnes="1",
            revenu_annuel="8000",  # at the threshold: not Q1, in R2's numerator
            reservataire="commune",
            reservataire_siren=commune_siren,
        ),
        row(s2, reference="S3", reservataire="action_logement", reservataire_siren=""),
        row(
            s2,
            reference="S4",
            reservataire="action_logement",
            reservataire_siren=departement_siren,
            dalo="oui",
        ),
        row(s2, reference="S5", revenu_annuel="", mutation="oui"),
    )

    vide = territory(ConferenceFactory(slug="vide"))
    with conference_scope(vide["conference"]):
        Q1Threshold.objects.all().delete()

    # The réservataires of the lines above, as organisations that sign the CIAs.
    commune = OrganisationFactory(commune=True, siren=commune_siren, name="Ville du Nord")
    departement = OrganisationFactory(type=OrganisationType.DEPARTEMENT, siren=departement_siren)
    action_logement = OrganisationFactory(type=OrganisationType.ACTION_LOGEMENT)
    etat = OrganisationFactory(etat=True)
    voisine = OrganisationFactory(commune=True, name="Ville voisine (sans objectif)")
    in_force_cia(
        nord["conference"],
        bailleurs={(h1, 2025): {"r1": "0.45", "r3": "0.30"}, (h2, 2025): {"r2": "0.60"}},
        reservataires={
            (commune, 2025): "0.40",
            (departement, 2025): "0.35",
            (action_logement, 2025): "0.30",
            (action_logement, 2024): "0.50",
            (etat, 2025): "0.50",
        },
        others=[voisine],
    )
    in_force_cia(
        sud["conference"],
        bailleurs={(s2, 2025): {"r1": "0.33"}},
        reservataires={(commune, 2025): "0.15", (etat, 2025): "0.45"},
        others=[departement, action_logement],
        draft_avenant={(commune, 2025): "0.90"},
    )
    return {"nord": nord, "sud": sud, "vide": vide}


def in_force_cia(conference, *, bailleurs, reservataires, others=(), draft_avenant=None):
    """A CIA 2024–2026 whose initial version is in force, with these objectives ({(bailleur,
    year): {"r1"…: "0.45"}}, {(réservataire, year): "0.40"}) and their organisations as
    signatories (with `others`); `draft_avenant`: réservataire objectives of an avenant in
    draft, effective 2025 (it must not count)."""
    with conference_scope(conference):
        convention = Convention.objects.create(
            conference=conference, title="CIA", start_year=2024, end_year=2026
        )

        def version(number, status, kind):
            return ConventionVersion.objects.create(
                conference=conference,
                convention=convention,
                number=number,
                kind=kind,
                effective_from=datetime.date(2023 + number, 1, 1),
                title=f"Version {number}",
                status=status,
            )

        def sign(version, organisations):
            for organisation in organisations:
                capacity = CAPACITY_OF_TYPE[organisation.type]
                Signatory.objects.create(
                    conference=conference,
                    version=version,
                    organisation=organisation,
                    capacity=capacity,
                    rank=CAPACITY_RANK[capacity],
                )

        initial = version(1, VersionStatus.EN_VIGUEUR, VersionKind.INITIAL)
        organisations = {o for o, _ in bailleurs} | {o for o, _ in reservataires} | set(others)
        sign(initial, sorted(organisations, key=lambda o: o.siren))
        for (bailleur, year), rates in bailleurs.items():
            BailleurObjective.objects.create(
                conference=conference,
                version=initial,
                bailleur=bailleur,
                year=year,
                **{rule: Decimal(rate) for rule, rate in rates.items()},
            )
        for (reservataire, year), rate in reservataires.items():
            ReservataireObjective.objects.create(
                conference=conference,
                version=initial,
                reservataire=reservataire,
                year=year,
                r3=Decimal(rate),
            )
        if draft_avenant:
            avenant = version(2, VersionStatus.BROUILLON, VersionKind.AVENANT)
            sign(avenant, sorted(organisations, key=lambda o: o.siren))
            for (reservataire, year), rate in draft_avenant.items():
                ReservataireObjective.objects.create(
                    conference=conference,
                    version=avenant,
                    reservataire=reservataire,
                    year=year,
                    r3=Decimal(rate),
                )


def all_conferences() -> list[Conference]:
    return list(Conference.objects.order_by("slug"))


@pytest.mark.parametrize("year", [2025, 2024, 2030])
def test_national_equals_each_conferences_own_bilan(platform, year):
    national = bilan_data.national_bilans(year)
    conferences = all_conferences()
    assert list(national) == sorted(c.slug for c in conferences)
    for conference in conferences:
        assert national[conference.slug] == bilan_data.compute(conference, year), conference.slug


def test_the_platform_exercises_what_it_should(platform):
    """The fixture's cases are really there (else the equality above proves little)."""
    national = bilan_data.national_bilans(2025)
    nord, sud, vide = national["nord"], national["sud"], national["vide"]
    assert nord["total"] == {
        "attributions": 9,
        "hors_qpv": 6,  # N1, N2, N5, N6, N8, N9
        "en_qpv": 3,  # N3, N4, N7
        "revenu_inconnu": 2,  # N3, N5 (N8 gave an income per UC)
        "dalo": 2,  # N2, N9
        "prioritaires": 5,  # N2, N5, N7, N8, N9
        "mutations": 1,
        "relogements_npnru": 3,
    }
    # Q1: N2, N8, N9; NPNRU outside QPV: N5 (income unknown), N6 (not Q1).
    assert nord["r1_q1_hors_qpv"] == {
        "numerateur": 5,
        "denominateur": 6,
        "taux": 0.8333,
        "cible": 0.3,
    }
    # N4 only: N3 is non classable, N7 is Q1.
    assert nord["r2_hors_q1_en_qpv"]["numerateur"] == 1
    bailleurs = {b["nom"]: b["attributions"] for b in nord["par_bailleur"]}
    assert bailleurs == {"Habitat 1": 7, "Habitat 2": 2, "Habitat 3 (sans attribution)": 0}
    # The CIA's R3 objectives (nord's rate: 20 %): Action Logement and the State sign alone
    # for their contingent (lines without SIREN are theirs); two communes sign.
    assert [
        (r["reservataire"], r["siren"] is None, r["r3_prioritaires"]["cible"])
        for r in nord["par_reservataire"]
    ] == [
        ("action_logement", True, 0.3),
        ("commune", True, 0.2),
        ("commune", False, 0.4),
        ("departement", False, 0.35),
        ("etat_prioritaires", True, 0.5),
    ]
    targets = {b["nom"]: b["r1_q1_hors_qpv"]["cible"] for b in nord["par_bailleur"]}
    assert targets == {"Habitat 1": 0.45, "Habitat 2": 0.3, "Habitat 3 (sans attribution)": 0.3}
    assert [(c["insee"], c["attributions"]) for c in nord["par_commune"]] == [
        ("76540", 4),  # N3, N4, N5, N7
        ("76541", 5),  # N1, N2, N6, N8, N9
        ("76542", 0),
    ]
    assert sud["seuil_q1"] == 8000.0  # 2024's, provisionally
    assert sud["r2_hors_q1_en_qpv"]["numerateur"] == 1
    # The same commune has sud's objective here, not nord's; the draft avenant's 90 % does not
    # count; Action Logement has no objective in sud; a département SIREN on an Action
    # Logement line is not the département's contingent.
    assert [
        (r["reservataire"], r["siren"] is None, r["r3_prioritaires"]["cible"])
        for r in sud["par_reservataire"]
    ] == [
        ("action_logement", True, 0.25),
        ("action_logement", False, 0.25),
        ("commune", False, 0.15),
    ]
    assert vide["seuil_q1"] is None
    assert vide["total"]["attributions"] == 0
    assert [b["attributions"] for b in vide["par_bailleur"]] == [0, 0]


def test_sql_counts_are_the_tables_of_the_pandas_path(platform):
    """Same nested structure, same numbers: {table: {slug: {key: counts}}}."""
    tables, inputs = bilan_data.national_tables_and_inputs(2025)
    assert set(tables) == set(bilan.TABLES)
    for conference in all_conferences():
        frame = bilan_data.attribution_frame(conference, 2025).assign(conference=conference.slug)
        expected = bilan.count_tables(frame)
        for name in bilan.TABLES:
            got = tables[name].get(conference.slug, {})
            assert got == expected[name].get(conference.slug, {}), (conference.slug, name)
        settings = bilan_data.bilan_inputs(conference, 2025).for_documents()
        assert inputs[conference.slug] == settings


def test_the_sql_counts_are_the_flags_of_bilan():
    assert tuple(bilan_data._COUNTS_SQL) == bilan.COUNTS


def test_cia_objectives_reach_both_paths(platform, monkeypatch):
    """The CIA's objectives are read in one place, for one conference as for all."""
    nord = platform["nord"]["conference"]
    h1 = platform["nord"]["bailleurs"][0]

    def objectives(conference_ids, year):
        return {nord.pk: {(h1.siren, year): {"r1": Decimal("0.45")}}}

    monkeypatch.setattr(bilan_data, "cia_objectives_by_conference", objectives)
    national = bilan_data.national_bilans(2025)["nord"]
    assert national == bilan_data.compute(nord, 2025)
    listed = {b["siren"]: b for b in national["par_bailleur"]}
    assert listed[h1.siren]["r1_q1_hors_qpv"]["cible"] == 0.45


def test_a_handful_of_queries_whatever_the_number_of_conferences(platform):
    with CaptureQueriesContext(connection) as three:
        bilan_data.national_bilans(2025)
    more = territory(ConferenceFactory(slug="zzz"))
    save(more, row(more["bailleurs"][0], reference="Z1"))
    with CaptureQueriesContext(connection) as four:
        documents = bilan_data.national_bilans(2025)
    assert documents["zzz"]["total"]["attributions"] == 1
    assert len(four.captured_queries) == len(three.captured_queries)
    counts = [q["sql"] for q in four.captured_queries if "GROUPING SETS" in q["sql"]]
    assert len(counts) == 1  # ONE query for the counts of every conference
    # The counts, the conferences, thresholds, rates, members, communes, the CIA's objectives
    # of bailleurs and of réservataires; work_mem read, set and put back, and the savepoint
    # statements of the transaction.
    assert len(four.captured_queries) <= 13


def test_work_mem_is_set_for_the_query_only(platform):
    def work_mem():
        with connection.cursor() as cursor:
            cursor.execute("SHOW work_mem")
            return cursor.fetchone()[0]

    before = work_mem()
    bilan_data.national_bilans(2025)
    # Tests run inside a transaction: SET LOCAL would otherwise outlive the function.
    assert work_mem() == before


def test_no_conference_scope_is_left_open(platform):
    bilan_data.national_bilans(2025)
    with pytest.raises(ScopeError):
        Attribution.objects.count()


# --- manage.py bilan_national ------------------------------------------------------------


def test_the_command_prints_every_conferences_bilan(platform):
    out = io.StringIO()
    call_command("bilan_national", year="2025", stdout=out)
    documents = json.loads(out.getvalue())
    assert documents == bilan_data.national_bilans(2025)
    assert list(documents) == sorted(documents)
    # Each document is the one `manage.py bilan` prints for that conference.
    single = io.StringIO()
    call_command("bilan", conference="sud", year="2025", stdout=single)
    assert documents["sud"] == json.loads(single.getvalue())
    assert out.getvalue() == json.dumps(documents, ensure_ascii=False, indent=2) + "\n"


def test_the_command_writes_the_file(platform, tmp_path):
    target = tmp_path / "bilans-2025.json"
    target.write_text("ancien contenu", encoding="utf-8")
    out = io.StringIO()
    call_command("bilan_national", year="2025", output=str(target), stdout=out)
    documents = json.loads(target.read_text(encoding="utf-8"))
    assert documents == bilan_data.national_bilans(2025)
    with unscoped():
        count = Conference.objects.count()
    assert out.getvalue() == f"{count} bilans 2025 écrits dans {target}.\n"
    # Every count is shown (no statistical secrecy): readable by its owner only.
    assert oct(target.stat().st_mode & 0o777) == oct(0o600)
    assert [p.name for p in tmp_path.iterdir()] == ["bilans-2025.json"]  # no temporary left


def test_command_errors_in_french(platform, tmp_path):
    with pytest.raises(CommandError, match="Année invalide : « 25 »"):
        call_command("bilan_national", year="25", stdout=io.StringIO())
    with pytest.raises(CommandError, match="Dossier introuvable"):
        call_command("bilan_national", year="2025", output=str(tmp_path / "nulle-part" / "b.json"))
    with pytest.raises(CommandError, match="est un dossier"):
        call_command("bilan_national", year="2025", output=str(tmp_path))


@pytest.mark.skipif(os.geteuid() == 0, reason="root écrit partout")
def test_command_error_when_the_folder_is_not_writable(platform, tmp_path):
    locked = tmp_path / "verrouille"
    locked.mkdir(mode=0o500)
    with pytest.raises(CommandError, match="Écriture impossible"):
        call_command("bilan_national", year="2025", output=str(locked / "b.json"))
