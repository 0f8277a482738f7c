"""basislab.sim.validate: the error measures worked by hand, and the rows of a replay."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from basislab.sim import validate as V
from basislab.sim.episodes import Tolerance

DAYS = pd.bdate_range("2020-03-02", periods=5)
WINDOW = (DAYS[1].date(), DAYS[4].date())


def test_row_errors_worked_by_hand():
    """model 0,1,2,3,1 vs observed 0,1,3,2,1: RMSE sqrt((0+0+1+1+0)/5) = 0.6325; observed RMS
    sqrt((0+1+9+4+1)/5) = 1.7321; peaks in the window 3 (day 4) and 3 (day 3): timing +1 day."""
    model = pd.Series([0.0, 1, 2, 3, 1], index=DAYS)
    obs = pd.Series([0.0, 1, 3, 2, 1], index=DAYS)
    r = V._row("x", "s", "b", "u", model, obs, WINDOW, Tolerance(0.5, 0.1, 1))
    assert r["rmse"] == pytest.approx(math.sqrt(0.4), abs=1e-6)
    assert r["obs_rms"] == pytest.approx(math.sqrt(3.0), abs=1e-6)
    assert (r["model_peak"], r["obs_peak"]) == (3.0, 3.0)
    assert r["timing_error"] == 1 and r["status"] == "pass"
    # a tighter timing tolerance fails the same row
    assert V._row("x", "s", "b", "u", model, obs, WINDOW, Tolerance(0.5, 0.1, 0))["status"] == "fail"
    # and an RMSE above half the observed RMS
    assert V._row("x", "s", "b", "u", model * 3, obs, WINDOW, Tolerance(0.5, 5.0, 5))["status"] == "fail"


def test_peak_of_a_ceiling_is_its_first_day():
    """A spread held at a ceiling (20bp) on several days, equal up to round-off (2e-13): the
    peak is the first of them, as for exact ties, not the one round-off makes largest."""
    s = pd.Series([5.0, 20.0 - 2e-13, 12.0, 20.0 - 1e-13, 20.0], index=DAYS)
    assert V._peak(s) == (pytest.approx(20.0), DAYS[1].date())
    # a real difference is not a tie
    assert V._peak(pd.Series([5.0, 19.9, 12.0, 20.0, 3.0], index=DAYS))[1] == DAYS[3].date()
    # a negative trough counts by its size, signed
    assert V._peak(pd.Series([5.0, -30.0, 12.0, 20.0, 3.0], index=DAYS)) == (-30.0, DAYS[1].date())


def test_row_without_model_is_na_with_reason():
    obs = pd.Series([0.0, 1, 3, 2, 1], index=DAYS)
    r = V._row("x", "sofr_minus_iorb", "b", "bp", None, obs, WINDOW, Tolerance(1, 1, 1))
    assert r["status"] == "n/a" and "issue 10" in r["reason"]
    assert r["obs_peak"] == 3.0 and r["obs_peak_date"] == DAYS[2].date().isoformat()


def test_business_day_timing_skips_weekends_and_holidays():
    import datetime as dt

    # Friday 2020-04-03 -> Monday 2020-04-06: one business day; Good Friday 2020-04-10 is closed
    assert V._bdays(dt.date(2020, 4, 3), dt.date(2020, 4, 6)) == 1
    assert V._bdays(dt.date(2020, 4, 9), dt.date(2020, 4, 13)) == 1
    assert V._bdays(dt.date(2020, 4, 13), dt.date(2020, 4, 9)) == -1


def test_objective_is_mean_squared_relative_rmse():
    from basislab.sim.calibrate import objective

    rows = [
        {"series": "futures_path", "rmse": 1.0, "obs_rms": 2.0},
        {"series": "lev_short_change", "rmse": 3.0, "obs_rms": 1.0},
        {"series": "fed_treasury_holdings", "rmse": 9.0, "obs_rms": 1.0},  # not a moment
        {"series": "sofr_minus_iorb", "rmse": None, "obs_rms": 5.0},  # no model value
    ]
    assert objective(rows) == pytest.approx((0.25 + 9.0) / 2)


@pytest.fixture(scope="module")
def sep_rows():
    return V.validate(["sep-2019"])


def test_sep2019_rows(sep_rows):
    """sep-2019: futures path and weekly short changes for the four buckets, SOFR-IORB and the Fed's
    holdings (observed, not inputs); the observed SOFR-IORB peak is +315bp on 2019-09-17."""
    got = {(r["series"], r["label"]) for r in sep_rows}
    for b in ("2y", "5y", "10y", "long"):
        assert ("futures_path", b) in got and ("lev_short_change", b) in got
    assert ("sofr_minus_iorb", "SOFR-IORB") in got and ("fed_treasury_holdings", "Fed UST change") in got
    sofr = next(r for r in sep_rows if r["series"] == "sofr_minus_iorb")
    assert sofr["obs_peak"] == pytest.approx(315.0) and sofr["obs_peak_date"] == "2019-09-17"
    # the model's funding market (issue 10) gives the row: one value per SOFR day of the run
    assert sofr["status"] in ("pass", "fail") and sofr["n"] >= 30 and sofr["model_peak"] is not None
    fed = next(r for r in sep_rows if r["series"] == "fed_treasury_holdings")
    # H.4.1: the Fed's Treasury holdings barely moved before its bill purchases of 15 Oct 2019
    assert fed["status"] in ("pass", "fail") and abs(fed["obs_peak"]) < 30
    for r in sep_rows:
        assert r["status"] in ("pass", "fail", "n/a")
        if r["status"] == "n/a":
            assert r["reason"]
        else:
            assert np.isfinite(r["rmse"]) and r["n"] > 0
    # the model's futures follow the news: the 10y path's error is well under the path's size
    ty = next(r for r in sep_rows if r["series"] == "futures_path" and r["label"] == "10y")
    assert ty["rmse"] < 0.5 * ty["obs_rms"]
    assert V.summary(sep_rows)["sep-2019"]["pass"] + V.summary(sep_rows)["sep-2019"]["fail"] >= 8
