"""Refresh the store from the publishers (stdlib ``urllib``, no extra dependency).

Each source downloads everything it needs first, parses and validates it, and only then writes,
all its tables in **one transaction**: an interrupted or failed refresh leaves every table as it
was. With no network a source fails with a clear message and the store (the snapshot) is intact.

Sources (``basislab data refresh --source NAME``):

=====================  ==========================================================================
``cftc``               CFTC TFF annual files ``fut_fin_txt_YYYY.zip`` (years with gaps + this year)
``cftc-api``           CFTC Public Reporting API (Socrata dataset ``gpe5-46if``), recent weeks
``fred``               FRED ``fredgraph.csv``: SOFR, EFFR, OBFR, IORB/IOER, target range, ON RRP
                       rate, DPCREDIT, TREAST, WALCL, TOTRESNS, WTREGEN, RRPONTSYD, RPONTSYD
``nyfed``              NY Fed Markets API: SOFR, BGCR, TGCR, EFFR, OBFR; repo and reverse repo
                       operation results (Standing Repo Facility, ON RRP)
``treasury-curve``     Treasury daily par yield curve CSV by year
``treasury-securities`` FiscalData auctions (with coupons) and the TreasuryDirect FedInvest price list
``ofr``                OFR Short-term Funding Monitor API: tri-party, DVP, GCF repo rates and volumes
=====================  ==========================================================================
"""

from __future__ import annotations

import datetime as dt
import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from basislab import __version__
from basislab.data import parsers, store
from basislab.data.catalog import CONTRACTS, CORE_CONTRACTS, SERIES
from basislab.errors import DataError, RefreshError

Fetcher = Callable[..., bytes]
TIMEOUT_S = 60


# One cookie jar per process: TreasuryDirect's FedInvest form needs the session cookie of the page
# that issued its CSRF token.
_OPENER = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))


def http_get(url: str, data: dict | None = None, timeout: float = TIMEOUT_S) -> bytes:
    """GET (or POST form ``data``) ``url`` and return the body; network failures raise ``URLError``."""
    body = urllib.parse.urlencode(data).encode() if data else None
    req = urllib.request.Request(
        url, data=body, headers={"User-Agent": f"basislab/{__version__} (+data refresh)"}
    )
    with _OPENER.open(req, timeout=timeout) as resp:  # https URLs only
        return resp.read()


@dataclass
class RefreshResult:
    """What one source did: rows written per table, or why it failed."""

    source: str
    ok: bool
    rows: dict[str, int]
    message: str
    offline: bool = False
    reason: str = ""


Item = tuple[str, pd.DataFrame, dict]


def _prov(source: str, publisher: str, url: str, licence: str = store.LICENCE_US_GOV) -> dict:
    return {
        "source": source,
        "publisher": publisher,
        "origin": url,
        "retrieved": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "licence": licence,
    }


def _series_items(df: pd.DataFrame, source: str, publisher: str, url: str, licence: str) -> list[Item]:
    if df.empty:
        return []
    return [
        (table, rows, _prov(source, publisher, url, licence))
        for table, rows in store._series_rows(df, source).items()
    ]


# ------------------------------------------------------------------------------------------------ CFTC

CFTC_ZIP = "https://www.cftc.gov/files/dea/history/fut_fin_txt_{year}.zip"
CFTC_API = "https://publicreporting.cftc.gov/resource/gpe5-46if.json"


def cftc_years_to_fetch(con: duckdb.DuckDBPyConnection, today: dt.date) -> list[int]:
    """Years (2010 to this year) without a full year of weeks for every core contract, plus this year."""
    df = con.execute(
        "SELECT year(report_date) AS y, contract, count(*) AS n FROM cftc_tff GROUP BY 1, 2"
    ).df()
    years = []
    for y in range(2010, today.year + 1):
        g = df[df.y == y]
        complete = all(((g.contract == c) & (g.n >= 50)).any() for c in CORE_CONTRACTS)
        if not complete or y == today.year:
            years.append(y)
    return years


def fetch_cftc(con, fetch: Fetcher, today: dt.date, years: list[int] | None = None) -> list[Item]:
    items = []
    for y in years or cftc_years_to_fetch(con, today):
        url = CFTC_ZIP.format(year=y)
        try:
            blob = fetch(url)
        except urllib.error.HTTPError as exc:
            if exc.code == 404 and y == today.year:
                continue  # this year's file appears with the first report of January
            raise
        df = parsers.parse_tff_annual_zip(blob, f"fut_fin_txt_{y}.zip")
        df["source"] = url
        items.append(("cftc_tff", df, _prov(url, "CFTC", url)))
    return items


