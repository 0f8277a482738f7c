"""The DLV screen: :func:`dlv` for one contract and :func:`dlv_many` for several contracts on
one bond list (settlement figures computed once). Formulas in :mod:`basislab.analytics.basis`."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from basislab.analytics import bonds as bm
from basislab.analytics.basis import bond_state, contract_table, subset_state
from basislab.analytics.basket import (
    _as_date,
    _explain_not_deliverable,
    _original_terms,
    normalize_bonds,
)
from basislab.analytics.contracts import contract, grade_mask
from basislab.errors import BondError, DeliveryMonthError, NotDeliverableError, PriceDataError


def dlv(
    root: str,
    delivery_month: str,
    futures_price: float,
    bonds: pd.DataFrame,
    settlement,
    repo_pct: float,
    delivery=None,
    *,
    on_ineligible: str = "raise",
    convention: str = "street",
) -> pd.DataFrame:
    """The DLV table of a Treasury contract: one row per deliverable bond, ranked by implied repo.

    ``bonds``: columns ``cusip, coupon_pct, maturity, clean_price`` and optionally ``issue_date``,
    ``original_term_months`` and ``kind``. ``delivery`` defaults to the contract's last delivery
    day. A bond outside the basket raises :class:`~basislab.errors.NotDeliverableError` naming
    its CUSIP and the rule (``on_ineligible="drop"`` drops such bonds instead). Prices are per
    100 face; basis and carry in price points (``*_32`` in 32nds); rates in percent.
    Columns: see :data:`~basislab.analytics.basis.DLV_COLUMNS`; ``attrs`` carry the contract
    and the inputs.
    """
    if on_ineligible not in ("raise", "drop"):
        raise BondError(f"on_ineligible={on_ineligible!r}; expected 'raise' or 'drop'")
    c, fut, deliv = _request(root, delivery_month, futures_price, delivery)
    repo, settle = _repo(repo_pct), _as_date(settlement, "settlement date")
    _check_dates(c, settle, deliv)
    df = normalize_bonds(bonds)
    ok = _deliverable(c, df, deliv)
    if not ok.all():
        if on_ineligible == "raise":
            row = int(np.argmin(ok))
            raise NotDeliverableError(
                _explain_not_deliverable(
                    c.root, c.delivery_month, df.iloc[row], int(_original_terms(df)[row])
                )
            )
        df = df[ok].reset_index(drop=True)
    return _finish(c, fut, df, bond_state(df, settle, convention), settle, deliv, repo)


def dlv_many(
    requests, bonds: pd.DataFrame, settlement, repo_pct: float, convention: str = "street"
) -> dict[str, pd.DataFrame]:
    """DLV tables of several contracts from one bond list (e.g. the whole securities master):
    ``requests`` is an iterable of ``(root, delivery_month, futures_price)`` or
    ``(root, delivery_month, futures_price, delivery)``. Each contract gets the bonds of the list
    in its basket (others are skipped, as with ``on_ineligible="drop"``); settlement figures
    (accrued, yield, DV01) are computed once. Returns ``{contract code: table}``."""
    repo, settle = _repo(repo_pct), _as_date(settlement, "settlement date")
    df = normalize_bonds(bonds)
    terms = (
        bm.as_days(df["maturity"].to_numpy()),
        _original_terms(df),
        df["kind"].to_numpy() if "kind" in df else None,
    )
    plans = []
    for req in requests:
        c, fut, deliv = _request(*req)
        _check_dates(c, settle, deliv)
        plans.append((c, fut, deliv, _deliverable(c, df, deliv, terms)))
    used = np.flatnonzero(np.any([p[3] for p in plans], axis=0)) if plans else np.array([], int)
    df = df.iloc[used].reset_index(drop=True)  # bills, TIPS, FRNs, short bonds never priced
    state = bond_state(df, settle, convention) if len(df) else {}
    out = {}
    for c, fut, deliv, mask in plans:
        rows = np.flatnonzero(mask[used])
        out[c.code] = _finish(
            c, fut, df.iloc[rows].reset_index(drop=True), subset_state(state, rows), settle, deliv, repo
        )
    return out


def _request(root, delivery_month, futures_price, delivery=None):
    c = contract(root, delivery_month)
    fut = _positive(futures_price, "futures price")
    deliv = c.last_delivery_day if delivery is None else _as_date(delivery, "delivery date")
    if not c.first_delivery_day <= deliv <= c.last_delivery_day:
        raise DeliveryMonthError(
            f"delivery {deliv} is outside {c.code}'s delivery window; "
            f"expected a day from {c.first_delivery_day} to "
            f"{c.last_delivery_day}"
        )
    return c, fut, deliv


def _repo(repo_pct) -> float:
    try:
        repo = float(repo_pct)
    except (TypeError, ValueError):
        repo = float("nan")
    if not np.isfinite(repo):
        raise PriceDataError(f"repo rate {repo_pct!r} is not a number; expected percent, e.g. 5.34")
    return repo


def _check_dates(c, settle: date, deliv: date) -> None:
    if deliv <= settle:
        raise DeliveryMonthError(
            f"delivery {deliv} is not after settlement {settle}; "
            f"{c.code} has its last delivery day on {c.last_delivery_day}"
        )


def _deliverable(c, df: pd.DataFrame, deliv: date, terms=None) -> np.ndarray:
    """Rows in the basket and maturing after delivery; ``terms`` = precomputed (maturity
    days, original term months, kind) of ``df``."""
    if terms is None:
        terms = (
            bm.as_days(df["maturity"].to_numpy()),
            _original_terms(df),
            df["kind"].to_numpy() if "kind" in df else None,
        )
    mat, orig, kind = terms
    return grade_mask(c.root, c.delivery_month, mat, orig, kind) & (mat > np.datetime64(deliv, "D"))


def _finish(c, fut, df, state, settle, deliv, repo) -> pd.DataFrame:
    if df.empty:
        raise NotDeliverableError(
            f"no bond of the table is deliverable into {c.code} "
            f"(rule: {c.grade().text}); expected at least one"
        )
    out = contract_table(c, fut, df, state, deliv, repo)
    out.attrs.update(
        {
            "contract": c.code,
            "root": c.root,
            "delivery_month": c.delivery_month,
            "futures_price": fut,
            "settlement": settle,
            "delivery": deliv,
            "repo_pct": repo,
            "face": c.spec.face,
        }
    )
    return out


def _positive(value, what: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise PriceDataError(f"{what} {value!r} is not a number; expected e.g. 110.0625") from None
    if not np.isfinite(x) or x <= 0:
        raise PriceDataError(f"{what} {value!r} is not positive; expected e.g. 110.0625")
    return x


# ------------------------------------------------------------------------------------------------
# CTD switches under yield scenarios

#: Yield scenarios of the CTD-switch table: (name, parallel shift in bp, twist in bp). A twist of
#: ``+25`` steepens: the longest deliverable's yield rises 12.5bp and the shortest's falls 12.5bp,
#: linearly in maturity between them (pivot at the middle of the basket's maturities).
SWITCH_SCENARIOS = (
    ("-50bp", -50.0, 0.0),
    ("-25bp", -25.0, 0.0),
    ("unchanged", 0.0, 0.0),
    ("+25bp", 25.0, 0.0),
    ("+50bp", 50.0, 0.0),
    ("flatten 25bp", 0.0, -25.0),
    ("steepen 25bp", 0.0, 25.0),
)


def ctd_switches(table: pd.DataFrame, scenarios=SWITCH_SCENARIOS, convention: str = "street") -> pd.DataFrame:
    """Which bond is cheapest to deliver if yields move: the CTD-switch table of a :func:`dlv` table.

    For each scenario every deliverable is repriced at its yield plus the shift (``dy_i`` = parallel
    + twist x (T_i - T_mid) / (T_max - T_min), T in years to maturity). Its forward price at delivery
    (the net-basis formula of :mod:`basislab.analytics.basis` with F = 0, at the same repo) divided by
    its conversion factor is its converted forward price; the futures price follows the cheapest
    converted forward, keeping today's distance between them (the value of the delivery options,
    held constant: the usual first-order assumption, Burghardt et al., *The Treasury Bond Basis*,
    ch. 5). The CTD is then the bond with the highest implied repo at the new prices. Row
    ``unchanged`` reproduces the table. Columns: ``scenario, parallel_bp, twist_bp,
    futures_price, ctd_cusip, ctd_coupon_pct, ctd_maturity, implied_repo_pct, net_basis_32,
    ctd_duration, switch`` (True where the CTD differs from today's).
    """
    from basislab.analytics.basis import implied_repo_pct, net_basis

    a = table.attrs
    fut0, repo = float(a["futures_price"]), float(a["repo_pct"])
    deliv = np.datetime64(a["delivery"], "D")
    cpn = table["coupon_pct"].to_numpy(dtype=float)
    mat = bm.as_days(table["maturity"].to_numpy())
    issue = bm.as_days(table["issue_date"].to_numpy()) if "issue_date" in table else np.full(len(table), None)
    dated = bm.dated_date(issue, mat)
    start = bm.as_days(table["settlement"].to_numpy())
    cf = table["conversion_factor"].to_numpy(dtype=float)
    ai_s = table["accrued"].to_numpy(dtype=float)
    ai_d = table["accrued_delivery"].to_numpy(dtype=float)
    days = table["days"].to_numpy(dtype=np.int64)
    yld = table["yield_pct"].to_numpy(dtype=float)
    amounts, when = bm.coupons_between(cpn, mat, start, deliv, dated)
    d_i = np.where(np.isnat(when), 0, (deliv - when).astype("timedelta64[D]").astype(np.int64))
    years = (mat - start).astype(np.int64) / 365.25
    span = max(float(years.max() - years.min()), 1e-9)
    mid = (float(years.max()) + float(years.min())) / 2

    def converted_forward(dirty):
        return net_basis(0.0, cf, dirty, ai_d, days, repo, amounts, d_i) / cf

    option = float(converted_forward(table["dirty_price"].to_numpy(dtype=float)).min()) - fut0
    base = str(table.loc[table["is_ctd"], "cusip"].iloc[0])
    rows = []
    for name, shift, twist in scenarios:
        dy = shift + twist * (years - mid) / span
        price = bm.clean_from_yield(cpn, mat, start, yld + dy / 100.0, dated, convention)
        dirty = price + ai_s
        fut = float(converted_forward(dirty).min()) - option
        irr = implied_repo_pct(fut, cf, dirty, ai_d, days, amounts.sum(axis=1), (amounts * d_i).sum(axis=1))
        k = int(np.argmax(irr))
        dv = bm.dv01(
            cpn[k : k + 1],
            mat[k : k + 1],
            start[k : k + 1],
            yld[k : k + 1] + dy[k] / 100,
            dated[k : k + 1],
            convention,
        )
        nb = net_basis(fut, cf[k], dirty[k], ai_d[k], days[k], repo, amounts[k : k + 1], d_i[k : k + 1])
        rows.append(
            {
                "scenario": name,
                "parallel_bp": shift,
                "twist_bp": twist,
                "futures_price": fut,
                "ctd_cusip": str(table["cusip"].iloc[k]),
                "ctd_coupon_pct": float(cpn[k]),
                "ctd_maturity": table["maturity"].iloc[k],
                "implied_repo_pct": float(irr[k]),
                "net_basis_32": float(np.asarray(nb).reshape(-1)[0]) * 32,
                "ctd_duration": float(np.asarray(dv).reshape(-1)[0]) / float(dirty[k]) * 1e4,
                "switch": str(table["cusip"].iloc[k]) != base,
            }
        )
    return pd.DataFrame(rows)
