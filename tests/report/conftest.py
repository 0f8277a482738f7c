"""A small synthetic stored run (the shape of ``basislab.sim.store.StoredRun``) for the report tests."""

import copy

import numpy as np
import pandas as pd
import pytest

from basislab.sim.store import StoredRun

BUCKETS = ("2y", "5y", "10y", "long")
SEGMENTS = ("bilateral", "triparty")
QUANTILES = ("p10", "p50", "p90")
LABELLED = {
    "cash_price": BUCKETS,
    "gross_basis": BUCKETS,
    "sold_unwind": BUCKETS,
    "sold_default": BUCKETS,
    "futures_bought": BUCKETS,
    "haircut": SEGMENTS,
    "repo_refusal": SEGMENTS,
    "lender_losses": SEGMENTS,
    "leverage_q": QUANTILES,
    "equity_ratio_q": QUANTILES,
}
SCALARS = (
    "cash_need_morning",
    "cash_need_eod",
    "cash_gap_morning",
    "fund_cash",
    "fund_im",
    "funds_alive",
    "backstop_outstanding",
    "ccp_losses",
    "bills_sold",
    "other_sold",
    "backstop_drawn",
)


def synthetic_timeseries(steps=20, variants=("without_backstop", "with_backstop"), zero=()) -> pd.DataFrame:
    rows = []
    for v_i, v in enumerate(variants):
        for var in (*LABELLED, *SCALARS):
            for lab in LABELLED.get(var, ("",)):
                for t in range(1, steps + 1):
                    m = 0.0 if var in zero else 1.0 + 0.1 * t + v_i
                    if var == "cash_price":
                        m = 100.0 - (2.0 if 6 <= t <= 12 else 0.0)
                    if var == "gross_basis":
                        m = 0.25 * (1 - t / steps)  # points: 8/32 falling to zero at delivery
                    rows.append((v, t, var, lab, m, m - 0.5 * bool(m), m, m + 0.5 * bool(m)))
    return pd.DataFrame(rows, columns=["variant", "step", "variable", "label", "mean", "p05", "p50", "p95"])


def synthetic_metrics(variants=("without_backstop", "with_backstop")) -> dict:
    per_bucket = {b: 1.0 for b in BUCKETS}
    return {
        v: {
            "scenario": "seed-thesis@2025-09-30",
            "paths": 4,
            "steps": 20,
            "seed": 0,
            "fund_defaults": 0.5,
            "forced_cash_sales_usd_bn": 10.0,
            "realised_fund_pnl_usd_bn": -1.0,
            "lender_losses_usd_bn": 0.0,
            "ccp_losses_usd_bn": 0.0,
            "peak_initial_margin_usd_bn": 12.0,
            "backstop_peak_usd_bn": 0.0,
            "audit_max_residual": 1e-12,
            "max_cash_price_drop_pct": per_bucket,
            "max_basis_widening_bp": per_bucket,
        }
        for v in variants
    }


TODAY_SCENARIO = {
    "name": "seed-thesis@2025-09-30",
    # the seed-thesis prose, inherited by a today@ scenario: it quotes USD 830bn
    "description": "Basis-trade book (USD 830bn, 56x median leverage) hit by a sell-off.",
    "horizon_days": 20,
    "funds": {
        "count": 100,
        "total_position_usd_bn": 962.4,
        "leverage_median": 56,
        "bucket_mix": {"2y": 0.45, "5y": 0.25, "10y": 0.2, "long": 0.1},
        "bilateral_share": 0.74,
    },
    "repo": {"bilateral": {"haircut_pct": 0.0, "haircut_max_pct": 5.0}},
    "shock": {"start_day": 5, "duration_days": 7, "yield_bp": {"2y": 35, "5y": 55, "10y": 64, "long": 60}},
    "context": {"date": "2025-09-30"},
}


@pytest.fixture
def stored():
    audit = pd.DataFrame(
        {"variant": ["with_backstop"], "identity": ["cash"], "step": [1], "max_residual": [1e-13]}
    )
    return StoredRun(
        "run-1", synthetic_metrics(), copy.deepcopy(TODAY_SCENARIO), synthetic_timeseries(), audit
    )


@pytest.fixture
def weekly_with_gap():
    """Weekly Tuesday observations of 2015-2016 and 2020: three missing years (as in the CFTC files)."""
    a = pd.date_range("2015-01-06", "2016-12-27", freq="W-TUE")
    b = pd.date_range("2020-01-07", "2020-12-29", freq="W-TUE")
    idx = a.append(b)
    return pd.Series(np.arange(len(idx), dtype=float), index=idx)
