"""DLV engine on the bundled 2024-06-26 data: CTDs, implied repo vs SOFR, QuantLib cross-check,
property tests (net basis zero at the implied repo, invoice identity, CF rises with coupon)."""

from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from basislab.analytics import (
    DLV_COLUMNS,
    bundled_futures_price,
    conversion_factor,
    ctd,
    deliverable_basket,
    dlv,
    futures_dv01,
    load_securities_master,
    parse_contract,
    sofr_on,
)
from basislab.analytics.reference import dlv_quantlib

TRADE, SETTLE = date(2024, 6, 26), date(2024, 6, 27)
SOFR = 5.34  # FRB New York via FRED, 2024-06-26 (bundled fred_sofr_2018_2025.csv)


def _dlv(code: str, repo: float = SOFR) -> pd.DataFrame:
    c = parse_contract(code, as_of=TRADE)
    basket = deliverable_basket(c.root, c.delivery_month)
    fut = bundled_futures_price(c.code, c.delivery_month, TRADE)
    return dlv(c.root, c.delivery_month, fut, basket, SETTLE, repo)


def test_sofr_default():
    assert sofr_on(TRADE) == (SOFR, TRADE)
    assert sofr_on(date(2024, 7, 4)) == (5.33, date(2024, 7, 3))  # holiday: last published


# The cheapest to deliver of each contract on 2024-06-26 from the bundled prices, and its
# implied repo. Sanity against SOFR: the CTD's implied repo sits below the repo rate (a positive
# net basis pays for the short's delivery options) but within 1.25 percentage points of it.
CTDS = [
    ("TUU4", "91282CHH7", 4.125, date(2026, 6, 15), 4.556),
    ("FVU4", "91282CJN2", 4.375, date(2028, 11, 30), 5.166),
    ("TYU4", "91282CKU4", 4.625, date(2031, 5, 31), 5.182),
    ("USU4", "912810QE1", 4.625, date(2040, 2, 15), 5.174),
    ("UBU4", "912810TV0", 4.75, date(2053, 11, 15), 4.179),
]


@pytest.mark.parametrize("code, cusip, coupon, maturity, implied", CTDS)
def test_ctd_2024_06_26(code, cusip, coupon, maturity, implied):
    t = _dlv(code)
    row = ctd(t)
    assert (row["cusip"], row["coupon_pct"], row["maturity"]) == (cusip, coupon, maturity)
    assert row["implied_repo_pct"] == pytest.approx(implied, abs=5e-4)
    assert SOFR - 1.25 < row["implied_repo_pct"] < SOFR
    assert row["net_basis"] > 0
    assert t["rank"].tolist() == list(range(1, len(t) + 1))
    assert t["implied_repo_pct"].is_monotonic_decreasing


def test_dlv_columns_and_units():
    t = _dlv("TYU4")
    assert list(t.columns[: len(DLV_COLUMNS)]) == DLV_COLUMNS
    row = ctd(t)
    # 4-5/8% 5/31/2031 at 101-26.25 (FedInvest mid), futures 110-02, CF 0.9269.
    assert row["conversion_factor"] == 0.9269 == conversion_factor("TY", 4.625, date(2031, 5, 31), "2024-09")
    assert row["gross_basis"] == pytest.approx(101.8203125 - 0.9269 * 110.0625, abs=1e-12)
    assert row["gross_basis_32"] == pytest.approx(row["gross_basis"] * 32)
    assert row["days"] == 95 and row["settlement"] == SETTLE and row["delivery"] == date(2024, 9, 30)
    assert row["accrued"] == pytest.approx(2.3125 * 27 / 183, abs=1e-12)  # 5/31 -> 6/27 of 183
    assert row["dv01"] == pytest.approx(0.05996, abs=5e-5)
    assert futures_dv01(t) == pytest.approx(row["dv01"] / 0.9269)
    assert t.attrs["contract"] == "TYU4" and t.attrs["repo_pct"] == SOFR


@pytest.mark.parametrize("code", ["TUU4", "TYU4", "TYZ4", "USU4", "UBZ4"])
def test_matches_quantlib_per_bond_path(code):
    c = parse_contract(code, as_of=TRADE)
    basket = deliverable_basket(c.root, c.delivery_month)
    fut = bundled_futures_price(c.code, c.delivery_month, TRADE)
    fast = dlv(c.root, c.delivery_month, fut, basket, SETTLE, SOFR).set_index("cusip")
    ref = (
        dlv_quantlib(c.root, c.delivery_month, fut, basket, SETTLE, SOFR, c.last_delivery_day)
        .set_index("cusip")
        .loc[fast.index]
    )
    for col in (
        "conversion_factor",
        "accrued",
        "yield_pct",
        "gross_basis",
        "net_basis",
        "implied_repo_pct",
        "accrued_delivery",
        "coupon_income",
        "days",
    ):
        np.testing.assert_allclose(fast[col], ref[col], rtol=0, atol=1e-10, err_msg=col)
    np.testing.assert_allclose(fast["dv01"], ref["dv01"], atol=1e-6)


