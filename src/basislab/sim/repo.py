"""Repo lenders: haircut schedules, refusal to roll, repo rates and margin calls as practised.

Haircuts and refusal shares are *schedules* (Kruttli, Monin, Petrasek & Watugala 2021, FEDS
2021-038: hedge funds' repo haircuts relatively unchanged in March 2020; tri-party "at or near 2%
regardless of market conditions"): a level per band of the stress index (vol / calm vol), chosen
at the lenders' periodic reviews, never a continuous function of price (:mod:`basislab.sim.margins`)::

    h_s = levels_s[band(stress)]   on a review day, else unchanged

Margin (GMRA 2011 para 4; :func:`basislab.sim.margins.bilateral_call`): each morning the lender
marks the fund's collateral at the *previous close* (the close at which the futures settled, so a
hedged fund's call is met from the VM it received that evening), nets it across the fund's repo
with that segment, and calls what exceeds the threshold if at least the minimum transfer amount::

    x_is = D_is - (1 - h_s)(1 - r_s) w_is V_i(close) - pending_is
    call_is = sign(x)(|x| - threshold)  if |.| >= MTA, else 0   (negative: margin returned)

settled at the end of that day (``settle_lag`` 0) or of the next (1). The repo rate is
``SOFR_t + spread_s + dealer spread (bilateral) + stress_spread max(0, stress - 1)`` (docs/model.md
section 3), SOFR from the funding market.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from basislab.sim.markets import _mv, stress_excess, stress_index
from basislab.sim.players import Funds, Markets, Params, RepoLenders


class RepoCall(NamedTuple):
    due: jax.Array  # [S,N] fund -> lender s at this end of day (negative: margin returned)
    pending: jax.Array  # [S,N] called today, due at the next end of day
    haircut: jax.Array  # [S]
    refusal: jax.Array  # [S]


def review_terms(params: Params, lenders: RepoLenders, mk: Markets) -> RepoLenders:
    """On a review day (``day mod review_days == 0``) each segment sets its haircut and refusal
    share to the level of the stress band it is in; on other days they stay as they are."""
    r = params.repo
    band = jnp.sum(stress_index(params, mk) >= r.stress_bands)
    review = jnp.mod(mk.day, r.review_days) == 0
    pick = lambda lv: jnp.take(lv, band, axis=1)  # noqa: E731
    return lenders._replace(
        haircut=jnp.where(review, pick(r.haircut_levels), lenders.haircut),
        refusal=jnp.where(review, pick(r.refusal_levels), lenders.refusal),
    )


def haircuts(params: Params, lenders: RepoLenders) -> jax.Array:
    """[S] haircut per segment in force (decimal)."""
    return lenders.haircut


def repo_rates(params: Params, mk: Markets, sofr: jax.Array, dealer_spread: jax.Array) -> jax.Array:
    """[S] repo rate per segment (decimal p.a.): the day's SOFR from the funding market
    (:mod:`basislab.sim.repo_market`) plus the segment's spread, the dealers' balance-sheet
    spread on bilateral repo (:func:`basislab.sim.dealing.repo_spread`) and an optional stress
    slope (zero by default: the funding market and the dealers now set the rate)."""
    r = params.repo
    bilateral = jnp.zeros_like(r.spread).at[0].set(1.0)
    return sofr + r.spread + bilateral * dealer_spread + r.stress_spread * stress_excess(params, mk)


def repo_margin_call(params: Params, funds: Funds, lenders: RepoLenders, mk: Markets) -> RepoCall:
    """The lenders mark each live fund's collateral at the previous close and call margin (morning
    window); the call is due at this end of day or the next (``settle_lag``)."""
    r = params.repo
    v = _mv(funds.bonds, mk.cash_close) / 100.0
    target = ((1.0 - lenders.haircut) * (1.0 - lenders.refusal))[:, None] * funds.repo_share * v
    x = funds.repo_debt - target - funds.repo_pending
    call = jnp.sign(x) * jnp.maximum(jnp.abs(x) - r.threshold, 0.0)
    call = jnp.where(jnp.abs(call) >= r.min_transfer, call, 0.0) * funds.alive
    lag = r.settle_lag
    due = funds.repo_pending * funds.alive + (1.0 - lag) * call
    return RepoCall(due, lag * call, lenders.haircut, lenders.refusal)
