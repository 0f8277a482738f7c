"""CME contract specs, delivery calendar, code parsing and deliverable-grade history."""

import re
from datetime import date

import numpy as np
import pytest

from basislab.analytics import SPECS, contract, deliverable_basket, parse_contract
from basislab.analytics.contracts import grade_mask, listed_contracts
from basislab.errors import BasislabError, DeliveryMonthError, UnknownContractError


def test_specs():
    # CME contract specifications: TU $200k face, others $100k; TY/TN ticks 1/2 of 1/32,
    # US/UB 1/32, FV 1/4 of 1/32, TU 1/8 of 1/32.
    assert SPECS["TU"].face == 200_000 and SPECS["TY"].face == 100_000
    assert SPECS["TY"].tick == 1 / 64 and SPECS["US"].tick == 1 / 32
    assert SPECS["FV"].tick == 1 / 128 and SPECS["TU"].tick == 1 / 256


@pytest.mark.parametrize(
    "code, first, last_trade, last_delivery",
    [
        # Quarter contracts: last trading = 7th business day before the last business day.
        ("TYU4", date(2024, 9, 3), date(2024, 9, 19), date(2024, 9, 30)),  # 9/2 Labor Day
        ("USZ4", date(2024, 12, 2), date(2024, 12, 19), date(2024, 12, 31)),
        ("UBH5", date(2025, 3, 3), date(2025, 3, 20), date(2025, 3, 31)),
        # TU/FV: last trading = last business day; last delivery = 3rd business day after.
        ("TUU4", date(2024, 9, 3), date(2024, 9, 30), date(2024, 10, 3)),
        ("FVZ4", date(2024, 12, 2), date(2024, 12, 31), date(2025, 1, 6)),  # 1/1 holiday
    ],
)
def test_delivery_calendar(code, first, last_trade, last_delivery):
    c = parse_contract(code, as_of=date(2024, 6, 26))
    assert (c.first_delivery_day, c.last_trading_day, c.last_delivery_day) == (
        first,
        last_trade,
        last_delivery,
    )


@pytest.mark.parametrize(
    "code, as_of, year",
    [
        ("TYU4", date(2024, 6, 26), 2024),
        ("TYM4", date(2024, 6, 26), 2024),  # in delivery until 2024-06-28
        ("TYH5", date(2024, 6, 26), 2025),  # listed the day after TYM4's last trading day
        ("TYU4", date(2024, 9, 30), 2024),  # still in delivery on the last day
        ("FVZ4", date(2025, 1, 3), 2024),  # FV delivers to the 3rd business day of January
        ("TYU24", date(2031, 1, 1), 2024),  # two digits are explicit and may name an expired one
        ("z3nz4", date(2024, 6, 26), 2024),
    ],
)
def test_code_decade(code, as_of, year):
    c = parse_contract(code, as_of=as_of)
    assert c.year == year
    assert c.code == code.upper()[: len(c.root) + 1] + str(year % 10)


@pytest.mark.parametrize(
    "code, as_of, fragment",
    [
        # CME lists three consecutive quarterly contracts (contract specifications, "Listed
        # Contracts"): on 2024-06-26 TYH4 (March 2024) has expired and March 2034 is not listed.
        ("TYH4", date(2024, 6, 26), "TYH24"),
        ("TYZ9", date(2024, 6, 26), "not listed"),
        ("TYH0", date(2024, 6, 26), "not listed"),
        ("TYZ99", date(2024, 6, 26), "2099-12"),
        ("TYM5", date(2024, 6, 26), "TYH5 (2025-03)"),  # the fourth quarterly month is not listed yet
        ("TYU4", date(1900, 1, 1), "out of range"),  # QuantLib starts at 1901
        ("TYU4", date(1960, 1, 1), "no Treasury futures"),
    ],
)
def test_unlisted_codes_refused(code, as_of, fragment):
    with pytest.raises(BasislabError, match=re.escape(fragment)):
        parse_contract(code, as_of=as_of)


def test_listed_contracts_follow_cme_rule():
    ty = [c.code for c in listed_contracts("TY", date(2024, 6, 26))]
    assert ty == ["TYM4", "TYU4", "TYZ4", "TYH5"]  # M4 in delivery + three trading
    assert [c.code for c in listed_contracts("TY", date(2024, 6, 18))] == ["TYM4", "TYU4", "TYZ4"]
    assert [c.code for c in listed_contracts("FV", date(2024, 6, 26))] == ["FVM4", "FVU4", "FVZ4"]


def test_dates_outside_quantlib_are_refused():
    from basislab.analytics.calendar import settlement_date
    from basislab.errors import DateError

    with pytest.raises(DateError, match="out of range"):
        settlement_date(date(1900, 1, 1))


