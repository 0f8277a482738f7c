"""The system model: one day of the basis-trade system, composed of the players' kernels.

Three kinds of input are kept apart (the gymnax / JAX MD design):

* :class:`Static` -- hashable Python that fixes every array shape. One compilation serves every
  scenario with the same ``Static``.
* :class:`Params` -- a pytree of float64 arrays, one group per player (vmappable over scenarios).
* :class:`State` -- a pytree of float64 arrays, one group per player
  (:mod:`basislab.sim.players`).

Every flow between players is booked by :func:`basislab.sim.booking.book` (from / to / amount of
one instrument), so each balances by construction; :func:`ledger` gives the aggregates that
:mod:`basislab.sim.audit` checks independently. The kernels, each named by its market: prices and
clearing (:mod:`~basislab.sim.markets`), repo re-marking (:mod:`~basislab.sim.repo`), initial and
variation margin (:mod:`~basislab.sim.ccp`), the liquidity plan (:mod:`~basislab.sim.liquidity`),
the default waterfall (:mod:`~basislab.sim.default`), the backstop (:mod:`~basislab.sim.backstop`),
composed into a settlement window by :mod:`~basislab.sim.window`.

Units: money in USD bn; bond and futures quantities in USD bn of face; prices per 100 of face;
one step is one business day with two settlement windows (morning repo/IM window, end-of-day VM).
Sources of each mechanism are in ``docs/model.md``.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from basislab.sim import booking as bk
from basislab.sim import ccp, dealing, markets, other_sellers, redemptions, repo, repo_market, sampling
from basislab.sim.backstop import repay_backstop
from basislab.sim.liquidity import Obligations
from basislab.sim.markets import Prices, _mv
from basislab.sim.players import (
    BUCKETS,
    SEGMENTS,
    AssetManagers,
    Backstop,
    ClearingHouse,
    Dealers,
    EndInvestors,
    Fed,
    Funds,
    Issuer,
    Markets,
    MoneyFunds,
    OtherSellers,
    Params,
    RepoLenders,
    State,
    Static,
)
from basislab.sim.window import AnyInBatch, WindowFlows, _branch, settlement_window

jax.config.update("jax_enable_x64", True)

__all__ = [
    "BUCKETS",
    "SEGMENTS",
    "Obligations",
    "Params",
    "Prices",
    "Shocks",
    "State",
    "Static",
    "WindowFlows",
    "draw_shocks",
    "init_state",
    "ledger",
    "record",
    "repay_backstop",
    "step",
]

#: Business days per year used for coupon and repo accrual per step.
DAYS_PER_YEAR = 252.0
#: the trigger clock of a Fed lever not yet triggered (hours; finite so the state stays finite)
NOT_YET = 1e12
#: the Fed's levers with a trigger and a delay, in the order of ``FedParams`` arrays
FED_LEVERS = ("purchases", "lender_of_last_resort", "repo_operations")
_TINY = 1e-12


def any_in_path(mask: jax.Array) -> jax.Array:
    """The default ``any_in_batch`` for one unbatched path."""
    return jnp.any(mask)


class Shocks(NamedTuple):
    """Exogenous innovations of one day (drawn from the key before the scan)."""

    dy_am: jax.Array  # [K] yield change before the morning window
    dy_pm: jax.Array  # [K] yield change during the day
    dx: jax.Array  # [K] cash dislocation
    do_am: jax.Array  # [A] other assets' log return before the morning window
    do_pm: jax.Array  # []


def prices(params: Params, st: State, s: jax.Array) -> Prices:
    """Prices of the state's markets at window time ``s`` (:func:`basislab.sim.markets.prices`)."""
    return markets.prices(params, st.markets, s)


def fund_equity(st: State, pr: Prices) -> jax.Array:
    """[N] equity derived from each fund's balance sheet (assets - liabilities):
    ``E = Q P/100 - F (f - f_last)/100 + pending + C + L + O p_o + M - sum_s D - B - CL`` (``CL``:
    drawn credit lines)."""
    fu = st.funds
    return (
        _mv(fu.bonds, pr.p) / 100.0
        - _mv(fu.futures_short, pr.f - st.markets.futures_settle) / 100.0
        + fu.pending_vm
        + fu.cash
        + fu.bills
        + _mv(fu.other_assets, pr.po)
        + fu.initial_margin
        - fu.repo_debt.sum(0)
        - fu.backstop_loan
        - fu.credit_drawn
    )


# ----------------------------------------------------------------------------------------------
# initial conditions and shocks


