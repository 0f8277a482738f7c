"""Episode replays: the simulator run through five known episodes, sized, priced and fed from the
data store point in time (:mod:`basislab.data.episodes`).

Presets ``calm-2019h1``, ``sep-2019``, ``mar-2020``, ``apr-2025`` and ``late-2025``. Each run starts
20 US government-bond business days before its window, at the end of the run-start day:

* **initial conditions** (known by the end of the run-start day, :func:`basislab.data.feeds.initial_conditions`):
  the book (leveraged funds' net futures shorts by bucket, CFTC), SOFR and IORB; the calm yield
  volatility of each bucket (standard deviation of the daily par-yield changes over the 60 business
  days up to the run start); each bucket's cheapest to deliver, represented by a par bond (coupon the
  par yield rounded to 1/8, maturity at the contract's representative CTD term, :mod:`basislab.data.catalog`);
* **inputs** (news and policy as they happened, never a model output): the *fundamental part* of
  yield moves, taken as ``news_share`` (an assumption, fitted by ``basislab calibrate``) of the daily
  par-curve change of the bucket's tenor (2y, 5y, 10y, 30y) as the scenario's ``dy`` path; the model's
  own price impact comes on top. Equity moves (March 2020: S&P 500 -12.7% over 10-18 March) as the
  funds' other assets' exogenous return. The funding market's and the Fed's inputs as they happened
  (:mod:`basislab.sim.episode_inputs`: administered rates, coupon settlements, the TGA's and the
  ON RRP's daily changes, the Fed's repo operations and outright purchases, reporting dates, and
  the opening reserves, ON RRP and TGA published by the run start) fill ``params.funding`` and
  ``params.fed.scheduled_purchases`` (:data:`INPUT_STATUS`);
* **outputs** (never fed back): cash and futures prices after impact, the basis and implied repo,
  SOFR and SOFR - IORB, SRF take-up, dealers' SLR utilisation, positions (futures bought back,
  cash sold), defaults; validated by :mod:`basislab.sim.validate`
  against the observed series of :mod:`basislab.data.episodes`.

Every episode runs on the same static shape (:data:`COMMON_STEPS` days, :data:`DEFAULT_FUNDS`
funds, :data:`DEFAULT_PATHS` paths), padded to the engine's buckets (:func:`run`,
:func:`basislab.sim.engine.pad`: 128 funds x 256 days), so one compilation of the episode runner
serves all five presets, the counterfactuals, the calibration and other fund counts of the bucket.
The days after the window carry no news (the futures deliver on the last day: the model's single
contract cycle).
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from basislab.data.validate import DataWarning
from basislab.errors import ScenarioError

#: Business days of every episode run (the longest, calm-2019h1, has 144 days to its window end).
COMMON_STEPS = 160
DEFAULT_FUNDS = 100
DEFAULT_PATHS = 32
CALM_VOL_DAYS = 60
#: bucket -> (par-curve tenor of its news, futures root of its CTD)
BUCKET_TENOR = {"2y": "2y", "5y": "5y", "10y": "10y", "long": "30y"}
BUCKET_ROOT = {"2y": "TU", "5y": "FV", "10y": "TY", "long": "US"}
#: CFTC contracts in each bucket (the data layer's mapping)
BUCKET_CONTRACTS = {"2y": ("TU",), "5y": ("FV",), "10y": ("TY", "TN"), "long": ("US", "UB")}
CONTRACT_FACE_USD = {
    "TU": 200_000.0,
    "FV": 100_000.0,
    "TY": 100_000.0,
    "TN": 100_000.0,
    "US": 100_000.0,
    "UB": 100_000.0,
}

#: What each input does in the engine (all consumed; :mod:`basislab.sim.episode_inputs` builds the
#: funding market's and the Fed's from the store, point in time).
INPUT_STATUS = {
    "par_curve_change_bp": "consumed: news_share x daily change -> market.dy per bucket",
    "equity_move": "consumed: log return spread over the stated days -> market.dother[:, 0] (equities)",
    "credit_move": "consumed: -D x spread change spread over the stated days -> market.dother[:, 1] (credit)",
    "fed_treasury_holdings_change_usd_bn": "consumed: the Fed's outright purchases as they happened -> "
    "fed.scheduled_purchases [T, K] (weekly H.4.1 increase spread over the week, split 25/28/6/9)",
    "fed_repo_operations_usd_bn": "consumed: the Fed's repo operations outstanding -> funding.days.fed_repo",
    "reserves_usd_bn": "consumed: reserves published by the run start -> funding.reserves0",
    "tga_usd_bn": "consumed: TGA at the run start -> funding.tga0; its daily change -> "
    "funding.days.treasury_net_receipts",
    "tax_dates": "consumed: the days on which a week's TGA change is placed (before daily TGA data)",
    "coupon_settlements": "consumed: notes and bonds settling -> funding.days.coupon_settlement",
    "administered_rates": "consumed: IORB/IOER, ON RRP and SRF rates -> funding.days",
    "onrrp_takeup_usd_bn": "consumed: ON RRP at the run start -> funding.onrrp0; its daily change -> "
    "funding.days.onrrp_change",
}
#: Model outputs of a replay (never inputs).
OUTPUTS = {
    "sofr_minus_iorb_bp": "SOFR minus IORB from the funding market, bp",
    "srf_takeup_usd_bn": "Standing Repo Facility take-up, USD bn (from 2021-07-28)",
    "fed_treasury_purchases": "the Fed's outright purchases at market, USD bn a day (as happened + levers)",
    "dealer_slr_utilisation": "largest dealer's leverage exposure / capacity under the SLR",
    "cash_price": "CTD clean price after impact, per 100 (per bucket)",
    "futures_price": "futures price after impact, per 100 (per bucket)",
    "implied_repo_minus_sofr_bp": "implied repo of the CTD from the simulated prices minus SOFR, bp",
    "futures_short_change_contracts": "weekly change of the funds' futures shorts, contracts",
    "sold_unwind": "cash Treasuries sold by funds, USD bn",
    "new_defaults": "fund defaults",
}


@dataclass(frozen=True)
class Tolerance:
    """Pass/fail rule of one validated series (written before any run; see docs/calibration.md).

    ``rmse_ratio``: RMSE below this multiple of the observed series' root mean square (1.0 = better
    than predicting no move at all); ``peak_ratio``: the model's peak within (strictly) this
    fraction of the observed peak; ``timing_days``: the peaks within this many business days
    (weeks for weekly series)."""

    rmse_ratio: float
    peak_ratio: float
    timing_days: int


_TOL_CALM = {
    "futures_path": Tolerance(0.5, 0.5, 15),
    "lev_short_change": Tolerance(1.0, 1.0, 8),
    "sofr_minus_iorb": Tolerance(1.0, 1.0, 20),
    "fed_treasury_holdings": Tolerance(0.5, 0.5, 8),
}
_TOL_STRESS = {
    "futures_path": Tolerance(0.5, 0.5, 3),
    "lev_short_change": Tolerance(1.0, 0.75, 1),
    "sofr_minus_iorb": Tolerance(0.75, 0.5, 2),
    "fed_treasury_holdings": Tolerance(0.5, 0.5, 1),
}


@dataclass(frozen=True)
class EpisodePreset:
    """A replay's assumptions: the news share of yield moves, the residual noise, sizes and the
    validation tolerances."""

    key: str
    news_share: float = 1.0
    residual_vol: float = 0.25
    tolerances: dict[str, Tolerance] = field(default_factory=lambda: dict(_TOL_STRESS))
    note: str = ""


#: ``news_share``: share of the observed par-curve move taken as news (assumption: the store has
#: no OIS/swap curve to isolate the fundamental part; fitted on mar-2020 by ``basislab calibrate``,
#: docs/calibration.md). ``residual_vol``: seeded yield noise on top of the news, as a share of the
#: calm volatility (assumption: the news already carries the observed volatility).
PRESETS: dict[str, EpisodePreset] = {
    "calm-2019h1": EpisodePreset("calm-2019h1", tolerances=dict(_TOL_CALM), note="must not cry wolf"),
    "sep-2019": EpisodePreset("sep-2019", note="repo spike: a funding-market episode (issue 10)"),
    "mar-2020": EpisodePreset("mar-2020", note="in-sample episode of the calibration"),
    "apr-2025": EpisodePreset("apr-2025"),
    "late-2025": EpisodePreset(
        "late-2025", tolerances=dict(_TOL_CALM), note="no par curve after 2025-07-11: no yield news"
    ),
}


def names() -> list[str]:
    return list(PRESETS)


def is_episode(name: str) -> bool:
    return str(name) in PRESETS


def preset(key: str) -> EpisodePreset:
    if key not in PRESETS:
        raise ScenarioError(f"unknown episode {key!r}; episodes: {', '.join(PRESETS)}")
    return PRESETS[key]


@dataclass
class EpisodeRun:
    """A built episode: its scenario and engine inputs, the dates of its steps, the data
    (initial conditions, inputs, observed series) and every stated fallback."""

    key: str
    preset: EpisodePreset
    data: Any  # basislab.data.episodes.EpisodeData
    scenario: Any  # basislab.sim.scenario.Scenario
    params: Any  # basislab.sim.players.Params
    static: Any  # basislab.sim.players.Static
    dates: list[dt.date]  # date of each step (end of day); dates[0] is the first day after the start
    run_start: dt.date
    window: tuple[dt.date, dt.date]
    news_bp: dict[str, np.ndarray]  # bucket -> [T] observed par change used (before news_share)
    warnings: list[str]
    funding: Any = None  # basislab.sim.episode_inputs.EpisodeFunding: the funding market's inputs
    fed_purchases: Any = None  # [T, K] USD bn a day: the Fed's outright purchases as they happened

    @property
    def window_mask(self) -> np.ndarray:
        d = np.array(self.dates)
        return (d >= self.window[0]) & (d <= self.window[1])

    @property
    def baseline_mask(self) -> np.ndarray:
        d = np.array(self.dates)
        return d < self.window[0]

    @property
    def delivery(self) -> dt.date:
        return self.dates[-1]


def step_dates(run_start: dt.date, n: int) -> list[dt.date]:
    """``n`` government-bond business days after ``run_start``."""
    from basislab.analytics.calendar import advance

    out, d = [], run_start
    for _ in range(n):
        d = advance(d, 1)
        out.append(d)
    return out


def _calm_vol_bp(con, run_start: dt.date) -> dict[str, float | None]:
    """Std of daily par-yield changes (bp) over the ``CALM_VOL_DAYS`` business days to ``run_start``
    (known at its end); ``None`` where the curve has fewer than 20 changes."""
    from basislab.data.episodes import _par_changes

    hist = _par_changes(con, run_start - dt.timedelta(days=int(CALM_VOL_DAYS * 1.5)), run_start)
    hist = hist[hist.index <= np.datetime64(run_start)].tail(CALM_VOL_DAYS)
    out = {}
    for b, tenor in BUCKET_TENOR.items():
        s = hist[tenor].dropna() if tenor in hist else hist.iloc[:0, 0]
        out[b] = float(s.std()) if len(s) >= 20 else None
    return out


def _ctd_proxy(con, run_start: dt.date, delivery_month: str) -> dict[str, dict]:
    """Each bucket's representative CTD: a par bond at the contract's proxy CTD term from the
    delivery month (coupon: par yield rounded to 1/8; yield: the par yield), run-start curve."""
    from basislab.data.catalog import CONTRACTS
    from basislab.data.feeds import par_curve_wide, par_yield_at

    wide = par_curve_wide(con)
    wide = wide[wide.index <= np.datetime64(run_start)]
    y, m = (int(v) for v in delivery_month.split("-"))
    first = dt.date(y, m, 1)
    out = {}
    for b, root in BUCKET_ROOT.items():
        years = CONTRACTS[root].proxy_tenor_years
        ys, _ = par_yield_at(wide, [run_start], years)
        yld = float(ys[0])
        if not math.isfinite(yld):
            raise ScenarioError(f"no par curve on or before {run_start} to price the {b} CTD")
        months = round(years * 12)
        mat_y, mat_m = divmod(first.month - 1 + months, 12)
        maturity = dt.date(first.year + mat_y, mat_m + 1, 15)
        coupon = max(0.125, round(yld * 8) / 8)
        out[b] = {
            "root": root,
            "ctd_coupon_pct": coupon,
            "ctd_maturity": maturity.isoformat(),
            "ctd_yield_pct": yld,
        }
    return out


def _news_paths(ep, dates: list[dt.date]) -> tuple[dict[str, np.ndarray], list[str]]:
    """Observed par changes (bp) on each step date, per bucket; 0 with a warning where missing."""
    import pandas as pd

    notes: list[str] = []
    par = ep.inputs.get("par_curve_change_bp")
    idx = pd.DatetimeIndex([pd.Timestamp(d) for d in dates])
    out = {}
    last_news = max(d for d in dates if d <= ep.spec.window_end)
    for b, tenor in BUCKET_TENOR.items():
        if par is None or len(par) == 0 or tenor not in par:
            out[b] = np.zeros(len(dates))
            continue
        s = par[tenor].reindex(idx)
        in_run = np.array([d <= last_news for d in dates])
        gaps = int((s.isna().to_numpy() & in_run).sum())
        if gaps and b == "10y":
            notes.append(f"par curve: {gaps} run days without a 10y change (no curve that day); taken as 0")
        out[b] = np.where(in_run, s.fillna(0.0).to_numpy(), 0.0)
    if par is None or len(par) == 0:
        notes.append(
            "no par-curve changes in the store for this run: the replay has no yield news (stated "
            "fallback; refresh the curve with `basislab data refresh --source treasury-curve`)"
        )
    return out, notes


def _spread_move(ep, dates: list[dt.date], name: str, total) -> np.ndarray:
    """Daily log return from the episode's move constant ``name``: ``total(move)`` spread evenly
    over the business days after ``from`` up to ``to`` (close to close); zeros without it."""
    out = np.zeros(len(dates))
    move = ep.inputs.get(name)
    if not move:
        return out
    start, end = dt.date.fromisoformat(move["from"]), dt.date.fromisoformat(move["to"])
    days = [i for i, d in enumerate(dates) if start < d <= end]
    if days:
        out[days] = total(move) / len(days)
    return out


def _equity_path(ep, dates: list[dt.date]) -> np.ndarray:
    """The equities' daily log return from the episode's equity move (``change_pct``)."""
    return _spread_move(ep, dates, "equity_move", lambda m: math.log1p(m["change_pct"] / 100.0))


def _credit_path(ep, dates: list[dt.date], duration: float) -> np.ndarray:
    """The credit asset's daily log price return from the episode's credit spread move:
    ``-D x change_bp / 1e4`` in all."""
    return _spread_move(ep, dates, "credit_move", lambda m: -duration * m["change_bp"] / 1e4)


def build(
    key: str,
    overrides: list[str] | tuple[str, ...] = (),
    con=None,
    news_share: float | None = None,
) -> EpisodeRun:
    """The episode ``key`` as a ready-to-run scenario, from the store point in time (module doc).
    ``overrides`` (``path.to.param=value``) apply to the scenario as ``--set`` does."""
    from basislab.data import episodes as data_episodes
    from basislab.data.store import connect
    from basislab.sim import episode_inputs
    from basislab.sim import scenario as scn

    pre = preset(key)
    own = con is None
    con = connect(None, read_only=True) if con is None else con
    try:
        ep = data_episodes.load(key, con=con)
        run_start = ep.spec.run_start
        dates = step_dates(run_start, COMMON_STEPS)
        if dates[-1] <= ep.spec.window_end:
            raise ScenarioError(f"episode {key}: {COMMON_STEPS} steps do not reach the window end")
        delivery_month = f"{dates[-1].year:04d}-{dates[-1].month:02d}"
        ctd = _ctd_proxy(con, run_start, delivery_month)
        vol = _calm_vol_bp(con, run_start)
        curve_date = con.execute(
            "SELECT max(date) FROM par_yield_curve WHERE date <= ?", [run_start]
        ).fetchone()[0]
        fund, buys, fund_notes = episode_inputs.for_episode(con, key, dates)
    finally:
        if own:
            con.close()
    notes = list(ep.warnings)
    if curve_date is not None and (run_start - curve_date).days > 7:
        notes.append(
            f"par curve: the latest curve in the store before the run start {run_start} is {curve_date} "
            f"({(run_start - curve_date).days} days older): the CTD proxies are priced and the calm "
            "volatility measured on it (stated fallback; shared/data has no Treasury par curve after "
            "2025-07-11, and the futures closes that run on are observed outputs, never inputs)"
        )
    ic = ep.initial_conditions
    sc0 = scn.scenario_from_initial_conditions(ic)
    data = sc0.model_dump(mode="json")
    data["name"] = key
    data["description"] = (
        f"{ep.spec.label}: replay from {run_start} (window {ep.spec.window_start}..{ep.spec.window_end})"
    )
    data.update(horizon_days=COMMON_STEPS, paths=DEFAULT_PATHS, compare_backstop=False)
    data["funds"]["count"] = DEFAULT_FUNDS
    data["market"]["delivery_month"] = delivery_month
    for b in scn.BUCKET_NAMES:
        bk = data["market"]["buckets"][b]
        bk.update(ctd[b])
        v = vol[b]
        if v is not None:
            bk["yield_vol_bp"] = round(max(v, 0.5), 4)
        else:
            notes.append(f"{b}: fewer than 20 par-curve changes before {run_start}; default calm vol used")
    # no stylised shock: the news paths below replace it
    data["shock"] = {
        "start_day": 0,
        "duration_days": 1,
        "yield_bp": dict.fromkeys(scn.BUCKET_NAMES, 0.0),
        "cash_dislocation_bp": dict.fromkeys(scn.BUCKET_NAMES, 0.0),
        "other_assets_pct": 0.0,
        "vol_multiplier": 1.0,
    }
    # the funding market: the regime's curve and the opening balances published by the run start
    data["funding"] = {
        **data.get("funding", {}),
        "regime": fund.regime,
        "reserves_usd_bn": round(fund.reserves0 * 1000.0, 3),
        "onrrp_usd_bn": round(fund.onrrp0 * 1000.0, 3),
        "tga_usd_bn": round(fund.tga0 * 1000.0, 3),
        "srf_access": dates[0] >= episode_inputs.SRF_START,
    }
    notes += fund_notes
    data["context"] = {
        **data.get("context", {}),
        "episode": key,
        "run_start": run_start.isoformat(),
        "window": [ep.spec.window_start.isoformat(), ep.spec.window_end.isoformat()],
    }
    sc = scn.validate(scn.apply_overrides(data, overrides), f"episode {key!r}")
    params, static = scn.to_engine(sc)
    news, more = _news_paths(ep, dates)
    notes += more
    share = pre.news_share if news_share is None else float(news_share)
    other = np.stack(
        [_equity_path(ep, dates), _credit_path(ep, dates, sc.market.credit_duration_years)], axis=1
    )
    params = with_news(params, news, share, pre.residual_vol, other)
    params = with_funding(params, sc, fund, buys)
    return EpisodeRun(
        key,
        pre,
        ep,
        sc,
        params,
        static,
        dates,
        run_start,
        (ep.spec.window_start, ep.spec.window_end),
        news,
        notes,
        fund,
        buys,
    )


def with_funding(params, sc, fund, purchases):
    """``params`` with the funding market's inputs of the episode (:mod:`basislab.sim.episode_inputs`:
    rates, settlements, TGA and ON RRP flows, the Fed's repo operations, reporting flags; the
    scenario's ``funding`` section gives the curve's regime and the opening balances) and the Fed's
    outright purchases as they happened (``[T, K]`` USD bn a day); the Fed's other assets as they
    happened (``extra['fed_other_assets_change']``) add to reserves. ``funding.srf_access=false``
    removes the SRF (its rate becomes the no-SRF sentinel)."""
    from basislab.sim import episode_inputs
    from basislab.sim import scenario as scn

    days = dict(fund.days)
    # the Fed's other assets as they happened (MBS runoff, swap lines, facilities: H.4.1 WALCL -
    # TREAST - repo) move reserves like the Treasury's receipts with the opposite sign
    other = fund.extra.get("fed_other_assets_change")
    if other is not None:
        days["treasury_net_receipts"] = np.asarray(days["treasury_net_receipts"]) - np.asarray(other)
    if not sc.funding.srf_access:
        days["srf_rate_pct"] = np.full_like(days["srf_rate_pct"], episode_inputs.NO_SRF_PCT)
    funding = scn.funding_inputs(len(days["iorb_pct"]), sc, **days)
    fed = params.fed._replace(scheduled_purchases=np.asarray(purchases, dtype=np.float64))
    return params._replace(funding=funding, fed=fed)


def with_news(params, news_bp: dict[str, np.ndarray], share: float, residual_vol: float, dother=None):
    """``params`` with the episode's news: ``dy = share x par change`` per bucket (decimal),
    the seeded noise scaled to ``residual_vol`` of calm, and the other assets' return path."""
    m = params.market
    dy = np.stack([news_bp[b] for b in BUCKET_TENOR], axis=1) / 1e4 * share
    upd = {"dy": dy, "dx": np.zeros_like(dy), "volmult": np.full(dy.shape[0], float(residual_vol))}
    if dother is not None:
        upd["dother"] = np.asarray(dother, dtype=np.float64)
    return params._replace(market=m._replace(**upd))


