"""The Fed's levers (basislab.sim.fed): triggers, delays in hours on the two daily windows,
capacities from the 2019-20 operations, and the Fed's balance sheet, worked by hand.

Sources: ``fed_purchase_pace_peak`` (USD 75bn a day, 19 Mar-1 Apr 2020), ``fed_purch_mar19_2020``
(split 25/17/11/6/9 by sector), ``fed_repo_ops_sep2019`` (USD 75bn a day), ``srf_params_2021``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest

from basislab.sim import fed as fd
from basislab.sim import funding as fm


def _params(**kw: object) -> fd.FedParams:
    return fd.FedConfig(**kw).params()


def _stress(value: float) -> jax.Array:
    return jnp.full((4,), value)


def test_window_clock() -> None:
    p = _params()
    # day 3: morning 3 x 24 + 9 = 81 h, end of day 3 x 24 + 16 = 88 h
    assert float(fd.window_hour(p, jnp.asarray(3), jnp.asarray(0))) == 81.0
    assert float(fd.window_hour(p, jnp.asarray(3), jnp.asarray(1))) == 88.0


@pytest.mark.parametrize(
    ("delay", "acts_at"),
    [
        (0.0, (3, 0)),  # same window
        (4.0, (3, 1)),  # 9:00 + 4 h = 13:00 -> that day's end-of-day window (16:00)
        (7.0, (3, 1)),  # 16:00 exactly
        (8.0, (4, 0)),  # 17:00 -> next morning
        (24.0, (4, 0)),  # 9:00 next day
        (31.5, (5, 0)),  # 16:30 next day -> the morning after
    ],
)
def test_delay_in_hours_maps_onto_the_windows(delay: float, acts_at: tuple[int, int]) -> None:
    p = _params(repo_ops=fd.LeverConfig(threshold_bp=50.0, delay_hours=delay))
    s = fd.init_state()
    s = fd.observe(p, s, fd.window_hour(p, jnp.asarray(3), jnp.asarray(0)), _stress(80.0))
    windows = [(d, w) for d in range(3, 7) for w in (0, 1)]
    on = [float(fd.active(p, s, fd.window_hour(p, jnp.asarray(d), jnp.asarray(w)))[1]) for d, w in windows]
    assert windows[on.index(1.0)] == acts_at
    assert all(on[i] == 1.0 for i in range(on.index(1.0), len(on)))  # stays on


def test_trigger_needs_the_threshold_and_the_lever_enabled() -> None:
    p = _params()
    s = fd.observe(p, fd.init_state(), jnp.asarray(9.0), _stress(49.0))
    assert bool(jnp.all(jnp.isinf(s.triggered_at)))  # repo ops threshold 50 bp: not yet
    s = fd.observe(p, s, jnp.asarray(16.0), _stress(50.0))
    assert float(s.triggered_at[1]) == 16.0
    assert float(s.triggered_at[3]) == float("inf")  # the LOLR is disabled by default
    # a later, higher reading does not move the clock
    assert float(fd.observe(p, s, jnp.asarray(40.0), _stress(500.0)).triggered_at[1]) == 16.0


def test_purchases_capacity_and_split() -> None:
    p = _params(purchases=fd.LeverConfig(threshold_bp=100.0, delay_hours=0.0))
    s = fd.observe(p, fd.init_state(), jnp.asarray(9.0), _stress(150.0))
    cap = fd.purchase_capacity(p, s, jnp.asarray(9.0), jnp.asarray(0))
    # 75 x (25, 28, 6, 9) / 68 in total; half in the morning window
    expected = [75 * x / 68 / 2 for x in (25.0, 28.0, 6.0, 9.0)]
    assert [float(c) for c in cap] == pytest.approx(expected)
    day = cap + fd.purchase_capacity(p, s, jnp.asarray(16.0), jnp.asarray(1))
    assert float(day.sum()) == pytest.approx(75.0)
    # the demand schedule: capacity at any concession >= 0, nothing below
    assert float(fd.purchase_demand(p, s, jnp.asarray(9.0), jnp.asarray(0), jnp.asarray(-1.0)).sum()) == 0.0
    assert float(
        fd.purchase_demand(p, s, jnp.asarray(9.0), jnp.asarray(0), jnp.asarray(0.0)).sum()
    ) == pytest.approx(37.5)
    # not triggered: nothing
    assert float(fd.purchase_capacity(p, fd.init_state(), jnp.asarray(9.0), jnp.asarray(0)).sum()) == 0.0


def test_repo_operations_cap_the_repo_rate_after_the_delay() -> None:
    # September 2019, no SRF: the curve at a balance 25 bn below the scarcity threshold gives
    # about 260 bp; the Fed triggers at 50 bp and lends from its next window
    p = _params()
    fp = fm.FundingConfig().params()
    s = fd.init_state()
    rate, cap = fd.funding_terms(p, s, jnp.asarray(9.0), jnp.asarray(2.10))
    assert float(rate) == float("inf") and float(cap) == 0.0
    s = fd.observe(p, s, jnp.asarray(9.0), _stress(300.0))
    rate, cap = fd.funding_terms(p, s, jnp.asarray(16.0), jnp.asarray(2.10))  # 9 + 4 h -> 16:00
    assert float(rate) == pytest.approx(2.10) and float(cap) == pytest.approx(0.075)
    day = fm.FundingDay(*(jnp.asarray(v) for v in (2.10, 2.00, float(rate), 0, 0, 0, 0, 0, 0, 0)))
    params = fp._replace(srf_capacity_tn=cap)
    bal = fp.scarcity_threshold_tn - 0.025
    out = fm.clear(params, bal, bal, day)
    # 75bn of Fed repo more than fills the 25bn shortfall: the spread falls to IOER + wedge
    assert float(out.spread_bp) == pytest.approx(10.0, abs=1e-6)
    assert 0.025 < float(out.srf_takeup) < 0.075


def test_srf_is_standing_once_it_exists() -> None:
    p = _params(srf_from_hours=0.0)
    rate, cap = fd.funding_terms(p, fd.init_state(), jnp.asarray(9.0), jnp.asarray(3.90))
    assert float(rate) == pytest.approx(4.00) and float(cap) == pytest.approx(0.5)


def test_lolr_room_with_trigger_and_delay() -> None:
    p = _params(lolr=fd.LeverConfig(enabled=True, threshold_bp=100.0, delay_hours=4.0))
    s = fd.observe(p, fd.init_state(), jnp.asarray(9.0), _stress(120.0))
    collateral, owed = jnp.asarray([500.0, 100.0]), jnp.asarray([20.0, 15.0])
    # 10% x 500 - 20 = 30; 10% x 100 - 15 < 0 -> 0; nothing before 13:00
    assert list(map(float, fd.lolr_room(p, s, jnp.asarray(9.0), collateral, owed))) == [0.0, 0.0]
    assert list(map(float, fd.lolr_room(p, s, jnp.asarray(16.0), collateral, owed))) == [30.0, 0.0]


def test_slr_exemption_flag() -> None:
    p = _params(slr_exemption=fd.LeverConfig(threshold_bp=100.0, delay_hours=240.0))
    s = fd.observe(p, fd.init_state(), jnp.asarray(9.0), _stress(200.0))
    assert float(fd.slr_exempt(p, s, jnp.asarray(16.0 + 24 * 9))) == 0.0  # 241 h - 1 < 249
    assert float(fd.slr_exempt(p, s, jnp.asarray(9.0 + 24 * 10))) == 1.0  # exactly 240 h later


def test_balance_sheet_books_purchases_repo_and_lolr() -> None:
    s = fd.init_state()
    s, flows = fd.book(s, jnp.asarray([20.0, 15.0, 5.0, 2.5]), jnp.asarray(75.0), jnp.asarray(10.0))
    s, flows2 = fd.book(s, jnp.asarray([20.0, 15.0, 5.0, 2.5]), jnp.asarray(50.0), jnp.asarray(4.0))
    # two windows of 42.5 bought = 85; repo 75 then 50; LOLR 10 then 4
    assert float(fd.balance_sheet_expansion(s)) == pytest.approx(85.0 + 50.0 + 4.0)
    assert float(s.reserves_created) == pytest.approx(85.0 + 50.0 + 4.0)
    assert float(flows2.repo_change) == -25.0 and float(flows2.lolr_change) == -6.0
    assert float(flows.cash_for_bonds) == 42.5


def test_levers_vmap_over_scenarios() -> None:
    ps = [_params(repo_ops=fd.LeverConfig(threshold_bp=t, delay_hours=d)) for t, d in ((50, 0), (500, 0))]
    params = jax.tree.map(lambda *a: jnp.stack(a), *ps)
    state = jax.tree.map(lambda a: jnp.stack([a, a]), fd.init_state())
    stress = jnp.stack([_stress(100.0), _stress(100.0)])
    now = jnp.asarray([9.0, 9.0])
    s = jax.vmap(fd.observe)(params, state, now, stress)
    assert list(map(float, jax.vmap(fd.active)(params, s, now)[:, 1])) == [1.0, 0.0]


def test_september_2019_with_the_fed_on_a_trigger_and_a_delay() -> None:
    """funding.step and the Fed composed over three days from flows (not data levels): the tax
    date and coupon settlement of Monday drain 65bn of reserves in the afternoon; Tuesday morning's
    market opens below the scarcity threshold and spikes; the Fed's repo operations trigger on it
    (50 bp) and, 24 hours later, lend their USD 75bn on Wednesday."""
    fp, p = fm.FundingConfig().params(), _params(repo_ops=fd.LeverConfig(threshold_bp=50.0, delay_hours=24.0))
    fund = fm.FundingState(*(jnp.asarray(v) for v in (1.532, 0.003, 0.185, 0.0, 0.0)))
    fed = fd.init_state()
    spreads = []
    for d, (settle, receipts) in enumerate(((0.078, 0.065), (0.0, 0.0), (0.0, 0.0))):
        now = fd.window_hour(p, jnp.asarray(d), jnp.asarray(0))
        rate, cap = fd.funding_terms(p, fed, now, jnp.asarray(2.10))
        day = fm.FundingDay(
            *(jnp.asarray(v) for v in (2.10, 2.00, float(rate), settle, receipts, 0, 0, 0, 0, 0))
        )
        fund, _, out = fm.step(fp._replace(srf_capacity_tn=cap), fund, day)
        fed = fd.observe(p, fed, now, jnp.full((4,), float(out.spread_bp)))
        spreads.append(float(out.spread_bp))
    # Monday: 1.535 - 0.078 of liquidity, above the wall: calm-curve spread ~10 bp
    assert spreads[0] < 20.0
    # Tuesday: balance 1.467 + 0.003 = 1.470, 25.3bn below 1.4953: 253 bp of wall on the curve
    assert spreads[1] > 250.0
    # Wednesday: the operations run (triggered Tuesday 09:00, acting from Wednesday 09:00); the
    # full USD 75bn is taken and the spread falls back near the calm curve (observed 18 Sep: 45 bp)
    assert spreads[2] < 15.0
    assert float(fund.srf_loans) == pytest.approx(0.075)


def test_every_parameter_names_its_source() -> None:
    for model in (fd.FedConfig, fd.LeverConfig):
        for name, field in model.model_fields.items():
            if name in fd.LEVERS or name == "enabled":
                continue  # a lever is a LeverConfig (checked here); enabled is a switch
            assert (field.json_schema_extra or {}).get("source"), f"{model.__name__}.{name}"
