"""The funding market in the engine: the morning clearing that sets the day's SOFR and the
afternoon flows of reserves (the engine side of :mod:`basislab.sim.funding`; docs/mechanisms.md
section 1). USD tn and percent, as in :mod:`~basislab.sim.funding`.

Morning (Copeland, Duffie & Yang 2021, FRBNY SR 974: overnight repo trades before the day's large
payments): yesterday's SRF and repo-operation loans are repaid, today's coupon issues join the
dealers' financing need, and the market clears on the opening balances::

    x = R + w_rrp RRP + FedRepo_input - inv - drains
        - omega [(MMF_dealers - (D_funds0 - D_funds)) / 1000 - MMF_inflow]

``omega`` weighs the run's own repo: dealers' new inventory financed from money funds draws on the
same cash, the funds' repo they repay releases it, and cash that flees to government money funds
under dollar stress (USD 790bn in March 2020 at ``S = 1``, ``mmf_flows_mar2020_crane``) is lent in
repo (all zero in a calm market). Above the SRF rate
plus its wedge, eligible dealers borrow from the facility; once the Fed's repo-operations lever
acts (:func:`basislab.sim.model.fed_levers`, trigger on SOFR - IORB) its capacity adds at
``IORB + spread``, the lower of the two rates being the ceiling. The SRF's all-in cost rises with
its take-up ``q`` (``SRF - IORB + wedge + slope q``, :func:`basislab.sim.funding.clear`; zero
slope under central clearing, while the repo operations act, and before the SRF existed).

Afternoon: the Treasury's net receipts move reserves into the TGA, money funds move cash to or
from the ON RRP, and the reserves the Fed created in the day (outright purchases, lender of last
resort) are added, so ``R + RRP + TGA - loans - created`` stays at its opening value (the audit).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from basislab.sim import funding
from basislab.sim.players import FundingMarket, Params, State

#: the SRF rate (percent) that stands for "no facility" (before 28 July 2021, or no access)
NO_SRF_PCT = 1e6


def day_inputs(params: Params, day: jax.Array) -> funding.FundingDay:
    """The funding inputs of step ``day`` (rows of ``params.funding.days``)."""
    days = params.funding.days
    t = jnp.clip(day.astype(jnp.int32), 0, days.iorb_pct.shape[0] - 1)
    return jax.tree_util.tree_map(lambda x: jnp.asarray(x)[t], days)


def run_repo_tn(st: State) -> jax.Array:
    """The run's own net repo demand (USD tn): dealers' inventory financed from money funds minus
    the funds' repo repaid since the start, less the cash that fled to government money funds in
    the run (they lend it in repo: ``sellers.mmf_flows``; Crane data, March 2020)."""
    repaid = st.funding.fund_repo0 - st.funds.repo_debt.sum() / 1000.0
    return st.money_funds.claims / 1000.0 - repaid - st.funding.mmf_inflow


def morning(params: Params, st: State, ops_on: jax.Array, stress: jax.Array) -> State:
    """Repay yesterday's Fed loans, add the day's flight to government money funds (``stress``:
    the dollar-funding index, :func:`basislab.sim.other_sellers.stress`), clear the overnight
    market, lend from the SRF / repo operations."""
    on = stress >= params.other_sellers.trigger[0]  # the sellers' minimum trigger: calm noise moves nothing
    inflow = st.funding.mmf_inflow + on * params.other_sellers.mmf_inflow * stress / 1000.0
    st = st._replace(funding=st.funding._replace(mmf_inflow=inflow))
    fi, fm = params.funding, st.funding
    day = day_inputs(params, st.markets.day)
    fp = params.fed
    ops_rate = jnp.where(ops_on > 0, day.iorb_pct + fp.repo_ops_spread_bp / 100.0, NO_SRF_PCT)
    rate = jnp.minimum(day.srf_rate_pct, ops_rate)
    srf_on = day.srf_rate_pct < NO_SRF_PCT
    srf_cap = jnp.where(srf_on, fi.curve.srf_capacity_tn, 0.0)
    # the SRF's cost rises with its use; the repo operations lend at a fixed rate (full allotment),
    # so while they act, and before the SRF existed, the ceiling is flat (2019-20 unchanged)
    slope = jnp.where(srf_on & (ops_on <= 0), fi.curve.srf_slope_bp_per_bn, 0.0)
    curve = fi.curve._replace(
        srf_capacity_tn=srf_cap + ops_on * fp.repo_ops_capacity, srf_slope_bp_per_bn=slope
    )
    day = day._replace(srf_rate_pct=rate)
    inventory = curve.settle_persistence * fm.settle_inventory + day.coupon_settlement
    opening = funding.FundingState(
        fm.reserves - fm.srf_loans,
        fm.onrrp,
        fm.tga,
        inventory + fi.repo_weight * run_repo_tn(st),
        fm.srf_loans,
    )
    bal = funding.balance(curve, opening, day)
    out = funding.clear(curve, funding.free_liquidity(curve, opening, day), bal, day)
    fm = fm._replace(
        reserves=opening.reserves + out.srf_takeup,
        settle_inventory=inventory,
        srf_loans=out.srf_takeup,
        sofr_pct=out.sofr_pct,
        spread_bp=out.spread_bp,
    )
    return st._replace(funding=fm)


def srf_onlent_bn(params: Params, st: State) -> jax.Array:
    """SRF loans outstanding that dealers have lent on (USD bn): all of the facility's take-up
    (they borrow it to lend in repo), zero before the SRF existed (the 2019-20 repo operations
    stay off the dealers' exposure, as before)."""
    day = day_inputs(params, st.markets.day)
    return jnp.where(day.srf_rate_pct < NO_SRF_PCT, 1000.0 * st.funding.srf_loans, 0.0)


def fed_created_tn(st: State) -> jax.Array:
    """Reserves the Fed has created in the run (USD tn): outright purchases and LOLR loans."""
    return (-st.fed.cash + st.backstop.claims) / 1000.0


def afternoon(params: Params, st: State) -> State:
    """Treasury receipts into the TGA, ON RRP moves, and the day's new Fed-created reserves."""
    fm = st.funding
    day = day_inputs(params, st.markets.day)
    receipts = day.treasury_net_receipts
    rrp = jnp.maximum(day.onrrp_change, -fm.onrrp)
    created = fed_created_tn(st)
    fm = fm._replace(
        reserves=fm.reserves - receipts - rrp + (created - fm.fed_created),
        onrrp=fm.onrrp + rrp,
        tga=fm.tga + receipts,
        fed_created=created,
    )
    return st._replace(funding=fm)


def init(params: Params, fund_repo_bn: jax.Array) -> FundingMarket:
    """Opening balances; SOFR and its spread are set by the first morning's clearing."""
    fi = params.funding
    z = jnp.zeros(())
    day = day_inputs(params, z)
    return FundingMarket(
        fi.reserves0 + z, fi.onrrp0 + z, fi.tga0 + z, z, z, day.iorb_pct, z, z, fund_repo_bn / 1000.0, z
    )


def funding_worth_tn(st: State) -> jax.Array:
    """``R + RRP + TGA - Fed loans - Fed-created reserves``: constant (the audit's identity)."""
    fm = st.funding
    return fm.reserves + fm.onrrp + fm.tga - fm.srf_loans - fm.fed_created
