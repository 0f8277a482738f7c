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
    # q, fut [4]; debt, wshare [2]; im, cash, bills, other, bs_loan, pend, alive, lev_limit,
    # cash_target, e0, pnl: 23 float64 fields
    assert bench_sim.state_bytes_per_fund() == 23 * 8


def test_baseline_engine_gives_the_same_numbers_as_the_new_one():
    """The side-by-side benchmark times the engine before the per-player books (issue 9) on the
    same inputs; both must compute the same run (to round-off: flows are summed in another order)."""
    from _baseline_sim import engine as old_engine
    from _baseline_sim import old_inputs
    from basislab import sim
    from basislab.sim.engine import run_batch

    for backstop in (False, True):
        p, s = sim.to_engine(sim.with_backstop(bench_sim._scenario(12, steps=24), backstop))
        new = run_batch(p, s, 3, 6)
        old = old_engine.run_batch(*old_inputs(p, s), 3, 6)
        assert np.array_equal(new.outputs["new_defaults"], old.outputs["new_defaults"])
        for k, v in old.outputs.items():
            np.testing.assert_allclose(new.outputs[k], v, rtol=1e-9, atol=1e-9, err_msg=k)
