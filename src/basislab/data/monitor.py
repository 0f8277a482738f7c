"""The basis-trade market monitor: how large and how fragile the trade is on a date.

Each indicator is a series in the store (or derived from it). On the monitor date D it reports
the latest observation on or before D (its own ``date``), the change from the previous
observation, and a z-score of the value against the indicator's own history over the
``ZSCORE_YEARS`` years up to and including that observation (no look-ahead; a monthly average,
the reserves of depository institutions, counts only from its release, see
:mod:`basislab.data.pointintime`). An indicator whose
latest observation is older than its lag limit (7 days daily, 10 weekly, 45 monthly) is flagged
``stale``: the store needs a refresh for that series.

Basis-trade size estimate (``basis_trade_size_usd_bn``): the sum over the six Treasury futures
contracts of leveraged funds' net short positions (short minus long, floored at zero per contract)
in USD notional (see :mod:`basislab.data.feeds` for the prices), on weeks where all core contracts
are in the data. A leveraged fund's net short futures position is the leg a cash-futures basis
trade holds against long cash Treasuries financed in repo; gross shorts (also reported) include
spread and calendar positions and bound the estimate from above. Published comparisons: Form PF
based basis trade USD 830bn in 2025-09 (Monin 2026, id ``bt_size_2025q3``); leveraged funds' short
Treasury futures USD 860bn on 2023-05-09 (Barth, Kahn & Mann 2023, ``cftc_lev_short_total_2023may``);
net short about USD 600bn in Aug/Sep 2023 (BIS QR Sep 2023, ``cftc_lev_net_short_2023``).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from basislab.data import feeds, pointintime
from basislab.data.catalog import CONTRACTS, NYFED_ATTRIBUTION, SERIES
from basislab.data.store import scalar
from basislab.errors import DataError

ZSCORE_YEARS = 5
#: Indicator groups of which at least one must have data on the monitor date.
CORE_GROUPS = ("positions", "funding", "basis")
MIN_HISTORY = 20

BASIS_METHOD = (
    "sum over TU, FV, TY, TN, US, UB of leveraged-fund net short futures (short - long, floored at 0) x face x "
    "price/100, CFTC TFF futures only, weeks with all core contracts; upper bound: gross shorts. Compare: Form PF "
    "basis trade $830bn 2025-09 (Monin, FEDS Note 2026); lev. fund shorts $860bn 2023-05-09 (Barth, Kahn & Mann, "
    "FEDS Note 2023)"
)


@dataclass
class Indicator:
    """One monitor line: level, change, z-score and where it comes from."""

    name: str
    group: str
    label: str
    date: str | None
    value: float | None
    unit: str
    zscore: float | None
    source: str
    change: float | None = None
    previous_date: str | None = None
    stale: bool = False
    frequency: str = "daily"
    note: str = ""
    history: pd.Series | None = field(default=None, repr=False)

    def as_json(self) -> dict:
        d = asdict(self)
        d.pop("history")
        for k in ("value", "zscore", "change"):
            v = d[k]
            d[k] = (
                None if v is None or (isinstance(v, float) and not math.isfinite(v)) else round(float(v), 6)
            )
        return d


_PRICE_DATES: dict[str, pd.Series] = {}


def _price_note(name: str, obs: pd.Timestamp) -> str:
    """A note when a USD notional is priced off a par curve or close far from the position's date."""
    if not name.endswith("_usd_bn") or name.startswith(("onrrp", "reserves", "fed_", "tga")):
        return ""
    key = name.split("_")[0] if name.split("_")[0] in CONTRACTS else "total"
    pdates = _PRICE_DATES.get(key)
    if pdates is None or obs not in pdates.index or pdates[obs] is None:
        return ""
    used = pd.Timestamp(pdates[obs])
    lag = (obs - used).days
    return f"priced off data of {used.date()} ({lag} days earlier; refresh the par curve)" if lag > 10 else ""


