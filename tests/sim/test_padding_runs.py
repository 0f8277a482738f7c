"""Shape padding for episode replays and policy maps (issue 14 item 4, docs/model.md section 14):
the episode runner (:func:`basislab.sim.episodes.run`) and the policy-map runner
(:func:`basislab.sim.policy.run_worlds`) run padded to the engine's fund and day buckets, give the
unpadded numbers to round-off, and share one executable across the scenarios of a bucket."""

from __future__ import annotations

import jax.monitoring as monitoring
import numpy as np
import pytest

from basislab.sim import engine, tuning
from basislab.sim import episodes as E
from basislab.sim import policy as pol

from .conftest import SMALL


def _worst(x, y) -> float:
    """``max |x - y|`` over the field's scale (its largest absolute value, at least 1)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    assert x.shape == y.shape
    return float(np.max(np.abs(x - y)) / max(float(np.max(np.abs(x))), 1.0)) if x.size else 0.0


class Compiles:
    """Counts XLA backend compiles while active (as tests/sim/test_padding.py does)."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def _listen(self, event: str, secs: float, **_: object) -> None:
        if event.endswith("backend_compile_duration"):
            self.events.append(event)

    def __enter__(self) -> Compiles:
        monitoring.register_event_duration_secs_listener(self._listen)
        return self

    def __exit__(self, *exc: object) -> None:
        monitoring.unregister_event_duration_listener(self._listen)


# ----------------------------------------------------------------------------------------------
# episode replays

#: mar-2020 with thin cash (the sensitivity row of docs/calibration.md that unwinds and defaults)
THIN = ("funds.unencumbered_cash_pct=0.5",)


@pytest.fixture(scope="module")
def episodes(con):
    """mar-2020 at 12 funds (thin cash) and sep-2019 at 14 funds: both 16 funds x 256 days padded."""
    mar = E.build("mar-2020", ["funds.count=12", *THIN], con=con)
    sep = E.build("sep-2019", ["funds.count=14"], con=con)
    return mar, sep


def test_padded_episode_gives_the_unpadded_numbers(episodes):
    """mar-2020 (12 funds x 160 days, padded to 16 x 256) against the same replay unpadded: the
    same defaults on every path, every output (per-fund exposures and equities included), audit
    aggregate and initial value within 1e-12 of its field's scale; the metrics agree."""
    er = episodes[0]
    assert (er.static.n_funds, er.static.n_steps) == (12, E.COMMON_STEPS)
    assert engine.pad(er.params, er.static)[1].n_funds == 16
    plain = E.run(er, seed=0, paths=4, padded=False)
    padded = E.run(er, seed=0, paths=4)
    assert padded.raw.static == er.static
    assert padded.raw.outputs["fund_exposure"].shape == (4, E.COMMON_STEPS, 12)
    assert padded.raw.final["fund_equity_each"].shape == (4, 12)
    assert np.array_equal(plain.raw.outputs["new_defaults"], padded.raw.outputs["new_defaults"])
    assert plain.raw.outputs["sold_unwind"].sum() > 0  # a replay that sells, not a calm one
    worst = 0.0
    for key in ("outputs", "audit_steps", "audit_init", "final"):
        a, b = getattr(plain.raw, key), getattr(padded.raw, key)
        assert a.keys() == b.keys()
        scale = (
            max(float(np.max(np.abs(plain.raw.audit_steps["scale"]))), 1.0)
            if key.startswith("audit")
            else 1.0
        )
        for k in a:
            err = _worst(a[k], b[k]) / scale
            assert err <= 1e-12, (key, k, err)
            worst = max(worst, err)
    m_plain, _ = E.metrics(er, plain)
    m_padded, _ = E.metrics(er, padded)
    for k, v in m_plain.items():
        if isinstance(v, float) and k != "audit_max_residual":
            assert m_padded[k] == pytest.approx(v, rel=1e-9, abs=2e-6), k  # metrics are rounded to 1e-6
    assert m_padded["max_sofr_minus_iorb_date"] == m_plain["max_sofr_minus_iorb_date"]
    print(f"episode padded vs unpadded: worst relative difference {worst:.1e}")


