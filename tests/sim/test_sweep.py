"""Parameter sweeps: grid parsing, local runs, and the same table from a Ray cluster."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from basislab.errors import ScenarioError
from basislab.sim.sweep import grid_points, parse_grid, sweep

#: thin fund liquidity, no stop-loss and 6x calm vol (the haircut schedule's stressed step binds),
#: so the small sell-off forces sales (issue 10: at the assumed 5% unencumbered cash and 3x vol it
#: forces none; docs/model.md section 11)
SMALL = [
    "funds.count=8",
    "horizon_days=20",
    "shock.start_day=2",
    "shock.duration_days=4",
    "funds.unencumbered_cash_pct=0",
    "funds.stop_loss_pct=100",
    "funds.credit_line_pct=0",
    "shock.vol_multiplier=6",
]
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
@pytest.mark.xdist_group("ray")  # one worker runs the Ray tests in turn (no cluster seen by both)
def test_ray_sweep_gives_the_same_table(local_table, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))  # Ray writes ~/.ray: keep it in the test's folder
    # resume=False: the local sweep's stored points must not stand in for the Ray run
    ray_table = sweep("seed-thesis", GRID, overrides=SMALL, paths=4, seed=1, backend="ray", resume=False)
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


def test_sweep_stores_each_point_and_resumes(tmp_path, monkeypatch, local_table):
    """An interrupted sweep keeps its finished points; run again, it runs only the rest and gives
    the same table as an uninterrupted sweep."""
    from basislab.sim import sweep as sweep_mod

    calls: list[dict] = []
    real = sweep_mod.run_point

    def counting(scenario, point, *a, **k):
        calls.append(dict(point))
        return real(scenario, point, *a, **k)

    monkeypatch.setattr(sweep_mod, "run_point", counting)

    def stop_after_first(_: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sweep(
            "seed-thesis", GRID, overrides=SMALL, paths=4, seed=1, store=tmp_path, progress=stop_after_first
        )
    assert sorted(p.name for p in tmp_path.glob("point-*.json")) == ["point-00000.json"]
    first = (tmp_path / "point-00000.json").stat().st_mtime_ns
    resumed: list[tuple[int, int]] = []
    table = sweep(
        "seed-thesis",
        GRID,
        overrides=SMALL,
        paths=4,
        seed=1,
        store=tmp_path,
        on_resume=lambda k, n, _: resumed.append((k, n)),
    )
    assert resumed == [(1, 2)]
    assert calls == [{"repo.bilateral.haircut_pct": "0"}, {"repo.bilateral.haircut_pct": "2"}]  # none twice
    assert (tmp_path / "point-00000.json").stat().st_mtime_ns == first
    pd.testing.assert_frame_equal(table, local_table)
    assert not list(tmp_path.glob(".tmp-*"))


def test_sweep_key_depends_on_everything():
    from basislab.sim.sweep import sweep_key

    base = sweep_key("seed-thesis", GRID, SMALL, 4, 1)
    assert base == sweep_key("seed-thesis", GRID, SMALL, 4, 1)
    assert base != sweep_key("seed-thesis", GRID, SMALL, 4, 2)
    assert base != sweep_key("seed-thesis", GRID, SMALL, 5, 1)
    assert base != sweep_key("seed-thesis", {"repo.bilateral.haircut_pct": [0, 3]}, SMALL, 4, 1)
    assert base != sweep_key("seed-thesis", GRID, [*SMALL, "funds.leverage_median=40"], 4, 1)


def test_second_copy_of_a_running_sweep_is_refused(tmp_path):
    from filelock import FileLock

    from basislab.errors import DataError

    with FileLock(str(tmp_path / ".lock")):
        with pytest.raises(DataError, match="already running"):
            sweep("seed-thesis", GRID, overrides=SMALL, paths=4, seed=1, store=tmp_path)


@pytest.mark.parametrize("address", ["127.0.0.1:9", "10.255.255.1:6379", "nonsense"])
def test_unreachable_ray_address_is_refused_quickly(address, tmp_path):
    import time

    t0 = time.monotonic()
    with pytest.raises(ScenarioError, match="Ray|--ray"):
        sweep("seed-thesis", GRID, overrides=SMALL, paths=2, backend="ray", address=address, store=tmp_path)
    assert time.monotonic() - t0 < 30


@pytest.mark.xdist_group("ray")
def test_ray_auto_without_a_cluster_is_one_line(tmp_path, monkeypatch):
    from ray._private import services

    monkeypatch.setenv("HOME", str(tmp_path))  # Ray writes ~/.ray
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    # Ray finds clusters by looking at this machine's processes: a cluster another test process
    # started (xdist worker) must not stand in for "none runs here" (it made ray.init wait)
    monkeypatch.setattr(services, "find_bootstrap_address", lambda *a, **k: None)
    monkeypatch.setattr(services, "find_gcs_addresses", lambda *a, **k: [])
    with pytest.raises(ScenarioError, match="Ray cluster") as exc:
        sweep(
            "seed-thesis", GRID, overrides=SMALL, paths=2, backend="ray", address="auto", store=tmp_path / "s"
        )
    assert "\n" not in str(exc.value)
