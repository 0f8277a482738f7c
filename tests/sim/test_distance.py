"""Distance to the spiral (issue 14, item 2): the batched multisection on toy functions worked by
hand, and on the real simulator the returned brackets hold the 10% crossing of each path."""

from __future__ import annotations

import numpy as np
import pytest

from basislab.errors import BasislabError
from basislab.sim import distance as dist
from basislab.sim import policy as pol


def test_multisection_finds_each_threshold_of_a_monotone_toy():
    # f_i(m) = m - t_i: thresholds t_i; one at 0 (unwinds with no shock), one above the search
    t = np.array([0.0, 0.37, 1.234, 3.999, 5.0, 2.0])
    shapes = []

    def f(items, m):
        shapes.append(len(items))
        return m - t[items]

    low, high, rounds = dist.multisection(f, len(t), 4.0, k=8, tol=1e-3)
    assert rounds < 10 and set(shapes) == {len(t) * 8}  # one shape per call: one compilation
    assert low[0] == high[0] == 0.0
    assert high[4] == np.inf and low[4] == 4.0
    for i in (1, 2, 3, 5):
        assert low[i] < t[i] <= high[i] and high[i] - low[i] <= 1e-3


def test_multisection_shrinks_by_k_plus_one_per_round():
    # one item, threshold 1/3 on (0, 1], k = 2: round 0 probes 0, 1 -> (0, 1]; then thirds
    low, high, rounds = dist.multisection(lambda i, m: m - 1 / 3, 1, 1.0, k=2, tol=0.05)
    # widths: 1 -> 1/3 -> 1/9 -> 1/27 (< 0.05): 4 rounds
    assert rounds == 4 and high[0] - low[0] == pytest.approx(1 / 27)
    assert low[0] < 1 / 3 <= high[0]


def test_multisection_step_function_is_exact_at_a_probe():
    low, high, _ = dist.multisection(lambda i, m: np.where(m >= 0.5, 1.0, -1.0), 1, 1.0, k=3, tol=1e-2)
    assert low[0] < 0.5 <= high[0]


def test_scaled_params_are_the_shock_lever_s():
    base = pol._base("seed-thesis", 8, 20, ("shock.start_day=3", "shock.duration_days=5"))
    p1, _, _, _ = pol.point_engine(base, {"shock": 1.0})
    P = dist.scaled(p1, np.array([0.0, 0.5, 2.5]))
    for i, m in enumerate((0.0, 0.5, 2.5)):
        pm, _, _, sc = pol.point_engine(base, {"shock": m})
        assert sc.shock.vol_multiplier == pytest.approx(1 + m * (base.shock.vol_multiplier - 1))
        for name in ("dy", "dx", "volmult"):
            np.testing.assert_allclose(
                getattr(P.market, name)[i], getattr(pm.market, name), rtol=1e-12, atol=1e-15
            )
    assert np.all(P.market.volmult[0] == 1.0) and np.all(P.market.dy[0] == 0.0)  # m = 0: calm


def test_bad_search_settings_are_refused():
    with pytest.raises(BasislabError):
        dist.multisection(lambda i, m: m, 1, 1.0, k=1)
    with pytest.raises(BasislabError, match="threshold"):
        dist.distance_to_spiral("seed-thesis", paths=2, funds=8, steps=20, threshold=1.5)


@pytest.fixture(scope="module")
def small():
    return dist.distance_to_spiral(
        "seed-thesis",
        paths=4,
        funds=8,
        steps=20,
        seed=7,
        k=4,
        tol=0.05,
        overrides=("shock.start_day=3", "shock.duration_days=5"),
    )


def test_distance_compiles_once_and_brackets_the_crossing_on_the_simulator(small):
    assert small.compiles <= 1 and small.rounds < 10
    lo, hi = small.low, small.high
    live = np.isfinite(hi) & (hi > 0)
    assert live.any()
    # re-run each path at its bracket's ends (same compiled shape: paths x k worlds)
    base = pol._base("seed-thesis", 8, 20, ("shock.start_day=3", "shock.duration_days=5"))
    p0, static, _, _ = pol.point_engine(base, {"shock": 1.0})
    from basislab.sim import engine

    keys = np.asarray(engine.path_keys(7, 4))
    items = np.concatenate([np.arange(4), np.arange(4), np.zeros(8, dtype=int)])
    m = np.concatenate([np.where(live, lo, 0.0), np.where(live, hi, 0.0), np.zeros(8)])
    P = dist.scaled(p0, m)
    share = pol.run_worlds(P, keys[items], np.ones((16, 20)), static, gated=False)["unwind_share"]
    for i in np.flatnonzero(live):
        assert share[i] < pol.UNWIND_THRESHOLD <= share[4 + i]
        assert hi[i] - lo[i] <= 0.05
    # the shock-driven search: u(hi) - u(0) >= 10% > u(lo) - u(0) on the same path
    lo, hi = small.low_over_calm, small.high_over_calm
    live = np.isfinite(hi)
    assert live.any() and small.rounds_over_calm < 10
    m = np.concatenate([np.where(live, lo, 0.0), np.where(live, hi, 0.0), np.zeros(8)])
    P = dist.scaled(p0, m)
    share = pol.run_worlds(P, keys[items], np.ones((16, 20)), static, gated=False)["unwind_share"]
    for i in np.flatnonzero(live):
        assert share[i] - small.calm_share[i] < pol.UNWIND_THRESHOLD <= share[4 + i] - small.calm_share[i]


def test_distance_report_is_strict_json(small):
    import json

    from basislab.jsonio import dumps

    d = json.loads(dumps(small.to_dict()))
    q = d["threshold_multiplier"]
    vals = [v for v in q.values() if v is not None]
    assert vals == sorted(vals)
    assert d["unwind_threshold_share"] == 0.1 and d["rounds"] < 10
    assert d["unit_shock_10y_bp"] == 64.0  # ust10y_rise_mar9_18


def test_monitor_gauge_row():
    """The monitor's gauge: today's book as of a CFTC week, as a row of the monitor's table."""
    g = dist.monitor_gauge(
        "2024-06-25", paths=4, funds=8, steps=20, overrides=("shock.start_day=3", "shock.duration_days=5")
    )
    assert g["date"] == "2024-06-25" and g["unit"] == "x March 2020"
    assert g["value"] == g["detail"]["threshold_multiplier"]["p50"]
    row = dist.gauge_row(g)
    assert len(row) == 7 and row[0].startswith("Distance to the spiral") and "p10-p90" in row[6]


def test_monitor_gauge_falls_back_to_the_latest_complete_book():
    """The monitor's latest CFTC week can lack an input (SOFR published to 2026-06-23 in the
    bundled snapshot): the gauge then uses the latest date with every input and says so."""
    from basislab.data.feeds import initial_conditions

    latest = initial_conditions(None)["date"]
    g = dist.monitor_gauge(
        "2026-08-04", paths=4, funds=8, steps=20, overrides=("shock.start_day=3", "shock.duration_days=5")
    )
    assert g["date"] == str(latest) and f"book as of {latest}" in g["spread"]
