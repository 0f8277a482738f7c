"""The funding market (basislab.sim.funding): kernels against numbers worked by hand, and the
standalone replay out of sample (observed SOFR - IORB is never an input).

Observed targets: SOFR 5.25% on 2019-09-17 with IOER 2.10% (``sofr_sep2019``, Anbil, Anderson &
Senyuz 2020); SOFR - IORB 32 bp on 2025-10-31 (``sofr_iorb_oct31_2025``).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from basislab.errors import BasislabError
from basislab.sim import funding as fm


def _day(**kw: float) -> fm.FundingDay:
    base = dict(
        iorb_pct=2.10, onrrp_rate_pct=2.00, srf_rate_pct=math.inf, coupon_settlement=0.0,
        treasury_net_receipts=0.0, onrrp_change=0.0, fed_repo=0.0, month_end=0.0, quarter_end=0.0,
        year_end=0.0,
    )  # fmt: skip
    base.update(kw)
    return fm.FundingDay(*(jnp.asarray(base[n], jnp.float64) for n in fm.FundingDay._fields))


def _params(**kw: float) -> fm.FundingParams:
    return fm.FundingConfig(**kw).params()


def test_demand_curve_by_hand() -> None:
    # alpha = -4, beta = 4, gamma = 4/tn, x_ref = 1.8: at x_ref the spread is -4 + 4 = 0 bp; at
    # x_ref - ln(2)/4 it is -4 + 4*2 = 4 bp; far above it tends to alpha = -4.
    p = _params(curve_floor_bp=-4.0, curve_scale_bp=4.0, curve_decay_per_tn=4.0, liquidity_ref_tn=1.8)
    assert float(fm.demand_curve(p, jnp.asarray(1.8))) == pytest.approx(0.0, abs=1e-12)
    assert float(fm.demand_curve(p, jnp.asarray(1.8 - math.log(2) / 4))) == pytest.approx(4.0, rel=1e-12)
    assert float(fm.demand_curve(p, jnp.asarray(10.0))) == pytest.approx(-4.0, abs=1e-12)
    # inverse: 4 bp needs x = 1.8 - ln(2)/4 = 1.62671; no liquidity brings it to the floor
    assert float(fm.liquidity_needed(p, jnp.asarray(4.0))) == pytest.approx(1.8 - math.log(2) / 4, rel=1e-12)
    assert math.isinf(float(fm.liquidity_needed(p, jnp.asarray(-5.0))))


def test_scarcity_wall_by_hand() -> None:
    # threshold 1.50 tn, balance 1.47 tn: 30 bn short at 10 bp per bn = 300 bp
    p = _params(scarcity_threshold_tn=1.50, scarcity_slope_bp_per_bn=10.0)
    assert float(fm.scarcity_premium(p, jnp.asarray(1.47))) == pytest.approx(300.0, rel=1e-9)
    assert float(fm.scarcity_premium(p, jnp.asarray(1.60))) == 0.0


def test_floor_binds_at_on_rrp_rate() -> None:
    # ample liquidity: the curve would give -20 bp, but money funds do not lend below the ON RRP
    # rate 2.00% = IOER - 10 bp
    p = _params(curve_floor_bp=-20.0, curve_scale_bp=1.0, curve_decay_per_tn=5.0, liquidity_ref_tn=1.0)
    out = fm.clear(p, jnp.asarray(5.0), jnp.asarray(5.0), _day())
    assert float(out.spread_bp) == pytest.approx(-10.0, abs=1e-9)
    assert float(out.sofr_pct) == pytest.approx(2.00, abs=1e-12)


def test_srf_ceiling_by_hand() -> None:
    # alpha 0, beta 10 bp, gamma 10/tn, x_ref 1: at x = 0.8 the curve gives 10 e^2 = 73.9 bp.
    # Ceiling = SRF - IORB + wedge = 10 + 10 = 20 bp, reached at x = 1 - ln(2)/10 = 0.930685:
    # take-up 0.130685 tn. With capacity 0.05 tn: spread 10 e^{1.5} = 44.817 bp.
    kw = dict(curve_floor_bp=0.0, curve_scale_bp=10.0, curve_decay_per_tn=10.0, liquidity_ref_tn=1.0)
    day = _day(iorb_pct=4.40, onrrp_rate_pct=4.30, srf_rate_pct=4.50)
    out = fm.clear(_params(**kw, scarcity_slope_bp_per_bn=0.0), jnp.asarray(0.8), jnp.asarray(3.0), day)
    assert float(out.srf_takeup) == pytest.approx(0.2 - math.log(2) / 10, abs=1e-9)
    assert float(out.spread_bp) == pytest.approx(20.0, abs=1e-6)
    capped = _params(**kw, scarcity_slope_bp_per_bn=0.0, srf_capacity_tn=0.05)
    out = fm.clear(capped, jnp.asarray(0.8), jnp.asarray(3.0), day)
    assert float(out.srf_takeup) == pytest.approx(0.05, abs=1e-12)
    assert float(out.spread_bp) == pytest.approx(10 * math.exp(1.5), rel=1e-9)
    # before July 2021 (srf_rate = inf) nothing caps the rate
    out = fm.clear(_params(**kw, scarcity_slope_bp_per_bn=0.0), jnp.asarray(0.8), jnp.asarray(3.0), _day())
    assert float(out.srf_takeup) == 0.0
    assert float(out.spread_bp) == pytest.approx(10 * math.exp(2.0), rel=1e-9)


def test_rising_srf_ceiling_meets_the_curve() -> None:
    # same market as above with a ceiling rising 0.1 bp per USD bn used: the take-up solves
    # 10 e^{-10 (0.8 + q - 1)} = 20 + 100 q  (q in tn): less than the flat 0.1307, spread above 20
    kw = dict(curve_floor_bp=0.0, curve_scale_bp=10.0, curve_decay_per_tn=10.0, liquidity_ref_tn=1.0)
    day = _day(iorb_pct=4.40, onrrp_rate_pct=4.30, srf_rate_pct=4.50)
    p = _params(**kw, scarcity_slope_bp_per_bn=0.0, srf_slope_bp_per_bn=0.1)
    out = fm.clear(p, jnp.asarray(0.8), jnp.asarray(3.0), day)
    q = float(out.srf_takeup)
    assert 10 * math.exp(-10 * (q - 0.2)) == pytest.approx(20 + 100 * q, rel=1e-9)
    assert 0.09 < q < 0.2 - math.log(2) / 10
    assert float(out.spread_bp) == pytest.approx(20 + 100 * q, rel=1e-9)


def test_step_books_every_dollar_and_times_the_windows() -> None:
    # Morning: clear on the opening balance; afternoon: a USD 100bn tax date moves reserves into
    # the TGA, money funds put 20bn into the ON RRP. Reserves 1.50 -> 1.38, TGA 0.30 -> 0.40.
    p = _params()
    s0 = fm.FundingState(*(jnp.asarray(v) for v in (1.50, 0.01, 0.30, 0.0, 0.0)))
    day = _day(treasury_net_receipts=0.10, onrrp_change=0.02, coupon_settlement=0.078)
    s1, flows, out = fm.step(p, s0, day)
    assert float(s1.reserves) == pytest.approx(1.38, abs=1e-12)
    assert float(s1.tga) == pytest.approx(0.40, abs=1e-12)
    assert float(s1.onrrp) == pytest.approx(0.03, abs=1e-12)
    assert float(s1.settle_inventory) == pytest.approx(0.078, abs=1e-12)
    # the morning saw the opening 1.50 + 0.01 - 0.078 of liquidity, not the afternoon's drain
    assert float(out.liquidity) == pytest.approx(1.51 - 0.078, abs=1e-12)
    np.testing.assert_allclose(np.asarray(flows.amount), [0.10, 0.02, 0.0, 0.0], atol=1e-15)
    # next morning the drained balance (1.38 + 0.03 < threshold 1.4953) spikes the rate
    s2, _, out2 = fm.step(p, s1, _day())
    assert float(out2.spread_bp) > 500.0
    assert float(s2.reserves + s2.tga + s2.onrrp) == pytest.approx(float(s0.reserves + s0.tga + s0.onrrp))


def test_srf_loan_is_repaid_next_morning_and_conserves_cash() -> None:
    p = fm.FundingConfig.preset("2025").params()
    s0 = fm.FundingState(*(jnp.asarray(v) for v in (2.70, 0.0, 0.9, 0.0, 0.0)))
    day = _day(iorb_pct=3.90, onrrp_rate_pct=3.80, srf_rate_pct=4.00)
    s1, f1, o1 = fm.step(p, s0, day)
    assert float(o1.srf_takeup) > 0.0
    assert float(s1.srf_loans) == float(o1.srf_takeup)
    s2, f2, _ = fm.step(p, s1, day)
    assert float(f2.amount[3]) == float(o1.srf_takeup)  # dealers -> fed repayment
    # reserves + TGA + RRP change only by the Fed's net lending (its balance sheet)
    total = lambda s: float(s.reserves + s.tga + s.onrrp)  # noqa: E731
    assert total(s2) - total(s0) == pytest.approx(float(s2.srf_loans), abs=1e-12)


def test_step_is_vmappable_over_scenarios() -> None:
    cfgs = [fm.FundingConfig(), fm.FundingConfig(scarcity_slope_bp_per_bn=3.0)]
    params = jax.tree.map(lambda *a: jnp.stack(a), *(c.params() for c in cfgs))
    s0 = fm.FundingState(*(jnp.asarray([v, v]) for v in (1.47, 0.0, 0.3, 0.0, 0.0)))
    day = jax.tree.map(lambda a: jnp.stack([a, a]), _day())
    _, _, out = jax.jit(jax.vmap(fm.step))(params, s0, day)
    # 1.4953 - 1.47 = 25.3 bn short: 253 bp vs 75.9 bp of wall on top of the same curve
    diff = float(out.spread_bp[0] - out.spread_bp[1])
    assert diff == pytest.approx((10.0 - 3.0) * 25.3, rel=1e-6)


def test_unknown_regime_is_one_clear_error() -> None:
    with pytest.raises(BasislabError, match="unknown funding regime"):
        fm.FundingConfig.preset("1929")


@pytest.fixture(scope="module")
def data_2019() -> fm.ReplayData:
    return fm.load_2019()


def test_replay_inputs_2019(data_2019: fm.ReplayData) -> None:
    f = data_2019.frame
    # 16 Sep 2019 settles the 3y (38), 10y reopening (24) and 30y reopening (16): USD 78bn
    assert f.loc["2019-09-16", "settlement"] == pytest.approx(0.078)
    # the tax date and settlement drain the opening balance of the 17th by over USD 60bn
    assert f.loc["2019-09-16", "reserves"] - f.loc["2019-09-17", "reserves"] > 0.06
    # observed SOFR - IOER is kept only as the target: 525 - 210 = 315 bp
    assert f.loc["2019-09-17", "observed_bp"] == pytest.approx(315.0)
    assert "observed_bp" not in fm.FundingDay._fields


def test_calm_calibration_reproduces_the_shipped_defaults(data_2019: fm.ReplayData) -> None:
    cfg = fm.calibrate(data_2019.window("2018-04-03", "2019-07-31"))
    shipped = fm.FundingConfig()
    for name in ("curve_floor_bp", "curve_scale_bp", "curve_decay_per_tn", "scarcity_threshold_tn"):
        assert getattr(cfg, name) == pytest.approx(getattr(shipped, name), rel=2e-3, abs=2e-3), name


def test_september_2019_spikes_out_of_sample_and_calm_2019_does_not(data_2019: fm.ReplayData) -> None:
    cfg = fm.FundingConfig()  # fitted on 2018-04..2019-07 only
    _, calm = fm.evaluate(cfg, data_2019.window("2019-01-02", "2019-06-28"))
    table, sep = fm.evaluate(cfg, data_2019.window("2019-08-01", "2019-10-31"))
    assert calm.rmse_bp < 10.0
    assert calm.model_peak_bp < 40.0  # month-end settlements move it, nothing spikes
    assert sep.model_peak_date == "2019-09-17" == sep.observed_peak_date
    assert 150.0 < sep.model_peak_bp < 500.0  # observed 315 bp
    assert table.loc["2019-09-13", "model_bp"] < 20.0  # the Friday before was calm


def test_late_2025_pressure_out_of_sample() -> None:
    data = fm.load_2025()
    cfg = fm.calibrate(
        data.window("2024-07-01", "2025-08-29"), fm.FundingConfig(scarcity_slope_bp_per_bn=0.0)
    )
    shipped = fm.FundingConfig.preset("2025")
    assert cfg.curve_decay_per_tn == pytest.approx(shipped.curve_decay_per_tn, rel=5e-3)
    calm_table, calm = fm.evaluate(cfg, data.window("2024-07-01", "2025-08-29"))
    table, late = fm.evaluate(cfg, data.window("2025-09-02", "2025-12-31"))
    assert calm_table.model_bp.mean() < -3.0  # reserves ample: SOFR below IORB
    assert table.loc["2025-10-15":"2025-12-31", "model_bp"].mean() > 5.0  # observed mean +7
    assert late.rmse_bp < 15.0
    # the SRF caps it: SRF 10 bp over IORB plus the 10 bp wedge
    assert late.model_peak_bp == pytest.approx(20.0, abs=1e-6)


def test_summary_table_of_the_shipped_presets() -> None:
    table = fm.summary()
    assert list(table.index) == [w[1] for w in fm.REPLAY_WINDOWS]
    sep = table.loc["Sep 2019 (out of sample)"]
    assert sep.model_peak_date == sep.observed_peak_date == "2019-09-17"
    assert table.loc["calm 2019 H1 (fit)", "model_peak_bp"] < 40.0
    assert table.loc["Sep-Dec 2025 (out of sample)", "rmse_bp"] < 15.0


def test_every_parameter_names_its_source() -> None:
    for name, field in fm.FundingConfig.model_fields.items():
        assert (field.json_schema_extra or {}).get("source"), name