def test_interim_coupon_in_window():
    # TYZ4 window 6/27 -> 12/31: a May/Nov note collects 11/15, a Feb/Aug note 8/15.
    t = _dlv("TYZ4").set_index("cusip")
    assert t.loc["91282CDJ7", "coupon_income"] == pytest.approx(1.375 / 2)  # 1-3/8% 11/15/31
    assert t.loc["91282CCS8", "coupon_income"] == pytest.approx(1.25 / 2)  # 1-1/4% 8/15/31
    # A 3/31 note in TYU4 is paid on the delivery day itself: coupon in, no accrued at delivery.
    u = _dlv("TYU4").set_index("cusip")
    assert u.loc["91282CKF7", "coupon_income"] == pytest.approx(4.125 / 2)
    assert u.loc["91282CKF7", "accrued_delivery"] == 0.0


def test_when_issued_bond_settles_on_issue_date():
    basket = deliverable_basket("TY", "2024-09").copy()
    basket.loc[0, "issue_date"] = date(2024, 7, 1)  # pretend the first note is not yet issued
    t = dlv("TY", "2024-09", 110.0625, basket, SETTLE, SOFR).set_index("cusip")
    row = t.loc[basket.loc[0, "cusip"]]
    assert row["settlement"] == date(2024, 7, 1)
    assert row["days"] == (date(2024, 9, 30) - date(2024, 7, 1)).days
    other = t.drop(basket.loc[0, "cusip"])
    assert (other["settlement"] == SETTLE).all()


def test_drop_ineligible_bonds():
    master = load_securities_master()
    t = dlv("TY", "2024-09", 110.0625, master, SETTLE, SOFR, on_ineligible="drop")
    assert sorted(t["cusip"]) == sorted(deliverable_basket("TY", "2024-09")["cusip"])


# --- properties -------------------------------------------------------------------------------
BASKET = deliverable_basket("US", "2024-09")


@settings(max_examples=25, deadline=None)
@given(fut=st.floats(100, 140), i=st.integers(0, len(BASKET) - 1))
def test_net_basis_zero_exactly_at_implied_repo(fut, i):
    bonds = BASKET.iloc[[i]]
    implied = dlv("US", "2024-09", fut, bonds, SETTLE, 5.0)["implied_repo_pct"].iloc[0]
    at = dlv("US", "2024-09", fut, bonds, SETTLE, implied).iloc[0]
    assert at["net_basis"] == pytest.approx(0.0, abs=1e-10)
    above = dlv("US", "2024-09", fut, bonds, SETTLE, implied + 0.25).iloc[0]
    below = dlv("US", "2024-09", fut, bonds, SETTLE, implied - 0.25).iloc[0]
    assert above["net_basis"] > 0 > below["net_basis"]


@settings(max_examples=25, deadline=None)
@given(fut=st.floats(80, 160), repo=st.floats(-1, 12))
def test_invoice_and_basis_identities(fut, repo):
    t = dlv("US", "2024-09", fut, BASKET, SETTLE, repo)
    np.testing.assert_allclose(
        t["invoice_price"], fut * t["conversion_factor"] + t["accrued_delivery"], atol=1e-12
    )
    np.testing.assert_allclose(t["gross_basis"] - t["carry"], t["net_basis"], atol=1e-10)
    np.testing.assert_allclose(t["dirty_price"], t["clean_price"] + t["accrued"], atol=1e-12)
    # Delivering at the implied repo: the forward dirty price equals the invoice price.
    assert int(t["is_ctd"].sum()) == 1


@settings(max_examples=50, deadline=None)
@given(
    root=st.sampled_from(["TU", "Z3N", "FV", "TY", "TN", "US", "UB"]),
    coupon=st.floats(0.0, 12.0),
    bump=st.floats(0.125, 3.0),
    months=st.integers(13, 360),
)
def test_cf_rises_with_coupon(root, coupon, bump, months):
    mat = pd.Timestamp("2024-09-01") + pd.DateOffset(months=months) + pd.Timedelta(days=14)
    lo = conversion_factor(root, coupon, mat.date(), "2024-09")
    hi = conversion_factor(root, coupon + bump, mat.date(), "2024-09")
    assert hi > lo
    # A 6% coupon is worth par at the 6% notional yield, below 6% less, above 6% more.
    six = conversion_factor(root, 6.0, mat.date(), "2024-09")
    assert six == pytest.approx(1.0, abs=1e-4)


def test_dlv_many_equals_dlv_per_contract():
    from basislab.analytics import dlv_many

    master = load_securities_master()
    requests = [("TU", "2024-09", 102.0546875), ("TY", "2024-12", 110.5), ("UB", "2024-09", 126.5625)]
    many = dlv_many(requests, master, SETTLE, SOFR)
    assert list(many) == ["TUU4", "TYZ4", "UBU4"]
    for root, month, fut in requests:
        one = dlv(root, month, fut, deliverable_basket(root, month), SETTLE, SOFR)
        got = many[one.attrs["contract"]]
        pd.testing.assert_frame_equal(got[DLV_COLUMNS], one[DLV_COLUMNS])
