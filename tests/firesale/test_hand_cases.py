"""Two banks, two assets, worked by hand. Notation: prices ``p = (p0, p1)``; impact ``i`` is
the fall when 10% of an asset's total quantity is sold in one step, so exponential impact is
``p' = p (1 - i)^(10 f)`` for a sold fraction ``f``, linear ``p' = p (1 - 10 i f)``; sellers
get the mid price ``(p + p') / 2``; lambda = E / A with thresholds 3% / 4% / 5%."""

from __future__ import annotations

import numpy as np
import pytest

from basislab.firesale import BankSystem, make_config, run_firesale
from basislab.firesale.model import Params, simulate, system_arrays


def _system(holdings, cash, other, loan, other_liab) -> BankSystem:
    return BankSystem(
        names=("X", "Y"),
        assets=("a0", "a1"),
        holdings=np.array(holdings, float),
        cash=np.array(cash, float),
        other_asset=np.array(other, float),
        loan=np.array(loan, float),
        other_liab=np.array(other_liab, float),
    )


# X: a0 = 10, a1 = 10, cash 5, other 75 -> A = 100; E = 4.5 (lambda 4.5%), loan = other = 47.75.
# Y: a1 = 20, cash 5, other 75 -> A = 100; E = 10 (lambda 10%), loan = other = 45.
# Totals: a0 = 10, a1 = 30.
DELEVER = _system([[10, 10], [0, 20]], [5, 5], [75, 75], [47.75, 45], [47.75, 45])


def test_threshold_delevering_then_two_defaults_by_hand():
    """Shock a1 by 10%, exponential impact 10%, 3 steps.

    Step 1 (nothing to clear). X: A = 5 + 10 + 9 + 75 = 99, E = 99 - 95.5 = 3.5,
    lambda = 3.54% < 4% -> wants A - E / 5% = 99 - 70 = 29, pays min(cash 5, 29) = 5 of its loan
    (loan 42.75, cash 0); cash left 0 < 5 paid -> sells 5 of value pro rata: values (10, 9),
    so 5/19 of each holding: 50/19 units of a0 and 50/19 of a1. Y: A = 5 + 18 + 75 = 98,
    E = 8, lambda 8.2%: nothing.
    Step 2: f0 = (50/19)/10, f1 = (50/19)/30 -> p0 = 0.9^(50/19) = 0.757854, p1 = 0.9 *
    0.9^(50/57) = 0.820549. X: cash = 50/19 (1 + p0)/2 + 50/19 (0.9 + p1)/2 = 4.576846,
    A = 4.576846 + 140/19 (p0 + p1) + 75 = 91.207181, E = A - 42.75 - 47.75 = 0.707181,
    lambda = 0.78% < 3%: X defaults. Y: A = 5 + 20 p1 + 75 = 96.410974, E = 6.410974, 6.65%.
    Step 3: X sells all 140/19 of each: p0 = 0.9^(50/19 + 140/19) = 0.9^10 = 0.348678,
    p1 = 0.9^(1 + 10/3) = 0.633458. Y: A = 80 + 20 p1 = 92.669152, E = 2.669152,
    lambda = 2.88% < 3%: Y defaults (it would liquidate at step 4).
    Sold: 20 of 40 units. X's cash 4.576846 + 140/19 ((p0 + p0')/2 + (p1 + p1')/2) = 14.010409.
    """
    cfg = make_config(shock={"a1": 0.1}, impact=0.1, steps=3)
    r = run_firesale(DELEVER, cfg)
    assert r["defaults_per_step"] == [0, 1, 1]
    assert r["default_fraction"] == 1.0
    assert r["sold_fraction"] == pytest.approx(0.5, rel=1e-12)
    assert r["final_prices"]["a0"] == pytest.approx(0.9**10, rel=1e-12)
    assert r["final_prices"]["a1"] == pytest.approx(0.9 ** (1 + 10 / 3), rel=1e-12)
    assert r["sold_per_step"] == pytest.approx([0.0, 100 / 19, 280 / 19], rel=1e-12)

    params = Params(
        shock=np.array([0.0, 0.1]),
        impact=np.array([0.1, 0.1]),
        linear=np.array(0.0),
        lev_min=np.array(0.03),
        lev_buffer=np.array(0.04),
        lev_target=np.array(0.05),
    )
    final, _ = simulate(system_arrays(DELEVER), params, 3)
    p0, p1 = 0.9 ** (50 / 19), 0.9 ** (1 + 50 / 57)
    cash_x = 50 / 19 * ((1 + p0) / 2 + (0.9 + p1) / 2) + 140 / 19 * (
        (p0 + 0.9**10) / 2 + (p1 + 0.9 ** (13 / 3)) / 2
    )
    assert float(final.cash[0]) == pytest.approx(cash_x, rel=1e-12)
    assert float(final.cash[0]) == pytest.approx(14.010409399, abs=1e-8)
    assert float(final.loan[0]) == pytest.approx(42.75, rel=1e-12)
    assert float(final.loan[1]) == 45.0  # Y never delevered: lambda went 10% -> 6.65% -> default
    np.testing.assert_allclose(final.q, [[0, 0], [0, 20]], atol=1e-12)