def test_episodes_of_one_bucket_share_one_executable(episodes):
    """A second replay in the bucket (sep-2019 at 14 funds after mar-2020 at 12: both 16 x 256)
    and a counterfactual world run on the first one's executable, compiling nothing."""
    mar, sep = episodes
    E.run(mar, seed=1, paths=4)
    with Compiles() as c:
        res = E.run(sep, seed=1, paths=4)
        E.run(mar, params=E.without_fed(mar.params), seed=1, paths=4)
    assert c.events == []
    assert res.raw.outputs["fund_equity_each"].shape == (4, E.COMMON_STEPS, 14)
    assert res.raw.outputs["funds_alive"][:, 0].max() <= 14


# ----------------------------------------------------------------------------------------------
# policy maps (and the distance to the spiral, which runs on the same runner)

SEVERE = ("funds.leverage_median=90", "funds.unencumbered_cash_pct=0", "funds.stop_loss_pct=100")


def _worlds(funds: int, days: int, *extra: str):
    """Stacked (params, on) of three grid points (shock x Fed delay) x 3 paths."""
    overrides = [*SMALL, *SEVERE, *extra]
    base = pol._base("seed-thesis", funds, days, overrides)
    pts = [
        pol.point_engine(base, {"shock": m, "fed_delay_h": h})
        for m, h in ((1.0, 0.0), (2.5, 30.0), (2.5, 72.0))
    ]
    static = pts[0][1]
    rows = np.repeat(np.arange(3), 3)
    params = pol.take(pol.stack([p for p, *_ in pts]), rows)
    on = np.stack([o for _, _, o, _ in pts])[rows]
    keys = np.tile(np.asarray(engine.path_keys(5, 3)), (3, 1))
    return params, keys, on, static


@pytest.mark.parametrize("gated", [False, True])
def test_padded_policy_worlds_give_the_unpadded_numbers(gated):
    """9 worlds of 12 funds x 20 days (padded to 16 x 32), with and without the day-gated backstop:
    every per-world metric within 1e-12 of its field's scale of the unpadded run, defaults equal."""
    params, keys, on, static = _worlds(12, 20)
    assert (static.n_funds, static.n_steps) == (12, 20)
    plain = pol.run_worlds(params, keys, on, static, gated=gated, padded=False)
    padded = pol.run_worlds(params, keys, on, static, gated=gated)
    assert np.array_equal(plain["fund_defaults"], padded["fund_defaults"])
    assert plain["fund_defaults"].sum() > 0  # worlds where funds fail
    worst = {k: _worst(plain[k], padded[k]) for k in pol.PATH_METRICS}
    for k, err in worst.items():
        assert err <= 1e-12, (k, plain[k], padded[k])
    print(f"policy worlds padded vs unpadded (gated={gated}): worst {max(worst.values()):.1e}")


def test_pad_worlds_pads_every_day_input():
    params, _, on, static = _worlds(12, 20)
    p2, on2, s2 = pol.pad_worlds(params, on, static)
    assert (s2.n_funds, s2.n_steps) == (tuning.padded_funds(12), tuning.padded_days(20)) == (16, 32)
    assert on2.shape == (9, 32) and np.array_equal(on2[:, 20:], np.repeat(on[:, -1:], 12, axis=1))
    assert np.asarray(p2.market.dy).shape[:2] == (9, 32)
    assert np.array_equal(np.asarray(p2.market.horizon_days), np.asarray(params.market.horizon_days))


def test_policy_maps_of_one_bucket_share_one_executable():
    """A second map on another scenario of the bucket (14 funds x 18 days after 12 x 20: both
    16 x 32) traces and compiles nothing new; its metrics are its own (a calm map stays calm)."""
    kw = {"paths": 3, "seed": 2}
    x, y = ("shock", [1.0, 2.0]), ("fed_delay_h", [0.0, 48.0])
    first = pol.policy_map("seed-thesis", x, y, funds=12, steps=20, overrides=[*SMALL, *SEVERE], **kw)
    with Compiles() as c:
        second = pol.policy_map("seed-thesis", x, y, funds=14, steps=18, overrides=SMALL, **kw)
    assert first.compiles <= 1 and second.compiles == 0
    assert c.events == []
    assert (second.funds, second.steps) == (14, 18)
    assert first.per_path["fund_defaults"].sum() > 0
    assert np.all(second.per_path["price_drop_peak_pct"] < 100.0)  # padded days' zeros left out
