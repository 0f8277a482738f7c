"""The run store: one folder per run written atomically, read back and verified, concurrent
writers, damaged runs refused in one line, temporary folders of killed saves cleaned."""

from __future__ import annotations

import json
import os
import threading

import pandas as pd
import pytest

from basislab.errors import BasislabError, DataError, ScenarioError
from basislab.sim import store


@pytest.fixture(scope="module")
def saved(small_runs, tmp_path_factory):
    out = tmp_path_factory.mktemp("runstore")
    run_id, folder = store.save_runs(small_runs, out)
    return out, run_id, folder


def test_round_trip(saved, small_runs):
    out, run_id, folder = saved
    assert folder == out / run_id and run_id.startswith("seed-thesis-s3-")
    back = store.load_run(run_id, out)
    assert back.variants == ["without_backstop", "with_backstop"]
    for v, res in small_runs.items():
        assert back.metrics[v]["fund_defaults"] == res.metrics()["fund_defaults"]
    pd.testing.assert_frame_equal(
        back.timeseries, pd.concat([r.timeseries() for r in small_runs.values()]).reset_index(drop=True)
    )
    assert back.scenario["name"] == "seed-thesis"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert set(manifest["sha256"]) == set(store.FILES) and manifest["paths"] == 6
    assert store.load_run(folder).run_id == run_id  # by folder too
    assert store.load_run("latest", out).run_id == run_id
    assert list(store.list_runs(out)["run_id"]) == [run_id]
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary left


def test_default_store_is_runs_dir(small_runs):
    run_id, folder = store.save_runs(small_runs)
    assert folder.parent == store.default_home() == __import__("basislab.paths").paths.runs_dir()
    assert str(folder).startswith(os.environ["BASISLAB_RUNS_DIR"])  # tests/conftest.py moved it
    assert store.load_run(run_id).run_id == run_id


def _tables(i: int = 0):
    ts = pd.DataFrame({"variant": ["run"] * 3, "step": [1, 2, 3], "mean": [1.0 + i, 2.0, float("nan")]})
    au = pd.DataFrame({"variant": ["run"], "identity": ["cash"], "step": [1], "max_residual": [0.0]})
    metrics = {"run": {"scenario": "x", "fund_defaults": float(i), "leverage": float("inf")}}
    meta = {"scenario": "x", "seed": i, "paths": 1, "steps": 3, "variants": ["run"]}
    return ts, au, metrics, "name: x\n", meta


def test_metrics_are_strict_json(tmp_path):
    rid, folder = store.write_run(*_tables(), out_dir=tmp_path)
    text = (folder / "metrics.json").read_text()
    assert "Infinity" not in text and "NaN" not in text
    m = json.loads(text)["run"]
    assert m["leverage"] is None and m["leverage_null_reason"] == "infinite"


def test_two_writers_at_once_lose_nothing(tmp_path):
    """Eight threads save at once into one store: eight runs, each complete and readable."""
    ids: list[str] = []
    errors: list[BaseException] = []

    def save(i: int) -> None:
        try:
            ids.append(store.write_run(*_tables(i), out_dir=tmp_path)[0])
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(i % 2,)) for i in range(8)]  # same ids' prefix
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(set(ids)) == 8
    for rid in ids:
        assert store.load_run(rid, tmp_path).metrics["run"]["scenario"] == "x"
    assert len(store.list_runs(tmp_path)) == 8


def test_explicit_run_id_is_never_overwritten(tmp_path):
    store.write_run(*_tables(), out_dir=tmp_path, run_id="mine")
    with pytest.raises(DataError, match="already exists"):
        store.write_run(*_tables(1), out_dir=tmp_path, run_id="mine")
    assert store.load_run("mine", tmp_path).metrics["run"]["fund_defaults"] == 0.0


@pytest.mark.parametrize(
    ("damage", "fragment"),
    [
        (
            lambda f: (f / "timeseries.parquet").write_bytes((f / "timeseries.parquet").read_bytes()[:50]),
            "checksum",
        ),
        (lambda f: (f / "metrics.json").write_text("{"), "checksum"),
        (lambda f: (f / "audit.parquet").unlink(), "damaged"),
        (lambda f: (f / "manifest.json").write_text("not json"), "damaged"),
        (lambda f: [(f / n).unlink() for n in ("manifest.json", "metrics.json")], "incomplete"),
    ],
)
def test_damaged_run_is_refused_in_one_line(tmp_path, damage, fragment):
    rid, folder = store.write_run(*_tables(), out_dir=tmp_path)
    damage(folder)
    for ref in (rid, "latest"):
        with pytest.raises(DataError, match=fragment) as exc:
            store.load_run(ref, tmp_path)
        msg = str(exc.value)
        assert "\n" not in msg and "rm -r" in msg and str(folder) in msg


def test_unknown_and_empty(tmp_path):
    with pytest.raises(ScenarioError, match="no runs stored"):
        store.load_run("latest", tmp_path)
    store.write_run(*_tables(), out_dir=tmp_path, run_id="one")
    with pytest.raises(ScenarioError, match="recent runs: one"):
        store.load_run("nope", tmp_path)


def test_bad_store_paths(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(DataError, match="is a file"):
        store.check_store(f)
    with pytest.raises(DataError, match="is a file"):
        store.load_run("latest", f)
    with pytest.raises(BasislabError):
        store.check_store(f / "under")


def test_damaged_legacy_database_is_one_line(tmp_path):
    (tmp_path / store.DB_NAME).write_bytes(b"garbage" * 1000)
    with pytest.raises(DataError, match="damaged or not a basislab store") as exc:
        store.load_run("some-run", tmp_path)
    assert "\n" not in str(exc.value) and "mv " in str(exc.value)


def test_stale_temporary_folders_are_removed(tmp_path):
    dead = tmp_path / ".tmp-x-s0-1-p999999999"  # no such process
    live = tmp_path / f".tmp-x-s0-2-p{os.getpid()}"
    dead.mkdir()
    live.mkdir()
    store.write_run(*_tables(), out_dir=tmp_path)
    assert not dead.exists() and live.exists()


@pytest.mark.parametrize("seed", [-1, 2**32, 2**40])
def test_seed_out_of_uint32_is_refused(seed):
    """JAX keys take a uint32 seed; 2**40 used to run silently (as another seed's numbers)."""
    from basislab import sim

    sc = sim.load_scenario("seed-thesis", ["funds.count=12"])
    with pytest.raises(ScenarioError, match="out of range"):
        sim.simulate(sc, 2, seed)


def test_atomic_write_text_replaces_whole_files(tmp_path):
    from basislab.paths import atomic_write_text

    target = tmp_path / "table.csv"
    atomic_write_text(target, "a,b\n1,2\n")
    atomic_write_text(target, "a,b\n3,4\n")
    assert target.read_text() == "a,b\n3,4\n" and [p.name for p in tmp_path.iterdir()] == ["table.csv"]