def active_funds(params: Params, n_funds: int) -> jax.Array:
    """[N] True for the scenario's funds, False for the padding of the fund axis beyond
    ``params.funds.n_active`` (:func:`basislab.sim.engine.pad`)."""
    return jnp.arange(n_funds) < params.funds.n_active


def fund_draws(key: jax.Array, params: Params) -> tuple[jax.Array, ...]:
    """One fund's draws from its own key: the size uniform, the leverage normal, the bucket mix
    ``[K]`` (Dirichlet) and the bilateral share (Beta)."""
    fp = params.funds
    k_size, k_lev, k_mix, k_bil = jax.random.split(key, 4)
    u = jax.random.uniform(k_size, (), minval=1e-6, maxval=1.0)
    z = jax.random.normal(k_lev, ())
    mix = sampling.dirichlet(k_mix, fp.mix_conc * fp.mix, 1)[:, 0]
    b = fp.bilat_share
    wb = sampling.beta(k_bil, fp.bilat_conc * b, fp.bilat_conc * (1.0 - b), 1)[0]
    return u, z, mix, wb


def cohort_cash_ratio(ratios: jax.Array, size: jax.Array, n_active: jax.Array) -> jax.Array:
    """[N] each fund's unencumbered cash ratio: ``ratios[3]`` of OFR's size cohorts (top 10, 11-50,
    51+ qualifying hedge funds; ``scenario.CASH_COHORTS``) applied to the funds ranked by size, the
    largest 10% of the active funds, the next 40% and the rest (a scalar applies to all)."""
    r = jnp.broadcast_to(jnp.asarray(ratios), (3,))
    rank = jnp.argsort(jnp.argsort(-size))  # 0 = the largest; padded (empty) funds rank last
    q = (rank + 0.5) / jnp.maximum(n_active, 1.0)
    cohort = (q >= 0.1).astype(jnp.int32) + (q >= 0.5).astype(jnp.int32)
    return r[cohort]


