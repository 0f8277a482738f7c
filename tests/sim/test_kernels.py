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


def test_haircut_and_refusal(world):
    # h_s = min(h_max, h0 + a max(0, 1 - sum mix P/P0) + b max(0, stress - 1))
    # mix 0.4/0.3/0.2/0.1, P/P0 0.99/0.98/0.97/0.95: sum = 0.396 + 0.294 + 0.194 + 0.095 = 0.979,
    # fall = 0.021; variance 2.25 x calm in every bucket: stress = sqrt(2.25) = 1.5, excess 0.5.
    # bilateral: 0 + 0.5 x 0.021 + 0.01 x 0.5 = 0.0155, capped at 0.01
    # tri-party: 0.02 + 1.0 x 0.021 + 0.02 x 0.5 = 0.051 (cap 0.10)
    # refusal r_s = min(r_max, slope x 0.5): min(0.2, 0.25) = 0.2; min(0.5, 0.125) = 0.125
    p, st = world
    p = p._replace(
        funds=p.funds._replace(mix=jnp.array([0.4, 0.3, 0.2, 0.1])),
        repo=p.repo._replace(
            h0=jnp.array([0.0, 0.02]),
            h_price=jnp.array([0.5, 1.0]),
            h_vol=jnp.array([0.01, 0.02]),
            h_max=jnp.array([0.01, 0.10]),
            refuse_slope=jnp.array([0.5, 0.25]),
            refuse_max=jnp.array([0.2, 0.5]),
        ),
    )
    mk = st.markets._replace(variance=_calm_var(p, 2.25))
    pr = Prices(100.0 * jnp.array([0.99, 0.98, 0.97, 0.95]), P100, jnp.ones(()))
    np.testing.assert_allclose(repo.haircuts(p, mk, pr), [0.01, 0.051], rtol=1e-12)
    np.testing.assert_allclose(repo.refusal(p, mk), [0.2, 0.125], rtol=1e-12)


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


def test_morning_repo_call(world):
    # D*_is = (1 - h_s)(1 - r_s) w_is V_i; call = D - D*. Calm (no fall, stress 1): h = h0 = (0, 2%),
    # r = 0. Fund: 95 face of the 10y at 100 -> V = 95; w = (0.6, 0.4); D = (60, 35):
    # bilateral 60 - 0.6 x 95 = 3 (fund pays); tri-party 35 - 0.98 x 0.4 x 95 = 35 - 37.24 = -2.24
    # (the lender lends more)
    p, st = world
    p = p._replace(repo=p.repo._replace(h0=jnp.array([0.0, 0.02])))
    st = _fund(st, bonds=jnp.array([0.0, 0.0, 95.0, 0.0]), repo_share=jnp.array([0.6, 0.4]))
    st = _fund(st, repo_debt=jnp.array([60.0, 35.0]))
    mk = st.markets._replace(variance=_calm_var(p))
    call = repo.repo_margin_call(p, st.funds, mk, Prices(P100, P100, jnp.ones(())))
    np.testing.assert_allclose(call.call[:, 0], [3.0, -2.24], atol=1e-12)


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
    out, ccp_vm, net = ccp.variation_margin(st, Prices(P100, f, jnp.ones(())))
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
        other_assets=other,
        backstop_loan=0.0,
        pending_vm=0.0,
        leverage_limit=1e9,
    )


def _obligations(st, call_fund0):
    fu = st.funds
    zn, zs = jnp.zeros_like(fu.cash), jnp.zeros_like(fu.repo_debt)
    call = zs.at[0, 0].set(call_fund0)
    return liquidity.Obligations(call, fu.repo_debt - call, zn, fu.initial_margin, zn, zs, zn)


def test_pecking_order(world):
    # fund: cash 1, bills 2, other assets 3 (price 1), 100 face of the 10y at 100 (V = 100),
    # repo debt 106 bilateral, IM 4; a repo call of 10: cash after = 1 - 10 = -9, gap 9 (no oversell)
    # bills 2 -> 7 left; backstop off; other assets 3 -> 4 left; unwind: each unit frees
    # e = V - D_post + M_post = 100 - 96 + 4 = 8, so u = 4 / 8 = 0.5; equity
    # 100 + (-9) + 2 + 3 + 4 - 96 = 4 > 0: no default.
    # The same fund with no bills or other assets: capacity max(e, 0) = 8 < gap 9 -> default.
    p, st = world
    p = p._replace(funds=p.funds._replace(oversell=0.0), backstop=p.backstop._replace(on=0.0))
    st = _window_fund(st, 1.0, 2.0, 3.0, [106.0, 0.0], 4.0)
    est = Prices(P100, st.markets.futures_settle, jnp.ones(()))
    ob = _obligations(st, 10.0)
    liq = liquidity.cash_position(st.funds, ob)
    plan = liquidity.liquidity_plan(p, st.funds, st.markets.futures_settle, ob, liq, est)
    assert float(liq.gap[0]) == pytest.approx(9.0)
    got = [
        float(x[0]) for x in (plan.bills_sold, plan.backstop_draw, plan.other_sold, plan.unwind, plan.default)
    ]
    assert got == pytest.approx([2.0, 0.0, 3.0, 0.5, 0.0], abs=1e-12)
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
    pr = markets.prices(p, out, jnp.zeros(()), 24)
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
    ob = liquidity.Obligations(zs, fu.repo_debt, zn, fu.initial_margin, zn, zs.at[0, 0].set(0.1), zn)
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
