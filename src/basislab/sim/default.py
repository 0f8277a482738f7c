"""The default waterfall and close-out (docs/model.md section 3).

For a fund ``i`` that defaults, after its bonds were sold by its repo lenders and its bills and
other assets by the fund (all booked as sales into the window's markets, so its cash now holds
``C + L + O p_o + V``):

* repo lender ``s`` keeps ``rec_is = min(D_is, w_is V_i)`` of the collateral proceeds; the debt is
  closed; the unsecured rest is ``D_is - rec_is + interest_is``;
* the clearing house closes the futures out against the IM: with ``x = pending - VM due`` (the
  close-out P&L already realised into ``pending``), ``net = M + x``; it pays ``max(net, 0)`` to the
  fund and keeps an unsecured claim of ``max(-net, 0)``;
* the backstop's claim is ``B + interest``, the credit-line banks' ``drawn + interest``;
* the pool ``C + ... - sum_s rec_is + max(net, 0)`` pays every unsecured claim pro rata, at most in
  full; what is not paid is the creditor's loss, booked as debt forgiven in the fund's P&L.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from basislab.sim import booking as bk
from basislab.sim.liquidity import _TINY, Obligations, _pos
from basislab.sim.players import State


class Losses(NamedTuple):
    lenders: jax.Array  # [S,N] repo lenders' losses
    ccp: jax.Array  # [N]
    backstop: jax.Array  # [N]
    credit: jax.Array  # [N] the credit-line banks' losses


def no_losses(st: State) -> Losses:
    z = jnp.zeros_like(st.funds.cash)
    return Losses(jnp.zeros_like(st.funds.repo_debt), z, z, z)


def close_out(st: State, ob: Obligations, dflt: jax.Array, sale: jax.Array) -> tuple[State, Losses]:
    """Run the waterfall for the funds with ``dflt = 1`` whose collateral fetched ``sale`` [N]."""
    fu = st.funds
    rec = jnp.minimum(fu.repo_debt, fu.repo_share * sale) * dflt
    short_l = (fu.repo_debt - rec + ob.int_repo) * dflt
    net = fu.initial_margin + fu.pending_vm - ob.ccp_vm
    ccp_pay, ccp_claim = dflt * _pos(net), dflt * _pos(-net)
    bs_claim = dflt * (fu.backstop_loan + ob.int_bs)
    cr_claim = dflt * (fu.credit_drawn + ob.int_credit)
    pool = dflt * fu.cash - rec.sum(0) + ccp_pay
    unsec = short_l.sum(0) + ccp_claim + bs_claim + cr_claim
    frac = jnp.where(unsec > 0, jnp.minimum(1.0, _pos(pool) / jnp.maximum(unsec, _TINY)), 1.0)
    paid_l, paid_c, paid_b, paid_cr = frac * short_l, frac * ccp_claim, frac * bs_claim, frac * cr_claim
    losses = Losses(short_l - paid_l, ccp_claim - paid_c, bs_claim - paid_b, cr_claim - paid_cr)
    st = bk.book(
        st,
        [
            bk.flow(bk.FUND_CASH, bk.LENDER_CASH, rec + paid_l),
            bk.flow(bk.LENDER_REPO, bk.FUND_REPO, fu.repo_debt * dflt),
            bk.flow(bk.FUND_MARGIN, bk.CCP_MARGIN, fu.initial_margin * dflt),
            bk.flow(bk.FUND_PENDING, bk.CCP_PENDING, fu.pending_vm * dflt),
            bk.flow(bk.CCP_CASH, bk.FUND_CASH, ccp_pay - paid_c),
            bk.flow(bk.FUND_CASH, bk.BACKSTOP_CASH, paid_b),
            bk.flow(bk.BACKSTOP_CLAIMS, bk.FUND_BACKSTOP, fu.backstop_loan * dflt),
            bk.flow(bk.FUND_CASH, bk.DEALER_CASH, paid_cr),
            bk.flow(bk.DEALER_CREDIT, bk.FUND_CREDIT, fu.credit_drawn * dflt),
            bk.flow(bk.LENDER_LOSSES, bk.FUND_PNL, losses.lenders),
            bk.flow(bk.CCP_LOSSES, bk.FUND_PNL, losses.ccp),
            bk.flow(bk.BACKSTOP_LOSSES, bk.FUND_PNL, losses.backstop),
            bk.flow(bk.DEALER_CREDIT_INCOME, bk.FUND_PNL, losses.credit),
        ],
    )
    return st, losses