def init_state(key: jax.Array, params: Params, static: Static) -> State:
    """Draw a heterogeneous fund population and build consistent balance sheets for everyone.

    Fund ``i`` draws from ``fold_in(key, i)`` (:func:`fund_draws`), so a fund's draws do not depend
    on the length of the fund axis; funds beyond ``params.funds.n_active`` (padding) have empty
    balance sheets and are not alive, and the Pareto sizes are normalised over the active funds."""
    n, k, s = static.n_funds, static.n_buckets, static.n_segments
    m, fp, c = params.market, params.funds, params.ccp
    keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(jnp.arange(n))
    u, zl, mix_t, wb = jax.vmap(lambda kk: fund_draws(kk, params))(keys)
    active = active_funds(params, n)
    size = jnp.where(active, u ** (-1.0 / fp.pareto_alpha), 0.0)
    size = fp.total_position * size / size.sum()
    lev = jnp.maximum(fp.lev_median * jnp.exp(fp.lev_sigma * zl), 1.5)
    mix = mix_t.T  # [K,N]
    wb = jnp.clip(wb, 0.0, 1.0)
    wshare = jnp.stack([wb, 1.0 - wb], 0)  # [S,N]

    val = mix * size  # [K,N] market value of the cash leg
    q = 100.0 * val / m.p0[:, None]
    fut = q * m.cf[:, None]  # DV01 hedge of the CTD: short CF futures per bond
    f0 = m.p0 * jnp.exp(-m.rho) / m.cf
    var0 = (m.dmod * m.sigma_y) ** 2
    m0 = jnp.maximum(c.im_floor, c.im_z * jnp.sqrt(var0 * c.im_mpor))
    im = _mv(fut, m0 * f0) / 100.0
    v = val.sum(0)
    h0 = params.repo.haircut_levels[:, 0]
    debt = (1.0 - h0)[:, None] * wshare * v
    hc_equity = v - debt.sum(0)
    eq_trade = jnp.maximum(v / lev, im + hc_equity + fp.min_buffer * v)
    free = eq_trade - im - hc_equity
    other_value = fp.other_ratio * eq_trade
    other = fp.other_mix[:, None] * other_value  # [A,N] units at the starting prices of 1
    bills = (1.0 - fp.cash_share) * free
    # unencumbered cash is cash_ratio of gross assets (OFR's ratio, Form PF Q33 / Q8), by size
    # cohort: C = ratio (V + M + L + O + C)  ->  C = ratio / (1 - ratio) (V + M + L + O)
    ratio = cohort_cash_ratio(fp.cash_ratio, size, fp.n_active)
    cash = ratio / (1.0 - ratio) * (v + im + bills + other_value) + fp.cash_share * free
    z, zn = jnp.zeros(()), jnp.zeros(n)
    g = fut.sum(1)
    im_a = g @ (m0 * f0) / 100.0
    funds = Funds(
        q, fut, debt, im, cash, bills, other, zn, zn, active.astype(jnp.float64), wshare,
        v / jnp.maximum(eq_trade + other_value + cash - fp.cash_share * free, _TINY) * fp.lev_limit_mult,
        cash, zn, zn, jnp.zeros((s, n)), q.sum(0), zn,
        fp.credit_line_ratio * (v + im + bills + other_value + cash),
        zn, zn, zn, zn, zn,
    )  # fmt: skip
    # the look-back window starts as calm settlement returns (+-sd alternating: VaR = calm IM)
    sd = jnp.sqrt(var0)
    alt = jnp.where(jnp.arange(static.im_window) % 2 == 0, 1.0, -1.0)
    zk, za = jnp.zeros(k), jnp.zeros(params.market.sigma_other.shape[0])
    st = State(
        funds=funds,
        lenders=RepoLenders(
            params.repo.cash * jnp.ones(s),
            debt.sum(1),
            jnp.zeros(s),
            jnp.zeros(s),
            h0,
            params.repo.refusal_levels[:, 0],
        ),  # fmt: skip
        ccp=ClearingHouse(
            im.sum() + im_a + c.default_fund, z, m0 * f0 / 100.0, zk, zk, zk, sd[:, None] * alt[None, :]
        ),
        asset_managers=AssetManagers(g, params.asset_managers.cash + z, im_a, z),
        investors=EndInvestors(
            m.outstanding - q.sum(1) - params.other_sellers.holdings,
            params.investors.cash + z,
            params.investors.bills + z,
            params.investors.other_assets + za,
        ),  # fmt: skip
        backstop=Backstop(params.backstop.cash + z, z, z, z),
        issuer=Issuer(params.issuer.cash + z),
        markets=Markets(zk, zk, zk, zk, za, za, var0, f0, f0, m.p0, z),
        fed=Fed(zk, z, jnp.full(len(FED_LEVERS), NOT_YET), zk),
        dealers=Dealers(zk, z, z, jnp.zeros_like(params.dealers.tier1), debt[0].sum(), z, z),
        money_funds=MoneyFunds(params.money_funds.cash + z, z),
        funding=repo_market.init(params, debt.sum()),
        other_sellers=OtherSellers(
            params.other_sellers.holdings + zk,
            z,
            jnp.zeros_like(params.other_sellers.rate),
            jnp.zeros_like(params.other_sellers.rate),
            z,
            zk,
            za.at[1].set(params.other_sellers.prime_holdings),
            za,
        ),  # fmt: skip
    )
    pr = prices(params, st, z)
    return st._replace(funds=funds._replace(equity0=fund_equity(st, pr)))


def day_noise(key: jax.Array, k: int, n_other: int = 2) -> tuple[jax.Array, jax.Array, jax.Array]:
    """One day's standard normals from its own key: the common yield factor ``[2, 1]``, the
    idiosyncratic ones ``[2, K]`` and the other assets' ``[2, A]`` (morning, intraday; the
    other assets' noises are independent, an assumption)."""
    k1, k2, k3 = jax.random.split(key, 3)
    return (
        jax.random.normal(k1, (2, 1)),
        jax.random.normal(k2, (2, k)),
        jax.random.normal(k3, (2, n_other)),
    )


def draw_shocks(key: jax.Array, params: Params, static: Static) -> Shocks:
    """Scenario paths plus seeded noise: one common and one idiosyncratic yield factor. Day ``t``
    draws from ``fold_in(key, t)`` (:func:`day_noise`), so a day's noise does not depend on the
    length of the day axis (the engine pads it: :func:`basislab.sim.engine.pad`)."""
    t, k = static.n_steps, static.n_buckets
    m = params.market
    keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(jnp.arange(t))
    zc, zi, zo = jax.vmap(lambda kk: day_noise(kk, k, m.sigma_other.shape[0]))(keys)
    rc = m.yield_corr
    z = jnp.sqrt(rc) * zc + jnp.sqrt(1.0 - rc) * zi  # [T, 2, K]
    sig = m.sigma_y * m.volmult[:, None]
    a = m.overnight_share
    dy_am = a * m.dy + jnp.sqrt(a) * sig * z[:, 0]
    dy_pm = (1 - a) * m.dy + jnp.sqrt(1 - a) * sig * z[:, 1]
    so = m.sigma_other[None, :] * m.volmult[:, None]  # [T,A]
    do_am = a * m.dother + jnp.sqrt(a) * so * zo[:, 0]
    do_pm = (1 - a) * m.dother + jnp.sqrt(1 - a) * so * zo[:, 1]
    return Shocks(dy_am, dy_pm, m.dx, do_am, do_pm)


