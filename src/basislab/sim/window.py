"""A settlement window, composed of the market kernels: the funds' cash position and liquidity
plan (pecking order), market clearing over the list of participants, the booking of payments,
sales and unwinds, and the default waterfall.

The quiet window (no fund on any path of the batch unwinds, sells other assets or defaults) runs
the same kernels minus those that would only add zeros: no clearing iterations (prices stay at
the pre-window prices), no unwind, no waterfall. ``any_in_batch`` (supplied by the engine) says
whether a mask holds on any path of the batch, so the branch stays a real branch under ``vmap``;
the model never names the batch axis.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp

from basislab.sim import booking as bk
from basislab.sim import dealing, other_sellers
from basislab.sim.default import Losses, close_out, no_losses
from basislab.sim.liquidity import (
    Liquidity,
    Obligations,
    Plan,
    cash_position,
    liquidity_plan,
    quiet,
    with_defaults,
)
from basislab.sim.markets import (
    Depth,
    Prices,
    Supply,
    _mv,
    asset_manager_depth,
    clear,
    prices,
    revaluation,
)
from basislab.sim.players import Funds, Params, State, Static

#: says whether a mask holds on any path batched with this one; a Python bool picks the branch
#: at trace time (the benchmark compiles the quiet window alone this way)
AnyInBatch = Callable[[jax.Array], jax.Array | bool]


def _branch(pred: jax.Array | bool, yes, no):
    if isinstance(pred, bool):
        return yes() if pred else no()
    return jax.lax.cond(pred, yes, no)


class WindowFlows(NamedTuple):
    """Flows of one window, summed over funds (per path)."""

    sold_unwind: jax.Array  # [K] cash Treasuries sold by funds unwinding (USD bn, at market)
    sold_derisk: jax.Array  # [K] the part of it sold by choice (risk limit, stop-loss), not forced
    sold_to_fed: jax.Array  # [K] funds' (and defaulters') cash Treasuries bought by the Fed, USD bn at market
    sold_to_dealers: jax.Array  # [K] funds' (and defaulters') cash Treasuries bought by dealers, USD bn
    fed_bought: jax.Array  # [K] everything the Fed took in the window (funds and other sellers), USD bn
    dealers_bought: jax.Array  # [K] everything dealers took in the window, USD bn at market
    sold_other_sellers: jax.Array  # [K] sold by foreign investors and mutual funds, USD bn at market
    other_sellers_other: (
        jax.Array
    )  # [A] other assets sold by other sellers (prime money funds' credit), USD bn
    sold_default: jax.Array  # [K] sold by lenders liquidating defaulters' collateral
    fut_bought: jax.Array  # [K] futures bought back (USD bn notional)
    bills_sold: jax.Array  # []
    credit_drawn: jax.Array  # [] drawn on committed credit lines
    redeemed: jax.Array  # [] redemptions paid to the funds' investors
    other_sold: jax.Array  # [A] other risky assets sold by the funds (USD bn)
    bs_drawn: jax.Array  # []
    new_defaults: jax.Array  # []
    cash_need: jax.Array  # [] gross obligations due from funds
    gap: jax.Array  # [] cash shortfall after the funds' cash
    loss_l: jax.Array  # [S]
    loss_c: jax.Array  # []
    loss_b: jax.Array  # []


class Taker(NamedTuple):
    """A participant taking the other side of the window's sales, with its accounts (``None``
    for a market it does not trade)."""

    depth: Depth
    cash: bk.Account  # every taker pays for what it takes
    bonds: bk.Account | None
    futures: bk.Account | None
    pending: bk.Account | None
    other: bk.Account | None


def takers(params: Params, st: State) -> list[Taker]:
    """The takers: end investors (cash Treasuries, other assets), asset managers (futures),
    dealers (cash Treasuries along their share of the depth, within their SLR headroom:
    :mod:`basislab.sim.dealing`) and, last, the Fed (cash Treasuries up to its window capacity,
    zero until its purchases lever acts)."""
    inv = bk.INVESTOR_CASH, bk.INVESTOR_BONDS, None, None, bk.INVESTOR_OTHER
    am = bk.AM_CASH, None, bk.AM_FUTURES, bk.AM_PENDING, None
    dealers = Depth(dealing.slope(params, st), None, None, cash_limit=dealing.headroom(params, st))
    fed = Depth(None, None, None, st.fed.window_capacity)
    return [
        Taker(Depth(dealing.investor_slope(params), None, params.market.impact_other), *inv),
        Taker(asset_manager_depth(params), *am),
        Taker(dealers, bk.DEALER_CASH, bk.DEALER_BONDS, None, None, None),
        Taker(fed, bk.FED_CASH, bk.FED_BONDS, None, None, None),
    ]


def sellers(funds: Funds, plan: Plan, pre: Prices, offer: jax.Array, offer_other: jax.Array) -> list[Supply]:
    """Today's sellers at the pre-window prices: funds unwinding (and selling other assets), repo
    lenders liquidating defaulters' collateral (with the defaulters' other assets), and the other
    sellers' offer (face ``[K]`` of Treasuries, units ``[A]`` of other assets:
    :mod:`basislab.sim.other_sellers`)."""

    def supply(mask):
        u = plan.unwind * mask
        return Supply(
            (funds.bonds * u).sum(-1) * pre.p / 100.0,
            (funds.futures_short * u).sum(-1) * pre.f / 100.0,
            (plan.other_sold * mask).sum(-1) * pre.po,
        )

    k = jnp.zeros_like(pre.p)
    return [
        supply(plan.survive),
        supply(plan.default),
        Supply(offer * pre.p / 100.0, k, offer_other * pre.po),
    ]


def _share(x: jax.Array, share: jax.Array | None) -> jax.Array:
    """A taker's share of ``x``: a per-bucket share ``[K]`` of a per-fund ``[K, N]`` amount applies
    along the bucket axis."""
    if share is None:
        return x
    return x * share.reshape(share.shape + (1,) * (x.ndim - share.ndim))


def pay_obligations(st: State, ob: Obligations, payers: jax.Array) -> State:
    """Repo calls, IM calls, VM and interest, paid in cash by ``payers``; the interest of every
    live fund is its lenders' income (a defaulter's goes into the waterfall's claims)."""
    a = st.funds.alive
    return bk.book(
        st,
        [
            bk.flow(bk.FUND_CASH, bk.LENDER_CASH, (ob.repo_call + ob.int_repo) * payers),
            bk.flow(bk.LENDER_REPO, bk.FUND_REPO, ob.repo_call * payers),
            bk.flow(bk.FUND_CASH, bk.CCP_CASH, (ob.im_call + ob.ccp_vm) * payers),
            bk.flow(bk.CCP_MARGIN, bk.FUND_MARGIN, ob.im_call * payers),
            bk.flow(bk.FUND_CASH, bk.BACKSTOP_CASH, ob.int_bs * payers),
            bk.flow(bk.FUND_PNL, bk.LENDER_INTEREST, ob.int_repo * a),
            bk.flow(bk.FUND_PNL, bk.BACKSTOP_INTEREST, ob.int_bs * a),
            bk.flow(bk.FUND_CASH, bk.DEALER_CASH, ob.int_credit * payers),
            bk.flow(bk.FUND_PNL, bk.DEALER_CREDIT_INCOME, ob.int_credit * a),
            bk.flow(bk.FUND_CASH, bk.INVESTOR_CASH, ob.redemption * payers),
            bk.flow(bk.INVESTOR_CAPITAL, bk.FUND_REDEEMED, ob.redemption * payers),
        ],
    )


