"""``basislab data status``: each table's coverage, last date, row count and gaps, from the data.

A gap is a stretch between two consecutive observations longer than the series' cadence allows
(7 days for daily series, which covers weekends and holidays; 10 for weekly; 45 for monthly), or
the stretch from an item's last observation to the end of the store's funding data (the latest
date in ``rates_daily`` or ``fed_balance_sheet``): what a refresh must still fill.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

import duckdb
import pandas as pd

from basislab.data.catalog import SERIES
from basislab.data.feeds import MAX_LAG_DAYS
from basislab.data.store import SCHEMA_VERSION, row, scalar, schema_version


@dataclass
class Coverage:
    """Coverage of one table, or of one series / contract inside it."""

    table: str
    item: str
    rows: int
    first: str | None
    last: str | None
    gaps: list[tuple[str, str]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def gap_text(self, most: int = 6) -> str:
        parts = [f"{a}..{b}" for a, b in self.gaps[:most]]
        if len(self.gaps) > most:
            parts.append(f"+{len(self.gaps) - most} more")
        return ", ".join(parts)


def find_gaps(dates: pd.Series, max_step_days: int, step_days: int) -> list[tuple[str, str]]:
    """Missing stretches ``(first missing, last missing)`` where consecutive dates are too far apart."""
    d = pd.to_datetime(pd.Series(dates)).drop_duplicates().sort_values().reset_index(drop=True)
    if len(d) < 2:
        return []
    diff = d.diff().dt.days
    out = []
    for i in diff.index[diff > max_step_days]:
        a = (d[i - 1] + pd.Timedelta(days=step_days)).date()
        b = (d[i] - pd.Timedelta(days=step_days)).date()
        if b < a:
            b = a
        out.append((a.isoformat(), b.isoformat()))
    return out


def _trailing(gaps: list, last, end, step_days: int, max_step_days: int) -> list[tuple[str, str]]:
    """Add the stretch from an item's last observation to the store's end date, if it is a gap."""
    last, end = pd.Timestamp(last), pd.Timestamp(end)
    if (end - last).days > max_step_days:
        gaps = [*gaps, ((last + pd.Timedelta(days=step_days)).date().isoformat(), end.date().isoformat())]
    return gaps


def coverage(con: duckdb.DuckDBPyConnection) -> list[Coverage]:
    """Coverage of every table and, within the series tables, the TFF table and the front-month
    futures, each item. An item that ends before the store's funding data ends (the latest date
    in ``rates_daily`` or ``fed_balance_sheet``) has that stretch as its last gap."""
    end = scalar(
        con, "SELECT greatest((SELECT max(date) FROM rates_daily), (SELECT max(date) FROM fed_balance_sheet))"
    )
    prov = con.execute("SELECT table_name, source FROM provenance").df()
    srcs = {t: sorted(g["source"]) for t, g in prov.groupby("table_name")}
    out: list[Coverage] = []

    tff = con.execute("SELECT report_date, contract FROM cftc_tff").df()
    tff["report_date"] = pd.to_datetime(tff["report_date"]).dt.date
    out.append(_table_row(con, "cftc_tff", "report_date", srcs))
    for c, g in tff.groupby("contract"):
        out.append(
            Coverage(
                "cftc_tff",
                c,
                len(g),
                str(g.report_date.min()),
                str(g.report_date.max()),
                _trailing(
                    find_gaps(g.report_date, MAX_LAG_DAYS["weekly"], 7),
                    g.report_date.max(),
                    max(end or g.report_date.max(), g.report_date.max()),
                    7,
                    MAX_LAG_DAYS["weekly"],
                ),
            )
        )
    for table in ("rates_daily", "fed_balance_sheet"):
        out.append(_table_row(con, table, "date", srcs))
        df = con.execute(f"SELECT date, series FROM {table}").df()
        df["date"] = pd.to_datetime(df["date"]).dt.date
        for key, g in df.groupby("series"):
            freq = SERIES[key].frequency if key in SERIES else "daily"
            step = {"daily": 1, "weekly": 7, "monthly": 28}[freq]
            out.append(
                Coverage(
                    table,
                    key,
                    len(g),
                    str(g.date.min()),
                    str(g.date.max()),
                    _trailing(
                        find_gaps(g.date, MAX_LAG_DAYS[freq], step),
                        g.date.max(),
                        end,
                        step,
                        MAX_LAG_DAYS[freq],
                    ),
                )
            )
    out.append(_table_row(con, "par_yield_curve", "date", srcs))
    pc = con.execute("SELECT DISTINCT date FROM par_yield_curve WHERE tenor = '10Y'").df()
    pc["date"] = pd.to_datetime(pc["date"]).dt.date
    if len(pc):
        out.append(
            Coverage(
                "par_yield_curve",
                "10Y",
                len(pc),
                str(pc.date.min()),
                str(pc.date.max()),
                _trailing(
                    find_gaps(pc.date, MAX_LAG_DAYS["daily"], 1), pc.date.max(), end, 1, MAX_LAG_DAYS["daily"]
                ),
            )
        )
    out.append(_table_row(con, "futures_front_month", "date", srcs))
    fm = con.execute("SELECT date, root FROM futures_front_month").df()
    fm["date"] = pd.to_datetime(fm["date"]).dt.date
    for root, g in fm.groupby("root"):
        gaps = find_gaps(g.date, MAX_LAG_DAYS["daily"], 1)
        out.append(
            Coverage(
                "futures_front_month",
                root,
                len(g),
                str(g.date.min()),
                str(g.date.max()),
                _trailing(gaps, g.date.max(), end, 1, MAX_LAG_DAYS["daily"]),
            )
        )
    for table, col in (("auctions", "auction_date"), ("security_prices", "date"), ("futures_prices", "date")):
        out.append(_table_row(con, table, col, srcs))
    n, a, b = row(
        con,
        "SELECT count(*), min(auction_date), max(auction_date) FROM auctions WHERE offering_usd_bn IS NOT NULL",
    )
    out.append(Coverage("auctions", "with amounts (offering, SOMA)", n, a and str(a), b and str(b)))
    n, a, b = row(
        con,
        "SELECT count(*), min(auction_date), max(auction_date) FROM auctions WHERE int_rate_pct IS NOT NULL "
        "AND NOT isnan(int_rate_pct)",
    )
    out.append(Coverage("auctions", "with coupon", n, a and str(a), b and str(b)))
    n = row(con, "SELECT count(*), count(coupon_pct), count(price) FROM securities")
    out.append(Coverage("securities", f"view: {n[1]} with coupon, {n[2]} with price", n[0], None, None))
    return out


def _table_row(con, table: str, col: str, srcs: dict) -> Coverage:
    n, a, b = row(con, f"SELECT count(*), min({col}), max({col}) FROM {table}")
    return Coverage(
        table,
        "(all)",
        n,
        None if a is None else str(a),
        None if b is None else str(b),
        sources=srcs.get(table, []),
    )


def status(con: duckdb.DuckDBPyConnection, path: str) -> dict:
    """The status document: store path, schema version, provenance and coverage."""
    prov = con.execute(
        "SELECT table_name, source, publisher, retrieved, loaded_at, rows, licence FROM provenance ORDER BY 1, 2"
    ).df()
    prov["loaded_at"] = prov["loaded_at"].astype(str)
    return {
        "store": path,
        "schema_version": schema_version(con),
        "schema_version_expected": SCHEMA_VERSION,
        "checked_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "coverage": [asdict(c) for c in coverage(con)],
        "provenance": prov.to_dict(orient="records"),
    }