# ----------------------------------------------------------------------------------------------
# the two windows' obligations


def morning_obligations(params: Params, st: State, pr: Prices) -> tuple[Obligations, State, dict]:
    """Repo lenders review their schedules and call margin on the previous close (due at the end
    of day); the clearing house runs an extra intraday VM cycle when a bucket moved far enough."""
    st = st._replace(lenders=repo.review_terms(params, st.lenders, st.markets))
    rc = repo.repo_margin_call(params, st.funds, st.lenders, st.markets)
    st = st._replace(funds=st.funds._replace(repo_pending=rc.pending))
    intraday = ccp.intraday_trigger(params, st.markets, pr)
    st, ccp_vm, vm_open_net = ccp.variation_margin(st, pr, intraday)
    fu = st.funds
    zn, zs = jnp.zeros_like(fu.cash), jnp.zeros_like(fu.repo_debt)
    ob = Obligations(zs, fu.repo_debt, zn, fu.initial_margin, ccp_vm, zs, zn, zn, zn)
    info = {"repo_due": rc.due, "haircut": rc.haircut, "refusal": rc.refusal}
    return ob, st, info | {"intraday_vm": intraday, "vm_open_net": vm_open_net}


def pay_coupons(params: Params, st: State) -> State:
    """The issuer pays one day's coupon (accrued daily) to every holder of cash Treasuries."""
    dt = 1.0 / DAYS_PER_YEAR
    cpn_f = _mv(st.funds.bonds, params.market.coupon) * dt
    cpn_o = st.investors.bonds @ params.market.coupon * dt
    return bk.book(
        st,
        [
            bk.flow(bk.ISSUER_CASH, bk.FUND_CASH, cpn_f),
            bk.flow(bk.ISSUER_INCOME, bk.FUND_PNL, cpn_f),
            bk.flow(bk.ISSUER_CASH, bk.INVESTOR_CASH, cpn_o),
        ],
    )


def eod_obligations(
    params: Params, st: State, pr: Prices, repo_due: jax.Array, any_in_batch: AnyInBatch = any_in_path
) -> tuple[Obligations, State, dict]:
    """End-of-day settlement: coupons, the repo margin due, futures VM through the clearing house,
    the IM in force (a change CME announced takes effect), repo, backstop and credit-line interest
    (repo at the day's SOFR plus the segment's and the dealers' spreads:
    :func:`basislab.sim.repo.repo_rates`; lines at SOFR plus their spread), and the redemptions due
    on the funds' dealing dates (:func:`basislab.sim.redemptions.due`)."""
    st = pay_coupons(params, st)
    st = ccp.review_margin(params, st, pr.f)
    st, im_call = ccp.initial_margin_call(params, st)
    st, ccp_vm, vm_open_net = ccp.variation_margin(st, pr)
    fu, dt = st.funds, 1.0 / DAYS_PER_YEAR
    rates = repo.repo_rates(params, st.markets, st.funding.sofr_pct / 100.0, dealing.repo_spread(params, st))
    ob = Obligations(
        repo_due,
        fu.repo_debt - repo_due,
        im_call,
        fu.initial_margin + im_call,
        ccp_vm,
        fu.repo_debt * rates[:, None] * dt,
        fu.backstop_loan * params.backstop.rate * dt,
        fu.credit_drawn * (st.funding.sofr_pct / 100.0 + params.funds.credit_spread) * dt,
        jnp.zeros_like(fu.cash),
    )
    # redemptions due today (a branch: most days no fund is at a dealing date)
    ob = _branch(any_in_batch(redemptions.due_today(st)), lambda: redemptions.due(st, ob), lambda: ob)
    im_rate = st.ccp.im_per_face * 100.0 / st.markets.futures_settle
    return ob, st, {"repo_rate": rates, "vm_open_net": vm_open_net, "im_rate": im_rate}


def fund_window(
    params: Params, st: State, pre: Prices, ob: Obligations, s, static: Static, any_in_batch=any_in_path
):
    """One settlement window (:func:`basislab.sim.window.settlement_window`)."""
    return settlement_window(params, st, pre, ob, s, static, any_in_batch)


# ----------------------------------------------------------------------------------------------
# ledger (for the audit), observables, and one day


