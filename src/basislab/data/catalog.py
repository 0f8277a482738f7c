"""What the store holds: Treasury futures contracts, series, publishers and stress episodes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class FuturesContract:
    """A CBOT Treasury futures contract as the CFTC reports it."""

    root: str
    cftc_code: str
    name: str
    face_usd: int
    bucket: str
    proxy_tenor_years: float  # maturity of the representative 6% bond used to approximate its price


# CFTC contract market codes (TFF report, CBOT). The proxy tenor is the maturity of the 6% bond whose
# par-curve price stands in for the futures price (see basislab.data.feeds): inside each delivery
# basket (TU 1.75-2y, FV 4.2-5.25y, TY 6.5-10y, TN 9.4-10y, US 15-25y, UB 25y+), chosen so that the
# proxy is within about 1% of the CME settlements of 2024-06-26 (the only bundled closes). The
# long contracts need longer proxies than their CTD because low-coupon CTDs have more convexity.
CONTRACTS: dict[str, FuturesContract] = {
    "TU": FuturesContract("TU", "042601", "2-Year T-Note", 200_000, "2y", 1.9),
    "FV": FuturesContract("FV", "044601", "5-Year T-Note", 100_000, "5y", 4.4),
    "TY": FuturesContract("TY", "043602", "10-Year T-Note", 100_000, "10y", 7.0),
    "TN": FuturesContract("TN", "043607", "Ultra 10-Year T-Note", 100_000, "10y", 9.6),
    "US": FuturesContract("US", "020601", "U.S. Treasury Bond", 100_000, "long", 18.0),
    "UB": FuturesContract("UB", "020604", "Ultra U.S. Treasury Bond", 100_000, "long", 29.5),
}
CODE_TO_ROOT = {c.cftc_code: r for r, c in CONTRACTS.items()}
BUCKETS = ("2y", "5y", "10y", "long")
# Contracts every full-coverage week must have; TN (listed January 2016) joins when it reports.
CORE_CONTRACTS = ("TU", "FV", "TY", "US", "UB")


@dataclass(frozen=True)
class Episode:
    """A funding or Treasury-market stress episode, marked on the monitor's charts."""

    key: str
    label: str
    start: dt.date
    end: dt.date
    note: str


# Dates and facts from ../shared/reference/system-facts.md (ids in brackets).
EPISODES = (
    Episode(
        "sep2019",
        "Sep 2019 repo spike",
        dt.date(2019, 9, 16),
        dt.date(2019, 9, 20),
        "SOFR 5.25% on 2019-09-17 vs a 2.00-2.25% target range; Fed repo operations resume [sofr_sep2019]",
    ),
    Episode(
        "mar2020",
        "Mar 2020 dash for cash",
        dt.date(2020, 3, 9),
        dt.date(2020, 3, 31),
        "10y yield +64bp 9-18 March; Fed buys $775bn of Treasuries 15-31 March [ust10y_rise_mar9_18]",
    ),
    Episode(
        "apr2025",
        "Apr 2025 tariff sell-off",
        dt.date(2025, 4, 3),
        dt.date(2025, 4, 11),
        "10y and 30y yields ~+50bp in a week [ust10y_apr2025]",
    ),
    Episode(
        "oct2025",
        "Oct 2025 repo pressure",
        dt.date(2025, 10, 20),
        dt.date(2025, 10, 31),
        "SOFR 32bp over IORB and record $50bn Standing Repo Facility use on 2025-10-31 [sofr_iorb_oct31_2025]",
    ),
)


@dataclass(frozen=True)
class Series:
    """A time series in ``rates_daily`` or ``fed_balance_sheet``."""

    key: str
    table: str
    unit: str
    frequency: str
    publisher: str
    description: str


