"""Securities master: the FedInvest price list of 2024-06-26 joined with TreasuryDirect auctions.

Sources (bundled, see ``basislab/data/snapshot/SOURCES.md``):
- ``treasury_prices_2024-06-26.csv``: FedInvest end-of-day prices (US Treasury, Bureau of the
  Fiscal Service): CUSIP, security type, coupon rate, maturity, buy and sell per 100.
- ``treasurydirect_auctions_1979_2025.csv``: TreasuryDirect auction query export: CUSIP, security
  term, auction, issue and maturity dates. Reopenings repeat a CUSIP; the first auction gives the
  original issue date and the original term.

Price convention: the mid of buy and sell where buy > 0, else sell (FedInvest leaves buy at 0
for some short securities).
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import pandas as pd

from basislab.data import snapshot_path
from basislab.errors import DataError

PRICES_FILE = "treasury_prices_2024-06-26.csv"
AUCTIONS_FILE = "treasurydirect_auctions_1979_2025.csv"
PRICE_DATE = pd.Timestamp("2024-06-26").date()

#: FedInvest security types -> basislab kinds. Only "note" and "bond" can be delivered.
KINDS = {
    "MARKET BASED BILL": "bill",
    "MARKET BASED NOTE": "note",
    "MARKET BASED BOND": "bond",
    "MARKET BASED FRN": "frn",
    "TIPS": "tips",
}

COLUMNS = [
    "cusip",
    "security_type",
    "kind",
    "coupon_pct",
    "issue_date",
    "maturity",
    "original_term",
    "original_term_months",
    "buy",
    "sell",
    "clean_price",
]


def parse_term_months(term: str) -> int:
    """TreasuryDirect ``Security Term`` (``"9-Year 10-Month"``, ``"26-Week"``) in whole months."""
    text = str(term)
    years = re.search(r"(\d+)-Year", text)
    months = re.search(r"(\d+)-Month", text)
    weeks = re.search(r"(\d+)-Week", text)
    days = re.search(r"(\d+)-Day", text)
    total = (int(years.group(1)) * 12 if years else 0) + (int(months.group(1)) if months else 0)
    if weeks:
        total += int(weeks.group(1)) * 7 // 30
    if days:
        total += int(days.group(1)) // 30
    return total


def load_auctions() -> pd.DataFrame:
    """One row per CUSIP from the auction history: first auction's issue date and term."""
    path = snapshot_path(AUCTIONS_FILE)
    try:
        raw = pd.read_csv(
            path,
            encoding="utf-8-sig",
            usecols=[
                "CUSIP",
                "Security Type",
                "Security Term",
                "Auction Date",
                "Issue Date",
                "Maturity Date",
            ],
        )
    except (ValueError, OSError) as exc:
        raise DataError(f"cannot read the auction history {path.name}: {exc}") from None
    raw = raw.sort_values(["CUSIP", "Auction Date", "Issue Date"])
    first = raw.drop_duplicates("CUSIP", keep="first")
    out = pd.DataFrame(
        {
            "cusip": first["CUSIP"].str.strip(),
            "auction_type": first["Security Type"].str.lower(),
            "original_term": first["Security Term"].str.strip(),
            "issue_date": pd.to_datetime(first["Issue Date"]).dt.date,
            "auction_maturity": pd.to_datetime(first["Maturity Date"]).dt.date,
            "auctions": raw.groupby("CUSIP").size().reindex(first["CUSIP"]).to_numpy(),
        }
    )
    out["original_term_months"] = out["original_term"].map(parse_term_months).astype("int64")
    return out.reset_index(drop=True)


