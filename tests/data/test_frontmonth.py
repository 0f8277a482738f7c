"""Yahoo front-month futures: spot checks, roll dates and the back-adjusted close."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from basislab.analytics.contracts import Contract

D = dt.date


def front(con, root: str) -> pd.DataFrame:
    df = con.execute("SELECT * FROM futures_front_month WHERE root = ? ORDER BY date", [root]).df()
    df["date"] = pd.to_datetime(df["date"]).dt.date
    return df.set_index("date")


def test_spot_checks_against_sources(con):
    ty = front(con, "TY")
    # snapshot/SOURCES.md: ZN closes 139.296875 (2020-03-09) and 134.375 (2020-03-18) ...
    assert ty.loc[D(2020, 3, 9), "close"] == 139.296875
    assert ty.loc[D(2020, 3, 18), "close"] == 134.375
    # ... and ZN, ZB on 2024-06-26 equal the CME settlements TYU4 110-02, USU4 118-30.
    assert ty.loc[D(2024, 6, 26), "close"] == 110.0625 and ty.loc[D(2024, 6, 26), "contract"] == "TYU24"
    assert front(con, "US").loc[D(2024, 6, 26), "close"] == 118.9375


def test_roll_dates_follow_cme_last_trading_day(con):
    """Yahoo shows the next contract from the expiring one's last trading day (CME rule); the
    volume jumps there. In 2010-2025 every roll is within 3 trading days of that day."""
    for root in ("TU", "FV", "TY", "US"):
        df = front(con, root)
        rolls = df[df["roll"]]
        recent = rolls[rolls.index >= D(2010, 1, 1)]
        assert 60 <= len(recent) <= 66
        on_ltd = 0
        for day in recent.index:
            prev = df.loc[: day - dt.timedelta(days=1)].iloc[-1]
            old = prev["contract"]
            c = Contract(root, 2000 + int(old[-2:]), {"H": 3, "M": 6, "U": 9, "Z": 12}[old[-3]])
            gap = abs((day - c.last_trading_day).days)
            assert gap <= 6, (root, day, c.last_trading_day)
            on_ltd += day == c.last_trading_day
        assert on_ltd >= 0.85 * len(recent), root


def test_back_adjusted_close(con):
    ty = front(con, "TY")
    # Latest prices are actual prices; on roll days the adjusted series does not move.
    assert ty["close_adj"].iloc[-1] == ty["close"].iloc[-1]
    rolls = ty.index[ty["roll"]]
    adj_change = ty["close_adj"].diff()
    assert (adj_change.loc[rolls].abs() < 1e-9).all()
    assert ty.loc[rolls, "return_ex_roll"].isna().all()
    # Off roll days the adjusted and raw changes agree.
    off = ~ty["roll"]
    assert (adj_change[off].iloc[1:] - ty["close"].diff()[off].iloc[1:]).abs().max() < 1e-9
    # March 2020: TYH20 in delivery until the roll to TYM20 on its last trading day, 2020-03-20.
    assert ty.loc[D(2020, 3, 19), "contract"] == "TYH20" and ty.loc[D(2020, 3, 19), "in_delivery"]
    assert ty.loc[D(2020, 3, 20), "contract"] == "TYM20" and ty.loc[D(2020, 3, 20), "roll"]
    assert not ty.loc[D(2020, 3, 20), "in_delivery"]


def test_front_month_labels(con):
    tu = front(con, "TU")
    assert tu.loc[D(2024, 6, 26), "contract"] == "TUM24"  # Yahoo still shows June (volume 0)
    assert tu.loc[D(2024, 6, 26), "volume"] == pytest.approx(0)
    assert tu.loc[D(2024, 6, 26), "in_delivery"]