SERIES: dict[str, Series] = {
    s.key: s
    for s in [
        Series("SOFR", "rates_daily", "percent", "daily", "FRBNY", "Secured Overnight Financing Rate"),
        Series("BGCR", "rates_daily", "percent", "daily", "FRBNY", "Broad General Collateral Rate"),
        Series("TGCR", "rates_daily", "percent", "daily", "FRBNY", "Tri-Party General Collateral Rate"),
        Series("EFFR", "rates_daily", "percent", "daily", "FRBNY", "Effective federal funds rate"),
        Series("OBFR", "rates_daily", "percent", "daily", "FRBNY", "Overnight bank funding rate"),
        Series(
            "IORB",
            "rates_daily",
            "percent",
            "daily",
            "FRB",
            "Interest on reserve balances (IOER before 2021-07-29)",
        ),
        Series(
            "FF_TARGET_UPPER", "rates_daily", "percent", "daily", "FRB", "Fed funds target range, upper limit"
        ),
        Series(
            "FF_TARGET_LOWER", "rates_daily", "percent", "daily", "FRB", "Fed funds target range, lower limit"
        ),
        Series("ONRRP_RATE", "rates_daily", "percent", "daily", "FRBNY", "ON RRP facility award rate"),
        Series("DPCREDIT", "rates_daily", "percent", "daily", "FRB", "Discount window primary credit rate"),
        Series(
            "REPO-TRI_AR_OO-P",
            "rates_daily",
            "percent",
            "daily",
            "OFR",
            "Tri-party repo rate, overnight/open",
        ),
        Series("REPO-DVP_AR_OO-P", "rates_daily", "percent", "daily", "OFR", "DVP repo rate, overnight/open"),
        Series("REPO-GCF_AR_OO-P", "rates_daily", "percent", "daily", "OFR", "GCF repo rate, overnight/open"),
        Series(
            "REPO-TRI_TV_OO-P",
            "rates_daily",
            "USD bn",
            "daily",
            "OFR",
            "Tri-party repo volume, overnight/open",
        ),
        Series("REPO-TRI_TV_TOT-P", "rates_daily", "USD bn", "daily", "OFR", "Tri-party repo volume, total"),
        Series(
            "REPO-DVP_TV_OO-P", "rates_daily", "USD bn", "daily", "OFR", "DVP repo volume, overnight/open"
        ),
        Series("REPO-DVP_TV_TOT-P", "rates_daily", "USD bn", "daily", "OFR", "DVP repo volume, total"),
        Series("REPO-DVP_OV_TOT-P", "rates_daily", "USD bn", "daily", "OFR", "DVP repo outstanding, total"),
        Series(
            "REPO-GCF_TV_OO-P", "rates_daily", "USD bn", "daily", "OFR", "GCF repo volume, overnight/open"
        ),
        Series("REPO-GCF_TV_TOT-P", "rates_daily", "USD bn", "daily", "OFR", "GCF repo volume, total"),
        Series(
            "TREAST",
            "fed_balance_sheet",
            "USD bn",
            "weekly",
            "FRB",
            "Fed holdings of Treasury securities (H.4.1, Wednesday level)",
        ),
        Series(
            "WALCL",
            "fed_balance_sheet",
            "USD bn",
            "weekly",
            "FRB",
            "Fed total assets (H.4.1, Wednesday level)",
        ),
        Series(
            "TOTRESNS", "fed_balance_sheet", "USD bn", "monthly", "FRB", "Reserves of depository institutions"
        ),
        Series(
            "WTREGEN",
            "fed_balance_sheet",
            "USD bn",
            "weekly",
            "FRB",
            "Treasury General Account (Wednesday level)",
        ),
        Series(
            "RRPONTSYD",
            "fed_balance_sheet",
            "USD bn",
            "daily",
            "FRBNY",
            "ON RRP take-up (Treasury collateral)",
        ),
        Series(
            "WRESBAL",
            "fed_balance_sheet",
            "USD bn",
            "weekly",
            "FRB",
            "Reserve balances with Federal Reserve Banks (H.4.1, Wednesday level)",
        ),
        Series(
            "TGA_DTS",
            "fed_balance_sheet",
            "USD bn",
            "daily",
            "US Treasury",
            "Treasury General Account closing balance (Daily Treasury Statement, Table I)",
        ),
        Series(
            "TGA_DTS_DEPOSITS",
            "fed_balance_sheet",
            "USD bn",
            "daily",
            "US Treasury",
            "Total deposits into the TGA that day (Daily Treasury Statement)",
        ),
        Series(
            "TGA_DTS_WITHDRAWALS",
            "fed_balance_sheet",
            "USD bn",
            "daily",
            "US Treasury",
            "Total withdrawals from the TGA that day (Daily Treasury Statement)",
        ),
        Series(
            "RPONTSYD",
            "fed_balance_sheet",
            "USD bn",
            "daily",
            "FRBNY",
            "Fed overnight repo operations, Treasury collateral (Standing Repo Facility from 2021)",
        ),
    ]
}

NYFED_ATTRIBUTION = "Source: Federal Reserve Bank of New York (SOFR, BGCR, TGCR, EFFR, OBFR)."