def ccp_worth(st: State, pr: Prices) -> jax.Array:
    """Clearing-house equity: cash less IM owed back, pending VM owed and any open imbalance."""
    fu, am, mk = st.funds, st.asset_managers, st.markets
    imbalance = (am.futures_long - fu.futures_short.sum(1)) @ (pr.f - mk.futures_settle) / 100.0
    return (
        st.ccp.cash - fu.initial_margin.sum() - am.initial_margin - fu.pending_vm.sum() - am.pending_vm
    ) - imbalance


def ledger(params: Params, st: State, pr: Prices) -> dict[str, jax.Array]:
    """Aggregates whose conservation the audit checks (compared with their initial values)."""
    fu, le, bs, inv = st.funds, st.lenders, st.backstop, st.investors
    eq = fund_equity(st, pr)
    cash = (
        fu.cash.sum()
        + le.cash.sum()
        + st.ccp.cash
        + st.asset_managers.cash
        + inv.cash
        + bs.cash
        + st.issuer.cash
        + st.fed.cash
        + st.dealers.cash
        + st.money_funds.cash
        + st.other_sellers.cash
    )
    return {
        "cash_total": cash,
        "bonds_total": fu.bonds.sum(1) + inv.bonds + st.fed.bonds + st.dealers.bonds + st.other_sellers.bonds,
        "bills_total": fu.bills.sum() + inv.bills,
        "other_total": fu.other_assets.sum(-1) + inv.other_assets + st.other_sellers.other_assets,
        "futures_imbalance": fu.futures_short.sum(1) - st.asset_managers.futures_long,
        "repo_ledger_gap": le.claims - fu.repo_debt.sum(1),
        "backstop_ledger_gap": bs.claims - fu.backstop_loan.sum(),
        "credit_ledger_gap": st.dealers.credit_claims - fu.credit_drawn.sum(),
        "lender_worth": le.cash + le.claims - le.interest + le.losses,
        "ccp_worth": ccp_worth(st, pr) + st.ccp.losses,
        "backstop_worth": bs.cash + bs.claims - bs.interest + bs.losses,
        "fund_sfc_gap": jnp.max(jnp.abs(eq - fu.equity0 - fu.pnl + fu.redeemed)),
        "dealer_repo_gap": st.money_funds.claims - st.dealers.repo_funding,
        "money_fund_worth": st.money_funds.cash + st.money_funds.claims,
        "reserves_accounted": 1000.0 * repo_market.funding_worth_tn(st),
        "scale": fu.bonds.sum(1) @ pr.p / 100.0 + params.funds.total_position,
    }


#: quantiles across funds (NumPy: a jnp constant would compile at import, before the CLI sets the
#: compile cache)
_Q = np.array([0.1, 0.5, 0.9])


def implied_repo_minus_sofr_bp(params: Params, st: State, static: Static, iorb_pct: jax.Array) -> jax.Array:
    """[K] the futures implied repo rate of each bucket's CTD minus the day's SOFR (bp).

    With the model's prices (:mod:`basislab.sim.markets`) the log gross basis at window time
    ``s`` is ``w (rho - ic - xd - if)``, ``w = 1 - s/T``, over ``T/252`` years to delivery, so the
    implied repo (Burghardt & Belton, *The Treasury Bond Basis*, ch. 2: current yield less the
    gross basis per year, the carry that makes the basis vanish at delivery) is
    ``cy - rho / (T/252) + (ic + xd + if) / (T/252)``: cash cheapening against futures raises it.
    A change of the administered rates (IORB) reprices the carry one for one (the futures' forward
    financing rate follows the policy rate), so a rate cut alone leaves the spread unchanged;
    what moves it is dislocation and SOFR's spread to IORB (``iorb_pct``: the day's IORB)."""
    m, mk = params.market, st.markets
    years = m.horizon_days / DAYS_PER_YEAR
    cy = m.coupon * 100.0 / m.p0
    policy = iorb_pct - params.funding.days.iorb_pct[0]
    irr = cy - m.rho / years + (mk.impact_cash + mk.dislocation + mk.impact_futures) / years + policy / 100.0
    return 1e4 * (irr - st.funding.sofr_pct / 100.0)


