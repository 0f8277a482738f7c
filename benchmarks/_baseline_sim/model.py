"""The system model: static shape, parameters, state, and one pure step per mechanism.

Three kinds of input are kept apart (the gymnax / JAX MD design):

* :class:`Static` -- hashable Python that fixes every array shape (funds, steps, fixed-point
  iterations). One compilation serves every scenario with the same ``Static``.
* :class:`Params` -- a pytree of float64 arrays (vmappable over scenarios).
* :class:`State` -- a pytree of float64 arrays only.

Accounting follows the INET Oxford ``economicsl`` idea in vectorised form: each contract is stored
once (repo debt ``D[fund, segment]`` is the lender's claim; futures shorts ``F`` are the clearing
house's novated contracts with the asset managers' longs ``G``; backstop loans ``B``), balance
sheets are derived by sums, every cash movement subtracts from one player the array it adds to
another, and equity is derived, never stored. Independent ledgers (``claim_l``, ``claim_b``,
``pnl``) are kept from the flows alone so that :func:`basislab.sim.audit` can check stocks
against flows.

Units: money in USD bn; bond and futures quantities in USD bn of face; prices per 100 of face;
one step is one business day with two settlement windows (morning repo/IM window, end-of-day VM).
Sources of each mechanism are in ``docs/model.md``.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from basislab.sim import sampling

jax.config.update("jax_enable_x64", True)

#: Maturity buckets of cash Treasuries and their futures (TU, FV, TY, US/UB).
BUCKETS = ("2y", "5y", "10y", "long")
#: Repo segments: bilateral (non-centrally-cleared, zero haircut) and tri-party / sponsored.
SEGMENTS = ("bilateral", "triparty")
#: Business days per year used for coupon and repo accrual per step.
DAYS_PER_YEAR = 252.0
_TINY = 1e-12


def _mv(x: jax.Array, v: jax.Array) -> jax.Array:
    """Per-fund dot of ``x[K, N]`` with ``v[K]``: a sum over the short leading (bucket or
    segment) axis, i.e. K vectorised multiply-adds along the fund axis."""
    acc = v[0] * x[0]
    for i in range(1, x.shape[0]):
        acc = acc + v[i] * x[i]
    return acc


def _vm(w: jax.Array, x: jax.Array) -> jax.Array:
    """Sum over funds of ``w[N] * x[K, N]`` (a reduction along the minor fund axis)."""
    return (x * w).sum(-1)


def _pos(x: jax.Array) -> jax.Array:
    return jnp.maximum(x, 0.0)


def _any_in_batch(mask: jax.Array, static: Static) -> jax.Array:
    """True when ``mask`` holds anywhere on any path of the vmapped batch (``static.batch_axis``),
    so a ``lax.cond`` on it stays a real branch under ``vmap`` instead of running both sides."""
    hit = jnp.any(mask).astype(jnp.int32)
    if static.batch_axis is not None:
        hit = jax.lax.pmax(hit, static.batch_axis)
    return hit > 0


class Static(NamedTuple):
    """Hashable configuration fixing shapes; changing it recompiles."""

    n_funds: int
    n_steps: int
    n_buckets: int = 4
    n_segments: int = 2
    fp_iters: int = 3
    record_distribution: bool = True
    #: settle a window in which no fund unwinds, sells other assets or defaults (funds pay from
    #: cash, bills and the backstop; no price moves) without the clearing iterations and the
    #: default waterfall (same numbers; see :func:`fund_window`)
    skip_quiet_windows: bool = True
    #: name of the ``vmap`` axis over paths (set by the engine): a window is skipped only when it
    #: is quiet on every path of the batch, so the branch stays a real branch under ``vmap``
    batch_axis: str | None = None


class Params(NamedTuple):
    """Numeric parameters (float64 arrays). Shapes: K buckets, S segments, T steps."""

    # --- cash and futures markets -------------------------------------------------------------
    p0: jax.Array  # [K] initial clean price of the representative CTD, per 100
    dmod: jax.Array  # [K] modified duration
    cf: jax.Array  # [K] conversion factor of the CTD
    coupon: jax.Array  # [K] coupon rate (decimal p.a.)
    rho: jax.Array  # [K] initial log gross basis log(P / (CF f)); converges to 0 at delivery
    sigma_y: jax.Array  # [K] normal-times daily yield volatility (decimal)
    yield_corr: jax.Array  # [] correlation of daily yield noise across buckets
    impact_cash: jax.Array  # [K] log-price impact per USD bn of cash sold, normal times
    impact_fut: jax.Array  # [K] log-price impact per USD bn of futures bought, normal times
    impact_stress: jax.Array  # [] impact multiplier slope per unit of stress above 1
    resilience: jax.Array  # [] fraction of price impact that decays per day
    overnight_share: jax.Array  # [] share of each day's exogenous move arriving before the morning
    disloc_decay: jax.Array  # [] fraction of the cash dislocation that decays per day
    sigma_other: jax.Array  # [] daily volatility of funds' other risky assets
    impact_other: jax.Array  # [] log-price impact per USD bn of other assets sold
    dy: jax.Array  # [T, K] scenario yield change per day (decimal)
    dx: jax.Array  # [T, K] scenario cash dislocation per day (log price, cash vs futures)
    dother: jax.Array  # [T] scenario log return of other risky assets per day
    volmult: jax.Array  # [T] multiplier of the noise volatility per day
    # --- clearing house ------------------------------------------------------------------------
    ewma_lambda: jax.Array  # [] EWMA decay of the variance estimate
    im_z: jax.Array  # [] confidence multiplier
    im_mpor: jax.Array  # [] margin period of risk (days)
    im_floor: jax.Array  # [K] IM rate floor (fraction of notional)
    # --- repo lenders --------------------------------------------------------------------------
    h0: jax.Array  # [S] base haircut
    h_price: jax.Array  # [S] haircut rise per unit of price fall
    h_vol: jax.Array  # [S] haircut rise per unit of stress above 1
    h_max: jax.Array  # [S] haircut cap
    refuse_slope: jax.Array  # [S] share of repo not rolled per unit of stress above 1
    refuse_max: jax.Array  # [S] cap of that share
    repo_spread: jax.Array  # [S] repo rate spread over SOFR (decimal)
    repo_stress_spread: jax.Array  # [] repo rate rise per unit of stress above 1 (decimal)
    sofr: jax.Array  # [] SOFR (decimal)
    # --- fund population and behaviour -------------------------------------------------------
    total_position: jax.Array  # [] aggregate long cash leg of the trade (USD bn)
    pareto_alpha: jax.Array  # [] tail index of fund sizes (concentration)
    lev_median: jax.Array  # [] median trade leverage (gross position / equity)
    lev_sigma: jax.Array  # [] log-dispersion of leverage
    mix: jax.Array  # [K] mean bucket mix
    mix_conc: jax.Array  # [] Dirichlet concentration of fund bucket mixes
    bilat_share: jax.Array  # [] mean share of repo funded bilaterally
    bilat_conc: jax.Array  # [] Beta concentration of that share
    min_buffer: jax.Array  # [] minimum free liquidity as a share of the gross position
    cash_share: jax.Array  # [] share of free liquidity held as cash (rest in bills)
    other_ratio: jax.Array  # [] other risky assets as a multiple of trade equity
    lev_limit_mult: jax.Array  # [] risk limit on leverage as a multiple of initial leverage
    lev_target_ratio: jax.Array  # [] deleverage to this fraction of the limit (Cont-Schaanning)
    oversell: jax.Array  # [] extra cash raised above the gap when selling (a safety margin)
    # --- liquidity backstop ------------------------------------------------------------------
    bs_on: jax.Array  # [] 1.0 when the backstop lends, 0.0 otherwise
    bs_ltv: jax.Array  # [] max loan as a share of the fund's cash Treasuries at market
    bs_rate: jax.Array  # [] backstop lending rate (decimal)
    # --- other players' balance sheets -------------------------------------------------------
    am_cash: jax.Array  # [] asset managers' cash
    lender_cash: jax.Array  # [S] repo lenders' cash
    investor_cash: jax.Array  # [] end investors' cash
    investor_bills: jax.Array  # [] end investors' bills
    investor_other: jax.Array  # [] end investors' other risky assets
    outstanding: jax.Array  # [K] cash Treasuries outstanding per bucket (face)
    ccp_default_fund: jax.Array  # [] clearing house's own resources
    backstop_cash: jax.Array  # [] cash available to the backstop lender
    issuer_cash: jax.Array  # [] Treasury General Account


class State(NamedTuple):
    """Every stock in the system (float64 arrays). N funds, K buckets, S segments.

    Per-fund arrays keep the fund axis last (``[K, N]``, ``[S, N]``, ``[N]``) so that every
    per-fund operation runs along a long contiguous axis (vectorised); see docs/model.md §9."""

    # funds
    q: jax.Array  # [K,N] cash Treasuries held (face)
    fut: jax.Array  # [K,N] futures short (face)
    debt: jax.Array  # [S,N] repo debt = lender s's claim
    im: jax.Array  # [N] initial margin posted at the clearing house
    cash: jax.Array  # [N]
    bills: jax.Array  # [N] bills / money-market assets (valued at par)
    other: jax.Array  # [N] units of other risky assets
    bs_loan: jax.Array  # [N] backstop loan
    pend: jax.Array  # [N] realised futures P&L awaiting end-of-day settlement (claim on CCP)
    alive: jax.Array  # [N] 1.0 while the fund operates, 0.0 after default
    wshare: jax.Array  # [S,N] share of the fund's collateral pledged to each segment
    lev_limit: jax.Array  # [N] leverage limit
    cash_target: jax.Array  # [N] cash the fund keeps before repaying the backstop
    e0: jax.Array  # [N] initial equity
    pnl: jax.Array  # [N] cumulative P&L from flows (revaluation, coupons, interest, forgiveness)
    # markets
    y: jax.Array  # [K] cumulative fundamental yield change
    xd: jax.Array  # [K] exogenous cash dislocation (log)
    ic: jax.Array  # [K] cash price impact (log)
    ifut: jax.Array  # [K] futures price impact (log)
    io: jax.Array  # [] other-asset price impact (log)
    oret: jax.Array  # [] cumulative exogenous log return of other assets
    var: jax.Array  # [K] EWMA variance of daily futures log returns
    f_last: jax.Array  # [K] last settlement price of futures
    f_eod: jax.Array  # [K] previous end-of-day futures price (before clearing), for the EWMA
    t: jax.Array  # [] day index
    # repo lenders
    cash_l: jax.Array  # [S]
    claim_l: jax.Array  # [S] lender-side ledger of repo claims
    loss_l: jax.Array  # [S] cumulative write-offs
    int_l: jax.Array  # [S] cumulative interest income
    # clearing house
    cash_c: jax.Array  # []
    loss_c: jax.Array  # []
    # asset managers (futures longs)
    g: jax.Array  # [K] futures long (face)
    cash_a: jax.Array  # []
    im_a: jax.Array  # []
    pend_a: jax.Array  # []
    # end investors (cash-market buyers)
    h: jax.Array  # [K] cash Treasuries (face)
    cash_o: jax.Array  # []
    bills_o: jax.Array  # []
    other_o: jax.Array  # []
    # backstop lender
    cash_b: jax.Array  # []
    claim_b: jax.Array  # []
    loss_b: jax.Array  # []
    int_b: jax.Array  # []
    # issuer
    cash_t: jax.Array  # []


class Shocks(NamedTuple):
    """Exogenous innovations of one day (drawn from the key before the scan)."""

    dy_am: jax.Array  # [K] yield change before the morning window
    dy_pm: jax.Array  # [K] yield change during the day
    dx: jax.Array  # [K] cash dislocation
    do_am: jax.Array  # [] other-asset log return before the morning window
    do_pm: jax.Array  # []


class Prices(NamedTuple):
    p: jax.Array  # [K] cash clean price
    f: jax.Array  # [K] futures price
    po: jax.Array  # [] other risky asset price (1 at the start)


# ----------------------------------------------------------------------------------------------
# markets


def prices(params: Params, st: State, s: jax.Array, n_steps: int) -> Prices:
    """Cash, futures and other-asset prices at window time ``s`` (days since the start).

    P = P0 exp(-Dmod y) exp(-(ic + xd)); log(CF f / P) = w (ic + xd + ifut - rho), w = 1 - s/T,
    so the gross basis P - CF f starts near P0 rho, widens when cash is sold or cheapens and when
    futures are bought, and converges to 0 at delivery (w = 0).
    """
    w = jnp.clip(1.0 - s / n_steps, 0.0, 1.0)
    pf = params.p0 * jnp.exp(-params.dmod * st.y)
    p = pf * jnp.exp(-(st.ic + st.xd))
    cff = p * jnp.exp(w * (st.ic + st.xd + st.ifut - params.rho))
    po = jnp.exp(st.oret - st.io)
    return Prices(p, cff / params.cf, po)


def stress_index(params: Params, st: State) -> jax.Array:
    """Mean ratio of current to normal-times futures volatility (1 in calm markets)."""
    var0 = (params.dmod * params.sigma_y) ** 2
    return jnp.mean(jnp.sqrt(st.var / var0))


def im_rates(params: Params, st: State) -> jax.Array:
    """Clearing-house IM per unit notional: max(floor, z sigma_EWMA sqrt(MPOR))."""
    return jnp.maximum(params.im_floor, params.im_z * jnp.sqrt(st.var * params.im_mpor))


def haircuts(params: Params, st: State, pr: Prices) -> jax.Array:
    """Repo haircut per segment: h0 + a max(0, 1 - P/P0) + b max(0, stress - 1), capped."""
    fall = jnp.maximum(0.0, 1.0 - jnp.sum(params.mix * pr.p / params.p0))
    exc = jnp.maximum(0.0, stress_index(params, st) - 1.0)
    return jnp.minimum(params.h_max, params.h0 + params.h_price * fall + params.h_vol * exc)


def refusal(params: Params, st: State) -> jax.Array:
    """Share of repo that lenders of each segment refuse to roll."""
    exc = jnp.maximum(0.0, stress_index(params, st) - 1.0)
    return jnp.minimum(params.refuse_max, params.refuse_slope * exc)


def repo_rates(params: Params, st: State) -> jax.Array:
    exc = jnp.maximum(0.0, stress_index(params, st) - 1.0)
    return params.sofr + params.repo_spread + params.repo_stress_spread * exc


def fund_equity(st: State, pr: Prices) -> jax.Array:
    """Equity derived from the balance sheet (assets - liabilities) of each fund."""
    return (
        _mv(st.q, pr.p) / 100.0
        - _mv(st.fut, pr.f - st.f_last) / 100.0
        + st.pend
        + st.cash
        + st.bills
        + st.other * pr.po
        + st.im
        - st.debt.sum(0)
        - st.bs_loan
    )


def _revalue(st: State, old: Prices, new: Prices) -> State:
    """Book the P&L of a price change on every fund's positions (the flow ledger ``pnl``)."""
    d = _mv(st.q, new.p - old.p) / 100.0 - _mv(st.fut, new.f - old.f) / 100.0 + st.other * (new.po - old.po)
    return st._replace(pnl=st.pnl + d)


