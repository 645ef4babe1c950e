"""The open-data tables (`observatoire.opendata.tables`, `tables_demand`): counts with the
bilan's definitions, every table about the same households protected together, rates on a
hidden count hidden, the segregation units grouped. Hand-made frames, then a property on
random attributions of a small territory."""

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from attributions.indicators.secrecy import TOTAL
from observatoire.opendata import tables, tables_demand
from observatoire.opendata.book import Book
from tests.observatoire.test_opendata_secrecy import check_publication

# Exempleville (76540) holds QPV QN07601M; Autreville (76541) and Troisville (76542) share
# QPV QN07602M; Quatreville (76543) has none.
COMMUNES = ["76540", "76541", "76542", "76543"]
QPV_COMMUNES = {"QN07601M": ["76540"], "QN07602M": ["76541", "76542"]}


def group(commune, n, *, qpv="", q1=None, dalo=False, npnru=False, mutation=False):
    return {
        "commune_insee": commune,
        "qpv_code": qpv,
        "in_qpv": bool(qpv),
        "is_q1": q1,
        "income_known": q1 is not None,
        "dalo": dalo,
        "prioritaire": dalo,
        "relogement_npnru": npnru,
        "mutation": mutation,
        "reservataire": "non_reserve",
        "n": n,
    }


def frame(*rows) -> pd.DataFrame:
    result = pd.DataFrame(list(rows), columns=[*tables.ATTRIBUTION_GROUPS, "n"])
    result["is_q1"] = result["is_q1"].astype("boolean")
    return result


def test_counts_follow_the_bilan_definitions():
    groups = frame(
        group("76540", 20, q1=True),
        group("76540", 4, q1=None, npnru=True),  # R1: rehoused, income unknown, counts
        group("76540", 6, q1=None),  # income unknown: in no numerator
        group("76540", 15, qpv="QN07601M", q1=False, dalo=True),
        group("76540", 12, qpv="QN07601M", q1=True, mutation=True),
    )
    cells, _equations, _balances = tables.attribution_cells(
        groups, communes=COMMUNES, qpv_communes=QPV_COMMUNES
    )
    row = {
        column: cells[("commune", "76540", column)]
        for column in tables._columns(tables.COMMUNE_ROW)
    }
    assert row == {
        "attributions": 57,
        "hors_qpv": 30,
        "en_qpv": 27,
        "r1": 24,  # 20 Q1 + 4 rehoused
        "hors_qpv_autres": 6,
        "r2": 15,
        "en_qpv_autres": 12,
        "dalo": 15,
        "non_dalo": 42,
    }
    assert cells[("qpv", "QN07601M", "attributions")] == 27
    assert cells[("qpv", "QN07602M", "attributions")] == 0  # listed, no attribution
    assert cells[("commune", "76543", "attributions")] == 0
    totals = {c: cells[("commune", TOTAL, c)] for c in ("q1", "hors_q1", "revenu_inconnu")}
    assert totals == {"q1": 32, "hors_q1": 15, "revenu_inconnu": 10}
    assert cells[("commune", TOTAL, "mutations")] == 12
    assert cells[("commune", TOTAL, "prioritaires")] == 15


def test_a_qpv_spanning_two_communes_ties_their_counts():
    assert tables.zones(QPV_COMMUNES, COMMUNES) == [
        (["76540"], ["QN07601M"]),
        (["76541", "76542"], ["QN07602M"]),
    ]


def test_tables_of_the_same_households_are_protected_together():
    # Autreville: 7 households in the shared QPV; Troisville: 30. The QPV table would give
    # the QPV's 37 and the communes' table Troisville's 30: Autreville's 7 = 37 − 30.
    groups = frame(
        group("76540", 40, q1=True),
        group("76540", 35, q1=False),
        group("76541", 7, qpv="QN07602M", q1=False),
        group("76541", 50, q1=False),
        group("76542", 30, qpv="QN07602M", q1=False),
        group("76542", 25, q1=True),
        group("76543", 60, q1=False),
    )
    cells, equations, balances = tables.attribution_cells(
        groups, communes=COMMUNES, qpv_communes=QPV_COMMUNES
    )
    book = tables.attribution_book(
        groups, communes=COMMUNES, qpv_communes=QPV_COMMUNES, threshold=11
    )
    check_publication(cells, equations, book.hidden, 11, balances)
    assert book.secret(("commune", "76541", "en_qpv"))
    # Not both the QPV's count and Troisville's « en QPV » count are shown.
    assert book.secret(("qpv", "QN07602M", "attributions")) or book.secret(
        ("commune", "76542", "en_qpv")
    )


def test_a_rate_built_on_a_hidden_count_is_hidden():
    groups = frame(
        group("76540", 3, q1=True),  # 3 Q1 households outside QPV: secret
        group("76540", 40, q1=False),
        group("76541", 30, q1=True),
        group("76541", 45, q1=False),
    )
    book = tables.attribution_book(
        groups, communes=["76540", "76541"], qpv_communes={}, threshold=11
    )
    lines = {line.values["code_insee"]: line for line in tables.commune_lines(book, {})}
    exempleville = lines["76540"]
    assert "part_q1_hors_qpv" in exempleville.secret
    assert exempleville.values["part_q1_hors_qpv"] is None
    # No attribution in QPV: the share is undefined (None), not secret.
    assert exempleville.values["part_hors_q1_en_qpv"] is None
    assert "part_hors_q1_en_qpv" not in exempleville.secret
    # The commune's 43 attributions may be shown; a shown rate has both its counts shown.
    for line in lines.values():
        if "part_q1_hors_qpv" not in line.secret and line.values["part_q1_hors_qpv"] is not None:
            assert "attributions_hors_qpv" not in line.secret


