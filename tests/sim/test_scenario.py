"""Scenarios: presets, YAML, --set overrides, one clear line per wrong field, initial conditions."""

from __future__ import annotations

import pytest

from basislab import sim
from basislab.errors import ScenarioError
from basislab.sim.scenario import apply_overrides, load_scenario, scenario_from_initial_conditions, to_engine


def test_preset_loads_and_cites_sources():
    sc = load_scenario("seed-thesis")
    assert "seed-thesis" in sim.list_presets()
    assert sc.funds.total_position_usd_bn == 830.0 and sc.funds.leverage_median == 56.0
    assert sc.compare_backstop is True
    # every default of every section names its source
    for section in (sc.funds, sc.market, sc.clearing, sc.backstop, sc.shock, sc.players):
        for name, field in type(section).model_fields.items():
            if name in ("buckets",):
                continue
            extra = field.json_schema_extra or {}
            assert extra.get("source"), f"{type(section).__name__}.{name} has no source"


def test_engine_inputs_from_preset():
    p, s = to_engine(load_scenario("seed-thesis"))
    assert s.n_funds == 100 and s.n_steps == 60
    # CME IR232 factors of the representative CTDs are below 1 for coupons under 6%
    assert all(0.75 < cf < 1.0 for cf in p.market.cf)
    # duration rises with maturity; IM floors are the calm-market IM
    assert list(p.market.dmod) == sorted(p.market.dmod)
    assert 0.005 < p.ccp.im_floor[2] < 0.03  # TY: about 1.2-1.8% (cme_margin_ty_2011)
    assert p.market.dy.sum(0)[2] == pytest.approx(0.0064)  # ust10y_rise_mar9_18


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ("funds.leverage_median=0.5", "funds.leverage_median: Input should be greater than or equal to 1"),
        ("funds.count=0", "funds.count: Input should be greater than or equal to 1"),
        ("repo.bilateral.haircut_pct=-5", "repo.bilateral.haircut_pct"),
        ("shock.yield_bp={2y: .nan, 5y: 1, 10y: 1, long: 1}", "shock.yield_bp.2y"),
        ("funds.bucket_mix={2y: 0.5, 5y: 0.5, 10y: 0.5, long: 0.5}", "sum to 1"),
        ("funds.colour=blue", "funds.colour: Extra inputs are not permitted"),
        ("shock.start_day=58", "exceed horizon_days=60"),
    ],
)
def test_bad_parameters_get_one_clear_line(override, fragment):
    with pytest.raises(ScenarioError) as exc:
        load_scenario("seed-thesis", [override])
    msg = str(exc.value)
    assert fragment in msg
    assert msg.startswith("scenario 'seed-thesis': ")
    assert "\n" not in msg


def test_each_wrong_field_gets_its_own_line():
    with pytest.raises(ScenarioError) as exc:
        load_scenario("seed-thesis", ["funds.count=-1", "clearing.ewma_lambda=2"])
    lines = str(exc.value).splitlines()
    assert len(lines) == 2 and "funds.count" in lines[0] and "clearing.ewma_lambda" in lines[1]


def test_unknown_name_and_malformed_yaml(tmp_path):
    with pytest.raises(ScenarioError, match="unknown scenario 'no-such'.*seed-thesis"):
        load_scenario("no-such")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nfunds: [1, 2\n")
    with pytest.raises(ScenarioError, match=r"malformed YAML in bad.yaml at line \d+"):
        load_scenario(bad)
    notmap = tmp_path / "list.yaml"
    notmap.write_text("- 1\n- 2\n")
    with pytest.raises(ScenarioError, match="must hold a mapping"):
        load_scenario(notmap)
    with pytest.raises(ScenarioError, match="expected path.to.param=value"):
        apply_overrides({}, ["funds.count"])


def test_yaml_file_and_overrides(tmp_path):
    f = tmp_path / "mine.yaml"
    f.write_text("name: mine\nhorizon_days: 30\nfunds: {count: 7}\nshock: {start_day: 2}\n")
    sc = load_scenario(f, ["funds.count=9", "backstop.enabled=true"])
    assert sc.name == "mine" and sc.funds.count == 9 and sc.backstop.enabled and sc.horizon_days == 30
    assert sc.funds.total_position_usd_bn == 830.0  # default, cited bt_size_2025q3


def test_scenario_from_initial_conditions():
    ic = {
        "date": "2025-09-30",
        "basis_positions_usd_bn": {"2y": 300.0, "5y": 250.0, "10y": 200.0, "long": 50.0},
        "sofr_pct": 4.24,
        "iorb_pct": 4.15,
        "reserves_usd_bn": 3000.0,
        "onrrp_usd_bn": 20.0,
        "fed_treasury_holdings_usd_bn": 4200.0,
        "sources": {"sofr_pct": "NY Fed"},
    }
    sc = scenario_from_initial_conditions(ic)
    assert sc.name == "seed-thesis@2025-09-30"
    assert sc.funds.total_position_usd_bn == pytest.approx(800.0)
    assert sc.funds.bucket_mix == pytest.approx({"2y": 0.375, "5y": 0.3125, "10y": 0.25, "long": 0.0625})
    assert sc.market.sofr_pct == 4.24 and sc.market.iorb_pct == 4.15
    assert sc.context["reserves_usd_bn"] == 3000.0 and sc.context["sources"] == {"sofr_pct": "NY Fed"}
    p, _ = to_engine(sc)
    assert float(p.funds.total_position) == pytest.approx(800.0)
    with pytest.raises(ScenarioError, match="basis_positions_usd_bn"):
        scenario_from_initial_conditions({**ic, "basis_positions_usd_bn": {"2y": 1.0}})
    with pytest.raises(ScenarioError, match="lack sofr_pct"):
        scenario_from_initial_conditions({k: v for k, v in ic.items() if k != "sofr_pct"})
