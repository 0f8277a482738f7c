"""The backstop lender's end-of-day repayment: each live fund repays its loan from the cash it
holds above its normal buffer, ``repay_i = min(B_i, max(0, C_i - C_target_i))``."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from basislab.sim import booking as bk
from basislab.sim.players import State


def repay_backstop(st: State) -> tuple[State, jax.Array]:
    """Book each fund's repayment; return the state and the total repaid."""
    fu = st.funds
    rep = jnp.minimum(fu.backstop_loan, jnp.maximum(0.0, fu.cash - fu.cash_target)) * fu.alive
    st = bk.book(
        st, [bk.flow(bk.FUND_CASH, bk.BACKSTOP_CASH, rep), bk.flow(bk.BACKSTOP_CLAIMS, bk.FUND_BACKSTOP, rep)]
    )
    return st, rep.sum()