# X: a0 = a1 = 10, cash 5, other 75, E = 2 (lambda 2%: defaults at once); Y: same assets, E = 6.
LIQUIDATE = _system([[10, 10], [10, 10]], [5, 5], [75, 75], [49, 47], [49, 47])


def test_linear_impact_default_and_liquidation_by_hand():
    """No shock, linear impact 5%, 3 steps. Step 1: X (2%) defaults. Step 2: X sells all 10 +
    10 of 20 + 20: f = 0.5, p = 1 - 10 * 0.05 * 0.5 = 0.75 for both; X's cash 5 + 2 * 10 *
    (1 + 0.75)/2 = 22.5. Y: A = 5 + 15 + 75 = 95, E = 95 - 94 = 1, lambda 1.05% -> defaults.
    Step 3: Y sells 10 + 10: p = 0.75 (1 - 0.25) = 0.5625; Y's cash 5 + 20 (0.75 + 0.5625)/2 =
    18.125. Everything sold."""
    cfg = make_config(shock={}, impact=0.05, impact_form="linear", steps=3)
    r = run_firesale(LIQUIDATE, cfg)
    assert r["defaults_per_step"] == [1, 1, 0]
    assert r["defaulted_banks"] == ["X", "Y"]
    assert r["sold_fraction"] == pytest.approx(1.0, rel=1e-12)
    assert r["final_prices"] == pytest.approx({"a0": 0.5625, "a1": 0.5625}, rel=1e-12)
    params = Params(
        shock=np.zeros(2),
        impact=np.full(2, 0.05),
        linear=np.array(1.0),
        lev_min=np.array(0.03),
        lev_buffer=np.array(0.04),
        lev_target=np.array(0.05),
    )
    final, _ = simulate(system_arrays(LIQUIDATE), params, 3)
    np.testing.assert_allclose(final.cash, [22.5, 18.125], rtol=1e-12)


def test_leverage_targeting_delevers_a_bank_between_buffer_and_target():
    """Both banks at lambda 4.5% (A = 100, E = 4.5), no shock, zero impact: the threshold
    model (buffer 4%) leaves them alone; targeting (buffer 100%) makes each pay min(cash 5,
    A - E / 5% = 100 - 90) = 5 of its loan at step 1 and sell 5 of assets (cash 0 < 5 paid),
    cleared at step 2 at price 1."""
    sys_ = _system([[10, 10], [0, 20]], [5, 5], [75, 75], [47.75, 47.75], [47.75, 47.75])
    thr = run_firesale(sys_, make_config(shock={}, impact=0.0, steps=2))
    tgt = run_firesale(sys_, make_config(shock={}, impact=0.0, rule="target", steps=2))
    assert thr["sold_per_step"] == [0.0, 0.0]
    # step 2 clears X's and Y's step-1 sales: 5 units of value each at price 1
    assert tgt["sold_per_step"] == pytest.approx([0.0, 10.0], rel=1e-12)
    assert tgt["final_prices"] == {"a0": 1.0, "a1": 1.0}
