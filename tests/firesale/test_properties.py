"""Property tests (hypothesis) of the fire-sale engine on random 6-bank x 3-asset systems: units
conserved (held + sold = initial), cash accounted (banks' cash and repaid loans = the market's
payments to sellers), prices never rise, defaults only accumulate and defaulted banks end with
nothing, the order of banks does not matter, a calm market stays calm, and the engine agrees
with the loop-based reference."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from basislab.firesale import BankSystem
from basislab.firesale.model import Params, simulate, system_arrays
from tests.firesale.reference import RefBank, reference_firesale

N, K, STEPS = 6, 3, 8
unit = st.floats(0.0, 1.0, allow_nan=False)


@st.composite
def systems(draw, min_lev=0.01):
    holdings = draw(arrays(np.float64, (N, K), elements=st.floats(0.0, 50.0, allow_subnormal=False)))
    holdings = holdings * draw(arrays(np.bool_, (N, K)))  # some banks skip some assets
    cash = draw(arrays(np.float64, N, elements=st.floats(0.0, 10.0)))
    other = draw(arrays(np.float64, N, elements=st.floats(1.0, 100.0)))
    lev = draw(arrays(np.float64, N, elements=st.floats(min_lev, 0.15)))
    loan_share = draw(arrays(np.float64, N, elements=st.floats(0.0, 1.0)))
    assets = cash + holdings.sum(1) + other
    liab = assets * (1 - lev)
    return BankSystem(
        names=tuple(f"B{i}" for i in range(N)),
        assets=tuple(f"A{k}" for k in range(K)),
        holdings=holdings,
        cash=cash,
        other_asset=other,
        loan=loan_share * liab,
        other_liab=(1 - loan_share) * liab,
    )


@st.composite
def params(draw, max_shock=0.5):
    return Params(
        shock=draw(arrays(np.float64, K, elements=st.floats(0.0, max_shock))),
        impact=draw(arrays(np.float64, K, elements=st.floats(0.0, 0.2))),
        linear=np.float64(draw(st.booleans())),
        lev_min=np.float64(0.03),
        lev_buffer=np.float64(draw(st.sampled_from([0.04, 1.0]))),
        lev_target=np.float64(0.05),
    )


def _run(system, p):
    final, rec = simulate(system_arrays(system), p, STEPS)
    return type(final)(*map(np.asarray, final)), type(rec)(*map(np.asarray, rec))


@settings(max_examples=60, deadline=None)
@given(systems(), params())
def test_units_and_cash_are_conserved(system, p):
    final, rec = _run(system, p)
    # held + sold = initial, per asset
    np.testing.assert_allclose(final.q.sum(0) + final.sold, system.holdings.sum(0), rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(rec.sold.sum(0), final.sold, rtol=1e-12, atol=1e-9)
    assert (
        np.all(final.q >= 0) and np.all(final.pending >= -1e-12) and np.all(final.pending <= final.q + 1e-9)
    )
    # cash in the banks + loans repaid = what the market paid the sellers
    repaid = system.loan - final.loan
    np.testing.assert_allclose(
        (final.cash - system.cash).sum() + repaid.sum(), final.revenue.sum(), rtol=1e-10, atol=1e-9
    )
    assert np.all(repaid >= -1e-12) and np.all(final.cash >= -1e-9)


@settings(max_examples=60, deadline=None)
@given(systems(), params())
def test_prices_never_rise_and_defaults_accumulate(system, p):
    final, rec = _run(system, p)
    path = np.vstack([1.0 - p.shock, rec.price])
    assert np.all(np.diff(path, axis=0) <= 0)
    assert np.all(path >= 0)
    # each default is counted once, and the count matches the banks that are not alive
    assert np.all(rec.defaults >= 0)
    assert rec.defaults.sum() == N - final.alive.sum()
    # a bank that defaulted before the last step has sold everything (liquidated next step)
    before_last = rec.defaults[:-1].sum()
    dead = ~final.alive
    if before_last == dead.sum() and np.all(path[-1] > 1e-9):
        assert np.all(final.q[dead] <= 1e-9)


@settings(max_examples=30, deadline=None)
@given(systems(), params(), st.permutations(range(N)))
def test_the_order_of_banks_does_not_matter(system, p, perm):
    perm = np.array(perm)
    shuffled = BankSystem(
        names=tuple(system.names[i] for i in perm),
        assets=system.assets,
        holdings=system.holdings[perm],
        cash=system.cash[perm],
        other_asset=system.other_asset[perm],
        loan=system.loan[perm],
        other_liab=system.other_liab[perm],
    )
    a, ra = _run(system, p)
    b, rb = _run(shuffled, p)
    assert np.array_equal(ra.defaults, rb.defaults)
    assert np.array_equal(a.alive[perm], b.alive)
    np.testing.assert_allclose(a.price, b.price, rtol=1e-12)
    np.testing.assert_allclose(a.q[perm], b.q, rtol=1e-10, atol=1e-9)


@settings(max_examples=30, deadline=None)
@given(systems(min_lev=0.0401), params(max_shock=0.0))
def test_a_calm_market_stays_calm(system, p):
    """No shock and every bank above its buffer (4.01% vs 4%): nobody sells, nobody defaults, prices stay 1."""
    p = p._replace(lev_buffer=np.float64(0.04))
    final, rec = _run(system, p)
    assert rec.defaults.sum() == 0
    assert np.all(final.price == 1.0) and np.all(final.sold == 0.0)
    np.testing.assert_array_equal(final.q, system.holdings)


@settings(max_examples=40, deadline=None)
@given(systems(), params())
def test_the_engine_matches_the_reference_on_random_systems(system, p):
    final, rec = _run(system, p)
    banks = [
        RefBank(
            name=system.names[i],
            cash=float(system.cash[i]),
            other_asset=float(system.other_asset[i]),
            loan=float(system.loan[i]),
            other_liab=float(system.other_liab[i]),
            qty=[float(x) for x in system.holdings[i]],
        )
        for i in range(N)
    ]
    # the reference takes one impact for all assets: use the first asset's for every asset
    p = p._replace(impact=np.full(K, p.impact[0]))
    final, rec = _run(system, p)
    ref = reference_firesale(
        banks,
        list(p.shock),
        float(p.impact[0]),
        linear=bool(p.linear),
        lev_buffer=float(p.lev_buffer),
        steps=STEPS,
    )
    assert list(rec.defaults) == ref["defaults_per_step"]
    np.testing.assert_allclose(final.price, ref["prices"], rtol=1e-11)
    np.testing.assert_allclose(final.sold, ref["sold"], rtol=1e-10, atol=1e-8)
    np.testing.assert_allclose(final.cash, ref["cash"], rtol=1e-10, atol=1e-8)
