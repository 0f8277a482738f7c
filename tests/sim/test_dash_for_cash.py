"""Issue 10 item 6 in the engine: the dash for cash across two other dollar assets (equities,
credit), with their own prices, a cross-asset impact, the funds' pecking order across them, and
prime money funds selling CP and CDs (docs/model.md section 17).

Sources: ``mmf_flows_mar2020_crane`` (prime money funds -USD 160bn in March 2020, over 17
business days at S = 1), ``prime_mmf_behaviour`` (they sold CP and CDs, not Treasuries),
``ig_hy_spreads_mar2020`` (IG +202bp), ``spx_path_2020``; Greenwood, Landier & Thesmar (2015)
for spillovers through common holders (the cross share is an assumption)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from basislab import sim
from basislab.sim import markets, model, other_sellers
from basislab.sim.markets import Depth, Supply
from basislab.sim.players import OTHER_ASSETS

from .conftest import small


@pytest.fixture(scope="module")
def world():
    p, s = sim.to_engine(small())
    return p, s, model.init_state(jax.random.PRNGKey(0), p, s)


def test_cross_asset_impact_by_hand(world):
    """10bn of credit sold to a taker of slope 4e-4 per bn (0.04%): credit's log impact 0.004; with
    a cross share of 0.25 the equities move 0.25 x 0.004 = 0.001, with no equities sold. Calm
    volatility (stress 1): no stress multiplier."""
    p, _, st = world
    assert OTHER_ASSETS == ("equities", "credit")
    m = p.market._replace(
        impact_other=jnp.array([2e-4, 4e-4]), other_cross=jnp.array([[1.0, 0.25], [0.25, 1.0]])
    )
    p = p._replace(market=m)
    k = jnp.zeros(4)
    sup = [Supply(k, k, jnp.array([0.0, 10.0]))]
    takers = [Depth(m.impact_cash, None, m.impact_other), Depth(None, m.impact_fut, None)]
    mk, _ = markets.clear(p, st.markets, sup, takers)
    assert [float(x) for x in mk.impact_other] == pytest.approx([0.001, 0.004], rel=1e-12)
    pr = markets.prices(p, mk, jnp.zeros(()))
    assert float(pr.po[1]) == pytest.approx(np.exp(-0.004), rel=1e-12)


def test_credit_leg_of_the_stress_index_is_the_credit_price(world):
    """A credit price down 7 x 2% (IG +200bp at a 7-year spread duration) is a full March 2020
    credit leg (200bp / 200bp = 1): S = 1/3 with calm repo and equities."""
    p, _, st = world
    mk = st.markets._replace(other_return=jnp.array([0.0, -p.market.credit_duration * 0.02]))
    st = st._replace(markets=mk)
    st = st._replace(other_sellers=st.other_sellers._replace(spread_ref=st.funding.spread_bp))
    assert float(other_sellers.stress(p, st)) == pytest.approx(1.0 / 3.0, rel=1e-9)


def _dash(*extra: str) -> sim.SimResult:
    """The March 2020 legs as inputs: S&P 500 -30%, IG +300bp over the shock week."""
    sc = small("shock.other_assets_pct=-30", "shock.credit_spread_bp=300", "backstop.enabled=false", *extra)
    return sim.simulate(sc, paths=4, seed=0)


@pytest.fixture(scope="module")
def dash():
    return {"prime": _dash(), "no_prime": _dash("other_sellers.prime_mmf_holdings_usd_bn=0")}


def test_prime_money_funds_sell_credit_not_treasuries_and_it_moves_credit(dash):
    o, o0 = dash["prime"].raw.outputs, dash["no_prime"].raw.outputs
    sold = o["other_sellers_other_sold"].sum((0, 1)) / o["other_sellers_other_sold"].shape[0]
    assert sold[0] == 0.0 and sold[1] > 10.0  # CP and CDs only (USD bn over the run, per path)
    # at most their March-2020 pace: 160bn over 17 days a day at S, S <= 1 here
    assert np.max(o["other_sellers_other_sold"][..., 1]) <= 160.0 / 17 + 1e-9
    # their sales deepen the credit fall (impact) and, through the cross impact, the equities'
    credit, credit0 = o["other_price"][..., 1].min(1), o0["other_price"][..., 1].min(1)
    eq, eq0 = o["other_price"][..., 0].min(1), o0["other_price"][..., 0].min(1)
    assert np.all(credit < credit0) and np.all(eq < eq0)
    assert sim.audit_max(dash["prime"]) < 1e-9  # units and cash conserved per asset


def test_flows_name_both_assets_and_the_prime_funds(dash):
    rows = {(a, b, what): v for a, b, what, v in dash["prime"].flows()}
    assert ("funds", "end investors", "equities") in rows and ("funds", "end investors", "credit") in rows
    assert rows[("prime money funds", "end investors", "credit (CP and CDs)")] > 10.0
