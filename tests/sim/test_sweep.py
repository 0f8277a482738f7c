"""Parameter sweeps: grid parsing, local runs, and the same table from a Ray cluster."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from basislab.errors import ScenarioError
from basislab.sim.sweep import grid_points, parse_grid, sweep

SMALL = ["funds.count=8", "horizon_days=20", "shock.start_day=2", "shock.duration_days=4"]
GRID = {"repo.bilateral.haircut_pct": [0, 2]}


def test_parse_grid_and_points():
    g = parse_grid(["a.b=1,2", "c=x, y ,z"])
    assert g == {"a.b": ["1", "2"], "c": ["x", "y", "z"]}
    pts = grid_points(g)
    assert len(pts) == 6 and pts[0] == {"a.b": "1", "c": "x"} and pts[-1] == {"a.b": "2", "c": "z"}


@pytest.mark.parametrize("bad", [["nothing"], ["a="], ["=1,2"], ["a=1", "a=2"], []])
def test_parse_grid_rejects(bad):
    with pytest.raises(ScenarioError):
        parse_grid(bad)


def test_bad_point_is_refused_before_running():
    with pytest.raises(ScenarioError, match="funds.count"):
        sweep("seed-thesis", {"funds.count": [8, 0]}, overrides=SMALL, paths=2)


@pytest.fixture(scope="module")
def local_table():
    return sweep("seed-thesis", GRID, overrides=SMALL, paths=4, seed=1)


def test_local_sweep_rows_and_effect(local_table):
    t = local_table
    assert list(t["variant"]) == ["without_backstop", "with_backstop"] * 2
    assert list(t["repo.bilateral.haircut_pct"]) == ["0", "0", "2", "2"]
    assert (t["audit_max_residual"] < 1e-9).all()
    # a positive bilateral haircut means less leverage: fewer forced sales without a backstop
    wo = t[t["variant"] == "without_backstop"].set_index("repo.bilateral.haircut_pct")
    assert wo.loc["2", "forced_cash_sales_usd_bn"] < wo.loc["0", "forced_cash_sales_usd_bn"]


@pytest.mark.slow
def test_ray_sweep_gives_the_same_table(local_table):
    ray_table = sweep("seed-thesis", GRID, overrides=SMALL, paths=4, seed=1, backend="ray")
    pd.testing.assert_frame_equal(local_table, ray_table)


def test_cli_sweep_json():
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "basislab",
            "sweep",
            "seed-thesis",
            "-g",
            "backstop.ltv_pct=5,10",
            *sum((["--set", s] for s in SMALL), []),
            "--paths",
            "2",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [r["backstop.ltv_pct"] for r in rows] == ["5", "5", "10", "10"]


def test_cli_sweep_bad_grid_exits_2():
    out = subprocess.run(
        [sys.executable, "-m", "basislab", "sweep", "seed-thesis", "-g", "oops"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 2 and "--grid" in out.stderr and "Traceback" not in out.stderr
