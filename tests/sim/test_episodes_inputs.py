"""Funding-market and Fed inputs of the episode replays (basislab.sim.episode_inputs): as they
happened, one value per run day, nothing from a later period, observed SOFR never read.

Published values checked here (sources in the test):
- corporate tax date 2019-09-16 with the 3y/10y/30y refunding settlement (Treasury refunding
  statement Aug 2019: 38 + 24 + 16 = USD 78bn); the H.4.1 TGA rose from USD 185.3bn (11 Sep) to
  250.2bn (18 Sep) (FRED WTREGEN);
- IOER 2.10% to 18 Sep 2019, 1.80% from 19 Sep (FOMC implementation note, 18 Sep 2019);
- from 19 Dec 2024 the ON RRP rate sits at the bottom of the range, IORB 15bp above it, the SRF
  at the top, IORB + 10bp (FOMC implementation note, 18 Dec 2024);
- the Fed bought about USD 775bn of Treasuries 15-31 Mar 2020 (Fleming & Ruela 2020, Liberty
  Street Economics), from 13 Mar (fed_purch_start, shared/reference/system-calibration.md).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from basislab.data import episodes as D
from basislab.errors import DataError
from basislab.sim import episode_inputs as EI
from basislab.sim.episodes import COMMON_STEPS, step_dates

KEYS = ("calm-2019h1", "sep-2019", "mar-2020", "apr-2025", "late-2025")


@pytest.fixture(scope="module")
def built(con):
    out = {}
    for key in KEYS:
        dates = step_dates(D.episode(key).run_start, COMMON_STEPS)
        out[key] = (dates, *EI.for_episode(con, key, dates))
    return out


def _at(dates, day):
    return dates.index(day)


def test_shapes_regimes_and_fields(built):
    for key, (_dates, fund, buys, _) in built.items():
        assert list(fund.days) == list(EI.DAY_FIELDS)
        for name, v in fund.days.items():
            assert v.shape == (COMMON_STEPS,) and np.isfinite(v).all(), (key, name)
        assert buys.shape == (COMMON_STEPS, 4) and (buys >= 0).all()
        assert fund.regime == ("2025" if key.endswith("2025") else "2019")
        assert set(fund.arrays()) == {*EI.DAY_FIELDS, "reserves0", "onrrp0", "tga0"}
        assert fund.config().liquidity_ref_tn == (3.473 if fund.regime == "2025" else 1.836)


def test_sep2019_tax_date_drains_reserves_into_the_tga(built):
    dates, fund, _, _ = built["sep-2019"]
    d = fund.days
    i = _at(dates, dt.date(2019, 9, 16))
    week = [_at(dates, dt.date(2019, 9, k)) for k in (12, 13, 16, 17, 18)]
    # the whole H.4.1 week (11 -> 18 Sep: 185.342 -> 250.226) lands on the tax and settlement day
    assert d["treasury_net_receipts"][i] * 1000 == pytest.approx(250.226 - 185.342, abs=0.01)
    assert d["treasury_net_receipts"][week].sum() == pytest.approx(d["treasury_net_receipts"][i])
    assert d["coupon_settlement"][i] * 1000 == pytest.approx(78.0)
    # IOER 2.10% to 18 Sep, 1.80% from 19 Sep; ON RRP 0.20 below; no SRF in 2019
    assert d["iorb_pct"][_at(dates, dt.date(2019, 9, 18))] == pytest.approx(2.10)
    assert d["iorb_pct"][_at(dates, dt.date(2019, 9, 19))] == pytest.approx(1.80)
    assert (d["srf_rate_pct"] == EI.NO_SRF_PCT).all()
    assert d["quarter_end"][_at(dates, dt.date(2019, 9, 30))] == 1
    assert d["month_end"].sum() == 8 and d["year_end"][_at(dates, dt.date(2019, 12, 31))] == 1
    # Fed repo: none before the operations; the first (17 Sep, after the morning's trades) does not
    # reach that morning; from 18 Sep the overnight operation plus the 14-day terms from 25 Sep
    repo = d["fed_repo"] * 1000
    assert (repo[: _at(dates, dt.date(2019, 9, 18))] == 0).all()
    assert repo[_at(dates, dt.date(2019, 9, 18))] > 40
    assert repo[_at(dates, dt.date(2019, 9, 27))] > repo[_at(dates, dt.date(2019, 9, 24))]


def test_nothing_from_a_later_period(built):
    """Each value is of its day or before, except a weekly flow placed on the days of its week
    (source: that week's Wednesday, at most 4 business days later; never a later week)."""
    weekly = {"treasury_net_receipts"}
    for key, (dates, fund, _, _) in built.items():
        day = np.array(dates, dtype="datetime64[D]")
        for name, src in fund.source_dates.items():
            ok = ~np.isnat(src)
            if name in weekly and fund.regime == "2019":
                lag = (src[ok] - day[ok]).astype(int)
                assert (lag >= 0).all() and (lag <= 6).all(), (key, name)
                assert all(pd.Timestamp(s).day_of_week == 2 for s in src[ok])
            else:
                assert (src[ok] <= day[ok]).all(), (key, name)


def test_strict_allocation_is_point_in_time_everywhere(con):
    dates = step_dates(D.episode("sep-2019").run_start, COMMON_STEPS)
    fund, _, _ = EI.for_episode(con, "sep-2019", dates, allocation="strict")
    day = np.array(dates, dtype="datetime64[D]")
    for src in fund.source_dates.values():
        assert (src[~np.isnat(src)] <= day[~np.isnat(src)]).all()
    # the tax-date drain then lands on the Wednesday
    assert fund.days["treasury_net_receipts"][_at(dates, dt.date(2019, 9, 16))] == 0
    assert fund.days["treasury_net_receipts"][_at(dates, dt.date(2019, 9, 18))] * 1000 == pytest.approx(
        64.884
    )
    with pytest.raises(DataError, match="allocation"):
        EI.for_episode(con, "sep-2019", dates, allocation="later")


def test_opening_balances_published_by_the_run_start(con, built):
    from basislab.sim import funding

    dates, fund, _, notes = built["sep-2019"]
    # run start 2019-08-09: the July average (published ~28 Aug) is not known; June's is
    assert "TOTRESNS 2019-06" in fund.opening_sources["reserves0"]
    assert any("2019-06 average" in n for n in notes)
    # within USD 50bn of the funding replay's level that day (which uses the August average: look-ahead)
    replay = funding.load_2019().frame.loc["2019-08-12", "reserves"]  # opening of the first step
    assert abs(fund.reserves0 - replay) < 0.05
    late = built["late-2025"][1]
    assert "WRESBAL" in late.opening_sources["reserves0"]
    assert 2.8 < late.reserves0 < 3.4 and 0.5 < late.tga0 < 1.0


def test_2025_rates_srf_and_no_input_fed_repo(built):
    dates, fund, buys, notes = built["late-2025"]
    d = fund.days
    assert np.allclose(d["iorb_pct"] - d["onrrp_rate_pct"], 0.15)
    assert np.allclose(d["srf_rate_pct"] - d["iorb_pct"], 0.10)
    assert d["iorb_pct"][_at(dates, dt.date(2025, 10, 31))] == pytest.approx(3.90)
    assert (d["fed_repo"] == 0).all()  # the SRF's take-up is the model's output, never an input
    assert not buys.any()
    assert any("ON RRP rate ends 2025-01-24" in n for n in notes)
    # 31 Dec 2025: 2y/5y/7y/20y reopening and 5y TIPS settle on a year end (store auctions, offering)
    i = _at(dates, dt.date(2025, 12, 31))
    assert d["year_end"][i] == 1 and d["coupon_settlement"][i] * 1000 == pytest.approx(69 + 70 + 44 + 24 + 13)


def test_mar2020_fed_purchases_against_the_holdings(con, built):
    from basislab.data.feeds import series_frame

    dates, _, buys, _ = built["mar-2020"]
    day = np.array(dates)
    assert not buys[day < dt.date(2020, 3, 13)].any()
    win = (day >= dt.date(2020, 3, 2)) & (day <= dt.date(2020, 3, 31))
    total = buys[win].sum()
    tr = series_frame(con, "TREAST")
    change = tr[pd.Timestamp("2020-04-01")] - tr[pd.Timestamp("2020-03-11")]
    assert 0.8 * change < total <= change  # the last week is shared with 1 April
    assert 600 < total < 950  # Fleming & Ruela: ~775bn over 15-31 March
    # peak pace below the published peak of USD 75bn a day plus bills and TIPS: order of magnitude
    assert 40 < buys.sum(1).max() < 110
    share = buys[win].sum(0) / total
    assert np.allclose(share, np.array([25, 28, 6, 9]) / 68)
    for key in ("calm-2019h1", "sep-2019", "apr-2025"):  # observed there, never an input
        assert not built[key][2].any()


def test_allocate_weekly_and_flags_pure():
    wk = pd.Series([100.0, 130.0, 120.0], index=pd.to_datetime(["2019-09-04", "2019-09-11", "2019-09-18"]))
    dates = step_dates(dt.date(2019, 9, 4), 10)  # 5 Sep .. 18 Sep
    flows, src = EI.allocate_weekly(wk, dates, events={dt.date(2019, 9, 16)})
    assert flows.sum() == pytest.approx(20.0)
    assert flows[dates.index(dt.date(2019, 9, 16))] == pytest.approx(-10.0)
    assert np.allclose(flows[:5], 6.0)  # no event in the first week: evenly over Thu..Wed
    floored, _ = EI.allocate_weekly(wk, dates, floor_zero=True, from_day=dt.date(2019, 9, 10))
    assert floored[dates.index(dt.date(2019, 9, 10))] == pytest.approx(15.0) and floored.sum() == 30.0
    f = EI.reporting_flags([dt.date(2019, 12, 30), dt.date(2019, 12, 31), dt.date(2020, 3, 30)])
    assert f["year_end"].tolist() == [0, 1, 0] and f["quarter_end"].tolist() == [0, 1, 0]
    assert f["month_end"].tolist() == [0, 1, 0]  # 30 Mar 2020 is not the month's last business day


def test_funding_market_on_these_inputs_tightens_on_the_tax_date(built):
    """The funding kernel stepped on the sep-2019 inputs: SOFR - IORB widens after the 16 Sep drain
    (the size of the spike is the engine's and the calibration's business, docs/calibration.md)."""
    import jax
    import jax.numpy as jnp

    from basislab.sim import funding as F

    dates, fund, _, _ = built["sep-2019"]
    days = F.FundingDay(*(jnp.asarray(fund.days[k]) for k in EI.DAY_FIELDS))
    z = jnp.zeros(())
    st = F.FundingState(jnp.asarray(fund.reserves0), jnp.asarray(fund.onrrp0), jnp.asarray(fund.tga0), z, z)
    params = fund.config().params()
    _, out = jax.lax.scan(lambda s, d: (F.step(params, s, d)[0], F.step(params, s, d)[2]), st, days)
    sp = np.asarray(out.spread_bp)
    assert sp[_at(dates, dt.date(2019, 9, 17))] > sp[_at(dates, dt.date(2019, 9, 13))] + 3


def test_late2025_states_the_curve_fallback(con):
    """shared/data has no par curve after 2025-07-11 (SOURCES.md): no yield news in late 2025, and
    the stale curve behind the CTD prices is said, never silently used."""
    from basislab.sim import episodes as E

    er = E.build("late-2025", con=con)
    assert not any(v.any() for v in er.news_bp.values())
    assert any("2025-07-11 (54 days older)" in w for w in er.warnings)
    assert any("no yield news" in w for w in er.warnings)


def test_reserve_flows_left_out_are_measured_and_said(built):
    """The Fed's other assets (H.4.1 WALCL - TREAST - RPONTSYD) moved reserves outside the engine's
    inputs: the 2019 H1 runoff (WALCL 4,097 -> 3,827bn, 28 Nov 2018 to 26 Jun 2019, of which Treasuries
    -143bn) is a drain."""
    dates, fund, _, notes = built["calm-2019h1"]
    w = np.array([d <= dt.date(2019, 6, 28) for d in dates])
    other = fund.extra["fed_other_assets_change"] * 1000
    assert -200 < other[w].sum() < -50
    assert any("other assets" in n for n in notes)
    assert not built["late-2025"][1].extra["fed_other_assets_change"].any()  # WALCL ends 2025-01 in the store
