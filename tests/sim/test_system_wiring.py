"""Issue 10, items 2-5 in the engine: the funding market sets SOFR (with the SRF and the Fed's repo
operations as ceilings), dealers absorb sales within their SLR capacity, other sellers sell into
the same clearing under dollar stress, and a calm market stays calm on all of them.

Expected values are worked from docs/mechanisms.md (the 2019 curve: floor -4.383 bp, scale 4.277
bp, decay 4.137 /tn around 1.836 tn, wall 10 bp per USD bn below 1.4953 tn) and the 10-Q figures
of sim/dealers.py (JPM Tier 1 214.8, exposure 3,404.5; MS 69.2, 1,091.5; SLR 5%)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from basislab import sim
from basislab.sim import engine
from basislab.sim.scenario import funding_inputs, to_engine

ZERO = "{2y: 0, 5y: 0, 10y: 0, long: 0}"
SMALL = ["funds.count=8", "horizon_days=20", "shock.start_day=3", "shock.duration_days=5", "paths=4"]
CALM = [f"shock.yield_bp={ZERO}", f"shock.cash_dislocation_bp={ZERO}", "shock.vol_multiplier=1.0"]


def _run(params, static, paths=4):
    return engine.run_batch(params, static, 0, paths).outputs


def test_calm_market_keeps_the_rest_of_the_system_calm():
    """No shock, calm volatility, 60 days: SOFR - IORB stays within 5 bp of its first-day level
    (where the curve meets the SRF's rising cost, 25.86 bp: worked in tests/sim/test_srf.py; the
    observed calm range of SOFR - IORB over 42 business days of 2025 H1 was 10-19 bp, FRED),
    nobody else sells, dealers' utilisation stays at the 10-Q level, the Fed does not act."""
    sc = sim.load_scenario("seed-thesis", ["backstop.enabled=false", *CALM])
    o = sim.simulate(sc, paths=8, seed=0).raw.outputs
    spread = o["sofr_minus_iorb_bp"]
    assert np.max(np.abs(spread - spread[:, :1])) < 5.0
    assert spread[0, 0] == pytest.approx(25.857, abs=0.01)  # IORB + 10 + 10 wedge + 0.2383 x 24.6bn
    assert np.all(o["sold_other_sellers"] == 0.0)
    # 10-Q level 0.7925 plus the SRF loans dealers lend on (25-50bn a day at the scenario's
    # 2025-10-31 reserves: +0.005 to +0.008), far below the 0.85 where spreads start to rise
    assert np.max(o["dealer_slr_utilisation"]) < 0.81
    assert np.all(o["fed_treasury_purchases"] == 0.0)


def _sep2019(drain_tn: float, ops: bool):
    """A 2019 funding market at 1.55 tn of reserves (above the calm threshold) drained by a tax
    date on day 5 (reserves -> TGA in the afternoon): the next morning clears below the wall."""
    sets = [*SMALL, *CALM, "funding.regime=2019", "funding.srf_access=false", "market.iorb_pct=2.10"]
    if ops:
        sets += ["fed.repo_operations.enabled=true"]
    sc = sim.load_scenario("seed-thesis", sets)
    params, static = to_engine(sc)
    receipts = np.zeros(static.n_steps)
    receipts[5] = drain_tn
    fi = funding_inputs(
        static.n_steps, sc, reserves0=1.55, onrrp0=0.0, treasury_net_receipts=receipts, onrrp_rate_pct=2.00
    )
    return _run(params._replace(funding=fi), static)


def test_a_tax_date_below_the_scarcity_wall_spikes_sofr_the_next_morning():
    """Draining 100bn on day 5 leaves 1.45 tn, 45.3bn below the wall b* = 1.4953 tn: the morning of
    day 6 clears at curve(1.45) + 10 x 45.3 = 4.277 e^{-4.137 (1.45 - 1.836)} - 4.383 + 453 bp."""
    o = _sep2019(0.1, ops=False)["sofr_minus_iorb_bp"][0]
    curve = 4.277 * math.exp(-4.137 * (1.45 - 1.836)) - 4.383
    assert o[5] < 10.0  # the tax day itself clears on the opening balance (Copeland et al. 2021)
    assert o[6] == pytest.approx(curve + 10.0 * 1000.0 * (1.4953 - 1.45), rel=1e-3)


