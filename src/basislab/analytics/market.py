"""Bundled market inputs for the DLV: CME futures closes and SOFR (read via ``snapshot_path``).

Sources: ``treasury_futures_close_2024-06-26.csv`` (CME Group settlement prices of 2024-06-26)
and ``fred_sofr_2018_2025.csv`` (SOFR, Federal Reserve Bank of New York, via FRED).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING

import pandas as pd

from basislab.data import snapshot_path
from basislab.errors import DataError, PriceDataError

if TYPE_CHECKING:
    from basislab.analytics.contracts import Contract

FUTURES_FILE = "treasury_futures_close_2024-06-26.csv"
FUTURES_DATE = date(2024, 6, 26)
SOFR_FILE = "fred_sofr_2018_2025.csv"


@lru_cache(maxsize=1)
def _futures() -> pd.DataFrame:
    return pd.read_csv(snapshot_path(FUTURES_FILE))


def bundled_futures_price(code: str, delivery_month: str, on: date) -> float:
    """Settlement price of a contract on ``on`` from the bundled CME closes (2024-06-26 only)."""
    if on != FUTURES_DATE:
        raise PriceDataError(
            f"the bundled futures closes are for {FUTURES_DATE} only, not {on}; "
            "pass --futures-price (and --prices for bond prices of that date)"
        )
    df = _futures()
    root = code.rstrip("0123456789")[:-1]
    hit = df[(df["root"] == root) & (df["delivery_month"] == delivery_month)]
    if hit.empty:
        have = ", ".join(df["contract"])
        raise PriceDataError(
            f"no bundled close for {code} ({delivery_month}) on {on}; bundled: {have}; pass --futures-price"
        )
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
        raise DataError(
            f"no bundled SOFR for {on} (covers {s.index[0].date()} to {s.index[-1].date()}); pass --repo"
        )
    hit = s.loc[:ts]
    return float(hit.iloc[-1]), hit.index[-1].date()


@dataclass(frozen=True)
class MarketInputs:
    """Everything a DLV or a trade needs besides the contract's terms, with where it came from."""

    contract: Contract
    bonds: pd.DataFrame
    futures_price: float
    settlement: date
    repo_pct: float
    repo_source: str


def market_inputs(
    code: str,
    on: date,
    *,
    bonds: pd.DataFrame | None = None,
    futures_price: float | None = None,
    settlement: date | None = None,
    repo_pct: float | None = None,
    filter_basket: bool = False,
) -> MarketInputs:
    """Resolve a contract code and its market inputs, defaulting to the bundled data.

    ``bonds`` defaults to the deliverable basket of the bundled 2024-06-26 FedInvest list (only for
    that trade date); ``futures_price`` to the bundled CME close; ``settlement`` to T+1 on the US
    government-bond calendar; ``repo_pct`` to SOFR on ``on``. ``filter_basket`` drops bonds of a
    user's table that are outside the basket instead of leaving :func:`dlv` to refuse them.
    """
    from basislab.analytics.basket import deliverable_basket, normalize_bonds
    from basislab.analytics.calendar import settlement_date
    from basislab.analytics.contracts import parse_contract
    from basislab.analytics.securities import load_securities_master

    c = parse_contract(code, as_of=on)
    settle = settlement or settlement_date(on)
    if settle < on:
        from basislab.errors import DateError

        raise DateError(
            f"settlement {settle.isoformat()} is before the trade date {on.isoformat()}; "
            "expected settlement on or after the trade date (T+1 by default)"
        )
    if settle > c.last_delivery_day:
        from basislab.errors import DateError

        raise DateError(
            f"settlement {settle.isoformat()} is after {c.code}'s last delivery day "
            f"{c.last_delivery_day.isoformat()}; expected a settlement before delivery"
        )
    fut = futures_price if futures_price is not None else bundled_futures_price(c.code, c.delivery_month, on)
    if repo_pct is None:
        repo_pct, repo_day = sofr_on(on)
        repo_source = f"SOFR {repo_day} (FRB New York via FRED)"
    else:
        repo_source = "user"
    if bonds is None:
        if on != FUTURES_DATE:
            raise PriceDataError(
                f"the bundled bond prices are for {FUTURES_DATE} only, not {on}; "
                "pass your own prices (--prices FILE)"
            )
        bonds = deliverable_basket(c.root, c.delivery_month, load_securities_master())
    elif filter_basket:
        bonds = deliverable_basket(c.root, c.delivery_month, normalize_bonds(bonds))
        if bonds.empty:
            raise PriceDataError(f"no bond of the price table is deliverable into {c.code}")
    return MarketInputs(c, bonds, float(fut), settle, float(repo_pct), repo_source)
