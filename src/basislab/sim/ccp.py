"""The clearing house: initial margin as CME sets it, variation margin at the settlement and in
intraday cycles, the volatility update.

Initial margin (CME; :func:`basislab.sim.margins.initial_margin_day`): a look-back VaR over the last
``W`` settlement returns, ``VaR_k = z sqrt(mean(r_k^2) MPOR)`` (floored), reviewed every
``im_review_days``; a change is made only outside a band (raised to the VaR when it exceeds the
margin by ``band_up``, cut ``down_share`` of the way when below it by ``band_down``), announced,
and effective after ``notice_days`` end-of-days (CME advisory 20-085: announced 9 March, effective
after the close of 10 March 2020). In force it is a dollar amount per contract (``im_per_face``:
rate x settlement price when it took effect), so it is *not* reset every morning. The EWMA
variance ``sigma_k^2 <- lambda sigma_k^2 + (1 - lambda) r_k^2`` (RiskMetrics) drives the stress
index only. Variation margin on a short of ``F`` face from the last settlement price ``f_last`` to
``f``: the fund receives ``pending - F (f - f_last) / 100``; the longs receive the mirror image;
an extra intraday cycle runs in the morning window when a bucket has moved ``intraday_sd`` daily
calm daily standard deviations since the last mark (CME ran extra intraday cycles in March 2020).
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


def initial_margin_call(params: Params, st: State) -> tuple[State, jax.Array]:
    """End-of-day IM at the rate in force: returns the state with the asset managers' call paid
    from their cash and each fund's call ``[N]`` (due in the window)."""
    m = st.ccp.im_per_face
    fu, am = st.funds, st.asset_managers
    im_call = (_mv(fu.futures_short, m) - fu.initial_margin) * fu.alive
    call_a = am.futures_long @ m - am.initial_margin
    st = bk.book(st, [bk.flow(bk.AM_CASH, bk.CCP_CASH, call_a), bk.flow(bk.CCP_MARGIN, bk.AM_MARGIN, call_a)])
    return st, im_call


def lookback_var(params: Params, returns: jax.Array) -> jax.Array:
    """[K] ``max(floor, z sqrt(mean(r^2) MPOR))`` over the window's settlement returns."""
    c = params.ccp
    return jnp.maximum(c.im_floor, c.im_z * jnp.sqrt(jnp.mean(returns**2, axis=-1) * c.im_mpor))


def review_margin(params: Params, st: State, f_settle: jax.Array) -> State:
    """End of day, before the IM call: an announced change whose notice has run takes effect (in
    dollars per contract at today's settlement); today's return enters the window; on a review
    day a VaR outside the band is announced (:func:`basislab.sim.margins.initial_margin_day`)."""
    c, h, mk = params.ccp, st.ccp, st.markets
    rate = h.im_per_face * 100.0 / mk.futures_settle  # in force, as a fraction of notional
    countdown = h.im_countdown - 1.0
    due = (countdown <= 0.0) & (h.im_has_pending > 0)
    per_face = jnp.where(due, h.im_announced * f_settle / 100.0, h.im_per_face)
    rate = jnp.where(due, h.im_announced, rate)
    pending = jnp.where(due, 0.0, h.im_has_pending)
    r = jnp.log(f_settle / mk.futures_settle)
    returns = jnp.concatenate([h.returns[:, 1:], r[:, None]], axis=1)
    var = lookback_var(params, returns)
    review = (jnp.mod(mk.day + 1.0, c.im_review_days) == 0) & (pending <= 0)
    up, down = var > rate * (1.0 + c.band_up), var < rate * (1.0 - c.band_down)
    target = jnp.where(up, var, rate + c.down_share * (var - rate))
    announce = review & (up | down)
    now = announce & (c.notice_days <= 0)
    per_face = jnp.where(now, target * f_settle / 100.0, per_face)
    ccp = h._replace(
        im_per_face=per_face,
        im_announced=jnp.where(announce, target, jnp.where(due, 0.0, h.im_announced)),
        im_has_pending=jnp.where(announce & ~now, 1.0, pending),
        im_countdown=jnp.where(announce, c.notice_days, countdown),
        returns=returns,
    )
    return st._replace(ccp=ccp)


def intraday_trigger(params: Params, mk: Markets, pr: Prices) -> jax.Array:
    """1.0 when any bucket's futures moved ``intraday_sd`` *calm* daily sd (``Dmod sigma_y``)
    since the last mark: a move that only stressed markets produce before noon."""
    calm_sd = params.market.dmod * params.market.sigma_y
    moved = jnp.abs(jnp.log(pr.f / mk.futures_settle)) >= params.ccp.intraday_sd * calm_sd
    return jnp.any(moved).astype(jnp.float64)


def variation_margin(
    st: State, pr: Prices, on: jax.Array | float = 1.0
) -> tuple[State, jax.Array, jax.Array]:
    """Settlement at ``pr.f`` (``on`` 1.0; 0.0 leaves everything as it is): the asset managers are
    paid now; each fund's VM (``[N]``, fund -> CCP, negative when it receives) becomes an
    obligation of the window; the settlement price resets. Also returns the net VM on open
    positions (zero when longs equal shorts)."""
    fu, am, mk = st.funds, st.asset_managers, st.markets
    mtm = _mv(fu.futures_short, pr.f - mk.futures_settle) / 100.0 * on
    ccp_vm = -(fu.pending_vm * on - mtm) * fu.alive
    mtm_a = am.futures_long @ (pr.f - mk.futures_settle) / 100.0 * on
    vm_a = am.pending_vm * on + mtm_a
    st = bk.book(
        st,
        [
            bk.flow(bk.CCP_CASH, bk.AM_CASH, vm_a),
            bk.flow(bk.AM_PENDING, bk.CCP_PENDING, am.pending_vm * on),
            bk.flow(bk.FUND_PENDING, bk.CCP_PENDING, fu.pending_vm * on),
        ],
    )
    st = st._replace(markets=mk._replace(futures_settle=jnp.where(on > 0, pr.f, mk.futures_settle)))
    return st, ccp_vm, mtm_a - (mtm * fu.alive).sum()


def update_volatility(params: Params, mk: Markets, f_settle: jax.Array) -> Markets:
    """RiskMetrics EWMA of daily futures log returns (end of day, before the next IM reset)."""
    r = jnp.log(f_settle / mk.futures_eod)
    lam = params.ccp.ewma_lambda
    return mk._replace(variance=lam * mk.variance + (1.0 - lam) * r * r, futures_eod=f_settle)
