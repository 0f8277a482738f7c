"""Continuous front-month Treasury futures from Yahoo Finance: contract labels, roll dates, a
roll-flagged and a back-adjusted close.

The Yahoo series (``ZT=F``, ``ZF=F``, ``ZN=F``, ``ZB=F``; TU, FV, TY, US) are **not CME
settlement files**: one price a day, of whichever contract Yahoo shows. Yahoo keeps the expiring
contract until its last trading day (CME rule: TU and FV the last business day of the delivery
month; TY and US the 7th business day before it; see :class:`basislab.analytics.contracts.Contract`)
and shows the next one from that day on. Checked on the data: in 2005-2025 the volume jumps from
a few thousand to a million or more on the last trading day in 75-80 of 84 quarters per root.

Roll date of each contract: the trading day within 3 rows of its last trading day where the
volume jumps the most against the previous row, if that jump is at least ``ROLL_VOLUME_JUMP``
times; otherwise the first row on or after the last trading day (``roll_rule`` says which).

Columns added: ``contract`` (CME code, e.g. ``TYZ9``), ``roll`` (first row of a new contract),
``in_delivery`` (the row shows a contract in its delivery month: after first notice, thin and
not the contract the market trades), ``close_adj`` (difference back-adjusted close: every price
before a roll is shifted by the jump on the roll day, so the latest prices are actual prices and
the series has no roll jumps; the market move of the roll day itself is lost with the calendar
spread, one day a quarter) and ``return_ex_roll`` (daily price change in points, NaN on roll days).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from basislab.analytics.contracts import Contract

#: Yahoo ticker stem -> CME root.
YAHOO_ROOTS = {"ZT": "TU", "ZF": "FV", "ZN": "TY", "ZB": "US"}
ROLL_VOLUME_JUMP = 10.0
ROLL_SEARCH_ROWS = 3
FRONT_COLUMNS = [
    "date",
    "root",
    "contract",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "roll",
    "roll_rule",
    "in_delivery",
    "close_adj",
    "return_ex_roll",
]


def _code(c: Contract) -> str:
    """CME code with a two-digit year (``TYZ19``): unambiguous over the 26 years of the series."""
    return f"{c.root}{c.code[len(c.root)]}{c.year % 100:02d}"


def _quarters(first: dt.date, last: dt.date, root: str) -> list[Contract]:
    return [Contract(root, y, m) for y in range(first.year, last.year + 2) for m in (3, 6, 9, 12)]


def roll_dates(daily: pd.DataFrame, root: str) -> list[tuple[Contract, dt.date, str]]:
    """``(contract, first date the series shows the next contract, rule)`` for each quarter in range."""
    dates = pd.to_datetime(daily["date"]).reset_index(drop=True)
    vol = daily["volume"].to_numpy(dtype=float)
    ratio = vol / np.maximum(np.r_[np.nan, vol[:-1]], 1.0)
    out = []
    first, last = dates.iloc[0].date(), dates.iloc[-1].date()
    for c in _quarters(first, last, root):
        ltd = pd.Timestamp(c.last_trading_day)
        i = int(dates.searchsorted(ltd))  # first row on or after the last trading day
        if i >= len(dates) or c.last_trading_day < first:
            continue
        lo, hi = max(1, i - ROLL_SEARCH_ROWS), min(len(dates), i + ROLL_SEARCH_ROWS + 1)
        j = lo + int(np.nanargmax(ratio[lo:hi])) if hi > lo else i
        if hi > lo and ratio[j] >= ROLL_VOLUME_JUMP:
            out.append((c, dates[j].date(), "volume"))
        else:
            out.append((c, dates[i].date(), "calendar"))
    return out


def front_month(daily: pd.DataFrame, root: str) -> pd.DataFrame:
    """Label, flag and back-adjust a Yahoo front-month series (``date, open, high, low, close, volume``)."""
    df = daily.sort_values("date").reset_index(drop=True).copy()
    df["root"] = root
    dates = pd.to_datetime(df["date"])
    rolls = roll_dates(df, root)
    contract = np.empty(len(df), dtype=object)
    rule = np.full(len(df), "", dtype=object)
    in_delivery = np.zeros(len(df), dtype=bool)
    start = pd.Timestamp.min
    for c, roll_day, how in rolls:
        sel = (dates >= start) & (dates < pd.Timestamp(roll_day))
        contract[sel.to_numpy()] = _code(c)
        in_delivery[(sel & (dates >= pd.Timestamp(c.first_delivery_day))).to_numpy()] = True
        rule[(dates == pd.Timestamp(roll_day)).to_numpy()] = how
        start = pd.Timestamp(roll_day)
    left = contract == None  # noqa: E711 - rows after the last roll: the next quarter
    if left.any():
        quarters = _quarters(dates.iloc[0].date(), dates.iloc[-1].date(), root)
        after = [c for c in quarters if not rolls or c.last_trading_day > rolls[-1][0].last_trading_day]
        contract[left] = _code(after[0])
    df["contract"] = contract
    df["roll"] = np.r_[False, contract[1:] != contract[:-1]]
    df["roll_rule"] = np.where(df["roll"], rule, "")
    df["in_delivery"] = in_delivery
    change = df["close"].diff()
    gap = np.where(df["roll"], change, 0.0)
    # Shift every price before a roll by that roll's jump: close_adj = close + sum of later gaps.
    later = np.r_[np.cumsum(gap[::-1])[::-1][1:], 0.0]
    df["close_adj"] = df["close"] + later
    df["return_ex_roll"] = change.where(~df["roll"])
    return df[FRONT_COLUMNS]
