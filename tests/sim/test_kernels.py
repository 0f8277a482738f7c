"""Each window kernel against numbers worked by hand from the equations of docs/model.md (the
hand computation is in each test's comment; nothing here is copied from the code's output)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from basislab import sim
from basislab.sim import booking as bk
from basislab.sim import ccp, liquidity, markets, model, repo
from basislab.sim.backstop import repay_backstop
from basislab.sim.default import close_out
from basislab.sim.markets import Depth, Prices, Supply

from .conftest import small

P100 = jnp.full(4, 100.0)


@pytest.fixture(scope="module")
def world():
    p, s = sim.to_engine(small())
    # round numbers: every CTD at 100, calm variance (stress = 1) unless a test sets it
    p = p._replace(market=p.market._replace(p0=P100))
    st = model.init_state(jax.random.PRNGKey(0), p, s)
    return p, st


def _calm_var(p, ratio=1.0):
    return (p.market.dmod * p.market.sigma_y) ** 2 * ratio


def _fund(st, **fields):
    """Fund 0 of ``st`` given the ``fields`` (others unchanged)."""
    fu = st.funds
    new = {k: getattr(fu, k).at[..., 0].set(jnp.asarray(v)) for k, v in fields.items()}
    return st._replace(funds=fu._replace(**new))


def _lenders(st, haircut, refusal):
    return st.lenders._replace(haircut=jnp.asarray(haircut), refusal=jnp.asarray(refusal))


def test_haircut_and_refusal(world):
    # docs/model.md section 11: h_s, r_s = levels_s[band(stress)] on a review day (day mod
    # review_days = 0), else unchanged; band = number of edges (5, 8) at or below the stress index
    # stress = mean_k sqrt(var_k / var0_k) (calm < 5, stressed 5-8, extreme > 8).
    # schedules: bilateral h 0 / 1 / 2%, r 0 / 0 / 10%; tri-party h 2 / 2 / 2%, r 0 / 0 / 5%.
    # (a) variance ratios 1, 4, 49, 121: sqrt 1, 2, 7, 11, mean 21 / 4 = 5.25 -> band 1 (stressed);
    #     day 0 is a review day: h = (0.01, 0.02), r = (0, 0)
    # (b) ratio 100 everywhere: stress 10 -> band 2 (extreme), but day 3 is no review day
    #     (3 mod 5 = 3): the terms stay (0.01, 0.02), (0, 0)
    # (c) same stress on day 5 (review): h = (0.02, 0.02), r = (0.10, 0.05)
    # (d) ratio 16 (stress 4 < 5, calm band) on day 10: back to h = (0, 0.02), r = (0, 0)
    p, st = world
    p = p._replace(
        repo=p.repo._replace(
            haircut_levels=jnp.array([[0.0, 0.01, 0.02], [0.02, 0.02, 0.02]]),
            refusal_levels=jnp.array([[0.0, 0.0, 0.10], [0.0, 0.0, 0.05]]),
            stress_bands=jnp.array([5.0, 8.0]),
            review_days=jnp.asarray(5.0),
        )
    )
    lenders = _lenders(st, [0.0, 0.02], [0.0, 0.0])
    var0 = _calm_var(p)

    def review(ratio, day, lenders):
        mk = st.markets._replace(variance=var0 * jnp.asarray(ratio), day=jnp.asarray(float(day)))
        return repo.review_terms(p, lenders, mk)

    a = review([1.0, 4.0, 49.0, 121.0], 0, lenders)
    np.testing.assert_allclose(a.haircut, [0.01, 0.02], atol=1e-15)
    np.testing.assert_allclose(a.refusal, [0.0, 0.0], atol=1e-15)
    np.testing.assert_allclose(repo.haircuts(p, a), [0.01, 0.02], atol=1e-15)
    b = review(100.0, 3, a)
    np.testing.assert_allclose(b.haircut, [0.01, 0.02], atol=1e-15)
    np.testing.assert_allclose(b.refusal, [0.0, 0.0], atol=1e-15)
    c = review(100.0, 5, b)
    np.testing.assert_allclose(c.haircut, [0.02, 0.02], atol=1e-15)
    np.testing.assert_allclose(c.refusal, [0.10, 0.05], atol=1e-15)
    d = review(16.0, 10, c)
    np.testing.assert_allclose(d.haircut, [0.0, 0.02], atol=1e-15)
    np.testing.assert_allclose(d.refusal, [0.0, 0.0], atol=1e-15)


def test_lookback_initial_margin(world):
    # docs/model.md section 11: VaR_k = max(floor, z sqrt(mean_W(r^2) MPOR)); raised to the VaR when
    # VaR > rate (1 + band_up), cut to rate + down_share (VaR - rate) when VaR < rate (1 - band_down),
    # announced at the end of day, effective notice_days (1) end-of-days later in dollars per
    # contract: im_per_face = rate x f_settle / 100 on the effective day.
    # z 2.33, MPOR 2, floor 0, bands +10% / -25%, down_share 0.5, daily review.
    # Day 1: window of 60 returns of 0.01, settlement 100 -> 100 e^0.01 (r = 0.01 enters, one 0.01
    # leaves): mean r^2 = 1e-4, VaR = 2.33 sqrt(2e-4) = 2.33 x 0.0141421356 = 0.0329511760.
    # rates in force (per_face / 100 x 100): 0.025, 0.031, 0.025, 0.05
    #   bucket 0, 2: 0.03295 > 0.025 x 1.1 = 0.0275 -> announce 0.0329511760
    #   bucket 1: 0.031 x 0.75 = 0.02325 < 0.03295 < 0.031 x 1.1 = 0.0341 -> inside the band, nothing
    #   bucket 3: 0.03295 < 0.05 x 0.75 = 0.0375 -> announce 0.05 + 0.5 (0.0329511760 - 0.05)
    #             = 0.05 - 0.0085244120 = 0.0414755880
    # Nothing takes effect on day 1: the fund (200 face of the 10y short, IM posted 5) is called
    # 200 x 0.025 - 5 = 0.
    # Day 2: settlement unchanged at 100 e^0.01 = 101.0050167084 (r = 0). The notice has run:
    #   bucket 2 per face = 0.0329511760 x 1.0100501671 = 0.0329511760 + 0.0003311648 = 0.0332823408
    #   bucket 3 per face = 0.0414755880 x 1.0100501671 = 0.0414755880 + 0.0004168367 = 0.0418924247
    #   IM call = 200 x 0.0332823408 - 5 = 6.6564682 - 5 = 1.6564682
    # Day-2 VaR = 2.33 sqrt(2 x 59/60 x 1e-4) = 2.33 x 0.0140237893 = 0.0326754291: inside the band of
    # every new rate (0.0329512: 0.0247 .. 0.0362; 0.0414756 x 0.75 = 0.0311067 < 0.0326754), so
    # nothing more is announced.
    p, st = world
    c = p.ccp._replace(
        im_z=jnp.asarray(2.33), im_mpor=jnp.asarray(2.0), im_floor=jnp.zeros(4),
        band_up=jnp.asarray(0.10), band_down=jnp.asarray(0.25), down_share=jnp.asarray(0.5),
        notice_days=jnp.asarray(1.0), im_review_days=jnp.asarray(1.0),
    )  # fmt: skip
    p = p._replace(ccp=c)
    w = st.ccp.returns.shape[1]
    assert w == 60
    st = st._replace(
        ccp=st.ccp._replace(
            im_per_face=jnp.array([0.025, 0.031, 0.025, 0.05]),
            im_announced=jnp.zeros(4),
            im_has_pending=jnp.zeros(4),
            im_countdown=jnp.zeros(4),
            returns=jnp.full((4, w), 0.01),
        ),
        markets=st.markets._replace(futures_settle=P100, day=jnp.asarray(0.0)),
    )
    st = _fund(st, futures_short=jnp.array([0.0, 0.0, 200.0, 0.0]), initial_margin=5.0)
    f1 = jnp.full(4, 100.0 * math.exp(0.01))
    d1 = ccp.review_margin(p, st, f1)
    np.testing.assert_allclose(d1.ccp.im_per_face, [0.025, 0.031, 0.025, 0.05], rtol=1e-15)
    np.testing.assert_allclose(d1.ccp.im_has_pending, [1.0, 0.0, 1.0, 1.0])
    np.testing.assert_allclose(
        d1.ccp.im_announced, [0.0329511760, 0.0, 0.0329511760, 0.0414755880], atol=1e-10
    )
    _, call1 = ccp.initial_margin_call(p, d1)
    assert float(call1[0]) == pytest.approx(0.0, abs=1e-12)
    # the engine's variation margin resets the settlement price; the day moves on
    d1 = d1._replace(markets=d1.markets._replace(futures_settle=f1, day=jnp.asarray(1.0)))
    d2 = ccp.review_margin(p, d1, f1)
    assert float(d2.ccp.im_per_face[2]) == pytest.approx(0.0332823408, abs=1e-10)
    assert float(d2.ccp.im_per_face[3]) == pytest.approx(0.0418924246, abs=1e-10)
    assert float(d2.ccp.im_per_face[1]) == pytest.approx(0.031, rel=1e-15)
    np.testing.assert_allclose(d2.ccp.im_has_pending, 0.0)
    _, call2 = ccp.initial_margin_call(p, d2)
    assert float(call2[0]) == pytest.approx(1.6564682, abs=1e-7)
    # the VaR itself
    assert float(ccp.lookback_var(p, d2.ccp.returns)[2]) == pytest.approx(0.0326754291, abs=1e-9)


def test_repo_margin_call(world):
    # docs/model.md section 11: x_is = D_is - (1 - h_s)(1 - r_s) w_is V_i(P_close) - pending_is,
    # call = sign(x)(|x| - threshold) if |call| >= MTA; due at this end of day (lag 0) or the next.
    # Fund: 95 face of the 10y; previous close 98 (today's price 90 plays no part): V = 93.1;
    # w = (0.6, 0.4); D = (60, 33.9); haircuts in force (1%, 2%), refusal (0, 5%); threshold 0.5.
    # bilateral: 0.99 x 1 x 0.6 x 93.1 = 55.3014; x = 60 - 55.3014 = 4.6986 -> call 4.1986
    # tri-party: 0.98 x 0.95 x 0.4 x 93.1 = 34.67044; x = 33.9 - 34.67044 = -0.77044
    #            -> call -(0.77044 - 0.5) = -0.27044 (margin comes back to the fund)
    # (a) MTA 0.1, lag 0: due (4.1986, -0.27044), nothing pending
    # (b) MTA 0.3: the tri-party return 0.27044 < 0.3 is not made: due (4.1986, 0)
    # (c) lag 1, 0.2 called yesterday on the bilateral repo: x = 4.6986 - 0.2 = 4.4986 -> call
    #     3.9986 pending for tomorrow; due today = yesterday's 0.2 (tri-party: 0 under MTA 0.3)
    p, st = world
    p = p._replace(
        repo=p.repo._replace(
            threshold=jnp.asarray(0.5), min_transfer=jnp.asarray(0.1), settle_lag=jnp.asarray(0.0)
        )
    )
    st = _fund(
        st, bonds=jnp.array([0.0, 0.0, 95.0, 0.0]), repo_share=jnp.array([0.6, 0.4]),
        repo_pending=jnp.zeros(2),
    )  # fmt: skip
    st = _fund(st, repo_debt=jnp.array([60.0, 33.9]))
    close = jnp.array([100.0, 100.0, 98.0, 100.0])
    mk = st.markets._replace(cash_close=close)
    lenders = _lenders(st, [0.01, 0.02], [0.0, 0.05])
    a = repo.repo_margin_call(p, st.funds, lenders, mk)
    np.testing.assert_allclose(a.due[:, 0], [4.1986, -0.27044], atol=1e-12)
    np.testing.assert_allclose(a.pending[:, 0], [0.0, 0.0], atol=1e-15)
    p_b = p._replace(repo=p.repo._replace(min_transfer=jnp.asarray(0.3)))
    b = repo.repo_margin_call(p_b, st.funds, lenders, mk)
    np.testing.assert_allclose(b.due[:, 0], [4.1986, 0.0], atol=1e-12)
    p_c = p_b._replace(repo=p_b.repo._replace(settle_lag=jnp.asarray(1.0)))
    st_c = _fund(st, repo_pending=jnp.array([0.2, 0.0]))
    c = repo.repo_margin_call(p_c, st_c.funds, lenders, mk)
    np.testing.assert_allclose(c.due[:, 0], [0.2, 0.0], atol=1e-12)
    np.testing.assert_allclose(c.pending[:, 0], [3.9986, 0.0], atol=1e-12)


def test_ewma_initial_margin(world):
    # sigma^2' = lambda sigma^2 + (1 - lambda) r^2, r = ln(f / f_prev) = ln(102 / 100)
    # = 0.0198026273; r^2 = 0.000392144; with lambda 0.94, sigma^2 = 1e-4:
    # 0.94e-4 + 0.06 x 0.00039214405 = 0.000117528643
    # m = max(floor, z sqrt(sigma^2 MPOR)) = 2.33 sqrt(0.000117528643 x 2) = 2.33 x 0.01533158 = 0.0357226
    # with a 4% floor the floor binds: m = 0.04
    p, st = world
    p = p._replace(ccp=p.ccp._replace(ewma_lambda=0.94, im_z=2.33, im_mpor=2.0, im_floor=jnp.zeros(4)))
    mk = st.markets._replace(variance=jnp.full(4, 1e-4), futures_eod=P100)
    mk = ccp.update_volatility(p, mk, jnp.full(4, 102.0))
    assert float(mk.variance[2]) == pytest.approx(0.000117528643, rel=1e-8)
    assert float(mk.futures_eod[2]) == 102.0
    assert float(ccp.im_rates(p, mk)[2]) == pytest.approx(0.0357226, rel=1e-5)
    floored = p._replace(ccp=p.ccp._replace(im_floor=jnp.full(4, 0.04)))
    assert float(ccp.im_rates(floored, mk)[2]) == 0.04


def test_end_of_day_variation_margin(world):
    # short 200 face of the 10y, settlement 110 -> 108.5: mark-to-market of the short
    # F (f - f_last) / 100 = 200 x (-1.5) / 100 = -3 (a gain); pending VM 0.5 from a close-out;
    # VM to the fund = pending - mtm = 0.5 + 3 = 3.5, i.e. an obligation ccp_vm = -3.5.
    # The longs (200 face, pending -0.5) settle 200 x (-1.5)/100 - 0.5 = -3.5 now (they pay);
    # VM on open positions nets to -3 - (-3) = 0. The settlement price resets to 108.5.
    p, st = world
    st = st._replace(funds=st.funds._replace(alive=st.funds.alive.at[1:].set(0.0)))
    st = _fund(st, futures_short=jnp.array([0.0, 0.0, 200.0, 0.0]), pending_vm=0.5)
    st = st._replace(
        asset_managers=st.asset_managers._replace(
            futures_long=jnp.array([0.0, 0.0, 200.0, 0.0]), pending_vm=jnp.asarray(-0.5)
        ),
        markets=st.markets._replace(futures_settle=jnp.full(4, 110.0)),
    )
    cash_a, cash_c = float(st.asset_managers.cash), float(st.ccp.cash)
    f = jnp.array([110.0, 110.0, 108.5, 110.0])
    out, ccp_vm, net = ccp.variation_margin(st, Prices(P100, f, jnp.ones(2)))
    assert float(ccp_vm[0]) == pytest.approx(-3.5, abs=1e-12)
    assert float(net) == pytest.approx(0.0, abs=1e-12)
    assert float(out.asset_managers.cash) == pytest.approx(cash_a - 3.5, abs=1e-9)
    assert float(out.ccp.cash) == pytest.approx(cash_c + 3.5, abs=1e-9)
    assert float(out.funds.pending_vm[0]) == 0.0 and float(out.asset_managers.pending_vm) == 0.0
    assert float(out.markets.futures_settle[2]) == 108.5


def _window_fund(st, cash, bills, other, debt, im):
    return _fund(
        st,
        bonds=jnp.array([0.0, 0.0, 100.0, 0.0]),
        futures_short=jnp.zeros(4),
        repo_debt=jnp.array(debt),
        initial_margin=im,
        cash=cash,
        bills=bills,
        other_assets=jnp.array([other, 0.0]),  # equities only (players.OTHER_ASSETS)
        backstop_loan=0.0,
        pending_vm=0.0,
        leverage_limit=1e9,
        credit_limit=0.0,
    )


def _obligations(st, call_fund0):
    fu = st.funds
    zn, zs = jnp.zeros_like(fu.cash), jnp.zeros_like(fu.repo_debt)
    call = zs.at[0, 0].set(call_fund0)
    return liquidity.Obligations(call, fu.repo_debt - call, zn, fu.initial_margin, zn, zs, zn, zn, zn)


def test_pecking_order(world):
    # docs/model.md section 3 and 11. Fund: cash 1, bills 2, other assets 3 (price 1), 100 face of
    # the 10y at 100 (V = 100), repo debt 106 bilateral, IM 4; a repo call of 10: cash after
    # 1 - 10 = -9, gap 9 (no oversell): bills 2 -> 7 left; backstop off; other assets 3 -> 4 left;
    # unwind: each unit frees e = V - D_post + M_post = 100 - 96 + 4 = 8, so u_cash = 4 / 8 = 0.5
    # (all forced); equity E = 100 + (-9) + 2 + 3 + 4 - 96 = 4 > 0: no default.
    # De-risking by choice is off here: E0 = 4 (drawdown 0), initial face 100, no leverage limit.
    # Stop-loss: E0 = 5 -> dd = 1 - 4/5 = 0.2; with sl = 0.08: clip((0.2 - 0.08)/0.08, 0, 1) = 1,
    # cut = stop_cut = 0.6 -> u_stop = 1 - (1 - 0.6) x 100/100 = 0.6 > 0.5: u = 0.6, of which
    # forced min(0.5, 0.6) = 0.5 and 0.1 by choice. With sl = 0.16: (0.2 - 0.16)/0.16 = 0.25,
    # cut = 0.15, u_stop = 0.15 < 0.5: u = 0.5, all forced.
    # Leverage limit 20 (E0 = 4 again): V/E = 100/4 = 25 > 20 -> u_lev = 1 - 0.8 x 20/25 = 0.36 < 0.5.
    # The same fund with no bills or other assets: capacity max(e, 0) = 8 < gap 9 -> default.
    p, st = world
    p = p._replace(
        funds=p.funds._replace(
            oversell=jnp.asarray(0.0), stop_loss=jnp.asarray(0.08), stop_cut=jnp.asarray(0.6),
            lev_target_ratio=jnp.asarray(0.8),
        ),
        backstop=p.backstop._replace(on=jnp.asarray(0.0)),
    )  # fmt: skip
    st = _window_fund(st, 1.0, 2.0, 3.0, [106.0, 0.0], 4.0)
    st = _fund(st, equity0=4.0, position0=100.0)
    est = Prices(P100, st.markets.futures_settle, jnp.ones(2))
    ob = _obligations(st, 10.0)
    liq = liquidity.cash_position(st.funds, ob)

    def plan_of(fund_st, params=p):
        pl = liquidity.liquidity_plan(params, fund_st.funds, st.markets.futures_settle, ob, liq, est)
        fields = (pl.bills_sold, pl.backstop_draw, pl.other_sold.sum(0), pl.unwind, pl.forced, pl.default)
        return [float(x[0]) for x in fields]

    assert float(liq.gap[0]) == pytest.approx(9.0)
    assert plan_of(st) == pytest.approx([2.0, 0.0, 3.0, 0.5, 0.5, 0.0], abs=1e-12)
    # committed credit lines come after bills and before the backstop and other assets: a line of 3
    # (0.5 drawn, room 2.5) covers 2.5 of the 7 left after bills; other assets 3 -> 1.5 left, so
    # u_cash = 1.5 / 8 = 0.1875. Equity falls by the drawn 0.5: E = 4 - 0.5 = 3.5 = E0 here.
    lined = _fund(st, credit_limit=3.0, credit_drawn=0.5, equity0=3.5)
    pl = liquidity.liquidity_plan(p, lined.funds, st.markets.futures_settle, ob, liq, est)
    got = [float(x[0]) for x in (pl.bills_sold, pl.credit_draw, pl.other_sold.sum(0), pl.unwind, pl.default)]
    assert got == pytest.approx([2.0, 2.5, 3.0, 0.1875, 0.0], abs=1e-12)
    # across other assets the most liquid goes first (players.OTHER_ASSETS: equities, then credit):
    # equities 1 and credit 2 (prices 1); room 5.5 on the lines leaves 7 - 5.5 = 1.5: all the
    # equities (1) and 0.5 of the credit, nothing unwound
    mixed = _fund(st, other_assets=jnp.array([1.0, 2.0]), credit_limit=5.5, credit_drawn=0.0)
    pl = liquidity.liquidity_plan(p, mixed.funds, st.markets.futures_settle, ob, liq, est)
    assert [float(x) for x in pl.other_sold[:, 0]] == pytest.approx([1.0, 0.5], abs=1e-12)
    assert float(pl.credit_draw[0]) == pytest.approx(5.5) and float(pl.unwind[0]) == 0.0
    stopped = _fund(st, equity0=5.0)
    assert plan_of(stopped) == pytest.approx([2.0, 0.0, 3.0, 0.6, 0.5, 0.0], abs=1e-12)
    mild = p._replace(funds=p.funds._replace(stop_loss=jnp.asarray(0.16)))
    assert plan_of(stopped, mild) == pytest.approx([2.0, 0.0, 3.0, 0.5, 0.5, 0.0], abs=1e-12)
    levered = _fund(st, leverage_limit=20.0)
    assert plan_of(levered) == pytest.approx([2.0, 0.0, 3.0, 0.5, 0.5, 0.0], abs=1e-12)
    # de-risking by choice alone, with no cash gap (cash after 1, gap 0): E = 100 + 1 + 2 + 3 + 4
    # - 96 = 14, V/E = 100/14 = 7.14; leverage limit 5: u_lev = 1 - 0.8 x 5 / 7.14 = 1 - 0.8 x 0.7
    # = 0.44, nothing forced, no bills sold
    no_gap = liquidity.Liquidity(liq.cash_after.at[0].set(1.0), liq.pay_out, liq.gap.at[0].set(0.0))
    tight = _fund(st, leverage_limit=5.0)
    pl = liquidity.liquidity_plan(p, tight.funds, st.markets.futures_settle, ob, no_gap, est)
    assert float(pl.unwind[0]) == pytest.approx(0.44, abs=1e-12)
    assert float(pl.forced[0]) == 0.0 and float(pl.bills_sold[0]) == 0.0
    broke = _window_fund(st, 1.0, 0.0, 0.0, [106.0, 0.0], 4.0)
    plan = liquidity.liquidity_plan(p, broke.funds, st.markets.futures_settle, ob, liq, est)
    assert float(plan.default[0]) == 1.0
    full = liquidity.with_defaults(plan, broke.funds)
    assert float(full.unwind[0]) == 1.0 and float(full.survive[0]) == 0.0


def test_clearing_price(world):
    # ic += lambda (1 + kappa max(0, stress - 1)) x (USD bn sold): lambda_10y = 1e-3, kappa = 2,
    # stress 1.5 -> multiplier 2; 10 bn sold: ic = 2 x 1e-3 x 10 = 0.02, P = 100 exp(-0.02) = 98.0199
    # Two takers of depth 1e-3 and 3e-3: combined 1 / (1000 + 333.33) = 7.5e-4, shares 0.75 / 0.25;
    # ic = 2 x 7.5e-4 x 10 = 0.015
    p, st = world
    p = p._replace(market=p.market._replace(impact_cash=jnp.full(4, 1e-3), impact_stress=2.0))
    mk = st.markets._replace(variance=_calm_var(p, 2.25))
    sold = Supply(jnp.array([0.0, 0.0, 10.0, 0.0]), jnp.zeros(4), jnp.zeros(()))
    half = Supply(*(x / 2 for x in sold))
    inv, am = markets.investor_depth(p), markets.asset_manager_depth(p)
    out, shares = markets.clear(p, mk, [half, half], [inv, am])
    assert float(out.impact_cash[2]) == pytest.approx(0.02, rel=1e-12)
    pr = markets.prices(p, out, jnp.zeros(()))
    assert float(pr.p[2]) == pytest.approx(100 * math.exp(-0.02), rel=1e-12)
    deep = Depth(jnp.full(4, 3e-3), None, None)
    out2, shares2 = markets.clear(p, mk, [sold], [inv, deep, am])
    assert float(out2.impact_cash[2]) == pytest.approx(0.015, rel=1e-12)
    assert float(shares2[0].cash[2]) == pytest.approx(0.75) and float(shares2[1].cash[2]) == pytest.approx(
        0.25
    )
    assert shares2[1].other is None


def test_default_waterfall(world):
    # defaulter after its sales: cash 50 (of which the collateral sold for V = 40), repo debt
    # (30, 20) with w = (0.5, 0.5), interest due (0.1, 0): rec = min(D, w V) = (20, 20);
    # unsecured repo (30 - 20 + 0.1, 0) = (10.1, 0). CCP: IM 5, pending VM -8 (close-out loss),
    # no VM due: net = 5 - 8 = -3 -> CCP claim 3. Backstop loan 2: claim 2.
    # pool = 50 - 40 = 10; claims 10.1 + 3 + 2 = 15.1; frac = 10 / 15.1 = 0.662251656
    # paid: lender 6.688741722, CCP 1.986754967, backstop 1.324503311;
    # losses: 3.411258278, 1.013245033, 0.675496689; the fund is left with 0 cash
    p, st = world
    st = _fund(
        st, cash=50.0, repo_debt=jnp.array([30.0, 20.0]), repo_share=jnp.array([0.5, 0.5]),
        initial_margin=5.0, pending_vm=-8.0, backstop_loan=2.0,
    )  # fmt: skip
    fu = st.funds
    zn, zs = jnp.zeros_like(fu.cash), jnp.zeros_like(fu.repo_debt)
    ob = liquidity.Obligations(zs, fu.repo_debt, zn, fu.initial_margin, zn, zs.at[0, 0].set(0.1), zn, zn, zn)
    dflt = zn.at[0].set(1.0)
    before = st
    out, losses = close_out(st, ob, dflt, zn.at[0].set(40.0))
    frac = 10.0 / 15.1
    np.testing.assert_allclose(losses.lenders[:, 0], [10.1 * (1 - frac), 0.0], atol=1e-12)
    assert float(losses.ccp[0]) == pytest.approx(3.0 * (1 - frac), abs=1e-12)
    assert float(losses.backstop[0]) == pytest.approx(2.0 * (1 - frac), abs=1e-12)
    assert float(losses.lenders[:, 1:].sum() + losses.ccp[1:].sum()) == 0.0
    assert float(out.funds.cash[0]) == pytest.approx(0.0, abs=1e-12)
    lender_cash = out.lenders.cash - before.lenders.cash
    np.testing.assert_allclose(lender_cash, [20.0 + 10.1 * frac, 20.0], atol=1e-12)
    assert float(out.ccp.cash - before.ccp.cash) == pytest.approx(3.0 * frac, abs=1e-12)
    for name in ("repo_debt", "initial_margin", "pending_vm", "backstop_loan"):
        assert float(jnp.abs(getattr(out.funds, name)[..., 0]).sum()) == 0.0, name


def test_backstop_repayment(world):
    # repay = min(B, max(0, C - C_target)): cash 12, target 5, loan 4 -> 4; cash 6 -> 1
    p, st = world
    fu = st.funds
    st = st._replace(
        funds=fu._replace(
            cash=fu.cash.at[:2].set(jnp.array([12.0, 6.0])),
            cash_target=fu.cash_target.at[:2].set(5.0),
            backstop_loan=jnp.zeros_like(fu.cash).at[:2].set(4.0),
        )
    )
    out, total = repay_backstop(st)
    np.testing.assert_allclose(out.funds.backstop_loan[:2], [0.0, 3.0], atol=1e-12)
    np.testing.assert_allclose(out.funds.cash[:2], [8.0, 5.0], atol=1e-12)
    assert float(total) == pytest.approx(5.0)
    assert float(out.backstop.claims - st.backstop.claims) == pytest.approx(-5.0)


def test_booking_balances_by_construction(world):
    # a repo call of 3 paid by fund 0: its cash and debt fall by 3; the bilateral lender's cash
    # and claims rise / fall by 3; the sum over holders of every instrument is unchanged
    _, st = world
    amount = jnp.zeros_like(st.funds.repo_debt).at[0, 0].set(3.0)
    out = bk.book(
        st, [bk.flow(bk.FUND_CASH, bk.LENDER_CASH, amount), bk.flow(bk.LENDER_REPO, bk.FUND_REPO, amount)]
    )
    assert float(st.funds.cash[0] - out.funds.cash[0]) == pytest.approx(3.0)
    assert float(st.funds.repo_debt[0, 0] - out.funds.repo_debt[0, 0]) == pytest.approx(3.0)
    assert float(out.lenders.cash[0] - st.lenders.cash[0]) == pytest.approx(3.0)
    assert float(st.lenders.claims[0] - out.lenders.claims[0]) == pytest.approx(3.0)
    with pytest.raises(ValueError, match="one instrument"):
        bk.flow(bk.FUND_CASH, bk.LENDER_REPO, amount)