def with_assumptions(er: EpisodeRun, values: dict[str, float], params=None):
    """The episode's params (or ``params``) with calibrated assumptions: ``news_share`` (``dy`` =
    share x the observed par changes), ``impact_scale`` (multiplies the calm impact slopes of cash
    and futures), ``impact_stress_slope``, ``leverage_limit_multiple`` and ``repo_stress_scale``
    (multiplies the repo lenders' haircut and refusal slopes per unit of stress, both segments)."""
    params = er.params if params is None else params
    m, f = params.market, params.funds
    if "impact_scale" in values:
        s = float(values["impact_scale"])
        m = m._replace(
            impact_cash=er.params.market.impact_cash * s, impact_fut=er.params.market.impact_fut * s
        )
    if "impact_stress_slope" in values:
        m = m._replace(impact_stress=np.float64(values["impact_stress_slope"]))
    if "news_share" in values:
        dy = np.stack([er.news_bp[b] for b in BUCKET_TENOR], axis=1) / 1e4 * float(values["news_share"])
        m = m._replace(dy=dy)
    if "leverage_limit_multiple" in values:
        f = f._replace(lev_limit_mult=np.float64(values["leverage_limit_multiple"]))
    r = params.repo
    if "repo_stress_scale" in values:
        s = float(values["repo_stress_scale"])
        # issue 10: haircuts and refusal are stepped schedules; scale their steps above the calm level
        hl, rl = np.asarray(er.params.repo.haircut_levels), np.asarray(er.params.repo.refusal_levels)
        r = r._replace(haircut_levels=hl[:, :1] + (hl - hl[:, :1]) * s, refusal_levels=rl * s)
    return params._replace(market=m, funds=f, repo=r)


