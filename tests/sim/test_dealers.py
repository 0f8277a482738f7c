"""Dealers under the SLR (basislab.sim.dealers), with numbers worked by hand.

Sources: JPMorgan Chase 10-Q Q3 2019 (Tier 1 214.8, leverage exposure 3,404.5, SLR 6.3%) and
Q1 2020 (213.4, 3,535.8, SLR 6.0%), ``jpm_slr_2019q3`` / ``jpm_slr_2020q1``: headroom at the 5%
requirement about USD 890bn and 730bn; Morgan Stanley 10-Q Q1 2018 (69.2, 1,091.5, SLR 6.30%).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import pytest

from basislab.sim import dealers as dl

CALM = jnp.asarray(6.0)


@pytest.fixture()
def sector() -> tuple[dl.DealerParams, dl.DealerState]:
    cfg = dl.DealerConfig()
    return cfg.params(), cfg.state()


def test_capacity_and_slr_from_the_10q(sector: tuple[dl.DealerParams, dl.DealerState]) -> None:
    p, s = sector
    # JPM: K = 214.8 / 5% = 4,296; u = 3,404.5 / 4,296 = 0.7925 (= 5% / SLR 6.3%); headroom 891.5
    assert float(dl.capacity(p, s)[0]) == pytest.approx(4296.0)
    assert float(dl.utilisation(p, s)[0]) == pytest.approx(3404.5 / 4296.0)
    assert 0.05 / float(dl.utilisation(p, s)[0]) == pytest.approx(0.063, abs=5e-4)  # reported SLR 6.3%
    assert float(dl.headroom(p, s)[0]) == pytest.approx(891.5)
    # MS: 69.2 / 5% = 1,384; headroom 292.5; SLR 6.34% (reported 6.30%)
    assert float(dl.headroom(p, s)[1]) == pytest.approx(292.5)
    # JPM March 2020: 213.4 / 5% - 3,535.8 = 732.2 (reference: about 730)
    q1 = dl.DealerConfig(tier1_bn=(213.4,), exposure_bn=(3535.8,), inventory_bn=(60.0,), reserves_bn=(300.0,),
                         rev_repo_bilateral_bn=(250.0,), rev_repo_cleared_bn=(110.0,))  # fmt: skip
    assert float(dl.headroom(q1.params(), q1.state())[0]) == pytest.approx(732.2)


def test_slr_exemption_frees_treasuries_and_reserves(sector: tuple[dl.DealerParams, dl.DealerState]) -> None:
    _, s = sector
    exempt = dl.DealerConfig().params(slr_exempt=True)
    # JPM: inventory 60 + reserves 300 leave the exposure: headroom 891.5 + 360 = 1,251.5
    assert float(dl.headroom(exempt, s)[0]) == pytest.approx(1251.5)
    assert float(dl.headroom(exempt, s)[1]) == pytest.approx(292.5 + 30.0 + 50.0)


def test_central_clearing_nets_a_fifth_of_the_balance_sheet(
    sector: tuple[dl.DealerParams, dl.DealerState],
) -> None:
    p, s = sector
    # headroom 891.5 lends 891.5 bilaterally or 891.5 / 0.8 = 1,114.4 sponsored
    assert float(dl.repo_capacity(p, s, jnp.asarray(0.0))[0]) == pytest.approx(891.5)
    assert float(dl.repo_capacity(p, s, jnp.asarray(1.0))[0]) == pytest.approx(891.5 / 0.8)


def test_demand_schedule_by_hand(sector: tuple[dl.DealerParams, dl.DealerState]) -> None:
    p, s = sector
    # JPM kink: 0.85 x 4,296 - 3,404.5 = 247.1 bn. Below it impact is linear, 0.12 bp per bn:
    # at 10 bp it buys 10 / 0.12 = 83.33 bn
    q = dl.demand(p, s, jnp.asarray(10.0), CALM)
    assert float(q[0]) == pytest.approx(10.0 / 0.12)
    # at 60 bp: 60 - 0.12 x 247.1 = 30.348 left; a = 10 / 4,296;
    # y = (-0.12 + sqrt(0.0144 + 2 a 30.348)) / a = 117.955; q = 247.1 + 117.955 = 365.055
    a = 10.0 / 4296.0
    y = (-0.12 + math.sqrt(0.12**2 + 2 * a * (60 - 0.12 * 247.1))) / a
    q = dl.demand(p, s, jnp.asarray(60.0), CALM)
    assert float(q[0]) == pytest.approx(247.1 + y, rel=1e-10)
    assert float(dl.required_concession(p, s, q, CALM)[0]) == pytest.approx(60.0, rel=1e-10)
    # MS is capped by its headroom 292.5 at 200 bp
    assert float(dl.demand(p, s, jnp.asarray(200.0), CALM)[1]) == pytest.approx(292.5)
    # nothing at a zero or negative concession
    assert float(dl.demand(p, s, jnp.asarray(-5.0), CALM).sum()) == 0.0


def test_volatility_scales_the_concession(sector: tuple[dl.DealerParams, dl.DealerState]) -> None:
    p, s = sector
    # Duffie et al. (2023): illiquidity ~ a + b sigma; three times calm vol, three times the
    # concession for the same quantity, so the same 10 bp buys a third
    q_calm = dl.demand(p, s, jnp.asarray(10.0), CALM)
    q_vol = dl.demand(p, s, jnp.asarray(10.0), 3 * CALM)
    assert float(q_vol[0]) == pytest.approx(float(q_calm[0]) / 3)


def test_repo_spread_rises_with_utilisation() -> None:
    cfg = dl.DealerConfig(tier1_bn=(100.0,), exposure_bn=(1800.0,), inventory_bn=(100.0,), reserves_bn=(100.0,),
                          rev_repo_bilateral_bn=(300.0,), rev_repo_cleared_bn=(100.0,))  # fmt: skip
    # K = 2,000; u = 0.9 -> 5 + 200 x (0.9 - 0.85) = 15 bp
    assert float(dl.repo_spread(cfg.params(), cfg.state())[0]) == pytest.approx(15.0)
    # with the exemption u = (1,800 - 200) / 2,000 = 0.8 < 0.85: back to 5 bp
    assert float(dl.repo_spread(cfg.params(slr_exempt=True), cfg.state())[0]) == pytest.approx(5.0)


def test_absorb_books_both_legs(sector: tuple[dl.DealerParams, dl.DealerState]) -> None:
    p, s = sector
    bought = jnp.asarray([50.0, 20.0])
    new, flows = dl.absorb(p, s, bought, jnp.asarray(98.0))
    assert jnp.allclose(new.inventory - s.inventory, bought)
    assert jnp.allclose(new.repo_funding - s.repo_funding, bought)
    # bonds in = cash out = repo borrowed: equity unchanged
    assert jnp.allclose(flows.amount[0], flows.amount[1]) and jnp.allclose(flows.amount[1], flows.amount[2])
    # absorbing uses headroom one for one
    assert jnp.allclose(dl.headroom(p, s) - dl.headroom(p, new), bought)


def test_demand_is_jittable_and_vmappable(sector: tuple[dl.DealerParams, dl.DealerState]) -> None:
    p, s = sector
    grid = jnp.linspace(0.0, 100.0, 11)
    qs = jax.jit(jax.vmap(lambda c: dl.demand(p, s, c, CALM)))(grid)
    assert qs.shape == (11, 2)
    assert bool(jnp.all(jnp.diff(qs, axis=0) >= 0))  # a demand schedule rises with the concession


def test_log_price_depth_for_a_linear_clearing(sector: tuple[dl.DealerParams, dl.DealerState]) -> None:
    p, s = sector
    # below the kink: 0.12 bp per bn x Dmod 6 = 0.72 bp of price = 7.2e-5 log price per bn
    d = dl.log_price_depth(p, s, jnp.asarray(0.0), CALM, jnp.asarray(6.0))
    assert float(d[0]) == pytest.approx(7.2e-5)
    # JPM at u = 0.95 (absorbed 0.95 x 4,296 - 3,404.5 = 676.7): 0.12 + 10 x 0.10 = 1.12 bp per bn
    d = dl.log_price_depth(p, s, jnp.asarray([676.7, 0.0]), CALM, jnp.asarray(6.0))
    assert float(d[0]) == pytest.approx(1.12 * 6e-4, rel=1e-9)


def test_intermediate_repo_within_the_balance_sheet() -> None:
    cfg = dl.DealerConfig(tier1_bn=(100.0,), exposure_bn=(1900.0,), inventory_bn=(100.0,), reserves_bn=(100.0,),
                          rev_repo_bilateral_bn=(300.0,), rev_repo_cleared_bn=(100.0,))  # fmt: skip
    p, s = cfg.params(), cfg.state()
    # K = 2,000, E = 1,900: room 100 bilateral; half cleared: 100 / (1 - 0.2 x 0.5) = 111.1
    new, granted = dl.intermediate(p, s, jnp.asarray([500.0]), jnp.asarray(0.5))
    assert float(granted[0]) == pytest.approx(100.0 / 0.9)
    assert float(dl.headroom(p, new)[0]) == pytest.approx(0.0, abs=1e-9)
    assert float(new.repo_funding[0] - s.repo_funding[0]) == pytest.approx(100.0 / 0.9)
    # a smaller request is granted in full; repayments always
    _, granted = dl.intermediate(p, s, jnp.asarray([40.0]), jnp.asarray(0.0))
    assert float(granted[0]) == 40.0
    back, granted = dl.intermediate(p, new, jnp.asarray([-50.0]), jnp.asarray(0.0))
    assert float(granted[0]) == -50.0 and float(dl.headroom(p, back)[0]) == pytest.approx(50.0)


def test_every_parameter_names_its_source() -> None:
    for name, field in dl.DealerConfig.model_fields.items():
        assert (field.json_schema_extra or {}).get("source"), name
