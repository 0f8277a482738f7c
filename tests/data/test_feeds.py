"""Initial conditions for the simulator and futures notionals."""

from __future__ import annotations

import pandas as pd
import pytest

from basislab.data import feeds
from basislab.data.catalog import CONTRACTS
from basislab.errors import DataError


def test_initial_conditions_2024_06_25(con):
    ic = feeds.initial_conditions("2024-06-25", con=con)
    assert ic["date"] == "2024-06-25"
    assert set(ic["basis_positions_usd_bn"]) == {"2y", "5y", "10y", "long"}
    assert ic["sofr_pct"] == 5.33 and ic["iorb_pct"] == 5.40
    assert ic["reserves_usd_bn"] == pytest.approx(3379.7)
    assert ic["onrrp_usd_bn"] == pytest.approx(466.31)
    assert ic["fed_treasury_holdings_usd_bn"] == pytest.approx(4453.071)
    # TY is in the 2024-06-25 week (10-year file); priced at the 2024-06-26 TYU4 settlement 110-02.
    ty = ic["positions_by_contract"]["TY"]
    assert ty["report_date"] == "2024-06-25"
    assert ty["lev_net_short"] == 1_454_988 - 248_168
    assert ty["price"] == 110.0625
    assert ty["usd_bn"] == pytest.approx((1_454_988 - 248_168) * 100_000 * 1.100625 / 1e9)
    # The other contracts are missing that week in the raw file: the latest earlier week, said so.
    assert ic["positions_by_contract"]["TU"]["report_date"] == "2024-06-11"
    assert any("TU" in w and "2024-06-11" in w for w in ic["warnings"])
    assert ic["sources"]["positions.TU"]["date"] == "2024-06-11"
    assert "par curve" in ic["sources"]["positions.TU"]["price"]
    tu = ic["positions_by_contract"]["TU"]
    assert ic["basis_positions_usd_bn"]["2y"] == pytest.approx(
        tu["lev_net_short"] * 200_000 * tu["price"] / 100 / 1e9
    )
    tn = ic["positions_by_contract"]["TN"]
    assert ic["basis_positions_usd_bn"]["10y"] == pytest.approx(ty["usd_bn"] + tn["usd_bn"])
    assert ic["sources"]["sofr_pct"]["date"] == "2024-06-25"
    assert ic["lev_gross_short_usd_bn"]["10y"] > ic["basis_positions_usd_bn"]["10y"]
    assert ic["lev_gross_short_usd_bn"]["2y"] == pytest.approx(
        tu["lev_short"] * 200_000 * tu["price"] / 100 / 1e9
    )
    assert ic["sources"]["reserves_usd_bn"]["date"] == "2024-06-01"  # monthly series
    assert "basis_positions_usd_bn" in ic["sources"] and "method" in ic["sources"]["basis_positions_usd_bn"]


def test_initial_conditions_latest(con):
    ic = feeds.initial_conditions(None, con=con)
    # IORB, the fed funds band and TREAST end 2025-01-24 in the snapshot: the latest complete date.
    assert ic["date"] == "2025-01-24"
    assert ic["iorb_pct"] == 4.40
    assert all(v["report_date"] == "2025-01-21" for v in ic["positions_by_contract"].values())
    assert ic["warnings"] == []
    assert 800 < sum(ic["basis_positions_usd_bn"].values()) < 1300


def test_initial_conditions_stale_series_is_an_error(con):
    with pytest.raises(DataError, match="IORB"):
        feeds.initial_conditions("2025-11-20", con=con)
    with pytest.raises(DataError, match="not a date"):
        feeds.initial_conditions("2024-13-45", con=con)


def test_before_any_data(con):
    with pytest.raises(DataError, match="no CFTC TFF data on or before 2000-01-04"):
        feeds.initial_conditions("2000-01-04", con=con)


def test_sep_2019_uses_latest_earlier_week(con):
    ic = feeds.initial_conditions("2019-09-17", con=con)
    assert ic["sofr_pct"] == 5.25
    assert ic["positions_by_contract"]["TY"]["report_date"] == "2019-09-17"
    assert ic["positions_by_contract"]["TU"]["report_date"] == "2015-12-29"
    assert "TN" not in ic["positions_by_contract"]  # listed 2016, and the raw file skips 2016-19
    assert any("TN" in w for w in ic["warnings"])


def test_bond_price_6pct():
    assert feeds.bond_price_6pct(6.0, 10.0) == pytest.approx(100.0)
    assert feeds.bond_price_6pct(5.0, 2.0) == pytest.approx(101.8810, abs=1e-3)
    assert feeds.bond_price_6pct(0.0, 2.0) == pytest.approx(112.0)


@pytest.mark.parametrize("root,tol", [("TU", 0.01), ("FV", 0.01), ("TY", 0.01), ("US", 0.01), ("UB", 0.015)])
def test_par_curve_proxy_close_to_settlements(con, root, tol):
    closes = {"TU": 102.0546875, "FV": 106.546875, "TY": 110.0625, "US": 118.9375, "UB": 126.5625}
    wide = feeds.par_curve_wide(con)
    years = CONTRACTS[root].proxy_tenor_years
    y, used = feeds.par_yield_at(wide, pd.Series([pd.Timestamp("2024-06-26")]), years)
    assert pd.Timestamp(used[0]).date().isoformat() == "2024-06-26"
    assert feeds.bond_price_6pct(y, years)[0] == pytest.approx(closes[root], rel=tol)


def test_positions_notional(con):
    pos = feeds.positions(con)
    row = pos[(pos.contract == "TY") & (pos.report_date == pd.Timestamp("2020-03-17").date())].iloc[0]
    assert row.lev_short == 1_139_024
    assert row.lev_short_usd_bn == pytest.approx(1_139_024 * 100_000 * row.price / 100 / 1e9)
    assert 120 < row.price < 145  # 6% 7y bond at a ~1% par yield