def fetch_cftc_api(con, fetch: Fetcher, today: dt.date, since: dt.date | None = None) -> list[Item]:
    last = store.scalar(con, "SELECT max(report_date) FROM cftc_tff")
    since = since or ((last - dt.timedelta(days=28)) if last else dt.date(2006, 6, 1))
    codes = ",".join(f"'{c.cftc_code}'" for c in CONTRACTS.values())
    query = {
        "$where": f"cftc_contract_market_code in({codes}) AND report_date_as_yyyy_mm_dd >= '{since.isoformat()}'",
        "$order": "report_date_as_yyyy_mm_dd",
        "$limit": "50000",
    }
    url = CFTC_API + "?" + urllib.parse.urlencode(query)
    df = parsers.parse_tff_socrata(fetch(url), "CFTC API gpe5-46if")
    return (
        [("cftc_tff", df, _prov("CFTC Public Reporting API gpe5-46if", "CFTC", CFTC_API))] if len(df) else []
    )


# ------------------------------------------------------------------------------------------------ FRED

FRED_CSV = "https://fred.stlouisfed.org/graph/fredgraph.csv?id={id}"
# FRED id -> (store series, scale to the store unit)
FRED_SERIES = {
    "SOFR": ("SOFR", 1.0),
    "EFFR": ("EFFR", 1.0),
    "OBFR": ("OBFR", 1.0),
    "IOER": ("IORB", 1.0),
    "IORB": ("IORB", 1.0),
    "DFEDTARU": ("FF_TARGET_UPPER", 1.0),
    "DFEDTARL": ("FF_TARGET_LOWER", 1.0),
    "RRPONTSYAWARD": ("ONRRP_RATE", 1.0),
    "DPCREDIT": ("DPCREDIT", 1.0),
    "TREAST": ("TREAST", 1e-3),
    "WALCL": ("WALCL", 1e-3),
    "WTREGEN": ("WTREGEN", 1e-3),  # USD mn
    "TOTRESNS": ("TOTRESNS", 1.0),
    "WRESBAL": ("WRESBAL", 1e-3),  # USD mn, weekly: the point-in-time reserves (from 1984 at FRED)
    "RRPONTSYD": ("RRPONTSYD", 1.0),
    "RPONTSYD": ("RPONTSYD", 1.0),  # USD bn
}


def fetch_fred(con, fetch: Fetcher, today: dt.date, ids: list[str] | None = None) -> list[Item]:
    parts = []
    for fid in ids or list(FRED_SERIES):
        key, scale = FRED_SERIES[fid]
        df = parsers.parse_fred_csv(fetch(FRED_CSV.format(id=fid)), fid, f"FRED {fid}.csv")
        df["series"] = key
        df["value"] = df["value"] * scale
        parts.append(df)
    df = pd.concat(parts, ignore_index=True).drop_duplicates(["date", "series"], keep="last")
    return _series_items(
        df, "FRED fredgraph.csv", "FRB / FRBNY via FRED", "https://fred.stlouisfed.org", store.LICENCE_NYFED
    )


# ------------------------------------------------------------------------------------------------ NY Fed

NYFED = "https://markets.newyorkfed.org/api"
NYFED_RATES = {
    "SOFR": "secured/sofr",
    "BGCR": "secured/bgcr",
    "TGCR": "secured/tgcr",
    "EFFR": "unsecured/effr",
    "OBFR": "unsecured/obfr",
}


def _since(con, table: str, series: list[str], default: dt.date) -> dt.date:
    q = f"SELECT max(date) FROM {table} WHERE series IN ({','.join('?' * len(series))})"
    last = store.scalar(con, q, list(series))
    return (last - dt.timedelta(days=14)) if last else default


