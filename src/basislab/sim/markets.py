"""Markets: prices, the day's news, and uniform-price clearing over a list of participants.

Prices (docs/model.md section 2)::

    P_k = P0_k exp(-Dmod_k y_k) exp(-(ic_k + xd_k))
    CF_k f_k = P_k exp(w (ic_k + xd_k + if_k - rho_k)),   w = 1 - s/T
    p_o = exp(other_return - impact_other)         (per other asset: equities, credit)

Clearing: every participant states what it brings to each market at the window's estimated
prices, either a :class:`Supply` (USD bn of cash Treasuries sold, futures bought back, other assets
sold) or a :class:`Depth` (how far the log price must move per USD bn for it to take the other
side). The net supply moves each market along the combined depth, ``1 / sum_j (1 / lambda_j)``,
scaled by the stress multiplier ``1 + kappa max(0, stress - 1)`` (D'Amico & King 2013 calm slope;
Duffie et al. 2023 state dependence); the takers fill the net supply in proportion to their
depth. A new seller or buyer is a new entry in the lists, not a change here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp

from basislab.sim import booking as bk
from basislab.sim.players import Funds, Markets, Params, State


class Prices(NamedTuple):
    p: jax.Array  # [K] cash clean price, per 100
    f: jax.Array  # [K] futures price, per 100
    po: jax.Array  # [A] other risky assets' prices (1 at the start)


class Supply(NamedTuple):
    """What a participant brings to the markets of one window (USD bn at estimated prices)."""

    cash_sold: jax.Array  # [K] cash Treasuries sold
    futures_bought: jax.Array  # [K] futures bought back (notional)
    other_sold: jax.Array  # [A] other risky assets sold


class Depth(NamedTuple):
    """A taker's price response: log-price move per USD bn it absorbs; ``None`` for a market it
    does not trade (a static choice, fixed when the list of takers is built)."""

    cash: jax.Array | None  # [K]
    futures: jax.Array | None  # [K]
    other: jax.Array | None  # [A]
    #: [K] a taker of a fixed quantity of cash Treasuries at any non-negative concession (the
    #: Fed's purchases: a reverse auction taking offers at the market); it fills first, up to
    #: this capacity, and the price moves only on what is left for the depth takers
    cash_cap: jax.Array | None = None
    #: [] the most (USD bn at market, all buckets together) a linear cash taker can absorb in the
    #: window (the dealers' SLR headroom): beyond it the price moves along the other takers' depth
    cash_limit: jax.Array | None = None


def prices(params: Params, mk: Markets, s: jax.Array) -> Prices:
    """Cash, futures and other-asset prices at window time ``s`` (days since the start); the
    futures deliver at the end of the horizon (``params.market.horizon_days``, an array: the
    engine pads the day axis beyond it, docs/model.md section 14)."""
    m = params.market
    w = jnp.clip(1.0 - s / m.horizon_days, 0.0, 1.0)
    pf = m.p0 * jnp.exp(-m.dmod * mk.yield_change)
    p = pf * jnp.exp(-(mk.impact_cash + mk.dislocation))
    cff = p * jnp.exp(w * (mk.impact_cash + mk.dislocation + mk.impact_futures - m.rho))
    return Prices(p, cff / m.cf, jnp.exp(other_log_prices(mk)))


def other_log_prices(mk: Markets) -> jax.Array:
    """[A] log prices of the other assets (equities, credit): news less price impact."""
    return mk.other_return - mk.impact_other


def stress_index(params: Params, mk: Markets) -> jax.Array:
    """Mean ratio of current to calm futures volatility (1 in calm markets)."""
    var0 = (params.market.dmod * params.market.sigma_y) ** 2
    return jnp.mean(jnp.sqrt(mk.variance / var0))


def stress_excess(params: Params, mk: Markets) -> jax.Array:
    """``max(0, stress - 1)``, the argument of every stress-dependent rule."""
    return jnp.maximum(0.0, stress_index(params, mk) - 1.0)


def _mv(x: jax.Array, v: jax.Array) -> jax.Array:
    """Per-fund dot of ``x[K, N]`` with ``v[K]`` (K multiply-adds along the fund axis)."""
    acc = v[0] * x[0]
    for i in range(1, x.shape[0]):
        acc = acc + v[i] * x[i]
    return acc


def revaluation(funds: Funds, old: Prices, new: Prices) -> jax.Array:
    """[N] P&L of a price change on each fund's cash Treasuries, futures short and other assets."""
    return (
        _mv(funds.bonds, new.p - old.p) / 100.0
        - _mv(funds.futures_short, new.f - old.f) / 100.0
        + _mv(funds.other_assets, new.po - old.po)
    )


def market_move(params: Params, st: State, dy, dx, do, decay_share, s_old, s_new) -> tuple[State, Prices]:
    """Exogenous news, impact decay and the pull to delivery between two windows; every fund's
    positions are revalued (an income flow from the market to the funds' P&L)."""
    m, mk = params.market, st.markets
    old = prices(params, mk, s_old)
    keep = 1.0 - m.resilience * decay_share
    mk = mk._replace(
        yield_change=mk.yield_change + dy,
        dislocation=mk.dislocation * (1.0 - m.disloc_decay * decay_share) + dx,
        impact_cash=mk.impact_cash * keep,
        impact_futures=mk.impact_futures * keep,
        impact_other=mk.impact_other * keep,
        other_return=mk.other_return + do,
    )
    new = prices(params, mk, s_new)
    st = st._replace(markets=mk)
    return bk.book(st, [bk.flow(bk.MARKET_INCOME, bk.FUND_PNL, revaluation(st.funds, old, new))]), new


