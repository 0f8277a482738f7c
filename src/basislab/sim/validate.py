"""Validation of the episode replays against what happened (``basislab validate``).

For each episode (:mod:`basislab.sim.episodes`), the model's outputs next to the observed series
of the store that were **not inputs** (:mod:`basislab.data.episodes`):

* ``futures_path`` (per bucket): the futures price's cumulative change from the run start, percent;
  model: mean over paths of the bucket's futures; observed: the Yahoo front-month back-adjusted
  close (TU, FV, TY, US; ``close_adj``, so rolls leave no jump);
* ``lev_short_change`` (per bucket): the week-to-week (Tuesday to Tuesday, the CFTC's as-of day)
  change of futures shorts, contracts; model: the funds' futures shorts (face / contract face);
  observed: leveraged funds' shorts summed over the bucket's contracts (TU; FV; TY+TN; US+UB);
* ``sofr_minus_iorb`` (bp): the funding market's SOFR - IORB (each day's IORB), mean over paths,
  against FRBNY SOFR minus IORB/IOER;
* ``fed_treasury_holdings`` (USD bn, where not an input): the change since the run start of the
  Fed's Treasury holdings in the model (face, all buckets; Wednesdays) against H.4.1 TREAST's
  change from its level on or before the run start (``n/a`` with the reason where the engine
  lacks an output);
* ``fund_redemptions`` (mar-2020; % of the funds' equity at the run start): the capital the
  model's funds paid out to their investors over the window (``redemptions_paid``, summed) against
  the range of the published industry figures (:data:`PUBLISHED_REDEMPTIONS`): a scalar row, no
  RMSE or timing; it passes when the model lies in the published range widened by
  :data:`REDEMPTION_WIDEN` on each side. Investor flows are used for validation only, never in
  the calibration (:data:`basislab.sim.calibrate.MOMENT_SERIES` leaves them out).

Errors: RMSE over the days (weeks) both have; the peak (the largest absolute value in the window,
signed) and its date; the timing error of the peaks in business days (weeks). Pass when the RMSE,
the peak error and the timing error are within the preset's :class:`~basislab.sim.episodes.Tolerance`
(written before any run), strictly: ``obs_rms`` (the observed series' root mean square) is the
RMSE of a model that predicts no move at all, and such a model fails.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from basislab.sim import episodes as E

NA = "n/a (needs issue 10)"
COLUMNS = (
    "episode",
    "series",
    "label",
    "unit",
    "n",
    "rmse",
    "obs_rms",
    "model_peak",
    "obs_peak",
    "model_peak_date",
    "obs_peak_date",
    "timing_error",
    "status",
    "reason",
    "obs_low",
    "obs_high",
)


@dataclass(frozen=True)
class PublishedRange:
    """Published values of a scalar outcome (``low``..``high``, in the row's unit) and their
    sources; the row passes within ``[low x (1 - widen), high x (1 + widen)]``."""

    series: str
    label: str
    unit: str
    low: float
    high: float
    sources: tuple[str, ...]


#: Hedge funds' net investor outflows in March 2020, % of industry capital (outflow positive),
#: for validation only. eVestment: -USD 24.1bn in March on about USD 2.95tn, 0.8% (Bloomberg via
#: NDTV Profit, 2020-04-17, https://www.ndtvprofit.com/business/hedge-fund-assets-dip-below-3-trillion-to-least-in-six-years);
#: HFR: -USD 33.3bn in Q1 2020, "approximately 1.0 percent of overall industry capital"
#: (relative value -USD 4.6bn; HFR Global Hedge Fund Industry Report, 2020-04-22, via Hedgeweek,
#: https://www.hedgeweek.com/2020/04/22/284907/hedge-fund-assets-fall-market-volatility-surges-pandemic-uncertainty);
#: BarclayHedge: redemptions USD 85.6bn, "2.7% of industry assets" (https://www.barclayhedge.com/insider/hedge-fund-redemptions-jump-to-85.6-billion-in-march-according-to-backstop-barclayhedge).
#: Eurekahedge's -USD 81.0bn in March (about 3.9% of its universe) is the high end of the vendors'
#: estimates and lies inside the widened band.
PUBLISHED_REDEMPTIONS: dict[str, PublishedRange] = {
    "mar-2020": PublishedRange(
        "fund_redemptions",
        "HF investor outflow",
        "% of initial equity",
        0.8,
        2.7,
        ("eVestment March 2020: 0.8%", "HFR Q1 2020: 1.0%", "BarclayHedge March 2020: 2.7%"),
    )
}
#: Tolerance of the redemption row (written before any run of it): the published range widened by
#: 50% on each side, 0.4%..4.05% for March 2020 (the vendors' universes differ by that much:
#: eVestment 0.8%, Eurekahedge about 3.9%). A model paying out nothing fails.
REDEMPTION_WIDEN = 0.5


def _f(x) -> float | None:
    if x is None:
        return None
    x = float(x)
    return round(x, 6) if math.isfinite(x) else None


#: Values within this relative distance of the largest are a tie (round-off, e.g. a spread held at
#: a ceiling on many days): the peak is the first of them, as for exact ties.
PEAK_TIE_REL = 1e-9


def _peak(s: pd.Series) -> tuple[float | None, dt.date | None]:
    """The largest absolute value (signed) and its date; of values tied to within
    :data:`PEAK_TIE_REL`, the earliest."""
    s = s.dropna().sort_index()
    if s.empty:
        return None, None
    a = s.abs()
    top = float(a.max())
    i = a.index[np.flatnonzero(a.to_numpy() >= top - PEAK_TIE_REL * max(top, 1.0))[0]]
    return float(s[i]), pd.Timestamp(i).date()


def _bdays(a: dt.date, b: dt.date) -> int:
    """Signed government-bond business days from ``a`` to ``b``."""
    from basislab.analytics.calendar import advance

    if a == b:
        return 0
    sign, lo, hi = (1, a, b) if b > a else (-1, b, a)
    n, d = 0, lo
    while d < hi:
        d = advance(d, 1)
        n += 1
    return sign * n


def _row(
    key, series, label, unit, model: pd.Series | None, obs: pd.Series, window, tol, weekly=False, why=""
):
    """One validation row: RMSE on the common dates, peaks in the window, timing, pass/fail."""
    obs = obs.dropna()
    in_w = (obs.index >= pd.Timestamp(window[0])) & (obs.index <= pd.Timestamp(window[1]))
    op, od = _peak(obs[in_w])
    row = dict.fromkeys(COLUMNS)
    row.update(episode=key, series=series, label=label, unit=unit, obs_peak=_f(op))
    row["obs_peak_date"] = od.isoformat() if od else None
    row["obs_rms"] = _f(np.sqrt(np.mean(obs.to_numpy() ** 2))) if len(obs) else None
    if model is None:
        row.update(n=int(len(obs)), status="n/a", reason=why or NA)
        return row
    both = pd.concat([model.rename("m"), obs.rename("o")], axis=1, sort=True).dropna()
    if both.empty:
        row.update(n=0, status="n/a", reason="no date with both a model and an observed value")
        return row
    in_wm = (both.index >= pd.Timestamp(window[0])) & (both.index <= pd.Timestamp(window[1]))
    mp, md = _peak(both["m"][in_wm])
    rmse = float(np.sqrt(np.mean((both["m"] - both["o"]) ** 2)))
    obs_rms = float(np.sqrt(np.mean(both["o"] ** 2)))
    if md is not None and od is not None:
        timing = round((md - od).days / 7) if weekly else _bdays(od, md)
    else:
        timing = None
    # strict: a model that predicts no move at all (RMSE = obs_rms, peak error = |obs peak|) fails
    checks = [rmse < tol.rmse_ratio * obs_rms]
    if mp is not None and op is not None:
        checks.append(abs(mp - op) < tol.peak_ratio * abs(op))
    if timing is not None:
        checks.append(abs(timing) <= tol.timing_days)
    row.update(
        n=int(len(both)),
        rmse=_f(rmse),
        obs_rms=_f(obs_rms),
        model_peak=_f(mp),
        model_peak_date=md.isoformat() if md else None,
        timing_error=timing,
        status="pass" if all(checks) else "fail",
        reason=why,
    )
    return row


def model_futures_pct(er, res) -> pd.DataFrame:
    """Mean over paths of each bucket's futures price change from the run start, percent."""
    _, fut = E.price_paths(er, res)
    f = fut.mean(0)
    idx = pd.DatetimeIndex([pd.Timestamp(d) for d in E.all_dates(er)])
    return pd.DataFrame((f / f[0] - 1.0) * 100.0, index=idx, columns=list(E.BUCKET_TENOR))


def observed_futures_pct(er) -> pd.DataFrame:
    """Observed front-month back-adjusted close change from the run-start close, percent."""
    ff = er.data.observed["futures_front_month"]
    out = {}
    for b, root in E.BUCKET_ROOT.items():
        s = ff[ff["root"] == root].set_index("date")["close_adj"].sort_index()
        base = s[s.index <= pd.Timestamp(er.run_start)]
        if s.empty or base.empty:
            out[b] = pd.Series(dtype=float)
            continue
        s = s[(s.index > pd.Timestamp(er.run_start)) & (s.index <= pd.Timestamp(er.window[1]))]
        out[b] = (s / base.iloc[-1] - 1.0) * 100.0
    return pd.DataFrame(out)


def model_short_change(er, res) -> pd.DataFrame:
    """Mean over paths of the week-to-week change of the funds' futures shorts on the CFTC's
    Tuesdays, contracts (per bucket; the week before the run start is left out)."""
    o = res.raw.outputs
    face = np.concatenate([res.raw.final["futures_short_face"][:, None], o["futures_short_face"]], axis=1)
    per = np.array([E.CONTRACT_FACE_USD[E.BUCKET_ROOT[b]] for b in E.BUCKET_TENOR])
    contracts = pd.DataFrame(
        face.mean(0) * 1e9 / per,
        index=pd.DatetimeIndex([pd.Timestamp(d) for d in E.all_dates(er)]),
        columns=list(E.BUCKET_TENOR),
    )
    tues = contracts[contracts.index.day_of_week == 1]
    change = tues.diff()
    change = change[change.index.to_series().diff().dt.days <= 8]
    return change[change.index <= pd.Timestamp(er.window[1])]


def observed_short_change(er) -> pd.DataFrame:
    """Observed weekly change of leveraged funds' shorts summed over each bucket's contracts
    (a contract missing that week is left out of the sum; a bucket with none is NaN)."""
    lev = er.data.observed["lev_short_change_contracts"]
    out = {}
    for b, cs in E.BUCKET_CONTRACTS.items():
        cols = [c for c in cs if c in lev]
        out[b] = lev[cols].sum(axis=1, min_count=1) if cols else pd.Series(np.nan, index=lev.index)
    df = pd.DataFrame(out)
    return df[df.index > pd.Timestamp(er.run_start)]


def compare(er, res) -> list[dict]:
    """Validation rows of one episode run (see the module doc)."""
    tol = er.preset.tolerances
    rows = []
    mf, of = model_futures_pct(er, res), observed_futures_pct(er)
    for b in E.BUCKET_TENOR:
        rows.append(
            _row(
                er.key,
                "futures_path",
                b,
                "% from run start",
                mf[b].iloc[1:],
                of[b],
                er.window,
                tol["futures_path"],
            )
        )
    ms, os_ = model_short_change(er, res), observed_short_change(er)
    for b in E.BUCKET_TENOR:
        why = ""
        if er.key == "late-2025" and b != "10y":
            why = "CFTC rows other than TY are missing May-Dec 2025 in the store"
        rows.append(
            _row(
                er.key, "lev_short_change", b, "contracts / week", ms[b], os_[b], er.window,
                tol["lev_short_change"], weekly=True, why=why,
            )
        )  # fmt: skip
    obs = er.data.observed
    model_spread = model_sofr_minus_iorb(er, res)
    rows.append(
        _row(
            er.key,
            "sofr_minus_iorb",
            "SOFR-IORB",
            "bp",
            model_spread,
            obs["sofr_minus_iorb_bp"],
            er.window,
            tol["sofr_minus_iorb"],
        )
    )
    if "fed_treasury_holdings_usd_bn" in obs:
        rows.append(
            _row(
                er.key, "fed_treasury_holdings", "Fed UST change", "USD bn from run start",
                model_fed_holdings_change(er, res), observed_fed_holdings_change(er), er.window,
                tol["fed_treasury_holdings"], weekly=True,
            )
        )  # fmt: skip
    if er.key in PUBLISHED_REDEMPTIONS:
        rows.append(redemption_row(er, res, PUBLISHED_REDEMPTIONS[er.key]))
    return rows


def model_redemptions_pct(er, res) -> tuple[float, float]:
    """Mean over paths of the capital the funds paid out to their investors over the window
    (``redemptions_paid`` summed over the window's days) and of what their investors asked for
    in the window (the rise of ``redemptions_requested``), both in % of the funds' equity at the
    run start (outflow positive)."""
    o, w = res.raw.outputs, er.window_mask
    equity0 = np.asarray(res.raw.final["fund_equity_each"]).sum(-1)  # [paths]
    paid = np.asarray(o["redemptions_paid"])[:, w].reshape(equity0.size, -1).sum(-1)
    req = np.concatenate([np.zeros((equity0.size, 1)), np.asarray(o["redemptions_requested"])], axis=1)
    idx = np.flatnonzero(w)
    asked = req[:, idx[-1] + 1] - req[:, idx[0]]
    scale = 100.0 / np.maximum(equity0, 1e-12)
    return float((paid * scale).mean()), float((asked * scale).mean())


def redemption_row(er, res, pub: PublishedRange, widen: float = REDEMPTION_WIDEN) -> dict:
    """The scalar row of the investor outflow (module doc): ``model_peak`` holds the model's
    value, ``obs_low``/``obs_high`` the published range; pass within the widened range."""
    paid, asked = model_redemptions_pct(er, res)
    lo, hi = pub.low * (1.0 - widen), pub.high * (1.0 + widen)
    row = dict.fromkeys(COLUMNS)
    row.update(
        episode=er.key, series=pub.series, label=pub.label, unit=pub.unit,
        n=int(res.raw.outputs["redemptions_paid"].shape[0]), model_peak=_f(paid),
        obs_low=pub.low, obs_high=pub.high,
        status="pass" if lo <= paid <= hi else "fail",
        reason=(
            f"paid over the window {paid:.3g}% (asked in the window {asked:.3g}%); published "
            f"{pub.low:g}..{pub.high:g}% ({'; '.join(pub.sources)}); pass {lo:.3g}..{hi:.3g}%"
        ),
    )  # fmt: skip
    return row


def model_sofr_minus_iorb(er, res) -> pd.Series | None:
    """Mean over paths of the funding market's SOFR - IORB (bp) on each step date (None without
    that output)."""
    spread = E.issue10_output(res, "sofr_minus_iorb")
    if spread is None:
        return None
    return pd.Series(spread.mean(0), index=pd.DatetimeIndex([pd.Timestamp(d) for d in er.dates]))


def model_fed_holdings_change(er, res) -> pd.Series | None:
    """Mean over paths of the Fed's Treasury holdings in the model (face, USD bn, summed over the
    buckets; zero at the run start) on the H.4.1 Wednesdays: the change since the run start."""
    fh = E.issue10_output(res, "fed_holdings")
    if fh is None:
        return None
    total = fh.reshape(fh.shape[0], fh.shape[1], -1).sum(-1).mean(0)
    s = pd.Series(total, index=pd.DatetimeIndex([pd.Timestamp(d) for d in er.dates]))
    return s[s.index.day_of_week == 2]


def observed_fed_holdings_change(er) -> pd.Series:
    """Observed Fed Treasury holdings (H.4.1 TREAST, Wednesday level) minus the level dated on or
    before the run start, USD bn (the Fed's balance sheet outside the model, e.g. runoff, shows as
    a change the model does not make)."""
    s = er.data.observed["fed_treasury_holdings_usd_bn"].dropna()
    base = s[s.index <= pd.Timestamp(er.run_start)]
    if s.empty or base.empty:
        return pd.Series(dtype=float)
    s = s[(s.index > pd.Timestamp(er.run_start)) & (s.index <= pd.Timestamp(er.window[1]))]
    return s - base.iloc[-1]


def validate_episode(key: str, paths: int | None = None, seed: int = 0, overrides=(), values=None, con=None):
    """``(EpisodeRun, SimResult, rows)`` of one episode; ``values``: calibrated assumptions
    (:func:`basislab.sim.episodes.with_assumptions`)."""
    er = E.build(key, overrides, con=con)
    params = E.with_assumptions(er, values) if values else er.params
    res = E.run(er, params=params, seed=seed, paths=paths)
    return er, res, compare(er, res)


def validate(keys: list[str], paths: int | None = None, seed: int = 0, values=None) -> list[dict]:
    """Rows of every episode in ``keys`` (one store connection, one compilation)."""
    from basislab.data.store import connect

    con = connect(None, read_only=True)
    try:
        rows: list[dict] = []
        for k in keys:
            rows += validate_episode(k, paths, seed, values=values, con=con)[2]
        return rows
    finally:
        con.close()


def summary(rows: list[dict]) -> dict[str, dict]:
    """Per episode: rows passed, failed and not available."""
    out: dict[str, dict] = {}
    for r in rows:
        s = out.setdefault(r["episode"], {"pass": 0, "fail": 0, "n/a": 0})
        s[r["status"]] += 1
    return out
