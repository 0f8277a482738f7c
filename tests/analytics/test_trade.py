"""The basis trade as a position: re-pledging loop, hedge ratios, stress cash needs."""

from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from basislab.analytics.trade import (
    StressMove,
    TradeInputError,
    TradeLegs,
    hedge_contracts,
    repledging_loop,
    stress_table,
)


def make_legs(**kw) -> TradeLegs:
    base = dict(
        contract="TYU4",
        root="TY",
        delivery_month="2024-09",
        settlement=date(2024, 6, 27),
        delivery=date(2024, 9, 30),
        cusip="X",
        coupon_pct=4.0,
        maturity=date(2031, 1, 31),
        face=100e6,
        clean_price=98.0,
        accrued=1.0,
        conversion_factor=0.9,
        futures_price=110.0,
        contract_face=100_000.0,
        contracts=900.0,
        hedge="cf",
        haircut=0.0,
        repo_pct=5.34,
        im_per_contract=2000.0,
        bond_dv01=0.07,
        futures_dv01=0.07 / 0.9,
        implied_repo_pct=5.5,
        net_basis=-0.02,
        gross_basis=0.5,
        days=95,
    )
    base.update(kw)
    return TradeLegs(**base)


def test_repledging_loop_converges_to_one_over_haircut_plus_margin():
    # Closed form E / (h + m) (Brunnermeier & Pedersen 2009 funding constraint): 2% + 1% -> 33.3x
    loop = repledging_loop(0.02, 0.01, tol=1e-6, max_rounds=2000)
    assert loop.attrs["leverage_limit"] == pytest.approx(1 / 0.03)
    assert loop["leverage"].iloc[-1] == pytest.approx(1 / 0.03, rel=1e-4)
    # round k buys E (1-h)^k / (1+m)^(k+1)
    k = np.arange(5)
    assert np.allclose(loop["bonds_bought"].iloc[:5], 0.98**k / 1.01 ** (k + 1))


def test_repledging_loop_form_pf_leverage():
    # Banegas & Monin (FEDS Notes 2023-09-08): $553bn repo on $9.9bn capital = 55.9x; with a zero
    # haircut that is the leverage a margin of 1/55.9 of the bond value allows.
    loop = repledging_loop(0.0, 9.9 / 553.0)
    assert loop.attrs["leverage_limit"] == pytest.approx(55.86, abs=0.01)


def test_repledging_zero_haircut_zero_margin_has_no_limit():
    loop = repledging_loop(0.0, 0.0, max_rounds=10)
    assert loop.attrs["leverage_limit"] == np.inf
    assert len(loop) == 10 and loop["leverage"].iloc[-1] == pytest.approx(10.0)


@pytest.mark.parametrize("h", [-0.01, 1.0, 1.5])
def test_repledging_rejects_bad_haircut(h):
    with pytest.raises(TradeInputError, match="haircut"):
        repledging_loop(h, 0.01)


def test_hedge_ratios():
    # CF hedge: $100mm face x CF 0.9 / $100k = 900 contracts
    assert hedge_contracts(100e6, 0.9, 100_000, "cf", 0.07, 0.07 / 0.9) == 900
    # DV01 hedge with a bond DV01 10% above CTD-implied: 990 contracts
    assert hedge_contracts(100e6, 0.9, 100_000, "dv01", 0.077, 0.07 / 0.9) == 990
    with pytest.raises(TradeInputError, match="hedge"):
        hedge_contracts(100e6, 0.9, 100_000, "beta", 0.07, 0.07)


def test_hedged_in_value_but_short_of_cash():
    # Yields +25bp: the bond falls 0.07 x 25 = 1.75 points; at zero haircut the repo lender calls
    # $1.75mm in the morning; the short futures receive the same $1.75mm as VM at end of day.
    legs = make_legs()
    row = stress_table(legs, [StressMove("up", yield_bp=25)], cash_buffer=1e6).iloc[0]
    assert row["repo_margin_call"] == pytest.approx(1.75e6)
    assert row["vm"] == pytest.approx(-1.75e6)
    assert row["cash_needed_gross"] == pytest.approx(1.75e6)
    assert row["cash_needed_net"] == pytest.approx(0.0, abs=1e-6)
    assert row["mtm_pnl"] == pytest.approx(0.0, abs=1e-6)
    assert row["buffer_days_gross"] == 0  # a $1mm buffer does not cover the morning call
    assert row["buffer_days_net"] == np.inf


def test_basis_widening_is_a_pure_cash_drain():
    legs = make_legs(haircut=0.02)
    row = stress_table(legs, [StressMove("basis", basis_32nds=16)], cash_buffer=1e6).iloc[0]
    # price falls 16/32 = 0.5 points: repo call (1 - 2%) x $100mm x 0.5% = $490k, no VM offset
    assert row["repo_margin_call"] == pytest.approx(490_000)
    assert row["vm"] == 0
    assert row["cash_needed_net"] == pytest.approx(490_000)
    assert row["mtm_pnl"] == pytest.approx(-500_000)
    assert row["buffer_days_net"] == 2


