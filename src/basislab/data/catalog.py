"""What the store holds: Treasury futures contracts, series, publishers and stress episodes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# The contract table and the buckets live in basislab.conventions (shared with analytics and sim).
from basislab.conventions import BUCKETS, CODE_TO_ROOT, CONTRACTS, CORE_CONTRACTS, FuturesContract  # noqa: F401


@dataclass(frozen=True)
class Episode:
    """A funding or Treasury-market episode: its replay window (``basislab simulate EPISODE``,
    :mod:`basislab.data.episodes`) and, where it was a stress, the stress days marked on the
    monitor's charts (``start`` .. ``end``)."""

    key: str
    label: str
    start: dt.date  # stress marked on the charts (the window itself where unmarked)
    end: dt.date
    note: str
    window_start: dt.date
    window_end: dt.date
    marked: bool = True


# The one table of episodes. Dates and facts from ../shared/reference/system-facts.md (ids in
# brackets); replay windows from issue 11. EPISODES (chart markers) and
# basislab.data.episodes.EPISODES (replays) are both derived from it.
EPISODE_TABLE = (
    Episode(
        "calm-2019h1",
        "Calm first half of 2019",
        dt.date(2019, 1, 2),
        dt.date(2019, 6, 28),
        "A calm market: a replay must not produce a crisis",
        dt.date(2019, 1, 2),
        dt.date(2019, 6, 28),
        marked=False,
    ),
    Episode(
        "sep-2019",
        "Sep 2019 repo spike",
        dt.date(2019, 9, 16),
        dt.date(2019, 9, 20),
        "SOFR 5.25% on 2019-09-17 vs a 2.00-2.25% target range; Fed repo operations resume [sofr_sep2019]",
        dt.date(2019, 9, 9),
        dt.date(2019, 9, 30),
    ),
    Episode(
        "mar-2020",
        "Mar 2020 dash for cash",
        dt.date(2020, 3, 9),
        dt.date(2020, 3, 31),
        "10y yield +64bp 9-18 March; Fed buys $775bn of Treasuries 15-31 March [ust10y_rise_mar9_18]",
        dt.date(2020, 3, 2),
        dt.date(2020, 3, 31),
    ),
    Episode(
        "apr-2025",
        "Apr 2025 tariff sell-off",
        dt.date(2025, 4, 3),
        dt.date(2025, 4, 11),
        "10y and 30y yields ~+50bp in a week [ust10y_apr2025]",
        dt.date(2025, 4, 1),
        dt.date(2025, 4, 30),
    ),
    Episode(
        "late-2025",
        "Oct 2025 repo pressure",
        dt.date(2025, 10, 20),
        dt.date(2025, 10, 31),
        "SOFR 32bp over IORB and record $50bn Standing Repo Facility use on 2025-10-31 [sofr_iorb_oct31_2025]",
        dt.date(2025, 10, 1),
        dt.date(2025, 12, 31),
    ),
)
#: Stress episodes marked on the monitor's charts (derived from :data:`EPISODE_TABLE`).
EPISODES = tuple(e for e in EPISODE_TABLE if e.marked)


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
