"""Paths split over host CPU devices: the same numbers as one device, to the last bits.

The split needs ``XLA_FLAGS=--xla_force_host_platform_device_count=2`` before JAX is imported, so
the comparison runs in a subprocess; this process's JAX stays as it is. Differences are measured
relative to each field's largest magnitude, or absolutely where that is below one unit (USD bn,
price points, bp): a field summing gains and losses, such as variation margin, can sit at 1e-16
where one device gives 3e-15, both zero to the last bit, and no single value is a fair scale.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from basislab.app.cli_sim import enable_host_devices
from basislab.sim import tuning

SCRIPT = r"""
import json
import numpy as np
from basislab import sim
from basislab.sim import engine, tuning

sc = sim.load_scenario(
    "seed-thesis",
    ["funds.count=12", "horizon_days=24", "shock.start_day=3", "shock.duration_days=5",
     "funds.unencumbered_cash_pct=0", "funds.stop_loss_pct=100", "funds.credit_line_pct=0", "funds.leverage_median=90",
     "shock.yield_bp={2y: 150, 5y: 250, 10y: 300, long: 300}",
     "shock.cash_dislocation_bp={2y: 80, 5y: 150, 10y: 200, long: 300}"],
)
p, s = sim.to_engine(sc)
one = engine.run_batch(p, s, 3, 7, block=32, n_devices=1)
two = engine.run_batch(p, s, 3, 7, block=2, n_devices=2)  # 7 paths: padded to 8 over 2 devices
small = engine.run_batch(p, s, 3, 7)  # a short run: one device by default (tuning.split_pays)
_, fused, _ = engine.fused_runner(s, 32)(p, engine.path_keys(3, 7))  # before issue 14: XLA defaults


#: outputs that are small differences of large sums: leverage V / E (E's last bits times V / E), the
#: cash gaps (payments of the whole book less cash in hand) and the clearing house's default loss
#: (a defaulter's IM + pending VM - the VM it owes, 1.3e-12 measured once the other assets were
#: split into equities and credit): their last bits are amplified
CANCELLING = ("leverage_q", "cash_gap_morning", "cash_gap_eod", "ccp_losses")


def worst(a, b):
    rel, name = 0.0, ""
    for k, x in a.items():
        if k in CANCELLING:  # checked on their own below
            continue
        x, y = np.asarray(x, float), np.asarray(b[k], float)
        assert x.shape == y.shape, k
        r = float(np.max(np.abs(x - y))) / max(float(np.max(np.abs(x))), 1.0)
        rel, name = max((rel, name), (r, k))
    return rel, name


rel, name = worst(one.outputs, two.outputs)
old = {k: v for k, v in fused.items() if k != "audit"}
rel_old, name_old = worst(old, two.outputs)
lev_rel = worst({k: one.outputs[k] for k in CANCELLING}, {k: two.outputs[k] for k in CANCELLING})[0]
# policy worlds (a survival map's batch) split over the two devices against one device
from basislab.sim import policy as pol

base = pol._base("seed-thesis", 12, 24, ["shock.start_day=3", "shock.duration_days=5",
    "funds.unencumbered_cash_pct=0", "funds.stop_loss_pct=100", "funds.leverage_median=90"])
pts = [pol.point_engine(base, {"shock": m, "fed_delay_h": h}) for m, h in ((1.0, 0.0), (2.5, 30.0), (2.5, 72.0))]
rows = np.repeat(np.arange(3), 3)
wp = pol.take(pol.stack([q for q, *_ in pts]), rows)
won = np.stack([o for _, _, o, _ in pts])[rows]
wk = np.tile(np.asarray(engine.path_keys(5, 3)), (3, 1))
w1 = pol.run_worlds(wp, wk, won, pts[0][1], gated=True, n_devices=1)
w2 = pol.run_worlds(wp, wk, won, pts[0][1], gated=True, n_devices=2)
world_rel = max(
    float(np.max(np.abs(w1[k] - w2[k]))) / max(float(np.max(np.abs(w1[k]))), 1.0) for k in pol.PATH_METRICS
)

