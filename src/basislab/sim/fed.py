"""The Federal Reserve as policy levers, each with a trigger on an observable stress and a delay
in hours: outright Treasury purchases with a daily capacity, repo operations, the Standing Repo
Facility, the SLR exemption, and a lender of last resort to funds.

Convention. USD bn; rates in percent, stress measures in basis points; time in hours from the
start of the run, 24 hours per business day (weekends are not counted), two settlement windows a
day: the morning repo / margin window at ``morning_hour`` and the end-of-day window at
``eod_hour`` (docs/model.md section 3).

A lever ``j`` watches a stress measure ``s_j`` (SOFR - IORB, the cash-futures basis, price
impact: whatever the engine passes, in bp) and is *triggered* the first window where
``s_j >= threshold_j``; it *acts* from the first window at or after ``trigger + delay_j`` hours.
A delay of 4 hours after a morning trigger acts at that day's end-of-day window; 8 hours after,
the next morning. Once on, a lever stays on for the run (the Fed's 2020 programmes did). A
lever with ``enabled = 0`` never acts; a threshold of ``-inf`` makes it standing from the start.

What each does when on:
* purchases: a clearing participant that buys up to ``daily_capacity x window_share`` per window,
  split across buckets (March 2020: up to USD 75bn a day, ``fed_purchase_pace_peak``; maturity
  split ``fed_purch_mar19_2020``), at any non-negative concession (a reverse auction taking the
  cheapest offers);
* repo operations: full allotment at ``rate = IORB + spread`` up to a capacity per day
  (``fed_repo_ops_sep2019``: USD 75bn; ``fed_repo_mar20_2020``: 1tn) - passed to
  :mod:`basislab.sim.funding` as a ceiling like the SRF;
* SRF: standing from 28 July 2021 at the top of the target range, USD 500bn (``srf_params_2021``),
  primary dealers and banks only (``srf_eligibility``: hedge funds reach it through dealers);
* SLR exemption: the lever of :mod:`basislab.sim.dealers` (``slr_exemption_2020``);
* lender of last resort to funds: the counterfactual of model-equations.md section 5, cash
  against the trade at ``ltv`` of its cash Treasuries, now with its own trigger and delay.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from pydantic import BaseModel, ConfigDict, Field

jax.config.update("jax_enable_x64", True)

Array = jax.Array

LEVERS = ("purchases", "repo_ops", "slr_exemption", "lolr")
#: March 2020 purchase split (fed_purch_mar19_2020, ex TIPS) onto the buckets 2y, 5y, 10y, long:
#: 0-2.25y 25; 2.25-7y 17 + 11; 7-20y 6; 20-30y 9 (USD bn per day).
PURCHASE_SPLIT_MAR2020 = (25.0, 28.0, 6.0, 9.0)
INF = float("inf")


def _f(default: Any, source: str, **kw: Any) -> Any:
    return Field(default, json_schema_extra={"source": source}, **kw)


class LeverConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=True)

    enabled: bool = True
    threshold_bp: float = Field(
        json_schema_extra={"source": "assumption: stress level that triggers the lever"}
    )
    delay_hours: float = Field(ge=0, json_schema_extra={"source": "assumption: hours from trigger to action"})


class FedConfig(BaseModel):
    """Levers and their terms; every value names its source or says ``assumption``."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=True)

    morning_hour: float = _f(9.0, "docs/model.md section 3: morning repo / IM window", ge=0, lt=24)
    eod_hour: float = _f(16.0, "docs/model.md section 3: end-of-day VM window (CME settlement)", ge=0, lt=24)
    purchases: LeverConfig = LeverConfig(threshold_bp=100.0, delay_hours=24.0)
    repo_ops: LeverConfig = LeverConfig(threshold_bp=50.0, delay_hours=4.0)
    slr_exemption: LeverConfig = LeverConfig(threshold_bp=100.0, delay_hours=240.0)
    lolr: LeverConfig = LeverConfig(enabled=False, threshold_bp=100.0, delay_hours=4.0)
    purchase_capacity_bn_per_day: float = _f(
        75.0, "fed_purchase_pace_peak: USD 75bn a day, 19 Mar-1 Apr 2020", ge=0
    )
    purchase_split: tuple[float, ...] = _f(PURCHASE_SPLIT_MAR2020, "fed_purch_mar19_2020 (ex TIPS)")
    purchase_morning_share: float = _f(
        0.5, "assumption: operations ran late morning and early afternoon; half each window", ge=0, le=1
    )
    repo_ops_capacity_bn: float = _f(75.0, "fed_repo_ops_sep2019: USD 75bn a day offered", ge=0)
    repo_ops_spread_bp: float = _f(0.0, "fed_repo_ops_sep2019: minimum bid near IOER (assumption)")
    srf_from_hours: float = _f(INF, "srf_params_2021: standing from 2021-07-28 (inf: before it)")
    srf_capacity_bn: float = _f(500.0, "srf_params_2021: USD 500bn aggregate", ge=0)
    srf_spread_bp: float = _f(10.0, "srf_params_2025h1: minimum bid = top of range = IORB + 10bp")
    lolr_ltv: float = _f(
        0.10, "assumption: backstop lends 10% of cash Treasuries (docs/model.md 6)", ge=0, le=1
    )
    lolr_spread_bp: float = _f(25.0, "assumption: SOFR + 25bp (docs/model.md 6)", ge=0)

    def params(self) -> FedParams:
        s = lambda v: jnp.asarray(float(v), jnp.float64)  # noqa: E731
        levers = [getattr(self, n) for n in LEVERS]
        split = jnp.asarray(self.purchase_split, jnp.float64)
        return FedParams(
            enabled=jnp.asarray([1.0 if lv.enabled else 0.0 for lv in levers]),
            threshold_bp=jnp.asarray([lv.threshold_bp for lv in levers], jnp.float64),
            delay_hours=jnp.asarray([lv.delay_hours for lv in levers], jnp.float64),
            morning_hour=s(self.morning_hour), eod_hour=s(self.eod_hour),
            purchase_capacity=s(self.purchase_capacity_bn_per_day) * split / split.sum(),
            purchase_morning_share=s(self.purchase_morning_share),
            repo_ops_capacity=s(self.repo_ops_capacity_bn), repo_ops_spread_bp=s(self.repo_ops_spread_bp),
            srf_from_hours=s(self.srf_from_hours), srf_capacity=s(self.srf_capacity_bn),
            srf_spread_bp=s(self.srf_spread_bp), lolr_ltv=s(self.lolr_ltv), lolr_spread_bp=s(self.lolr_spread_bp),
        )  # fmt: skip


