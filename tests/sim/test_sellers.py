"""Other sellers (basislab.sim.sellers), worked by hand.

Sources: ``spx_path_2020`` (-33.9%), ``ig_hy_spreads_mar2020`` (IG +202 bp), ``foreign_custody_3wk``
(> USD 100bn), TIC March 2020 (about USD 300bn net foreign, issue 10), ``mf_treasury_sales_mar2020``
(USD 101bn), ``mmf_flows_mar2020_crane`` (+790 / -160), ``fima_2020``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest

from basislab.sim import sellers as sl


def _state(holding: float = 1000.0) -> sl.SellerState:
    g = len(sl.GROUPS)
    return sl.SellerState(jnp.zeros(g), jnp.zeros(g), jnp.full((g, 4), holding), jnp.zeros(g))


def test_stress_index_by_hand() -> None:
    p = sl.SellerConfig().params()
    # repo 50 bp / 100 = 0.5; equity -17% / 34% = 0.5; IG +200 / 200 = 1 -> mean 2/3
    s = sl.stress_index(p, jnp.asarray(50.0), jnp.asarray(0.17), jnp.asarray(200.0))
    assert float(s) == pytest.approx(2.0 / 3.0)
    # calm: SOFR below IORB, no drawdown, spreads tighter -> 0
    assert float(sl.stress_index(p, jnp.asarray(-5.0), jnp.asarray(0.0), jnp.asarray(-10.0))) == 0.0


def test_march_2020_totals_at_full_stress() -> None:
    p = sl.SellerConfig().params()
    state, total = _state(), jnp.zeros((3, 4))
    for _ in range(sl.MARCH_2020_STRESS_DAYS + 5):  # a few days more: the caps bind
        state, q = sl.plan(p, state, jnp.asarray(1.0))
        state, sold = sl.book(state, sl.supply(p, q, jnp.asarray(30.0)), jnp.full(4, 100.0))
        total = total + sold
    # official 110, private 300 - 110 = 190, mutual funds 101
    assert [float(x) for x in total.sum(-1)] == pytest.approx([110.0, 190.0, 101.0])
    # maturity mix 25/28/6/9 of 68
    assert float(total[2, 0]) == pytest.approx(101.0 * 25 / 68)


def test_mutual_funds_wait_for_the_dislocation_then_keep_selling() -> None:
    p = sl.SellerConfig().params()
    state, q = sl.plan(p, _state(), jnp.asarray(0.3))  # below the 0.5 trigger
    assert float(q[2].sum()) == 0.0 and float(q[0].sum()) == pytest.approx(110.0 / 17 * 0.3)
    state, q = sl.plan(p, state, jnp.asarray(0.6))
    assert float(q[2].sum()) == pytest.approx(101.0 / 17 * 0.6)
    state, q = sl.plan(p, state, jnp.asarray(0.2))  # once started, they sell at the lower pace
    assert float(q[2].sum()) == pytest.approx(101.0 / 17 * 0.2)


def test_fima_lever_stops_official_selling() -> None:
    _, q = sl.plan(sl.SellerConfig().params(fima=True), _state(), jnp.asarray(1.0))
    assert float(q[0].sum()) == 0.0 and float(q[1].sum()) == pytest.approx(190.0 / 17)


def test_holdings_and_reservation_concession_bound_sales() -> None:
    p = sl.SellerConfig(max_concession_bp=40.0).params()
    _, q = sl.plan(p, _state(holding=0.5), jnp.asarray(1.0))
    assert float(q.max()) == 0.5  # no seller sells what it does not hold
    assert float(sl.supply(p, q, jnp.asarray(41.0)).sum()) == 0.0  # beyond 40 bp they wait
    assert float(sl.supply(p, q, jnp.asarray(40.0)).sum()) == float(q.sum())


def test_money_fund_flows() -> None:
    f = sl.mmf_flows(sl.SellerConfig().params(), jnp.asarray(1.0))
    assert [float(x) for x in f * 17] == pytest.approx([790.0, -160.0])


def test_booking_conserves_bonds_and_cash() -> None:
    p = sl.SellerConfig().params()
    state, q = sl.plan(p, _state(), jnp.asarray(1.0))
    new, flow = sl.book(state, q, jnp.full(4, 99.0))
    assert jnp.allclose(state.holdings - new.holdings, flow)
    assert jnp.allclose(new.cash - state.cash, flow.sum(-1))
    # vmappable over scenarios
    ps = jax.tree.map(lambda *a: jnp.stack(a), p, sl.SellerConfig().params(fima=True))
    states = jax.tree.map(lambda a: jnp.stack([a, a]), _state())
    _, qs = jax.vmap(sl.plan, in_axes=(0, 0, None))(ps, states, jnp.asarray(1.0))
    assert qs.shape == (2, 3, 4) and float(qs[1, 0].sum()) == 0.0


def test_pecking_order_by_hand() -> None:
    # need 50; Treasuries 30 at no discount, credit 40 at 5%, equities 100 at 2%:
    # 30 from Treasuries, then 20 of cash from credit = 20 / 0.95 = 21.05 sold, no equities
    sold, missing = sl.pecking_order(
        jnp.asarray(50.0), jnp.asarray([30.0, 40.0, 100.0]), jnp.asarray([0.0, 0.05, 0.02])
    )
    assert [float(x) for x in sold] == pytest.approx([30.0, 20.0 / 0.95, 0.0])
    assert float(missing) == 0.0
    # need 200: everything, 30 + 38 + 98 = 166 raised, 34 missing
    sold, missing = sl.pecking_order(
        jnp.asarray(200.0), jnp.asarray([30.0, 40.0, 100.0]), jnp.asarray([0.0, 0.05, 0.02])
    )
    assert [float(x) for x in sold] == pytest.approx([30.0, 40.0, 100.0])
    assert float(missing) == pytest.approx(34.0)


def test_cross_asset_impact_by_hand() -> None:
    # the observed equity fall as input, plus impact: selling 10 of credit (depth 100 per unit
    # log move) moves credit -0.1 and equities -0.1 x 0.5 = -0.05 through the cross term
    cross = jnp.asarray([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.5, 1.0]])
    r = sl.asset_returns(jnp.asarray([0.0, 0.0, sl.SPX_MAR9_18_2020]), jnp.asarray([0.0, 10.0, 0.0]),
                         jnp.asarray([1000.0, 100.0, 1000.0]), cross)  # fmt: skip
    assert [float(x) for x in r] == pytest.approx([0.0, -0.1, -0.127 - 0.05])


def test_every_parameter_names_its_source() -> None:
    for name, field in sl.SellerConfig.model_fields.items():
        assert (field.json_schema_extra or {}).get("source"), name
