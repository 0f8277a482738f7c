"""The funding market's and the Fed's inputs of an episode replay, as they happened.

Inputs, never outputs. The Treasury's and the Fed's actions as they happened are **inputs**: the
administered rates (IORB, IOER before 2021-07-29; the ON RRP rate; the Standing Repo Facility
rate from 2021-07-28), Treasury coupon settlements, the Treasury's net receipts (the daily change
of the TGA: taxes + net issuance - outlays, a drain of reserves), money funds' moves into and out
of the ON RRP, the Fed's repo operations outstanding (overnight RPONTSYD and the term operations
in :data:`TERM_REPO`) and its outright Treasury purchases (:func:`fed_purchases`). Observed SOFR,
SOFR - IORB and the Standing Repo Facility's take-up are **outputs** of the funding market: never
read here (from 2021 RPONTSYD *is* the SRF's take-up, so the input Fed repo is zero then).

Dates. One value per business day of the run (``dates[t]`` is the day of step ``t``, the first
business day after the run start). A day's value is the event of that day (rates in force, the
day's settlements, flows) or the latest observation before it; :class:`EpisodeFunding` records
for every value the date of the observation it comes from (``source_dates``). Two series exist
only as Wednesday levels before the daily statements begin: the TGA before 2021-06-24 (H.4.1
WTREGEN) and the Fed's Treasury holdings (H.4.1 TREAST). Their weekly change is a flow of the
week (Thursday to Wednesday) and is placed on the week's days (:func:`allocate_weekly`): on its
tax and large settlement days when it has any (the TGA steps on those dates; Treasury cash
management), evenly otherwise; that day's value is a share of the week that contains it (its
source date is the week's Wednesday, at most four business days later), never of a later week.
``allocation="strict"`` puts each week's change on its Wednesday instead (every source date on or
before the day used; the tax-date drain then lands on the Wednesday).

Opening balances (USD tn, the close of the run-start day) use only what was **published** by the
end of the run-start day (:mod:`basislab.data.pointintime`): reserves are the latest weekly H.4.1
level (WRESBAL, from 2021-06) or, before, the latest published monthly average (TOTRESNS) carried
to the run start with the known changes since that month of the Fed's assets other than repo
(WALCL - RPONTSYD), the TGA and the ON RRP (reserves = assets - TGA - ON RRP - other liabilities,
the other liabilities, mainly currency, held at the month's level: an assumption), net of the Fed's
repo (it enters the market separately as ``fed_repo``, as in :func:`basislab.sim.funding.load_2019`).

Curve: the 2019 calibration (:class:`~basislab.sim.funding.FundingConfig`) for runs before 2022,
``FundingConfig.preset("2025")`` after (Afonso et al. 2022: the curve moves over time).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from basislab.errors import DataError

#: No Standing Repo Facility before this date (srf_params_2021): its rate is this sentinel (%).
SRF_START = dt.date(2021, 7, 28)
NO_SRF_PCT = 1e6
#: Runs starting in or after this year use the 2025 funding curve, before it the 2019 one.
REGIME_2025_FROM = 2022
#: Fed term repo operations that RPONTSYD (overnight only) lacks: settlement date -> (USD bn
#: accepted, business days outstanding from the day after settlement). Sources in
#: shared/reference/system-calibration.md: fed_repo_ops_sep2019 (24 Sep 2019, 14-day, 30),
#: fed_repo_sep26_2019 (26 Sep 2019, 14-day, 60), fed_repo_mar12_2020 (12 Mar 2020, 3-month,
#: 78.4 taken). Other term operations of Oct 2019-Mar 2020 are not in the data (stated).
TERM_REPO: dict[str, tuple[float, int]] = {
    "2019-09-24": (30.0, 10),
    "2019-09-26": (60.0, 10),
    "2020-03-12": (78.4, 63),
}
#: Months whose term operations the data lack (said in the notes when a run covers them).
TERM_REPO_GAP = (dt.date(2019, 10, 1), dt.date(2020, 7, 31))
#: Large coupon settlements (USD tn) on which the TGA's weekly change is placed (funding.load_2019).
EVENT_SETTLEMENT_TN = 0.02
#: FundingDay field order (basislab.sim.funding.FundingDay).
DAY_FIELDS = (
    "iorb_pct",
    "onrrp_rate_pct",
    "srf_rate_pct",
    "coupon_settlement",
    "treasury_net_receipts",
    "onrrp_change",
    "fed_repo",
    "month_end",
    "quarter_end",
    "year_end",
)
#: What each input is and where it comes from.
INPUT_DOC = {
    "iorb_pct": "IORB (IOER before 2021-07-29) in force that day, % (FRB; store IORB)",
    "onrrp_rate_pct": "ON RRP offering rate in force, % (FRBNY; store ONRRP_RATE, then IORB minus its last spread)",
    "srf_rate_pct": "SRF minimum bid = top of the target range from 2021-07-28, %; 1e6 before (no SRF)",
    "coupon_settlement": "notes, bonds, TIPS and FRNs settling that day, USD tn (store auctions: offering "
    "amount, else the refunding size of funding.AUCTION_SIZE_BN)",
    "treasury_net_receipts": "daily change of the TGA, USD tn (DTS closing balance from 2021-06-24; before, "
    "the H.4.1 weekly change placed on the week's tax and large settlement days)",
    "onrrp_change": "daily change of ON RRP take-up, USD tn (RRPONTSYD)",
    "fed_repo": "Fed repo operations outstanding, USD tn: overnight RPONTSYD (counted the same morning "
    "once running) plus the term operations of TERM_REPO; zero from 2021 (the SRF is the model's)",
    "month_end": "1 on the last business day of a month",
    "quarter_end": "1 on the last business day of a quarter",
    "year_end": "1 on the last business day of a year",
    "reserves0": "reserves at the run start, USD tn, published by then, net of the Fed's repo",
    "onrrp0": "ON RRP take-up at the run start, USD tn (latest published)",
    "tga0": "TGA at the run start, USD tn (latest published)",
    "fed_purchases": "Fed outright Treasury purchases, USD bn a day by bucket (H.4.1 TREAST weekly "
    "increase spread over the week's days, split by fed.PURCHASE_SPLIT_MAR2020)",
}


@dataclass(frozen=True)
class RawFunding:
    """Store series a run's funding inputs come from (each a date-indexed Series, USD bn or %)."""

    iorb: pd.Series
    onrrp_rate: pd.Series
    ff_upper: pd.Series
    onrrp: pd.Series
    repo_overnight: pd.Series
    tga_daily: pd.Series
    tga_weekly: pd.Series
    reserves_weekly: pd.Series
    reserves_monthly: pd.Series
    fed_assets: pd.Series
    treasuries: pd.Series
    auctions: pd.DataFrame  # issue_date, security_type, security_term, offering_usd_bn