def raise_cash(
    st: State, plan: Plan, post: Prices, shares: list[Depth], tk: list[Taker], other: bool = True
) -> State:
    """Bills sold to end investors at par, credit-line and backstop draws, and (``other``) other
    assets sold to their takers."""
    flows = [
        bk.flow(bk.FUND_BILLS, bk.INVESTOR_BILLS, plan.bills_sold),
        bk.flow(bk.INVESTOR_CASH, bk.FUND_CASH, plan.bills_sold),
        bk.flow(bk.DEALER_CASH, bk.FUND_CASH, plan.credit_draw),
        bk.flow(bk.FUND_CREDIT, bk.DEALER_CREDIT, plan.credit_draw),
        bk.flow(bk.BACKSTOP_CASH, bk.FUND_CASH, plan.backstop_draw),
        bk.flow(bk.FUND_BACKSTOP, bk.BACKSTOP_CLAIMS, plan.backstop_draw),
    ]
    for t, sh in zip(tk, shares, strict=True):
        if other and t.other is not None:
            units = _share(plan.other_sold, sh.other)
            flows += [
                bk.flow(bk.FUND_OTHER, t.other, units),
                bk.flow(t.cash, bk.FUND_CASH, units * post.po[:, None]),
            ]
    return bk.book(st, flows)


