"""Bundled market inputs for the DLV: CME futures closes and SOFR (read via ``snapshot_path``).

Sources: ``treasury_futures_close_2024-06-26.csv`` (CME Group settlement prices of 2024-06-26)
and ``fred_sofr_2018_2025.csv`` (SOFR, Federal Reserve Bank of New York, via FRED).
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import pandas as pd

from basislab.data import snapshot_path
from basislab.errors import DataError, PriceDataError

FUTURES_FILE = "treasury_futures_close_2024-06-26.csv"
FUTURES_DATE = date(2024, 6, 26)
SOFR_FILE = "fred_sofr_2018_2025.csv"


@lru_cache(maxsize=1)
def _futures() -> pd.DataFrame:
    return pd.read_csv(snapshot_path(FUTURES_FILE))


def bundled_futures_price(code: str, delivery_month: str, on: date) -> float:
    """Settlement price of a contract on ``on`` from the bundled CME closes (2024-06-26 only)."""
    if on != FUTURES_DATE:
        raise PriceDataError(f"the bundled futures closes are for {FUTURES_DATE} only, not {on}; "
                             "pass --futures-price (and --prices for bond prices of that date)")
    df = _futures()
    root = code.rstrip("0123456789")[:-1]
    hit = df[(df["root"] == root) & (df["delivery_month"] == delivery_month)]
    if hit.empty:
        have = ", ".join(df["contract"])
        raise PriceDataError(f"no bundled close for {code} ({delivery_month}) on {on}; bundled: "
                             f"{have}; pass --futures-price")
    return float(hit["price"].iloc[0])


@lru_cache(maxsize=1)
def _sofr() -> pd.Series:
    df = pd.read_csv(snapshot_path(SOFR_FILE), parse_dates=["date"])
    return df.dropna().set_index("date")["value"].astype(float).sort_index()


def sofr_on(on: date) -> tuple[float, date]:
    """SOFR in percent published for ``on``, or the latest before it (holidays have none):
    ``(rate, date of the rate)``. Source: FRB New York via FRED."""
    s = _sofr()
    ts = pd.Timestamp(on)
    if ts < s.index[0] or ts > s.index[-1] + pd.Timedelta(days=7):
        raise DataError(f"no bundled SOFR for {on} (covers {s.index[0].date()} to "
                        f"{s.index[-1].date()}); pass --repo")
    hit = s.loc[:ts]
    return float(hit.iloc[-1]), hit.index[-1].date()