def test_repo_operations_act_the_morning_after_the_spike():
    """Triggered at 50 bp by the end-of-day observation of day 6, a 4-hour delay: full allotment at
    IORB from the morning of day 7, USD 75bn a day, so the spike is capped there (the wall at
    45.3 - 75 < 0: the curve alone)."""
    out = _sep2019(0.1, ops=True)
    spread, on = out["sofr_minus_iorb_bp"][0], out["fed_repo_ops_on"][0]
    assert on[6] == 0.0 and on[7] == 1.0
    assert spread[6] > 400.0
    assert spread[7] < 30.0
    assert out["srf_takeup_usd_bn"][0, 7] > 40.0


def test_dealers_fill_up_under_heavy_foreign_selling_and_the_exemption_eases_prices():
    """Four times March 2020's foreign and fund selling (S from a 30% equity fall and +200 bp credit):
    sales that do not repay repo fill dealers (no lay-off) past the 85% threshold; with the SLR exemption
    (Treasuries and reserves out of exposure) their utilisation is lower and cash falls less."""
    base = [*SMALL, "funds.unencumbered_cash_pct=20", "shock.other_assets_pct=-30", "shock.credit_spread_bp=200",
            "other_sellers.scale=4", "dealers.distribute_per_day=0"]  # fmt: skip
    off = sim.simulate(sim.load_scenario("seed-thesis", base)).raw.outputs
    on = sim.simulate(sim.load_scenario("seed-thesis", [*base, "dealers.slr_exempt=true"])).raw.outputs
    assert off["sold_other_sellers"].sum((1, 2)).mean() > 500.0
    assert off["dealer_slr_utilisation"].max() > 0.85
    assert off["dealer_slr_utilisation"].max() <= 1.0 + 1e-9  # never beyond capacity
    assert on["dealer_slr_utilisation"].max() < off["dealer_slr_utilisation"].max()
    assert on["cash_price"].min(1).mean() > off["cash_price"].min(1).mean()


def test_cash_cheapening_raises_implied_repo_and_a_rate_cut_alone_does_not():
    """Implied repo minus SOFR rises by (ic + xd + if) / (T / 252) as cash cheapens against futures
    (Burghardt & Belton ch. 2 in the model's prices); an IORB cut moves SOFR and the carry alike."""
    sc = sim.load_scenario("seed-thesis", [*SMALL, *CALM])
    params, static = to_engine(sc)
    base = _run(params, static)["implied_repo_minus_sofr_bp"]
    iorb = np.full(static.n_steps, 3.90)
    iorb[10:] = 3.65
    fi = funding_inputs(
        static.n_steps, sc, iorb_pct=iorb, onrrp_rate_pct=iorb - 0.15, srf_rate_pct=iorb + 0.10
    )
    cut = _run(params._replace(funding=fi), static)["implied_repo_minus_sofr_bp"]
    assert np.max(np.abs(cut - base)) < 1.0
    shocked = sim.simulate(sim.load_scenario("seed-thesis", SMALL)).raw.outputs["implied_repo_minus_sofr_bp"]
    assert np.all(shocked.max(1).mean(0) > base[:, 0].mean(0) + 20.0)


def test_flight_to_government_money_funds_eases_repo_under_dollar_stress():
    """Under the dash-for-cash inputs the stress index passes the sellers' trigger and cash flees
    to government money funds (USD 790bn a month at S = 1, mmf_flows_mar2020_crane), which lend it
    in repo: SOFR - IORB ends lower than with that flow switched off; a calm market has none."""
    sets = [
        *SMALL,
        "shock.other_assets_pct=-12.7",
        "shock.credit_spread_bp=200",
        "funds.unencumbered_cash_pct=0.5",
    ]
    params, static = to_engine(sim.load_scenario("seed-thesis", sets))
    on = _run(params, static)["sofr_minus_iorb_bp"]
    off = _run(
        params._replace(other_sellers=params.other_sellers._replace(mmf_inflow=np.float64(0.0))), static
    )
    assert on[:, -1].mean() < off["sofr_minus_iorb_bp"][:, -1].mean() - 0.1