def unwind(st: State, ob: Obligations, plan: Plan, post: Prices, shares, tk: list[Taker]) -> State:
    """Sell ``u Q`` cash Treasuries and buy back ``u F`` futures at the clearing prices (the
    close-out P&L realised into pending VM); survivors repay ``u D_post`` and get ``u M_post`` back."""
    fu, f_last = st.funds, st.markets.futures_settle
    u, unw = plan.unwind, plan.unwind * plan.survive
    sold, closed = fu.bonds * u, fu.futures_short * u
    realised = u * _mv(fu.futures_short, post.f - f_last) / 100.0
    flows = [
        bk.flow(bk.FUND_CASH, bk.LENDER_CASH, unw * ob.debt_post),
        bk.flow(bk.LENDER_REPO, bk.FUND_REPO, unw * ob.debt_post),
        bk.flow(bk.CCP_CASH, bk.FUND_CASH, unw * ob.im_post),
        bk.flow(bk.FUND_MARGIN, bk.CCP_MARGIN, unw * ob.im_post),
    ]
    for t, sh in zip(tk, shares, strict=True):
        if t.bonds is not None:
            q = _share(sold, sh.cash)
            flows += [
                bk.flow(bk.FUND_BONDS, t.bonds, q),
                bk.flow(t.cash, bk.FUND_CASH, q * post.p[:, None] / 100),
            ]
        if t.futures is not None:
            assert t.pending is not None, "a futures taker settles VM through its pending account"
            flows += [
                bk.flow(t.futures, bk.FUND_FUTURES, _share(closed, sh.futures)),
                bk.flow(bk.FUND_PENDING, t.pending, _share(realised, sh.futures)),
            ]
    return bk.book(st, flows)


def _flows(
    st,
    plan: Plan,
    liq: Liquidity,
    post: Prices,
    losses: Losses,
    ob: Obligations,
    traded: bool = True,
    shares=None,
) -> WindowFlows:
    fu = st.funds
    redeemed = (ob.redemption * plan.survive).sum()
    if not traded:  # a quiet window: nothing sold, bought back or lost
        k, z = jnp.zeros_like(post.p), jnp.zeros(())
        return WindowFlows(
            k, k, k, k, k, k, k, jnp.zeros(fu.other_assets.shape[0]), k, k, plan.bills_sold.sum(),
            plan.credit_draw.sum(), redeemed,
            jnp.zeros(fu.other_assets.shape[0]), plan.backstop_draw.sum(), z,
            (liq.pay_out * fu.alive).sum(), liq.gap.sum(), jnp.zeros(fu.repo_debt.shape[0]), z, z,
        )  # fmt: skip
    sold_unw = (fu.bonds * (plan.unwind * plan.survive)).sum(-1)
    derisk = (fu.bonds * ((plan.unwind - plan.forced) * plan.survive)).sum(-1)
    sold_all = (fu.bonds * plan.unwind).sum(-1)
    funds_value = sold_all * post.p / 100.0
    other_value = st.other_sellers.window_face * post.p / 100.0
    fed, dealers = shares[-1].cash, shares[-2].cash  # the takers' order: ..., dealers, Fed
    return WindowFlows(
        sold_unwind=sold_unw * post.p / 100.0,
        sold_derisk=derisk * post.p / 100.0,
        sold_to_fed=funds_value * fed,
        sold_to_dealers=funds_value * dealers,
        fed_bought=(funds_value + other_value) * fed,
        dealers_bought=(funds_value + other_value) * dealers,
        sold_other_sellers=other_value,
        other_sellers_other=st.other_sellers.window_other * post.po,
        sold_default=(sold_all - sold_unw) * post.p / 100.0,
        fut_bought=(fu.futures_short * plan.unwind).sum(-1) * post.f / 100.0,
        bills_sold=plan.bills_sold.sum(),
        credit_drawn=plan.credit_draw.sum(),
        redeemed=redeemed,
        other_sold=plan.other_sold.sum(-1) * post.po,
        bs_drawn=plan.backstop_draw.sum(),
        new_defaults=plan.default.sum(),
        cash_need=(liq.pay_out * fu.alive).sum(),
        gap=liq.gap.sum(),
        loss_l=losses.lenders.sum(1),
        loss_c=losses.ccp.sum(),
        loss_b=losses.backstop.sum(),
    )