def quantile_active(x: jax.Array, active: jax.Array, n_active: jax.Array) -> jax.Array:
    """:data:`_Q` quantiles of ``x[N]`` over its active entries only (the first ``n_active``):
    ``jnp.quantile``'s linear interpolation between order statistics, ``h = q (n - 1)``
    (Hyndman and Fan 1996, type 7), with the padding sorted past the end and never read."""
    xs = jnp.sort(jnp.where(active, x, jnp.inf))
    last = jnp.asarray(n_active, jnp.int32) - 1
    h = jnp.asarray(_Q) * last
    lo = jnp.floor(h)
    w_hi = h - lo
    lo_i = jnp.clip(lo.astype(jnp.int32), 0, last)
    hi_i = jnp.clip(jnp.ceil(h).astype(jnp.int32), 0, last)
    return xs[lo_i] * (1.0 - w_hi) + xs[hi_i] * w_hi


def record(params: Params, st: State, pr: Prices, static: Static) -> dict[str, jax.Array]:
    """End-of-day observables of one path."""
    fu, mk, m = st.funds, st.markets, params.market
    eq = fund_equity(st, pr)
    v = _mv(fu.bonds, pr.p) / 100.0
    day = repo_market.day_inputs(params, mk.day - 1.0)
    out = {
        "cash_price": pr.p,
        "futures_price": pr.f,
        "gross_basis": pr.p - m.cf * pr.f,
        "yield_change_bp": 1e4 * (mk.yield_change + (mk.impact_cash + mk.dislocation) / m.dmod),
        "other_price": pr.po,
        "funds_alive": fu.alive.sum(),
        "fund_equity": eq.sum(),
        "fund_cash": fu.cash.sum(),
        "fund_bills": fu.bills.sum(),
        "fund_gross_position": v.sum(),
        "fund_repo_debt": fu.repo_debt.sum(1),
        "fund_im": fu.initial_margin.sum(),
        "am_im": st.asset_managers.initial_margin,
        "backstop_outstanding": fu.backstop_loan.sum(),
        "lender_losses": st.lenders.losses,
        "ccp_losses": st.ccp.losses,
        "backstop_losses": st.backstop.losses,
        "realised_pnl": (eq + fu.redeemed - fu.equity0).sum(),
        "credit_lines_outstanding": fu.credit_drawn.sum(),
        "redemptions_requested": fu.redeem_requested.sum(),
        "redemptions_pending": fu.redeem_pending.sum(),
        "fund_redeemed": fu.redeemed.sum(),
        "bonds_held_funds": fu.bonds.sum(1),
        "bonds_held_investors": st.investors.bonds,
        "bonds_held_fed": st.fed.bonds,
        "fed_reserves_created": -st.fed.cash,
        "fed_balance_sheet": -st.fed.cash + st.backstop.claims + 1000.0 * st.funding.srf_loans,
        # the funding market (docs/mechanisms.md section 1) and the dealers (section 2)
        "sofr_pct": st.funding.sofr_pct,
        "iorb_pct": day.iorb_pct,
        "sofr_minus_iorb_bp": st.funding.spread_bp,
        "srf_takeup_usd_bn": 1000.0 * st.funding.srf_loans,
        "fed_repo_outstanding": 1000.0 * (st.funding.srf_loans + day.fed_repo),
        "reserves_usd_bn": 1000.0 * st.funding.reserves,
        "implied_repo_minus_sofr_bp": implied_repo_minus_sofr_bp(params, st, static, day.iorb_pct),
        "dealer_slr_utilisation": jnp.max(dealing.utilisation(params, st)),
        "dealer_inventory": st.dealers.bonds @ pr.p / 100.0,
        "bonds_held_dealers": st.dealers.bonds,
        "money_fund_cash": st.money_funds.cash,
        "bonds_held_other_sellers": st.other_sellers.bonds,
        "other_sellers_cash": st.other_sellers.cash,
        # the other players' balance sheets (USD bn; bonds and futures face)
        "lender_cash": st.lenders.cash,
        "lender_repo_lent": st.lenders.claims,
        "ccp_cash": st.ccp.cash,
        "am_cash": st.asset_managers.cash,
        "am_futures_long": st.asset_managers.futures_long,
        "investor_cash": st.investors.cash,
        "investor_bills": st.investors.bills,
        "backstop_cash": st.backstop.cash,
        "issuer_cash": st.issuer.cash,
    }
    if static.record_distribution:
        lev = jnp.where(fu.alive > 0, v / jnp.maximum(eq, _TINY), 0.0)
        act = active_funds(params, fu.alive.shape[-1])
        out["equity_ratio_q"] = quantile_active(eq / fu.equity0, act, params.funds.n_active)
        out["cash_ratio_q"] = quantile_active(fu.cash / fu.equity0, act, params.funds.n_active)
        out["leverage_q"] = quantile_active(lev, act, params.funds.n_active)
    return out


