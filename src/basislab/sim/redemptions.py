"""Investor redemptions from the funds: requests after losses, a pro-rata cut of the trade by
choice, and payment on the next dealing date (issue 10 item 1; docs/model.md section 16).

Convention. USD bn; one step = one business day. A fund's performance drawdown is
``dd = 1 - (E + R_paid) / E0`` (capital already returned is not a loss). Its investors ask, in
all, for ``min(a x max(dd - d0, 0), cap)`` of the initial NAV ``E0`` (a flow-performance rule:
outflows rise with losses past a threshold ``d0``; ``cap`` is the share of NAV investors can
withdraw within the run, Form PF Q50 investor liquidity, ``hf_investor_liq_def``); each end of
day the rise of that total is a new request. The fund cuts its trade pro rata by the request's
share of its NAV in the next window (de-risking by choice: leverage is kept, nothing is forced)
and pays the requests on the dealing date ``notice`` business days after the first unpaid one,
from its cash after the window's other payments: it gates (pays later) what its cash does not
cover, so a redemption never forces a sale or a default by itself. A defaulted fund's investors
are not paid (they are its residual claimants).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from basislab.sim import booking as bk
from basislab.sim.backstop import repay_from_excess_cash
from basislab.sim.liquidity import _TINY, Obligations, cash_position
from basislab.sim.players import Params, State

#: amounts below this share of a fund's initial NAV are round-off, not redemptions
_DUST = 1e-12


def request(params: Params, st: State) -> State:
    """End of day: new requests from the day's performance drawdown. The fund's NAV plus the
    capital it returned is ``E0 + P&L`` (the audit's fund identity), so ``dd = -P&L / E0``. A
    first unpaid request starts the clock to the dealing date."""
    fu, fp = st.funds, params.funds
    dd = -fu.pnl / jnp.maximum(fu.equity0, _TINY)
    target = jnp.minimum(fp.redeem_per_loss * jnp.maximum(dd - fp.redeem_threshold, 0.0), fp.redeem_cap)
    new = jnp.maximum(target * fu.equity0 - fu.redeem_requested, 0.0) * fu.alive
    new = jnp.where(new > _DUST * fu.equity0, new, 0.0)
    start = (fu.redeem_pending <= 0.0) & (new > 0.0)
    countdown = jnp.where(start, fp.redeem_notice, jnp.maximum(fu.redeem_countdown - 1.0, 0.0))
    return st._replace(
        funds=fu._replace(
            redeem_requested=fu.redeem_requested + new,
            redeem_pending=fu.redeem_pending + new,
            redeem_unfunded=fu.redeem_unfunded + new,
            redeem_countdown=jnp.where(fu.redeem_pending + new > 0.0, countdown, 0.0),
        )
    )


def due_today(st: State) -> jax.Array:
    """[N] funds at a dealing date with requests pending."""
    fu = st.funds
    return (fu.redeem_countdown <= 1.0) & (fu.redeem_pending > 0.0)


def due(st: State, ob: Obligations) -> Obligations:
    """The end-of-day window's obligations with the redemptions due today: the pending requests
    of funds at their dealing date, at most their cash after the other payments."""
    fu = st.funds
    liq = cash_position(fu, ob)
    pay = jnp.where(due_today(st), jnp.minimum(fu.redeem_pending, jnp.maximum(liq.cash_after, 0.0)), 0.0)
    return ob._replace(redemption=pay * fu.alive)


def settle(st: State, ob: Obligations) -> State:
    """After the end-of-day window: what was paid leaves the pending requests (the booking is in
    :func:`basislab.sim.window.pay_obligations`); a defaulted fund's requests are dropped."""
    fu = st.funds
    pending = jnp.maximum(fu.redeem_pending - ob.redemption, 0.0) * fu.alive
    # a round-off leftover of a paid request is no request (it would restart the dealing clock)
    pending = jnp.where(pending > _DUST * fu.equity0, pending, 0.0)
    return st._replace(funds=fu._replace(redeem_pending=pending))


def repay_credit_lines(st: State) -> tuple[State, jax.Array]:
    """End of day: each live fund repays its drawn credit lines from cash above its normal buffer
    (after the backstop: :func:`basislab.sim.backstop.repay_backstop`)."""
    return repay_from_excess_cash(st, st.funds.credit_drawn, bk.DEALER_CASH, bk.DEALER_CREDIT, bk.FUND_CREDIT)
