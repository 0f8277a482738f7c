"""The engine on both cores (issue 14 item 3): tuned path block and paths split over host devices,
against today's configuration (block 32, one device), timed in the same process.

Cases at ``FUNDS`` funds x ``PATHS`` paths over ``STEPS`` days (seed-thesis, shock on days 2-5):
block 32 on one device (the baseline), the calibrated block on one device (the issue's target:
at least 2x), and the calibrated block over every host device (the engine's default). Peak memory
is XLA's (arguments + outputs + temporaries of the compiled run); the calibration's own wall time
is a row. Host devices need ``XLA_FLAGS`` before JAX is imported: run this module alone
(``python benchmarks/run.py engine``) to time the split; loaded after another benchmark that
imported JAX, the split row says one device.
"""

from __future__ import annotations

import os
import resource
import time

from basislab.app.cli_sim import enable_host_devices

enable_host_devices()  # before JAX is imported (no-op if another benchmark imported it)

import jax  # noqa: E402

from basislab import sim  # noqa: E402
from basislab.sim import engine, tuning  # noqa: E402

FUNDS = int(os.environ.get("BENCH_ENGINE_FUNDS", "1000"))
PATHS = int(os.environ.get("BENCH_ENGINE_PATHS", "1000"))
STEPS = 20


def _case(p, s, keys, block: int, n_devices: int, repeats: int) -> dict:
    fn = engine.compiled_runner(s, block=block, n_devices=n_devices)
    t0 = time.perf_counter()
    compiled = fn.lower(p, keys).compile()
    compile_s = time.perf_counter() - t0
    mem = compiled.memory_analysis()
    peak = (
        (mem.temp_size_in_bytes + mem.output_size_in_bytes + mem.argument_size_in_bytes)
        if mem
        else float("nan")
    )
    jax.block_until_ready(compiled(p, keys))
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(compiled(p, keys))
        best = min(best, time.perf_counter() - t0)
    return {"seconds": best, "compile_s": compile_s, "peak_mb": peak / 1e6}


def run(quick: bool = False) -> list[dict]:
    funds, paths = (100, 64) if quick else (FUNDS, PATHS)
    repeats = 1 if quick else 2
    sc = sim.load_scenario(
        "seed-thesis",
        [f"funds.count={funds}", f"horizon_days={STEPS}", "shock.start_day=2", "shock.duration_days=4"],
    )
    p, s = sim.to_engine(sc)
    keys = engine.path_keys(0, paths)
    n_dev = len(tuning.devices())
    t0 = time.perf_counter()
    block = tuning.calibrate(funds, 1)
    calib_s = time.perf_counter() - t0
    base = _case(p, s, keys, 32, 1, repeats)
    tuned = _case(p, s, keys, block, 1, repeats)
    split = _case(p, s, keys, block, n_dev, repeats)
    size = f"{funds} funds x {paths} paths x {STEPS} days"
    rows = [
        {"case": f"calibration (blocks {tuning.CANDIDATES}, chose {block})", "value": calib_s, "unit": "s"},
        {"case": f"block 32, 1 device, {size}", "value": base["seconds"], "unit": "s"},
        {
            "case": f"tuned block {block}, 1 device, {size}",
            "value": tuned["seconds"],
            "unit": "s",
            "baseline": base["seconds"],
            "ratio": base["seconds"] / tuned["seconds"],
        },
        {
            "case": f"tuned block {block}, {n_dev} devices, {size}",
            "value": split["seconds"],
            "unit": "s",
            "baseline": base["seconds"],
            "ratio": base["seconds"] / split["seconds"],
        },
    ]
    for label, r in (
        ("block 32, 1 device", base),
        (f"block {block}, 1 device", tuned),
        (f"block {block}, {n_dev} devices", split),
    ):
        rows.append({"case": f"compile, {label}", "value": r["compile_s"], "unit": "s"})
        rows.append({"case": f"XLA peak memory, {label}", "value": r["peak_mb"], "unit": "MB"})
    rows.append(
        {
            "case": "process peak RSS",
            "value": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "unit": "MB",
        }
    )
    return [{"benchmark": "engine", **r} for r in rows]