def _history(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str, str, str, pd.Series, str]]:
    """Every indicator's full series: (name, group, label, unit, frequency, series, source)."""
    out = []
    pos = feeds.positions(con)
    _PRICE_DATES.clear()
    for root, g in pos.groupby("contract"):
        _PRICE_DATES[root] = pd.Series(g["price_date"].to_numpy(), index=pd.to_datetime(g["report_date"]))
    tot_dates = pos.groupby("report_date")["price_date"].min()
    _PRICE_DATES["total"] = pd.Series(tot_dates.to_numpy(), index=pd.to_datetime(tot_dates.index))
    cftc = "CFTC Traders in Financial Futures, futures only (cftc_tff)"
    usd_src = cftc + "; " + feeds.PRICE_METHOD
    for root in CONTRACTS:
        p = pos[pos.contract == root].set_index(pd.to_datetime(pos[pos.contract == root].report_date))
        if p.empty:
            continue
        name = CONTRACTS[root].name
        out += [
            (
                f"{root}_lev_short_contracts",
                "positions",
                f"{root} leveraged-fund gross short ({name})",
                "contracts",
                "weekly",
                p["lev_short"].astype(float),
                cftc,
            ),
            (
                f"{root}_lev_net_short_contracts",
                "positions",
                f"{root} leveraged-fund net short (short - long)",
                "contracts",
                "weekly",
                p["lev_net_short"].astype(float),
                cftc,
            ),
            (
                f"{root}_am_long_contracts",
                "positions",
                f"{root} asset-manager long",
                "contracts",
                "weekly",
                p["am_long"].astype(float),
                cftc,
            ),
            (
                f"{root}_lev_short_usd_bn",
                "positions_usd",
                f"{root} leveraged-fund gross short notional",
                "USD bn",
                "weekly",
                p["lev_short_usd_bn"],
                usd_src,
            ),
            (
                f"{root}_lev_net_short_usd_bn",
                "positions_usd",
                f"{root} leveraged-fund net short notional",
                "USD bn",
                "weekly",
                p["lev_net_short_usd_bn"],
                usd_src,
            ),
            (
                f"{root}_am_long_usd_bn",
                "positions_usd",
                f"{root} asset-manager long notional",
                "USD bn",
                "weekly",
                p["am_long_usd_bn"],
                usd_src,
            ),
        ]
    full = feeds.full_coverage_weeks(pos)
    pf = pos[pos.report_date.isin(set(full))].copy()
    pf["lev_net_short_pos_usd_bn"] = pf["lev_net_short_usd_bn"].clip(lower=0)
    tot = pf.groupby("report_date")[["lev_short_usd_bn", "lev_net_short_pos_usd_bn", "am_long_usd_bn"]].sum()
    tot.index = pd.to_datetime(tot.index)
    out += [
        (
            "basis_trade_size_usd_bn",
            "basis",
            "Basis-trade size estimate (lev. funds' net short futures notional)",
            "USD bn",
            "weekly",
            tot["lev_net_short_pos_usd_bn"],
            "estimate: " + BASIS_METHOD,
        ),
        (
            "total_lev_short_usd_bn",
            "basis",
            "Leveraged funds' gross short Treasury futures, all contracts",
            "USD bn",
            "weekly",
            tot["lev_short_usd_bn"],
            usd_src,
        ),
        (
            "total_am_long_usd_bn",
            "basis",
            "Asset managers' long Treasury futures, all contracts",
            "USD bn",
            "weekly",
            tot["am_long_usd_bn"],
            usd_src,
        ),
    ]

    def s(key):
        return feeds.series_frame(con, key)

    sofr, iorb, top, tgcr = s("SOFR"), s("IORB"), s("FF_TARGET_UPPER"), s("TGCR")
    nyfed = "Federal Reserve Bank of New York"
    out += [
        ("sofr_pct", "funding", "SOFR", "percent", "daily", sofr, f"{nyfed}, SOFR (rates_daily/SOFR)"),
        (
            "iorb_pct",
            "funding",
            "Interest on reserve balances (IOER before 2021-07-29)",
            "percent",
            "daily",
            iorb,
            "Federal Reserve Board via FRED (rates_daily/IORB)",
        ),
        (
            "sofr_minus_iorb_bp",
            "funding",
            "SOFR minus IORB",
            "bp",
            "daily",
            ((sofr - iorb) * 100).dropna(),
            f"{nyfed} SOFR; Federal Reserve Board IORB (rates_daily)",
        ),
        (
            "sofr_minus_ff_top_bp",
            "funding",
            "SOFR minus top of the fed funds target range",
            "bp",
            "daily",
            ((sofr - top) * 100).dropna(),
            f"{nyfed} SOFR; FOMC target range via FRED (rates_daily)",
        ),
        (
            "tgcr_minus_ff_top_bp",
            "funding",
            "TGCR (tri-party repo) minus top of the fed funds range",
            "bp",
            "daily",
            ((tgcr - top) * 100).dropna(),
            f"{nyfed} TGCR; FOMC target range via FRED (rates_daily)",
        ),
    ]
    for name, key, label in [
        ("onrrp_takeup_usd_bn", "RRPONTSYD", "ON RRP take-up"),
        ("reserves_usd_bn", "TOTRESNS", "Reserves of depository institutions (monthly average)"),
        ("reserve_balances_usd_bn", "WRESBAL", "Reserve balances, Wednesday level (H.4.1)"),
        ("fed_treasury_holdings_usd_bn", "TREAST", "Fed holdings of Treasury securities"),
        (
            "fed_repo_ops_usd_bn",
            "RPONTSYD",
            "Fed repo operations incl. Standing Repo Facility (Treasury collateral)",
        ),
        ("tga_usd_bn", "WTREGEN", "Treasury General Account"),
        ("tga_daily_usd_bn", "TGA_DTS", "Treasury General Account, daily close (DTS)"),
    ]:
        meta = SERIES[key]
        out.append(
            (
                name,
                "fed",
                label,
                meta.unit,
                meta.frequency,
                s(key),
                f"{meta.publisher} ({'via FRED, ' if meta.publisher != 'OFR' else ''}{meta.table}/{key})",
            )
        )
    return out


