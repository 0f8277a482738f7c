"""Point-in-time lookups: the value of a series **as it was known** at the end of a date.

An observation dated ``d`` is known from its release date ``known_on(series, d)``; a lookup
"as of D" uses the latest observation with ``known_on <= D`` and never anything later. Release
rules (see :data:`RELEASE`; business days on the US government-bond calendar):

- ``same_day``: administered rates set in advance (IORB/IOER, the fed funds target range, the
  ON RRP and discount rates) and end-of-day market closes (Treasury par curve, futures);
- ``next_business_day``: NY Fed reference rates (SOFR, BGCR, TGCR, EFFR, OBFR are published at
  8:00 ET the next business day), Fed operations results summarised by FRED the next day, the H.4.1
  Wednesday levels (released Thursday 4:30 pm ET: TREAST, WALCL, WTREGEN, WRESBAL) and the Daily
  Treasury Statement (published at 4:00 pm ET the next business day);
- ``cftc_tff``: positions as of a Tuesday are released on the Friday (3:30 pm ET) of that week,
  three calendar days later, moved to the next business day if that is a holiday;
- ``monthly_average``: a monthly average dated the first of month M (``TOTRESNS``) includes
  days up to the end of M and was released in the second half of M+1 (H.3 until September
  2020, H.6 after). **Assumption**: known on the 28th of M+1 (later than every release we
  checked, e.g. H.3 of 2012-09-13 for August 2012). Using it earlier is look-ahead: the March
  2020 average of USD 2,099bn includes the late-March reserve surge.

A value whose release is older than the series' staleness limit (7 days daily, 10 weekly, 45
monthly, counted from its release) is ``stale``; callers decide whether that is an error or a
stated fallback with a warning (see :func:`basislab.data.feeds.initial_conditions`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import duckdb
import pandas as pd

from basislab.data.catalog import SERIES
from basislab.errors import DataError

#: Largest gap (days) between the as-of date and the **release** of the value used for it.
STALE_DAYS = {"daily": 7, "weekly": 10, "monthly": 45}
#: A CFTC row older than this (report date to as-of date) is said in a warning: a Tuesday row is
#: the latest known until the next Friday (10 days), 13 when a holiday moves the release to Monday.
TFF_MAX_LAG_DAYS = 14

_SAME_DAY = {"IORB", "FF_TARGET_UPPER", "FF_TARGET_LOWER", "ONRRP_RATE", "DPCREDIT"}
_MONTHLY_AVERAGE = {"TOTRESNS"}
MONTHLY_RELEASE_DAY = 28

RELEASE: dict[str, str] = {
    key: (
        "same_day"
        if key in _SAME_DAY
        else "monthly_average"
        if key in _MONTHLY_AVERAGE
        else "next_business_day"
    )
    for key in SERIES
}
RELEASE.update({"CFTC_TFF": "cftc_tff", "PAR_CURVE": "same_day", "FUTURES": "same_day"})


@lru_cache(maxsize=20_000)
def _next_business_day(d: dt.date) -> dt.date:
    from basislab.analytics.calendar import advance

    return advance(d, 1)


@lru_cache(maxsize=20_000)
def _on_business_day(d: dt.date) -> dt.date:
    from basislab.analytics.calendar import advance, is_business_day

    return d if is_business_day(d) else advance(d, 1)


def known_on(series: str, obs_date: dt.date) -> dt.date:
    """The first date at whose end an observation of ``series`` dated ``obs_date`` was public."""
    rule = RELEASE.get(series)
    if rule is None:
        raise DataError(f"no release rule for series {series!r}; known: {sorted(RELEASE)}")
    if rule == "same_day":
        return obs_date
    if rule == "next_business_day":
        return _next_business_day(obs_date)
    if rule == "cftc_tff":
        return _on_business_day(obs_date + dt.timedelta(days=3))
    # monthly average dated the first of its month: known on the 28th of the next month
    y, m = (obs_date.year + 1, 1) if obs_date.month == 12 else (obs_date.year, obs_date.month + 1)
    return dt.date(y, m, MONTHLY_RELEASE_DAY)


@dataclass(frozen=True)
class Observation:
    """One value used as of a date: what, when observed, when published, from which file."""

    series: str
    value: float
    date: dt.date
    known_on: dt.date
    source: str
    stale: bool

    def describe(self) -> str:
        return f"{self.series} {self.value:g} observed {self.date}, published {self.known_on} ({self.source})"


def series_known(con: duckdb.DuckDBPyConnection, series: str, when: dt.date) -> pd.DataFrame:
    """Every observation of ``series`` known at the end of ``when``: ``date, value, source`` (by date)."""
    if series not in SERIES:
        raise DataError(f"unknown series {series!r}; known: {sorted(SERIES)}")
    table = SERIES[series].table
    df = con.execute(
        f"SELECT date, value, source FROM {table} WHERE series = ? AND date <= ? ORDER BY date",
        [series, when],
    ).df()
    df["date"] = pd.to_datetime(df["date"]).dt.date
    # Only observations of the last two months can still be unpublished on `when`.
    recent = df["date"] > when - dt.timedelta(days=62)
    unpublished = [bool(r) and known_on(series, d) > when for d, r in zip(df["date"], recent)]
    return df[~pd.Series(unpublished, index=df.index, dtype=bool)].reset_index(drop=True)


def asof(con: duckdb.DuckDBPyConnection, series: str, when: dt.date) -> Observation | None:
    """The latest observation of ``series`` known at the end of ``when`` (None if there is none)."""
    df = series_known(con, series, when)
    if df.empty:
        return None
    r = df.iloc[-1]
    k = known_on(series, r["date"])
    stale = (when - k).days > STALE_DAYS[SERIES[series].frequency]
    return Observation(series, float(r["value"]), r["date"], k, str(r["source"]), stale)


def reserves_asof(con: duckdb.DuckDBPyConnection, when: dt.date) -> tuple[Observation | None, list[str]]:
    """Reserve balances known at the end of ``when``: the weekly H.4.1 level (``WRESBAL``), else the
    latest **published** monthly average (``TOTRESNS``) with a warning that says so."""
    weekly = asof(con, "WRESBAL", when)
    if weekly is not None and not weekly.stale:
        return weekly, []
    monthly = asof(con, "TOTRESNS", when)
    if monthly is None:
        return weekly, []
    month = monthly.date.strftime("%Y-%m")
    why = (
        "no weekly reserves (WRESBAL) in the store"
        if weekly is None
        else f"the latest weekly reserves (WRESBAL) are from {weekly.date}"
    )
    return monthly, [
        f"reserves: {why}; used the {month} monthly average (TOTRESNS, USD {monthly.value:,.1f}bn, "
        f"assumed published by {monthly.known_on}); run `basislab data refresh --source fred` for weekly data"
    ]


def tff_asof(con: duckdb.DuckDBPyConnection, when: dt.date) -> pd.DataFrame:
    """Each contract's latest CFTC TFF row released by the end of ``when`` (report date <= when - 3 days,
    Friday release), with ``known_on`` and ``lag_days`` (when - report date)."""
    df = con.execute(
        "SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY contract ORDER BY report_date DESC) AS k "
        "FROM cftc_tff WHERE report_date <= ?) WHERE k <= 3 ORDER BY contract, report_date DESC",
        [when],
    ).df()
    if df.empty:
        return df
    df["report_date"] = pd.to_datetime(df["report_date"]).dt.date
    df["known_on"] = [known_on("CFTC_TFF", d) for d in df["report_date"]]
    df = df[df["known_on"] <= when]
    df = df.groupby("contract", as_index=False).head(1).drop(columns="k").reset_index(drop=True)
    df["lag_days"] = [(when - d).days for d in df["report_date"]]
    return df
