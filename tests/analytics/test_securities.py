"""Securities master: the FedInvest list of 2024-06-26 joined with TreasuryDirect auctions."""

from datetime import date

import pytest

from basislab.analytics import load_securities_master, notes_and_bonds
from basislab.analytics.securities import parse_term_months


@pytest.fixture(scope="module")
def master():
    return load_securities_master()


def test_every_security_is_typed(master):
    # FedInvest 2024-06-26 (shared/data/SOURCES.md): 453 rows of five security types.
    assert len(master) == 453
    assert master["kind"].value_counts().to_dict() == {
        "note": 243,
        "bond": 99,
        "tips": 53,
        "bill": 50,
        "frn": 8,
    }
    assert master["cusip"].is_unique


def test_notes_and_bonds_have_auction_terms(master):
    nb = notes_and_bonds(master)
    assert set(nb["kind"]) == {"note", "bond"} and len(nb) == 342
    assert (nb["original_term_months"] > 0).all()
    assert nb["issue_date"].notna().all()


def test_reopened_note_keeps_first_auction(master):
    # 912828G38 (2-1/4% 11/15/2024): auctioned 2014-11-12 as a 10-Year, reopened twice as
    # "9-Year 11-Month" and "9-Year 10-Month"; the master keeps the first auction.
    row = master.set_index("cusip").loc["912828G38"]
    assert row["issue_date"] == date(2014, 11, 17)
    assert row["original_term"] == "10-Year" and row["original_term_months"] == 120
    assert row["coupon_pct"] == 2.25 and row["maturity"] == date(2024, 11, 15)


def test_price_is_mid_or_sell(master):
    m = master.set_index("cusip")
    assert m.loc["912796Y52", "clean_price"] == pytest.approx((99.869125 + 99.868750) / 2)
    assert m.loc["9128286Z8", "clean_price"] == 99.9375  # buy is 0: sell price


@pytest.mark.parametrize(
    "text, months",
    [
        ("10-Year", 120),
        ("9-Year 10-Month", 118),
        ("29-Year 11-Month", 359),
        ("26-Week", 6),
    ],
)
def test_term_parsing(text, months):
    assert parse_term_months(text) == months