# ----------------------------------------------------------------------------------------------
# initial conditions and shocks


def init_state(key: jax.Array, params: Params, static: Static) -> State:
    """Draw a heterogeneous fund population and build consistent balance sheets for everyone."""
    n, k, s = static.n_funds, static.n_buckets, static.n_segments
    k_size, k_lev, k_mix, k_bil = jax.random.split(key, 4)
    u = jax.random.uniform(k_size, (n,), minval=1e-6, maxval=1.0)
    size = u ** (-1.0 / params.pareto_alpha)
    size = params.total_position * size / size.sum()
    lev = params.lev_median * jnp.exp(params.lev_sigma * jax.random.normal(k_lev, (n,)))
    lev = jnp.maximum(lev, 1.5)
    mix = sampling.dirichlet(k_mix, params.mix_conc * params.mix, n)  # [K,N]
    b = params.bilat_share
    wb = sampling.beta(k_bil, params.bilat_conc * b, params.bilat_conc * (1.0 - b), n)
    wb = jnp.clip(wb, 0.0, 1.0)
    wshare = jnp.stack([wb, 1.0 - wb], 0)  # [S,N]

    val = mix * size  # [K,N] market value of the cash leg
    q = 100.0 * val / params.p0[:, None]
    fut = q * params.cf[:, None]  # DV01 hedge of the CTD: short CF futures per bond
    f0 = params.p0 * jnp.exp(-params.rho) / params.cf
    var0 = (params.dmod * params.sigma_y) ** 2
    m0 = jnp.maximum(params.im_floor, params.im_z * jnp.sqrt(var0 * params.im_mpor))
    im = _mv(fut, m0 * f0) / 100.0
    v = val.sum(0)
    debt = (1.0 - params.h0)[:, None] * wshare * v
    hc_equity = v - debt.sum(0)
    eq_trade = jnp.maximum(v / lev, im + hc_equity + params.min_buffer * v)
    free = eq_trade - im - hc_equity
    cash = params.cash_share * free
    bills = free - cash
    other = params.other_ratio * eq_trade
    lev_actual = v / (eq_trade + other)
    z = jnp.zeros(())
    g = fut.sum(1)
    im_a = g @ (m0 * f0) / 100.0
    st = State(
        q=q,
        fut=fut,
        debt=debt,
        im=im,
        cash=cash,
        bills=bills,
        other=other,
        bs_loan=jnp.zeros(n),
        pend=jnp.zeros(n),
        alive=jnp.ones(n),
        wshare=wshare,
        lev_limit=lev_actual * params.lev_limit_mult,
        cash_target=cash,
        e0=jnp.zeros(n),
        pnl=jnp.zeros(n),
        y=jnp.zeros(k),
        xd=jnp.zeros(k),
        ic=jnp.zeros(k),
        ifut=jnp.zeros(k),
        io=z,
        oret=z,
        var=var0,
        f_last=f0,
        f_eod=f0,
        t=z,
        cash_l=params.lender_cash * jnp.ones(s),
        claim_l=debt.sum(1),
        loss_l=jnp.zeros(s),
        int_l=jnp.zeros(s),
        cash_c=im.sum() + im_a + params.ccp_default_fund,
        loss_c=z,
        g=g,
        cash_a=params.am_cash + z,
        im_a=im_a,
        pend_a=z,
        h=params.outstanding - q.sum(1),
        cash_o=params.investor_cash + z,
        bills_o=params.investor_bills + z,
        other_o=params.investor_other + z,
        cash_b=params.backstop_cash + z,
        claim_b=z,
        loss_b=z,
        int_b=z,
        cash_t=params.issuer_cash + z,
    )
    pr = prices(params, st, z, static.n_steps)
    return st._replace(e0=fund_equity(st, pr))