def fetch_nyfed(con, fetch: Fetcher, today: dt.date) -> list[Item]:
    start = _since(con, "rates_daily", list(NYFED_RATES), dt.date(2018, 4, 2))
    span = {"startDate": start.isoformat(), "endDate": today.isoformat()}
    parts = []
    for key, path in NYFED_RATES.items():
        url = f"{NYFED}/rates/{path}/search.json?" + urllib.parse.urlencode({**span, "type": "rate"})
        df = parsers.parse_nyfed_rates(fetch(url), f"NY Fed {key}")
        parts.append(df[df.series == key])
    items = _series_items(
        pd.concat(parts, ignore_index=True),
        "NY Fed Markets API reference rates",
        "Federal Reserve Bank of New York",
        f"{NYFED}/rates",
        store.LICENCE_NYFED,
    )
    ops_start = _since(con, "fed_balance_sheet", ["RPONTSYD", "RRPONTSYD"], dt.date(2019, 9, 1))
    url = f"{NYFED}/rp/results/search.json?" + urllib.parse.urlencode(
        {"startDate": ops_start.isoformat(), "endDate": today.isoformat()}
    )
    ops = parsers.parse_nyfed_repo_ops(fetch(url), "NY Fed repo operations")
    items += _series_items(
        ops,
        "NY Fed Markets API repo operations",
        "Federal Reserve Bank of New York",
        f"{NYFED}/rp",
        store.LICENCE_NYFED,
    )
    return items


# ------------------------------------------------------------------------------------------------ Treasury

TREASURY_CURVE = (
    "https://home.treasury.gov/resource-center/data-chart-center/interest-rates/daily-treasury-rates.csv/"
    "{year}/all?type=daily_treasury_yield_curve&field_tdr_date_value={year}&page&_format=csv"
)
FISCALDATA_AUCTIONS = (
    "https://api.fiscaldata.treasury.gov/services/api/fiscal_service/v1/accounting/od/auctions_query"
)
FEDINVEST = "https://www.treasurydirect.gov/GA-FI/FedInvest/securityPriceDetail"
FEDINVEST_FORM = "https://www.treasurydirect.gov/GA-FI/FedInvest/selectSecurityPriceDate"


def fetch_treasury_curve(con, fetch: Fetcher, today: dt.date, years: list[int] | None = None) -> list[Item]:
    last = store.scalar(con, "SELECT max(date) FROM par_yield_curve")
    first_year = last.year if last else 1990
    items = []
    for y in years or range(first_year, today.year + 1):
        url = TREASURY_CURVE.format(year=y)
        df = parsers.parse_par_curve(fetch(url), f"daily-treasury-rates-{y}.csv")
        items.append(("par_yield_curve", df, _prov(url, "US Treasury", url)))
    return items


def fetch_treasury_securities(
    con, fetch: Fetcher, today: dt.date, price_date: dt.date | None = None
) -> list[Item]:
    last = store.scalar(con, "SELECT max(auction_date) FROM auctions")
    since = (last - dt.timedelta(days=60)) if last else dt.date(1979, 1, 1)
    parts, page = [], 1
    while True:
        q = {
            "filter": f"auction_date:gte:{since.isoformat()}",
            "sort": "auction_date",
            "page[size]": "1000",
            "page[number]": str(page),
        }
        url = FISCALDATA_AUCTIONS + "?" + urllib.parse.urlencode(q)
        df, nxt = parsers.parse_fiscaldata_auctions(fetch(url), f"FiscalData auctions page {page}")
        parts.append(df)
        if not nxt or df.empty or page >= 200:
            break
        page += 1
    items = []
    auctions = pd.concat(parts, ignore_index=True).drop_duplicates(["cusip", "auction_date"], keep="last")
    if len(auctions):
        items.append(
            (
                "auctions",
                auctions,
                _prov("FiscalData auctions_query", "US Treasury (Fiscal Service)", FISCALDATA_AUCTIONS),
            )
        )
    # FedInvest: the date-picker page issues a CSRF token (and a session cookie) the POST must carry.
    page_text = fetch(FEDINVEST_FORM).decode("utf-8", "replace")
    token = re.search(r'name="_csrf"\s+value="([^"]+)"', page_text) or re.search(
        r'value="([^"]+)"\s+name="_csrf"', page_text
    )
    # The latest business day with a price list, at most a week back (weekends and holidays are empty).
    d = price_date or (today - dt.timedelta(days=1))
    for _ in range(7):
        while d.weekday() >= 5:
            d -= dt.timedelta(days=1)
        form = {
            "priceDateDay": f"{d.day:02d}",
            "priceDateMonth": f"{d.month:02d}",
            "priceDateYear": str(d.year),
            "fileType": "csv",
            "csv": "CSV FORMAT",
        }
        if token:
            form["_csrf"] = token.group(1)
        prices = parsers.parse_fedinvest_prices(fetch(FEDINVEST, data=form), d, f"FedInvest prices {d}")
        if len(prices) or price_date:
            break
        d -= dt.timedelta(days=1)
    if len(prices):
        items.append(
            (
                "security_prices",
                prices,
                _prov(f"FedInvest {d}", "US Treasury, Bureau of the Fiscal Service", FEDINVEST),
            )
        )
    return items


