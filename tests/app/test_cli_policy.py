"""``basislab policy`` and ``basislab distance``: strict JSON, the stored map and its report, and
bad input as one line with exit code 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

#: the sizes of tests/sim/test_policy.py (same compiled shapes: the JAX cache serves both)
SMALL = [
    "--paths",
    "4",
    "--funds",
    "8",
    "--steps",
    "20",
    "--seed",
    "7",
    "--set",
    "shock.start_day=3",
    "--set",
    "shock.duration_days=5",
]


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict:
    home = tmp_path_factory.mktemp("blpolicy")
    return {**os.environ, "BASISLAB_RUNS_DIR": str(home / "runs")}


def cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "basislab", *args], capture_output=True, text=True, timeout=600, env=env
    )


def strict(text: str):
    def bad(c):
        raise ValueError(f"non-strict JSON constant {c}")

    return json.loads(text, parse_constant=bad)


def test_policy_json_store_and_report(env, tmp_path):
    report = tmp_path / "map.html"
    r = cli(
        env,
        "policy",
        "seed-thesis",
        "--x",
        "shock=0,1,3",
        "--y",
        "fed_delay_h=0,24,480",
        *SMALL,
        "--json",
        "--report",
        str(report),
    )
    assert r.returncode == 0, r.stderr
    d = strict(r.stdout)
    assert d["x_lever"] == "shock" and d["y_values"] == [0.0, 24.0, 480.0]
    assert d["compiles"] <= 1 and d["paths"] == 4 and d["funds"] == 8 and d["steps"] == 20
    grid = d["metrics"]["backstop_peak_usd_bn"]["mean"]
    assert len(grid) == 3 and len(grid[0]) == 3 and grid[2] == [0.0, 0.0, 0.0]  # lends after the horizon
    assert set(d["metrics"]) >= {
        "fund_defaults",
        "forced_sales_usd_bn",
        "basis_peak_bp",
        "backstop_peak_usd_bn",
    }
    assert report.exists() and "plotly" in report.read_text()[:200000]
    stored = os.path.join(env["BASISLAB_RUNS_DIR"], "policy", d["id"], "map.json")
    assert strict(open(stored).read())["id"] == d["id"]


def test_policy_table_view(env):
    r = cli(
        env, "policy", "seed-thesis", "--x", "shock=0,1,3", "--y", "fed_delay_h=0,24,480", *SMALL, "--no-save"
    )
    assert r.returncode == 0, r.stderr
    assert (
        "fund_defaults" in r.stdout and "backstop_peak_usd_bn" in r.stdout and "note: fed_delay_h" in r.stdout
    )


def test_levers_listed_without_running(env):
    r = cli(env, "policy", "--levers")
    assert r.returncode == 0 and "haircut_floor" in r.stdout and "slr_exemption" in r.stdout


@pytest.mark.parametrize(
    "args, match",
    [
        (["--x", "nope=1", "--y", "shock=1"], "unknown lever 'nope'"),
        (["--x", "slr_exemption=0,2", "--y", "shock=1"], "out of range"),
        (["--x", "shock=1,x", "--y", "haircut_floor=0"], "numbers"),
        (["--x", "shock=99", "--y", "haircut_floor=0"], "out of range"),
        (["--x", "shock=1"], "--y"),
        (["--grid", "survival", "--x", "shock=1"], "not both"),
        (["--grid", "nope"], "unknown grid"),
        (["--x", "shock=1", "--y", "haircut_floor=0", "--paths", "0"], "--paths"),
        (["--x", "shock=1", "--y", "shock=2"], "same lever"),
    ],
)
def test_policy_bad_input_is_one_line_exit_2(env, args, match):
    r = cli(env, "policy", "seed-thesis", *args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert match in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_policy_needs_a_scenario(env):
    r = cli(env, "policy", "--x", "shock=1", "--y", "haircut_floor=0")
    assert r.returncode == 2 and "SCENARIO" in r.stderr


def test_distance_json_on_a_dated_book(env):
    r = cli(env, "distance", "--date", "2024-06-25", *SMALL, "--json")
    assert r.returncode == 0, r.stderr
    d = strict(r.stdout)
    assert d["date"] == "2024-06-25" and d["rounds"] < 10 and d["compiles"] <= 1
    from basislab.sim import load_scenario

    book = load_scenario("today@2024-06-25").funds.total_position_usd_bn  # CFTC leveraged-fund shorts
    assert d["book_usd_bn"] == pytest.approx(book, abs=1e-3) and 500 < book < 1500
    q = [v for v in d["threshold_multiplier"].values() if v is not None]
    assert q == sorted(q)


@pytest.mark.parametrize(
    "args, match",
    [
        (["--date", "2024-13-01"], "not a date"),
        (["--date", "2024-06-25", "--scenario", "seed-thesis"], "not both"),
        (["--paths", "0"], "--paths"),
    ],
)
def test_distance_bad_input_is_one_line_exit_2(env, args, match):
    r = cli(env, "distance", *args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert match in r.stderr and len(r.stderr.strip().splitlines()) == 1
