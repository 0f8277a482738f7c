"""Funds' liquidity in a settlement window: what each fund owes, and the pecking order by which it
raises the cash (model-equations.md section 1; docs/model.md section 3).

A fund's cash after its payments is ``C + pay_in - pay_out``; the gap ``max(0, -cash)`` (raised by
``1 + oversell``) is covered by, in order: bills at par, undrawn committed credit lines, the
backstop (up to ``ltv x V`` less what is owed), other risky assets at the estimated price
(equities, then credit), and unwinding a share ``u`` of the trade,
which frees ``e = V - D_post + M_post`` per unit. A fund also de-risks by choice: it deleverages
to ``target x limit`` when ``V / E`` exceeds its limit (Cont & Schaanning 2017), and after losses
it cuts its position to ``(1 - cut) x`` its initial face, with ``cut = stop_cut x clip((dd - sl) /
sl, 0, 1)`` for a drawdown ``dd = 1 - E / E0`` of its NAV (a stop-loss at ``sl``;
:func:`basislab.sim.margins.derisk_fraction`). Only the share ``u_cash`` is a *forced* sale. It
defaults when it has a gap that bills + credit-line room + backstop room + other assets + ``max(e, 0)``
cannot cover,
or its equity is not positive.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from basislab.sim.markets import Prices, _mv
from basislab.sim.players import Funds, Params

_TINY = 1e-12


def _pos(x: jax.Array) -> jax.Array:
    return jnp.maximum(x, 0.0)


class Obligations(NamedTuple):
    """What each fund owes (positive) or is owed (negative) in a settlement window."""

    repo_call: jax.Array  # [S,N] fund -> lender s (negative: lender returns margin / lends more)
    debt_post: jax.Array  # [S,N] repo debt after the call is met
    im_call: jax.Array  # [N] fund -> CCP
    im_post: jax.Array  # [N]
    ccp_vm: jax.Array  # [N] fund -> CCP variation margin (negative: fund receives)
    int_repo: jax.Array  # [S,N] interest due to lender s
    int_bs: jax.Array  # [N] interest due to the backstop
    int_credit: jax.Array  # [N] interest due on drawn credit lines
    redemption: jax.Array  # [N] redemptions paid to the fund's investors in this window


class Plan(NamedTuple):
    """Each fund's answer to its obligations at a set of estimated prices. As the pecking order
    returns it, the amounts are what a surviving fund would do; :func:`with_defaults` applies the
    default rule (a defaulter's bills, other assets and whole trade are sold)."""

    bills_sold: jax.Array  # [N]
    credit_draw: jax.Array  # [N] drawn on committed credit lines
    backstop_draw: jax.Array  # [N]
    other_sold: jax.Array  # [A,N] units of other assets sold (equities, credit)
    unwind: jax.Array  # [N] share u of the trade sold
    forced: jax.Array  # [N] the part of u sold to meet the cash gap (the rest is by choice)
    default: jax.Array  # [N] 1.0 for a fund that defaults in this window
    survive: jax.Array  # [N] 1.0 for a live fund that does not


class Liquidity(NamedTuple):
    cash_after: jax.Array  # [N] cash once the window's payments are made
    pay_out: jax.Array  # [N] gross payments due
    gap: jax.Array  # [N] shortfall max(0, -cash_after) of live funds


def cash_position(funds: Funds, ob: Obligations) -> Liquidity:
    """Cash after the window's payments: repo calls, IM, VM, interest and redemptions."""
    pay_out = (
        _pos(ob.repo_call).sum(0)
        + _pos(ob.im_call)
        + _pos(ob.ccp_vm)
        + ob.int_repo.sum(0)
        + ob.int_bs
        + ob.int_credit
        + ob.redemption
    )
    pay_in = _pos(-ob.repo_call).sum(0) + _pos(-ob.im_call) + _pos(-ob.ccp_vm)
    a = funds.alive
    cash = funds.cash + (pay_in - pay_out) * a
    return Liquidity(cash, pay_out, _pos(-cash) * a)


def liquidity_plan(
    params: Params, funds: Funds, f_last: jax.Array, ob: Obligations, liq: Liquidity, est: Prices
) -> Plan:
    """The pecking order (bills, committed credit lines, backstop, other assets, unwind) and the
    default rule at ``est`` (``f_last``: the last futures settlement price). De-risking by choice:
    the leverage limit, the stop-loss, and a pro-rata cut ``u = R / E`` for redemption requests
    ``R`` not yet provided for (the drawdown of both rules is the fund's performance, ``1 - (E +
    redeemed) / E0``: capital returned is not a loss)."""
    a, need = funds.alive, liq.gap * (1.0 + params.funds.oversell)
    dpost = ob.debt_post.sum(0)
    v_est = _mv(funds.bonds, est.p) / 100.0
    e_unit = v_est - dpost + ob.im_post
    eq = (
        v_est
        - _mv(funds.futures_short, est.f - f_last) / 100.0
        + funds.pending_vm
        + liq.cash_after
        + funds.bills
        + _mv(funds.other_assets, est.po)
        + ob.im_post
        - dpost
        - funds.backstop_loan
        - funds.credit_drawn
    )
    s_bills = jnp.minimum(funds.bills, need)
    cr_room = _pos(funds.credit_limit - funds.credit_drawn) * a
    d_cr = jnp.minimum(cr_room, _pos(need - s_bills))
    bs_cap = params.backstop.on * _pos(params.backstop.ltv * v_est - funds.backstop_loan)
    d_bs = jnp.minimum(bs_cap, need - s_bills - d_cr)
    # other assets in the order of players.OTHER_ASSETS (most liquid first), each until the gap is met
    oth_val = funds.other_assets * est.po[:, None]  # [A,N]
    left = _pos(need - s_bills - d_cr - d_bs)
    s_each = []
    for j in range(oth_val.shape[0]):
        s_a = jnp.minimum(oth_val[j], left)
        s_each.append(s_a)
        left = left - s_a
    s_oth = jnp.stack(s_each)  # [A,N]
    r3 = left
    u_cash = jnp.where(r3 > 0, jnp.minimum(1.0, r3 / jnp.maximum(e_unit, _TINY)), 0.0)
    lev = v_est / jnp.maximum(eq, _TINY)
    lim = funds.leverage_limit
    u_lev = jnp.where(lev > lim, 1.0 - params.funds.lev_target_ratio * lim / lev, 0.0)
    fp = params.funds
    dd = 1.0 - (eq + funds.redeemed) / jnp.maximum(funds.equity0, _TINY)
    cut = fp.stop_cut * jnp.clip((dd - fp.stop_loss) / fp.stop_loss, 0.0, 1.0)
    face = funds.bonds.sum(0)
    u_stop = _pos(1.0 - (1.0 - cut) * funds.position0 / jnp.maximum(face, _TINY)) * (face > _TINY)
    u_red = jnp.where(
        funds.redeem_unfunded > 0.0, jnp.clip(funds.redeem_unfunded / jnp.maximum(eq, _TINY), 0.0, 1.0), 0.0
    )
    capacity = funds.bills + cr_room + bs_cap + oth_val.sum(0) + _pos(e_unit)
    # a fund with no gap never fails the first test, so round-off in a fully unwound fund's
    # holdings cannot default it (tests/sim/test_engine.py regression)
    dflt = a * (((liq.gap > 0.0) & (capacity < liq.gap)) | (eq <= 0.0)).astype(jnp.float64)
    # units sold; selling everything leaves exactly zero (no round-off residue)
    sold = jnp.where(s_oth >= oth_val, funds.other_assets, s_oth / jnp.maximum(est.po, _TINY)[:, None])
    u = jnp.maximum(jnp.maximum(u_cash, u_red), jnp.maximum(u_lev, u_stop))
    return Plan(s_bills, d_cr, d_bs, sold, u, jnp.minimum(u_cash, u), dflt, a - dflt)


def with_defaults(plan: Plan, funds: Funds) -> Plan:
    """Survivors do what they planned; defaulters' bills, other assets and trade are all sold."""
    nd, dflt = plan.survive, plan.default
    return Plan(
        nd * plan.bills_sold + dflt * funds.bills,
        nd * plan.credit_draw,
        nd * plan.backstop_draw,
        nd * plan.other_sold + dflt * funds.other_assets,
        nd * plan.unwind + dflt,
        nd * plan.forced,
        dflt,
        nd,
    )


def quiet(plan: Plan, funds: Funds) -> Plan:
    """The plan of a window in which nobody unwinds, sells other assets or defaults: live funds
    sell bills and draw on credit lines and the backstop; every other term is zero."""
    a, z = funds.alive, jnp.zeros_like(funds.alive)
    za = jnp.zeros_like(funds.other_assets)
    return Plan(a * plan.bills_sold, a * plan.credit_draw, a * plan.backstop_draw, za, z, z, z, a)
