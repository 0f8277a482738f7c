"""Treasury bond and CME Treasury futures analytics (DLV-grade basis engine).

Layers, after OpenGamma Strata: terms (:mod:`securities`, :mod:`contracts`) -> exchange formulas
(:mod:`conversion`) -> pricers (:mod:`bonds`, :mod:`basis`). Every function states its convention
and source; see ``docs/analytics.md``.
"""

from basislab.analytics.basis import (
    DLV_COLUMNS,
    ctd,
    futures_dv01,
    gross_basis,
    implied_repo_pct,
    invoice_price,
    net_basis,
)
from basislab.analytics.basket import deliverable_basket, deliverable_mask, normalize_bonds
from basislab.analytics.bonds import (
    accrued,
    clean_from_yield,
    coupon_period,
    coupons_between,
    dated_date,
    dirty_from_yield,
    dv01,
    ql_accrued,
    ql_bond,
    ql_clean_price,
    ql_dv01,
    ql_yield,
    yield_from_clean,
)
from basislab.analytics.calendar import settlement_date
from basislab.analytics.contracts import (
    SPECS,
    Contract,
    ContractSpec,
    GradeRule,
    contract,
    grade_rule,
    parse_contract,
)
from basislab.analytics.conversion import conversion_factor, conversion_factor_array
from basislab.analytics.market import MarketInputs, bundled_futures_price, market_inputs, sofr_on
from basislab.analytics.screen import dlv, dlv_many
from basislab.analytics.securities import load_securities_master, notes_and_bonds
from basislab.analytics.trade import (
    DEFAULT_STRESS,
    StressMove,
    TradeLegs,
    TradeReport,
    basis_trade,
    repledging_loop,
    stress_table,
)

__all__ = [
    "DEFAULT_STRESS",
    "MarketInputs",
    "StressMove",
    "TradeLegs",
    "TradeReport",
    "basis_trade",
    "market_inputs",
    "repledging_loop",
    "stress_table",
    "DLV_COLUMNS",
    "SPECS",
    "Contract",
    "ContractSpec",
    "GradeRule",
    "accrued",
    "bundled_futures_price",
    "clean_from_yield",
    "contract",
    "conversion_factor",
    "conversion_factor_array",
    "coupon_period",
    "coupons_between",
    "ctd",
    "dated_date",
    "deliverable_basket",
    "deliverable_mask",
    "dirty_from_yield",
    "dlv",
    "dlv_many",
    "dv01",
    "futures_dv01",
    "grade_rule",
    "gross_basis",
    "implied_repo_pct",
    "invoice_price",
    "net_basis",
    "load_securities_master",
    "normalize_bonds",
    "notes_and_bonds",
    "parse_contract",
    "ql_accrued",
    "ql_bond",
    "ql_clean_price",
    "ql_dv01",
    "ql_yield",
    "settlement_date",
    "sofr_on",
    "yield_from_clean",
]
