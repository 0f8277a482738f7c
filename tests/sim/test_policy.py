"""Policy lab (issue 14, item 1): lever registry, survival maps in one compilation, the delay
emulation against the engine's own runner, and what must follow from the model."""

from __future__ import annotations

import numpy as np
import pytest

from basislab import sim
from basislab.errors import BasislabError
from basislab.sim import policy as pol

#: tiny and shared by every map below (one Static: funds 8, 20 days, shock days 3..8)
TINY = {"paths": 4, "funds": 8, "steps": 20}
SHOCK = ("shock.start_day=3", "shock.duration_days=5")


def tiny_map(x, y, **kw):
    return pol.policy_map("seed-thesis", x, y, overrides=SHOCK, seed=7, **{**TINY, **kw})


# -- registry ------------------------------------------------------------------------------------


def test_every_lever_names_units_range_and_source():
    for lv in pol.LEVERS.values():
        assert lv.units and lv.source and lv.maps_to and lv.lo < lv.hi
        live = lv.scenario is not None or lv.params is not None or lv.day_path is not None
        assert live != (lv.missing is not None), lv.name  # live xor refused, never silently inert
    for name in ("shock", "fed_delay_h", "haircut_floor", "im_buffer", "clearing_mandate", "leverage_cap"):
        assert pol.LEVERS[name].missing is None


def test_issue10_levers_reach_the_engine():
    """The SRF and SLR levers are live: each edits the scenario fields the engine reads."""
    from basislab.sim import scenario as sc_mod

    base = sc_mod.raw_scenario("seed-thesis")
    for name, v, check in (
        ("srf_rate_bp", 35.0, lambda s: s.funding.srf_access and s.funding.srf_spread_bp == 35.0),
        ("slr_exemption", 1.0, lambda s: s.dealers.slr_exempt),
        ("slr_exemption", 0.0, lambda s: not s.dealers.slr_exempt),
        ("srf_access", 1.0, lambda s: s.backstop.enabled and s.backstop.trigger_bp is None),
        ("srf_access", 0.0, lambda s: not s.backstop.enabled),
    ):
        lv = pol.LEVERS[name]
        assert lv.missing is None and lv.scenario is not None
        data = sc_mod.apply_overrides(base, [])
        lv.scenario(data, v)
        assert check(sc_mod.validate(data)), (name, v)


def test_slr_exemption_lowers_dealer_utilisation_and_srf_rate_moves_the_ceiling():
    """SLR exemption (slr_exemption_2020): Treasuries and reserves leave exposure, so utilisation
    falls from the 10-Q level (JPM 3,404.5 / 4,296 = 0.79) by (60 + 300) / 4,296 = 0.084 for JPM
    and by 80 / 1,384 = 0.058 for Morgan Stanley. A higher SRF rate raises the ceiling SOFR sits at in
    late-2025 conditions (reserves 2,809.5bn: the 2025 curve is above the IORB + 10 + 10 bp ceiling)."""
    off = sim.simulate(
        sim.load_scenario(
            "seed-thesis",
            ["paths=2", "funds.count=8", "horizon_days=20", "shock.start_day=3", "shock.duration_days=5"],
        )
    )
    on = sim.simulate(
        sim.load_scenario(
            "seed-thesis",
            [
                "paths=2",
                "funds.count=8",
                "horizon_days=20",
                "shock.start_day=3",
                "shock.duration_days=5",
                "dealers.slr_exempt=true",
                "funding.srf_spread_bp=30",
            ],
        )
    )
    u_off, u_on = off.raw.outputs["dealer_slr_utilisation"], on.raw.outputs["dealer_slr_utilisation"]
    # plus JPM's share (4,296 / 5,680) of the 24.57bn of SRF loans on-lent that morning (tests/sim/test_srf.py)
    assert u_off[0, 0] == pytest.approx((3404.5 + 4296 / 5680 * 24.57) / (214.8 / 0.05), abs=2e-3)
    # the largest is then Morgan Stanley's: (1,091.5 - 30 - 50) / (69.2 / 0.05) = 0.731 (JPM 0.709)
    assert u_on[0, 0] == pytest.approx((1091.5 - 80.0) / (69.2 / 0.05), abs=2e-3)
    s_off, s_on = off.raw.outputs["sofr_minus_iorb_bp"][0, 0], on.raw.outputs["sofr_minus_iorb_bp"][0, 0]
    # the curve meets the SRF's rising cost IORB + 10 + 10 bp wedge + 0.2383 bp per bn (tests/sim/test_srf.py)
    assert s_off == pytest.approx(25.86, abs=0.5)
    assert s_on == pytest.approx(40.0, abs=0.5) or s_on < 40.0  # the curve itself may sit below 40
    assert s_on > s_off + 5.0