print(json.dumps({
    "world_rel": world_rel,
    "world_defaults": [np.asarray(w1["fund_defaults"]).tolist(), np.asarray(w2["fund_defaults"]).tolist()],
    "lev_rel": lev_rel,
    "worst": name,
    "devices": len(tuning.devices()),
    "small_devices": len(engine._resolve(s, None, None, 7)[1]),
    "long_devices": len(engine._resolve(s, None, None, tuning.SPLIT_WORK // (12 * 24) + 1)[1]),
    "rel": rel,
    "rel_old": rel_old,
    "worst_old": name_old,
    "defaults_one": np.asarray(one.outputs["new_defaults"]).sum(1).tolist(),
    "defaults_two": np.asarray(two.outputs["new_defaults"]).sum(1).tolist(),
    "defaults_old": np.asarray(fused["new_defaults"]).sum(1).tolist(),
}))
"""


@pytest.fixture(scope="module")
def split_run() -> dict:
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2", "BASISLAB_DEVICES": "2"}
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_two_devices_match_one_to_the_last_bits(split_run):
    """A severe shock (test_engine's defaults case), 7 paths: block 32 on one device against block
    2 over two devices (8 paths, one of padding dropped), both the start and the days as two
    executables at LLVM -O1. Every output within 1e-12 relative but the leverage quantiles and the
    cash gaps (1.5e-12 and 1.0e-12 measured with the funding market and dealers in the model),
    differences of large sums whose last bits are amplified, held to 1e-10."""
    assert split_run["devices"] == 2
    assert split_run["rel"] < 1e-12, split_run["worst"]
    # leverage quantiles divide by equity, which near a default is a small difference of large
    # balance-sheet sums (its last bits amplified by V / E: 56x median, far more near default), and
    # the cash gaps are the book's payments less cash in hand: measured 1.5e-12 and 1.0e-12
    assert split_run["lev_rel"] < 1e-10
    assert split_run["defaults_one"] == split_run["defaults_two"]
    assert sum(split_run["defaults_one"]) >= 1  # the severe shock defaults funds on both runs


def test_short_runs_stay_on_one_device_long_runs_split(split_run):
    """Up to ``tuning.SPLIT_WORK`` fund-path-steps a run stays on one device (the split costs more
    to trace and compile than it saves); above, it splits over every host device."""
    assert (split_run["small_devices"], split_run["long_devices"]) == (1, 2)


def test_two_devices_match_the_engine_before_issue_14(split_run):
    """Against the whole run as one executable with XLA's default options (block 32, one device,
    a remainder block of its own): the same defaults, every output within 1e-12 relative."""
    assert split_run["rel_old"] < 1e-12, split_run["worst_old"]
    assert split_run["defaults_old"] == split_run["defaults_two"]


def test_host_device_flag_added_without_clobbering(monkeypatch):
    monkeypatch.setitem(sys.modules, "jax", None)  # pretend JAX is loaded: no change
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_fast_math=false")
    enable_host_devices()
    assert os.environ["XLA_FLAGS"] == "--xla_cpu_fast_math=false"
    monkeypatch.delitem(sys.modules, "jax")
    monkeypatch.setenv("BASISLAB_DEVICES", "3")
    enable_host_devices()
    assert os.environ["XLA_FLAGS"] == "--xla_cpu_fast_math=false --xla_force_host_platform_device_count=3"
    enable_host_devices()  # a count already named is kept
    assert os.environ["XLA_FLAGS"].count("device_count") == 1
    monkeypatch.setenv("BASISLAB_DEVICES", "1")
    monkeypatch.setenv("XLA_FLAGS", "")
    enable_host_devices()
    assert os.environ["XLA_FLAGS"] == ""


def test_block_override_and_buckets(monkeypatch):
    monkeypatch.setenv("BASISLAB_PATH_BLOCK", "4")
    assert tuning.path_block(1000, 2) == 4
    monkeypatch.delenv("BASISLAB_PATH_BLOCK")
    monkeypatch.setenv("BASISLAB_CALIBRATE", "0")
    assert tuning.path_block(1000, 2) == tuning.DEFAULT_BLOCK
    assert [tuning.fund_bucket(n) for n in (1, 16, 17, 1000, 10**6)] == [16, 16, 64, 1024, 4096]


def test_calibrated_block_is_cached_per_machine_and_bucket(monkeypatch, tmp_path):
    monkeypatch.setenv("BASISLAB_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("BASISLAB_PATH_BLOCK", raising=False)
    monkeypatch.setenv("BASISLAB_CALIBRATE", "1")
    calls = []
    monkeypatch.setattr(tuning, "calibrate", lambda n, d: calls.append((n, d)) or 8)
    monkeypatch.setenv("BASISLAB_CALIBRATE", "")
    assert tuning.path_block(1000, 2) == tuning.DEFAULT_BLOCK  # not asked: no calibration
    monkeypatch.setenv("BASISLAB_CALIBRATE", "1")
    assert tuning.path_block(1000, 2) == 8
    assert tuning.path_block(900, 2) == 8  # same bucket (<= 1024 funds): read from the cache
    assert calls == [(1024, 2)]
    monkeypatch.setenv("BASISLAB_CALIBRATE", "")
    assert tuning.path_block(1000, 2) == 8  # once cached, used without asking
    assert list(json.loads((tmp_path / "engine-tuning.json").read_text()).values()) == [8]
    monkeypatch.setenv("BASISLAB_CALIBRATE", "1")
    monkeypatch.setattr(tuning, "calibrate", lambda n, d: 1 / 0)  # a failed calibration: default
    assert tuning.path_block(10, 2) == tuning.DEFAULT_BLOCK


def test_policy_worlds_split_over_two_devices_match_one(split_run):
    """A survival map's batch (3 grid points x 3 paths, severe shock, the Fed's gated backstop)
    split over two host devices against one: the same defaults, every per-world metric within
    1e-12 of its field's scale (world-level metrics are maxima and sums of path outputs)."""
    one, two = split_run["world_defaults"]
    assert one == two and sum(one) > 0
    assert split_run["world_rel"] < 1e-12
