"""CME Treasury futures conversion factors.

Source: CME Group, "Calculating U.S. Treasury Futures Conversion Factors" (IR232). The factor is
the price per $1 par at which the bond yields 6% (semi-annual compounding), rounded to 4 decimals::

    factor = a * (coupon/2 + c + d) - b
    n = whole years from the first calendar day of the delivery month to maturity
    z = whole months beyond n, rounded DOWN to a quarter (TY, TN, US, UB) or a month (TU, Z3N, FV)
    v = z if z < 7 else (3 for quarter-rounded contracts, z - 6 for month-rounded ones)
    a = 1 / 1.03 ** (v / 6);  b = (coupon / 2) * (6 - v) / 6
    c = 1 / 1.03 ** (2n) if z < 7 else 1 / 1.03 ** (2n + 1);  d = (coupon / 0.06) * (1 - c)
"""

from __future__ import annotations

from datetime import date

import numpy as np

from basislab.errors import BondError, DeliveryMonthError, UnknownContractError

#: Contracts whose factor rounds the remaining term down to whole months (CME IR232);
#: all other Treasury contracts round down to whole quarters.
MONTH_ROUNDED = frozenset({"TU", "Z3N", "FV"})
QUARTER_ROUNDED = frozenset({"TY", "TN", "US", "UB"})
ROOTS = MONTH_ROUNDED | QUARTER_ROUNDED


def parse_delivery_month(delivery_month: str) -> tuple[int, int]:
    """Parse ``"YYYY-MM"`` into ``(year, month)``; raise :class:`DeliveryMonthError` otherwise."""
    try:
        y, m = str(delivery_month).strip().split("-")
        year, month = int(y), int(m)
        if len(y) != 4 or not 1 <= month <= 12:
            raise ValueError
    except ValueError:
        raise DeliveryMonthError(
            f"delivery month {delivery_month!r} is not valid; expected YYYY-MM, e.g. '2024-09'"
        ) from None
    return year, month


def _check_root(root: str) -> str:
    r = str(root).strip().upper()
    if r not in ROOTS:
        raise UnknownContractError(
            f"unknown Treasury futures root {root!r}; expected one of {', '.join(sorted(ROOTS))}"
        )
    return r


def months_to_maturity(maturity, year: int, month: int):
    """Whole months from the first calendar day of ``year-month`` to ``maturity`` (array-friendly).

    Because the start is the 1st of a month, whole months are the difference of month indices.
    """
    mat = np.asarray(maturity, dtype="datetime64[M]").astype(np.int64)
    start = (year - 1970) * 12 + (month - 1)
    return mat - start


#: First delivery month priced at the 6% notional coupon; earlier contracts used 8% (CBOT
#: specifications of the time: "the price of the delivered note ($1 par value) to yield 8
#: percent"; the change applied from the March 2000 contract).
SIX_PERCENT_FROM = (2000, 3)


def notional_yield_pct(delivery_month: str) -> float:
    """The notional yield of the conversion factor for ``delivery_month``: 6% (8% before Mar 2000)."""
    return 6.0 if parse_delivery_month(delivery_month) >= SIX_PERCENT_FROM else 8.0


def conversion_factor_array(root: str, coupon_pct, months, notional_pct: float = 6.0) -> np.ndarray:
    """Vectorised CME factor from coupons (percent) and whole months from the delivery month start.

    IR232 with its 6% constants written for a general notional yield ``y``: 1.03 is ``1 + y/2``
    and 0.06 is ``y``."""
    r = _check_root(root)
    cpn = np.asarray(coupon_pct, dtype=np.float64) / 100.0
    y = notional_pct / 100.0
    h = 1.0 + y / 2.0
    months = np.asarray(months, dtype=np.int64)
    n = months // 12
    z = months % 12
    if r in QUARTER_ROUNDED:
        z = (z // 3) * 3
        v = np.where(z < 7, z, 3)
    else:
        v = np.where(z < 7, z, z - 6)
    a = 1.0 / h ** (v / 6.0)
    b = (cpn / 2.0) * (6 - v) / 6.0
    c = np.where(z < 7, 1.0 / h ** (2 * n), 1.0 / h ** (2 * n + 1))
    d = (cpn / y) * (1.0 - c)
    factor = a * (cpn / 2.0 + c + d) - b
    # Round half away from zero at 4 decimals, as CME publishes; the 1e-12 guards binary noise.
    return np.floor(factor * 1e4 + 0.5 + 1e-9) / 1e4


def conversion_factor(root: str, coupon_pct: float, maturity: date, delivery_month: str) -> float:
    """The CME conversion factor of a note or bond for a delivery month, to 4 decimals.

    ``coupon_pct`` is the annual coupon in percent (``3.75`` for 3-3/4%); ``delivery_month`` is
    ``"YYYY-MM"``. Raises :class:`~basislab.errors.BasislabError` subclasses on bad input.
    Deliverability is not checked here (see :func:`basislab.analytics.dlv`). Contracts before
    March 2000 use the 8% notional yield of their time.
    """
    year, month = parse_delivery_month(delivery_month)
    if not np.isfinite(coupon_pct) or coupon_pct < 0 or coupon_pct > 25:
        raise BondError(f"coupon {coupon_pct!r}% is not valid; expected a percent between 0 and 25")
    months = int(months_to_maturity(np.datetime64(maturity, "D"), year, month))
    if months < 0:
        raise BondError(f"bond maturing {maturity} matures before delivery month {delivery_month}")
    return float(conversion_factor_array(root, coupon_pct, months, notional_yield_pct(delivery_month)))