@pytest.mark.parametrize(
    "text, match",
    [
        ("nope=1,2", "unknown lever 'nope'"),
        ("shock", "expected LEVER=v1"),
        ("shock=", "expected LEVER=v1"),
        ("shock=a,b", "not numbers|must be numbers"),
        ("shock=1,1", "repeat"),
        ("shock=-1,1", "out of range"),
        ("haircut_floor=0,50", "out of range"),
        ("shock=0:1:0", "n must be"),
    ],
)
def test_bad_axes_are_one_line_errors(text, match):
    with pytest.raises(BasislabError, match=match) as exc:
        pol.parse_axis(text)
    assert "\n" not in str(exc.value)


def test_axis_range_syntax():
    assert pol.parse_axis("shock=0.25:2.5:10") == ("shock", [0.25 * i for i in range(1, 11)])
    assert pol.parse_axis("fed_delay_h=0,24,72") == ("fed_delay_h", [0.0, 24.0, 72.0])


def test_standard_survival_grid_is_the_issue_s():
    g = pol.STANDARD_GRIDS["survival"]
    assert g["x"][0] == "shock" and g["x"][1][0] == 0.25 and g["x"][1][-1] == 2.5 and len(g["x"][1]) == 10
    assert g["y"][0] == "fed_delay_h" and g["y"][1][0] == 0 and g["y"][1][-1] == 72 and len(g["y"][1]) == 10
    assert (g["paths"], g["funds"], g["steps"]) == (64, 100, 60)


@pytest.mark.parametrize(
    "hours, day", [(0, 5), (1, 6), (7, 6), (8, 6), (24, 6), (24.5, 7), (48, 7), (72, 8), (240, 15)]
)
def test_delay_hours_map_to_the_first_morning_at_or_after_trigger_plus_delay(hours, day):
    # trigger: the shock's first morning (day 5, 09:00); mornings every 24 h after it
    assert pol.delay_days(5, hours) == day


def test_levers_edit_the_scenario_as_documented():
    base = pol._base("seed-thesis", 8, 20, SHOCK)
    p1, s1, on1, sc1 = pol.point_engine(base, {"shock": 2.0, "haircut_floor": 3.0})
    assert sc1.shock.yield_bp["10y"] == 2 * base.shock.yield_bp["10y"]
    assert sc1.shock.cash_dislocation_bp["long"] == 2 * base.shock.cash_dislocation_bp["long"]
    assert (
        sc1.repo.bilateral.haircut_pct == 3.0
        and sc1.repo.triparty.haircut_pct == base.repo.triparty.haircut_pct
    )
    assert np.all(on1 == 1) and not sc1.backstop.enabled
    p2, s2, on2, sc2 = pol.point_engine(base, {"fed_delay_h": 30.0, "im_buffer": 1.25})
    if pol.ENGINE_DELAY:  # the engine's own trigger and delay (issue 10)
        assert sc2.backstop.enabled and sc2.backstop.delay_hours == 30.0 and np.all(on2 == 1)
        assert sc2.backstop.trigger_bp == (base.backstop.trigger_bp or pol.DELAY_TRIGGER_BP)
    else:
        assert sc2.backstop.enabled and list(np.flatnonzero(on2 == 0)) == list(range(5))  # days 0..4 off
    p0, _, _, _ = pol.point_engine(base, {"shock": 1.0})
    assert np.allclose(np.asarray(p2.ccp.im_floor), 1.25 * np.asarray(p0.ccp.im_floor))
    _, _, _, sc3 = pol.point_engine(base, {"clearing_mandate": 0.5, "leverage_cap": 20.0})
    assert sc3.funds.bilateral_share == pytest.approx(0.5 * base.funds.bilateral_share)
    assert sc3.funds.leverage_median == 20.0
    assert s1 == s2  # levers move numbers, never shapes


