"""The Fed wired into the engine (issue 10 item 4): levers with a trigger and a delay in hours,
outright purchases as a clearing participant paid in reserves it creates, the lender of last
resort (the backstop) with its own trigger and delay. Same Static as tests/sim/conftest.py."""

from __future__ import annotations

import numpy as np

from basislab import sim

from .conftest import small

#: thin liquidity and a harsh sell-off (6x vol, cash 1-4 points cheap) so that funds are forced
#: to sell (docs/model.md sensitivity rows); no stop-loss, so every sale is forced
THIN = [
    "funds.unencumbered_cash_pct=0",
    "funds.other_assets_ratio=0",
    "funds.stop_loss_pct=100",
    "funds.credit_line_pct=0",
    "shock.cash_dislocation_bp={2y: 100, 5y: 200, 10y: 300, long: 400}",
    "shock.vol_multiplier=6",
    "backstop.enabled=false",
]


def _run(*extra: str) -> sim.SimResult:
    return sim.simulate(small(*THIN, *extra), paths=4, seed=1)


def test_purchases_buy_what_funds_sell_and_create_reserves():
    off = _run()
    on = _run("fed.purchases.enabled=true", "fed.purchases.trigger_bp=0", "fed.purchases.delay_hours=0")
    o, m = on.raw.outputs, on.metrics()
    assert off.metrics()["forced_cash_sales_usd_bn"] > 1.0  # there is something to buy
    assert np.all(off.raw.outputs["bonds_held_fed"] == 0.0)
    bought = o["bonds_held_fed"][:, -1].sum(-1)
    assert np.all(bought > 0.0)
    # capacity: at most 75bn a day at market (prices near 100): face over the run bounded
    assert np.all(bought <= 75.0 * on.steps * 1.2)
    # every dollar paid is a dollar of reserves created, and bonds are conserved across holders
    assert m["fed_balance_sheet_expansion_usd_bn"]["purchases"] > 0.0
    held = sum(o[f"bonds_held_{w}"] for w in ("funds", "investors", "fed", "dealers", "other_sellers"))
    assert np.allclose(held, held[:, :1], rtol=0, atol=1e-9 * 830)
    assert sim.audit_max(on) < 1e-9
    # the Fed takes offers before the price moves: the cash price falls less
    drop = lambda r: float(np.mean(list(r.metrics()["max_cash_price_drop_pct"].values())))  # noqa: E731
    assert drop(on) < drop(off)


def test_a_lever_above_any_stress_never_acts():
    r = _run("fed.purchases.enabled=true", "fed.purchases.trigger_bp=10000")
    assert np.all(r.raw.outputs["fed_purchases_on"] == 0.0)
    assert np.all(r.raw.outputs["bonds_held_fed"] == 0.0)


def test_lender_of_last_resort_acts_after_its_delay_in_hours():
    """Standing trigger (observed at the first morning window, 09:00 of day 0) and a 30-hour
    delay: it acts from the first window at or after hour 39, the end of day 1 (24 + 16 = 40)."""
    r = _run("backstop.enabled=true", "backstop.delay_hours=30")
    on = r.raw.outputs["fed_lolr_on"]
    assert np.all(on[:, 0] == 0.0) and np.all(on[:, 1:] == 1.0)
    assert np.all(r.raw.outputs["backstop_outstanding"][:, 0] == 0.0)
    assert sim.audit_max(r) < 1e-9


def test_standing_lender_of_last_resort_is_todays_backstop():
    """No trigger and no delay: the backstop lends from the first window, as before the Fed."""
    r = _run("backstop.enabled=true")
    assert np.all(r.raw.outputs["fed_lolr_on"] == 1.0)
    assert r.metrics()["backstop_peak_usd_bn"] > 0.0