class FedParams(NamedTuple):
    enabled: Array  # [4] per lever (LEVERS order)
    threshold_bp: Array  # [4]
    delay_hours: Array  # [4]
    morning_hour: Array
    eod_hour: Array
    purchase_capacity: Array  # [K] USD bn per day by bucket
    purchase_morning_share: Array
    repo_ops_capacity: Array
    repo_ops_spread_bp: Array
    srf_from_hours: Array
    srf_capacity: Array
    srf_spread_bp: Array
    lolr_ltv: Array
    lolr_spread_bp: Array


class FedState(NamedTuple):
    """Trigger clocks and the Fed's balance sheet (USD bn)."""

    triggered_at: Array  # [4] hours, +inf until triggered
    treasuries: Array  # [K] bought outright (face value at market, as booked)
    repo_lent: Array  # repo operations + SRF outstanding
    lolr_loans: Array  # lender-of-last-resort loans to funds
    reserves_created: Array  # liabilities: reserves the Fed's lending and purchases created


def init_state(buckets: int = 4) -> FedState:
    z = jnp.zeros((), jnp.float64)
    return FedState(jnp.full((len(LEVERS),), jnp.inf), jnp.zeros((buckets,)), z, z, z)


def window_hour(params: FedParams, day: Array, window: Array) -> Array:
    """Clock time (hours from the start) of window ``window`` (0 morning, 1 end of day) of ``day``."""
    return 24.0 * day + jnp.where(window == 0, params.morning_hour, params.eod_hour)


def observe(params: FedParams, state: FedState, now: Array, stress_bp: Array) -> FedState:
    """Start the clock of each enabled lever whose stress measure (``[4]`` bp, LEVERS order) is at
    or above its threshold for the first time."""
    hit = (params.enabled > 0) & (stress_bp >= params.threshold_bp)
    return state._replace(triggered_at=jnp.minimum(state.triggered_at, jnp.where(hit, now, jnp.inf)))


