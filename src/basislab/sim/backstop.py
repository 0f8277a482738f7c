"""The backstop lender's end-of-day repayment: each live fund repays its loan from the cash it
holds above its normal buffer, ``repay_i = min(B_i, max(0, C_i - C_target_i))``."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from basislab.sim import booking as bk
from basislab.sim.players import State


def repay_from_excess_cash(
    st: State, owed: jax.Array, lender_cash: bk.Account, lender_claim: bk.Account, fund_debt: bk.Account
) -> tuple[State, jax.Array]:
    """Each live fund repays ``owed`` [N] from the cash it holds above its normal buffer,
    ``min(owed, max(0, C - C_target))``, to the lender's cash, extinguishing the claim on both
    sides; returns the state and the total repaid. The backstop and the committed credit lines
    (:func:`basislab.sim.redemptions.repay_credit_lines`) are repaid this way, in that order."""
    fu = st.funds
    rep = jnp.minimum(owed, jnp.maximum(0.0, fu.cash - fu.cash_target)) * fu.alive
    st = bk.book(st, [bk.flow(bk.FUND_CASH, lender_cash, rep), bk.flow(lender_claim, fund_debt, rep)])
    return st, rep.sum()


def repay_backstop(st: State) -> tuple[State, jax.Array]:
    """Book each fund's repayment of the backstop; return the state and the total repaid."""
    return repay_from_excess_cash(
        st, st.funds.backstop_loan, bk.BACKSTOP_CASH, bk.BACKSTOP_CLAIMS, bk.FUND_BACKSTOP
    )