# ----------------------------------------------------------------------------------------------
# the runner: the engine's path with each fund's exposure and equity recorded every day


@lru_cache(maxsize=4)
def compiled_episode_runner(static):
    """``jit`` of a batch of paths of one parameter set (vmapped, named ``engine.PATH_AXIS``),
    recording per-fund gross exposure and equity every day on top of the engine's outputs.
    Same draws as :func:`basislab.sim.engine.simulate_path` for the same key, and, as there, a
    day at or past ``params.market.horizon_days`` (shape padding, :func:`basislab.sim.engine.pad`)
    is skipped: :func:`run` calls it with the episode padded to its buckets, so every scenario of
    one bucket (fund count, horizon) shares the executable."""
    import jax

    from basislab.sim import engine, model
    from basislab.sim.markets import _mv

    def per_fund(params, st):
        pr = model.prices(params, st, st.markets.day)
        fu = st.funds
        exposure = (_mv(fu.bonds, pr.p) + _mv(fu.futures_short, pr.f)) / 100.0
        return exposure, model.fund_equity(st, pr)

    def path(params, key):
        st0, shocks, led0 = engine.init_path(params, key, static)

        def live(st, sh):
            st, out = model.step(params, st, sh, static, engine.any_in_block)
            out["fund_exposure"], out["fund_equity_each"] = per_fund(params, st)
            out["futures_short_face"] = st.funds.futures_short.sum(1)
            return st, out

        outs, _ = engine.scan_days(params, st0, shocks, static, live)
        e0, q0 = per_fund(params, st0)
        return (
            led0,
            outs,
            {
                "fund_exposure": e0,
                "fund_equity_each": q0,
                "futures_short_face": st0.funds.futures_short.sum(1),
            },
        )

    return jax.jit(jax.vmap(path, in_axes=(None, 0), axis_name=engine.PATH_AXIS))


