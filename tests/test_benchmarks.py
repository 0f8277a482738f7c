"""Smoke tests of the benchmark helpers that reach into the engine (so a change of the engine's
internals breaks here, not in the middle of a long benchmark run)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import bench_sim  # noqa: E402  (benchmarks/ is not a package; an import error must fail, not skip)


def test_calm_step_costs_fewer_flops_than_the_full_step():
    """The calm step (both windows quiet) skips the clearing iterations and the waterfall, so
    XLA's own flop count for it is well below the full step's."""
    _, full = bench_sim.step_traffic_per_fund(8)
    _, quiet = bench_sim.step_traffic_per_fund(8, quiet=True)
    assert 0 < quiet < 0.5 * full


def test_state_bytes_per_fund_counts_every_per_fund_field():
    # q, fut [4]; debt, wshare, repo_pending [2]; other [2] (equities, credit); im, cash, bills,
    # bs_loan, pend, alive, lev_limit, cash_target, e0, pnl, position0; credit_drawn, credit_limit,
    # redeem_requested, redeem_pending, redeem_countdown, redeem_unfunded, redeemed: 34 float64
    # fields (issue 10 added 3, then the credit lines, redemptions and the second other asset 8)
    assert bench_sim.state_bytes_per_fund() == 34 * 8


def test_baseline_engine_runs_the_same_inputs_as_the_new_one():
    """The side-by-side benchmark times the engine before the per-player books (issue 9) on the
    same inputs. Issue 9 kept the numbers identical (checked at 8f5bcbf); issue 10 changed the
    model (margins as practised, the Fed), so the old engine must now run the same inputs to the
    same shapes, finite, with its own accounting intact."""
    from _baseline_sim import engine as old_engine
    from _baseline_sim import old_inputs
    from basislab import sim
    from basislab.sim.engine import run_batch

    for backstop in (False, True):
        p, s = sim.to_engine(sim.with_backstop(bench_sim._scenario(12, steps=24), backstop))
        new = run_batch(p, s, 3, 6)
        old = old_engine.run_batch(*old_inputs(p, s), 3, 6)
        for k, v in old.outputs.items():
            if k in new.outputs and k not in ("other_price", "other_sold"):  # [A] since the split
                assert np.shape(new.outputs[k]) == np.shape(v), k
            assert np.all(np.isfinite(v)), k
        # the new engine draws each fund and day from its own fold_in key (shape padding, issue 14),
        # the old one from whole-array draws: the day-0 prices are two draws of one distribution,
        # so their means over the 6 paths agree within 4 sd of the difference of two means
        sd = np.asarray(p.market.p0 * p.market.dmod * p.market.sigma_y)  # calm daily sd, per 100
        gap = old.outputs["cash_price"][:, 0].mean(0) - new.outputs["cash_price"][:, 0].mean(0)
        assert np.all(np.abs(gap) < 4.0 * sd * np.sqrt(2.0 / 6.0)), (gap, sd)
