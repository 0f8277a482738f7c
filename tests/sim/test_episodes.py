"""Episode replays (basislab.sim.episodes): point in time, inputs kept apart from outputs, the
``simulate EPISODE --json`` object, and a calm market that does not cry wolf."""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pandas as pd
import pytest

from basislab.data import pointintime
from basislab.sim import episodes as E

METRIC_KEYS = {
    "hf_treasury_net_sales_usd_bn",
    "hf_gross_exposure_change_usd_bn",
    "hf_exposure_change_pct",
    "hf_return_pct",
    "implied_repo_minus_sofr_bp",
    "max_sofr_minus_iorb_bp",
    "max_sofr_minus_iorb_date",
    "fed_treasury_purchases_usd_bn",
    "fed_repo_peak_usd_bn",
    "dealer_slr_utilisation_peak",
    "fund_defaults",
    "forced_sales_share_of_book_pct",
    "audit_max_residual",
}
TOP_KEYS = {"scenario", "window", "paths", "seed", "metrics", "counterfactuals", "notes"}


@pytest.fixture(scope="module")
def mar(con):
    return E.build("mar-2020", con=con)


@pytest.fixture(scope="module")
def mar_replay(mar):
    return E.replay("mar-2020", er=mar)


@pytest.fixture(scope="module")
def calm_replay(con):
    return E.replay("calm-2019h1", er=E.build("calm-2019h1", con=con))


@pytest.mark.parametrize("key", ["calm-2019h1", "mar-2020", "late-2025"])
def test_sized_and_priced_point_in_time(con, key):
    """Every value sizing or pricing the run was published by the end of the run-start day, the run
    starts 20 business days before the window, and the scenario carries the data's book and rates."""
    er = E.build(key, con=con)
    ic = er.data.initial_conditions
    for name, src in ic["sources"].items():
        when = src.get("known_on") if isinstance(src, dict) else None
        if when is not None:
            assert pd.Timestamp(when).date() <= er.run_start, (name, src)
    assert (
        er.dates[0] > er.run_start and len([d for d in er.dates if d < er.window[0]]) == 19
    )  # + the start day
    pos = ic["basis_positions_usd_bn"]
    assert er.scenario.funds.total_position_usd_bn == pytest.approx(sum(pos.values()))
    assert er.scenario.market.sofr_pct == ic["sofr_pct"] and er.scenario.market.iorb_pct == ic["iorb_pct"]
    # the CTD proxies are priced on the last curve on or before the run start
    from basislab.data.feeds import par_curve_wide, par_yield_at

    wide = par_curve_wide(con)
    y, used = par_yield_at(wide, [er.run_start], 7.0)
    assert pd.Timestamp(used[0]).date() <= er.run_start
    assert er.scenario.market.buckets["10y"].ctd_yield_pct == pytest.approx(y[0])


def test_mar2020_reserves_fallback_is_stated_not_lookahead(mar):
    """March 2020: the March reserves average (USD 2,099bn, published in April) is not used; the
    latest published monthly average is, with a warning (docs/data.md)."""
    ic = mar.data.initial_conditions
    assert ic["reserves_usd_bn"] == pytest.approx(1698.3)
    assert any("reserves" in w for w in mar.warnings)
    src = ic["sources"]["reserves_usd_bn"]
    assert pointintime.known_on("TOTRESNS", pd.Timestamp(src["date"]).date()) <= mar.run_start


def test_inputs_and_outputs_disjoint():
    """No observed series is an input of any preset; every input says how the engine uses it."""
    from basislab.data import episodes as D

    for key in E.names():
        spec = D.episode(key)
        D.check_disjoint(spec)
        assert not set(spec.inputs) & set(spec.observed)
        assert set(spec.inputs) <= set(E.INPUT_STATUS)
        assert not set(E.OUTPUTS) & set(spec.inputs)


