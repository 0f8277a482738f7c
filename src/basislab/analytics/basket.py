"""Bond tables and deliverable baskets: validation of user bond tables, original terms, and
the CME deliverable-grade filter (rules in :mod:`basislab.analytics.contracts`)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from basislab.analytics import bonds as bm
from basislab.analytics.contracts import contract, grade_mask, original_term_months
from basislab.errors import PriceDataError

REQUIRED = ("cusip", "coupon_pct", "maturity", "clean_price")


def _as_date(value, what: str) -> date:
    """A date argument (``date``, ``Timestamp`` or ISO text) as a ``date``."""
    try:
        ts = pd.Timestamp(value)
        if pd.isna(ts):
            raise ValueError
        return ts.date()
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
        raise PriceDataError(
            f"bond table lacks column(s) {', '.join(missing)}; expected "
            + ", ".join(REQUIRED)
            + " (optional issue_date)"
        )
    df = bonds.reset_index(drop=True).copy()
    missing_id = df["cusip"].isna() | (df["cusip"].astype(str).str.strip() == "")
    if missing_id.any():
        raise PriceDataError(
            f"row {int(missing_id.to_numpy().argmax()) + 1} of the bond table has no CUSIP; "
            "expected a CUSIP such as 91282CKF7 on every row"
        )
    if df["cusip"].dtype != object or not all(isinstance(c, str) for c in df["cusip"]):
        df["cusip"] = df["cusip"].astype(str)
    df["cusip"] = [c.strip() for c in df["cusip"]]
    for col in ("coupon_pct", "clean_price"):
        num = df[col] if df[col].dtype.kind == "f" else pd.to_numeric(df[col], errors="coerce")
        bad = ~np.isfinite(num.to_numpy(dtype=float))
        if bad.any():
            row = int(np.argmax(bad))
            raise PriceDataError(
                f"{col} {df[col].iloc[row]!r} of {df['cusip'].iloc[row]} is not "
                "a number; expected a decimal such as 101.25"
            )
        df[col] = num.astype(float)
    bad = df["clean_price"] <= 0
    if bad.any():
        row = df[bad].iloc[0]
        raise PriceDataError(
            f"clean price {row['clean_price']} of {row['cusip']} is not positive; "
            "expected a price per 100 face such as 99.5"
        )
    bad = (df["coupon_pct"] < 0) | (df["coupon_pct"] > 25)
    if bad.any():
        row = df[bad].iloc[0]
        raise PriceDataError(
            f"coupon {row['coupon_pct']}% of {row['cusip']} is not valid; expected a percent between 0 and 25"
        )
    for col in ("maturity", "issue_date"):
        if col in df:
            df[col] = _date_column(df, col)
    dup = df["cusip"].duplicated(keep=False)
    if dup.any():
        first = df.loc[dup, "cusip"].iloc[0]
        raise PriceDataError(
            f"CUSIP {first} appears {int((df['cusip'] == first).sum())} times in the bond table; "
            "expected one row per bond"
        )
    from basislab.analytics.securities import check_against_master

    check_against_master(df)
    return df


def _date_column(df: pd.DataFrame, col: str) -> list:
    """A date column as ``date`` objects (``None`` where an optional date is missing)."""
    values = df[col]
    if pd.api.types.infer_dtype(values, skipna=True) == "date" and (
        col == "issue_date" or values.notna().all()
    ):
        return values.to_numpy()
    parsed = pd.to_datetime(values, errors="coerce", format="ISO8601")
    bad = parsed.isna() & (values.notna() if col == "issue_date" else True)
    if bad.any():
        row = int(np.argmax(bad.to_numpy()))
        raise PriceDataError(
            f"{col} {values.iloc[row]!r} of {df['cusip'].iloc[row]} is not a date; expected YYYY-MM-DD"
        )
    return [None if pd.isna(v) else v.date() for v in parsed]


def _original_terms(df: pd.DataFrame) -> np.ndarray:
    """Original term in months: the ``original_term_months`` column, else the bundled securities
    master by CUSIP, else issue date to maturity; ``-1`` where unknown."""
    out = np.full(len(df), -1, dtype=np.int64)
    if "original_term_months" in df:
        out = pd.to_numeric(df["original_term_months"], errors="coerce").fillna(-1).to_numpy(dtype=np.int64)
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
            computed = original_term_months(
                np.where(ok, iss, bm.as_days(df["maturity"])), bm.as_days(df["maturity"].to_numpy())
            )
            out = np.where(ok, computed, out)
    return out


def deliverable_mask(root: str, delivery_month: str, bonds: pd.DataFrame) -> np.ndarray:
    """Boolean array: which rows of ``bonds`` are in the contract's deliverable basket.

    Bills, TIPS and FRNs (``kind`` column, when present) are never deliverable; where a rule
    needs the original term (TU, Z3N, FV, TN) it comes from :func:`_original_terms`.
    """
    kind = bonds["kind"].to_numpy() if "kind" in bonds else None
    return grade_mask(
        root, delivery_month, bm.as_days(bonds["maturity"].to_numpy()), _original_terms(bonds), kind
    )


def deliverable_basket(
    root: str, delivery_month: str, securities: pd.DataFrame | None = None
) -> pd.DataFrame:
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
        why = (
            "its original term is unknown; add an issue_date or original_term_months column to check the rule"
        )
    else:
        why = "it breaks the rule"
    return (
        f"{row['cusip']} ({row['coupon_pct']:g}% {row['maturity']}) is not deliverable into "
        f"{c.code} ({delivery_month}): {why} (rule: {rule.text}); expected deliverable bonds "
        "only: filter with deliverable_basket(), on_ineligible='drop' or --filter-basket"
    )
