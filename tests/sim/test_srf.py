"""The Standing Repo Facility's rising cost and its central clearing (issue 10 item 4).

The SRF ceiling is ``SOFR - IORB = SRF - IORB + wedge + slope q`` (docs/mechanisms.md section 1):
the slope is calibrated on market series only, the 2025-10-31 record (SOFR 4.22%, IORB 3.90%:
FRED; SRF take-up USD 50.35bn: ``srf_record_oct31_2025``, Reuters), and checked out of sample on
the 2025-12-31 record (SOFR 3.87%, IORB 3.65%; USD 74.6bn: ``srf_record_dec31_2025``)."""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import brentq

from basislab import sim
from basislab.errors import BasislabError
from basislab.sim import funding as fm
from basislab.sim.scenario import FundingMarketConfig

ZERO = "{2y: 0, 5y: 0, 10y: 0, long: 0}"
CALM = [f"shock.yield_bp={ZERO}", f"shock.cash_dislocation_bp={ZERO}", "shock.vol_multiplier=1.0"]
SMALL = ["funds.count=8", "horizon_days=20", "paths=4", "backstop.enabled=false"]

# the 2025 preset's curve (docs/mechanisms.md): alpha -6.756 bp, beta 0.1888 bp, gamma 8.313 /tn,
# x_ref 3.473 tn; no scarcity wall in 2025
ALPHA, BETA, GAMMA, XREF = -6.756, 0.1888, 8.313, 3.473


def _day(**kw: float) -> fm.FundingDay:
    base = dict(
        iorb_pct=3.90, onrrp_rate_pct=3.80, srf_rate_pct=4.00, coupon_settlement=0.0,
        treasury_net_receipts=0.0, onrrp_change=0.0, fed_repo=0.0, month_end=0.0, quarter_end=0.0,
        year_end=0.0,
    )  # fmt: skip
    base.update(kw)
    return fm.FundingDay(*(jnp.asarray(float(base[f])) for f in fm.FundingDay._fields))


def test_slope_is_calibrated_on_the_market_pair_of_2025_10_31() -> None:
    # (32 - 10 - 10) / 50.35 = 0.238332 bp per USD bn
    assert fm.observed_sofr_iorb_bp("2025-10-31") == pytest.approx(32.0, abs=1e-9)
    assert fm.srf_slope_fit("2025-10-31") == pytest.approx(12.0 / 50.35, rel=1e-12)
    assert fm.SRF_SLOPE_BP_PER_BN == pytest.approx(12.0 / 50.35, abs=5e-5)
    assert FundingMarketConfig().srf_slope_bp_per_bn == fm.SRF_SLOPE_BP_PER_BN
    assert fm.FundingConfig.preset("2025").srf_slope_bp_per_bn == fm.SRF_SLOPE_BP_PER_BN
    assert fm.FundingConfig.preset("2019").srf_slope_bp_per_bn == 0.0


def test_out_of_sample_2025_12_31_after_the_srf_redesign() -> None:
    # SOFR - IORB 22 bp with USD 74.6bn used: the 10-31 line predicts 20 + 0.2383 x 74.6 = 37.8 bp,
    # 15.8 bp too high: the 10 Dec 2025 redesign (morning window, full allotment,
    # srf_params_dec2025) lowered the SRF's cost; the implied slope that day is 2 / 74.6 = 0.027.
    assert fm.observed_sofr_iorb_bp("2025-12-31") == pytest.approx(22.0, abs=1e-9)
    predicted = 20.0 + fm.SRF_SLOPE_BP_PER_BN * 74.6
    assert predicted == pytest.approx(37.78, abs=0.01)
    assert fm.srf_slope_fit("2025-12-31") == pytest.approx(2.0 / 74.6, rel=1e-12)
    with pytest.raises(BasislabError, match="no SRF take-up observation"):
        fm.srf_slope_fit("2025-11-03")