def draw_shocks(key: jax.Array, params: Params, static: Static) -> Shocks:
    """Scenario paths plus seeded noise: one common and one idiosyncratic yield factor."""
    t, k = static.n_steps, static.n_buckets
    k1, k2, k3 = jax.random.split(key, 3)
    rc = params.yield_corr
    zc = jax.random.normal(k1, (t, 2, 1))
    zi = jax.random.normal(k2, (t, 2, k))
    z = jnp.sqrt(rc) * zc + jnp.sqrt(1.0 - rc) * zi  # [T, 2, K]
    sig = params.sigma_y * params.volmult[:, None]
    a = params.overnight_share
    dy_am = a * params.dy + jnp.sqrt(a) * sig * z[:, 0]
    dy_pm = (1 - a) * params.dy + jnp.sqrt(1 - a) * sig * z[:, 1]
    zo = jax.random.normal(k3, (t, 2))
    so = params.sigma_other * params.volmult
    do_am = a * params.dother + jnp.sqrt(a) * so * zo[:, 0]
    do_pm = (1 - a) * params.dother + jnp.sqrt(1 - a) * so * zo[:, 1]
    return Shocks(dy_am, dy_pm, params.dx, do_am, do_pm)


# ----------------------------------------------------------------------------------------------
# step kernels


