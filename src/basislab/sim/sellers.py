"""Other sellers in a dash for cash: foreign official and private investors, bond mutual funds
meeting redemptions, and money-market funds' flows, driven by a dollar-funding stress index and
selling into the same clearing as the basis funds (supply schedules).

Convention. USD bn; one step = one business day; buckets 2y, 5y, 10y, long.

Dollar-funding stress index (each component scaled to its March 2020 extreme, equal weights, an
assumption):

    S = mean( max(0, SOFR-IORB)/scale_repo, max(0, -equity return from peak)/0.34,
              max(0, IG spread change)/200bp )

(``spx_path_2020``: -33.9% peak to trough; ``ig_hy_spreads_mar2020``: IG +202 bp; the repo
scale an assumption). A seller's planned sale on a day is ``rate x S`` (USD bn a day at S = 1),
once its trigger is met, until its cap; at ``S = 1`` for the seventeen business days of March 2020
after the 9th the rates reproduce the month's flows of *these* sellers (never the hedge funds'):

* foreign investors: about USD 300bn net in March 2020 (TIC, issue 10), of which official
  accounts over USD 100bn in three weeks (``foreign_custody_3wk``); official selling stops being
  needed once the FIMA repo facility runs (``fima_2020``, 6 April 2020: a lever);
* bond mutual funds: USD 101bn of Treasuries in March 2020 (ICI survey, ``mf_treasury_sales_mar2020``),
  selling only after the dislocation began (``mf_timing_mar2020``: a trigger on S);
* money funds: government funds +USD 790bn, prime -160bn in March 2020 (``mmf_flows_mar2020_crane``):
  government inflows are cash for repo and bills (a flow to :mod:`basislab.sim.funding`), prime
  outflows sell CP and CDs, not Treasuries (``prime_mmf_behaviour``).

The supply schedule of a need-driven seller is inelastic up to a reservation concession: it sells
its plan at any concession up to ``max_concession_bp`` and nothing beyond (it would rather draw on
an alternative: FIMA repo, a credit line, cash).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from pydantic import BaseModel, ConfigDict, Field

jax.config.update("jax_enable_x64", True)

Array = jax.Array

#: business days of March 2020 from the 9th to the 31st (the calibration horizon)
MARCH_2020_STRESS_DAYS = 17
#: March 2020 peak Fed purchase split used as the maturity mix of foreign and fund sales
#: (fed_purch_mar19_2020, ex TIPS), an assumption: 2y, 5y, 10y, long
SALE_MIX = (25.0 / 68, 28.0 / 68, 6.0 / 68, 9.0 / 68)


def _f(default: Any, source: str, **kw: Any) -> Any:
    return Field(default, json_schema_extra={"source": source}, **kw)


class SellerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    repo_scale_bp: float = _f(100.0, "assumption: SOFR-IORB of 100 bp counts as March-2020-sized", gt=0)
    equity_scale: float = _f(0.34, "spx_path_2020: -33.9% peak to trough (19 Feb-23 Mar 2020)", gt=0)
    credit_scale_bp: float = _f(200.0, "ig_hy_spreads_mar2020: IG 101 -> 303 bp", gt=0)
    foreign_official_cap_bn: float = _f(110.0, "foreign_custody_3wk: > USD 100bn in three weeks", ge=0)
    foreign_total_cap_bn: float = _f(
        300.0, "TIC March 2020: about USD 300bn net foreign sales (issue 10)", ge=0
    )
    mutual_fund_cap_bn: float = _f(
        101.0, "mf_treasury_sales_mar2020: ICI survey, USD 101bn (range 101-260)", ge=0
    )
    mutual_fund_trigger: float = _f(
        0.5, "mf_timing_mar2020: they sold after the dislocation began (assumption)", ge=0
    )
    max_concession_bp: float = _f(
        1e6, "assumption: need-driven sellers are inelastic (set lower to let them wait)", gt=0
    )
    gov_mmf_inflow_bn: float = _f(
        790.0, "mmf_flows_mar2020_crane: government MMFs +USD 790.4bn in March", ge=0
    )
    prime_mmf_outflow_bn: float = _f(160.0, "mmf_flows_mar2020_crane: prime MMFs -USD 159.6bn in March", ge=0)

    def params(self, fima: bool = False) -> SellerParams:
        days = float(MARCH_2020_STRESS_DAYS)
        a = lambda v: jnp.asarray(float(v))  # noqa: E731
        official = self.foreign_official_cap_bn
        return SellerParams(
            scales=jnp.asarray([self.repo_scale_bp, self.equity_scale, self.credit_scale_bp]),
            rate=jnp.asarray([official, self.foreign_total_cap_bn - official, self.mutual_fund_cap_bn])
            / days,
            cap=jnp.asarray([official, self.foreign_total_cap_bn - official, self.mutual_fund_cap_bn]),
            trigger=jnp.asarray([0.0, 0.0, self.mutual_fund_trigger]),
            max_concession_bp=a(self.max_concession_bp),
            mix=jnp.asarray(SALE_MIX),
            mmf_rate=jnp.asarray([self.gov_mmf_inflow_bn, -self.prime_mmf_outflow_bn]) / days,
            fima=a(1.0 if fima else 0.0),
        )


#: seller groups, in the order of SellerParams.rate
GROUPS = ("foreign_official", "foreign_private", "mutual_funds")


class SellerParams(NamedTuple):
    scales: Array  # [3] repo bp, equity fraction, credit bp
    rate: Array  # [G] USD bn a day at S = 1
    cap: Array  # [G] USD bn in total
    trigger: Array  # [G] S at which a group starts (and then keeps) selling
    max_concession_bp: Array
    mix: Array  # [K] maturity mix of sales
    mmf_rate: Array  # [2] government inflow, prime outflow (negative), USD bn a day at S = 1
    fima: Array  # lever: 1.0 once the FIMA repo facility runs (official selling stops)


class SellerState(NamedTuple):
    sold: Array  # [G] cumulative USD bn
    started: Array  # [G] 1.0 once triggered
    holdings: Array  # [G, K] Treasuries left (market value)
    cash: Array  # [G] dollars raised


def stress_index(
    params: SellerParams, sofr_iorb_bp: Array, equity_drawdown: Array, ig_change_bp: Array
) -> Array:
    """S: the mean of the three components, each scaled to its March 2020 extreme."""
    parts = jnp.stack([sofr_iorb_bp, equity_drawdown, ig_change_bp], axis=-1) / params.scales
    return jnp.mean(jnp.maximum(parts, 0.0), axis=-1)


def plan(params: SellerParams, state: SellerState, stress: Array) -> tuple[SellerState, Array]:
    """Each group's planned sale today ``[G, K]``: ``rate x S`` once triggered, within its cap and
    holdings; official selling stops while the FIMA lever is on."""
    started = jnp.maximum(state.started, (stress >= params.trigger) * 1.0)
    want = params.rate * stress * started
    want = want.at[0].multiply(1.0 - params.fima)
    want = jnp.minimum(want, jnp.maximum(params.cap - state.sold, 0.0))
    by_bucket = jnp.minimum(want[:, None] * params.mix, state.holdings)
    return state._replace(started=started), by_bucket


def supply(params: SellerParams, planned: Array, concession_bp: Array) -> Array:
    """Supply schedule as a clearing participant: the plan at any concession up to the reservation
    concession, nothing beyond."""
    return jnp.where(concession_bp <= params.max_concession_bp, planned, 0.0)


def mmf_flows(params: SellerParams, stress: Array) -> Array:
    """Money funds' flows today (USD bn): [government inflow (cash for repo and bills), prime
    outflow (negative; sells CP/CD, not Treasuries)]."""
    return params.mmf_rate * stress


#: Flows booked by :func:`book` (from, to, instrument).
FLOW_ROUTES: tuple[tuple[str, str, str], ...] = (
    ("sellers", "buyers", "bonds"),
    ("buyers", "sellers", "cash"),
)


def book(state: SellerState, sold: Array, price: Array) -> tuple[SellerState, Array]:
    """Book the sales that cleared ``[G, K]`` (market value) at ``price`` ``[K]`` (per 100, for the
    record): holdings down, cash up, cumulative sold up. Returns the bonds-for-cash flow ``[G, K]``."""
    del price
    new = SellerState(
        state.sold + sold.sum(-1), state.started, state.holdings - sold, state.cash + sold.sum(-1)
    )
    return new, sold


# --------------------------------------------------------------------------------------------
# the dash for cash across assets: a pecking order and cross-asset price impact


#: Assets of the dash for cash, in the order a seller short of dollars sells them (most liquid
#: first): Treasuries were sold as the most liquid asset in March 2020 (ICI: mutual funds sold
#: Treasuries to meet redemptions, ``mf_treasury_sales_mar2020``), then credit, then equities.
ASSETS = ("treasuries", "credit", "equities")
#: S&P 500 over 9-18 March 2020 (issue 10: about -12.7%): an input option for the equities
#: leg's exogenous log return over that window (``spx_daily_mar2020`` gives daily shocks).
SPX_MAR9_18_2020 = -0.127


def pecking_order(need: Array, holdings: Array, discount: Array) -> tuple[Array, Array]:
    """Sell assets in order (``holdings[..., A]`` in market value, ``discount[A]`` the fraction
    lost to a quick sale) until ``need`` (USD bn of cash) is raised. Returns (market value sold per
    asset ``[..., A]``, cash still missing): each asset yields ``(1 - discount)`` per dollar."""
    per = 1.0 - discount
    capacity = holdings * per
    before = jnp.cumsum(capacity, axis=-1) - capacity  # cash raised by the assets earlier in order
    cash_from = jnp.clip(need[..., None] - before, 0.0, capacity)
    sold = cash_from / per
    return sold, jnp.maximum(need - capacity.sum(-1), 0.0)


def asset_returns(exogenous: Array, sold: Array, depth: Array, cross: Array) -> Array:
    """Log returns of the assets ``[A]``: an exogenous move (e.g. the observed equity fall) plus
    price impact of aggregate sales ``sold[A]`` (USD bn): ``-C (sold / depth)``, with ``C`` the
    cross-impact matrix (1 on the diagonal; off-diagonal the share of one market's selling
    pressure felt in another, as in Greenwood, Landier & Thesmar 2015's second round). ``depth``
    is USD bn per unit log move (Cont & Schaanning 2017 market depth)."""
    return exogenous - cross @ (sold / depth)