# -- maps ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def delay_map():
    return tiny_map(("shock", [0.0, 1.0, 6.0]), ("fed_delay_h", [0.0, 24.0, 480.0]))


def test_a_grid_compiles_once_and_a_second_grid_of_the_same_shape_not_at_all(delay_map):
    assert delay_map.compiles == 1
    again = tiny_map(("shock", [0.5, 1.5, 2.5]), ("fed_delay_h", [0.0, 30.0, 60.0]))
    assert again.compiles == 0
    assert delay_map.per_path["fund_defaults"].shape == (3, 3, 4)


def test_delay_zero_is_the_engine_s_own_backstop_run(delay_map):
    """With the trigger on day 0, the gated runner at delay 0 equals the engine's simulate_path
    with the backstop on from the start; a delay past the horizon lends nothing. (With the shock
    on day 3 the two differ where funds draw in the calm days before the trigger.)"""
    at0 = ("shock.start_day=0", "shock.duration_days=5")
    if pol.ENGINE_DELAY:  # the same scenario reached through the lever or through --set
        at0 = (*at0, f"backstop.trigger_bp={pol.DELAY_TRIGGER_BP}", "backstop.delay_hours=0")
    gated = pol.policy_map(
        "seed-thesis",
        ("shock", [0.0, 1.0, 6.0]),
        ("fed_delay_h", [0.0, 24.0, 480.0]),
        overrides=at0,
        seed=7,
        **TINY,
    )
    ltv = pol.policy_map(
        "seed-thesis",
        ("shock", [0.0, 1.0, 6.0]),
        ("backstop_ltv", [10.0, 5.0, 20.0]),
        overrides=at0,
        seed=7,
        **TINY,
    )
    assert gated.compiles == 0  # the shape of delay_map: one executable serves both
    for k in ("fund_defaults", "forced_sales_usd_bn", "basis_peak_bp", "backstop_peak_usd_bn"):
        np.testing.assert_allclose(gated.per_path[k][0], ltv.per_path[k][0], rtol=1e-12, atol=1e-12)
    assert np.all(delay_map.per_path["backstop_peak_usd_bn"][2] == 0.0)  # lends from day 23 of 20: never
    assert np.any(delay_map.per_path["backstop_peak_usd_bn"][0] > 0.0)


@pytest.fixture(scope="module")
def ltv_map():
    return tiny_map(("shock", [0.0, 1.0, 6.0]), ("backstop_ltv", [10.0, 5.0, 20.0]))


def test_map_point_equals_simulate(ltv_map):
    """A map point's numbers are SimResult.metrics() of the same scenario run by sim.simulate."""
    sc = sim.load_scenario(
        "seed-thesis",
        ["funds.count=8", "horizon_days=20", *SHOCK, "backstop.enabled=true", "compare_backstop=false"],
    )
    run = sim.simulate(sc, paths=4, seed=7)
    m, o = run.metrics(), run.raw.outputs
    delay_map = ltv_map  # row 0: backstop_ltv 10 (the preset's), column 1: shock 1x
    assert delay_map.mean("fund_defaults")[0, 1] == pytest.approx(m["fund_defaults"], abs=1e-6)
    assert delay_map.mean("forced_sales_usd_bn")[0, 1] == pytest.approx(
        m["forced_cash_sales_usd_bn"], abs=1e-6
    )
    assert delay_map.mean("backstop_peak_usd_bn")[0, 1] == pytest.approx(m["backstop_peak_usd_bn"], abs=1e-6)
    p0 = np.asarray(run.params.market.p0)
    b0 = p0 - p0 * np.exp(-np.asarray(run.params.market.rho))
    widen = ((b0 - o["gross_basis"]) / p0 * 1e4).max((1, 2))  # per path, over days and buckets
    np.testing.assert_allclose(delay_map.per_path["basis_peak_bp"][0, 1], widen, rtol=1e-12)