@dataclass
class EpisodeFunding:
    """A run's funding-market inputs: ``days[name]`` ``[T]`` per :data:`DAY_FIELDS` (USD tn, %,
    flags), the opening balances (USD tn), the regime of the curve, the source date of every
    value and every stated fallback."""

    dates: list[dt.date]
    days: dict[str, np.ndarray]
    reserves0: float
    onrrp0: float
    tga0: float
    regime: str
    source_dates: dict[str, np.ndarray]  # name -> [T] datetime64[D]
    opening_sources: dict[str, str]
    notes: list[str] = field(default_factory=list)
    #: Reserve flows the engine's FundingDay has no field for (USD tn a day, not passed on):
    #: ``fed_other_assets_change``, the week's change of the Fed's assets other than Treasuries and
    #: overnight repo (H.4.1 WALCL - TREAST - RPONTSYD: MBS runoff or purchases, term repo, swap
    #: lines, facilities) placed evenly over the week, a source of reserves (QT runoff a drain)
    #: left out of the run.
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    def config(self):
        """The funding curve of the regime (:meth:`basislab.sim.funding.FundingConfig.preset`)."""
        from basislab.sim.funding import FundingConfig

        return FundingConfig.preset(self.regime)

    def arrays(self) -> dict[str, np.ndarray | float]:
        """Keyword arrays for :func:`basislab.sim.scenario.funding_inputs`."""
        return {**self.days, "reserves0": self.reserves0, "onrrp0": self.onrrp0, "tga0": self.tga0}