def test_take_up_and_sofr_with_the_slope_by_hand() -> None:
    # Opening liquidity 2.8287 tn (the scenario's 2,809.5bn reserves + 19.2bn ON RRP): the curve
    # gives -6.756 + 0.1888 e^{8.313 (3.473 - 2.8287)} = 33.25 bp without the SRF. Flat ceiling:
    # 20 bp at x = 3.473 - ln(26.756 / 0.1888) / 8.313 = 2.87709, take-up 48.4bn. Rising ceiling
    # 20 + 238.33 q (q in tn): the crossing q solves curve(2.8287 + q) = 20 + 238.33 q.
    x0 = 2.8287
    slope = 12.0 / 50.35
    cfg = fm.FundingConfig.preset("2025").model_copy(update={"srf_slope_bp_per_bn": slope})
    p = cfg.params()

    def curve(x: float) -> float:
        return ALPHA + BETA * math.exp(-GAMMA * (x - XREF))

    assert curve(x0) == pytest.approx(33.25, abs=0.01)
    q_flat = XREF - math.log(26.756 / BETA) / GAMMA - x0
    q = brentq(lambda q: curve(x0 + q) - 20.0 - 1000.0 * slope * q, 0.0, 0.1, xtol=1e-14)
    assert q_flat == pytest.approx(0.04839, abs=1e-5)
    assert q == pytest.approx(0.02457, abs=1e-5)  # about half the flat take-up
    out = fm.clear(p, jnp.asarray(x0), jnp.asarray(x0), _day())
    assert float(out.srf_takeup) == pytest.approx(q, abs=1e-9)
    assert float(out.spread_bp) == pytest.approx(20.0 + 1000.0 * slope * q, abs=1e-6)  # 25.86 bp
    assert float(out.spread_bp) == pytest.approx(25.86, abs=0.01)
    assert float(out.sofr_pct) == pytest.approx(3.90 + float(out.spread_bp) / 100.0, abs=1e-12)
    # central clearing removes the slope: back to the flat ceiling, 20 bp and 48.4bn
    cleared = cfg.model_copy(update={"srf_central_clearing": 1.0}).params()
    out = fm.clear(cleared, jnp.asarray(x0), jnp.asarray(x0), _day())
    assert float(out.srf_takeup) == pytest.approx(q_flat, abs=1e-9)
    assert float(out.spread_bp) == pytest.approx(20.0, abs=1e-6)


def test_no_srf_no_slope_before_july_2021() -> None:
    # a 2019 market (no SRF: rate 1e6) with the repo operations acting: the slope changes nothing
    sets = [*SMALL, *CALM, "funding.regime=2019", "funding.srf_access=false", "market.iorb_pct=2.10"]
    sets += ["fed.repo_operations.enabled=true"]
    flat = sim.simulate(sim.load_scenario("seed-thesis", [*sets, "funding.srf_slope_bp_per_bn=0"]), seed=1)
    slope = sim.simulate(sim.load_scenario("seed-thesis", sets), seed=1)
    for k in ("sofr_minus_iorb_bp", "srf_takeup_usd_bn", "dealer_slr_utilisation", "sold_unwind"):
        np.testing.assert_array_equal(flat.raw.outputs[k], slope.raw.outputs[k])


def test_central_clearing_lowers_dealer_utilisation_and_sofr() -> None:
    """The seed-thesis sell-off with the SRF: cleared, the on-lent SRF loans leave the dealers'
    leverage exposure and the slope goes, so SOFR - IORB is capped at the flat 20 bp and the
    dealers are less utilised; every dollar is still accounted for."""
    runs = {}
    for c in ("false", "true"):
        sc = sim.load_scenario("seed-thesis", [*SMALL, f"funding.srf_central_clearing={c}"])
        runs[c] = sim.simulate(sc, seed=0)
        assert sim.audit_max(runs[c]) < 1e-9
    off, on = (runs[c].raw.outputs for c in ("false", "true"))
    assert off["srf_takeup_usd_bn"].max() > 10.0
    assert on["sofr_minus_iorb_bp"].max() == pytest.approx(20.0, abs=1e-6)
    assert off["sofr_minus_iorb_bp"].max() > 22.0
    assert np.all(on["sofr_minus_iorb_bp"] <= off["sofr_minus_iorb_bp"] + 1e-9)
    assert on["dealer_slr_utilisation"].max() < off["dealer_slr_utilisation"].max()
    # the on-lent SRF is in the uncleared exposure: JPM's share (capacity 4,296 of 5,680bn) of
    # the first morning's take-up, over its capacity 214.8 / 5%
    w = (214.8 / 0.05) / (214.8 / 0.05 + 69.2 / 0.05)
    gap = off["dealer_slr_utilisation"][:, 0] - on["dealer_slr_utilisation"][:, 0]
    expect = w * off["srf_takeup_usd_bn"][:, 0] / (214.8 / 0.05)
    np.testing.assert_allclose(gap, expect, rtol=1e-6, atol=1e-9)
