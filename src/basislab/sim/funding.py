"""A funding market that sets the repo rate: reserves, ON RRP, the TGA, Treasury settlements, tax
dates, the Standing Repo Facility, and SOFR out of supply and demand.

Convention. Amounts in USD tn, rates in percent, spreads in basis points, one step = one business
day. The overnight repo spread to the rate on reserves (``SOFR - IORB``; IOER before 29 July 2021)
is read off a reserve demand curve (Afonso, Giannone, La Spada & Williams 2022, "Scarce,
Abundant, or Ample? A Time-Varying Model of the Reserve Demand Curve", FRBNY SR 1019: flat when
reserves are abundant, increasingly steep as they fall towards scarcity; the curve shifts over
time, so it is calibrated per regime):

    spread(x) = alpha + beta * exp(-gamma * (x - x_ref))                       [bp]

at the system's free liquidity

    x = R + w_rrp * RRP + fed_repo - settle_inventory - d_me * 1{month end} - d_qe * 1{quarter end}

* ``R``: reserve balances; ``RRP``: money funds' cash at the ON RRP, the marginal cash that moves
  into private repo first (weight ``w_rrp``, an assumption);
* ``settle_inventory``: new coupon securities that dealers finance in repo until they distribute
  them, ``inv_t = rho * inv_{t-1} + settlement_t`` (Fleming, Nguyen & Rosenberg, FRBNY SR 299:
  issuance drives dealers' inventory, laid off within about a week);
* month- and quarter-end drains: foreign banks and dealers shrink repo intermediation at
  reporting dates (Munyan 2017, "Regulatory Arbitrage in Repo Markets", OFR WP 15-22).

Tax dates and Treasury settlements reach ``R`` through the TGA (a rise in the TGA is a fall in
reserves, one for one). The rate is bounded below by the ON RRP rate (money funds do not lend
below it) and above, from 28 July 2021, by the SRF: when the spread exceeds the SRF rate plus a
stigma wedge, eligible dealers borrow from the Fed up to its capacity, which adds to ``x``
(``srf_params_2021``, ``srf_params_dec2025``). Before July 2021 there is no ceiling except the
Fed's repo operations (``fed_repo_ops_sep2019``), which enter ``x`` as ``fed_repo``.

``step`` is the engine kernel (stocks move by flows, then the market clears); ``replay`` runs
the same clearing on data levels (reserves, TGA, ON RRP, settlements): observed SOFR is never an
input, only the target of ``calibrate`` on a calm window and the check out of sample.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from basislab.errors import BasislabError

jax.config.update("jax_enable_x64", True)

Array = jax.Array

# --------------------------------------------------------------------------------------------
# configuration


def _f(default: Any, source: str, description: str = "", **kw: Any) -> Any:
    return Field(default, description=description, json_schema_extra={"source": source}, **kw)


#: Standing Repo Facility take-up on its record days (USD bn; market observations, FRBNY SRF
#: results as reported by Reuters: ``srf_record_oct31_2025``, ``srf_record_dec31_2025`` in
#: shared/reference/system-facts.md). 2025-10-31 is the calibration day (the SRF's design of the
#: time: afternoon auction, minimum bid at the top of the range); 2025-12-31 is the check out of
#: sample, after the 10 Dec 2025 redesign (morning window, full allotment: ``srf_params_dec2025``).
SRF_TAKEUP_BN: dict[str, float] = {"2025-10-31": 50.35, "2025-12-31": 74.6}

#: SRF minimum bid over IORB on those days (bp): the top of the target range, IORB + 10 bp
#: (``srf_params_2025h1``, ``srf_params_dec2025``: 4.00 vs 3.90 on 10-31, 3.75 vs 3.65 on 12-31).
SRF_SPREAD_BP = 10.0

#: Slope of the SRF's all-in cost in its take-up (bp per USD bn), from :func:`srf_slope_fit` on
#: 2025-10-31: (32 - 10 - 10) / 50.35 (``tests/sim/test_srf.py`` recomputes it from the data).
SRF_SLOPE_BP_PER_BN = 0.2383


def observed_sofr_iorb_bp(date: str) -> float:
    """SOFR - IORB (bp) on ``date`` from the shipped FRED series (SOFR, IORB)."""
    sofr = pd.read_csv(_data_file("fred_sofr_2021_2026.csv"), parse_dates=[0], index_col=0)["SOFR"]
    iorb = pd.read_csv(_data_file("fred_iorb_2021_2026.csv"), parse_dates=[0], index_col=0)["IORB"]
    day = pd.Timestamp(date)
    s = pd.to_numeric(sofr, errors="coerce").get(day)
    i = pd.to_numeric(iorb, errors="coerce").loc[:day].dropna()
    if s is None or not np.isfinite(s) or i.empty:
        raise BasislabError(f"no SOFR or IORB observation on {date} in the shipped FRED series")
    return float(round((s - i.iloc[-1]) * 100.0, 6))


def srf_slope_fit(date: str = "2025-10-31", wedge_bp: float = 10.0) -> float:
    """The SRF cost slope (bp per USD bn) whose ceiling ``SRF - IORB + wedge + slope q`` passes
    through the observed (take-up, SOFR - IORB) pair of ``date``: dealers borrow from the SRF until
    its all-in cost equals the market rate, so the observed pair is a point of that supply line.
    Market series only (SOFR, IORB, SRF take-up); the model's demand curve plays no part."""
    if date not in SRF_TAKEUP_BN:
        raise BasislabError(f"no SRF take-up observation for {date}; known: {sorted(SRF_TAKEUP_BN)}")
    return (observed_sofr_iorb_bp(date) - SRF_SPREAD_BP - wedge_bp) / SRF_TAKEUP_BN[date]