def fed_stress_bp(params: Params, mk: Markets) -> jax.Array:
    """The stress measure the Fed's levers watch (bp): the largest cheapening of cash Treasuries
    beyond the fundamental yield, ``max_k 1e4 (ic_k + xd_k) / Dmod_k`` (dysfunction of the cash
    market, the Fed's stated reason for its March 2020 purchases)."""
    return jnp.max(1e4 * (mk.impact_cash + mk.dislocation) / params.market.dmod)


def fed_levers(params: Params, st: State, window: int) -> tuple[State, Params, jax.Array]:
    """The Fed observes the stress at this window (0 morning, 1 end of day), starts the clock of
    each enabled lever (:data:`FED_LEVERS`) at or above its threshold, and acts once ``trigger +
    delay`` hours have passed (:func:`basislab.sim.fed.observe` / :func:`~basislab.sim.fed.active`).
    Purchases and the lender of last resort watch the cash market's dislocation
    (:func:`fed_stress_bp`), repo operations the last SOFR - IORB. The window's purchase capacity
    is set in the state, and the lender of last resort lends in this window only when active (the
    returned parameters carry ``backstop.on`` for the window)."""
    fp, fed = params.fed, st.fed
    now = 24.0 * st.markets.day + (fp.morning_hour if window == 0 else fp.eod_hour)
    dislocation = fed_stress_bp(params, st.markets)
    stress = jnp.stack([dislocation, dislocation, st.funding.spread_bp])
    hit = (fp.enabled > 0) & (stress >= fp.threshold_bp)
    trig = jnp.minimum(fed.triggered_at, jnp.where(hit, now, NOT_YET))
    act = ((fp.enabled > 0) & (now >= trig + fp.delay_hours)).astype(jnp.float64)
    share = fp.morning_share if window == 0 else 1.0 - fp.morning_share
    sched = scheduled_today(params, st, window)
    st = st._replace(
        fed=fed._replace(triggered_at=trig, window_capacity=act[0] * share * fp.purchase_capacity + sched)
    )
    p = params._replace(backstop=params.backstop._replace(on=params.backstop.on * act[1]))
    return st, p, act


def scheduled_today(params: Params, st: State, window: int) -> jax.Array:
    """[K] the window's share of the Fed's purchases as they happened (an input, USD bn at market)."""
    sched = jnp.asarray(params.fed.scheduled_purchases)
    t = jnp.clip(st.markets.day.astype(jnp.int32), 0, sched.shape[0] - 1)
    share = params.fed.morning_share if window == 0 else 1.0 - params.fed.morning_share
    return share * sched[t]


def buy_the_rest(st: State, rest: jax.Array, p: jax.Array) -> tuple[State, jax.Array]:
    """What the Fed's as-happened purchases did not find among the window's sellers it buys from
    dealers' inventory first, then from end investors, at the market and without moving it (its
    reverse auctions took offers at the market: it relieved holders, it did not bid prices up).
    Returns the state and the value bought ``[K]``."""
    face = jnp.maximum(rest, 0.0) * 100.0 / p
    from_dealers = jnp.minimum(face, st.dealers.bonds)
    sold_share = (from_dealers @ p) / jnp.maximum(st.dealers.bonds @ p, 1e-300)
    from_investors = jnp.minimum(face - from_dealers, st.investors.bonds)
    st = bk.book(
        st,
        [
            bk.flow(bk.DEALER_BONDS, bk.FED_BONDS, from_dealers),
            bk.flow(bk.FED_CASH, bk.DEALER_CASH, from_dealers * p / 100.0),
            bk.flow(bk.INVESTOR_BONDS, bk.FED_BONDS, from_investors),
            bk.flow(bk.FED_CASH, bk.INVESTOR_CASH, from_investors * p / 100.0),
        ],
    )
    st = st._replace(dealers=st.dealers._replace(absorbed=st.dealers.absorbed * (1.0 - sold_share)))
    return dealing.finance(st), (from_dealers + from_investors) * p / 100.0