def settlement_window(
    params: Params, st: State, pre: Prices, ob: Obligations, s, static: Static, any_in_batch: AnyInBatch
) -> tuple[State, Prices, WindowFlows]:
    """Funds meet ``ob`` in the pecking order; the markets clear at one uniform price (the plans
    re-made at estimated prices ``fp_iters`` times); sales, unwinds and defaults are booked."""
    liq = cash_position(st.funds, ob)
    f_last = st.markets.futures_settle
    plan_at = lambda est: with_defaults(liquidity_plan(params, st.funds, f_last, ob, liq, est), st.funds)  # noqa: E731
    tk = takers(params, st)

    def clear_at(plan: Plan):
        os_ = st.other_sellers
        supply = sellers(st.funds, plan, pre, os_.window_face, os_.window_other)
        mk, shares = clear(params, st.markets, supply, [t.depth for t in tk])
        return mk, shares, prices(params, mk, s)

    raw = liquidity_plan(params, st.funds, f_last, ob, liq, pre)
    first = with_defaults(raw, st.funds)

    def busy():
        plan = first
        if static.fp_iters >= 2:
            est = clear_at(first)[2]
            est = jax.lax.fori_loop(0, static.fp_iters - 2, lambda i, e: clear_at(plan_at(e))[2], est)
            plan = plan_at(est)
        mk, shares, post = clear_at(plan)
        out = st._replace(markets=mk)
        out = bk.book(out, [bk.flow(bk.MARKET_INCOME, bk.FUND_PNL, revaluation(out.funds, pre, post))])
        out = pay_obligations(out, ob, plan.survive)
        out = raise_cash(out, plan, post, shares, tk)
        out = unwind(out, ob, plan, post, shares, tk)
        out = other_sellers.book_sales(out, st.other_sellers, post, shares, tk)
        sale = _mv(st.funds.bonds, post.p) / 100.0 * plan.default
        out, losses = _branch(
            any_in_batch(plan.default > 0.0),
            lambda: close_out(out, ob, plan.default, sale),
            lambda: (out, no_losses(out)),
        )
        # survivors have cut for their redemption requests (a defaulter's pending requests are
        # dropped at the end of the day: :func:`basislab.sim.redemptions.settle`)
        out = out._replace(
            funds=out.funds._replace(alive=plan.survive, redeem_unfunded=jnp.zeros_like(plan.survive))
        )
        fl = _flows(st, plan, liq, post, losses, ob, shares=shares)
        out = dealing.finance(dealing.record_purchases(params, out, fl.dealers_bought.sum()))
        return out, post, fl

    def quiet_window():
        plan = quiet(raw, st.funds)
        out = pay_obligations(st, ob, plan.survive)
        out = dealing.finance(raise_cash(out, plan, pre, [], [], other=False))
        return out, pre, _flows(st, plan, liq, pre, no_losses(st), ob, traded=False)

    if not static.skip_quiet_windows:
        return busy()
    os_ = st.other_sellers
    offered = jnp.any(os_.window_face > 0.0) | jnp.any(os_.window_other > 0.0)
    return _branch(
        any_in_batch((first.unwind > 0.0) | (first.other_sold.sum(0) > 0.0) | offered), busy, quiet_window
    )
