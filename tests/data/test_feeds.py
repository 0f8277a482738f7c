"""Initial conditions for the simulator and futures notionals."""

from __future__ import annotations

import pandas as pd
import pytest

from basislab.data import feeds
from basislab.data.catalog import CONTRACTS
from basislab.data.validate import DataWarning
from basislab.errors import DataError


def test_initial_conditions_2024_06_25(con):
    """Known at the end of Tuesday 2024-06-25: the CFTC week of 2024-06-18 (released Friday 06-21),
    SOFR of 06-24 (published 8:00 ET on 06-25), the H.4.1 levels of Wednesday 06-19."""
    ic = feeds.initial_conditions("2024-06-25", con=con)
    assert ic["date"] == "2024-06-25"
    assert set(ic["basis_positions_usd_bn"]) == {"2y", "5y", "10y", "long"}
    assert ic["sofr_pct"] == 5.31 and ic["sources"]["sofr_pct"]["date"] == "2024-06-24"
    assert ic["iorb_pct"] == 5.40
    assert ic["reserves_usd_bn"] == pytest.approx(3434.274)  # WRESBAL, Wednesday 2024-06-19
    assert ic["sources"]["reserves_usd_bn"]["series"] == "WRESBAL"
    assert ic["onrrp_usd_bn"] == pytest.approx(435.916)
    assert ic["fed_treasury_holdings_usd_bn"] == pytest.approx(4453.071)
    assert ic["sources"]["fed_treasury_holdings_usd_bn"]["known_on"] == "2024-06-20"
    assert ic["tga_usd_bn"] == pytest.approx(784.434)  # DTS closing balance of 2024-06-24
    # Every contract from the same (latest released) week; TY priced at the Yahoo front-month close
    # of TYU24 on that Tuesday (the June contract was in delivery, so the September one is front).
    assert {v["report_date"] for v in ic["positions_by_contract"].values()} == {"2024-06-18"}
    ty = ic["positions_by_contract"]["TY"]
    assert ty["lev_net_short"] == 1_437_390 - 234_998
    assert ty["price"] == 110.484375
    assert ty["usd_bn"] == pytest.approx((1_437_390 - 234_998) * 100_000 * 1.10484375 / 1e9)
    assert "Yahoo front-month close TYU24" in ic["sources"]["positions.TY"]["price"]
    assert "par curve" in ic["sources"]["positions.TU"]["price"]  # TUM4 in delivery month: proxy
    tu = ic["positions_by_contract"]["TU"]
    assert ic["basis_positions_usd_bn"]["2y"] == pytest.approx(
        tu["lev_net_short"] * 200_000 * tu["price"] / 100 / 1e9
    )
    tn = ic["positions_by_contract"]["TN"]
    assert ic["basis_positions_usd_bn"]["10y"] == pytest.approx(ty["usd_bn"] + tn["usd_bn"])
    assert ic["lev_gross_short_usd_bn"]["10y"] > ic["basis_positions_usd_bn"]["10y"]
    assert ic["lev_gross_short_usd_bn"]["2y"] == pytest.approx(
        tu["lev_short"] * 200_000 * tu["price"] / 100 / 1e9
    )
    assert ic["warnings"] == []
    assert "basis_positions_usd_bn" in ic["sources"] and "method" in ic["sources"]["basis_positions_usd_bn"]


def test_initial_conditions_latest(con):
    ic = feeds.initial_conditions(None, con=con)
    # SOFR and IORB run to 2026-06-23 in the snapshot: the latest date with both published.
    assert ic["date"] == "2026-06-23"
    assert ic["iorb_pct"] == 3.65 and ic["sofr_pct"] == 3.61
    assert all(v["report_date"] == "2026-06-16" for v in ic["positions_by_contract"].values())
    # Fed holdings end 2025-01-22 in the snapshot and the last par curve is 2025-07-11: said.
    assert any("TREAST is from 2025-01-22" in w for w in ic["warnings"])
    assert any("par curve of 2025-07-11" in w for w in ic["warnings"])
    assert 800 < sum(ic["basis_positions_usd_bn"].values()) < 1300