#: per-fund outputs of :func:`compiled_episode_runner` (their last axis is the fund axis, cut back
#: to the scenario's funds after a padded run)
PER_FUND = ("fund_exposure", "fund_equity_each")


def run(
    er: EpisodeRun,
    params=None,
    seed: int = 0,
    paths: int | None = None,
    variant: str = "run",
    padded: bool = True,
):
    """Run the episode (``params`` default: its own) over ``paths`` seeded paths: a
    :class:`~basislab.sim.results.SimResult` whose ``raw.outputs`` also hold ``fund_exposure`` and
    ``fund_equity_each`` ``[paths, steps, funds]`` and whose ``raw.final`` holds their initial values.
    ``padded``: run padded to the fund and day buckets (:func:`basislab.sim.engine.pad`, docs/model.md
    section 14), the outputs cut back to the episode's funds and days."""
    import jax

    from basislab.sim import engine
    from basislab.sim.results import SimResult

    params = er.params if params is None else params
    paths = DEFAULT_PATHS if paths is None else int(paths)
    if paths < 1:
        raise ScenarioError(f"paths must be >= 1, got {paths}")
    if not 0 <= int(seed) <= 2**32 - 1:
        raise ScenarioError(f"seed {seed} is out of range; expected an integer from 0 to {2**32 - 1}")
    n, t = er.static.n_funds, er.static.n_steps
    p_run, s_run = engine.pad(params, er.static) if padded else (params, er.static)
    led0, outs, init = compiled_episode_runner(s_run)(p_run, engine.path_keys(int(seed), paths))
    outs = {k: jax.tree_util.tree_map(lambda a: np.asarray(a)[:, :t], v) for k, v in outs.items()}
    for k in PER_FUND:
        outs[k] = outs[k][..., :n]
    init = {k: np.asarray(v)[..., :n] if k in PER_FUND else np.asarray(v) for k, v in init.items()}
    audit_steps = outs.pop("audit")
    raw = engine.RawRun(er.static, outs, audit_steps, jax.tree_util.tree_map(np.asarray, led0), init)
    engine.check_finite(raw.outputs, raw.final)
    return SimResult(er.scenario, params, raw, int(seed), variant)


