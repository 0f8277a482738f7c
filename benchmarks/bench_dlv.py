"""Full DLV of every CME Treasury contract (TU, Z3N, FV, TY, TN, US, UB; September 2024) on the
bundled 453-security FedInvest list of 2024-06-26: basket selection from the whole list, then
conversion factors, accrued, yields, DV01, carry, implied repo and CTD ranking.

Vectorised paths: :func:`basislab.analytics.dlv_many` (settlement figures once for the list,
then each basket) and :func:`basislab.analytics.dlv` per contract after
:func:`deliverable_basket`. Baseline, in the same process: the per-bond
QuantLib path (:func:`basislab.analytics.reference.dlv_quantlib`, one ``FixedRateBond`` per
bond) on the same baskets. Target: all seven contracts under 50 ms warm.

Z3N and TN have no bundled close; they are priced at the basket's lowest clean price / CF (zero
gross basis for one bond), which changes no timing.
"""

from __future__ import annotations

import statistics
import time
from datetime import date

from basislab.analytics import (
    bundled_futures_price,
    contract,
    conversion_factor,
    deliverable_basket,
    dlv,
    dlv_many,
    load_securities_master,
)
from basislab.analytics.reference import dlv_quantlib

TRADE, SETTLE, REPO = date(2024, 6, 26), date(2024, 6, 27), 5.34
ROOTS = ("TU", "Z3N", "FV", "TY", "TN", "US", "UB")
MONTH = "2024-09"


def _futures_prices(master) -> dict[str, float]:
    out = {}
    for root in ROOTS:
        c = contract(root, MONTH)
        try:
            out[root] = bundled_futures_price(c.code, MONTH, TRADE)
        except Exception:  # no bundled close: a price that makes one bond's gross basis zero
            b = deliverable_basket(root, MONTH, master)
            out[root] = min(
                p / conversion_factor(root, k, m, MONTH)
                for p, k, m in zip(b["clean_price"], b["coupon_pct"], b["maturity"])
            )
    return out


def _batch(master, prices):
    return dlv_many([(r, MONTH, prices[r]) for r in ROOTS], master, SETTLE, REPO)


def _vectorised(master, prices):
    return [dlv(r, MONTH, prices[r], deliverable_basket(r, MONTH, master), SETTLE, REPO) for r in ROOTS]


def _quantlib(master, prices):
    return [
        dlv_quantlib(
            r,
            MONTH,
            prices[r],
            deliverable_basket(r, MONTH, master),
            SETTLE,
            REPO,
            contract(r, MONTH).last_delivery_day,
        )
        for r in ROOTS
    ]


def _median_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def run(quick: bool = False) -> list[dict]:
    master = load_securities_master()
    prices = _futures_prices(master)
    tables = _vectorised(master, prices)  # warm-up (caches, imports)
    _batch(master, prices)
    _quantlib(master, prices)
    n_bonds = sum(len(t) for t in tables)
    repeats = 5 if quick else 30
    batch = _median_ms(lambda: _batch(master, prices), repeats)
    fast = _median_ms(lambda: _vectorised(master, prices), repeats)
    slow = _median_ms(lambda: _quantlib(master, prices), max(3, repeats // 5))
    case = f"7 contracts, {n_bonds} deliverables of {len(master)} securities"
    return [
        {
            "benchmark": "dlv",
            "case": case + ": dlv_many (warm)",
            "value": batch,
            "unit": "ms",
            "baseline": slow,
            "ratio": slow / batch,
        },
        {
            "benchmark": "dlv",
            "case": case + ": dlv per contract (warm)",
            "value": fast,
            "unit": "ms",
            "baseline": slow,
            "ratio": slow / fast,
        },
        {
            "benchmark": "dlv",
            "case": "target: all seven under",
            "value": 50.0,
            "unit": "ms",
            "baseline": None,
            "ratio": None,
        },
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