def test_initial_conditions_stale_series_is_an_error(con):
    with pytest.raises(DataError, match="SOFR"):
        feeds.initial_conditions("2026-08-07", con=con)
    with pytest.raises(DataError, match="not a date"):
        feeds.initial_conditions("2024-13-45", con=con)


def test_before_any_data(con):
    with pytest.raises(DataError, match="no CFTC TFF data published on or before 2000-01-04"):
        feeds.initial_conditions("2000-01-04", con=con)


def test_sep_2019_same_week_rows_no_2015_substitution(con):
    """Bug: ``today@2019-09-13`` took 2015 CFTC rows for TU, FV and US (TU net long then, so the 2y
    bucket was empty) without a warning. With the 2017-2020 extract every contract comes from the
    week of Tuesday 2019-09-10, released on Friday 2019-09-13."""
    ic = feeds.initial_conditions("2019-09-13", con=con)
    assert {v["report_date"] for v in ic["positions_by_contract"].values()} == {"2019-09-10"}
    tu = ic["positions_by_contract"]["TU"]
    assert tu["lev_net_short"] == 2_032_810 - 795_425
    assert 200 < ic["basis_positions_usd_bn"]["2y"] < 300  # was 0 with the 2015-12-29 row
    assert not any("CFTC" in w for w in ic["warnings"])
    # On Thursday 2019-09-12 the 2019-09-10 week is not yet released: the week before.
    ic = feeds.initial_conditions("2019-09-12", con=con)
    assert {v["report_date"] for v in ic["positions_by_contract"].values()} == {"2019-09-03"}


def test_stale_cftc_rows_warn(con):
    # May-Dec 2025 TFF is missing except TY (10-year file): the other contracts' 2025-04-29 rows are
    # used and each is said to be more than 14 days old.
    ic = feeds.initial_conditions("2025-09-02", con=con)
    assert ic["positions_by_contract"]["TU"]["report_date"] == "2025-04-29"
    assert ic["positions_by_contract"]["TY"]["report_date"] == "2025-08-26"
    for c in ("TU", "FV", "TN", "US", "UB"):
        assert any(
            w.startswith(f"{c}: the latest published CFTC TFF row is 2025-04-29") for w in ic["warnings"]
        )
    assert not any(w.startswith("TY: the latest published CFTC") for w in ic["warnings"])


def test_mar_2020_reserves_no_look_ahead(con):
    """Bug: March 2020 used the March monthly average (USD 2,099.4bn), which includes the late-March
    surge. Known on 2020-03-02 is January's average (February's is published about 2020-03-28);
    the fallback from weekly to monthly reserves is said in a warning."""
    ic = feeds.initial_conditions("2020-03-02", con=con)
    assert ic["reserves_usd_bn"] == pytest.approx(1715.2)
    src = ic["sources"]["reserves_usd_bn"]
    assert src["series"] == "TOTRESNS" and src["date"] == "2020-01-01" and src["known_on"] <= "2020-03-02"
    assert any(w.startswith("reserves: no weekly reserves") for w in ic["warnings"])
    assert feeds.initial_conditions("2020-03-31", con=con)["reserves_usd_bn"] == pytest.approx(1726.9)


def test_apr_2025_with_iorb_to_2026(con):
    """Bug: ``today@2025-04-04`` failed because IORB ended on 2025-01-24; FRED's IORB runs to 2026-06."""
    ic = feeds.initial_conditions("2025-04-04", con=con)
    assert ic["iorb_pct"] == 4.40 and ic["sources"]["iorb_pct"]["date"] == "2025-04-04"
    assert ic["sofr_pct"] == 4.39 and ic["sources"]["sofr_pct"]["date"] == "2025-04-03"
    assert ic["reserves_usd_bn"] == pytest.approx(3379.339)  # WRESBAL 2025-04-02
    assert any("TREAST is from 2025-01-22" in w for w in ic["warnings"])  # stated fallback


def test_warnings_are_issued(con):
    with pytest.warns(DataWarning, match="reserves: no weekly reserves"):
        feeds.initial_conditions("2019-09-13", con=con)


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