def investor_depth(params: Params) -> Depth:
    """End investors take cash Treasuries and other assets along the calm impact slopes (scenario
    ``impact_bp_per_bn`` x duration; ``other_impact_pct_per_bn``)."""
    m = params.market
    return Depth(m.impact_cash, None, m.impact_other)


def asset_manager_depth(params: Params) -> Depth:
    """Asset managers sell futures to the funds buying back (``futures_impact_ratio`` x cash)."""
    return Depth(None, params.market.impact_fut, None)


def _combine(slopes: list[jax.Array]) -> tuple[jax.Array, list[jax.Array | None]]:
    """Combined slope ``1 / sum(1 / lambda_j)`` of the takers of one market and each one's share
    ``(1 / lambda_j) / sum(1 / lambda)``; a sole taker keeps its slope and takes all (``None``)."""
    if len(slopes) == 1:
        return slopes[0], [None]
    inv = [1.0 / jnp.maximum(x, 1e-200) for x in slopes]  # a zero slope (no impact) takes all
    tot = sum(inv[1:], inv[0])
    return 1.0 / tot, [x / tot for x in inv]


def _limited(slopes: dict, slope: jax.Array, sh: list, sold: jax.Array, pos: int, limit: jax.Array):
    """Shares and log-price step of a market with one capped linear taker (at ``pos``; ``slope``
    and ``sh`` the combined slope and shares of all takers): where its linear take ``share x
    sold`` exceeds its limit (spread over the buckets sold in proportion to their value), it takes
    the limit and the rest moves the price along the others' depth."""
    vals = list(slopes.values())
    others = vals[:pos] + vals[pos + 1 :]
    slope_o, sh_o = _combine(others)
    pos_sold = jnp.maximum(sold, 0.0)
    lim_k = limit * pos_sold / jnp.maximum(pos_sold.sum(), 1e-300)
    mine = sh[pos]
    over = mine * sold > lim_k
    mine_new = jnp.where(over, lim_k / jnp.maximum(sold, 1e-300), mine)
    full = [jnp.ones_like(sold) if x is None else x for x in sh_o]
    rest = [
        jnp.where(over, o * (1.0 - mine_new), x) for o, x in zip(full, sh[:pos] + sh[pos + 1 :], strict=True)
    ]
    step = jnp.where(over, slope_o * (sold - lim_k), slope * sold)
    return rest[:pos] + [mine_new] + rest[pos:], step


def clear(
    params: Params, mk: Markets, supplies: Sequence[Supply], depths: Sequence[Depth]
) -> tuple[Markets, list[Depth]]:
    """Uniform-price clearing: the participants' net supply moves each market's log price along
    the takers' combined depth times ``1 + kappa max(0, stress - 1)``. Returns the new market
    state and each taker's share of each market (``None``: it does not trade there, or it is the
    only taker and takes everything)."""
    mult = 1.0 + params.market.impact_stress * stress_excess(params, mk)
    net = supplies[0]
    for s in supplies[1:]:
        net = Supply(*(a + b for a, b in zip(net, s, strict=True)))
    moved: list[jax.Array] = []
    shares: list[list[jax.Array | None]] = [[None] * 3 for _ in depths]
    caps = {i: d.cash_cap for i, d in enumerate(depths) if d.cash_cap is not None}
    rest = jnp.ones_like(net.cash_sold)
    absorbed = jnp.zeros_like(net.cash_sold)
    if caps:
        first, *others = caps.values()
        cap = sum(others, first)
        absorbed = jnp.minimum(cap, jnp.maximum(net.cash_sold, 0.0))
        frac = jnp.where(net.cash_sold > 0, absorbed / jnp.maximum(net.cash_sold, 1e-300), 0.0)
        rest = 1.0 - frac
        for i, c in caps.items():
            shares[i][0] = frac * c / jnp.maximum(cap, 1e-300)
    for j, (impact, sold) in enumerate(
        zip((mk.impact_cash, mk.impact_futures, mk.impact_other), net, strict=True)
    ):
        slopes = {i: x for i, d in enumerate(depths) if (x := d[j]) is not None}
        idx = list(slopes)
        if not idx:
            raise ValueError(f"no participant takes the other side of market {Depth._fields[j]!r}")
        slope, sh = _combine(list(slopes.values()))
        if j == 0:
            sold = sold - absorbed
            step = slope * sold
            lim = [i for i in idx if depths[i].cash_limit is not None]
            if lim:
                limit = depths[lim[0]].cash_limit
                assert limit is not None and len(idx) > 1, "a capped taker needs another taker beside it"
                sh, step = _limited(slopes, slope, sh, sold, idx.index(lim[0]), limit)
            if caps:
                sh = [rest if x is None else x * rest for x in sh]
        else:
            step = slope * sold
            if j == 2:  # cross-asset impact among the other assets (Greenwood, Landier & Thesmar 2015)
                step = params.market.other_cross @ step
        for i, x in zip(idx, sh, strict=True):
            shares[i][j] = x
        moved.append(impact + mult * step)
    mk = mk._replace(impact_cash=moved[0], impact_futures=moved[1], impact_other=moved[2])
    return mk, [Depth(*x) for x in shares]