@pytest.mark.parametrize(
    "code, error",
    [
        ("XXU4", UnknownContractError),
        ("TYQ4", DeliveryMonthError),
        ("TY", DeliveryMonthError),
        ("TYU", DeliveryMonthError),
        ("TYUX", DeliveryMonthError),
    ],
)
def test_bad_codes(code, error):
    with pytest.raises(error, match="expected"):
        parse_contract(code, as_of=date(2024, 6, 26))


def test_non_quarterly_month():
    with pytest.raises(DeliveryMonthError, match="March, June, September or December"):
        contract("TY", "2024-08")


def _ok(root, month, maturity, original=120, kind="note"):
    return bool(grade_mask(root, month, [np.datetime64(maturity, "D")], [original], [kind])[0])


def test_ty_cap_history():
    # 10-year note with 9y8m left: deliverable under the old 10-year cap, not under the 8-year one.
    assert _ok("TY", "2023-06", date(2033, 2, 15))
    assert not _ok("TY", "2023-12", date(2033, 2, 15))
    assert _ok("TY", "2024-09", date(2031, 3, 1)) and not _ok("TY", "2024-09", date(2031, 2, 28))
    assert _ok("TY", "2024-09", date(2032, 9, 1)) and not _ok("TY", "2024-09", date(2032, 9, 2))


def test_us_25_year_cap_from_march_2011():
    assert _ok("US", "2010-12", date(2040, 11, 15), 360, "bond")  # 29y11m left, no cap yet
    assert not _ok("US", "2011-03", date(2040, 11, 15), 360, "bond")
    assert _ok("US", "2024-09", date(2049, 8, 31), 360, "bond")
    assert not _ok("US", "2024-09", date(2049, 9, 1), 360, "bond")  # exactly 25y: excluded
    assert _ok("UB", "2024-09", date(2049, 9, 1), 360, "bond")


def test_original_term_rules():
    assert _ok("FV", "2024-09", date(2029, 5, 31), 60)
    assert not _ok("FV", "2024-09", date(2029, 5, 31), 84)  # a 7-year note
    assert _ok("Z3N", "2024-09", date(2027, 7, 31), 84)  # relaunched 3-year: <= 7y original
    assert not _ok("Z3N", "2011-09", date(2014, 7, 31), 84)  # 2011 contract: <= 5y3m
    assert _ok("TN", "2024-09", date(2034, 5, 15), 120)
    assert not _ok("TN", "2024-09", date(2034, 5, 15), 360, "bond")
    assert not _ok("TN", "2024-09", date(2034, 5, 15), -1)  # unknown original term
    assert not _ok("TY", "2024-09", date(2031, 5, 15), 360, "bond")  # TY takes notes only


@pytest.mark.parametrize(
    "root, month, size, first, last",
    [
        ("TU", "2024-09", 8, date(2026, 6, 15), date(2026, 9, 30)),
        ("FV", "2024-09", 7, date(2028, 11, 30), date(2029, 5, 31)),
        ("TY", "2024-09", 9, date(2031, 3, 31), date(2032, 8, 15)),
        ("TN", "2024-09", 2, date(2034, 2, 15), date(2034, 5, 15)),
        ("US", "2024-09", 57, date(2039, 11, 15), date(2049, 8, 15)),
        ("UB", "2024-09", 19, date(2049, 11, 15), date(2054, 5, 15)),
    ],
)
def test_bundled_baskets(root, month, size, first, last):
    b = deliverable_basket(root, month)
    assert len(b) == size
    assert (b["maturity"].iloc[0], b["maturity"].iloc[-1]) == (first, last)
    assert set(b["kind"]) <= {"note", "bond"}


def test_notional_coupon_history():
    # Before March 2000 the factor priced the bond to yield 8% (CBOT specs of the time, e.g.
    # "The conversion factor is the price of the delivered note ($1 par value) to yield 8
    # percent", https://tradefutures.cc/contact-specifications-trade-futures-26/; the switch to 6%
    # for the March 2000 contract is discussed at
    # https://www.elitetrader.com/et/threads/us-10-year-t-note.361565/).
    from basislab.analytics import conversion_factor

    # A coupon equal to the notional yield is priced at par, to the formula's 1e-4.
    assert conversion_factor("US", 8.0, date(2020, 2, 15), "1999-12") == pytest.approx(1, abs=1e-4)
    assert conversion_factor("US", 6.0, date(2020, 2, 15), "2000-03") == pytest.approx(1, abs=1e-4)
    assert conversion_factor("US", 8.0, date(2020, 2, 15), "2000-03") > 1.2
    assert conversion_factor("US", 6.0, date(2020, 2, 15), "1999-12") < 0.81
