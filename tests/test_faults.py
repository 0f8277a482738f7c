"""Faults, with real processes: kill -9 during a run save and during a sweep, concurrent writers
in separate processes, a damaged store. After each: nothing lost, nothing corrupt, a clear
one-line message. (Data-store build faults are tested in tests/data.)"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from basislab.errors import DataError
from basislab.sim import store

SMALL = ["funds.count=8", "horizon_days=20", "shock.start_day=2", "shock.duration_days=4"]

#: a writer process: saves synthetic runs into a store; with SLOW it stalls half way through a save
WRITER = textwrap.dedent(
    """
    import os, sys, time
    import pandas as pd
    from pathlib import Path
    from basislab.sim import store

    out, tag, n = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    if os.environ.get("SLOW"):
        real = store._fsync_write
        def slow(path, data):
            real(path, data)
            if path.name == "audit.parquet":
                (out.parent / "half-written").write_text(str(path.parent))
                time.sleep(60)
        store._fsync_write = slow
    for i in range(n):
        ts = pd.DataFrame({"variant": ["run"] * 50, "step": range(50), "mean": [float(i)] * 50})
        au = pd.DataFrame({"variant": ["run"], "identity": ["cash"], "step": [1], "max_residual": [0.0]})
        meta = {"scenario": tag, "seed": i, "paths": 1, "steps": 50, "variants": ["run"]}
        rid, _ = store.write_run(ts, au, {"run": {"i": i, "tag": tag}}, "name: x\\n", meta, out)
        print(rid, flush=True)
    """
)


def _writer(out: Path, tag: str, n: int, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(out), tag, str(n)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 120) -> None:
    t0 = time.monotonic()
    while not path.exists():
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() - t0 < timeout, f"{path} never appeared"
        time.sleep(0.05)


def test_kill_during_run_save_loses_nothing(tmp_path):
    out = tmp_path / "runs"
    first = _writer(out, "before", 2)
    ids_before = first.communicate(timeout=120)[0].split()
    assert first.returncode == 0 and len(ids_before) == 2
    victim = _writer(out, "victim", 1, SLOW="1")
    _wait_for(tmp_path / "half-written", victim)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    tmp = Path((tmp_path / "half-written").read_text())
    assert tmp.exists() and tmp.name.startswith(".tmp-")  # the half-written run is only a temporary
    assert sorted(store.list_runs(out)["run_id"]) == sorted(ids_before)  # nothing half-saved listed
    for rid in ids_before:  # nothing lost
        assert store.load_run(rid, out).metrics["run"]["tag"] == "before"
    after = _writer(out, "after", 1)
    assert after.communicate(timeout=120)[0].strip() and after.returncode == 0
    assert not tmp.exists()  # the next save removed the killed save's temporary folder
    assert len(store.list_runs(out)) == 3


def test_writers_in_separate_processes_at_once(tmp_path):
    out = tmp_path / "runs"
    procs = [_writer(out, f"w{k}", 5) for k in range(4)]
    ids = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=180)
        assert p.returncode == 0, stderr
        ids += stdout.split()
    assert len(ids) == len(set(ids)) == 20
    for rid in ids:
        run = store.load_run(rid, out)
        assert run.metrics["run"]["tag"] in {"w0", "w1", "w2", "w3"} and len(run.timeseries) == 50


@pytest.mark.parametrize("cut", [0, 10, 1000])
def test_truncated_run_is_one_line_from_the_cli(tmp_path, cut):
    out = tmp_path / "runs"
    p = _writer(out, "t", 1)
    rid = p.communicate(timeout=120)[0].strip()
    f = out / rid / "timeseries.parquet"
    f.write_bytes(f.read_bytes()[:cut])
    res = subprocess.run(
        [sys.executable, "-m", "basislab", "report", rid, "--db", str(out), "-o", str(tmp_path / "r.html")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert res.returncode == 2 and len(lines) == 1 and "damaged" in lines[0] and "rm -r" in lines[0]
    assert not (tmp_path / "r.html").exists()


def test_corrupted_legacy_database_is_one_line(tmp_path):
    (tmp_path / "sim.duckdb").write_bytes(os.urandom(4096))
    with pytest.raises(DataError, match="damaged") as exc:
        store.load_run("latest", tmp_path)
    assert "\n" not in str(exc.value)


@pytest.mark.slow
def test_kill_during_sweep_then_resume(tmp_path):
    """kill -9 a sweep after its first point is stored; the rerun reads the finished points back
    (not run again, files untouched) and runs the rest."""
    folder = tmp_path / "sweep"
    args = [
        sys.executable,
        "-m",
        "basislab",
        "sweep",
        "seed-thesis",
        "-g",
        "backstop.ltv_pct=5,10,15,20",
        *sum((["--set", s] for s in SMALL), []),
        "--paths",
        "2",
        "--seed",
        "3",
        "--store",
        str(folder),
        "--json",
    ]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(folder / "point-00000.json", proc, timeout=400)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    done = {p.name: p.stat().st_mtime_ns for p in folder.glob("point-*.json")}
    assert 1 <= len(done) < 4
    res = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    assert f"resuming: {len(done)} of 4 points already done" in res.stderr
    for name, mtime in done.items():  # finished points were not run again
        assert (folder / name).stat().st_mtime_ns == mtime
    rows = json.loads(res.stdout)
    assert [r["backstop.ltv_pct"] for r in rows] == ["5", "5", "10", "10", "15", "15", "20", "20"]
    assert len(list(folder.glob("point-*.json"))) == 4 and not list(folder.glob(".tmp-*"))
