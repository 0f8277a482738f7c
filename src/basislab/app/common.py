"""Helpers shared by the CLI commands: console width, date arguments, user price files."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import overload

import pandas as pd
from rich.console import Console

from basislab.errors import BasislabError, DateError, PriceDataError


def console() -> Console:
    """Rich console; a pipe or file gets a wide page so that table columns are not truncated."""
    con = Console()
    return con if con.is_terminal else Console(width=160)


def check_output_file(path: Path, what: str) -> Path:
    """Refuse, before any work starts, an output file that cannot be written: a folder, a path
    under a file, or a folder without write permission. Creates the parent folder."""
    path = Path(path)
    if path.is_dir():
        raise BasislabError(f"{what} {path} is a folder; give a file name, e.g. {path / 'out'}")
    parent = path.parent if str(path.parent) else Path(".")
    if parent.exists() and not parent.is_dir():
        raise BasislabError(f"{what} {path}: {parent} is a file, not a folder")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BasislabError(f"{what} {path}: cannot create {parent} ({exc.strerror or exc})") from None
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise BasislabError(f"{what} {path} is not writable")
    return path


@overload
def parse_date(text: str, what: str) -> date: ...


@overload
def parse_date(text: None, what: str) -> None: ...


def parse_date(text: str | None, what: str) -> date | None:
    """``YYYY-MM-DD`` to a date (None stays None); a bad date is a one-line :class:`PriceDataError`."""
    if text is None:
        return None
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise PriceDataError(f"{what} {text!r} is not a date; expected YYYY-MM-DD") from None
    if not date(1901, 1, 1) <= day <= date(2199, 12, 31):
        raise DateError(f"{what} {text} is out of range; expected a date from 1901-01-01 to 2199-12-31")
    return day


def read_price_file(path: Path) -> pd.DataFrame:
    """Read a user's bond price CSV: ``cusip, coupon_pct, maturity, clean_price[, issue_date]``
    or a FedInvest price list (``cusip, security_type, rate, maturity_date, buy, sell``)."""
    from basislab.analytics.securities import KINDS

    if not path.is_file():
        raise PriceDataError(f"price file {path} does not exist; expected a CSV file")
    try:
        df = pd.read_csv(path, dtype={"cusip": str})
    except pd.errors.EmptyDataError:
        raise PriceDataError(
            f"price file {path} is empty; expected a CSV with header cusip,coupon_pct,maturity,clean_price"
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise PriceDataError(
            f"price file {path} is not a readable CSV ({first}); expected "
            "header cusip,coupon_pct,maturity,clean_price"
        ) from None
    df.columns = [str(c).strip().lower() for c in df.columns]
    if {"rate", "maturity_date", "sell"} <= set(df.columns) and "clean_price" not in df:
        buy = pd.to_numeric(df.get("buy", 0), errors="coerce").fillna(0)
        sell = pd.to_numeric(df["sell"], errors="coerce")
        kind = df["security_type"].str.strip().map(KINDS) if "security_type" in df else None
        df = pd.DataFrame(
            {
                "cusip": df["cusip"],
                "coupon_pct": pd.to_numeric(df["rate"], errors="coerce") * 100,
                "maturity": df["maturity_date"],
                "clean_price": sell.where(buy <= 0, (buy + sell) / 2),
                **({"kind": kind} if kind is not None else {}),
            }
        )
    if df.empty:
        raise PriceDataError(f"price file {path} has a header but no rows; expected one bond a row")
    return df


#: ``--plotlyjs`` of the HTML-writing commands: ``inline`` (one self-contained file, ~5 MB) or
#: ``shared`` (``plotly.min.js`` written once beside the report; each report ~0.3 MB)
PLOTLYJS_HELP = "inline: self-contained file (default); shared: plotly.min.js written once beside it"


def check_plotlyjs(mode: str) -> str:
    """Refuse an unknown ``--plotlyjs`` mode in one line, before any work starts."""
    from basislab.report.html import PLOTLYJS_MODES

    if mode not in PLOTLYJS_MODES:
        raise BasislabError(f"--plotlyjs {mode!r}: expected one of {', '.join(PLOTLYJS_MODES)}")
    return mode
