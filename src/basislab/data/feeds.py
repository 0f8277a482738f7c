"""Data feeds: futures positions in dollars, series lookups and the simulator's initial conditions.

Notional of a futures position in USD = contracts x contract face (USD 200,000 for TU, 100,000
otherwise) x futures price / 100. The price is, in order of preference:

1. a settlement price in ``futures_prices`` dated within 3 calendar days **before** the date (the
   nearest delivery month not before the date's month; the bundled file has the 2024-06-26 closes);
2. the Yahoo front-month close (TU, FV, TY, US; 2000-2026) within 3 days before, skipping rows
   that show an expiring contract in its delivery month or have zero volume;
3. otherwise the **par-curve proxy**: the price of a representative 6% semi-annual bond whose
   maturity is the contract's typical cheapest-to-deliver maturity (``proxy_tenor_years`` in
   :mod:`basislab.data.catalog`), discounted at the par yield interpolated (linearly in maturity)
   on the latest par curve on or before the date. A 6% bond has a conversion factor of 1, so its
   cash price approximates the futures price. Against the 2024-06-26 settlements this proxy is
   within about 1% for TU, FV, TY and US and 2% for UB (see ``tests/data/test_feeds.py``).
"""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from basislab.data import pointintime
from basislab.data.catalog import BUCKETS, CONTRACTS, CORE_CONTRACTS, SERIES
from basislab.data.store import scalar
from basislab.data.validate import DataWarning
from basislab.errors import DataError

CLOSE_WINDOW_DAYS = 3
# Largest gap (calendar days) between a requested date and the observation used for it.
MAX_LAG_DAYS = {"daily": 7, "weekly": 10, "monthly": 45}

PRICE_METHOD = (
    "notional = contracts x face (TU $200k, others $100k) x price/100; price = CME settlement of the "
    f"{CLOSE_WINDOW_DAYS} days up to the date where stored, else the Yahoo front-month close (TU, FV, TY, US), "
    "else the price of a 6% bond at the contract's typical CTD maturity at the par yield curve (a 6% bond has "
    "conversion factor 1)"
)
POSITIONS_METHOD = (
    "leveraged-fund net short Treasury futures (short - long, floored at 0) by contract from CFTC TFF "
    "(futures only), in USD notional; buckets TU->2y, FV->5y, TY+TN->10y, US+UB->long. " + PRICE_METHOD
)


def as_date(value: dt.date | str | None) -> dt.date | None:
    """A date from a ``date``, an ISO string or None; a bad string is a DataError."""
    if value is None or isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise DataError(f"not a date: {value!r} (expected YYYY-MM-DD)") from exc


def _con(con: duckdb.DuckDBPyConnection | None, db: str | Path | None):
    if con is not None:
        return con, False
    from basislab.data.store import connect

    return connect(db, read_only=True), True


# --------------------------------------------------------------------------------------------------
# Prices
# --------------------------------------------------------------------------------------------------


def bond_price_6pct(yield_pct: np.ndarray | float, years: float) -> np.ndarray:
    """Clean price per 100 of a 6% semi-annual bond with ``years`` to maturity at ``yield_pct``."""
    r = np.asarray(yield_pct, dtype=float) / 200.0
    n = 2.0 * years
    disc = (1.0 + r) ** -n
    with np.errstate(divide="ignore", invalid="ignore"):
        annuity = np.where(np.abs(r) > 1e-12, (1.0 - disc) / np.where(r == 0, 1, r), n)
    return 3.0 * annuity + 100.0 * disc