def test_indicators_read_the_totals():
    groups = frame(group("76540", 30, q1=True), group("76540", 90, q1=False, mutation=True))
    book = tables.attribution_book(groups, communes=["76540"], qpv_communes={}, threshold=11)
    lines = {line.values["indicateur"]: line for line in tables.indicator_lines(book, {"r1": 0.25})}
    assert lines["r1"].values == {
        "indicateur": "r1",
        "libelle": "Attributions hors QPV aux ménages du 1er quartile ou relogés NPNRU",
        "numerateur": 30,
        "denominateur": 120,
        "taux": 0.25,
        "cible": 0.25,
    }
    assert lines["mutations"].values["taux"] == 0.75
    assert lines["r3"].values["cible"] is None
    # No DALO household: 0 is shown, it identifies no one.
    assert lines["dalo"].values["numerateur"] == 0


def test_segregation_units_with_a_small_count_are_grouped():
    units = pd.DataFrame(
        {
            "unit": ["QN07601M", "76540 hors QPV", "QN07602M", "76541 hors QPV", "vide"],
            "q1": [30, 12, 4, 20, 0],
            "other": [15, 60, 9, 0, 0],
        }
    )
    # QN07602M (4 and 9) is grouped; alone the group is small, so the smallest unit kept
    # (76541 hors QPV, 20 households) joins it: 24 and 9 — 9 still small, then QN07601M.
    grouped = tables.grouped_units(units, 11)
    assert grouped.to_dict("records") == [
        {"unit": "76540 hors QPV", "q1": 12, "other": 60},
        {"unit": "autres unités", "q1": 54, "other": 24},
    ]


def test_pressure_is_hidden_with_its_counts():
    demands = Book(
        {("demandes", "76540", TOTAL): 8, ("demandes", TOTAL, TOTAL): 120},
        frozenset({("demandes", "76540", TOTAL)}),
    )
    attributions = Book(
        {("commune", "76540", "attributions"): 40, ("commune", TOTAL, "attributions"): 40}
    )
    pressure = pd.DataFrame(
        {"commune_insee": ["76540"], "demands": [8], "attributions": [40], "pressure": [0.2]}
    )
    lines = tables_demand.pressure_lines(demands, attributions, pressure, {"76540": "Exempleville"})
    assert lines[0].values == {
        "niveau": "commune",
        "code_insee": "76540",
        "commune": "Exempleville",
        "demandes_actives": None,
        "attributions": 40,
        "pression": None,
    }
    assert lines[0].secret == {"demandes_actives", "pression"}
    assert lines[1].values["pression"] == 3.0  # 120 / 40


def test_demand_book_is_a_table_with_its_totals():
    counts = pd.DataFrame(
        {
            "commune_insee": ["76540", "76540", "76541", "76541"],
            "typologie": ["T2", "T3", "T2", ""],
            "demands": [40, 5, 30, 12],
        }
    )
    book = tables_demand.demand_book(counts, communes=["76540", "76541"], threshold=11)
    lines = tables_demand.demand_lines(book, {})
    first = lines[0]
    assert first.values["demandes_t3"] is None
    assert "demandes_t3" in first.secret
    assert lines[-1].values["demandes"] == 87
    for line in lines:
        for column, value in line.values.items():
            if column.startswith("demandes"):
                assert value is None or value == 0 or value >= 11


# --- Property: a small territory, random attributions ------------------------------------------

GROUP = st.builds(
    group,
    commune=st.sampled_from(COMMUNES),
    n=st.one_of(st.integers(1, 12), st.integers(1, 60)),
    q1=st.sampled_from([True, False, None]),
    dalo=st.booleans(),
    npnru=st.booleans(),
    mutation=st.booleans(),
).flatmap(
    lambda g: st.sampled_from(
        [g]
        + [
            {**g, "qpv_code": code, "in_qpv": True}
            for code, spanned in QPV_COMMUNES.items()
            if g["commune_insee"] in spanned
        ]
    )
)


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(GROUP, min_size=1, max_size=12), threshold=st.sampled_from([3, 11]))
def test_random_attributions_no_small_count_and_none_recomputable(rows, threshold):
    groups = frame(*rows)
    cells, equations, balances = tables.attribution_cells(
        groups, communes=COMMUNES, qpv_communes=QPV_COMMUNES
    )
    book = tables.attribution_book(
        groups, communes=COMMUNES, qpv_communes=QPV_COMMUNES, threshold=threshold
    )
    check_publication(cells, equations, book.hidden, threshold, balances)
    names = {code: ("QPV", spanned) for code, spanned in QPV_COMMUNES.items()}
    for lines in (
        tables.commune_lines(book, {}),
        tables.qpv_lines(book, names),
        tables.indicator_lines(book, {}),
    ):
        for line in lines:
            for column, value in line.values.items():
                if column in line.secret:
                    assert value is None
                elif isinstance(value, int):
                    assert value == 0 or value >= threshold