def warn(er: EpisodeRun) -> None:
    """Issue each stated fallback as a :class:`DataWarning` (the CLI prints them on stderr)."""
    for w in er.warnings:
        warnings.warn(w, DataWarning, stacklevel=2)


# ----------------------------------------------------------------------------------------------
# metrics of a replay (basislab simulate EPISODE --json)

#: The engine's funding-market, Fed and dealer outputs (issue 10), by the names this module reads:
#: SOFR in percent, spreads in bp, amounts USD bn, utilisation a share; ``[paths, T, ...]``. A
#: metric is null (with :data:`NEEDS_ISSUE_10`) only when the engine does not produce its output.
ISSUE10_OUTPUTS = {
    "sofr": ("sofr_pct",),
    "sofr_minus_iorb": ("sofr_minus_iorb_bp",),
    "fed_purchases": ("fed_treasury_purchases",),
    "fed_repo": ("fed_repo_outstanding",),
    "slr_utilisation": ("dealer_slr_utilisation",),
    "fed_holdings": ("bonds_held_fed",),
    "implied_repo": ("implied_repo_minus_sofr_bp",),
}
NEEDS_ISSUE_10 = "needs issue 10 (the engine has no {what} yet)"


def issue10_output(res, what: str) -> np.ndarray | None:
    """The run's output for one of :data:`ISSUE10_OUTPUTS`, or ``None`` when not produced."""
    for name in ISSUE10_OUTPUTS[what]:
        if name in res.raw.outputs:
            return np.asarray(res.raw.outputs[name])
    return None


