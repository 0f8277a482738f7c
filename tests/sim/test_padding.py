"""Shape padding (issue 14 item 4): fund counts and horizons padded to buckets, so scenarios of
one bucket share the compiled engine, with the numbers of the unpadded run (docs/model.md 14)."""

from __future__ import annotations

import jax
import jax.monitoring as monitoring
import numpy as np
import pytest

from basislab import sim
from basislab.sim import engine, tuning

from .conftest import SMALL, small


@pytest.mark.parametrize(
    ("n", "funds", "days"),
    [
        (1, 16, 8),
        (12, 16, 16),
        (24, 32, 32),
        (60, 64, 64),
        (100, 128, 128),
        (1000, 1024, 1024),
        (5000, 5120, 5120),
    ],
)
def test_buckets_are_powers_of_two_then_steps(n, funds, days):
    assert tuning.padded_funds(n) == funds
    assert tuning.padded_days(n) == days


#: test_engine's severe shock: funds default and lenders liquidate them
SEVERE = (
    "shock.yield_bp={2y: 150, 5y: 250, 10y: 300, long: 300}",
    "funds.leverage_median=90",
    "shock.cash_dislocation_bp={2y: 80, 5y: 150, 10y: 200, long: 300}",
)


def _leaves(params) -> dict[str, tuple]:
    flat = jax.tree_util.tree_flatten_with_path(params)[0]
    return {jax.tree_util.keystr(k): np.shape(v) for k, v in flat}


def test_day_fields_are_exactly_the_inputs_that_change_with_the_horizon():
    """Every parameter whose shape follows the horizon is padded (:data:`engine.DAY_FIELDS`), and
    no parameter follows the fund count (the population is drawn inside the engine)."""
    a = _leaves(sim.to_engine(small("horizon_days=10"))[0])
    b = _leaves(sim.to_engine(small("horizon_days=11"))[0])
    changed = {k for k in a if a[k] != b[k]}
    padded = _leaves(engine.pad(*sim.to_engine(small("horizon_days=10")))[0])
    assert changed == {k for k in a if padded[k] != a[k]}
    assert all(a[k][0] == 10 and padded[k][0] == 16 for k in changed)
    assert _leaves(sim.to_engine(small("funds.count=5"))[0]) == _leaves(sim.to_engine(small())[0])


def _worst(x, y) -> float:
    """``max |x - y|`` over the field's scale (at least 1)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    return float(np.max(np.abs(x - y)) / max(float(np.max(np.abs(x))), 1.0)) if x.size else 0.0


def test_padded_run_gives_the_unpadded_numbers():
    """12 funds x 24 days run padded to 16 x 32 against the same scenario unpadded: same defaults
    on every path, every output, audit aggregate and final book within 1e-12 of its field's
    scale; the padded funds and days are cut off."""
    p, s = sim.to_engine(small(*SEVERE, "funds.unencumbered_cash_pct=0", "funds.stop_loss_pct=100"))
    assert (s.n_funds, s.n_steps) == (12, 24)
    plain = engine.run_batch(p, s, 3, 5, block=2, n_devices=1, padded=False)
    padded = engine.run_batch(p, s, 3, 5, block=2, n_devices=1)
    assert padded.static == s
    assert padded.outputs["cash_price"].shape == (5, 24, 4)
    assert padded.final["funds.bonds"].shape == (5, 4, 12)
    assert np.array_equal(plain.outputs["new_defaults"], padded.outputs["new_defaults"])
    assert plain.outputs["new_defaults"].sum() > 0  # a run where funds fail, not a calm one
    worst = 0.0
    for key in ("outputs", "audit_steps", "audit_init", "final"):
        a, b = getattr(plain, key), getattr(padded, key)
        assert a.keys() == b.keys()
        scale = (
            max(float(np.max(np.abs(plain.audit_steps["scale"]))), 1.0) if key.startswith("audit") else 1.0
        )
        for k in a:
            err = _worst(a[k], b[k]) / scale
            assert err <= 1e-12, (key, k, err)
            worst = max(worst, err)
    print(f"padded vs unpadded: worst relative difference {worst:.1e}")


def test_scenarios_of_one_bucket_share_one_executable():
    """A second scenario with other fund and day counts in the same bucket (14 funds x 20 days
    against 12 x 24: both 16 x 32) runs on the first one's executables, compiling nothing."""
    compiles: list[str] = []

    def listen(event: str, secs: float, **_: object) -> None:
        if event.endswith("backend_compile_duration"):
            compiles.append(event)

    p1, s1 = sim.to_engine(small())
    p2, s2 = sim.to_engine(sim.load_scenario("seed-thesis", [*SMALL, "funds.count=14", "horizon_days=20"]))
    assert s1 != s2 and engine.pad(p1, s1)[1] == engine.pad(p2, s2)[1]
    runner = engine.compiled_runner(engine.pad(p1, s1)[1], block=2, n_devices=1)
    monitoring.register_event_duration_secs_listener(listen)
    try:
        first = engine.run_batch(p1, s1, 3, 4, block=2, n_devices=1)
        warm, pairs = len(compiles), len(runner._compiled)
        second = engine.run_batch(p2, s2, 3, 4, block=2, n_devices=1)
    finally:
        monitoring.unregister_event_duration_listener(listen)
    assert len(compiles) == warm  # no compile for the second scenario
    assert len(runner._compiled) == pairs
    assert first.outputs["cash_price"].shape == (4, 24, 4)
    assert second.outputs["cash_price"].shape == (4, 20, 4)
    assert second.final["funds.cash"].shape == (4, 14)
    assert second.outputs["funds_alive"][:, 0].max() <= 14
