"""Other sellers in the engine: foreign investors and bond mutual funds selling cash Treasuries into
the same clearing as the funds when dollar funding is stressed (the engine side of
:mod:`basislab.sim.sellers`; docs/mechanisms.md section 5).

Each morning the dollar-funding stress index is read from the model's own markets::

    S = mean( max(0, (SOFR - IORB) - ref) / 100bp, max(0, 1 - p_eq) / 0.34, max(0, dIG) / 200bp )

each leg capped at 3 (:data:`MAX_LEG`), with ``ref`` the first morning's SOFR - IORB (so a market
that sits at the SRF ceiling is not stress), ``p_eq`` the equities' price (1 at the start: the
equity leg of the dash for cash, an input path through ``shock.other_assets_pct`` or an episode's
equity series) and ``dIG = -log(p_credit) / D`` the credit asset's spread change (its input path
``shock.credit_spread_bp`` plus the impact of the dash for cash's credit sales). A group sells ``rate x
S`` a day once ``S`` reaches its trigger (then keeps going), within its cap and holdings, half in
each window, at any concession (need-driven sellers are inelastic). At ``S = 1`` for the 17
business days of 9-31 March 2020 the rates give the month's flows of these sellers (foreign ~USD
300bn, TIC; mutual funds USD 101bn, ICI): never the hedge funds' figures.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from basislab.sim import booking as bk
from basislab.sim.markets import Prices, other_log_prices
from basislab.sim.players import OtherSellers, Params, State

#: each leg of the index is capped at three times its March 2020 extreme (assumption: the rates
#: were calibrated at S = 1; the sellers' caps bound what they can sell anyway)
MAX_LEG = 3.0


def stress(params: Params, st: State) -> jax.Array:
    """S, the dollar-funding stress index (1: March-2020-sized on every leg)."""
    op, os_, mk = params.other_sellers, st.other_sellers, st.markets
    log_po = other_log_prices(mk)  # [A]: equities, credit
    credit_bp = -1e4 * log_po[1] / params.market.credit_duration
    parts = (
        jnp.stack([st.funding.spread_bp - os_.spread_ref, 1.0 - jnp.exp(log_po[0]), credit_bp]) / op.scales
    )
    return jnp.mean(jnp.clip(parts, 0.0, MAX_LEG))


def plan(params: Params, st: State, window: int, p: jax.Array) -> State:
    """The window's offer (face, ``[K]``): half the day's ``rate x S`` per window once triggered,
    within each group's cap and the holdings; official selling stops while FIMA runs."""
    op, os_ = params.other_sellers, st.other_sellers
    ref = (
        jnp.where(st.markets.day == 0, st.funding.spread_bp, os_.spread_ref)
        if window == 0
        else os_.spread_ref
    )
    os_ = os_._replace(spread_ref=ref)
    s = stress(params, st._replace(other_sellers=os_))
    started = jnp.maximum(os_.started, (s >= op.trigger) * (s > 0) * 1.0)
    want = 0.5 * op.rate * s * started
    want = want.at[0].multiply(1.0 - op.fima)
    want = jnp.minimum(want, jnp.maximum(op.cap - os_.sold, 0.0))
    face = jnp.minimum(100.0 * want.sum() * op.mix / p, os_.bonds)
    by_group = want / jnp.maximum(want.sum(), 1e-300) * (face @ p / 100.0)
    # prime money funds meet their outflow (rate x S, from the same trigger) by selling CP and CDs
    credit_price = jnp.exp(other_log_prices(st.markets)[1])
    prime = 0.5 * op.prime_outflow * s * (s >= jnp.min(op.trigger)) / credit_price
    credit = jnp.minimum(prime, os_.other_assets[1])
    other = jnp.zeros_like(os_.other_assets).at[1].set(credit)
    return st._replace(
        other_sellers=os_._replace(
            started=started, window_face=face, sold=os_.sold + by_group, window_other=other
        )
    )


def book_sales(st: State, offer: OtherSellers, post: Prices, shares, tk) -> State:
    """Their offer (Treasuries ``window_face``, other assets ``window_other``) goes to the takers
    in the clearing's shares, paid at the clearing prices."""
    flows = []
    for t, sh in zip(tk, shares, strict=True):
        if t.bonds is not None:
            q = offer.window_face if sh.cash is None else offer.window_face * sh.cash
            flows += [
                bk.flow(bk.OTHER_SELLER_BONDS, t.bonds, q),
                bk.flow(t.cash, bk.OTHER_SELLER_CASH, q * post.p / 100),
            ]
        if t.other is not None:
            u = offer.window_other if sh.other is None else offer.window_other * sh.other
            flows += [
                bk.flow(bk.OTHER_SELLER_OTHER, t.other, u),
                bk.flow(t.cash, bk.OTHER_SELLER_CASH, u * post.po),
            ]
    return bk.book(st, flows)