def market_move(
    params: Params, st: State, dy, dx, do, decay_share, s_old, s_new, n_steps
) -> tuple[State, Prices]:
    """Exogenous news, impact decay and the pull to delivery between two windows; every fund's
    positions are revalued and the P&L booked in the flow ledger."""
    old = prices(params, st, s_old, n_steps)
    keep = 1.0 - params.resilience * decay_share
    st2 = st._replace(
        y=st.y + dy,
        xd=st.xd * (1.0 - params.disloc_decay * decay_share) + dx,
        ic=st.ic * keep,
        ifut=st.ifut * keep,
        io=st.io * keep,
        oret=st.oret + do,
    )
    new = prices(params, st2, s_new, n_steps)
    return _revalue(st2, old, new), new


class Obligations(NamedTuple):
    """What each fund owes (positive) or is owed (negative) in a settlement window."""

    repo_call: jax.Array  # [S,N] fund -> lender s (negative: lender returns margin / lends more)
    debt_post: jax.Array  # [S,N] repo debt after the call is met
    im_call: jax.Array  # [N] fund -> CCP
    im_post: jax.Array  # [N]
    ccp_vm: jax.Array  # [N] fund -> CCP variation margin (negative: fund receives)
    int_repo: jax.Array  # [S,N] interest due to lender s
    int_bs: jax.Array  # [N] interest due to the backstop


class WindowFlows(NamedTuple):
    """Flows of one window, summed over funds (per path)."""

    sold_unwind: jax.Array  # [K] cash Treasuries sold by funds unwinding (USD bn, at market)
    sold_default: jax.Array  # [K] sold by lenders liquidating defaulters' collateral
    fut_bought: jax.Array  # [K] futures bought back (USD bn notional)
    bills_sold: jax.Array  # []
    other_sold: jax.Array  # [] other risky assets sold (USD bn)
    bs_drawn: jax.Array  # []
    new_defaults: jax.Array  # []
    cash_need: jax.Array  # [] gross obligations due from funds
    gap: jax.Array  # [] cash shortfall after the funds' cash
    loss_l: jax.Array  # [S]
    loss_c: jax.Array  # []
    loss_b: jax.Array  # []


