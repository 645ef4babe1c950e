"""Offer and territorial balance on small hand-made frames."""

import numpy as np
import pandas as pd
import pytest

from observatoire.indicators import balance, offer


def dwellings() -> pd.DataFrame:
    """Millésime 2025: 76540 has 3 (2 in QPV QN1), 76541 has 2 (none in QPV); one 2024 row."""
    return pd.DataFrame(
        [
            (2025, "76540", True, "QN1", "T2", "PLUS"),
            (2025, "76540", True, "QN1", "T3", "PLAI"),
            (2025, "76540", False, "", "T2", "PLUS"),
            (2025, "76541", False, "", "T2", "PLS"),
            (2025, "76541", False, "", "T4", "PLUS"),
            (2024, "76541", False, "", "T4", "PLUS"),
        ],
        columns=["millesime", "commune_insee", "in_qpv", "qpv_code", "typologie", "financement"],
    )


def test_offer_by_commune_with_the_share_in_qpv():
    """76540: 3 dwellings, 2 in QPV → 2/3; 76541: 2, 0 in QPV. Shares of the stock 3/5, 2/5."""
    stock = offer.of_millesime(dwellings(), offer.latest_millesime(dwellings()))
    table = offer.offer_by(stock, ["commune_insee"])
    assert list(table["dwellings"]) == [3, 2]
    assert list(table["in_qpv"]) == [2, 0]
    assert table["qpv_share"].tolist() == pytest.approx([2 / 3, 0.0])
    assert table["share"].tolist() == pytest.approx([0.6, 0.4])


def test_offer_by_financing_and_whole_stock():
    """PLAI 1 (in QPV), PLS 1, PLUS 3 (1 in QPV → 1/3). Whole: 5, 2 in QPV → 0,4."""
    stock = offer.of_millesime(dwellings(), 2025)
    table = offer.offer_by(stock, ["financement"]).set_index("financement")
    assert table["dwellings"].to_dict() == {"PLAI": 1, "PLS": 1, "PLUS": 3}
    assert table.loc["PLUS", "qpv_share"] == pytest.approx(1 / 3)
    whole = offer.offer_by(stock, ()).iloc[0]
    assert (whole["dwellings"], whole["in_qpv"], whole["qpv_share"]) == (5, 2, 0.4)


def test_latest_millesime_of_nothing():
    assert offer.latest_millesime(dwellings().iloc[0:0]) is None


def leases() -> pd.DataFrame:
    return pd.DataFrame(
        [
            ("76540", True, "QN1", True),
            ("76540", True, "QN1", False),
            ("76540", False, "", True),
            ("76540", False, "", pd.NA),
            ("76541", False, "", False),
        ],
        columns=["commune_insee", "in_qpv", "qpv_code", "is_q1"],
    ).astype({"is_q1": "boolean"})


def test_q1_share_keeps_unknown_incomes_in_the_denominator():
    """76540: 4 attributions, 2 Q1, 1 not, 1 unknown → 2/4 = 0,5 (not 2/3). 76541: 0/1."""
    table = balance.q1_share(leases(), ["commune_insee"])
    assert table.to_dict("records") == [
        {
            "commune_insee": "76540",
            "attributions": 4,
            "q1": 2,
            "not_q1": 1,
            "unknown_income": 1,
            "q1_share": 0.5,
        },
        {
            "commune_insee": "76541",
            "attributions": 1,
            "q1": 0,
            "not_q1": 1,
            "unknown_income": 0,
            "q1_share": 0.0,
        },
    ]


def test_q1_share_in_and_outside_qpv():
    """In QPV: 1 Q1 of 2 → 0,5. Outside: 1 Q1 of 3 (one unknown) → 1/3."""
    table = balance.q1_share(leases(), ["in_qpv"]).set_index("in_qpv")
    assert table.loc[True, "q1_share"] == 0.5
    assert table.loc[False, "q1_share"] == pytest.approx(1 / 3)
    assert table.loc[False, "unknown_income"] == 1


def test_q1_share_of_nothing_is_undefined():
    whole = balance.q1_share(leases().iloc[0:0], ()).iloc[0]
    assert whole["attributions"] == 0
    assert np.isnan(whole["q1_share"])