def active(params: FedParams, state: FedState, now: Array) -> Array:
    """1.0 for each lever acting at clock time ``now`` (trigger + delay has passed), ``[4]``."""
    return ((params.enabled > 0) & (now >= state.triggered_at + params.delay_hours)).astype(jnp.float64)


def purchase_capacity(params: FedParams, state: FedState, now: Array, window: Array) -> Array:
    """USD bn per bucket the Fed buys in this window if offered ``[K]`` (zero while inactive)."""
    share = jnp.where(window == 0, params.purchase_morning_share, 1.0 - params.purchase_morning_share)
    return active(params, state, now)[0] * share * params.purchase_capacity


def purchase_demand(
    params: FedParams, state: FedState, now: Array, window: Array, concession_bp: Array
) -> Array:
    """Demand schedule as a clearing participant: the window's capacity at any non-negative
    concession, nothing below (the Fed does not bid above the market)."""
    return jnp.where(concession_bp >= 0.0, purchase_capacity(params, state, now, window), 0.0)


def funding_terms(params: FedParams, state: FedState, now: Array, iorb_pct: Array) -> tuple[Array, Array]:
    """(rate %, capacity USD tn) of the Fed's cheapest standing repo source at ``now`` for
    :class:`basislab.sim.funding.FundingDay` / its SRF ceiling: the repo operations when on,
    else the SRF once it exists (+inf rate and 0 capacity before either)."""
    ops_on = active(params, state, now)[1] > 0
    srf_on = now >= params.srf_from_hours
    ops_rate = iorb_pct + params.repo_ops_spread_bp / 100.0
    srf_rate = iorb_pct + params.srf_spread_bp / 100.0
    rate = jnp.minimum(jnp.where(ops_on, ops_rate, jnp.inf), jnp.where(srf_on, srf_rate, jnp.inf))
    cap = jnp.where(ops_on, params.repo_ops_capacity, 0.0) + jnp.where(srf_on, params.srf_capacity, 0.0)
    return rate, cap / 1000.0


def slr_exempt(params: FedParams, state: FedState, now: Array) -> Array:
    """The SLR-exemption flag for :meth:`basislab.sim.dealers.DealerConfig.params` (1.0 when on)."""
    return active(params, state, now)[2]


def lolr_room(params: FedParams, state: FedState, now: Array, collateral_value: Array, owed: Array) -> Array:
    """Cash a fund can still draw from the lender of last resort: ``ltv x collateral - owed``
    while the lever acts, else zero (per fund, any shape)."""
    room = jnp.maximum(params.lolr_ltv * collateral_value - owed, 0.0)
    return active(params, state, now)[3] * room


#: Flows booked by :func:`book` (from, to, instrument); amounts in :class:`FedFlows`.
FLOW_ROUTES: tuple[tuple[str, str, str], ...] = (
    ("sellers", "fed", "bonds"),  # outright purchases, per bucket
    ("fed", "sellers", "reserves"),
    ("fed", "dealers", "repo_cash"),  # repo operations and SRF, net change
    ("fed", "funds", "lolr_cash"),  # lender of last resort, net change
)


class FedFlows(NamedTuple):
    bonds_bought: Array  # [K] market value
    cash_for_bonds: Array  # scalar
    repo_change: Array
    lolr_change: Array


def book(
    state: FedState, bought: Array, repo_outstanding: Array, lolr_outstanding: Array
) -> tuple[FedState, FedFlows]:
    """Book a window's Fed operations: outright purchases ``bought`` ``[K]`` (market value), the
    new repo and LOLR balances; each dollar lent or paid creates a dollar of reserves, so assets
    (Treasuries + repo + LOLR) minus reserves created stays at its initial value."""
    repo_change = repo_outstanding - state.repo_lent
    lolr_change = lolr_outstanding - state.lolr_loans
    paid = bought.sum()
    new = state._replace(
        treasuries=state.treasuries + bought,
        repo_lent=repo_outstanding,
        lolr_loans=lolr_outstanding,
        reserves_created=state.reserves_created + paid + repo_change + lolr_change,
    )
    return new, FedFlows(bought, paid, repo_change, lolr_change)


def balance_sheet_expansion(state: FedState) -> Array:
    """USD bn added to the Fed's balance sheet since the start (Treasuries + repo + LOLR)."""
    return state.treasuries.sum() + state.repo_lent + state.lolr_loans
