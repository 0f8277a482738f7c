"""The CTD-switch table of the DLV screen (``analytics.screen.ctd_switches``)."""

import datetime as dt

import pytest

from basislab.analytics import dlv
from basislab.analytics.market import market_inputs
from basislab.analytics.screen import SWITCH_SCENARIOS, ctd_switches

DAY = dt.date(2024, 6, 26)


def table(code):
    m = market_inputs(code, DAY)
    c = m.contract
    return dlv(c.root, c.delivery_month, m.futures_price, m.bonds, m.settlement, m.repo_pct)


@pytest.mark.parametrize("code", ["TUU4", "FVU4", "TYU4", "USU4", "UBU4"])
def test_unchanged_row_reproduces_the_dlv(code):
    t = table(code)
    sw = ctd_switches(t).set_index("scenario")
    row, ctd = sw.loc["unchanged"], t.loc[t["is_ctd"]].iloc[0]
    assert row["futures_price"] == pytest.approx(t.attrs["futures_price"], abs=1e-9)
    assert row["ctd_cusip"] == ctd["cusip"] and not row["switch"]
    assert row["implied_repo_pct"] == pytest.approx(ctd["implied_repo_pct"], abs=1e-9)
    assert row["net_basis_32"] == pytest.approx(ctd["net_basis_32"], abs=1e-9)
    assert list(sw.index) == [s[0] for s in SWITCH_SCENARIOS]


def test_rising_yields_move_the_ctd_to_longer_duration():
    # Burghardt et al., The Treasury Bond Basis (3rd ed.), ch. 5: with yields below the 6%
    # notional coupon the CTD is the lowest-duration bond; as yields rise the CTD moves toward
    # higher duration, as they fall toward lower. The bond contract of 2024-06-26 (CTD the
    # 4 5/8% of Feb-2040, duration ~10.9) switches to a 2043 bond at +25bp.
    sw = ctd_switches(table("USU4")).set_index("scenario")
    base = sw.loc["unchanged", "ctd_duration"]
    assert sw.loc["unchanged", "ctd_cusip"] == "912810QE1"
    assert sw.loc["+50bp", "switch"] and sw.loc["+50bp", "ctd_duration"] > base + 1
    assert sw.loc["-50bp", "ctd_cusip"] == "912810QE1"  # already the shortest-duration bond
    # prices fall when yields rise: the futures price follows the cheapest converted forward
    assert (
        sw.loc["+50bp", "futures_price"]
        < sw.loc["unchanged", "futures_price"]
        < sw.loc["-50bp", "futures_price"]
    )


def test_futures_move_by_about_the_dv01():
    # +25bp moves TYU4 by about 25 x futures DV01 (0.0647 per 100 on 2024-06-26), less a little
    # convexity: 1.6 points
    sw = ctd_switches(table("TYU4")).set_index("scenario")
    move = sw.loc["unchanged", "futures_price"] - sw.loc["+25bp", "futures_price"]
    assert move == pytest.approx(25 * 0.0647, rel=0.03)