def test_news_is_the_par_curve_change_times_the_share(mar):
    """dy = news_share x the observed par change on each run day (bp -> decimal), long <- 30y; no
    news after the window (the futures deliver on the last day); the S&P move spread over 10-18 March."""
    par = mar.data.inputs["par_curve_change_bp"]
    dy = np.asarray(mar.params.market.dy)
    d = dt.date(2020, 3, 9)
    i = mar.dates.index(d)
    assert dy[i, 2] * 1e4 == pytest.approx(par.loc[pd.Timestamp(d), "10y"] * mar.preset.news_share)
    assert dy[i, 3] * 1e4 == pytest.approx(par.loc[pd.Timestamp(d), "30y"] * mar.preset.news_share)
    after = np.array(mar.dates) > mar.window[1]
    assert np.all(dy[after] == 0)
    dother = np.asarray(mar.params.market.dother)  # [T, A]: equities, credit
    assert math.expm1(dother[:, 0].sum()) * 100 == pytest.approx(-12.7)
    assert np.count_nonzero(dother[:, 0]) == 7  # business days 10..18 March 2020
    # credit: ICE BofA IG +202bp (ig_hy_spreads_mar2020) from 19 February to 18 March, at the
    # preset's spread duration (7 years): a log price return of -7 x 0.0202 = -0.1414
    assert dother[:, 1].sum() == pytest.approx(-mar.scenario.market.credit_duration_years * 0.0202)
    assert np.count_nonzero(dother[:, 1]) == 20  # business days 20 February .. 18 March 2020
    # the observed futures (an output) do not enter: halving them leaves the params unchanged
    obs = mar.data.observed["futures_front_month"]
    mar.data.observed["futures_front_month"] = obs.assign(close=obs["close"] / 2)
    try:
        again = E.with_news(mar.params, mar.news_bp, mar.preset.news_share, mar.preset.residual_vol)
        assert np.array_equal(np.asarray(again.market.dy), dy)
    finally:
        mar.data.observed["futures_front_month"] = obs


def _walk(obj, path=""):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _walk(v, f"{path}.{k}" if path else k)
    else:
        yield path, obj


def test_simulate_json_object_exact_keys_and_finite_or_null(mar_replay):
    out = json.loads(json.dumps(mar_replay, allow_nan=False))
    assert set(out) == TOP_KEYS
    assert out["window"] == {"start": "2020-03-02", "end": "2020-03-31"}
    assert set(out["metrics"]) == METRIC_KEYS
    assert set(out["counterfactuals"]) == {"no_fed", "backstop_to_funds"}
    for world in (out["metrics"], *out["counterfactuals"].values()):
        assert set(world) == METRIC_KEYS
        assert set(world["implied_repo_minus_sofr_bp"]) == {"2y", "5y", "10y", "long"}
        for b in world["implied_repo_minus_sofr_bp"].values():
            assert set(b) == {"baseline", "peak", "peak_date"}
    for path, v in _walk(out["metrics"]):
        assert v is None or isinstance(v, str) or math.isfinite(v), path
        if v is None:  # every null says why
            assert path.split(".")[0] in out["notes"]["null_reasons"], path
    assert out["metrics"]["audit_max_residual"] < 1e-9


def test_mar2020_sells_no_less_than_calm_and_the_backstop_never_adds_sales(mar_replay, calm_replay):
    """March 2020 forces at least the calm half-year's share of sales; lending to the funds (the
    backstop_to_funds world) never makes them sell more. (How much stress the replay shows depends
    on the engine's sellers, issue 10: docs/calibration.md.)"""
    m = mar_replay["metrics"]
    assert (
        m["forced_sales_share_of_book_pct"] >= calm_replay["metrics"]["forced_sales_share_of_book_pct"] - 1e-9
    )
    bs = mar_replay["counterfactuals"]["backstop_to_funds"]
    assert bs["forced_sales_share_of_book_pct"] <= m["forced_sales_share_of_book_pct"] + 1e-9
    assert bs["fund_defaults"] <= m["fund_defaults"] + 1e-9


def test_implied_repo_baseline_matches_the_model_construction(mar_replay):
    """Before the window the futures are priced at carry less a net basis of 0.2% p.a.
    (basis_return_2018_2020) on repo at SOFR plus 0.74 x 5bp: implied repo - SOFR about 24bp."""
    for b in ("2y", "5y", "10y", "long"):
        assert 10 < mar_replay["metrics"]["implied_repo_minus_sofr_bp"][b]["baseline"] < 35


def test_calm_2019_does_not_cry_wolf(calm_replay):
    """A calm half-year: forced sales a small share of the book and no fund defaults."""
    m = calm_replay["metrics"]
    assert m["forced_sales_share_of_book_pct"] < 10
    assert m["fund_defaults"] < 0.5
    assert m["hf_return_pct"] > -10