def test_haircut_and_margin_calls():
    legs = make_legs()
    rows = stress_table(legs, [StressMove("h", haircut_pp=2), StressMove("im", im_change_pct=50)])
    assert rows.loc[0, "haircut_call"] == pytest.approx(100e6 * 0.99 * 0.02)
    assert rows.loc[1, "im_call"] == pytest.approx(900 * 2000 * 0.5)


@settings(max_examples=60, deadline=None)
@given(
    dy=st.floats(-100, 100),
    h=st.floats(0, 0.2),
    cf=st.floats(0.6, 1.2),
)
def test_cf_hedge_offsets_value_not_timing(dy, h, cf):
    """Property: with the CF hedge and futures DV01 = CTD DV01 / CF, a parallel yield move leaves
    the position's value unchanged, but the morning cash need equals the repo call."""
    legs = make_legs(haircut=h, conversion_factor=cf, futures_dv01=0.07 / cf, contracts=1e8 * cf / 1e5)
    row = stress_table(legs, [StressMove("m", yield_bp=dy)]).iloc[0]
    assert abs(row["mtm_pnl"]) < 1e-6 * 1e8
    assert row["cash_needed_gross"] >= row["repo_margin_call"] - 1e-9
    assert row["cash_needed_net"] <= row["cash_needed_gross"] + 1e-9


# --- the trade built on the bundled 2024-06-26 data -------------------------------------------


@pytest.fixture(scope="module")
def ty_trade():
    from basislab.analytics.trade import basis_trade

    return basis_trade("TYU4", 100e6, 0.0, as_of=date(2024, 6, 26))


def test_trade_is_built_on_the_dlv_ctd(ty_trade):
    from basislab.analytics import deliverable_basket, dlv, load_securities_master

    table = dlv(
        "TY",
        "2024-09",
        110.0625,
        deliverable_basket("TY", "2024-09", load_securities_master()),
        date(2024, 6, 27),
        5.34,
    )
    ctd = table.loc[table["is_ctd"]].iloc[0]
    lg = ty_trade.legs
    assert lg.cusip == ctd["cusip"]
    assert lg.conversion_factor == ctd["conversion_factor"]
    # CF hedge: round(100mm x CF / 100k) contracts; equity = IM only at zero haircut
    assert lg.contracts == round(100e6 * ctd["conversion_factor"] / 1e5)
    assert lg.equity == pytest.approx(lg.contracts * 1755.0)
    assert ty_trade.leverage == pytest.approx(lg.market_value / lg.equity)
    assert ty_trade.leverage == pytest.approx(ty_trade.repledging.attrs["leverage_limit"])
    # at zero haircut the P&L to delivery is minus the net basis on the face
    assert ty_trade.expected_pnl == pytest.approx(-ctd["net_basis"] * 1e6)
    # carry = gross - net basis (Bloomberg DLV convention)
    assert ty_trade.carry == pytest.approx((ctd["gross_basis"] - ctd["net_basis"]) * 1e6)
    # implied repo below the repo rate <=> the trade loses at that repo rate
    assert (lg.implied_repo_pct < lg.repo_pct) == (ty_trade.expected_pnl < 0)


def test_trade_financed_at_implied_repo_breaks_even(ty_trade):
    from basislab.analytics.trade import basis_trade

    at_implied = basis_trade("TYU4", 100e6, 0.0, repo_pct=ty_trade.legs.implied_repo_pct)
    assert at_implied.expected_pnl == pytest.approx(0.0, abs=1.0)  # under $1 on $100mm


def test_trade_haircut_raises_equity_and_cuts_leverage():
    from basislab.analytics.trade import basis_trade

    t = basis_trade("TYU4", 100e6, 0.02)
    assert t.legs.equity == pytest.approx(0.02 * t.legs.market_value + t.legs.initial_margin)
    assert t.leverage < 1 / 0.02


def test_trade_dv01_hedge_on_ctd_matches_cf_hedge(ty_trade):
    from basislab.analytics.trade import basis_trade

    # for the CTD itself, DV01_fut = DV01_ctd / CF, so both hedges give the same contracts
    assert basis_trade("TYU4", 100e6, 0.0, hedge="dv01").legs.contracts == ty_trade.legs.contracts


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"notional": -1.0}, "notional"),
        ({"haircut": 1.2}, "haircut"),
        ({"im_per_contract": -5.0}, "initial margin"),
        ({"cusip": "912828XX0"}, "not in the TYU4 basket"),
    ],
)
def test_trade_bad_input(kw, match):
    from basislab.analytics.trade import basis_trade

    args = {"notional": 100e6, "haircut": 0.0}
    args.update(kw)
    notional, haircut = args.pop("notional"), args.pop("haircut")
    with pytest.raises(TradeInputError, match=match):
        basis_trade("TYU4", notional, haircut, **args)