# ----------------------------------------------------------------------------------------------
# calendar helpers


def business_days_between(a: dt.date, b: dt.date) -> list[dt.date]:
    """Government-bond business days ``d`` with ``a < d <= b``."""
    from basislab.analytics.calendar import advance

    out, d = [], advance(a, 1)
    while d <= b:
        out.append(d)
        d = advance(d, 1)
    return out


def reporting_flags(dates: list[dt.date]) -> dict[str, np.ndarray]:
    """Month-, quarter- and year-end flags: 1.0 where the next business day is in another month
    (from the calendar, so a run that ends mid-month flags no false month end)."""
    from basislab.analytics.calendar import advance

    nxt = [advance(d, 1) for d in dates]
    me = np.array([n.month != d.month for d, n in zip(dates, nxt, strict=True)], dtype=np.float64)
    qe = me * np.array([d.month % 3 == 0 for d in dates], dtype=np.float64)
    ye = me * np.array([d.month == 12 for d in dates], dtype=np.float64)
    return {"month_end": me, "quarter_end": qe, "year_end": ye}


def _dt64(days) -> np.ndarray:
    return np.array(
        [np.datetime64("NaT") if d is None else np.datetime64(d, "D") for d in days], dtype="datetime64[D]"
    )


def _asof(s: pd.Series, d: dt.date) -> tuple[float, dt.date] | None:
    s = s.dropna().loc[: pd.Timestamp(d)]
    if s.empty:
        return None
    return float(s.iloc[-1]), s.index[-1].date()


def _known(series: str, s: pd.Series, when: dt.date) -> tuple[float, dt.date] | None:
    """The latest observation of ``series`` published by the end of ``when``."""
    from basislab.data.pointintime import known_on

    s = s.dropna().loc[: pd.Timestamp(when)]
    for ts in reversed(s.index[-8:]):
        if known_on(series, ts.date()) <= when:
            return float(s[ts]), ts.date()
    return None


# ----------------------------------------------------------------------------------------------
# pure pieces