def _clear(params, st, pre: Prices, sold_val, buy_val, oth_val, s, n_steps) -> tuple[State, Prices]:
    """Uniform-price clearing: aggregate sales move prices along an impact curve whose slope
    rises with stress (D'Amico-King normal-times slope; Duffie et al. 2023 state dependence)."""
    mult = 1.0 + params.impact_stress * jnp.maximum(0.0, stress_index(params, st) - 1.0)
    st2 = st._replace(
        ic=st.ic + mult * params.impact_cash * sold_val,
        ifut=st.ifut + mult * params.impact_fut * buy_val,
        io=st.io + mult * params.impact_other * oth_val,
    )
    return st2, prices(params, st2, s, n_steps)


def fund_window(params: Params, st: State, pre: Prices, ob: Obligations, s, static: Static):
    """A settlement window: funds meet obligations with cash, then bills, the backstop, other
    assets, and by unwinding the trade (sell cash, buy back futures); a fund that cannot pay,
    or is insolvent, defaults and its lenders and the clearing house liquidate it into the same
    markets. Returns the new state, the clearing prices and the window's flows."""
    a = st.alive
    pay_out = _pos(ob.repo_call).sum(0) + _pos(ob.im_call) + _pos(ob.ccp_vm) + ob.int_repo.sum(0) + ob.int_bs
    pay_in = _pos(-ob.repo_call).sum(0) + _pos(-ob.im_call) + _pos(-ob.ccp_vm)
    cash0 = st.cash + (pay_in - pay_out) * a
    gap = _pos(-cash0) * a
    need = gap * (1.0 + params.oversell)
    dpost = ob.debt_post.sum(0)

    def plan(est: Prices):
        v_est = _mv(st.q, est.p) / 100.0
        e_unit = v_est - dpost + ob.im_post
        eq = (
            v_est
            - _mv(st.fut, est.f - st.f_last) / 100.0
            + st.pend
            + cash0
            + st.bills
            + st.other * est.po
            + ob.im_post
            - dpost
            - st.bs_loan
        )
        s_bills = jnp.minimum(st.bills, need)
        r1 = need - s_bills
        bs_cap = params.bs_on * _pos(params.bs_ltv * v_est - st.bs_loan)
        d_bs = jnp.minimum(bs_cap, r1)
        r2 = r1 - d_bs
        oth_val = st.other * est.po
        s_oth = jnp.minimum(oth_val, r2)
        r3 = r2 - s_oth
        u_cash = jnp.where(r3 > 0, jnp.minimum(1.0, r3 / jnp.maximum(e_unit, _TINY)), 0.0)
        lev = v_est / jnp.maximum(eq, _TINY)
        u_lev = jnp.where(lev > st.lev_limit, 1.0 - params.lev_target_ratio * st.lev_limit / lev, 0.0)
        capacity = st.bills + bs_cap + oth_val + _pos(e_unit)
        # default: cannot cover a cash gap, or insolvent (a fund with no gap never fails the
        # first test, so round-off in a fully unwound fund's holdings cannot default it)
        dflt = a * (((gap > 0.0) & (capacity < gap)) | (eq <= 0.0)).astype(jnp.float64)
        nd = a - dflt
        u = nd * jnp.maximum(u_cash, u_lev) + dflt
        # units sold; selling everything leaves exactly zero (no round-off residue)
        sold_units = jnp.where(s_oth >= oth_val, st.other, s_oth / jnp.maximum(est.po, _TINY))
        n_oth = nd * sold_units + dflt * st.other
        return s_bills, d_bs, n_oth, u, dflt, nd

    def clear(pl):
        _, _, n_oth, u, _, _ = pl
        return _clear(
            params,
            st,
            pre,
            _vm(u, st.q) * pre.p / 100.0,
            _vm(u, st.fut) * pre.f / 100.0,
            n_oth.sum() * pre.po,
            s,
            static.n_steps,
        )

    first = plan(pre)

    def full():
        return _settle(params, st, pre, ob, s, static, plan, clear, first, pay_in, pay_out, gap, dpost)

    if not static.skip_quiet_windows:
        return full()
    s_bills, d_bs, n_oth, u, _, _ = first
    busy = _any_in_batch((u > 0.0) | (n_oth > 0.0), static)
    return jax.lax.cond(busy, full, lambda: _settle_quiet(st, pre, ob, pay_in, pay_out, gap, s_bills, d_bs))


def _settle_quiet(st: State, pre: Prices, ob: Obligations, pay_in, pay_out, gap, s_bills, d_bs):
    """A quiet window: every fund pays its obligations from cash, selling bills or drawing on the
    backstop where its cash falls short, but nobody unwinds, sells other assets or defaults, so
    no market price moves. This is :func:`_settle` with a plan that only sells bills and borrows
    (every term it drops is an exact zero there); the engine's tests check the two agree."""
    a = st.alive
    rc = ob.repo_call * a
    ir = ob.int_repo * a
    ib = ob.int_bs * a
    s_bills, d_bs = a * s_bills, a * d_bs
    st = st._replace(
        debt=jnp.where(a > 0, ob.debt_post, st.debt),
        im=jnp.where(a > 0, ob.im_post, st.im),
        cash=st.cash + a * (pay_in - pay_out) + s_bills + d_bs,
        bills=st.bills - s_bills,
        bs_loan=st.bs_loan + d_bs,
        pnl=st.pnl - (ir.sum(0) + ib),
        cash_l=st.cash_l + (rc + ir * a).sum(1),
        claim_l=st.claim_l - rc.sum(1),
        int_l=st.int_l + ir.sum(1),
        cash_c=st.cash_c + (a * (ob.im_call + ob.ccp_vm)).sum(),
        cash_o=st.cash_o - s_bills.sum(),
        bills_o=st.bills_o + s_bills.sum(),
        cash_b=st.cash_b + (ib * a - d_bs).sum(),
        claim_b=st.claim_b + d_bs.sum(),
        int_b=st.int_b + ib.sum(),
    )
    k, sgm = st.q.shape[0], st.debt.shape[0]
    z = jnp.zeros(())
    flows = WindowFlows(
        sold_unwind=jnp.zeros(k),
        sold_default=jnp.zeros(k),
        fut_bought=jnp.zeros(k),
        bills_sold=s_bills.sum(),
        other_sold=z,
        bs_drawn=d_bs.sum(),
        new_defaults=z,
        cash_need=(pay_out * a).sum(),
        gap=gap.sum(),
        loss_l=jnp.zeros(sgm),
        loss_c=z,
        loss_b=z,
    )
    return st, pre, flows


