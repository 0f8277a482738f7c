"""The clearing house: EWMA initial margin, end-of-day variation margin, the volatility update.

Initial margin per unit notional (Brunnermeier & Pedersen 2009; RiskMetrics EWMA)::

    m_k = max(floor_k, z sigma_k sqrt(MPOR)),   sigma_k^2 <- lambda sigma_k^2 + (1 - lambda) r_k^2

with ``r_k = log(f_k / f_k,prev)`` the day's futures log return at settlement. Variation margin
on a short of ``F`` face from the last settlement price ``f_last`` to ``f``: the fund receives
``pending - F (f - f_last) / 100``; the longs receive the mirror image.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from basislab.sim import booking as bk
from basislab.sim.markets import Prices, _mv
from basislab.sim.players import Markets, Params, State


def im_rates(params: Params, mk: Markets) -> jax.Array:
    """[K] IM per unit notional: ``max(floor, z sigma_EWMA sqrt(MPOR))``."""
    c = params.ccp
    return jnp.maximum(c.im_floor, c.im_z * jnp.sqrt(mk.variance * c.im_mpor))


def initial_margin_call(params: Params, st: State, pr: Prices) -> tuple[State, jax.Array, jax.Array]:
    """Morning IM reset: returns the state with the asset managers' call paid from their cash, each
    fund's call ``[N]`` (due in the window) and the IM rates ``[K]``."""
    m = im_rates(params, st.markets)
    fu, am = st.funds, st.asset_managers
    im_call = (_mv(fu.futures_short, m * pr.f) / 100.0 - fu.initial_margin) * fu.alive
    call_a = am.futures_long @ (m * pr.f) / 100.0 - am.initial_margin
    st = bk.book(st, [bk.flow(bk.AM_CASH, bk.CCP_CASH, call_a), bk.flow(bk.CCP_MARGIN, bk.AM_MARGIN, call_a)])
    return st, im_call, m


def variation_margin(st: State, pr: Prices) -> tuple[State, jax.Array, jax.Array]:
    """End-of-day settlement at ``pr.f``: the asset managers are paid now; each fund's VM
    (``[N]``, fund -> CCP, negative when it receives) becomes an obligation of the window; the
    settlement price resets. Also returns the net VM on open positions (zero when longs equal
    shorts)."""
    fu, am, mk = st.funds, st.asset_managers, st.markets
    mtm = _mv(fu.futures_short, pr.f - mk.futures_settle) / 100.0
    ccp_vm = -(fu.pending_vm - mtm) * fu.alive
    mtm_a = am.futures_long @ (pr.f - mk.futures_settle) / 100.0
    vm_a = am.pending_vm + mtm_a
    st = bk.book(
        st,
        [
            bk.flow(bk.CCP_CASH, bk.AM_CASH, vm_a),
            bk.flow(bk.AM_PENDING, bk.CCP_PENDING, am.pending_vm),
            bk.flow(bk.FUND_PENDING, bk.CCP_PENDING, fu.pending_vm),
        ],
    )
    st = st._replace(markets=mk._replace(futures_settle=pr.f))
    return st, ccp_vm, mtm_a - (mtm * fu.alive).sum()


def update_volatility(params: Params, mk: Markets, f_settle: jax.Array) -> Markets:
    """RiskMetrics EWMA of daily futures log returns (end of day, before the next IM reset)."""
    r = jnp.log(f_settle / mk.futures_eod)
    lam = params.ccp.ewma_lambda
    return mk._replace(variance=lam * mk.variance + (1.0 - lam) * r * r, futures_eod=f_settle)
