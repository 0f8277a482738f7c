"""Business-day calendar and date helpers for Treasury cash and futures.

Holidays follow QuantLib's ``UnitedStates(UnitedStates.GovernmentBond)`` calendar (SIFMA's
recommended US government securities holidays), which is also what CME's Treasury futures
delivery calendar follows. Cash Treasuries settle T+1 on this calendar (SIFMA practice).
"""

from __future__ import annotations

import calendar as _cal
from datetime import date
from functools import lru_cache

import numpy as np
import QuantLib as ql

GOVERNMENT_BOND = ql.UnitedStates(ql.UnitedStates.GovernmentBond)


#: QuantLib's date range (``Date::minDate()`` 1901-01-01 to ``Date::maxDate()`` 2199-12-31).
MIN_DATE, MAX_DATE = date(1901, 1, 1), date(2199, 12, 31)


def to_ql(d: date) -> ql.Date:
    """A Python ``date`` as a QuantLib ``Date``; a date outside QuantLib's range is a
    :class:`~basislab.errors.DateError`, not QuantLib's ``RuntimeError``."""
    if not MIN_DATE <= d <= MAX_DATE:
        from basislab.errors import DateError

        raise DateError(
            f"date {d.isoformat()} is out of range; expected {MIN_DATE.isoformat()} to {MAX_DATE.isoformat()}"
        )
    return ql.Date(d.day, d.month, d.year)


def from_ql(d: ql.Date) -> date:
    """A QuantLib ``Date`` as a Python ``date``."""
    return date(d.year(), d.month(), d.dayOfMonth())


def is_business_day(d: date) -> bool:
    """Whether ``d`` is a US government-bond business day."""
    return GOVERNMENT_BOND.isBusinessDay(to_ql(d))


@lru_cache(maxsize=4096)
def advance(d: date, business_days: int) -> date:
    """``d`` moved by ``business_days`` government-bond business days (negative: backwards)."""
    return from_ql(GOVERNMENT_BOND.advance(to_ql(d), business_days, ql.Days))


def settlement_date(trade_date: date, lag: int = 1) -> date:
    """Regular settlement of a cash Treasury traded on ``trade_date``: T+1 business day."""
    return advance(trade_date, lag)


def month_end(year: int, month: int) -> date:
    """Last calendar day of ``year-month``."""
    return date(year, month, _cal.monthrange(year, month)[1])


def last_business_day(year: int, month: int) -> date:
    """Last government-bond business day of ``year-month``."""
    return from_ql(GOVERNMENT_BOND.endOfMonth(to_ql(month_end(year, month))))


def first_business_day(year: int, month: int) -> date:
    """First government-bond business day of ``year-month``."""
    return from_ql(GOVERNMENT_BOND.adjust(to_ql(date(year, month, 1)), ql.Following))


def add_months(d: date, months: int) -> date:
    """``d`` plus whole months, clamped to the month end (2024-08-31 + 6m = 2025-02-28)."""
    idx = d.year * 12 + d.month - 1 + months
    y, m = divmod(idx, 12)
    return date(y, m + 1, min(d.day, _cal.monthrange(y, m + 1)[1]))


def whole_months(start, end) -> np.ndarray:
    """Whole calendar months from ``start`` to ``end`` (array-friendly; rounded down).

    A month counts once the day of the month is reached, month ends counting as reached
    (2024-02-29 to 2024-03-31 is one month; 2024-04-01 to 2031-03-31 is 83 months).
    """
    s = np.asarray(start, dtype="datetime64[D]")
    e = np.asarray(end, dtype="datetime64[D]")
    sm, em = s.astype("datetime64[M]"), e.astype("datetime64[M]")
    months = em.astype(np.int64) - sm.astype(np.int64)
    s_day = (s - sm.astype("datetime64[D]")).astype(np.int64)
    e_day = (e - em.astype("datetime64[D]")).astype(np.int64)
    e_last = ((em + 1).astype("datetime64[D]") - em.astype("datetime64[D]")).astype(np.int64) - 1
    short = (e_day < s_day) & (e_day < e_last)
    return months - short.astype(np.int64)