def _close_out(st: State, ob: Obligations, dflt, v_post, fut_mtm, post: Prices, cash):
    """Default waterfall: lenders sell the defaulters' collateral and keep what covers their
    claims, the clearing house closes out the futures against IM, and the remaining pool pays
    the unsecured claims pro rata; what it cannot pay is each creditor's loss."""
    sale = dflt * v_post
    proceeds = st.wshare * sale
    rec = jnp.minimum(st.debt, proceeds) * dflt
    short_l = (st.debt - rec + ob.int_repo) * dflt
    x = -ob.ccp_vm + st.pend - fut_mtm
    net = st.im + x
    ccp_pay = dflt * _pos(net)
    ccp_claim = dflt * _pos(-net)
    bs_claim = dflt * (st.bs_loan + ob.int_bs)
    pool = dflt * (st.cash + st.bills + st.other * post.po + sale - rec.sum(0)) + ccp_pay
    unsec = short_l.sum(0) + ccp_claim + bs_claim
    frac = jnp.where(unsec > 0, jnp.minimum(1.0, _pos(pool) / jnp.maximum(unsec, _TINY)), 1.0)
    paid_l, paid_c, paid_b = frac * short_l, frac * ccp_claim, frac * bs_claim
    loss_l, loss_c, loss_b = short_l - paid_l, ccp_claim - paid_c, bs_claim - paid_b
    cash = jnp.where(dflt > 0, pool - paid_l.sum(0) - paid_c - paid_b, cash)

    return rec, paid_l, paid_c, paid_b, loss_l, loss_c, loss_b, ccp_pay, cash


def _settle(params, st, pre, ob, s, static, plan, clear, first, pay_in, pay_out, gap, dpost):
    """Clear the window's sales (uniform price by fixed-point iteration), then settle survivors
    and run the default waterfall."""
    a = st.alive
    # uniform-price clearing by fixed-point iteration: plans at estimated prices -> clearing prices
    # (windows where nobody sells into a market take the quiet branch of fund_window instead)
    if static.fp_iters >= 2:
        est = clear(first)[1]
        est = jax.lax.fori_loop(0, static.fp_iters - 2, lambda i, e: clear(plan(e))[1], est)
        s_bills, d_bs, n_oth, u, dflt, nd = plan(est)
    else:
        s_bills, d_bs, n_oth, u, dflt, nd = first
    st_c, est = clear((s_bills, d_bs, n_oth, u, dflt, nd))
    post = est
    s_bills = nd * s_bills + dflt * st.bills
    d_bs = nd * d_bs
    st = _revalue(st_c, pre, post)
    v_post = _mv(st.q, post.p) / 100.0

    # --- survivors: settle obligations, sell, borrow, unwind ------------------------------------
    rc = ob.repo_call * nd
    ir = ob.int_repo * a
    ib = ob.int_bs * a
    cash = st.cash + nd * (pay_in - pay_out) + s_bills + d_bs + n_oth * post.po
    unw = nd * u
    unwind_debt = unw * ob.debt_post
    cash = cash + unw * (v_post - dpost + ob.im_post)
    fut_mtm = _mv(st.fut, post.f - st.f_last) / 100.0  # [N] unrealised futures P&L (short loses)
    pend = st.pend - unw * fut_mtm

    # --- defaulters: close-out waterfall (skipped, as exact zeros, when no fund of the batch
    # defaults in this window) ---------------------------------------------------------------
    def no_defaults():
        per_lender, per_fund = jnp.zeros_like(st.debt), jnp.zeros_like(cash)
        # rec, paid_l, paid_c, paid_b, loss_l, loss_c, loss_b, ccp_pay, cash
        return (per_lender, per_lender, per_fund, per_fund, per_lender, per_fund, per_fund, per_fund, cash)

    rec, paid_l, paid_c, paid_b, loss_l, loss_c, loss_b, ccp_pay, cash = jax.lax.cond(
        _any_in_batch(dflt > 0.0, static),
        lambda: _close_out(st, ob, dflt, v_post, fut_mtm, post, cash),
        no_defaults,
    )

    keep = 1.0 - u  # dead funds keep nothing; survivors keep 1 - u
    new_fut = st.fut * keep
    fund_int = ir.sum(0) + ib
    pnl = st.pnl - fund_int + (loss_l.sum(0) + loss_c + loss_b)

    # --- counterparties ----------------------------------------------------------------------
    closed = u * st.fut  # survivors' buy-backs and defaulters' close-outs
    sold_all = _vm(u, st.q)
    sold_unw = _vm(unw, st.q)
    st = st._replace(
        q=st.q * keep,
        fut=new_fut,
        debt=jnp.where(dflt > 0, 0.0, jnp.where(nd > 0, ob.debt_post, st.debt) * keep),
        im=jnp.where(dflt > 0, 0.0, jnp.where(nd > 0, ob.im_post, st.im) * keep),
        cash=cash,
        bills=st.bills - s_bills,
        other=st.other - n_oth,
        bs_loan=(st.bs_loan + d_bs) * (1.0 - dflt),
        pend=pend * (1.0 - dflt),
        alive=nd,
        pnl=pnl,
        cash_l=st.cash_l + (rc + ir * nd + unwind_debt + rec + paid_l).sum(1),
        claim_l=st.claim_l - (rc + unwind_debt + st.debt * dflt).sum(1),
        loss_l=st.loss_l + loss_l.sum(1),
        int_l=st.int_l + ir.sum(1),
        cash_c=st.cash_c + (nd * (ob.im_call + ob.ccp_vm) + paid_c - unw * ob.im_post - ccp_pay).sum(),
        loss_c=st.loss_c + loss_c.sum(),
        g=st.g - closed.sum(1),
        pend_a=st.pend_a + _mv(closed, post.f - st.f_last).sum() / 100.0,
        h=st.h + sold_all,
        cash_o=st.cash_o - ((sold_all * post.p).sum() / 100.0 + (s_bills + n_oth * post.po).sum()),
        bills_o=st.bills_o + s_bills.sum(),
        other_o=st.other_o + n_oth.sum(),
        cash_b=st.cash_b + (ib * nd + paid_b - d_bs).sum(),
        claim_b=st.claim_b + (d_bs - dflt * st.bs_loan).sum(),
        loss_b=st.loss_b + loss_b.sum(),
        int_b=st.int_b + ib.sum(),
    )
    flows = WindowFlows(
        sold_unwind=sold_unw * post.p / 100.0,
        sold_default=(sold_all - sold_unw) * post.p / 100.0,
        fut_bought=closed.sum(1) * post.f / 100.0,
        bills_sold=s_bills.sum(),
        other_sold=n_oth.sum() * post.po,
        bs_drawn=d_bs.sum(),
        new_defaults=dflt.sum(),
        cash_need=(pay_out * a).sum(),
        gap=gap.sum(),
        loss_l=loss_l.sum(1),
        loss_c=loss_c.sum(),
        loss_b=loss_b.sum(),
    )
    return st, post, flows