def step(
    params: Params, st: State, sh: Shocks, static: Static, any_in_batch: AnyInBatch = any_in_path
) -> tuple[State, dict]:
    """One business day: overnight news -> morning repo/IM window -> intraday news -> end-of-day
    VM window -> backstop repayment -> EWMA update. Pure; ``any_in_batch`` (from the engine) tells
    the windows whether a mask holds on any path batched with this one."""
    t = st.markets.day
    s_am, s_pm = t + 0.5, t + 1.0
    st, pr = markets.market_move(params, st, sh.dy_am, sh.dx, sh.do_am, 0.5, t, s_am)
    st, p_am, act_am = fed_levers(params, st, 0)
    st = repo_market.morning(params, st, act_am[2], other_sellers.stress(params, st))
    st = other_sellers.plan(params, st, 0, pr.p)
    ob, st, info_am = morning_obligations(params, st, pr)
    st, pr, fl_am = settlement_window(p_am, st, pr, ob, s_am, static, any_in_batch)
    st, rest_am = buy_the_rest(st, scheduled_today(params, st, 0) - fl_am.fed_bought, pr.p)
    st, pr = markets.market_move(params, st, sh.dy_pm, jnp.zeros_like(sh.dx), sh.do_pm, 0.5, s_am, s_pm)
    st, p_pm, act_pm = fed_levers(params, st, 1)
    f_settle = pr.f
    st = other_sellers.plan(params, st, 1, pr.p)
    ob, st, info_pm = eod_obligations(params, st, pr, info_am["repo_due"], any_in_batch)
    st, pr, fl_pm = settlement_window(p_pm, st, pr, ob, s_pm, static, any_in_batch)
    st, rest_pm = buy_the_rest(st, scheduled_today(params, st, 1) - fl_pm.fed_bought, pr.p)
    st = redemptions.settle(st, ob)
    st, repaid = repay_backstop(st)
    st, credit_repaid = _branch(
        any_in_batch(st.funds.credit_drawn > 0.0),
        lambda: redemptions.repay_credit_lines(st),
        lambda: (st, jnp.zeros(())),
    )
    st = redemptions.request(params, st)
    st = dealing.lay_off(params, st, pr.p)
    st = repo_market.afternoon(params, st)
    mk = ccp.update_volatility(params, st.markets, f_settle)
    st = st._replace(markets=mk._replace(day=t + 1.0, cash_close=pr.p))
    # the day's observables, plus the ledger aggregates the audit checks (a nested dict)
    out: dict[str, jax.Array | dict[str, jax.Array]] = dict(record(params, st, pr, static))
    out.update(
        haircut=info_am["haircut"],
        repo_refusal=info_am["refusal"],
        im_rate=info_pm["im_rate"],
        repo_rate=info_pm["repo_rate"],
        vm_net=jnp.abs(info_am["vm_open_net"]) + jnp.abs(info_pm["vm_open_net"]),
        intraday_vm=info_am["intraday_vm"],
        fed_purchases_on=jnp.maximum(act_am[0], act_pm[0]),
        fed_lolr_on=jnp.maximum(act_am[1], act_pm[1]) * params.backstop.on,
        fed_repo_ops_on=act_am[2],
        fed_treasury_purchases=rest_am + rest_pm + fl_am.fed_bought + fl_pm.fed_bought,
        sold_to_dealers=fl_am.sold_to_dealers + fl_pm.sold_to_dealers,
        dealers_bought=fl_am.dealers_bought + fl_pm.dealers_bought,
        sold_other_sellers=fl_am.sold_other_sellers + fl_pm.sold_other_sellers,
        other_sellers_other_sold=fl_am.other_sellers_other + fl_pm.other_sellers_other,
        dollar_stress_index=other_sellers.stress(params, st),
        fed_stress_bp=fed_stress_bp(params, st.markets),
        repo_margin_paid=info_am["repo_due"].sum(-1),
        stress=markets.stress_index(params, st.markets),
        sold_unwind=fl_am.sold_unwind + fl_pm.sold_unwind,
        sold_derisk=fl_am.sold_derisk + fl_pm.sold_derisk,
        sold_to_fed=fl_am.sold_to_fed + fl_pm.sold_to_fed,
        sold_default=fl_am.sold_default + fl_pm.sold_default,
        futures_bought=fl_am.fut_bought + fl_pm.fut_bought,
        bills_sold=fl_am.bills_sold + fl_pm.bills_sold,
        other_sold=fl_am.other_sold + fl_pm.other_sold,
        backstop_drawn=fl_am.bs_drawn + fl_pm.bs_drawn,
        backstop_repaid=repaid,
        credit_drawn=fl_am.credit_drawn + fl_pm.credit_drawn,
        credit_repaid=credit_repaid,
        redemptions_paid=fl_pm.redeemed,
        new_defaults=fl_am.new_defaults + fl_pm.new_defaults,
        cash_need_morning=fl_am.cash_need,
        cash_need_eod=fl_pm.cash_need,
        cash_gap_morning=fl_am.gap,
        cash_gap_eod=fl_pm.gap,
    )
    out["audit"] = ledger(params, st, pr)
    return st, out