def _zscore(hist: pd.Series, at: pd.Timestamp) -> float | None:
    window = hist.loc[at - pd.DateOffset(years=ZSCORE_YEARS) : at]
    if len(window) < MIN_HISTORY:
        return None
    sd = window.std(ddof=1)
    if not sd or not math.isfinite(sd):
        return None
    return float((window.iloc[-1] - window.mean()) / sd)


def latest_date(con: duckdb.DuckDBPyConnection) -> dt.date:
    """The latest date with any observation in the store's monitored tables."""
    dates = [
        scalar(con, "SELECT max(report_date) FROM cftc_tff"),
        scalar(con, "SELECT max(date) FROM rates_daily"),
        scalar(con, "SELECT max(date) FROM fed_balance_sheet"),
    ]
    dates = [d for d in dates if d is not None]
    if not dates:
        raise DataError(
            "the store holds no data; delete it to rebuild from the snapshot, or run `basislab data refresh`"
        )
    return max(dates)


def compute(
    date: dt.date | str | None = None,
    db: str | Path | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    with_history: bool = False,
) -> tuple[dt.date, list[Indicator]]:
    """All monitor indicators on ``date`` (None: the latest date in the store).

    A date with no data (no futures position and no funding rate within its lag limit: before the
    store's positions start or long after it ends) is a :class:`DataError` (the CLI exits 2),
    never a table of stale lines with exit code 0."""
    from basislab.data.store import connect

    c = con if con is not None else connect(db, read_only=True)
    try:
        d = feeds.as_date(date) or latest_date(c)
        rows = _history(c)
    finally:
        if con is None:
            c.close()
    at = pd.Timestamp(d)
    out = []
    for name, group, label, unit, freq, hist, source in rows:
        hist = hist.dropna().sort_index()
        if "SOFR" in source or "TGCR" in source:
            source = source + ". " + NYFED_ATTRIBUTION
        upto = hist.loc[:at]
        if freq == "monthly":  # a monthly average counts only from its release (no look-ahead)
            released = [pointintime.known_on("TOTRESNS", t.date()) <= d for t in upto.index]
            upto = upto[released]
        ind = Indicator(
            name=name,
            group=group,
            label=label,
            date=None,
            value=None,
            unit=unit,
            zscore=None,
            source=source,
            frequency=freq,
            history=hist if with_history else None,
        )
        if upto.empty:
            ind.stale = True
            ind.note = f"no observation on or before {d}"
            out.append(ind)
            continue
        obs = upto.index[-1]
        ind.date = obs.date().isoformat()
        ind.value = float(upto.iloc[-1])
        notes = []
        if len(upto) > 1:
            prev = upto.index[-2]
            ind.previous_date = prev.date().isoformat()
            if (obs - prev).days <= feeds.MAX_LAG_DAYS[freq]:
                ind.change = float(upto.iloc[-1] - upto.iloc[-2])
            else:  # a change across a gap in the data would mislead
                notes.append(f"no change: previous observation {(obs - prev).days} days earlier")
        ind.zscore = _zscore(upto, obs)
        notes.append(_price_note(name, obs))
        lag = (at - obs).days
        if freq == "monthly":
            lag = (d - pointintime.known_on("TOTRESNS", obs.date())).days
        if lag > feeds.MAX_LAG_DAYS[freq]:
            ind.stale = True
            notes.insert(0, f"latest observation is {lag} days before {d}; refresh the store")
        ind.note = "; ".join(n for n in notes if n)
        out.append(ind)
    core = [i for i in out if i.group in CORE_GROUPS]
    if all(i.stale for i in core):
        dated = [pd.Timestamp(i.date) for i in core if i.date]
        latest = max(dated).date() if dated else None
        raise DataError(
            f"no data on or near {d} in the store: no futures position or funding rate within its lag limit "
            f"(latest before it: {latest or 'none'}); pick a date the store covers (`basislab data status`) "
            "or run `basislab data refresh`"
        )
    return d, out


def to_json(date: dt.date, indicators: list[Indicator]) -> dict:
    """The ``--json`` document: the monitor date, one object per indicator, and the attribution."""
    return {
        "monitor_date": date.isoformat(),
        "indicators": [i.as_json() for i in indicators],
        "attribution": NYFED_ATTRIBUTION,
        "basis_trade_method": BASIS_METHOD,
        "zscore": f"against the indicator's own observations over the {ZSCORE_YEARS} years up to its date",
    }
