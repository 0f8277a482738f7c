"""Treasury conventions shared by the analytics, data and simulator layers: the maturity buckets,
the CBOT Treasury futures contract table, and the pricing of a bucket's cheapest-to-deliver
through the analytics bond math (one pricer for the whole package).

* Buckets: 2y (TU), 5y (FV), 10y (TY, TN), long (US, UB): the CFTC Traders in Financial Futures
  contracts grouped by the tenor of their delivery baskets (CME Treasury futures contract specs).
* CTD terms: clean price by the street convention (SIFMA Standard Formulas, as
  :func:`basislab.analytics.bonds.clean_from_yield`), modified duration ``DV01 x 1e4 / dirty
  price`` (:func:`basislab.analytics.bonds.dv01`), and the CME conversion factor (CME IR232,
  :func:`basislab.analytics.conversion_factor`).
* CTD selection: among deliverable notes priced at their yields, the one with the lowest
  ``clean price / conversion factor`` (at delivery the futures invoice is ``CF x f``, so the
  cheapest to deliver minimises ``P - CF f``; Hull, *Options, Futures and Other Derivatives*,
  ch. 6: with yields above the 6% notional coupon the CTD is the longest-duration note, below it
  the shortest).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

#: Maturity buckets of cash Treasuries and their futures, shortest first.
BUCKETS = ("2y", "5y", "10y", "long")


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
#: Contracts every full-coverage week must have; TN (listed January 2016) joins when it reports.
CORE_CONTRACTS = ("TU", "FV", "TY", "US", "UB")
#: The contract that represents each bucket in the simulator (the oldest of each basket).
BUCKET_ROOTS = {"2y": "TU", "5y": "FV", "10y": "TY", "long": "US"}


@dataclass(frozen=True)
class CtdTerms:
    """A deliverable note priced for a delivery month (per 100 face)."""

    clean_price: float
    modified_duration: float
    conversion_factor: float
    coupon: float  # decimal p.a.


def delivery_start(delivery_month: str) -> date:
    """First calendar day of a ``YYYY-MM`` delivery month (the simulator's pricing date)."""
    y, m = (int(v) for v in delivery_month.split("-"))
    return date(y, m, 1)


def ctd_terms(
    root: str, coupon_pct: float, maturity: date, delivery_month: str, yield_pct: float | None = None
) -> CtdTerms:
    """Clean price, modified duration and conversion factor of a deliverable note at the start of
    the delivery month, at ``yield_pct`` (default: its coupon, i.e. priced at par)."""
    from basislab.analytics import bonds, conversion_factor

    settle = delivery_start(delivery_month)
    y = coupon_pct if yield_pct is None else yield_pct
    clean = float(bonds.clean_from_yield(coupon_pct, maturity, settle, y))
    dirty = float(bonds.dirty_from_yield(coupon_pct, maturity, settle, y))
    dmod = float(bonds.dv01(coupon_pct, maturity, settle, y)) * 1e4 / dirty
    cf = conversion_factor(root, coupon_pct, maturity, delivery_month)
    return CtdTerms(clean, dmod, cf, coupon_pct / 100.0)


def cheapest_to_deliver(
    root: str, delivery_month: str, coupons_pct, maturities, yields_pct
) -> tuple[int, list[CtdTerms]]:
    """Index of the cheapest-to-deliver note (lowest clean price / conversion factor) among the
    candidates, and every candidate's terms."""
    terms = [
        ctd_terms(root, c, m, delivery_month, y)
        for c, m, y in zip(coupons_pct, maturities, yields_pct, strict=True)
    ]
    ratio = np.array([t.clean_price / t.conversion_factor for t in terms])
    return int(np.argmin(ratio)), terms