def test_a_larger_shock_sells_and_widens_more_on_the_same_paths(delay_map):
    """Scaling the sell-off (0 -> 1 -> 6 times March 2020), same seeds: the basis widens more on
    every path and the mean forced sales do not fall."""
    for row in range(3):
        basis = delay_map.per_path["basis_peak_bp"][row]
        assert np.all(basis[1] > basis[0]) and np.all(basis[2] > basis[1])
        sales = delay_map.mean("forced_sales_usd_bn")[row]
        assert sales[0] <= sales[1] <= sales[2]
        defaults = delay_map.mean("fund_defaults")[row]
        assert defaults[0] <= defaults[2]


def test_a_backstop_that_lends_sooner_never_lends_less_at_the_peak_no_shock(delay_map):
    peak = delay_map.mean("backstop_peak_usd_bn")
    assert peak[0, 2] > 0 and peak[2, 2] == 0.0


def test_same_lever_twice_and_bad_sizes_are_refused():
    with pytest.raises(BasislabError, match="same lever"):
        tiny_map(("shock", [1.0]), ("shock", [2.0]))
    with pytest.raises(BasislabError, match="paths"):
        tiny_map(("shock", [1.0]), ("haircut_floor", [0.0]), paths=0)


def test_to_xarray_and_dict_are_finite_and_shaped(delay_map):
    ds = delay_map.to_xarray()
    assert ds["unwind_share"].dims == ("y", "x") and ds["unwind_share_path"].shape == (3, 3, 4)
    assert ds.attrs["x_lever"] == "shock" and ds.attrs["compiles"] == 1
    d = delay_map.to_dict()
    assert np.all(np.isfinite(np.asarray(d["metrics"]["basis_peak_bp"]["mean"])))
    assert any("fed_delay_h" in n for n in d["notes"])


def test_store_and_report_round_trip(delay_map, tmp_path):
    from basislab.report.policy_report import write_policy_report
    from basislab.sim.policy_store import list_policy_maps, load_policy_map, save_policy_map

    mid = save_policy_map(delay_map, tmp_path)
    assert list_policy_maps(tmp_path) == [mid]
    back = load_policy_map("latest", tmp_path)
    np.testing.assert_array_equal(back.per_path["unwind_share"], delay_map.per_path["unwind_share"])
    assert (back.x, back.y_values) == ("shock", delay_map.y_values)
    (tmp_path / "policy" / mid / "per_path.npz").write_bytes(b"garbage")
    with pytest.raises(BasislabError, match="damaged"):
        load_policy_map(mid, tmp_path)
    html = write_policy_report(delay_map, tmp_path / "map.html").read_text()
    assert html.count("plotly-graph-div") >= 4 and "fed_delay_h" in html


def test_dashboard_policy_page_shows_the_newest_stored_map(delay_map, tmp_path):
    from types import SimpleNamespace

    from basislab.sim.policy import dashboard_layout
    from basislab.sim.policy_store import save_policy_map

    ctx = SimpleNamespace(runs_dir=str(tmp_path))
    empty = str(dashboard_layout(ctx))
    assert "no survival map is stored yet" in empty and "Graph" not in empty
    mid = save_policy_map(delay_map, tmp_path)
    page = str(dashboard_layout(ctx))
    # one heatmap per measure of the map (defaults, forced sales, basis peak, backstop peak...)
    assert page.count("Graph(") >= 4 and mid in page and "fed_delay_h" in page
    (tmp_path / "policy" / mid / "map.json").write_text("{}")
    assert "damaged" in str(dashboard_layout(ctx)) or "incomplete" in str(dashboard_layout(ctx))