def morning_obligations(params: Params, st: State, pr: Prices) -> tuple[Obligations, State, dict]:
    """Repo lenders re-mark collateral (haircuts, refusal to roll) and the clearing house resets
    IM from its EWMA volatility; futures VM is NOT settled in this window."""
    a = st.alive
    h = haircuts(params, st, pr)
    ref = refusal(params, st)
    v = _mv(st.q, pr.p) / 100.0
    target = ((1.0 - h) * (1.0 - ref))[:, None] * st.wshare * v
    repo_call = (st.debt - target) * a
    m = im_rates(params, st)
    im_req = _mv(st.fut, m * pr.f) / 100.0
    im_call = (im_req - st.im) * a
    s, n = st.debt.shape
    ob = Obligations(
        repo_call,
        st.debt - repo_call,
        im_call,
        st.im + im_call,
        jnp.zeros(n),
        jnp.zeros((s, n)),
        jnp.zeros(n),
    )
    # asset managers meet their IM call from cash
    im_a_req = st.g @ (m * pr.f) / 100.0
    call_a = im_a_req - st.im_a
    st = st._replace(im_a=im_a_req, cash_a=st.cash_a - call_a, cash_c=st.cash_c + call_a)
    return ob, st, {"haircut": h, "refusal": ref, "im_rate": m}


def eod_obligations(params: Params, st: State, pr: Prices) -> tuple[Obligations, State, dict]:
    """End-of-day settlement: futures VM through the clearing house, repo and backstop interest.
    Coupons are paid by the issuer to every holder before the window."""
    a = st.alive
    dt = 1.0 / DAYS_PER_YEAR
    cpn_f = _mv(st.q, params.coupon) * dt
    cpn_o = st.h @ params.coupon * dt
    mtm = _mv(st.fut, pr.f - st.f_last) / 100.0
    vm = (st.pend - mtm) * a  # fund receives when positive
    mtm_a = st.g @ (pr.f - st.f_last) / 100.0
    vm_a = st.pend_a + mtm_a
    rates = repo_rates(params, st)
    s, n = st.debt.shape
    ob = Obligations(
        jnp.zeros((s, n)),
        st.debt,
        jnp.zeros(n),
        st.im,
        -vm,
        st.debt * rates[:, None] * dt,
        st.bs_loan * params.bs_rate * dt,
    )
    st = st._replace(
        cash=st.cash + cpn_f,
        pnl=st.pnl + cpn_f,
        cash_o=st.cash_o + cpn_o,
        cash_t=st.cash_t - cpn_f.sum() - cpn_o,
        cash_a=st.cash_a + vm_a,
        cash_c=st.cash_c - vm_a,
        pend_a=jnp.zeros(()),
        # the funds' VM is an obligation of the window; the settlement price resets now
        pend=jnp.zeros_like(st.pend),
        f_last=pr.f,
    )
    # variation margin on open positions sums to zero when longs equal shorts
    return ob, st, {"repo_rate": rates, "vm_open_net": mtm_a - (mtm * a).sum()}


def repay_backstop(st: State) -> tuple[State, jax.Array]:
    """Funds with cash above their normal buffer repay the backstop (end of day)."""
    rep = jnp.minimum(st.bs_loan, jnp.maximum(0.0, st.cash - st.cash_target)) * st.alive
    tot = rep.sum()
    return st._replace(
        cash=st.cash - rep, bs_loan=st.bs_loan - rep, cash_b=st.cash_b + tot, claim_b=st.claim_b - tot
    ), tot


def update_volatility(params: Params, st: State, pr: Prices) -> State:
    """RiskMetrics EWMA of daily futures log returns (end of day, before the next IM reset)."""
    r = jnp.log(pr.f / st.f_eod)
    lam = params.ewma_lambda
    return st._replace(var=lam * st.var + (1.0 - lam) * r * r, f_eod=pr.f)