def test_unknown_episode_and_plain_scenario_refused():
    from basislab.errors import ScenarioError
    from basislab.sim import load_scenario

    with pytest.raises(ScenarioError, match="episodes: calm-2019h1"):
        E.build("mar-2021")
    with pytest.raises(ScenarioError, match="basislab simulate mar-2020"):
        load_scenario("mar-2020")


def test_funding_market_and_fed_inputs_fill_the_params(con, mar):
    """build() fills params.funding and params.fed.scheduled_purchases from sim.episode_inputs
    (the Fed's actions as they happened are inputs; observed SOFR never enters)."""
    f = mar.params.funding
    assert float(f.reserves0) == pytest.approx(mar.funding.reserves0)
    assert float(f.tga0) == pytest.approx(mar.funding.tga0) and float(f.onrrp0) == pytest.approx(
        mar.funding.onrrp0
    )
    other = mar.funding.extra["fed_other_assets_change"]
    for name, v in mar.funding.days.items():
        # the Fed's other assets as they happened (swap lines, facilities) add to reserves
        want = v - other if name == "treasury_net_receipts" else v
        assert np.allclose(np.asarray(getattr(f.days, name)), want, rtol=0, atol=1e-15), name
    assert other.sum() > 0.3  # mar-2020: swap lines and facilities, USD tn over the run
    assert np.array_equal(np.asarray(mar.params.fed.scheduled_purchases), mar.fed_purchases)
    assert mar.scenario.funding.regime == "2019" and not mar.scenario.funding.srf_access
    assert float(np.asarray(f.curve.liquidity_ref_tn)) == pytest.approx(1.836)
    late = E.build("late-2025", con=con)
    assert late.scenario.funding.regime == "2025" and late.scenario.funding.srf_access
    assert not np.asarray(late.params.fed.scheduled_purchases).any()
    nf = E.without_fed(mar.params)
    assert not np.asarray(nf.fed.scheduled_purchases).any() and not np.asarray(nf.funding.days.fed_repo).any()
    assert not np.asarray(nf.fed.enabled).any() and (np.asarray(nf.funding.days.srf_rate_pct) >= 1e6).all()


def test_mar2020_fed_and_funding_metrics_are_the_models(mar, mar_replay):
    """The Fed's purchases in the window are the as-happened schedule (745bn against the H.4.1 change
    of 818bn, 11 Mar-1 Apr; Fleming & Ruela: ~775bn 15-31 March), its repo peak the input's (no SRF
    in 2020); the no_fed world has neither."""
    m, nf = mar_replay["metrics"], mar_replay["counterfactuals"]["no_fed"]
    w = mar.window_mask
    assert m["fed_treasury_purchases_usd_bn"] == pytest.approx(mar.fed_purchases[w].sum(), rel=0.02)
    assert 600 < m["fed_treasury_purchases_usd_bn"] < 900
    assert m["fed_repo_peak_usd_bn"] == pytest.approx(1000 * mar.funding.days["fed_repo"][w].max())
    assert nf["fed_treasury_purchases_usd_bn"] == 0 and nf["fed_repo_peak_usd_bn"] == 0
    assert (
        m["max_sofr_minus_iorb_bp"] is not None
        and "2020-03-02" <= m["max_sofr_minus_iorb_date"] <= "2020-03-31"
    )
    assert nf["max_sofr_minus_iorb_bp"] >= m["max_sofr_minus_iorb_bp"] - 1e-9  # the Fed's repo only adds cash
    assert 0 < m["dealer_slr_utilisation_peak"] < 2
    assert not {"max_sofr_minus_iorb_bp", "fed_repo_peak_usd_bn"} & set(mar_replay["notes"]["null_reasons"])


def test_calm_2019_funding_market_does_not_cry_wolf(calm_replay):
    """Calm 2019 H1 (observed SOFR - IORB at most 75bp, on the 2 Jan year turn): the model's
    funding market stays calm, without any Fed operation."""
    m = calm_replay["metrics"]
    assert m["max_sofr_minus_iorb_bp"] < 50
    assert m["fed_repo_peak_usd_bn"] == 0 and m["fed_treasury_purchases_usd_bn"] == 0
