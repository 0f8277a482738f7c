"""Issue 10 item 1 in the engine: committed credit lines in the funds' pecking order and investor
redemptions (docs/model.md section 16). Lines are drawn after bills and before any sale, are loans
on the dealers' banks' balance sheets and are repaid from cash above the fund's buffer;
redemption requests follow losses past a threshold, are met by a pro-rata cut by choice and are
paid on the dealing date ``notice`` business days after the first request, from cash."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from basislab import sim
from basislab.errors import ScenarioError
from basislab.sim import dealing, model
from basislab.sim.scenario import to_engine

from .conftest import small

#: no cash, no stop-loss, no redemptions: what the funds cannot pay from lines they must sell
THIN = ("funds.unencumbered_cash_pct=0", "funds.stop_loss_pct=100", "funds.redemption_per_loss=0")
NO_BACKSTOP = "backstop.enabled=false"


@pytest.fixture(scope="module")
def lined():
    """The same thin book and seeded paths, no backstop, with committed lines of 0% and 1% of
    gross assets."""
    return {
        pct: sim.run_scenario(small(*THIN, f"funds.credit_line_pct={pct}"), paths=6, seed=3)[
            "without_backstop"
        ]
        for pct in (0.0, 1.0)
    }


def test_credit_lines_are_drawn_before_any_sale_and_cut_forced_sales(lined):
    without, with_lines = lined[0.0].raw.outputs, lined[1.0].raw.outputs
    assert np.all(without["credit_drawn"] == 0.0)
    assert with_lines["credit_drawn"].sum() > 1.0  # the shock's calls are met from the lines
    forced_without = lined[0.0].metrics()["forced_cash_sales_usd_bn"]
    forced_with = lined[1.0].metrics()["forced_cash_sales_usd_bn"]
    assert forced_without > 3.0
    assert forced_with < 0.5 * forced_without


def test_drawn_lines_are_owed_to_the_dealers_banks_and_repaid(lined):
    r = lined[1.0]
    o = r.raw.outputs
    assert np.all(o["new_defaults"] == 0.0)
    # outstanding = drawn - repaid, day by day (no default extinguished a line)
    flows = np.cumsum(o["credit_drawn"] - o["credit_repaid"], axis=1)
    np.testing.assert_allclose(o["credit_lines_outstanding"], flows, atol=1e-10)
    assert o["credit_repaid"].sum() > 0.0  # repaid once the VM gains come back
    assert sim.audit_max(r) < 1e-9
    # the lines are loans on the banks' balance sheets: each USD bn drawn adds to the dealers'
    # leverage exposure in proportion to their capacity (10-Q Tier 1 / 5%)
    params, static = to_engine(r.scenario)
    st = model.init_state(jax.random.PRNGKey(0), params, static)
    drawn = st._replace(dealers=st.dealers._replace(credit_claims=jnp.asarray(10.0)))
    k = np.asarray(dealing.capacity(params))
    added = np.asarray(dealing.exposure(params, drawn) - dealing.exposure(params, st))
    np.testing.assert_allclose(added, 10.0 * k / k.sum(), rtol=1e-12)


def test_redemptions_follow_losses_and_are_paid_on_the_dealing_date():
    """Investors ask for 2x the drawdown (threshold 0, cap 20% of NAV); the fund cuts pro rata by
    choice (cash is ample, so nothing is forced) and pays 5 business days after the first request."""
    sc = small(
        "funds.stop_loss_pct=100",
        "funds.credit_line_pct=0",
        "funds.redemption_threshold_pct=0",
        "funds.redemption_per_loss=2",
        "funds.redemption_cap_pct=20",
        "funds.redemption_notice_days=5",
        NO_BACKSTOP,
    )
    r = sim.simulate(sc, paths=4, seed=3)
    o, m = r.raw.outputs, r.metrics()
    req, paid = o["redemptions_requested"], o["fund_redeemed"]
    assert np.all(req[:, -1] > 0.1)
    assert m["forced_cash_sales_usd_bn"] == 0.0 and m["fund_defaults"] == 0.0
    assert o["sold_derisk"].sum() > 0.0  # the pro-rata cut is de-risking by choice
    for path in range(req.shape[0]):
        first_request = int(np.argmax(req[path] > 0))
        first_paid = int(np.argmax(paid[path] > 0))
        assert first_paid == first_request + 5
    # every request is paid by the end, and at most the cap of the initial NAV was asked for
    np.testing.assert_allclose(paid[:, -1] + o["redemptions_pending"][:, -1], req[:, -1], rtol=1e-12)
    e0 = r.raw.final["funds.equity0"].sum(-1)
    assert np.all(req[:, -1] <= 0.2 * e0 + 1e-12)
    # capital returned is not a loss: the realised P&L adds it back
    assert sim.audit_max(r) < 1e-9


def test_cash_ratios_follow_ofr_size_cohorts():
    """OFR Hedge Fund Monitor chart 48 (unencumbered cash / gross assets, 2026-03-31): top 10
    funds 2.082%, 11-50 7.661%, 51+ 6.109%, on the model's funds ranked by size: of 10 active
    funds the largest is the top 10%, the next four the next 40%; padding ranks last."""
    sc = sim.load_scenario("seed-thesis")
    ratios = sim.scenario.cash_ratios(sc.funds)
    np.testing.assert_allclose(ratios, [0.02082, 0.07661, 0.06109])
    size = jnp.array([3.0, 9.0, 1.0, 4.0, 2.0, 8.0, 5.0, 7.0, 6.0, 0.5, 0.0, 0.0])
    got = np.asarray(model.cohort_cash_ratio(jnp.asarray(ratios), size, jnp.asarray(10.0)))
    top, mid, rest = ratios
    want = [rest, top, rest, rest, rest, mid, mid, mid, mid, rest, rest, rest]
    np.testing.assert_allclose(got, want)
    one = sim.load_scenario("seed-thesis", ["funds.unencumbered_cash_pct=5"])
    np.testing.assert_allclose(sim.scenario.cash_ratios(one.funds), [0.05] * 3)
    with pytest.raises(ScenarioError, match="cash_ratio_by_cohort_pct"):
        sim.load_scenario("seed-thesis", ["funds.cash_ratio_by_cohort_pct={top10: 2}"])
