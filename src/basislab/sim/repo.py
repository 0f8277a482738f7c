"""Repo lenders: haircuts, refusal to roll, repo rates and the morning re-marking of collateral.

Haircut (INET "resilience" rule after Bookstaber et al.; Brunnermeier & Pedersen 2009 VaR
margins), per segment ``s``::

    h_s = min(h_max_s, h0_s + a_s max(0, 1 - sum_k mix_k P_k / P0_k) + b_s max(0, stress - 1))

refused-roll share ``r_s = min(r_max_s, slope_s max(0, stress - 1))``, repo rate
``SOFR + spread_s + stress_spread max(0, stress - 1)``, and the morning call on fund ``i``::

    D*_is = (1 - h_s)(1 - r_s) w_is V_i,   call_is = D_is - D*_is   (negative: margin returned)

with ``V_i = sum_k Q_ik P_k / 100`` (docs/model.md section 3).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from basislab.sim.markets import Prices, _mv, stress_excess
from basislab.sim.players import Funds, Markets, Params


class RepoCall(NamedTuple):
    call: jax.Array  # [S,N] fund -> lender s (negative: the lender returns margin)
    haircut: jax.Array  # [S]
    refusal: jax.Array  # [S]


def haircuts(params: Params, mk: Markets, pr: Prices) -> jax.Array:
    """[S] haircut per segment (decimal)."""
    r, m = params.repo, params.market
    fall = jnp.maximum(0.0, 1.0 - jnp.sum(params.funds.mix * pr.p / m.p0))
    return jnp.minimum(r.h_max, r.h0 + r.h_price * fall + r.h_vol * stress_excess(params, mk))


def refusal(params: Params, mk: Markets) -> jax.Array:
    """[S] share of repo that each segment's lenders refuse to roll."""
    return jnp.minimum(params.repo.refuse_max, params.repo.refuse_slope * stress_excess(params, mk))


def repo_rates(params: Params, mk: Markets) -> jax.Array:
    """[S] repo rate per segment (decimal p.a.)."""
    r = params.repo
    return r.sofr + r.spread + r.stress_spread * stress_excess(params, mk)


def repo_margin_call(params: Params, funds: Funds, mk: Markets, pr: Prices) -> RepoCall:
    """The lenders re-mark each live fund's collateral at ``pr`` (morning window)."""
    h = haircuts(params, mk, pr)
    ref = refusal(params, mk)
    v = _mv(funds.bonds, pr.p) / 100.0
    target = ((1.0 - h) * (1.0 - ref))[:, None] * funds.repo_share * v
    return RepoCall((funds.repo_debt - target) * funds.alive, h, ref)