def all_dates(er: EpisodeRun) -> list[dt.date]:
    """The run start (initial state) followed by the step dates."""
    return [er.run_start, *er.dates]


def price_paths(er: EpisodeRun, res) -> tuple[np.ndarray, np.ndarray]:
    """Cash and futures prices ``[paths, T+1, K]`` with the initial prices first."""
    m = res.params.market
    p0 = np.asarray(m.p0)
    f0 = p0 * np.exp(-np.asarray(m.rho)) / np.asarray(m.cf)
    o = res.raw.outputs
    n = o["cash_price"].shape[0]
    cash = np.concatenate([np.broadcast_to(p0, (n, 1, p0.size)), o["cash_price"]], axis=1)
    fut = np.concatenate([np.broadcast_to(f0, (n, 1, f0.size)), o["futures_price"]], axis=1)
    return cash, fut


def sofr_path_pct(er: EpisodeRun, res) -> tuple[np.ndarray, str | None]:
    """SOFR in percent ``[paths, T+1]``: the run-start SOFR, then the funding market's
    (``sofr_pct``); without that output, the initial SOFR held constant (with the reason)."""
    s = issue10_output(res, "sofr")
    n = res.raw.outputs["cash_price"].shape[0]
    s0 = float(np.asarray(res.params.repo.sofr)) * 100.0
    if s is None:
        return np.full((n, len(er.dates) + 1), s0), (
            "SOFR held at its run-start value (the funding market that sets SOFR needs issue 10)"
        )
    return np.concatenate([np.full((n, 1), s0), s], axis=1), None


def implied_repo_minus_sofr_bp(er: EpisodeRun, res) -> tuple[np.ndarray, str | None]:
    """``[paths, T+1, K]`` implied repo of each bucket's CTD minus SOFR, bp: the model's own output
    (``implied_repo_minus_sofr_bp``, NaN on the run start) or, without it, from the simulated cash
    and futures prices (:func:`basislab.analytics.basis.implied_repo_pct`, Act/360, coupons to delivery
    included; delivery on the run's last day, settlement on each day) minus SOFR, bp. NaN within
    a week of delivery (the ratio is undefined at d = 0)."""
    from basislab.analytics import bonds as bm
    from basislab.analytics.basis import implied_repo_pct

    own = issue10_output(res, "implied_repo")
    if own is not None:  # the model's own: its CTD implied repo minus its SOFR (no value on the run start)
        first = np.full((own.shape[0], 1, own.shape[2]), np.nan)
        return np.concatenate([first, own], axis=1), None
    dates = np.array(all_dates(er), dtype="datetime64[D]")
    deliv = np.datetime64(er.delivery, "D")
    days = (deliv - dates).astype(np.int64)
    cash, fut = price_paths(er, res)
    cf = np.asarray(res.params.market.cf)
    sofr, note = sofr_path_pct(er, res)
    out = np.full(cash.shape, np.nan)
    for k, b in enumerate(er.scenario.market.buckets.values()):
        cpn = np.full(len(dates), b.ctd_coupon_pct)
        mat = np.full(len(dates), np.datetime64(b.ctd_maturity, "D"))
        ai_s = bm.accrued(cpn, mat, dates)
        ai_d = bm.accrued(cpn, mat, np.full(len(dates), deliv))
        amounts, when = bm.coupons_between(cpn, mat, dates, np.full(len(dates), deliv))
        d_i = np.where(np.isnat(when), 0, (deliv - when).astype("timedelta64[D]").astype(np.int64))
        ir = implied_repo_pct(
            fut[:, :, k], cf[k], cash[:, :, k] + ai_s, ai_d, np.maximum(days, 1),
            amounts.sum(-1), (amounts * d_i).sum(-1),
        )  # fmt: skip
        out[:, :, k] = np.where(days >= 7, (ir - sofr) * 100.0, np.nan)
    return out, note