# ----------------------------------------------------------------------------------------------
# ledger (for the audit) and one day


def ccp_worth(st: State, pr: Prices) -> jax.Array:
    """Clearing-house equity: cash less IM owed back, pending VM owed and any open imbalance."""
    imbalance = (st.g - st.fut.sum(1)) @ (pr.f - st.f_last) / 100.0
    return st.cash_c - st.im.sum() - st.im_a - st.pend.sum() - st.pend_a - imbalance


def ledger(params: Params, st: State, pr: Prices) -> dict[str, jax.Array]:
    """Aggregates whose conservation the audit checks (compared with their initial values)."""
    eq = fund_equity(st, pr)
    return {
        "cash_total": st.cash.sum()
        + st.cash_l.sum()
        + st.cash_c
        + st.cash_a
        + st.cash_o
        + st.cash_b
        + st.cash_t,
        "bonds_total": st.q.sum(1) + st.h,
        "bills_total": st.bills.sum() + st.bills_o,
        "other_total": st.other.sum() + st.other_o,
        "futures_imbalance": st.fut.sum(1) - st.g,
        "repo_ledger_gap": st.claim_l - st.debt.sum(1),
        "backstop_ledger_gap": st.claim_b - st.bs_loan.sum(),
        "lender_worth": st.cash_l + st.claim_l - st.int_l + st.loss_l,
        "ccp_worth": ccp_worth(st, pr) + st.loss_c,
        "backstop_worth": st.cash_b + st.claim_b - st.int_b + st.loss_b,
        "fund_sfc_gap": jnp.max(jnp.abs(eq - st.e0 - st.pnl)),
        "scale": st.q.sum(1) @ pr.p / 100.0 + params.total_position,
    }


_Q = jnp.array([0.1, 0.5, 0.9])


def record(params: Params, st: State, pr: Prices, static: Static) -> dict[str, jax.Array]:
    """End-of-day observables of one path."""
    eq = fund_equity(st, pr)
    v = _mv(st.q, pr.p) / 100.0
    out = {
        "cash_price": pr.p,
        "futures_price": pr.f,
        "gross_basis": pr.p - params.cf * pr.f,
        "yield_change_bp": 1e4 * (st.y + (st.ic + st.xd) / params.dmod),
        "other_price": pr.po,
        "funds_alive": st.alive.sum(),
        "fund_equity": eq.sum(),
        "fund_cash": st.cash.sum(),
        "fund_bills": st.bills.sum(),
        "fund_gross_position": v.sum(),
        "fund_repo_debt": st.debt.sum(1),
        "fund_im": st.im.sum(),
        "am_im": st.im_a,
        "backstop_outstanding": st.bs_loan.sum(),
        "lender_losses": st.loss_l,
        "ccp_losses": st.loss_c,
        "backstop_losses": st.loss_b,
        "realised_pnl": (eq - st.e0).sum(),
    }
    if static.record_distribution:
        lev = jnp.where(st.alive > 0, v / jnp.maximum(eq, _TINY), 0.0)
        out["equity_ratio_q"] = jnp.quantile(eq / st.e0, _Q)
        out["cash_ratio_q"] = jnp.quantile(st.cash / st.e0, _Q)
        out["leverage_q"] = jnp.quantile(lev, _Q)
    return out


def step(params: Params, st: State, sh: Shocks, static: Static) -> tuple[State, dict]:
    """One business day: overnight news -> morning repo/IM window -> intraday news -> end-of-day
    VM window -> backstop repayment -> EWMA update. Pure; composed of the kernels above."""
    n_steps = static.n_steps
    t = st.t
    s_am, s_pm = t + 0.5, t + 1.0
    # overnight news, then the morning window (repo re-marking, IM reset)
    st, pr = market_move(params, st, sh.dy_am, sh.dx, sh.do_am, 0.5, t, s_am, n_steps)
    ob, st, info_am = morning_obligations(params, st, pr)
    st, pr, fl_am = fund_window(params, st, pr, ob, s_am, static)
    # intraday news, then end-of-day VM settlement
    st, pr = market_move(params, st, sh.dy_pm, jnp.zeros_like(sh.dx), sh.do_pm, 0.5, s_am, s_pm, n_steps)
    f_settle = pr.f
    ob, st, info_pm = eod_obligations(params, st, pr)
    st, pr, fl_pm = fund_window(params, st, pr, ob, s_pm, static)
    st, repaid = repay_backstop(st)
    st = update_volatility(params, st, Prices(pr.p, f_settle, pr.po))
    st = st._replace(t=t + 1.0)
    out = record(params, st, pr, static)
    out.update(
        haircut=info_am["haircut"],
        repo_refusal=info_am["refusal"],
        im_rate=info_am["im_rate"],
        repo_rate=info_pm["repo_rate"],
        vm_net=info_pm["vm_open_net"],
        stress=stress_index(params, st),
        sold_unwind=fl_am.sold_unwind + fl_pm.sold_unwind,
        sold_default=fl_am.sold_default + fl_pm.sold_default,
        futures_bought=fl_am.fut_bought + fl_pm.fut_bought,
        bills_sold=fl_am.bills_sold + fl_pm.bills_sold,
        other_sold=fl_am.other_sold + fl_pm.other_sold,
        backstop_drawn=fl_am.bs_drawn + fl_pm.bs_drawn,
        backstop_repaid=repaid,
        new_defaults=fl_am.new_defaults + fl_pm.new_defaults,
        cash_need_morning=fl_am.cash_need,
        cash_need_eod=fl_pm.cash_need,
        cash_gap_morning=fl_am.gap,
        cash_gap_eod=fl_pm.gap,
    )
    out["audit"] = ledger(params, st, pr)
    return st, out
