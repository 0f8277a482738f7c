"""Basis formulas and the per-contract DLV table (gross/net basis, carry, implied repo, CTD
ranking, invoice, futures DV01); baskets are in :mod:`basket`, the entry points in :mod:`screen`.

Conventions (those of Bloomberg's DLV screen; formulas in ``shared/reference/futures-analytics.md``
and Burghardt et al., *The Treasury Bond Basis*): clean price ``P``, accrued ``AI_s`` at
settlement and ``AI_d`` on the delivery day, futures price ``F``, conversion factor ``CF``,
``d`` days from settlement to delivery, coupons ``C_i`` paid in the window ``d_i`` days before
delivery, repo ``r`` on Act/360::

    gross basis  = P - CF F                                  (points; x32 for 32nds)
    implied repo = [F CF + AI_d + sum C_i - (P + AI_s)] / [(P + AI_s) d - sum C_i d_i] x 360
    net basis    = (P + AI_s)(1 + r d/360) - sum C_i (1 + r d_i/360) - AI_d - CF F
    carry        = gross basis - net basis
    invoice      = F CF + AI_d                                (per 100 face)

The cheapest to deliver has the highest implied repo. A bond not issued by the settlement date
settles on its issue date for these figures. Futures DV01 = CTD DV01 / CF.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from basislab.analytics import bonds as bm
from basislab.analytics.conversion import (
    conversion_factor_array,
    months_to_maturity,
    notional_yield_pct,
)

DLV_COLUMNS = [
    "rank",
    "is_ctd",
    "cusip",
    "coupon_pct",
    "maturity",
    "issue_date",
    "conversion_factor",
    "clean_price",
    "accrued",
    "dirty_price",
    "yield_pct",
    "dv01",
    "gross_basis",
    "gross_basis_32",
    "carry",
    "net_basis",
    "net_basis_32",
    "implied_repo_pct",
    "days",
    "accrued_delivery",
    "coupon_income",
    "invoice_price",
    "futures_dv01",
    "settlement",
    "delivery",
]


def gross_basis(clean_price, conversion_factor, futures_price):
    """Gross basis in price points: ``P - CF F`` (Hull's "cost of delivering" at delivery)."""
    return np.asarray(clean_price, dtype=float) - np.asarray(conversion_factor) * futures_price


def invoice_price(futures_price, conversion_factor, accrued_delivery):
    """Invoice price per 100 face: ``F CF + AI_d`` (CME; x face/100 for the contract amount)."""
    return futures_price * np.asarray(conversion_factor) + np.asarray(accrued_delivery)


def implied_repo_pct(
    futures_price, conversion_factor, dirty_price, accrued_delivery, days, coupons=0.0, coupon_days=0.0
):
    """Implied repo in percent (Act/360): ``[F CF + AI_d + sum C_i - D] / [D d - sum C_i d_i]
    x 360`` with ``D`` the dirty price at settlement and ``coupon_days = sum C_i d_i``."""
    dirty = np.asarray(dirty_price, dtype=float)
    gain = invoice_price(futures_price, conversion_factor, accrued_delivery) + coupons - dirty
    return gain / (dirty * np.asarray(days) - coupon_days) * 36000


def net_basis(
    futures_price,
    conversion_factor,
    dirty_price,
    accrued_delivery,
    days,
    repo_pct,
    coupon_amounts=None,
    coupon_days_each=None,
):
    """Net basis in points: ``D (1 + r d/360) - sum C_i (1 + r d_i/360) - AI_d - CF F``;
    ``coupon_amounts``/``coupon_days_each`` are (bonds, k) arrays of coupons and their d_i."""
    r = repo_pct / 100
    forward = np.asarray(dirty_price, dtype=float) * (1 + r * np.asarray(days) / 360)
    if coupon_amounts is not None:
        forward = forward - (coupon_amounts * (1 + r * coupon_days_each / 360)).sum(axis=-1)
    return forward - np.asarray(accrued_delivery) - np.asarray(conversion_factor) * futures_price


def bond_state(df: pd.DataFrame, settle: date, convention: str = "street") -> dict:
    """Settlement-date figures of a validated bond table, shared by every contract: arrays of
    coupon, maturity, price, dated date, start (settlement, or the issue date of a bond not
    yet issued), accrued, dirty price, yield and DV01."""
    cpn = df["coupon_pct"].to_numpy(dtype=float)
    mat = bm.as_days(df["maturity"].to_numpy())
    price = df["clean_price"].to_numpy(dtype=float)
    issue = (
        bm.as_days(df["issue_date"].to_numpy())
        if "issue_date" in df
        else np.full(len(df), np.datetime64("NaT"), dtype=bm.D)
    )
    dated = bm.dated_date(issue, mat)
    s = np.datetime64(settle, "D")
    start = np.where(~np.isnat(issue) & (issue > s), issue, s)  # when-issued: settle on issue
    ai_s = bm.accrued(cpn, mat, start, dated)
    yld = bm.yield_from_clean(cpn, mat, start, price, dated, convention)
    return {
        "cpn": cpn,
        "mat": mat,
        "price": price,
        "dated": dated,
        "start": start,
        "ai_s": ai_s,
        "dirty": price + ai_s,
        "yld": yld,
        "dv01": bm.dv01(cpn, mat, start, yld, dated, convention),
    }


def contract_table(c, fut: float, df: pd.DataFrame, st: dict, deliv: date, repo: float) -> pd.DataFrame:
    """The DLV table of contract ``c`` for the rows of ``df`` (state ``st`` from
    :func:`bond_state`), ranked by implied repo."""
    cpn, mat, dated, start, dirty = st["cpn"], st["mat"], st["dated"], st["start"], st["dirty"]
    dv = np.datetime64(deliv, "D")
    cf = conversion_factor_array(
        c.root, cpn, months_to_maturity(mat, c.year, c.month), notional_yield_pct(c.delivery_month)
    )
    ai_d = bm.accrued(cpn, mat, dv, dated)
    amounts, when = bm.coupons_between(cpn, mat, start, dv, dated)
    d_i = np.where(np.isnat(when), 0, (dv - when).astype("timedelta64[D]").astype(np.int64))
    coupons = amounts.sum(axis=1)
    days = (dv - start).astype(np.int64)
    implied = implied_repo_pct(fut, cf, dirty, ai_d, days, coupons, (amounts * d_i).sum(axis=1))
    net = net_basis(fut, cf, dirty, ai_d, days, repo, amounts, d_i)
    gross = gross_basis(st["price"], cf, fut)
    order = np.argsort(-implied, kind="stable")
    rank = np.empty(len(df), dtype=np.int64)
    rank[order] = np.arange(1, len(df) + 1)
    cols = {
        "rank": rank,
        "is_ctd": rank == 1,
        "cusip": df["cusip"].to_numpy(),
        "coupon_pct": cpn,
        "maturity": df["maturity"].to_numpy(),
        "issue_date": (
            df["issue_date"].to_numpy() if "issue_date" in df else np.full(len(df), None, dtype=object)
        ),
        "conversion_factor": cf,
        "clean_price": st["price"],
        "accrued": st["ai_s"],
        "dirty_price": dirty,
        "yield_pct": st["yld"],
        "dv01": st["dv01"],
        "gross_basis": gross,
        "gross_basis_32": gross * 32,
        "carry": gross - net,
        "net_basis": net,
        "net_basis_32": net * 32,
        "implied_repo_pct": implied,
        "days": days,
        "accrued_delivery": ai_d,
        "coupon_income": coupons,
        "invoice_price": invoice_price(fut, cf, ai_d),
        "futures_dv01": st["dv01"] / cf,
        "settlement": start.astype(object),
        "delivery": np.full(len(df), deliv, dtype=object),
    }
    for col in ("kind", "original_term_months"):
        if col in df:
            cols[col] = df[col].to_numpy()
    return pd.DataFrame({k: np.asarray(v)[order] for k, v in cols.items()})


def subset_state(st: dict, rows: np.ndarray) -> dict:
    """The :func:`bond_state` of a subset of rows."""
    return {k: v[rows] for k, v in st.items()}


def ctd(table: pd.DataFrame) -> pd.Series:
    """The cheapest-to-deliver row of a :func:`dlv` table (highest implied repo)."""
    return table.loc[table["is_ctd"]].iloc[0]


def futures_dv01(table: pd.DataFrame) -> float:
    """Futures DV01 per 100 face via the CTD: CTD DV01 / CTD conversion factor."""
    row = ctd(table)
    return float(row["dv01"] / row["conversion_factor"])


# Also reachable from this module (callers import them from here): the basket helpers, and
# lazily (they import this module) the DLV functions.
from basislab.analytics.basket import (  # noqa: E402,F401
    deliverable_basket,
    deliverable_mask,
    normalize_bonds,
)


def __getattr__(name: str):
    if name in ("dlv", "dlv_many"):
        from basislab.analytics import screen

        return getattr(screen, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
