"""Basis analytics: the deliverable basket and its DLV table (gross/net basis, carry, implied
repo, CTD ranking, invoice, futures DV01).

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
from basislab.analytics.contracts import contract, grade_mask, original_term_months
from basislab.analytics.conversion import conversion_factor_array, months_to_maturity
from basislab.errors import BondError, DeliveryMonthError, NotDeliverableError, PriceDataError

REQUIRED = ("cusip", "coupon_pct", "maturity", "clean_price")

DLV_COLUMNS = [
    "rank", "is_ctd", "cusip", "coupon_pct", "maturity", "issue_date", "conversion_factor",
    "clean_price", "accrued", "dirty_price", "yield_pct", "dv01", "gross_basis", "gross_basis_32",
    "carry", "net_basis", "net_basis_32", "implied_repo_pct", "days", "accrued_delivery",
    "coupon_income", "invoice_price", "futures_dv01", "settlement", "delivery",
]


def _as_date(value, what: str) -> date:
    try:
        return pd.Timestamp(value).date()
    except (ValueError, TypeError):
        raise PriceDataError(f"{what} {value!r} is not a date; expected YYYY-MM-DD") from None


def normalize_bonds(bonds: pd.DataFrame) -> pd.DataFrame:
    """Validate a bond table (``cusip, coupon_pct, maturity, clean_price`` [, ``issue_date``])
    and return a clean copy with date columns as ``date`` objects. Raises
    :class:`~basislab.errors.PriceDataError` naming the first bad row."""
    if not isinstance(bonds, pd.DataFrame) or bonds.empty:
        raise PriceDataError("no bonds given; expected a table with columns " + ", ".join(REQUIRED))
    missing = [c for c in REQUIRED if c not in bonds.columns]
    if missing:
        raise PriceDataError(f"bond table lacks column(s) {', '.join(missing)}; expected "
                             + ", ".join(REQUIRED) + " (optional issue_date)")
    df = bonds.reset_index(drop=True).copy()
    df["cusip"] = df["cusip"].astype(str).str.strip()
    for col in ("coupon_pct", "clean_price"):
        num = pd.to_numeric(df[col], errors="coerce")
        bad = ~np.isfinite(num.to_numpy(dtype=float))
        if bad.any():
            row = int(np.argmax(bad))
            raise PriceDataError(f"{col} {df[col].iloc[row]!r} of {df['cusip'].iloc[row]} is not "
                                 "a number; expected a decimal such as 101.25")
        df[col] = num.astype(float)
    bad = df["clean_price"] <= 0
    if bad.any():
        row = df[bad].iloc[0]
        raise PriceDataError(f"clean price {row['clean_price']} of {row['cusip']} is not positive; "
                             "expected a price per 100 face such as 99.5")
    bad = (df["coupon_pct"] < 0) | (df["coupon_pct"] > 25)
    if bad.any():
        row = df[bad].iloc[0]
        raise PriceDataError(f"coupon {row['coupon_pct']}% of {row['cusip']} is not valid; "
                             "expected a percent between 0 and 25")
    for col in ("maturity", "issue_date"):
        if col in df:
            df[col] = _date_column(df, col)
    return df


def _date_column(df: pd.DataFrame, col: str) -> list:
    """A date column as ``date`` objects (``None`` where an optional date is missing)."""
    values = df[col]
    if pd.api.types.infer_dtype(values, skipna=True) == "date" and (
            col == "issue_date" or values.notna().all()):
        return values.to_numpy()
    parsed = pd.to_datetime(values, errors="coerce", format="ISO8601")
    bad = parsed.isna() & (values.notna() if col == "issue_date" else True)
    if bad.any():
        row = int(np.argmax(bad.to_numpy()))
        raise PriceDataError(f"{col} {values.iloc[row]!r} of {df['cusip'].iloc[row]} is not a "
                             "date; expected YYYY-MM-DD")
    return [None if pd.isna(v) else v.date() for v in parsed]


def _original_terms(df: pd.DataFrame) -> np.ndarray:
    """Original term in months: the ``original_term_months`` column, else the bundled securities
    master by CUSIP, else issue date to maturity; ``-1`` where unknown."""
    out = np.full(len(df), -1, dtype=np.int64)
    if "original_term_months" in df:
        out = pd.to_numeric(df["original_term_months"], errors="coerce").fillna(-1).to_numpy(
            dtype=np.int64)
    unknown = out < 0
    if unknown.any():
        from basislab.analytics.securities import load_securities_master

        master = load_securities_master().set_index("cusip")["original_term_months"]
        out = np.where(unknown, df["cusip"].map(master).fillna(-1).to_numpy(dtype=np.int64), out)
    unknown = out < 0
    if unknown.any() and "issue_date" in df:
        iss = bm.as_days(df["issue_date"].to_numpy())
        ok = unknown & ~np.isnat(iss)
        if ok.any():
            computed = original_term_months(np.where(ok, iss, bm.as_days(df["maturity"])),
                                            bm.as_days(df["maturity"].to_numpy()))
            out = np.where(ok, computed, out)
    return out


def deliverable_mask(root: str, delivery_month: str, bonds: pd.DataFrame) -> np.ndarray:
    """Boolean array: which rows of ``bonds`` are in the contract's deliverable basket.

    Bills, TIPS and FRNs (``kind`` column, when present) are never deliverable; where a rule
    needs the original term (TU, Z3N, FV, TN) it comes from :func:`_original_terms`.
    """
    kind = bonds["kind"].to_numpy() if "kind" in bonds else None
    return grade_mask(root, delivery_month, bm.as_days(bonds["maturity"].to_numpy()),
                      _original_terms(bonds), kind)


def deliverable_basket(root: str, delivery_month: str,
                       securities: pd.DataFrame | None = None) -> pd.DataFrame:
    """The notes/bonds of ``securities`` (default: the bundled securities master) deliverable into
    ``root`` for ``delivery_month`` (``YYYY-MM``), in maturity order."""
    if securities is None:
        from basislab.analytics.securities import load_securities_master

        securities = load_securities_master()
    contract(root, delivery_month)
    if securities.empty:
        return securities.copy()
    mask = deliverable_mask(root, delivery_month, securities)
    basket = securities[mask]
    order = np.lexsort((basket["cusip"].to_numpy(), bm.as_days(basket["maturity"].to_numpy())))
    return basket.iloc[order].reset_index(drop=True)


def _explain_not_deliverable(root: str, delivery_month: str, row: pd.Series, orig: int) -> str:
    c = contract(root, delivery_month)
    rule = c.grade()
    kind = row.get("kind", None)
    if isinstance(kind, str) and kind != c.spec.kind:
        why = f"it is a {kind}, and {c.root} takes {c.spec.kind}s only"
    elif orig < 0 and (rule.max_original or rule.min_original):
        why = ("its original term is unknown; add an issue_date or original_term_months column "
               "to check the rule")
    else:
        why = "it breaks the rule"
    return (f"{row['cusip']} ({row['coupon_pct']:g}% {row['maturity']}) is not deliverable into "
            f"{c.code} ({delivery_month}): {why} [{rule.text}]; filter the basket with "
            "deliverable_basket() or pass on_ineligible='drop'")


def dlv(root: str, delivery_month: str, futures_price: float, bonds: pd.DataFrame,
        settlement, repo_pct: float, delivery=None, *, on_ineligible: str = "raise",
        convention: str = "street") -> pd.DataFrame:
    """The DLV table of a Treasury contract: one row per deliverable bond, ranked by implied repo.

    ``bonds``: columns ``cusip, coupon_pct, maturity, clean_price`` and optionally ``issue_date``,
    ``original_term_months`` and ``kind``. ``delivery`` defaults to the contract's last delivery
    day. A bond outside the basket raises :class:`~basislab.errors.NotDeliverableError` naming
    its CUSIP and the rule (``on_ineligible="drop"`` drops such bonds instead). Prices are per
    100 face; basis and carry in price points (``*_32`` in 32nds); rates in percent.
    Columns: see :data:`DLV_COLUMNS`; ``attrs`` carry the contract and inputs.
    """
    c = contract(root, delivery_month)
    if on_ineligible not in ("raise", "drop"):
        raise BondError(f"on_ineligible={on_ineligible!r}; expected 'raise' or 'drop'")
    fut = _positive(futures_price, "futures price")
    repo = float(repo_pct)
    if not np.isfinite(repo):
        raise PriceDataError(f"repo rate {repo_pct!r} is not a number; expected percent, e.g. 5.34")
    settle = _as_date(settlement, "settlement date")
    deliv = c.last_delivery_day if delivery is None else _as_date(delivery, "delivery date")
    if deliv <= settle:
        raise DeliveryMonthError(f"delivery {deliv} is not after settlement {settle}; "
                                 f"{c.code} has its last delivery day on {c.last_delivery_day}")
    df = normalize_bonds(bonds)
    matured = bm.as_days(df["maturity"].to_numpy()) <= np.datetime64(deliv, "D")
    ok = deliverable_mask(root, delivery_month, df) & ~matured
    if not ok.all():
        if on_ineligible == "raise":
            row = int(np.argmin(ok))
            raise NotDeliverableError(_explain_not_deliverable(
                root, delivery_month, df.iloc[row], int(_original_terms(df)[row])))
        df = df[ok].reset_index(drop=True)
        if df.empty:
            raise NotDeliverableError(f"no bond of the table is deliverable into {c.code} "
                                      f"[{c.grade().text}]")
    out = _compute(c, fut, df, settle, deliv, repo, convention)
    out.attrs.update({"contract": c.code, "root": c.root, "delivery_month": c.delivery_month,
                      "futures_price": fut, "settlement": settle, "delivery": deliv,
                      "repo_pct": repo, "face": c.spec.face})
    return out


def _positive(value, what: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise PriceDataError(f"{what} {value!r} is not a number; expected e.g. 110.0625") from None
    if not np.isfinite(x) or x <= 0:
        raise PriceDataError(f"{what} {value!r} is not positive; expected e.g. 110.0625")
    return x


def gross_basis(clean_price, conversion_factor, futures_price):
    """Gross basis in price points: ``P - CF F`` (Hull's "cost of delivering" at delivery)."""
    return np.asarray(clean_price, dtype=float) - np.asarray(conversion_factor) * futures_price


def invoice_price(futures_price, conversion_factor, accrued_delivery):
    """Invoice price per 100 face: ``F CF + AI_d`` (CME; x face/100 for the contract amount)."""
    return futures_price * np.asarray(conversion_factor) + np.asarray(accrued_delivery)


def implied_repo_pct(futures_price, conversion_factor, dirty_price, accrued_delivery, days,
                     coupons=0.0, coupon_days=0.0):
    """Implied repo in percent (Act/360): ``[F CF + AI_d + sum C_i - D] / [D d - sum C_i d_i]
    x 360`` with ``D`` the dirty price at settlement and ``coupon_days = sum C_i d_i``."""
    dirty = np.asarray(dirty_price, dtype=float)
    gain = invoice_price(futures_price, conversion_factor, accrued_delivery) + coupons - dirty
    return gain / (dirty * np.asarray(days) - coupon_days) * 36000


def net_basis(futures_price, conversion_factor, dirty_price, accrued_delivery, days, repo_pct,
              coupon_amounts=None, coupon_days_each=None):
    """Net basis in points: ``D (1 + r d/360) - sum C_i (1 + r d_i/360) - AI_d - CF F``;
    ``coupon_amounts``/``coupon_days_each`` are (bonds, k) arrays of coupons and their d_i."""
    r = repo_pct / 100
    forward = np.asarray(dirty_price, dtype=float) * (1 + r * np.asarray(days) / 360)
    if coupon_amounts is not None:
        forward = forward - (coupon_amounts * (1 + r * coupon_days_each / 360)).sum(axis=-1)
    return forward - np.asarray(accrued_delivery) - np.asarray(conversion_factor) * futures_price


def _compute(c, fut: float, df: pd.DataFrame, settle: date, deliv: date, repo: float,
             convention: str) -> pd.DataFrame:
    """Vectorised DLV figures for a validated, deliverable bond table."""
    cpn = df["coupon_pct"].to_numpy(dtype=float)
    mat = bm.as_days(df["maturity"].to_numpy())
    price = df["clean_price"].to_numpy(dtype=float)
    issue = (bm.as_days(df["issue_date"].to_numpy()) if "issue_date" in df
             else np.full(len(df), np.datetime64("NaT"), dtype=bm.D))
    dated = bm.dated_date(issue, mat)
    s = np.datetime64(settle, "D")
    start = np.where(~np.isnat(issue) & (issue > s), issue, s)  # when-issued: settle on issue
    dv = np.datetime64(deliv, "D")
    cf = conversion_factor_array(c.root, cpn, months_to_maturity(mat, c.year, c.month))
    ai_s = bm.accrued(cpn, mat, start, dated)
    ai_d = bm.accrued(cpn, mat, dv, dated)
    dirty = price + ai_s
    yld = bm.yield_from_clean(cpn, mat, start, price, dated, convention)
    dv01 = bm.dv01(cpn, mat, start, yld, dated, convention)
    amounts, when = bm.coupons_between(cpn, mat, start, dv, dated)
    d_i = np.where(np.isnat(when), 0, (dv - when).astype("timedelta64[D]").astype(np.int64))
    coupons = amounts.sum(axis=1)
    coupon_days = (amounts * d_i).sum(axis=1)
    days = (dv - start).astype(np.int64)
    implied = implied_repo_pct(fut, cf, dirty, ai_d, days, coupons, coupon_days)
    net = net_basis(fut, cf, dirty, ai_d, days, repo, amounts, d_i)
    gross = gross_basis(price, cf, fut)
    order = np.argsort(-implied, kind="stable")
    rank = np.empty(len(df), dtype=np.int64)
    rank[order] = np.arange(1, len(df) + 1)
    out = pd.DataFrame({
        "rank": rank, "is_ctd": rank == 1, "cusip": df["cusip"].to_numpy(), "coupon_pct": cpn,
        "maturity": df["maturity"].to_numpy(),
        "issue_date": df["issue_date"].to_numpy() if "issue_date" in df else None,
        "conversion_factor": cf, "clean_price": price, "accrued": ai_s, "dirty_price": dirty,
        "yield_pct": yld, "dv01": dv01, "gross_basis": gross, "gross_basis_32": gross * 32,
        "carry": gross - net, "net_basis": net, "net_basis_32": net * 32,
        "implied_repo_pct": implied, "days": days, "accrued_delivery": ai_d,
        "coupon_income": coupons, "invoice_price": invoice_price(fut, cf, ai_d), "futures_dv01": dv01 / cf,
        "settlement": [pd.Timestamp(x).date() for x in start], "delivery": deliv,
    })
    extra = [col for col in ("kind", "original_term_months") if col in df]
    for col in extra:
        out[col] = df[col].to_numpy()
    return out.sort_values("rank").reset_index(drop=True)[DLV_COLUMNS + extra]


def ctd(table: pd.DataFrame) -> pd.Series:
    """The cheapest-to-deliver row of a :func:`dlv` table (highest implied repo)."""
    return table.loc[table["is_ctd"]].iloc[0]


def futures_dv01(table: pd.DataFrame) -> float:
    """Futures DV01 per 100 face via the CTD: CTD DV01 / CTD conversion factor."""
    row = ctd(table)
    return float(row["dv01"] / row["conversion_factor"])