def par_curve_wide(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The par yield curve as a wide frame (rows: dates, columns: maturity in years)."""
    df = con.execute("SELECT date, tenor_years, yield_pct FROM par_yield_curve").df()
    if df.empty:
        raise DataError(
            "the par_yield_curve table is empty; run `basislab data refresh --source treasury-curve`"
        )
    wide = df.pivot(index="date", columns="tenor_years", values="yield_pct").sort_index()
    wide.index = pd.to_datetime(wide.index)
    return wide


def par_yield_at(wide: pd.DataFrame, dates: pd.Series, years: float) -> tuple[np.ndarray, np.ndarray]:
    """Par yields at maturity ``years`` on the latest curve on or before each date: (yields, curve dates)."""
    d = pd.to_datetime(pd.Series(dates)).to_numpy()
    idx = wide.index.searchsorted(d, side="right") - 1
    ys = np.full(len(d), np.nan)
    used = np.full(len(d), np.datetime64("NaT"), dtype="datetime64[ns]")
    tenors = wide.columns.to_numpy(dtype=float)
    values = wide.to_numpy()
    for k, i in enumerate(idx):
        if i < 0:
            continue
        row = values[i]
        ok = ~np.isnan(row)
        if ok.sum() < 2:
            continue
        ys[k] = np.interp(years, tenors[ok], row[ok])
        used[k] = wide.index[i]
    return ys, used


def futures_prices_for(
    con: duckdb.DuckDBPyConnection, rows: pd.DataFrame, wide: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Price each ``(report_date, contract)`` row: columns ``price, price_date, price_method``.

    Only prices dated on or before the row's date are used (no look-ahead), in this order: a CME
    settlement within :data:`CLOSE_WINDOW_DAYS` before; the Yahoo front-month close within the same
    window (TU, FV, TY, US; not a row in the delivery month or with zero volume: see
    :mod:`basislab.data.frontmonth`); the par-curve proxy on the latest curve on or before it.
    """
    out = rows[["report_date", "contract"]].copy().reset_index(drop=True)
    out["price"] = np.nan
    out["price_date"] = None
    out["price_method"] = None
    days = pd.to_datetime(out["report_date"]).astype("datetime64[ns]")
    window = pd.Timedelta(days=CLOSE_WINDOW_DAYS)
    closes = con.execute("SELECT date, contract, root, delivery_month, price FROM futures_prices").df()
    if not closes.empty:
        closes["date"] = pd.to_datetime(closes["date"])
        lo, hi = closes["date"].min(), closes["date"].max() + window
        for i in out.index[(days >= lo) & (days <= hi)]:
            d = days[i]
            c = closes[
                (closes.root == out.at[i, "contract"]) & (closes.date <= d) & (closes.date >= d - window)
            ]
            c = c[c.delivery_month >= d.strftime("%Y-%m")]
            if c.empty:
                continue
            c = c.sort_values(["date", "delivery_month"], ascending=[False, True]).iloc[0]
            out.at[i, "price"] = float(c.price)
            out.at[i, "price_date"] = c.date.date().isoformat()
            out.at[i, "price_method"] = f"CME settlement {c.contract} on {c.date.date()}"
    front = con.execute(
        "SELECT date, root, contract, close FROM futures_front_month "
        "WHERE NOT in_delivery AND volume > 0 ORDER BY date"
    ).df()
    todo = out["price"].isna()
    if todo.any() and not front.empty:
        front["date"] = pd.to_datetime(front["date"]).astype("datetime64[ns]")
        for root, grp in out[todo].groupby("contract"):
            f = front[front.root == root]
            if f.empty:
                continue
            left = pd.DataFrame({"d": days[grp.index], "i": grp.index}).sort_values("d")
            m = pd.merge_asof(left, f, left_on="d", right_on="date", direction="backward", tolerance=window)
            m = m.dropna(subset=["close"])
            for r in m.itertuples():
                out.at[r.i, "price"] = float(r.close)
                out.at[r.i, "price_date"] = r.date.date().isoformat()
                out.at[r.i, "price_method"] = f"Yahoo front-month close {r.contract} on {r.date.date()}"
    todo = out["price"].isna()
    if todo.any():
        wide = par_curve_wide(con) if wide is None else wide
        for root, grp in out[todo].groupby("contract"):
            years = CONTRACTS[root].proxy_tenor_years
            ys, used = par_yield_at(wide, grp.report_date, years)
            out.loc[grp.index, "price"] = bond_price_6pct(ys, years)
            out.loc[grp.index, "price_date"] = [
                None if pd.isna(u) else pd.Timestamp(u).date().isoformat() for u in used
            ]
            out.loc[grp.index, "price_method"] = [
                None
                if pd.isna(u)
                else f"6% bond, {years:g}y at par curve of {pd.Timestamp(u).date()} ({y:.3f}%)"
                for u, y in zip(used, ys)
            ]
    out.index = rows.index
    return out


def positions(con: duckdb.DuckDBPyConnection | None = None, db: str | Path | None = None) -> pd.DataFrame:
    """Every TFF row with prices and USD bn notionals of leveraged-fund and asset-manager positions."""
    con, close = _con(con, db)
    try:
        df = con.execute(
            "SELECT report_date, contract, open_interest, am_long, am_short, lev_long, lev_short, source "
            "FROM cftc_tff ORDER BY report_date, contract"
        ).df()
        if df.empty:
            raise DataError("the cftc_tff table is empty; run `basislab data refresh --source cftc`")
        df["report_date"] = pd.to_datetime(df["report_date"]).dt.date
        prices = futures_prices_for(con, df)
    finally:
        if close:
            con.close()
    df = pd.concat([df, prices[["price", "price_date", "price_method"]]], axis=1)
    face = df["contract"].map(lambda r: CONTRACTS[r].face_usd)
    per_contract_bn = face * df["price"] / 100.0 / 1e9
    df["lev_net_short"] = df["lev_short"] - df["lev_long"]
    df["usd_bn_per_contract"] = per_contract_bn
    for col in ("lev_short", "lev_long", "lev_net_short", "am_long", "am_short"):
        df[f"{col}_usd_bn"] = df[col] * per_contract_bn
    df["bucket"] = df["contract"].map(lambda r: CONTRACTS[r].bucket)
    return df


def full_coverage_weeks(pos: pd.DataFrame) -> pd.Series:
    """Report dates where every core contract (TU, FV, TY, US, UB) is in the data (TN counts when present)."""
    have = pos.groupby("report_date")["contract"].apply(set)
    return have[have.apply(lambda s: set(CORE_CONTRACTS) <= s)].index.to_series()


# --------------------------------------------------------------------------------------------------
# Series lookups
# --------------------------------------------------------------------------------------------------


def series_frame(con: duckdb.DuckDBPyConnection, key: str) -> pd.Series:
    """A stored series (``rates_daily`` or ``fed_balance_sheet``) as a date-indexed Series."""
    if key not in SERIES:
        raise DataError(f"unknown series {key!r}; known: {sorted(SERIES)}")
    table = SERIES[key].table
    df = con.execute(f"SELECT date, value FROM {table} WHERE series = ? ORDER BY date", [key]).df()
    s = pd.Series(df["value"].to_numpy(), index=pd.to_datetime(df["date"]), name=key)
    return s


def value_asof(s: pd.Series, date: dt.date) -> tuple[float, dt.date] | None:
    """The latest observation on or before ``date``: (value, its date), or None."""
    s = s.loc[: pd.Timestamp(date)]
    if s.empty:
        return None
    return float(s.iloc[-1]), s.index[-1].date()


# --------------------------------------------------------------------------------------------------
# Initial conditions for the simulator
# --------------------------------------------------------------------------------------------------

#: Rates that price the scenario: missing or stale is an error.
_IC_REQUIRED = {"sofr_pct": "SOFR", "iorb_pct": "IORB"}
#: System quantities kept as context: missing or stale is a stated fallback with a warning.
_IC_CONTEXT = {
    "onrrp_usd_bn": "RRPONTSYD",
    "fed_treasury_holdings_usd_bn": "TREAST",
    "tga_usd_bn": ("TGA_DTS", "WTREGEN"),
}
#: Longest a par curve may be older than the date before the proxy price is said to be stale.
PAR_CURVE_STALE_DAYS = 7


def latest_common_date(con: duckdb.DuckDBPyConnection) -> dt.date:
    """The latest date on which the required rates (SOFR, IORB) and a CFTC week are all published."""
    bound = []
    for key in _IC_REQUIRED.values():
        last = scalar(con, f"SELECT max(date) FROM {SERIES[key].table} WHERE series = ?", [key])
        if last is None:
            raise DataError(f"series {key} is empty in the store; run `basislab data refresh`")
        bound.append(pointintime.known_on(key, last))
    tff_last = scalar(con, "SELECT max(report_date) FROM cftc_tff")
    if tff_last is None:
        raise DataError("the cftc_tff table is empty; run `basislab data refresh --source cftc`")
    return min(min(bound), pointintime.known_on("CFTC_TFF", tff_last))


def _source(obs: pointintime.Observation) -> dict:
    meta = SERIES[obs.series]
    return {
        "table": meta.table,
        "series": obs.series,
        "source": obs.source,
        "date": obs.date.isoformat(),
        "known_on": obs.known_on.isoformat(),
        "unit": meta.unit,
        "stale": obs.stale,
    }


def initial_conditions(
    date: dt.date | str | None = None,
    db: str | Path | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> dict:
    """Initial conditions of a simulator scenario as known at the end of ``date`` (None: the latest
    date with every required input), **point in time**: every value was published on or before
    ``date`` (release rules in :mod:`basislab.data.pointintime`).

    Returns ``date``, ``basis_positions_usd_bn`` (bucket -> USD bn of leveraged-fund net short futures
    notional; see :data:`POSITIONS_METHOD`), ``sofr_pct``, ``iorb_pct``, ``reserves_usd_bn``,
    ``onrrp_usd_bn``, ``fed_treasury_holdings_usd_bn``, ``tga_usd_bn``, ``sources`` (key -> table,
    series, source, the observation ``date`` and its release ``known_on``), ``lev_gross_short_usd_bn``
    (bucket -> gross short notional, the upper bound), ``positions_by_contract``, ``method`` and
    ``warnings`` (every fallback, in words; never a silent substitution).

    Errors (:class:`DataError`): no CFTC row or no SOFR or IORB published within 7 days of
    ``date``. Warnings: a contract whose latest published CFTC row is older than
    :data:`pointintime.TFF_MAX_LAG_DAYS` (used, said), a contract with no row at all (counted as 0),
    reserves from a monthly average (no weekly series before 2021-06), a stale Fed holdings, ON RRP
    or TGA figure (the latest published value, said), a position priced more than
    :data:`PAR_CURVE_STALE_DAYS` days before its report date. The warnings are also issued as
    :class:`~basislab.data.validate.DataWarning` so that callers (the CLI) can print them.
    """
    con, close = _con(con, db)
    try:
        d = as_date(date) or latest_common_date(con)
        out: dict = {"date": d.isoformat()}
        sources: dict = {}
        warns: list[str] = []
        pos = pointintime.tff_asof(con, d)
        if pos.empty:
            raise DataError(f"no CFTC TFF data published on or before {d}; the store starts later")
        latest_week = max(pos["report_date"])
        prices = futures_prices_for(con, pos)
        pos = pd.concat([pos, prices[["price", "price_date", "price_method"]]], axis=1)
        buckets = {b: 0.0 for b in BUCKETS}
        gross = {b: 0.0 for b in BUCKETS}
        by_contract = {}
        for _, r in pos.sort_values("contract").iterrows():
            c = CONTRACTS[r.contract]
            if np.isnan(r.price):
                raise DataError(
                    f"no futures price or par curve on or before {r.report_date} for {r.contract}"
                )
            net = int(r.lev_short - r.lev_long)
            usd = max(net, 0) * c.face_usd * r.price / 100.0 / 1e9
            buckets[c.bucket] += usd
            gross[c.bucket] += int(r.lev_short) * c.face_usd * r.price / 100.0 / 1e9
            by_contract[r.contract] = {
                "report_date": r.report_date.isoformat(),
                "lev_short": int(r.lev_short),
                "lev_long": int(r.lev_long),
                "lev_net_short": net,
                "price": round(float(r.price), 6),
                "usd_bn": usd,
            }
            sources[f"positions.{r.contract}"] = {
                "table": "cftc_tff",
                "source": r.source,
                "date": r.report_date.isoformat(),
                "known_on": r.known_on.isoformat(),
                "price": r.price_method,
                "price_date": r.price_date,
            }
            if r.lag_days > pointintime.TFF_MAX_LAG_DAYS:
                warns.append(
                    f"{r.contract}: the latest published CFTC TFF row is {r.report_date}, {r.lag_days} days "
                    f"before {d} (more than {pointintime.TFF_MAX_LAG_DAYS}); used it"
                )
            if (
                r.price_date
                and (r.report_date - dt.date.fromisoformat(r.price_date)).days > PAR_CURVE_STALE_DAYS
            ):
                warns.append(
                    f"{r.contract}: the {r.report_date} position is priced at {r.price_method}, the latest "
                    "price in the store on or before it"
                )
        missing = sorted(set(CONTRACTS) - set(pos.contract))
        if missing:
            warns.append(
                f"no CFTC TFF data at all on or before {d} for {missing}; their positions count as 0"
            )
        out["basis_positions_usd_bn"] = buckets
        out["lev_gross_short_usd_bn"] = gross
        sources["basis_positions_usd_bn"] = {
            "table": "cftc_tff",
            "method": POSITIONS_METHOD,
            "date": latest_week.isoformat(),
        }
        for key, series in _IC_REQUIRED.items():
            obs = pointintime.asof(con, series, d)
            if obs is None or obs.stale:
                meta = SERIES[series]
                last = "none" if obs is None else f"{obs.date}, published {obs.known_on}"
                raise DataError(
                    f"{series} ({meta.description}) has no value published within "
                    f"{pointintime.STALE_DAYS[meta.frequency]} days before {d} (latest: {last}); "
                    "run `basislab data refresh` or pick an earlier date"
                )
            out[key] = obs.value
            sources[key] = _source(obs)
        reserves, why = pointintime.reserves_asof(con, d)
        warns += why
        context: dict[str, pointintime.Observation | None] = {"reserves_usd_bn": reserves}
        for key, names in _IC_CONTEXT.items():
            keys = names if isinstance(names, tuple) else (names,)
            found = [o for o in (pointintime.asof(con, s, d) for s in keys) if o is not None]
            fresh = [o for o in found if not o.stale]
            context[key] = fresh[0] if fresh else (max(found, key=lambda o: o.date) if found else None)
        for key, obs in context.items():
            if obs is None:
                out[key] = None
                warns.append(f"{key}: no value published on or before {d}; left empty (null)")
                continue
            out[key] = obs.value
            sources[key] = _source(obs)
            if obs.stale:
                warns.append(
                    f"{key}: the latest published {obs.series} is from {obs.date} ({(d - obs.date).days} days "
                    f"before {d}); used it. Refresh the store for a current value"
                )
        out["sources"] = sources
        out["positions_by_contract"] = by_contract
        out["method"] = POSITIONS_METHOD
        out["warnings"] = warns
        for w in warns:
            warnings.warn(w, DataWarning, stacklevel=2)
        return out
    finally:
        if close:
            con.close()
