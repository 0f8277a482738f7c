"""basislab.conventions: one bucket list and contract table for every layer, and the simulator's
CTD terms from the analytics bond math (checked against QuantLib and the CME factors)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
import QuantLib as ql

from basislab import conventions
from basislab.analytics import bonds, conversion_factor
from basislab.analytics.calendar import to_ql


def test_one_bucket_list_and_contract_table():
    from basislab.data import catalog
    from basislab.sim import players, scenario

    assert catalog.BUCKETS is conventions.BUCKETS and players.BUCKETS is conventions.BUCKETS
    assert scenario.BUCKET_NAMES is conventions.BUCKETS
    assert catalog.CONTRACTS is conventions.CONTRACTS and catalog.CORE_CONTRACTS is conventions.CORE_CONTRACTS
    # CFTC TFF contract market codes (CBOT): 10-year note 043602, bond 020601
    assert conventions.CONTRACTS["TY"].cftc_code == "043602" and conventions.CODE_TO_ROOT["020601"] == "US"
    assert {c.bucket for c in conventions.CONTRACTS.values()} == set(conventions.BUCKETS)
    assert all(conventions.CONTRACTS[r].bucket == b for b, r in conventions.BUCKET_ROOTS.items())


@pytest.mark.parametrize(
    ("root", "coupon", "maturity", "yld"),
    [
        ("TU", 3.5, date(2027, 10, 31), 3.6),
        ("FV", 3.75, date(2030, 8, 31), 3.9),
        ("US", 4.25, date(2043, 11, 15), 4.8),
    ],
)
def test_ctd_duration_is_quantlibs_modified_duration(root, coupon, maturity, yld):
    """Modified duration = DV01 x 1e4 / dirty price; QuantLib's own modified duration of the same
    bond at the same street yield (Act/Act ICMA, semi-annual compounding) agrees."""
    t = conventions.ctd_terms(root, coupon, maturity, "2025-12", yld)
    settle = conventions.delivery_start("2025-12")
    bond = bonds.ql_bond(coupon, maturity)
    rate = ql.InterestRate(yld / 100, bonds.QL_DAY_COUNT, ql.Compounded, ql.Semiannual)
    ql_dmod = ql.BondFunctions.duration(bond, rate, ql.Duration.Modified, to_ql(settle))
    assert t.modified_duration == pytest.approx(ql_dmod, rel=1e-6)
    assert t.clean_price == pytest.approx(bonds.ql_clean_price(bond, yld, settle), abs=1e-9)
    assert t.conversion_factor == conversion_factor(root, coupon, maturity, "2025-12")


def test_simulator_durations_are_the_analytics_layers():
    """Issue 9: the simulator's CTD durations equal the analytics layer's (its own half-year
    pricer was +4.6% at 2y and -3.9% at 5y)."""
    from basislab.sim import load_scenario, to_engine

    sc = load_scenario("seed-thesis")
    p, _ = to_engine(sc)
    for i, b in enumerate(sc.market.buckets.values()):
        y = b.ctd_yield_pct if b.ctd_yield_pct is not None else b.ctd_coupon_pct
        settle = conventions.delivery_start(sc.market.delivery_month)
        dirty = bonds.dirty_from_yield(b.ctd_coupon_pct, b.ctd_maturity, settle, y)
        dmod = bonds.dv01(b.ctd_coupon_pct, b.ctd_maturity, settle, y) * 1e4 / dirty
        assert float(p.market.dmod[i]) == pytest.approx(float(dmod), rel=1e-12)


def test_cheapest_to_deliver_follows_the_six_percent_rule():
    """Hull (Options, Futures and Other Derivatives, ch. 6): with yields above the 6% notional
    coupon the longest-duration deliverable is cheapest to deliver, below it the shortest."""
    coupons = [4.0, 4.0, 4.0]
    maturities = [date(2032, 7, 31), date(2033, 8, 15), date(2035, 5, 15)]  # TY basket: 6.5-10y
    hi, _ = conventions.cheapest_to_deliver("TY", "2025-12", coupons, maturities, [8.0] * 3)
    lo, terms = conventions.cheapest_to_deliver("TY", "2025-12", coupons, maturities, [3.0] * 3)
    assert hi == 2 and lo == 0
    assert np.all(np.diff([t.modified_duration for t in terms]) > 0)