def allocate_weekly(
    levels: pd.Series,
    dates: list[dt.date],
    events: set[dt.date] = frozenset(),  # type: ignore[assignment]
    strict: bool = False,
    floor_zero: bool = False,
    from_day: dt.date | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Daily flows on ``dates`` from weekly levels (Wednesday H.4.1): the change between two
    consecutive levels ``w0 < w1`` is the flow of the business days in ``(w0, w1]``, placed on
    its ``events`` days when the week has any, else evenly (``strict``: all on ``w1``). With
    ``floor_zero`` a fall counts as zero (runoff is not a flow here); days before ``from_day`` get
    nothing and the week's change goes to its days from ``from_day`` on. Returns (flows, the
    source date of each value: the week's ``w1``; NaT where no week covers the day)."""
    lv = levels.dropna().sort_index()
    wk = [ts.date() for ts in lv.index]
    vals = lv.to_numpy(np.float64)
    flows = np.zeros(len(dates))
    src = np.full(len(dates), np.datetime64("NaT"), dtype="datetime64[D]")
    pos = {d: i for i, d in enumerate(dates)}
    lo = np.searchsorted(np.array(wk, dtype="datetime64[D]"), np.datetime64(dates[0], "D"))
    for i in range(max(int(lo), 1), len(wk)):
        w0, w1 = wk[i - 1], wk[i]
        if w0 > dates[-1]:
            break
        delta = vals[i] - vals[i - 1]
        if floor_zero:
            delta = max(delta, 0.0)
        days = business_days_between(w0, w1)
        if from_day is not None:
            days = [d for d in days if d >= from_day]
        if not days:
            continue
        if strict:  # on the Wednesday, or the next business day when it is a holiday
            if days[-1] != w1:
                days = [*days, business_days_between(w1, w1 + dt.timedelta(days=7))[0]]
            share = {days[-1]: 1.0}
        else:
            ev = [d for d in days if d in events]
            share = dict.fromkeys(ev, 1.0 / len(ev)) if ev else dict.fromkeys(days, 1.0 / len(days))
        for d in days:
            if d in pos and (not strict or d in share):  # strict: the other days use no data
                flows[pos[d]] += delta * share.get(d, 0.0)
                src[pos[d]] = np.datetime64(w1, "D")
    return flows, src


def _auction_amounts(auctions: pd.DataFrame) -> pd.Series:
    """USD bn per issue date: the offering amount, else the refunding size by term
    (:data:`basislab.sim.funding.AUCTION_SIZE_BN`, as the funding replay)."""
    from basislab.sim.funding import AUCTION_SIZE_BN, _size_bn

    if auctions.empty:
        return pd.Series(dtype=float)
    amounts = []
    for _, r in auctions.iterrows():
        d = pd.Timestamp(r["issue_date"])
        if pd.notna(r.get("offering_usd_bn")):
            amounts.append(float(r["offering_usd_bn"]))
            continue
        kind = str(r.get("security_type") or "")
        table = AUCTION_SIZE_BN[2019 if d.year < 2022 else 2025]
        if kind == "FRN":
            amounts.append(float(table["frn"][1]))
        elif kind == "TIPS":
            amounts.append(float(table["tips"][1]))
        else:
            amounts.append(_size_bn(str(r["security_term"]), d.year))
    idx = pd.DatetimeIndex(pd.to_datetime(auctions["issue_date"]))
    return pd.Series(amounts, index=idx).groupby(level=0).sum()


def settlements_on(auctions: pd.DataFrame, dates: list[dt.date]) -> np.ndarray:
    """Coupon settlements (USD tn) on each run day; an issue dated on a non-business day settles
    on the next run day (as :func:`basislab.sim.funding.coupon_settlements`)."""
    by_day = _auction_amounts(auctions)
    out = np.zeros(len(dates))
    idx = np.array(dates, dtype="datetime64[D]")
    for ts, v in by_day.items():
        d = np.datetime64(ts.date(), "D")
        if d < idx[0] - np.timedelta64(0, "D"):
            continue
        p = int(np.searchsorted(idx, d))
        if p < len(dates):
            out[p] += v / 1000.0
    return out


def _rate_path(
    s: pd.Series, dates: list[dt.date], what: str, notes: list[str]
) -> tuple[np.ndarray, np.ndarray, int]:
    """Rate in force on each day (latest dated on or before it); NaN after the series ends.
    Returns (values, source dates, index of the first day past the series' end)."""
    s = s.dropna()
    if s.empty:
        return np.full(len(dates), np.nan), _dt64([None] * len(dates)), 0
    last = s.index[-1].date()
    vals, src = [], []
    for d in dates:
        hit = _asof(s, d) if d <= last else None
        vals.append(np.nan if hit is None else hit[0])
        src.append(None if hit is None else hit[1])
    past = next((i for i, d in enumerate(dates) if d > last), len(dates))
    if past < len(dates) and what:
        notes.append(f"{what}: the store's series ends {last}")
    return np.array(vals), _dt64(src), past


def _daily_change(
    s: pd.Series, run_start: dt.date, dates: list[dt.date]
) -> tuple[np.ndarray, np.ndarray, dt.date | None]:
    """Change of a daily level on each run day vs the previous run day (the run start for the
    first); a day without an observation carries the last level (change 0). USD bn."""
    s = s.dropna()
    prev = _asof(s, run_start)
    level = prev[0] if prev else np.nan
    out, src = np.zeros(len(dates)), []
    last = s.index[-1].date() if len(s) else None
    for i, d in enumerate(dates):
        hit = _asof(s, d)
        if hit is None or np.isnan(level):
            level = hit[0] if hit else level
            src.append(hit[1] if hit else None)
            continue
        out[i] = hit[0] - level
        level = hit[0]
        src.append(hit[1])
    return out, _dt64(src), last


def _fed_repo(raw: RawFunding, run_start: dt.date, dates: list[dt.date], notes: list[str]) -> tuple:
    """Fed repo outstanding (USD bn) reaching each morning: the overnight operation of the day
    once the programme ran the day before (:func:`basislab.sim.funding.fed_repo_available`), plus
    term operations for their term from the day after settlement. Zero from 2021 (RPONTSYD is
    then the SRF's take-up, a model output)."""
    out = np.zeros(len(dates))
    src = _dt64(dates)
    if dates[0] >= SRF_START:
        return out, src
    ov = raw.repo_overnight.dropna()
    idx = pd.DatetimeIndex([pd.Timestamp(run_start), *[pd.Timestamp(d) for d in dates]])
    day = ov.reindex(idx).fillna(0.0)
    running = day.shift(1).fillna(0.0) > 0
    out += day.where(running, 0.0).to_numpy()[1:]
    for settle, (amount, term) in TERM_REPO.items():
        sd = dt.date.fromisoformat(settle)
        live = set(business_days_between(sd, sd + dt.timedelta(days=3 * term))[:term])
        out += np.array([amount if d in live else 0.0 for d in dates])
    if dates[0] <= TERM_REPO_GAP[1] and dates[-1] >= TERM_REPO_GAP[0]:
        notes.append(
            "fed_repo: the Fed's term repo operations of Oct 2019-Jul 2020 are not in the data except "
            "12 Mar 2020 (USD 78.4bn, 3 months); the others are missing from the input (understated)"
        )
    if len(ov) and dates[-1] > ov.index[-1].date():
        notes.append(f"fed_repo: RPONTSYD in the store ends {ov.index[-1].date()}; zero after")
    return out, src


def _other_fed_assets(raw: RawFunding, dates: list[dt.date]) -> tuple[np.ndarray, np.ndarray]:
    """USD bn a day: the weekly change of WALCL - TREAST - RPONTSYD (Wednesday levels) spread over
    the week's days."""
    wk = raw.fed_assets.dropna()
    if wk.empty:
        return np.zeros(len(dates)), _dt64([None] * len(dates))
    tr = raw.treasuries.reindex(wk.index).ffill()
    repo = raw.repo_overnight.reindex(wk.index).fillna(0.0)
    return allocate_weekly((wk - tr - repo).dropna(), dates)


def _opening_reserves(raw: RawFunding, run_start: dt.date, notes: list[str]) -> tuple[float, str]:
    """Reserves at the run start (USD bn), from data published by then, net of the Fed's repo."""
    wk = _known("WRESBAL", raw.reserves_weekly, run_start)
    if wk is not None and (run_start - wk[1]).days <= 10:
        level, when = wk
        tga_then, tga_now = _asof(raw.tga_daily, when), _known("TGA_DTS", raw.tga_daily, run_start)
        rrp_then, rrp_now = _asof(raw.onrrp, when), _known("RRPONTSYD", raw.onrrp, run_start)
        adj = 0.0
        if tga_then and tga_now:
            adj -= tga_now[0] - tga_then[0]
        if rrp_then and rrp_now:
            adj -= rrp_now[0] - rrp_then[0]
        return level + adj, (
            f"WRESBAL {level:,.1f} (Wednesday {when}) carried to the run start with the published TGA "
            f"and ON RRP changes since ({adj:+,.1f})"
        )
    mo = _known("TOTRESNS", raw.reserves_monthly, run_start)
    if mo is None:
        raise DataError(f"no reserves published by {run_start} in the store (WRESBAL, TOTRESNS)")
    level, month = mo
    m0, m1 = pd.Timestamp(month), pd.Timestamp(month) + pd.offsets.MonthEnd(0)

    def mean_in_month(s: pd.Series) -> float | None:
        x = s.dropna().loc[m0:m1]
        return float(x.mean()) if len(x) else None

    repo = raw.repo_overnight.fillna(0.0)
    assets = (raw.fed_assets - repo.reindex(raw.fed_assets.index).fillna(0.0)).dropna()
    parts, adj = [], 0.0
    for name, series, s, sign in (
        ("Fed assets ex repo", "WALCL", assets, 1.0),
        ("TGA", "WTREGEN", raw.tga_weekly, -1.0),
        ("ON RRP", "RRPONTSYD", raw.onrrp, -1.0),
    ):
        now, base = _known(series, s, run_start), mean_in_month(s)
        if now is None or base is None:
            notes.append(f"reserves0: no {name} to carry the {month:%Y-%m} average to {run_start}")
            continue
        adj += sign * (now[0] - base)
        parts.append(f"{name} {sign * (now[0] - base):+,.1f}")
    repo_mean = mean_in_month(repo) or 0.0
    notes.append(
        f"reserves0: no weekly reserves before 2021-06; the {month:%Y-%m} average (TOTRESNS "
        f"{level:,.1f}bn, published by {run_start}) carried to the run start ({', '.join(parts)}; "
        f"currency and other liabilities held at that month's level: an assumption)"
    )
    return level - repo_mean + adj, (
        f"TOTRESNS {month:%Y-%m} {level:,.1f} - Fed repo {repo_mean:,.1f} {' '.join(parts)}"
    )


def funding_inputs(
    raw: RawFunding,
    dates: list[dt.date],
    run_start: dt.date,
    events: set[dt.date] = frozenset(),  # type: ignore[assignment]
    regime: str | None = None,
    allocation: str = "within_week",
) -> EpisodeFunding:
    """The funding market's inputs of a run (module doc): one value per day of ``dates`` (the
    business days after ``run_start``), opening balances published by ``run_start``. ``events``:
    tax dates, on which (and on large settlement days) a week's TGA change is placed. Pure: reads
    only ``raw``."""
    if allocation not in ("within_week", "strict"):
        raise DataError(f"allocation must be 'within_week' or 'strict', got {allocation!r}")
    if not dates or dates[0] <= run_start or any(b <= a for a, b in zip(dates, dates[1:], strict=False)):
        raise DataError("dates must be increasing business days after the run start")
    notes: list[str] = []
    regime = regime or ("2025" if run_start.year >= REGIME_2025_FROM else "2019")
    days: dict[str, np.ndarray] = {}
    src: dict[str, np.ndarray] = {}
    # administered rates
    iorb, src["iorb_pct"], past = _rate_path(raw.iorb, dates, "IORB", notes)
    if past < len(dates):
        iorb[past:] = iorb[past - 1] if past else np.nan
        src["iorb_pct"][past:] = src["iorb_pct"][past - 1] if past else np.datetime64("NaT")
    if np.isnan(iorb).any():
        raise DataError(f"no IORB/IOER in the store for the run from {run_start}")
    days["iorb_pct"] = iorb
    rrp_rate, src["onrrp_rate_pct"], past = _rate_path(raw.onrrp_rate, dates, "", notes)
    if past < len(dates):
        spread = _asof(raw.iorb, raw.onrrp_rate.dropna().index[-1].date())[0] - float(  # type: ignore[index]
            raw.onrrp_rate.dropna().iloc[-1]
        )
        rrp_rate[past:] = iorb[past:] - spread
        src["onrrp_rate_pct"][past:] = src["iorb_pct"][past:]
        notes.append(
            f"onrrp_rate_pct: the ON RRP rate ends {raw.onrrp_rate.dropna().index[-1].date()} in the store; "
            f"after it IORB minus its last spread ({spread * 100:.0f}bp: bottom of the target range)"
        )
    days["onrrp_rate_pct"] = rrp_rate
    upper, src_up, past = _rate_path(raw.ff_upper, dates, "", notes)
    if past < len(dates):
        last = raw.ff_upper.dropna().index[-1].date()
        top = float(raw.ff_upper.dropna().iloc[-1]) - _asof(raw.iorb, last)[0]  # type: ignore[index]
        upper[past:] = iorb[past:] + top
        src_up[past:] = src["iorb_pct"][past:]
        if dates[-1] >= SRF_START:
            notes.append(
                f"srf_rate_pct: the target range ends {last} in the store; after it IORB + {top * 100:.0f}bp "
                "(the SRF minimum bid is the top of the range, srf_params_2025h1)"
            )
    has_srf = np.array([d >= SRF_START for d in dates])
    days["srf_rate_pct"] = np.where(has_srf, upper, NO_SRF_PCT)
    src["srf_rate_pct"] = np.where(has_srf, src_up, _dt64(dates))
    # Treasury: settlements and the TGA
    days["coupon_settlement"] = settlements_on(raw.auctions, dates)
    src["coupon_settlement"] = _dt64(dates)
    if len(raw.auctions):
        last_issue = pd.Timestamp(raw.auctions["issue_date"].max()).date()
        if dates[-1] > last_issue:
            notes.append(f"coupon_settlement: the store's auctions end (issue date) {last_issue}; none after")
    dts = raw.tga_daily.dropna()
    daily_from = dts.index[0].date() if len(dts) else None
    if daily_from is not None and daily_from <= run_start:
        flows, src["treasury_net_receipts"], last = _daily_change(dts, run_start, dates)
        tga_source = "TGA_DTS"
    else:
        settle_days = {
            d for d, v in zip(dates, days["coupon_settlement"], strict=True) if v > EVENT_SETTLEMENT_TN
        }
        flows, src["treasury_net_receipts"] = allocate_weekly(
            raw.tga_weekly, dates, set(events) | settle_days, strict=allocation == "strict"
        )
        tw = raw.tga_weekly.dropna()
        last = tw.index[-1].date() if len(tw) else None
        tga_source = "WTREGEN"
        notes.append(
            "treasury_net_receipts: no daily TGA before 2021-06-24 in the store; each week's H.4.1 change "
            + ("on its Wednesday" if allocation == "strict" else "placed on its tax and settlement days")
        )
    if last is None or dates[-1] > last:
        notes.append(f"treasury_net_receipts: the TGA in the store ends {last}; zero after")
    days["treasury_net_receipts"] = flows / 1000.0
    rrp_flow, src["onrrp_change"], last = _daily_change(raw.onrrp, run_start, dates)
    if last is None or dates[-1] > last:
        notes.append(f"onrrp_change: ON RRP take-up in the store ends {last}; zero after")
    days["onrrp_change"] = rrp_flow / 1000.0
    repo, src["fed_repo"] = _fed_repo(raw, run_start, dates, notes)
    days["fed_repo"] = repo / 1000.0
    other, _ = _other_fed_assets(raw, dates)
    if np.abs(other).sum() > 0:
        notes.append(
            f"reserves: the Fed's other assets (MBS, swap lines, facilities; H.4.1 WALCL - TREAST - repo) moved "
            f"{other.sum():+,.0f}bn over the run, a reserve flow as it happened (sim.episodes.with_funding "
            "adds EpisodeFunding.extra['fed_other_assets_change'] to the reserves)"
        )
    flags = reporting_flags(dates)
    days.update(flags)
    src.update(dict.fromkeys(flags, _dt64(dates)))
    # opening balances
    r0, r_src = _opening_reserves(raw, run_start, notes)
    q0 = _known("RRPONTSYD", raw.onrrp, run_start)
    t0 = _known(tga_source, raw.tga_daily if tga_source == "TGA_DTS" else raw.tga_weekly, run_start)
    if t0 is None:
        raise DataError(f"no TGA published by {run_start} in the store")
    opening = {
        "reserves0": r_src,
        "onrrp0": f"RRPONTSYD {q0[0]:,.1f} ({q0[1]})" if q0 else "RRPONTSYD: none published; 0",
        "tga0": f"{tga_source} {t0[0]:,.1f} ({t0[1]})",
    }
    return EpisodeFunding(
        list(dates),
        {k: days[k] for k in DAY_FIELDS},
        r0 / 1000.0,
        (q0[0] if q0 else 0.0) / 1000.0,
        t0[0] / 1000.0,
        regime,
        {k: src[k] for k in DAY_FIELDS},
        opening,
        notes,
        {"fed_other_assets_change": other / 1000.0},
    )


def fed_purchases(
    treasuries: pd.Series,
    dates: list[dt.date],
    start: dt.date | None = None,
    split: tuple[float, ...] | None = None,
    allocation: str = "within_week",
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The Fed's outright Treasury purchases as they happened, USD bn a day by bucket
    ``[T, K]`` (2y, 5y, 10y, long): each week's increase of its holdings (H.4.1 TREAST, Wednesday
    levels) spread evenly over the week's business days from ``start`` (the first purchase
    operation; earlier increases are bill purchases for reserve management, outside the futures
    buckets), split by ``split`` (default :data:`basislab.sim.fed.PURCHASE_SPLIT_MAR2020`: the
    store has no maturities). Falls (runoff at maturity) count as zero. Returns (purchases,
    source dates, notes)."""
    from basislab.sim.fed import PURCHASE_SPLIT_MAR2020

    mix = np.asarray(split or PURCHASE_SPLIT_MAR2020, dtype=np.float64)
    mix = mix / mix.sum()
    notes: list[str] = []
    tr = treasuries.dropna()
    total, src = allocate_weekly(tr, dates, strict=allocation == "strict", floor_zero=True, from_day=start)
    if tr.empty or dates[-1] > tr.index[-1].date():
        last = tr.index[-1].date() if len(tr) else None
        notes.append(
            f"fed_purchases: the Fed's Treasury holdings (TREAST) in the store end {last}; zero after"
        )
    notes.append(
        "fed_purchases: weekly H.4.1 increases of Treasury holdings spread over the week's days and split "
        f"{'/'.join(f'{v:g}' for v in (split or PURCHASE_SPLIT_MAR2020))} (2y/5y/10y/long; the store has no "
        "maturities of the purchases); TIPS and bills inside the weekly change are counted in the buckets"
    )
    return total[:, None] * mix[None, :], src, notes


# ----------------------------------------------------------------------------------------------
# I/O edge


def load_raw(con, start: dt.date, end: dt.date) -> RawFunding:
    """The store's series (whole: a rate set years before the run is still in force) and the
    coupon auctions settling from ``start`` on (``end`` is kept for the signature's sake)."""
    del end
    from basislab.data.feeds import series_frame

    def get(key: str) -> pd.Series:
        return series_frame(con, key)

    auctions = con.execute(
        "SELECT issue_date, security_type, security_term, offering_usd_bn FROM auctions "
        "WHERE issue_date >= ? AND security_type NOT IN ('Bill', 'CMB') ORDER BY issue_date",
        [start],
    ).df()
    return RawFunding(
        get("IORB"), get("ONRRP_RATE"), get("FF_TARGET_UPPER"), get("RRPONTSYD"), get("RPONTSYD"),
        get("TGA_DTS"), get("WTREGEN"), get("WRESBAL"), get("TOTRESNS"), get("WALCL"), get("TREAST"),
        auctions,
    )  # fmt: skip


def for_episode(con, key: str, dates: list[dt.date], allocation: str = "within_week"):
    """The funding inputs and the Fed's purchases of episode ``key`` on ``dates``: (EpisodeFunding,
    purchases ``[T, K]`` USD bn a day, notes). Purchases are inputs only where the episode says so
    (``fed_treasury_holdings_change_usd_bn``; elsewhere the holdings are observed and this is zero)."""
    from basislab.data import episodes as D

    spec = D.episode(key)
    run_start = spec.run_start
    raw = load_raw(con, run_start, dates[-1])
    taxes = set(D.tax_dates(run_start, dates[-1])["date"])
    fund = funding_inputs(raw, dates, run_start, taxes, allocation=allocation)
    if "fed_treasury_holdings_change_usd_bn" in spec.inputs:
        buys, _, more = fed_purchases(raw.treasuries, dates, FIRST_PURCHASE.get(key), allocation=allocation)
    else:
        buys, more = np.zeros((len(dates), 4)), []
    return fund, buys, fund.notes + more


#: First outright purchase operation of an episode where its purchases are an input
#: (fed_purch_start: 13 Mar 2020).
FIRST_PURCHASE = {"mar-2020": dt.date(2020, 3, 13)}