class FundingConfig(BaseModel):
    """Parameters of the funding market; each names its source or says ``assumption``."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    curve_floor_bp: float = _f(
        -4.383, "calibrated: SOFR-IOER, calm window 2018-04-03..2019-07-31 (FRED SOFR, IOER)", ge=-100, le=100
    )
    curve_scale_bp: float = _f(
        4.277, "calibrated: calm window 2018-04..2019-07 (Afonso et al. 2022 exponential form)", gt=0, le=1e4
    )
    curve_decay_per_tn: float = _f(
        4.137,
        "calibrated: calm window 2018-04..2019-07; Afonso et al. (2022) SR 1019 curvature",
        gt=0,
        le=500,
    )
    liquidity_ref_tn: float = _f(1.836, "median balance of the 2018-19 calibration window (FRED)", gt=0)
    onrrp_weight: float = _f(1.0, "assumption: ON RRP cash is the marginal private repo supply", ge=0, le=1)
    month_end_drain_tn: float = _f(
        0.0, "assumption (lever, off): window dressing, Munyan (2017) OFR WP 15-22", ge=0, le=1
    )
    quarter_end_drain_tn: float = _f(
        0.0, "assumption (lever, off): window dressing, Munyan (2017) OFR WP 15-22", ge=0, le=1
    )
    year_end_drain_tn: float = _f(0.0, "assumption (lever, off): GSIB year-end scores", ge=0, le=1)
    settle_persistence: float = _f(
        0.5, "assumption: half-life one day; Fleming, Nguyen & Rosenberg SR 299 (< 1 week)", ge=0, lt=1
    )
    srf_wedge_bp: float = _f(
        10.0, "assumption: stigma and non-central clearing of the SRF (SOFR 22 bp above SRF 2025-10-31)", ge=0
    )
    srf_capacity_tn: float = _f(0.5, "srf_params_2021 / srf_params_2023: USD 500bn aggregate limit", ge=0)
    srf_slope_bp_per_bn: float = _f(
        0.0,
        "calibrated on market series (preset 2025: SRF_SLOPE_BP_PER_BN, srf_slope_fit on 2025-10-31: "
        "(SOFR - IORB 32 bp - SRF 10 bp - wedge 10 bp) / 50.35bn take-up); 0 = a flat ceiling (2019: no SRF)",
        ge=0,
    )
    srf_central_clearing: float = _f(
        0.0,
        "lever (1 = on): SRF repo centrally cleared, so on-lending nets on the dealer's balance sheet "
        "and the balance-sheet slope goes (assumption: all of srf_slope_bp_per_bn; the wedge stays)",
        ge=0,
        le=1,
    )
    floor_offset_bp: float = _f(0.0, "assumption: SOFR does not trade below the ON RRP rate", ge=-20, le=20)
    scarcity_threshold_tn: float = _f(
        1.4953, "calibrated: lowest balance R + w RRP + Fed repo, calm window 2018-04..2019-07", ge=0
    )
    scarcity_slope_bp_per_bn: float = _f(
        10.0,
        "assumption: wall slope below the calm range, set with Sep 2019 in view (sensitivity 3-30)",
        ge=0,
        le=1000,
    )

    max_spread_bp: float = _f(
        1000.0,
        "assumption: neither the curve nor the wall is extrapolated beyond 10 points of SOFR - IORB "
        "(about 3x the 315 bp of 2019-09-17, the largest since 2018)",
        gt=0,
        le=1e5,
    )

    @classmethod
    def preset(cls, regime: str) -> FundingConfig:
        """``"2019"`` (the defaults: scarce reserves, no SRF) or ``"2025"`` (end of runoff, with
        the SRF): each calibrated by :func:`calibrate` on its own calm window (the curve moves
        over time, Afonso et al. 2022); ``tests/sim/test_funding.py`` re-runs both fits."""
        if regime == "2019":
            return cls()
        if regime == "2025":
            return cls(
                curve_floor_bp=-6.756, curve_scale_bp=0.1888, curve_decay_per_tn=8.313,
                liquidity_ref_tn=3.473, scarcity_threshold_tn=3.2517, scarcity_slope_bp_per_bn=0.0,
                srf_slope_bp_per_bn=SRF_SLOPE_BP_PER_BN,
            )  # fmt: skip
        raise BasislabError(f"unknown funding regime {regime!r}; expected '2019' or '2025'")

    def params(self) -> FundingParams:
        return FundingParams(
            *(jnp.asarray(float(getattr(self, n)), jnp.float64) for n in FundingParams._fields)
        )


class FundingParams(NamedTuple):
    """The config as float64 arrays (vmappable over scenarios)."""

    curve_floor_bp: Array
    curve_scale_bp: Array
    curve_decay_per_tn: Array
    liquidity_ref_tn: Array
    onrrp_weight: Array
    month_end_drain_tn: Array
    quarter_end_drain_tn: Array
    year_end_drain_tn: Array
    settle_persistence: Array
    srf_wedge_bp: Array
    srf_capacity_tn: Array
    srf_slope_bp_per_bn: Array
    srf_central_clearing: Array
    floor_offset_bp: Array
    scarcity_threshold_tn: Array
    scarcity_slope_bp_per_bn: Array
    max_spread_bp: Array


class FundingState(NamedTuple):
    """Stocks of the funding market (USD tn)."""

    reserves: Array  # bank reserve balances at the Fed
    onrrp: Array  # money funds' cash at the ON RRP
    tga: Array  # Treasury General Account
    settle_inventory: Array  # new coupon issues dealers still finance in repo
    srf_loans: Array  # SRF repo outstanding (overnight, repaid next morning)


class FundingDay(NamedTuple):
    """Exogenous inputs of one business day (rates in %, amounts USD tn, flags 0/1)."""

    iorb_pct: Array
    onrrp_rate_pct: Array
    srf_rate_pct: Array  # +inf where there is no SRF (before 2021-07-28)
    coupon_settlement: Array  # gross new coupon issues settling today
    treasury_net_receipts: Array  # TGA inflow: taxes + net issuance - outlays (reserves -> TGA)
    onrrp_change: Array  # money-fund cash moved into (+) or out of (-) the ON RRP
    fed_repo: Array  # Fed repo operations outstanding today (from basislab.sim.fed)
    month_end: Array
    quarter_end: Array
    year_end: Array


class FundingOutput(NamedTuple):
    sofr_pct: Array
    spread_bp: Array  # SOFR - IORB
    liquidity: Array  # x before the SRF
    srf_takeup: Array
    shortfall: Array  # balance below the scarcity threshold before the SRF, USD tn


#: Flows booked by :func:`step`, as (from, to, instrument); amounts in ``FundingFlows``.
FLOW_ROUTES: tuple[tuple[str, str, str], ...] = (
    ("banks", "issuer", "reserves"),  # Treasury net receipts: reserves -> TGA
    ("banks", "money_funds", "reserves"),  # ON RRP change (money funds' deposits leave banks)
    ("fed", "dealers", "cash"),  # SRF loans
    ("dealers", "fed", "cash"),  # repayment of yesterday's SRF loans
)


class FundingFlows(NamedTuple):
    amount: Array  # [len(FLOW_ROUTES)] USD tn, same order as FLOW_ROUTES


# --------------------------------------------------------------------------------------------
# kernels


def demand_curve(params: FundingParams, liquidity: Array) -> Array:
    """Spread (bp) of SOFR over IORB at free liquidity ``x`` (USD tn): Afonso et al. (2022)."""
    return params.curve_floor_bp + params.curve_scale_bp * jnp.exp(
        -params.curve_decay_per_tn * (liquidity - params.liquidity_ref_tn)
    )


def liquidity_needed(params: FundingParams, spread_bp: Array) -> Array:
    """Inverse of :func:`demand_curve`: the liquidity at which the spread equals ``spread_bp``.

    Below the curve's floor no finite liquidity reaches it; returns +inf there.
    """
    gap = spread_bp - params.curve_floor_bp
    safe = jnp.where(gap > 0, gap, 1.0)
    x = params.liquidity_ref_tn - jnp.log(safe / params.curve_scale_bp) / params.curve_decay_per_tn
    return jnp.where(gap > 0, x, jnp.inf)


def balance(params: FundingParams, state: FundingState, day: FundingDay) -> Array:
    """b = R + w RRP + Fed repo: the cash that can reach the repo market (USD tn)."""
    return state.reserves + params.onrrp_weight * state.onrrp + day.fed_repo


def scarcity_premium(params: FundingParams, bal: Array) -> Array:
    """Spread added below the calm range (bp): ``slope x max(0, threshold - b)`` in USD bn.

    A smooth curve fitted where reserves were ample says nothing about where they run out; the
    model does not extrapolate it: below the lowest balance at which the market was seen calm,
    each missing USD bn costs ``scarcity_slope_bp_per_bn`` (an assumption with a sensitivity row)."""
    return params.scarcity_slope_bp_per_bn * 1000.0 * jnp.maximum(params.scarcity_threshold_tn - bal, 0.0)


def free_liquidity(params: FundingParams, state: FundingState, day: FundingDay) -> Array:
    """x = R + w RRP + Fed repo - settlement inventory - reporting-date drains (USD tn); the
    month-, quarter- and year-end drains add up on a year end."""
    return (
        balance(params, state, day)
        - state.settle_inventory
        - params.month_end_drain_tn * day.month_end
        - params.quarter_end_drain_tn * day.quarter_end
        - params.year_end_drain_tn * day.year_end
    )


def clear(params: FundingParams, liquidity: Array, bal: Array, day: FundingDay) -> FundingOutput:
    """SOFR between the ON RRP floor and the SRF ceiling.

    ``spread = curve(x) + scarcity(b)``; where it exceeds ``SRF - IORB + wedge + slope q``
    eligible dealers take up ``q`` of the SRF, which adds one for one to ``x`` and ``b``, until the
    spread meets that rising ceiling or the facility's capacity is used (bisection on ``q``: the
    spread falls and the ceiling rises in it). The slope is the balance-sheet cost of on-lending
    from a facility that is not centrally cleared (each USD bn borrowed and lent on grosses up the
    dealer's leverage exposure, :func:`basislab.sim.dealing.exposure`); with the SRF centrally
    cleared (``srf_central_clearing = 1``) the two legs net and the slope is zero, while the
    fixed wedge (stigma) stays. Below: the ON RRP rate.
    """
    base = (day.srf_rate_pct - day.iorb_pct) * 100.0 + params.srf_wedge_bp
    slope = params.srf_slope_bp_per_bn * (1.0 - params.srf_central_clearing)

    def ceiling(q: Array) -> Array:
        return base + slope * 1000.0 * q

    def spread_at(q: Array) -> Array:
        raw = demand_curve(params, liquidity + q) + scarcity_premium(params, bal + q)
        return jnp.minimum(raw, params.max_spread_bp)

    def bisect(_: int, bounds: tuple[Array, Array]) -> tuple[Array, Array]:
        lo, hi = bounds
        mid = 0.5 * (lo + hi)
        above = spread_at(mid) > ceiling(mid)
        return jnp.where(above, mid, lo), jnp.where(above, hi, mid)

    cap = params.srf_capacity_tn
    zero = jnp.zeros_like(liquidity)
    lo, hi = jax.lax.fori_loop(0, 48, bisect, (zero, zero + cap))
    binding = spread_at(zero) > ceiling(zero)
    takeup = jnp.where(binding, jnp.where(spread_at(cap) > ceiling(cap), cap, hi), 0.0)
    floor = (day.onrrp_rate_pct - day.iorb_pct) * 100.0 + params.floor_offset_bp
    spread = jnp.maximum(spread_at(takeup), floor)
    shortfall = jnp.maximum(params.scarcity_threshold_tn - bal, 0.0)
    return FundingOutput(day.iorb_pct + spread / 100.0, spread, liquidity, takeup, shortfall)


def step(
    params: FundingParams, state: FundingState, day: FundingDay
) -> tuple[FundingState, FundingFlows, FundingOutput]:
    """One business day in two windows (Copeland, Duffie & Yang 2021, FRBNY SR 974: overnight repo
    trades early in the morning, before the day's large Fedwire payments). Morning: yesterday's
    SRF loans are repaid, today's coupon issues join dealers' financing need and the repo market
    clears on the opening reserves; the SRF lends. Afternoon: Treasury receipts (taxes, net
    issuance) move reserves into the TGA and money funds move cash to or from the ON RRP."""
    inventory = params.settle_persistence * state.settle_inventory + day.coupon_settlement
    opening = state._replace(reserves=state.reserves - state.srf_loans, settle_inventory=inventory)
    out = clear(params, free_liquidity(params, opening, day), balance(params, opening, day), day)
    receipts = day.treasury_net_receipts
    rrp_move = jnp.maximum(day.onrrp_change, -state.onrrp)
    new = FundingState(
        opening.reserves + out.srf_takeup - receipts - rrp_move,
        state.onrrp + rrp_move,
        state.tga + receipts,
        inventory,
        out.srf_takeup,
    )
    flows = FundingFlows(jnp.stack([receipts, rrp_move, out.srf_takeup, state.srf_loans]))
    return new, flows, out


def replay(params: FundingParams, days: FundingDay, reserves: Array, onrrp: Array) -> FundingOutput:
    """Clear the market on data levels of reserves and ON RRP (USD tn, one row per business day,
    the balances at the previous close, i.e. the morning's opening, as in :func:`step`); the
    settlement inventory is built from ``days.coupon_settlement`` as in :func:`step`."""

    def body(inv: Array, row: tuple[FundingDay, Array, Array]) -> tuple[Array, FundingOutput]:
        day, r, q = row
        inv = params.settle_persistence * inv + day.coupon_settlement
        state = FundingState(r, q, jnp.zeros_like(r), inv, jnp.zeros_like(r))
        return inv, clear(params, free_liquidity(params, state, day), balance(params, state, day), day)

    _, out = jax.lax.scan(body, jnp.zeros((), jnp.float64), (days, reserves, onrrp))
    return out


# --------------------------------------------------------------------------------------------
# data: inputs of the replay (levels of reserves, TGA, ON RRP; settlements; calendar)

#: the project's own shipped copies of the public series (src/basislab/data/snapshot/SOURCES.md)
_SNAPSHOT = Path(__file__).resolve().parents[1] / "data" / "snapshot"

#: Coupon auction sizes (USD bn) by original term, new issue / reopening. Source: Treasury
#: quarterly refunding statements (2019 and 2024-25 sizes, unchanged within each year); an input
#: used because the TreasuryDirect export carries no amounts before 2025 (assumption row).
AUCTION_SIZE_BN: dict[int, dict[str, tuple[int, int]]] = {
    2019: {
        "2": (40, 40), "3": (38, 38), "5": (41, 41), "7": (32, 32), "10": (27, 24), "20": (0, 0),
        "30": (19, 16), "frn": (18, 18), "tips": (14, 14),
    },
    2025: {
        "2": (69, 69), "3": (58, 58), "5": (70, 70), "7": (44, 44), "10": (42, 39), "20": (16, 13),
        "30": (25, 22), "frn": (28, 28), "tips": (20, 20),
    },
}  # fmt: skip


def _data_file(name: str) -> Path:
    """A shipped data file (never read from outside the package)."""
    path = _SNAPSHOT / name
    if not path.exists():
        raise BasislabError(f"funding data file {name} not found in {_SNAPSHOT}; reinstall basislab")
    return path


def _size_bn(term: str, year: int) -> float:
    table = AUCTION_SIZE_BN[2019 if year < 2022 else 2025]
    parts = term.replace("-", " ").split()
    years = int(parts[0]) if parts[1].startswith("Year") else 0
    months = int(parts[2]) if len(parts) > 2 else 0
    reopen = months > 0
    if years == 1 and months >= 9:
        key = "frn"
    elif reopen and months in (10, 6) and years in (4, 9, 29):
        key = "tips"
    else:
        key = min(("2", "3", "5", "7", "10", "20", "30"), key=lambda k: abs(int(k) - years - months / 12))
    new, reopened = table[key]
    return float(reopened if reopen else new)


def coupon_settlements(dates: pd.DatetimeIndex) -> pd.Series:
    """Gross coupon (note and bond) issuance settling on each date, USD tn."""
    auctions = pd.read_csv(_data_file("treasurydirect_auctions_1979_2025.csv"), encoding="utf-8-sig")
    auctions = auctions[auctions["Security Type"] != "Bill"]
    issue = pd.to_datetime(auctions["Issue Date"])
    size = [_size_bn(t, d.year) for t, d in zip(auctions["Security Term"], issue, strict=True)]
    by_day = pd.Series(size, index=issue).groupby(level=0).sum() / 1000.0
    by_day = by_day.loc[(by_day.index >= dates[0]) & (by_day.index <= dates[-1])]
    # an issue settling on a non-business day settles on the next business day
    pos = dates.searchsorted(by_day.index)
    keep = pos < len(dates)
    out = pd.Series(0.0, index=dates)
    np.add.at(out.values, pos[keep], by_day.values[keep])
    return out


def _tax_dates(dates: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Corporate estimated-tax due dates (IRS: 15 Apr, Jun, Sep, Dec; next business day)."""
    due = [pd.Timestamp(y, m, 15) for y in range(dates[0].year, dates[-1].year + 1) for m in (4, 6, 9, 12)]
    pos = dates.searchsorted(due)
    return dates[pos[pos < len(dates)]]


@dataclass(frozen=True)
class ReplayData:
    """Daily replay inputs and the observed spread (output, used only for fit and evaluation)."""

    frame: pd.DataFrame  # reserves, onrrp, fed_repo, settlement, iorb, onrrp_rate, srf_rate, flags, observed

    def days(self) -> FundingDay:
        f = self.frame
        a = lambda c: jnp.asarray(f[c].to_numpy(np.float64))  # noqa: E731
        zero = jnp.zeros(len(f))
        return FundingDay(
            a("iorb"), a("onrrp_rate"), a("srf_rate"), a("settlement"), zero, zero, a("fed_repo"),
            a("month_end"), a("quarter_end"), a("year_end"),
        )  # fmt: skip

    def levels(self) -> tuple[Array, Array]:
        return jnp.asarray(self.frame["reserves"].to_numpy()), jnp.asarray(self.frame["onrrp"].to_numpy())

    def window(self, start: str, end: str) -> ReplayData:
        return ReplayData(self.frame.loc[start:end])


def _reporting_flags(dates: pd.DatetimeIndex) -> dict[str, np.ndarray]:
    """1.0 on the last business day of each month, quarter and year."""
    s = pd.Series(dates, index=dates)
    last = s.groupby([dates.year, dates.month]).transform("max") == s
    return {
        "month_end": last.to_numpy(np.float64),
        "quarter_end": (last & (dates.month % 3 == 0)).to_numpy(np.float64),
        "year_end": (last & (dates.month == 12)).to_numpy(np.float64),
    }


def _tga_daily_2019(weekly: pd.Series, dates: pd.DatetimeIndex, events: pd.DatetimeIndex) -> pd.Series:
    """Daily TGA from Wednesday levels (FRED WTREGEN): within a week the change is placed on its
    tax or settlement days when there are any (the TGA steps on those dates), else spread evenly."""
    wk = weekly.dropna()
    out = pd.Series(np.nan, index=dates)
    for w0, w1 in zip(wk.index[:-1], wk.index[1:], strict=True):
        inside = dates[(dates > w0) & (dates <= w1)]
        if len(inside) == 0:
            continue
        delta = wk[w1] - wk[w0]
        ev = inside.isin(events)
        steps = np.where(ev, 1.0 / ev.sum(), 0.0) if ev.any() else np.full(len(inside), 1.0 / len(inside))
        out[inside] = wk[w0] + delta * np.cumsum(steps)
    return out.ffill().bfill()


#: Fed 14-day term repo operations of late September 2019 (USD bn, settlement date), absent from
#: the overnight series RPONTSYD: ``fed_repo_ops_sep2019`` (24 Sep, 30) and ``fed_repo_sep26_2019``
#: (26 Sep, 60), both in shared/reference.
FED_TERM_REPO_2019 = {"2019-09-24": 30.0, "2019-09-26": 60.0}


def fed_repo_available(overnight: pd.Series, term: dict[str, float], days: int = 10) -> pd.Series:
    """Fed repo that reaches the morning market, USD tn. Overnight operations count the same day
    once the programme is running (announced the day before, held at the open) and not on their
    first day (17 Sep 2019: the operation came after most of the day's trades); term operations
    are outstanding for ``days`` business days from the day after they settle."""
    running = overnight.shift(1).fillna(0.0) > 0
    out = overnight.where(running, 0.0).fillna(0.0)
    for day, amount in term.items():
        pos = overnight.index.searchsorted(pd.Timestamp(day))
        out.iloc[pos + 1 : pos + 1 + days] += amount
    return out / 1000.0


def load_2019(start: str = "2018-04-01", end: str = "2019-12-31") -> ReplayData:
    """2018-19 inputs from the FRED/FRBNY parquet: daily reserves = the month's average
    (TOTRESNS) plus the daily deviations of the autonomous factors (TGA and ON RRP, one for one)
    and minus the Fed's own repo (RPONTSYD), which enters separately (:func:`fed_repo_available`).
    Balances are the previous close (the morning's opening). Rates: IOER, ON RRP."""
    df = pd.read_parquet(_data_file("rates_repo_fed_balance_sheet_daily_1913_2025.parquet"))
    df = df.loc[start:end]
    obs = df["SOFR"].dropna()
    dates = pd.DatetimeIndex(obs.index)
    settle = coupon_settlements(dates)
    events = _tax_dates(dates).union(settle.index[settle > 0.02])
    tga_weekly = df["WTREGEN"].where(df.index.day_of_week == 2)
    tga = _tga_daily_2019(tga_weekly, pd.DatetimeIndex(df.index), events).reindex(dates) / 1000.0
    d = df.reindex(dates)
    rrp = d["RRPONTSYD"].fillna(0.0) / 1000.0
    fed = d["RPONTSYD"].fillna(0.0) / 1000.0
    fed_available = fed_repo_available(d["RPONTSYD"].fillna(0.0), FED_TERM_REPO_2019)
    month = dates.to_period("M")
    dev = lambda s: s - s.groupby(month).transform("mean")  # noqa: E731
    reserves = d["TOTRESNS"] / 1000.0 - dev(tga) - dev(rrp) - fed.groupby(month).transform("mean")
    frame = pd.DataFrame(
        {
            "reserves": reserves.shift(1), "onrrp": rrp.shift(1), "fed_repo": fed_available,
            "settlement": settle,
            "iorb": d["Interest_on_Reserves"], "onrrp_rate": d["ON_RRP_Facility_Rate"],
            "srf_rate": np.inf, **_reporting_flags(dates), "observed_bp": (obs - d["Interest_on_Reserves"]) * 100,
        },
        index=dates,
    )  # fmt: skip
    return ReplayData(frame.dropna())


def load_2025(start: str = "2024-07-01", end: str = "2026-06-23") -> ReplayData:
    """2024-26 inputs: weekly reserves (FRED WRESBAL, week average) plus the daily deviations of
    the TGA (Daily Treasury Statement closing balance) and ON RRP from their weekly means. SRF
    minimum bid = top of the target range = IORB + 10 bp in this period (srf_params_2025h1,
    srf_params_dec2025); ON RRP rate = IORB - 10 bp (bottom of the range)."""
    sofr = pd.read_csv(_data_file("fred_sofr_2021_2026.csv"), parse_dates=[0], index_col=0)["SOFR"]
    sofr = pd.to_numeric(sofr, errors="coerce").dropna().loc[start:end]
    dates = pd.DatetimeIndex(sofr.index)
    iorb = pd.read_csv(_data_file("fred_iorb_2021_2026.csv"), parse_dates=[0], index_col=0)["IORB"]
    rrp = pd.read_csv(_data_file("fred_onrrp_takeup_2021_2026.csv"), parse_dates=[0], index_col=0)[
        "RRPONTSYD"
    ]
    res = pd.read_csv(_data_file("fred_reserves_wresbal_2021_2026.csv"), parse_dates=[0], index_col=0)[
        "WRESBAL"
    ]
    dts = pd.read_csv(_data_file("fiscaldata_dts_operating_cash_balance_2021_2026.csv"), encoding="utf-8-sig")
    dts = dts[dts["Type of Account"].str.contains("Closing Balance", na=False)]
    tga = (
        pd.Series(
            pd.to_numeric(dts["Opening Balance Today"], errors="coerce").to_numpy(),
            index=pd.to_datetime(dts["Record Date"]),
        )
        .groupby(level=0)
        .last()
    )
    iorb = pd.to_numeric(iorb, errors="coerce").reindex(dates).ffill()
    rrp = pd.to_numeric(rrp, errors="coerce").reindex(dates).ffill().fillna(0.0) / 1000.0
    tga = tga.reindex(dates).ffill() / 1e6
    week = pd.Series(dates, index=dates).dt.to_period("W-TUE")  # Thursday..Wednesday, as WRESBAL
    weekly = pd.to_numeric(res, errors="coerce") / 1e6
    weekly.index = weekly.index.to_period("W-TUE")
    dev = lambda s: s - s.groupby(week).transform("mean")  # noqa: E731
    reserves = week.map(weekly).astype(float) - dev(tga) - dev(rrp)
    frame = pd.DataFrame(
        {
            "reserves": reserves.shift(1), "onrrp": rrp.shift(1), "fed_repo": 0.0,
            "settlement": coupon_settlements(dates),
            "iorb": iorb, "onrrp_rate": iorb - 0.10, "srf_rate": iorb + 0.10,
            **_reporting_flags(dates), "observed_bp": (sofr - iorb) * 100,
        },
        index=dates,
    )  # fmt: skip
    return ReplayData(frame.dropna())


# --------------------------------------------------------------------------------------------
# calibration and evaluation

_FIT = ("curve_floor_bp", "curve_scale_bp", "curve_decay_per_tn")


def calibrate(data: ReplayData, base: FundingConfig | None = None) -> FundingConfig:
    """Fit on a calm window. The curve (``alpha, beta, gamma``) by least squares on observed
    SOFR - IORB; the scarcity threshold is the window's lowest balance ``b``, so the wall lies
    outside the calm range by construction. The reporting-date drains and the wall's slope are
    kept from ``base`` (assumptions): left free, the drains soak up the curvature that the
    month-end coupon settlements identify, and the curve then fails out of sample."""
    from scipy.optimize import least_squares

    base = base or FundingConfig()
    f = data.frame
    bal = f["reserves"] + base.onrrp_weight * f["onrrp"] + f["fed_repo"]
    base = base.model_copy(
        update={"liquidity_ref_tn": float(np.median(bal)), "scarcity_threshold_tn": float(bal.min())}
    )
    days = data.days()
    r, q = data.levels()
    obs = f["observed_bp"].to_numpy()
    fn = jax.jit(lambda p: replay(p, days, r, q).spread_bp)

    def resid(theta: np.ndarray) -> np.ndarray:
        cfg = base.model_copy(update=dict(zip(_FIT, _values(theta), strict=True)))
        return np.clip(np.asarray(fn(cfg.params())), -1e4, 1e4) - obs

    x0 = np.array([float(np.median(obs)), 0.0, math.log(5.0)])
    fit = least_squares(resid, x0, bounds=([-50, -15, -3], [50, 8, 4.5]))
    return base.model_copy(update=dict(zip(_FIT, _values(fit.x), strict=True)))


def _values(theta: np.ndarray) -> tuple[float, float, float]:
    a, lb, lg = (float(v) for v in theta)
    return a, math.exp(lb), math.exp(lg)


class ReplayStats(NamedTuple):
    rmse_bp: float
    model_peak_bp: float
    model_peak_date: str
    observed_peak_bp: float
    observed_peak_date: str


def evaluate(cfg: FundingConfig, data: ReplayData) -> tuple[pd.DataFrame, ReplayStats]:
    """Model vs observed SOFR - IORB on a window: the table and RMSE / peaks."""
    r, q = data.levels()
    out = replay(cfg.params(), data.days(), r, q)
    table = pd.DataFrame(
        {
            "model_bp": np.asarray(out.spread_bp), "observed_bp": data.frame["observed_bp"],
            "liquidity_tn": np.asarray(out.liquidity), "shortfall_bn": 1000 * np.asarray(out.shortfall),
            "srf_bn": 1000 * np.asarray(out.srf_takeup),
        },
        index=data.frame.index,
    )  # fmt: skip
    err = table.model_bp - table.observed_bp
    stats = ReplayStats(
        float(np.sqrt((err**2).mean())),
        float(table.model_bp.max()),
        str(table.model_bp.idxmax().date()),
        float(table.observed_bp.max()),
        str(table.observed_bp.idxmax().date()),
    )
    return table, stats


#: The replay windows reported in docs/mechanisms.md: (regime, label, start, end).
REPLAY_WINDOWS: tuple[tuple[str, str, str, str], ...] = (
    ("2019", "calm 2018-04..2019-07 (fit)", "2018-04-03", "2019-07-31"),
    ("2019", "calm 2019 H1 (fit)", "2019-01-02", "2019-06-28"),
    ("2019", "Sep 2019 (out of sample)", "2019-09-03", "2019-09-30"),
    ("2019", "Aug-Oct 2019 (out of sample)", "2019-08-01", "2019-10-31"),
    ("2025", "calm 2024-07..2025-08 (fit)", "2024-07-01", "2025-08-29"),
    ("2025", "Sep-Dec 2025 (out of sample)", "2025-09-02", "2025-12-31"),
    ("2025", "2026 H1 (out of sample)", "2026-01-02", "2026-06-23"),
)


def summary() -> pd.DataFrame:
    """Model vs observed SOFR - IORB on each replay window with the shipped presets (bp)."""
    data = {"2019": load_2019(), "2025": load_2025()}
    rows = []
    for regime, label, start, end in REPLAY_WINDOWS:
        _, st = evaluate(FundingConfig.preset(regime), data[regime].window(start, end))
        rows.append({"window": label, **st._asdict()})
    return pd.DataFrame(rows).set_index("window")


if __name__ == "__main__":  # python -m basislab.sim.funding: the replay table
    print(summary().round(1).to_string())
