"""Treasury note and bond math, vectorised in numpy, with a QuantLib reference path.

Conventions (US Treasury; sources: SIFMA Standard Formulas; 31 CFR 356 Appendix B; QuantLib):
- Coupons semi-annual on the maturity day; schedules built backwards from maturity with the
  end-of-month rule (a note maturing on a month end pays on month ends: 6/30 -> 12/31), dates
  unadjusted for accrual.
- Accrued interest Act/Act ICMA: ``coupon/2 * (days since the period start) / (days in the
  period)``; a security accrues from its dated date (:func:`dated_date`).
- Street yield (SIFMA, Bloomberg "street convention"): semi-annual compounding with a fractional
  first period ``w`` compounded, ``(1 + y/2) ** w``; simple interest in the final coupon period.
- Treasury auction formula (31 CFR 356, Appendix B): the same cash flows discounted to the next
  coupon at ``(1 + y/2) ** k`` and over the fractional period at simple interest ``1 + w y/2``.
- DV01: change in (dirty) price per 100 face for a 1 basis point fall in yield, central difference.

The vectorised functions take arrays (one element per bond); the ``ql_*`` functions build a
QuantLib ``FixedRateBond`` and serve as the reference in tests and as the benchmark baseline.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import QuantLib as ql

from basislab.analytics.calendar import to_ql
from basislab.errors import BondError

D = "datetime64[D]"


def as_days(x) -> np.ndarray:
    """Dates (``date``, strings, pandas or numpy; ``None`` for missing) as ``datetime64[D]``."""
    arr = np.asarray(x)
    if arr.dtype.kind == "M":
        return arr.astype(D, copy=False)
    if arr.dtype == object and arr.size:
        try:  # date/datetime/Timestamp objects: ordinals are ~20x faster than astype
            ords = np.fromiter((d.toordinal() for d in arr.ravel()), np.int64, arr.size)
            return (ords - _EPOCH_ORDINAL).astype(D).reshape(arr.shape)
        except AttributeError:
            pass
    return arr.astype(D)


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def shift_months(maturity, months_back) -> np.ndarray:
    """``maturity`` moved back by ``months_back`` months with the end-of-month rule."""
    mat = as_days(maturity)
    m = mat.astype("datetime64[M]")
    day = (mat - m.astype(D)).astype(np.int64) + 1
    eom = mat == ((m + 1).astype(D) - 1)
    tm = m - np.asarray(months_back, dtype=np.int64)
    dim = ((tm + 1).astype(D) - tm.astype(D)).astype(np.int64)
    d = np.where(eom, dim, np.minimum(day, dim))
    return tm.astype(D) + (d - 1)


def coupon_period(maturity, on):
    """Quasi-coupon period around ``on``: ``(prev, next, k)`` where ``prev <= on < next`` and
    ``k`` is the number of coupons after ``next`` (``next`` is ``k`` half-years before maturity).
    """
    mat, on = as_days(maturity), as_days(on)
    mm = mat.astype("datetime64[M]").astype(np.int64)
    om = on.astype("datetime64[M]").astype(np.int64)
    k = (mm - om) // 6
    k = np.where(shift_months(mat, 6 * k) <= on, k - 1, k)
    return shift_months(mat, 6 * (k + 1)), shift_months(mat, 6 * k), k


def dated_date(issue_date, maturity) -> np.ndarray:
    """Date interest starts to accrue: the quasi-coupon date on or before the original issue date.

    Treasury notes and bonds have regular first coupons; a security issued after its dated date
    (a month-end note issued on the 1st, a 20-year bond issued at month end for the 15th)
    charges accrued interest from it. Checked in the tests on every auction price of the
    TreasuryDirect history for the securities outstanding on 2024-06-26. Unknown issue dates
    give ``NaT``. Pass an explicit ``dated`` to the pricing functions for a short first coupon.
    """
    iss = as_days(issue_date)
    known = ~np.isnat(iss)
    prev, _, _ = coupon_period(maturity, np.where(known, iss, np.datetime64("1900-01-01")))
    return np.where(known, prev, np.datetime64("NaT")).astype(D)


def accrued(coupon_pct, maturity, on, dated=None) -> np.ndarray:
    """Accrued interest per 100 face on ``on`` (Act/Act ICMA; from the dated date if later)."""
    cpn = np.asarray(coupon_pct, dtype=np.float64)
    prev, nxt, _ = coupon_period(maturity, on)
    on = as_days(on)
    start = prev if dated is None else _later(prev, as_days(dated))
    days = np.maximum((on - start).astype(np.int64), 0)
    return cpn / 2 * days / (nxt - prev).astype(np.int64)


def _later(a, b):
    b = np.where(np.isnat(b), a, b)
    return np.maximum(a, b)


def _flows(coupon_pct, maturity, settle, dated):
    """Fraction ``w`` of the period to the next coupon, coupons after it ``k``, first coupon."""
    cpn = np.asarray(coupon_pct, dtype=np.float64)
    prev, nxt, k = coupon_period(maturity, settle)
    period = (nxt - prev).astype(np.int64)
    w = (nxt - as_days(settle)).astype(np.int64) / period
    start = prev if dated is None else _later(prev, as_days(dated))
    first = cpn / 2 * (nxt - start).astype(np.int64) / period
    return cpn, w, k, first


def _pv(cpn, w, k, first, y, convention):
    """Dirty price per 100 at yield ``y`` (decimal) of cash flows ``first`` at ``w``, then
    ``cpn/2`` at ``w+1..w+k`` and 100 at ``w+k``."""
    h = 1.0 + y / 2
    vk = h ** (-k.astype(np.float64))
    annuity = np.where(np.abs(y) > 1e-12, (1 - vk) / np.where(np.abs(y) > 1e-12, y / 2, 1.0), k)
    at_next = first + cpn / 2 * annuity + 100 * vk  # value at the next coupon date
    if convention == "treasury":
        return at_next / (1 + w * y / 2)
    if convention != "street":
        raise BondError(f"unknown yield convention {convention!r}; expected 'street' or 'treasury'")
    return np.where(k == 0, at_next / (1 + w * y / 2), at_next * h ** (-w))


def dirty_from_yield(coupon_pct, maturity, settle, yield_pct, dated=None, convention="street"):
    """Dirty price per 100 from a yield in percent (street or Treasury auction convention)."""
    cpn, w, k, first = _flows(coupon_pct, maturity, settle, dated)
    return _pv(cpn, w, k, first, np.asarray(yield_pct, dtype=np.float64) / 100, convention)


def clean_from_yield(coupon_pct, maturity, settle, yield_pct, dated=None, convention="street"):
    """Clean price per 100 from a yield in percent."""
    return dirty_from_yield(coupon_pct, maturity, settle, yield_pct, dated, convention) - accrued(
        coupon_pct, maturity, settle, dated
    )


def yield_from_clean(
    coupon_pct, maturity, settle, clean_price, dated=None, convention="street"
) -> np.ndarray:
    """Yield in percent from a clean price per 100 (Newton's method on the vectorised formula)."""
    clean = np.asarray(clean_price, dtype=np.float64)
    if np.any(~(clean > 0)):
        raise BondError("clean price must be positive; got a zero, negative or missing price")
    if np.any(as_days(maturity) <= as_days(settle)):
        raise BondError("a bond matures on or before its settlement date; expected a later maturity")
    cpn, w, k, first = _flows(coupon_pct, maturity, settle, dated)
    target = clean + accrued(coupon_pct, maturity, settle, dated)
    y = np.full(np.broadcast(cpn, target).shape, 0.05)
    h = 1e-6
    for _ in range(50):
        f = _pv(cpn, w, k, first, y, convention) - target
        slope = (_pv(cpn, w, k, first, y + h, convention) - _pv(cpn, w, k, first, y - h, convention)) / (
            2 * h
        )
        step = f / slope
        y = y - step
        if np.all(np.abs(step) < 1e-13):
            break
    return y * 100


def dv01(coupon_pct, maturity, settle, yield_pct, dated=None, convention="street") -> np.ndarray:
    """Price change per 100 face for a 1bp fall in yield (central difference, +/- 0.5bp)."""
    cpn, w, k, first = _flows(coupon_pct, maturity, settle, dated)
    y = np.asarray(yield_pct, dtype=np.float64) / 100
    return _pv(cpn, w, k, first, y - 0.5e-4, convention) - _pv(cpn, w, k, first, y + 0.5e-4, convention)


def coupons_between(coupon_pct, maturity, start, end, dated=None, max_coupons: int = 4):
    """Coupons paid in ``(start, end]``: ``(amounts, dates)`` arrays of shape (bonds, max)
    (amount 0 and ``NaT`` where none). Dates are the unadjusted coupon dates."""
    cpn = np.asarray(coupon_pct, dtype=np.float64)
    _, nxt, k = coupon_period(maturity, start)
    end = as_days(end)
    _, _, _, first = _flows(coupon_pct, maturity, start, dated)
    amounts, dates = [], []
    for j in range(max_coupons):
        when = shift_months(maturity, 6 * (k - j))
        paid = (k - j >= 0) & (when <= end)
        amt = first if j == 0 else np.broadcast_to(cpn / 2, np.shape(first))
        amounts.append(np.where(paid, amt, 0.0))
        dates.append(np.where(paid, when, np.datetime64("NaT")))
    return np.stack(amounts, axis=-1), np.stack(dates, axis=-1).astype(D)


# --- QuantLib reference path -------------------------------------------------------------------


def ql_bond(
    coupon_pct: float, maturity: date, dated: date | None = None, settlement_days: int = 1
) -> ql.FixedRateBond:
    """A QuantLib ``FixedRateBond`` with the Treasury conventions: EOM schedule backwards from
    maturity, Act/Act ICMA, coupons dated on their unadjusted coupon dates (as in the basis
    formulas; a coupon due on a weekend is paid the next business day, which moves carry by
    well under 0.0001 points)."""
    mat = to_ql(maturity)
    start = to_ql(dated) if dated is not None else mat - ql.Period(40, ql.Years)
    sched = ql.Schedule(
        start,
        mat,
        ql.Period(ql.Semiannual),
        ql.NullCalendar(),
        ql.Unadjusted,
        ql.Unadjusted,
        ql.DateGeneration.Backward,
        True,
    )
    dc = ql.ActualActual(ql.ActualActual.ISMA, sched)
    return ql.FixedRateBond(settlement_days, 100.0, sched, [coupon_pct / 100], dc, ql.Unadjusted)


#: Day counter for QuantLib yields: Act/Act ICMA; QuantLib hands it each coupon's reference
#: period, so no schedule is needed here.
QL_DAY_COUNT = ql.ActualActual(ql.ActualActual.ISMA)


def _compounding(convention: str, bond: ql.FixedRateBond, settle: date):
    """QuantLib compounding for a convention. QuantLib discounts period by period, so
    ``SimpleThenCompounded`` is simple over the fractional first period: the Treasury auction
    formula. The street convention compounds it, except in the final coupon period."""
    if convention == "treasury":
        return ql.SimpleThenCompounded
    if convention != "street":
        raise BondError(f"unknown yield convention {convention!r}; expected 'street' or 'treasury'")
    final = ql.BondFunctions.nextCashFlowDate(bond, to_ql(settle)) >= bond.maturityDate()
    return ql.SimpleThenCompounded if final else ql.Compounded


def ql_accrued(bond: ql.FixedRateBond, settle: date) -> float:
    """Accrued interest per 100 from QuantLib."""
    return bond.accruedAmount(to_ql(settle))


def ql_yield(bond: ql.FixedRateBond, clean_price: float, settle: date, convention: str = "street") -> float:
    """Yield in percent from QuantLib (semi-annual; street or Treasury convention)."""
    return 100 * ql.BondFunctions.bondYield(
        bond,
        ql.BondPrice(clean_price, ql.BondPrice.Clean),
        QL_DAY_COUNT,
        _compounding(convention, bond, settle),
        ql.Semiannual,
        to_ql(settle),
        1e-12,
        200,
    )


def ql_clean_price(
    bond: ql.FixedRateBond, yield_pct: float, settle: date, convention: str = "street"
) -> float:
    """Clean price per 100 at a yield in percent, from QuantLib."""
    rate = ql.InterestRate(
        yield_pct / 100, QL_DAY_COUNT, _compounding(convention, bond, settle), ql.Semiannual
    )
    return ql.BondFunctions.cleanPrice(bond, rate, to_ql(settle))


def ql_dv01(bond: ql.FixedRateBond, yield_pct: float, settle: date, convention: str = "street") -> float:
    """Price change per 100 face for a 1bp fall in yield from QuantLib: modified duration x dirty
    price x 1bp (the first-order value the vectorised central difference approximates)."""
    rate = ql.InterestRate(
        yield_pct / 100, QL_DAY_COUNT, _compounding(convention, bond, settle), ql.Semiannual
    )
    d = to_ql(settle)
    duration = ql.BondFunctions.duration(bond, rate, ql.Duration.Modified, d)
    dirty = ql.BondFunctions.cleanPrice(bond, rate, d) + bond.accruedAmount(d)
    return duration * dirty * 1e-4
