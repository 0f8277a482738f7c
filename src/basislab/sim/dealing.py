"""Dealers in the clearing: balance-sheet capacity under the SLR, their depth, and the lay-off of
what they bought (the engine side of :mod:`basislab.sim.dealers`; docs/mechanisms.md section 2).

Per dealer ``d`` (USD bn; Duffie, Fleming, Keane, Nelson, Shachar & Van Tassel 2023, FRBNY SR
1070; ``slr_bhc``, ``slr_exemption_2020``)::

    K_d = T1_d / slr,   w_d = K_d / sum K
    E_d = E0_d - x B_d + (1 - x) A_d + w_d [omega (D_bil - D_bil0) + L + (1 - c) SRF]
    x = 1 under the SLR exemption, c = 1 with the SRF centrally cleared
    u_d = E_d / K_d,   H_d = max(K_d - E_d, 0)

with ``B`` the Treasuries and reserves in the starting exposure, ``A`` the inventory bought in the
run (at cost, less what was laid off), ``D_bil`` the funds' bilateral repo (dealers' reverse repo
to them, weight ``omega``), ``L`` the funds' drawn credit lines and ``SRF`` the Standing Repo
Facility loans the dealers lend on (netted when the SRF is centrally cleared). In the clearing
the dealers take cash Treasuries along a log-price slope that is their share ``phi`` of the
market's calm depth, steeper with utilisation above ``u_bar`` and capped by their headroom::

    1 / lambda_D = sum_d (phi / lambda) w_d / (1 + kappa' max(0, u_d - u_bar))

so in a calm market the combined depth of dealers and end investors is the calm depth the
scenario gives (D'Amico & King 2013). They finance what they buy in repo from money funds and lay
off a share ``delta`` of it to end investors each day (Fleming, Nguyen & Rosenberg, FRBNY SR 299:
within about a week).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from basislab.sim import booking as bk
from basislab.sim.players import Params, State


def capacity(params: Params) -> jax.Array:
    """[D] K = Tier 1 / SLR requirement (USD bn)."""
    d = params.dealers
    return d.tier1 / d.slr_requirement


def exposure(params: Params, st: State) -> jax.Array:
    """[D] leverage exposure E (USD bn); the exemption takes Treasuries and reserves out. The
    funds' drawn credit lines are loans on the banks' balance sheets (by capacity share). SRF
    loans on-lent in repo gross up the balance sheet (the Fed repo is a liability, the reverse
    repo an asset: the leverage-ratio framework nets repo and reverse repo only with the same
    counterparty, BCBS 2014 SFT netting criteria) unless the SRF is centrally cleared, when both
    legs face the CCP (FICC) and net:
    ``+ w_d (1 - c) SRF``."""
    from basislab.sim.repo_market import srf_onlent_bn

    d, k = params.dealers, capacity(params)
    w = k / k.sum()
    x = d.slr_exempt
    bil = st.funds.repo_debt[0].sum() - st.dealers.repo_lent0
    srf = (1.0 - params.funding.curve.srf_central_clearing) * srf_onlent_bn(params, st)
    lent = w * (d.repo_weight * bil + st.dealers.credit_claims + srf)
    return d.exposure0 - x * d.exempt_base + (1.0 - x) * st.dealers.absorbed + lent


def utilisation(params: Params, st: State) -> jax.Array:
    """[D] u = E / K (requirement / SLR)."""
    return exposure(params, st) / capacity(params)


def headroom(params: Params, st: State) -> jax.Array:
    """Total balance sheet the dealers can still add (USD bn)."""
    return jnp.maximum(capacity(params) - exposure(params, st), 0.0).sum()


def _depth_weights(params: Params, st: State) -> jax.Array:
    """[D] each dealer's calm-depth weight ``w_d / (1 + kappa' max(0, u_d - u_bar))``."""
    d, k = params.dealers, capacity(params)
    excess = jnp.maximum(utilisation(params, st) - d.threshold, 0.0)
    return k / k.sum() / (1.0 + d.capacity_slope * excess)


def slope(params: Params, st: State) -> jax.Array:
    """[K] the dealers' combined log-price slope per USD bn (``lambda_D``)."""
    d = params.dealers
    return params.market.impact_cash / (d.depth_share * _depth_weights(params, st).sum())


def investor_slope(params: Params) -> jax.Array:
    """[K] end investors' slope: the rest of the calm depth, ``lambda / (1 - phi)``."""
    return params.market.impact_cash / (1.0 - params.dealers.depth_share)


def repo_spread(params: Params, st: State) -> jax.Array:
    """Extra spread (decimal) dealers charge on bilateral repo once their utilisation passes
    ``u_bar`` (He, Nagel & Song 2022 form), capacity-weighted over dealers."""
    d, k = params.dealers, capacity(params)
    excess = jnp.maximum(utilisation(params, st) - d.threshold, 0.0)
    return d.repo_spread_slope * (excess @ (k / k.sum()))


def record_purchases(params: Params, st: State, bought: jax.Array) -> State:
    """Add the window's purchases (USD bn at cost) to each dealer's exposure, in proportion to
    its depth weight (the share of the flow it took)."""
    w = _depth_weights(params, st)
    return st._replace(dealers=st.dealers._replace(absorbed=st.dealers.absorbed + bought * w / w.sum()))


def finance(st: State) -> State:
    """Dealers borrow in tri-party repo from money funds what they paid out, and repay from what
    they received (never more than they owe): cash goes back to zero unless it is P&L."""
    dl = st.dealers
    borrow = jnp.maximum(-dl.cash, -dl.repo_funding)
    return bk.book(
        st, [bk.flow(bk.MMF_CASH, bk.DEALER_CASH, borrow), bk.flow(bk.DEALER_REPO, bk.MMF_CLAIMS, borrow)]
    )


def lay_off(params: Params, st: State, p: jax.Array) -> State:
    """End of day: dealers sell ``delta`` of their inventory to end investors at the close (no
    further impact: patient buyers), then repay the repo that financed it."""
    dl = st.dealers
    delta = params.dealers.distribute
    q = delta * dl.bonds
    st = bk.book(
        st,
        [
            bk.flow(bk.DEALER_BONDS, bk.INVESTOR_BONDS, q),
            bk.flow(bk.INVESTOR_CASH, bk.DEALER_CASH, q @ p / 100.0),
        ],
    )
    st = st._replace(dealers=st.dealers._replace(absorbed=st.dealers.absorbed * (1.0 - delta)))
    return finance(st)