def _window_sum(a: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return a[:, mask].reshape(a.shape[0], int(mask.sum()), -1).sum((1, 2))


def _r(x) -> float | None:
    x = float(x)
    return round(x, 6) if math.isfinite(x) else None


def metrics(er: EpisodeRun, res) -> tuple[dict, dict[str, str]]:
    """The replay's metrics (keys of issue 11 item 5) and, for each null, the reason."""
    from basislab.sim.audit import audit_max

    o, w = res.raw.outputs, er.window_mask
    reasons: dict[str, str] = {}
    idx = np.flatnonzero(w)
    i0, i1 = idx[0], idx[-1]  # step indices of the window's first and last days
    # exposures per fund at the window's start (end of the day before) and end
    exp_all = np.concatenate([res.raw.final["fund_exposure"][:, None], o["fund_exposure"]], axis=1)
    eq_all = np.concatenate([res.raw.final["fund_equity_each"][:, None], o["fund_equity_each"]], axis=1)
    e_start, e_end = exp_all[:, i0], exp_all[:, i1 + 1]
    q_start, q_end = eq_all[:, i0], eq_all[:, i1 + 1]
    live = e_start > 1e-9
    pct = np.where(live, (e_end / np.where(live, e_start, 1.0) - 1.0) * 100.0, np.nan)
    okq = q_start > 1e-9
    ret = np.where(okq, np.maximum(q_end / np.where(okq, q_start, 1.0) - 1.0, -1.0) * 100.0, np.nan)
    sales = _window_sum(o["sold_unwind"], w)
    forced = sales + _window_sum(o["sold_default"], w)
    # the funds' cash book at market at the window's start (end of the day before)
    gp = o["fund_gross_position"]
    cash_book = (
        gp[:, i0 - 1] if i0 > 0 else np.full(gp.shape[0], float(np.asarray(res.params.funds.total_position)))
    )
    ir, ir_note = implied_repo_minus_sofr_bp(er, res)
    base_mask = np.concatenate([[True], er.baseline_mask])  # initial day + pre-window steps
    win_mask = np.concatenate([[False], w])
    dates = all_dates(er)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN days next to delivery
        irm = np.nanmean(ir, axis=0)  # mean over paths [T+1, K]
    repo = {}
    for k, b in enumerate(BUCKET_TENOR):
        vals = np.where(win_mask, irm[:, k], np.nan)
        j = int(np.nanargmax(vals)) if np.isfinite(vals).any() else None
        repo[b] = {
            "baseline": _r(np.nanmean(irm[base_mask, k])),
            "peak": _r(vals[j]) if j is not None else None,
            "peak_date": dates[j].isoformat() if j is not None else None,
        }
    if ir_note:
        reasons["implied_repo_minus_sofr_bp"] = ir_note
    sofr_iorb = issue10_output(res, "sofr_minus_iorb")
    if sofr_iorb is None:
        max_sofr = max_sofr_date = None
        reasons["max_sofr_minus_iorb_bp"] = NEEDS_ISSUE_10.format(what="funding market setting SOFR")
        reasons["max_sofr_minus_iorb_date"] = reasons["max_sofr_minus_iorb_bp"]
    else:  # mean over paths of each day's SOFR - IORB (IORB of that day), its largest in the window
        spread = np.where(w, sofr_iorb.mean(0), -np.inf)
        j = int(np.argmax(spread))
        max_sofr, max_sofr_date = _r(spread[j]), er.dates[j].isoformat()
    fedp = issue10_output(res, "fed_purchases")
    fedr = issue10_output(res, "fed_repo")
    slr = issue10_output(res, "slr_utilisation")
    for key, v, what in (
        ("fed_treasury_purchases_usd_bn", fedp, "Fed purchases"),
        ("fed_repo_peak_usd_bn", fedr, "Fed repo operations"),
        ("dealer_slr_utilisation_peak", slr, "dealers under the SLR"),
    ):
        if v is None:
            reasons[key] = NEEDS_ISSUE_10.format(what=what)
    out = {
        "hf_treasury_net_sales_usd_bn": _r(sales.mean()),
        "hf_gross_exposure_change_usd_bn": _r((e_end.sum(-1) - e_start.sum(-1)).mean()),
        "hf_exposure_change_pct": _r(np.nanmean(pct)),
        "hf_return_pct": _r(np.nanmean(ret)),
        "implied_repo_minus_sofr_bp": repo,
        "max_sofr_minus_iorb_bp": max_sofr,
        "max_sofr_minus_iorb_date": max_sofr_date,
        "fed_treasury_purchases_usd_bn": None if fedp is None else _r(_window_sum(fedp, w).mean()),
        "fed_repo_peak_usd_bn": None
        if fedr is None
        else _r(fedr[:, w].reshape(fedr.shape[0], -1).max(1).mean()),
        "dealer_slr_utilisation_peak": None
        if slr is None
        else _r(slr[:, w].reshape(slr.shape[0], -1).max(1).mean()),
        "fund_defaults": _r(o["new_defaults"][:, w].sum(1).mean()),
        "forced_sales_share_of_book_pct": _r((forced / np.maximum(cash_book, 1e-9)).mean() * 100.0),
        "audit_max_residual": float(audit_max(res)),
    }
    return out, reasons


def with_backstop_to_funds(params):
    """The ``backstop_to_funds`` world: the lender of last resort to the funds switched on."""
    return params._replace(backstop=params.backstop._replace(on=np.float64(1.0)))


def without_fed(params):
    """The ``no_fed`` world: none of the Fed's actions. Its outright purchases and repo operations
    as they happened are removed, its levers (purchases, lender of last resort, repo operations)
    and the backstop to funds are off, and there is no Standing Repo Facility (its rate becomes
    the no-SRF sentinel): the market clears on private balance sheets alone."""
    from basislab.sim.episode_inputs import NO_SRF_PCT

    fed = params.fed._replace(
        enabled=np.zeros_like(np.asarray(params.fed.enabled)),
        scheduled_purchases=np.zeros_like(np.asarray(params.fed.scheduled_purchases)),
    )
    days = params.funding.days
    days = days._replace(
        fed_repo=np.zeros_like(np.asarray(days.fed_repo)),
        srf_rate_pct=np.full_like(np.asarray(days.srf_rate_pct), NO_SRF_PCT),
    )
    backstop = params.backstop._replace(on=np.float64(0.0))
    return params._replace(fed=fed, funding=params.funding._replace(days=days), backstop=backstop)


def replay(
    key: str,
    paths: int | None = None,
    seed: int | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    er: EpisodeRun | None = None,
) -> dict:
    """``basislab simulate EPISODE --json``: one object with ``scenario``, ``window``, ``paths``,
    ``seed``, ``metrics`` (the as-happened world), ``counterfactuals`` (``no_fed``; for mar-2020
    ``backstop_to_funds``) and ``notes`` (the reason for every null, the stated fallbacks, and the
    inputs and outputs of the replay)."""
    er = build(key, overrides) if er is None else er
    paths = er.scenario.paths if paths is None else int(paths)
    seed = er.scenario.seed if seed is None else int(seed)
    res = run(er, seed=seed, paths=paths)
    m, reasons = metrics(er, res)
    cf: dict[str, dict] = {}
    worlds = {"no_fed": without_fed(er.params)}
    if key == "mar-2020":
        worlds["backstop_to_funds"] = with_backstop_to_funds(er.params)
    for name, p in worlds.items():
        cf[name], _ = metrics(er, run(er, params=p, seed=seed, paths=paths, variant=name))  # same nulls
    reasons["counterfactuals.no_fed"] = (
        "no Fed: its purchases and repo operations as they happened removed, no SRF, levers and "
        "backstop off (not a null: what the world without them gives)"
    )
    return {
        "scenario": key,
        "window": {"start": er.window[0].isoformat(), "end": er.window[1].isoformat()},
        "paths": paths,
        "seed": seed,
        "metrics": m,
        "counterfactuals": cf,
        "notes": {
            "null_reasons": reasons,
            "warnings": er.warnings,
            "run_start": er.run_start.isoformat(),
            "inputs": {k: INPUT_STATUS[k] for k in er.data.spec.inputs},
            "outputs": OUTPUTS,
            "assumptions": {"news_share": er.preset.news_share, "residual_vol": er.preset.residual_vol},
        },
    }


def dashboard_layout(ctx):  # noqa: ARG001 - the dashboard's hook signature
    """The dashboard's Episodes page (``basislab serve``): the five replays, their windows, run
    starts, inputs (consumed or carried) and observed series, and the commands that replay and
    validate them (a replay compiles and runs for tens of seconds: it is not started from the page)."""
    from dash import html

    from basislab.data import episodes as D

    head = ["episode", "window", "run start", "inputs", "observed (validation)", "replay"]
    rows = []
    for key in names():
        spec = D.episode(key)
        rows.append(
            html.Tr(
                [
                    html.Td(html.B(key)),
                    html.Td(f"{spec.window_start} .. {spec.window_end}"),
                    html.Td(str(spec.run_start)),
                    html.Td(", ".join(f"{i} ({INPUT_STATUS[i].split(':')[0]})" for i in spec.inputs)),
                    html.Td(", ".join(spec.observed)),
                    html.Td(html.Code(f"basislab validate {key} --html {key}.html")),
                ]
            )
        )
    return html.Div(
        [
            html.H2("Episodes"),
            html.P(
                "Replays of five episodes from the data store, point in time: the book, SOFR and IORB at the "
                "run start, the par-curve changes as news; validated against observed series that were not "
                "inputs (docs/calibration.md). Every input drives the engine: news, and the Treasury's and "
                "the Fed's actions as they happened (sim.episode_inputs)."
            ),
            html.Table([html.Tr([html.Th(h) for h in head]), *rows], id="episodes-table"),
        ]
    )
