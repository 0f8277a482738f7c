"""basislab.sim.validate: the March 2020 investor-redemption row against published industry flows.

Sources of the published range (validation only, never calibrated to; the vendors' releases,
docs/model.md section 16):

* eVestment, March 2020: investors pulled USD 24.1bn on about USD 2.95tn, 0.8% (Bloomberg via
  NDTV Profit, "Hedge Fund Assets Dip Below $3 Trillion to Least in Six Years",
  https://www.ndtvprofit.com/business/hedge-fund-assets-dip-below-3-trillion-to-least-in-six-years);
* HFR, Q1 2020: net outflow USD 33.3bn, "approximately 1.0 percent of overall industry capital",
  relative value -USD 4.6bn (HFR Global Hedge Fund Industry Report, 2020-04-22, via Hedgeweek,
  https://www.hedgeweek.com/2020/04/22/284907/hedge-fund-assets-fall-market-volatility-surges-pandemic-uncertainty);
* BarclayHedge, March 2020: redemptions USD 85.6bn, "2.7% of industry assets"
  (https://www.barclayhedge.com/insider/hedge-fund-redemptions-jump-to-85.6-billion-in-march-according-to-backstop-barclayhedge);
* Eurekahedge, March 2020: net redemptions USD 81.0bn, about 3.9% (Asset Flows Update May 2020,
  https://www.eurekahedge.com/Research/News/2030/Asset-Flows-Update-May-2020): the high end.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from basislab.sim import validate as V

PUB = V.PUBLISHED_REDEMPTIONS["mar-2020"]


def _fake(paid: np.ndarray, requested: np.ndarray, equity0: np.ndarray, mask: list[bool]):
    """An episode run and a result with only what the row reads."""
    er = SimpleNamespace(key="mar-2020", window_mask=np.array(mask))
    raw = SimpleNamespace(
        outputs={"redemptions_paid": paid, "redemptions_requested": requested},
        final={"fund_equity_each": equity0},
    )
    return er, SimpleNamespace(raw=raw)


def test_published_range_is_the_sources():
    """eVestment 0.8% and BarclayHedge 2.7% bound the range; HFR's 1.0% lies inside; widened by
    50%: 0.4%..4.05%, which holds Eurekahedge's 3.9%."""
    assert (PUB.low, PUB.high) == (0.8, 2.7)
    assert PUB.low <= 1.0 <= PUB.high
    assert V.REDEMPTION_WIDEN == 0.5
    assert PUB.low * (1 - V.REDEMPTION_WIDEN) == pytest.approx(0.4)
    hi = PUB.high * (1 + V.REDEMPTION_WIDEN)
    assert hi == pytest.approx(4.05) and hi > 3.9


def test_row_worked_by_hand():
    """Two paths, three funds of equity 10 (30 per path); window = days 1..3 of 5. Path 0 pays
    0.3 on day 2 (1.0%); path 1 pays 0.6 on day 1 (2.0%) and 0.3 on day 4, after the window (not
    counted): mean 1.5%, inside 0.4..4.05: pass. Requests: path 0 asks 0.6 on day 1, path 1 0.9
    on day 0 (before the window, not counted): asked in the window (2% + 0%) / 2 = 1%."""
    eq0 = np.full((2, 3), 10.0)
    paid = np.zeros((2, 5))
    paid[0, 2], paid[1, 1], paid[1, 4] = 0.3, 0.6, 0.3
    req = np.zeros((2, 5))
    req[0, 1:] = 0.6
    req[1, :] = 0.9
    mask = [False, True, True, True, False]
    er, res = _fake(paid, req, eq0, mask)
    assert V.model_redemptions_pct(er, res) == pytest.approx((1.5, 1.0))
    row = V.redemption_row(er, res, PUB)
    assert set(row) == set(V.COLUMNS)
    assert row["model_peak"] == pytest.approx(1.5) and row["status"] == "pass"
    assert (row["obs_low"], row["obs_high"]) == (0.8, 2.7) and row["n"] == 2
    assert row["rmse"] is None and row["timing_error"] is None
    assert "0.4..4.05%" in row["reason"]


@pytest.mark.parametrize(("paid_bn", "status"), [(0.0, "fail"), (0.12, "pass"), (1.2, "pass"), (1.3, "fail")])
def test_row_bounds(paid_bn, status):
    """On 30 of equity: 0 (a model paying nothing) fails; 0.12 = 0.4% and 1.2 = 4.0% pass;
    1.3 = 4.33% fails (above 4.05%)."""
    paid = np.zeros((1, 3))
    paid[0, 1] = paid_bn
    er, res = _fake(paid, np.zeros((1, 3)), np.full((1, 3), 10.0), [True, True, True])
    assert V.redemption_row(er, res, PUB)["status"] == status


@pytest.fixture(scope="module")
def mar():
    return V.validate_episode("mar-2020")


def test_mar2020_row_from_the_engine(mar):
    """The mar-2020 replay has the row; its value is the engine's ``redemptions_paid`` over the
    window's days over the funds' equity at the run start, and equals the change of
    ``fund_redeemed`` (cumulative) over the window; it is not a calibration moment."""
    from basislab.sim.calibrate import objective

    er, res, rows = mar
    row = next(r for r in rows if r["series"] == "fund_redemptions")
    o, w = res.raw.outputs, er.window_mask
    eq0 = res.raw.final["fund_equity_each"].sum(-1)
    by_day = (o["redemptions_paid"][:, w].sum(1) / eq0).mean() * 100.0
    idx = np.flatnonzero(w)
    red = o["fund_redeemed"]
    by_stock = ((red[:, idx[-1]] - red[:, idx[0] - 1]) / eq0).mean() * 100.0
    assert row["model_peak"] == pytest.approx(by_day, abs=1e-6)
    assert by_stock == pytest.approx(by_day, abs=1e-9)
    lo, hi = 0.8 * 0.5, 2.7 * 1.5
    assert row["status"] == ("pass" if lo <= row["model_peak"] <= hi else "fail")
    others = [r for r in rows if r["series"] != "fund_redemptions"]
    assert objective(rows) == objective(others)
    assert sum(r["series"] == "fund_redemptions" for r in rows) == 1