# ------------------------------------------------------------------------------------------------ OFR

OFR_API = "https://data.financialresearch.gov/v1/series/timeseries?mnemonic={m}"
OFR_MNEMONICS = [k for k, s in SERIES.items() if s.publisher == "OFR"]


def fetch_ofr(con, fetch: Fetcher, today: dt.date) -> list[Item]:
    parts = [parsers.parse_ofr_timeseries(fetch(OFR_API.format(m=m)), m, f"OFR {m}") for m in OFR_MNEMONICS]
    return _series_items(
        pd.concat(parts, ignore_index=True),
        "OFR Short-term Funding Monitor API",
        "Office of Financial Research",
        "https://data.financialresearch.gov/v1",
        store.LICENCE_US_GOV,
    )


SOURCES: dict[str, Callable[..., list[Item]]] = {
    "cftc": fetch_cftc,
    "cftc-api": fetch_cftc_api,
    "fred": fetch_fred,
    "nyfed": fetch_nyfed,
    "treasury-curve": fetch_treasury_curve,
    "treasury-securities": fetch_treasury_securities,
    "ofr": fetch_ofr,
}


def apply_items(con: duckdb.DuckDBPyConnection, items: list[Item]) -> dict[str, int]:
    """Write every item of one source in a single transaction (all or nothing)."""
    rows: dict[str, int] = {}
    with store.transaction(con):
        for table, df, prov in items:
            rows[table] = rows.get(table, 0) + store.upsert(con, table, df, prov, in_transaction=True)
    return rows


def _offline_message(name: str, exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return (
            f"{name}: {exc.filename or exc.geturl()} answered HTTP {exc.code} {exc.reason}; nothing written "
            "(the store is unchanged)"
        )
    reason = getattr(exc, "reason", exc)
    return (
        f"{name}: could not reach the publisher ({reason}); no network? The store is unchanged "
        "(it still holds the bundled snapshot and earlier refreshes)"
    )


def refresh(
    sources: list[str] | None = None,
    db: str | Path | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    fetch: Fetcher | None = None,
    today: dt.date | None = None,
    progress: Callable[[RefreshResult], None] | None = None,
) -> list[RefreshResult]:
    """Refresh ``sources`` (default: all). Returns one result per source (also passed to ``progress``
    as each finishes); raises :class:`RefreshError` when every requested source failed (e.g.
    offline). A failed source writes nothing."""
    names = sources or list(SOURCES)
    unknown = [s for s in names if s not in SOURCES]
    if unknown:
        raise DataError(f"unknown refresh source(s) {unknown}; choose from {list(SOURCES)}")
    today = today or dt.date.today()
    fetch = fetch or http_get
    own = con is None
    con = store.connect(db) if con is None else con
    results = []
    try:
        for name in names:
            try:
                items = SOURCES[name](con, fetch, today)
                rows = apply_items(con, items)
                results.append(
                    RefreshResult(
                        name,
                        True,
                        rows,
                        f"{name}: " + (", ".join(f"{t} {n} rows" for t, n in rows.items()) or "nothing new"),
                    )
                )
            except OSError as exc:  # URLError, HTTPError, timeouts, refused connections
                offline = not isinstance(exc, urllib.error.HTTPError)
                results.append(
                    RefreshResult(
                        name,
                        False,
                        {},
                        _offline_message(name, exc),
                        offline,
                        str(getattr(exc, "reason", exc)),
                    )
                )
            except (DataError, json.JSONDecodeError) as exc:
                results.append(
                    RefreshResult(name, False, {}, f"{name}: bad response, nothing written: {exc}")
                )
            if progress is not None:
                progress(results[-1])
    finally:
        if own:
            con.close()
    if results and not any(r.ok for r in results):
        reasons = {r.reason for r in results}
        if all(r.offline for r in results) and len(reasons) == 1:
            raise RefreshError(
                f"no network? could not reach the publishers of {', '.join(r.source for r in results)} "
                f"({reasons.pop()}); nothing written, the store is unchanged (bundled snapshot and earlier refreshes)"
            )
        raise RefreshError("refresh failed for every source; " + " | ".join(r.message for r in results))
    return results