def load_prices() -> pd.DataFrame:
    """The FedInvest price list with ``kind``, ``coupon_pct`` and the clean mid price."""
    path = snapshot_path(PRICES_FILE)
    try:
        raw = pd.read_csv(path, dtype={"cusip": str})
    except (ValueError, OSError) as exc:
        raise DataError(f"cannot read the price list {path.name}: {exc}") from None
    kind = raw["security_type"].str.strip().map(KINDS)
    if kind.isna().any():
        bad = raw.loc[kind.isna(), "security_type"].iloc[0]
        raise DataError(f"unknown FedInvest security type {bad!r} in {path.name}")
    buy, sell = raw["buy"].astype(float), raw["sell"].astype(float)
    return pd.DataFrame(
        {
            "cusip": raw["cusip"].str.strip(),
            "security_type": raw["security_type"].str.strip(),
            "kind": kind,
            "coupon_pct": (raw["rate"].astype(float) * 100).round(6),
            "maturity": pd.to_datetime(raw["maturity_date"]).dt.date,
            "buy": buy,
            "sell": sell,
            "clean_price": np.where(buy > 0, (buy + sell) / 2, sell),
        }
    )


@lru_cache(maxsize=1)
def _master() -> pd.DataFrame:
    prices = load_prices()
    auctions = load_auctions()
    df = prices.merge(auctions, on="cusip", how="left", validate="one_to_one")
    missing = df["issue_date"].isna() & df["kind"].isin(["note", "bond"])
    if missing.any():
        raise DataError(
            f"{int(missing.sum())} notes/bonds in {PRICES_FILE} have no auction record "
            f"(first: {df.loc[missing, 'cusip'].iloc[0]}); the bundled snapshot is inconsistent"
        )
    df["original_term_months"] = df["original_term_months"].fillna(-1).astype("int64")
    return df[COLUMNS].reset_index(drop=True)


def load_securities_master() -> pd.DataFrame:
    """All 453 securities priced on 2024-06-26, with terms from the auction history.

    Columns: ``cusip, security_type, kind (bill/note/bond/tips/frn), coupon_pct, issue_date
    (original issue), maturity, original_term (TreasuryDirect text), original_term_months, buy,
    sell, clean_price``. Returns a copy; callers may modify it.
    """
    return _master().copy()


def notes_and_bonds(securities: pd.DataFrame | None = None) -> pd.DataFrame:
    """Fixed-coupon nominal notes and bonds only (bills, TIPS and FRNs removed)."""
    df = load_securities_master() if securities is None else securities
    if "kind" not in df:
        return df
    return df[df["kind"].isin(["note", "bond"])].reset_index(drop=True)


def check_against_master(bonds: pd.DataFrame) -> None:
    """Sanity-check a user's bond table (numeric ``coupon_pct``, ``maturity`` as dates) against the
    securities master; raise :class:`~basislab.errors.PriceDataError` on the first bad row.

    - A CUSIP the master knows must carry the Treasury's coupon (to 1e-6 percent);
      a coupon 100 times too small is reported as a fraction given for a percent.
    - An unknown CUSIP whose coupon is not in eighths of a percent but is in eighths once
      multiplied by 100 (``0.04375`` for 4.375%) is refused as a fraction: Treasury notes and bonds
      pay coupons in multiples of 1/8 percent (TreasuryDirect auction rules, 31 CFR 356.20).
    """
    from basislab.errors import PriceDataError

    master = _master().set_index("cusip")
    for cusip, coupon in zip(bonds["cusip"], bonds["coupon_pct"], strict=True):
        if cusip in master.index:
            ref = master.loc[cusip]
            ref_coupon = float(ref["coupon_pct"])
            if abs(coupon - ref_coupon) > 1e-6:
                hint = (
                    " (looks like a fraction: coupon_pct is in percent, e.g. 4.375)"
                    if abs(coupon * 100 - ref_coupon) < 1e-4
                    else ""
                )
                raise PriceDataError(
                    f"coupon {coupon:g} of {cusip} is not the Treasury's {ref_coupon:g}%{hint}; "
                    "expected the security's coupon in percent"
                )
            continue
        eighths = lambda x: abs(x * 8 - round(x * 8)) < 1e-6  # noqa: E731
        if 0 < coupon < 0.25 and not eighths(coupon) and eighths(coupon * 100):
            raise PriceDataError(
                f"coupon {coupon:g} of {cusip} looks like a fraction ({coupon * 100:g}%); "
                "coupon_pct is in percent, e.g. 4.375"
            )
