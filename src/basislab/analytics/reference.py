"""Per-bond QuantLib reference implementation of the DLV figures.

Each bond becomes a QuantLib ``FixedRateBond``; accrued interest, yield, DV01 and the coupons
inside the carry window come from QuantLib's schedule and cash flows, and the basis formulas are
applied one bond at a time. It is the slow, independent path that tests compare the vectorised
:func:`basislab.analytics.dlv` against, and the baseline of ``benchmarks/bench_dlv.py``.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from basislab.analytics import bonds as bm
from basislab.analytics.calendar import from_ql, to_ql
from basislab.analytics.conversion import conversion_factor


def dlv_row_quantlib(
    root: str,
    delivery_month: str,
    futures_price: float,
    cusip: str,
    coupon_pct: float,
    maturity: date,
    clean_price: float,
    settlement: date,
    repo_pct: float,
    delivery: date,
    issue_date: date | None = None,
) -> dict:
    """DLV figures of one bond computed with QuantLib objects (see module docstring)."""
    dated = None
    if issue_date is not None:
        dated = bm.dated_date([issue_date], [maturity])[0].astype(object)
    bond = bm.ql_bond(coupon_pct, maturity, dated)
    start = max(settlement, issue_date) if issue_date is not None else settlement
    cf = conversion_factor(root, coupon_pct, maturity, delivery_month)
    ai_s = bm.ql_accrued(bond, start)
    ai_d = bm.ql_accrued(bond, delivery)
    yld = bm.ql_yield(bond, clean_price, start)
    dirty = clean_price + ai_s
    days = (delivery - start).days
    flows = [
        (c.amount(), from_ql(c.date()))
        for c in bond.cashflows()
        if to_ql(start) < c.date() <= to_ql(delivery)
    ]
    coupons = sum(a for a, _ in flows)
    coupon_days = sum(a * (delivery - d).days for a, d in flows)
    r = repo_pct / 100
    implied = (futures_price * cf + ai_d + coupons - dirty) / (dirty * days - coupon_days) * 36000
    net = (
        dirty * (1 + r * days / 360)
        - sum(a * (1 + r * (delivery - d).days / 360) for a, d in flows)
        - ai_d
        - cf * futures_price
    )
    return {
        "cusip": cusip,
        "conversion_factor": cf,
        "accrued": ai_s,
        "yield_pct": yld,
        "dv01": bm.ql_dv01(bond, yld, start),
        "gross_basis": clean_price - cf * futures_price,
        "net_basis": net,
        "implied_repo_pct": implied,
        "accrued_delivery": ai_d,
        "coupon_income": coupons,
        "days": days,
    }


def dlv_quantlib(
    root: str,
    delivery_month: str,
    futures_price: float,
    bonds: pd.DataFrame,
    settlement: date,
    repo_pct: float,
    delivery: date,
) -> pd.DataFrame:
    """The DLV figures of every row of ``bonds`` through :func:`dlv_row_quantlib`."""
    rows = []
    for r in bonds.itertuples():
        issue = getattr(r, "issue_date", None)
        rows.append(
            dlv_row_quantlib(
                root,
                delivery_month,
                futures_price,
                r.cusip,
                r.coupon_pct,
                r.maturity,
                r.clean_price,
                settlement,
                repo_pct,
                delivery,
                None if pd.isna(issue) else issue,
            )
        )
    return pd.DataFrame(rows)
