"""Property tests: over random configurations every accounting identity holds at every step to
1e-9 relative, and nothing is NaN. All examples share one compiled engine (same Static)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from basislab import sim
from basislab.sim.engine import run_batch

from .conftest import small

_BASE = None


def _base():
    global _BASE
    if _BASE is None:
        _BASE = sim.to_engine(small())
    return _BASE


configs = st.fixed_dictionaries(
    {
        "lev": st.floats(1.5, 150.0),
        "bilat": st.floats(0.05, 0.95),
        "h0_tri": st.floats(-0.02, 0.10),
        "shock": st.floats(-3.0, 6.0),
        "disloc": st.floats(-1.0, 5.0),
        "impact": st.floats(0.0, 30.0),
        "bs_on": st.sampled_from([0.0, 1.0]),
        "ltv": st.floats(0.0, 0.5),
        "refuse": st.floats(0.0, 0.5),
        "other": st.floats(0.0, 3.0),
        "cash_share": st.floats(0.0, 1.0),
        "alpha": st.floats(0.3, 5.0),
        "lev_mult": st.floats(1.05, 5.0),
        "cash_ratio": st.floats(0.0, 0.2),
        "stop_loss": st.floats(0.01, 0.5),
        "vol": st.floats(1.0, 12.0),
        "lag": st.sampled_from([0.0, 1.0]),
        "band": st.floats(1.0, 6.0),
        "notice": st.sampled_from([0.0, 1.0, 3.0]),
        "mta": st.floats(0.0, 0.5),
        # the rest of the system (issue 10): dealers, other sellers, the funding market, the Fed
        "exempt": st.sampled_from([0.0, 1.0]),
        "depth_share": st.floats(0.05, 0.95),
        "lay_off": st.floats(0.0, 1.0),
        "sellers": st.floats(0.0, 20.0),
        "credit": st.floats(0.0, 600.0),
        "cross": st.floats(0.0, 1.0),
        "drain": st.floats(-0.5, 0.5),
        "fed_buys": st.floats(0.0, 200.0),
        # credit lines and redemptions (issue 10 item 1)
        "lines": st.floats(0.0, 0.05),
        "redeem_per_loss": st.floats(0.0, 5.0),
        "redeem_threshold": st.floats(0.0, 0.1),
        "redeem_notice": st.sampled_from([1.0, 3.0, 10.0]),
        "seed": st.integers(0, 2**31 - 1),
    }
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs)
def test_accounting_identities_hold_for_random_configurations(c):
    p, s = _base()
    m, r, f, bs = p.market, p.repo, p.funds, p.backstop
    p = p._replace(
        market=m._replace(
            dy=m.dy * c["shock"],
            dx=m.dx * c["disloc"],
            impact_cash=m.impact_cash * c["impact"],
            impact_fut=m.impact_fut * c["impact"],
            volmult=np.where(np.asarray(m.volmult) > 1.0, c["vol"], 1.0),
            # the credit spread widens by c["credit"] bp over the run (price: -D x change)
            dother=np.stack(
                [np.asarray(m.dother)[:, 0], np.full(s.n_steps, -7.0 * c["credit"] / 1e4 / s.n_steps)], axis=1
            ),
            other_cross=np.array([[1.0, c["cross"]], [c["cross"], 1.0]]),
        ),
        repo=r._replace(
            haircut_levels=np.array([0.0, c["h0_tri"]])[:, None] + np.array([0.0, 0.01, 0.02]),
            refusal_levels=np.array(
                [[0.0, c["refuse"] / 2, c["refuse"]], [0.0, c["refuse"] / 4, c["refuse"] / 2]]
            ),
            stress_bands=np.array([c["band"], 2 * c["band"]]),
            settle_lag=np.float64(c["lag"]),
            min_transfer=np.float64(c["mta"]),
        ),
        ccp=p.ccp._replace(notice_days=np.float64(c["notice"])),
        funds=f._replace(
            lev_median=np.float64(c["lev"]),
            bilat_share=np.float64(c["bilat"]),
            other_ratio=np.float64(c["other"]),
            cash_share=np.float64(c["cash_share"]),
            pareto_alpha=np.float64(c["alpha"]),
            lev_limit_mult=np.float64(c["lev_mult"]),
            cash_ratio=np.float64(c["cash_ratio"]),
            stop_loss=np.float64(c["stop_loss"]),
            credit_line_ratio=np.float64(c["lines"]),
            redeem_per_loss=np.float64(c["redeem_per_loss"]),
            redeem_threshold=np.float64(c["redeem_threshold"]),
            redeem_notice=np.float64(c["redeem_notice"]),
        ),
        backstop=bs._replace(on=np.float64(c["bs_on"]), ltv=np.float64(c["ltv"])),
        dealers=p.dealers._replace(
            slr_exempt=np.float64(c["exempt"]),
            depth_share=np.float64(c["depth_share"]),
            distribute=np.float64(c["lay_off"]),
        ),
        other_sellers=p.other_sellers._replace(
            rate=np.asarray(p.other_sellers.rate) * c["sellers"],
            cap=np.asarray(p.other_sellers.cap) * c["sellers"],
            prime_outflow=np.asarray(p.other_sellers.prime_outflow) * c["sellers"],
        ),
        funding=p.funding._replace(
            days=p.funding.days._replace(
                treasury_net_receipts=np.where(np.arange(s.n_steps) == 3, c["drain"], 0.0)
            )
        ),
        fed=p.fed._replace(
            scheduled_purchases=np.where(np.arange(s.n_steps)[:, None] >= 4, c["fed_buys"] / 4, 0.0)
            * np.ones(s.n_buckets)
        ),
    )
    run = run_batch(p, s, c["seed"], 6)  # raises SimulationError on any NaN / inf
    res = sim.audit(run)
    worst = {k: float(np.max(v)) for k, v in res.items()}
    assert max(worst.values()) < 1e-9, worst
    o = run.outputs
    # stocks that cannot go negative never do
    assert np.all(o["funds_alive"] >= 0) and np.all(o["fund_im"] >= -1e-9)
    assert np.all(o["lender_losses"] >= -1e-12) and np.all(o["ccp_losses"] >= -1e-12)
    assert np.all(np.diff(o["lender_losses"], axis=1) >= -1e-12)  # cumulative
    if c["bs_on"] == 0.0:
        assert np.all(o["backstop_outstanding"] == 0.0)
    # lines drawn never exceed the committed lines; redemptions paid never exceed those requested
    assert np.all(o["credit_lines_outstanding"] >= -1e-12)
    assert np.all(o["fund_redeemed"] <= o["redemptions_requested"] * (1 + 1e-12) + 1e-12)
