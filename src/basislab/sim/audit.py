"""Stock-flow consistency audit: residuals of every accounting identity at every step.

Each residual is divided by the system's gross position value (funds' cash Treasuries at market
plus the scenario's book size), so ``1e-9`` means one dollar in a billion of the book.
"""

from __future__ import annotations

import numpy as np

#: identity -> how its residual is formed from the ledger aggregates of ``model.ledger``
IDENTITIES = {
    "cash_conserved": ("cash_total", "change"),  # cash moves between players, never created
    "bonds_conserved": ("bonds_total", "change"),  # per bucket: funds + end investors + Fed + dealers
    "bills_conserved": ("bills_total", "change"),
    "other_assets_conserved": ("other_total", "change"),
    "futures_longs_equal_shorts": ("futures_imbalance", "level"),  # per bucket
    "vm_sums_to_zero": ("vm_net", "level"),  # open-position VM at each settlement
    "repo_debt_equals_lender_claims": ("repo_ledger_gap", "level"),  # per segment
    "backstop_debt_equals_claims": ("backstop_ledger_gap", "level"),
    "credit_lines_equal_bank_claims": ("credit_ledger_gap", "level"),
    "fund_balance_sheets_balance": ("fund_sfc_gap", "level"),  # equity = E0 + flows - redeemed, every fund
    "lender_balance_sheets_balance": ("lender_worth", "change"),  # equity = E0 + interest - losses
    "ccp_balance_sheet_balances": ("ccp_worth", "change"),  # equity = E0 - default losses
    "backstop_balance_sheet_balances": ("backstop_worth", "change"),
    "dealer_repo_equals_money_fund_claims": ("dealer_repo_gap", "level"),
    "money_fund_balance_sheet_balances": ("money_fund_worth", "change"),
    # reserves + ON RRP + TGA move only by the Fed's loans and the reserves it creates (USD bn)
    "reserves_accounted": ("reserves_accounted", "change"),
}


def audit(result) -> dict[str, np.ndarray]:
    """Relative residuals ``[paths, steps]`` of every accounting identity of ``result`` (a
    :class:`~basislab.sim.results.SimResult` or an engine ``RawRun``)."""
    raw = getattr(result, "raw", result)
    steps, init = raw.audit_steps, raw.audit_init
    scale = np.maximum(np.abs(init["scale"])[:, None], 1.0)
    out: dict[str, np.ndarray] = {}
    for name, (field, kind) in IDENTITIES.items():
        if field == "vm_net":
            val = raw.outputs["vm_net"]
        elif kind == "change":
            val = steps[field] - init[field][:, None, ...]
        else:
            val = steps[field]
        val = np.abs(val)
        if val.ndim > 2:
            val = val.reshape(val.shape[0], val.shape[1], -1).max(-1)
        out[name] = val / scale
    return out


def audit_max(result) -> float:
    """The largest relative residual over identities, paths and steps."""
    return float(max(np.max(v) for v in audit(result).values()))
