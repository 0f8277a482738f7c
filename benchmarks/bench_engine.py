"""The engine on both cores (issue 14 item 3): tuned path block and paths split over host devices,
against the engine before issue 14 (block 32, one device, one executable), timed in one process.

Cases at ``FUNDS`` funds x ``PATHS`` paths over ``STEPS`` days (seed-thesis, shock on days 2-5),
timed in alternating rounds (best and median of ``ROUNDS``):

- baseline: :func:`basislab.sim.engine.fused_runner` (the whole run one executable, block 32 with
  a remainder block compiled on its own, XLA's default options), one device;
- today's engine, block 32, one device (the start and the days as two executables, the path
  count padded to whole blocks, LLVM -O1): what the engine's changes alone give;
- the tuned block on one device (the issue's target: at least 2x), and over every host device
  (the engine's default).

Each case reports its compile seconds, XLA's peak memory (arguments + outputs + temporaries, per
device; for today's engine the larger of the start's and the days', ``Runner.memory_bytes``) and
the cores it kept busy (process CPU seconds over wall seconds of a run: 2 on an idle 2-core
machine is both cores). Profile rows:
the share of (block, day) pairs that run the full settlement window (the quiet-window
``lax.cond`` takes the short branch only when every path of a block is quiet) for blocks of 1 to
32 paths, and the calibration's own wall time. Host devices need ``XLA_FLAGS`` before JAX is
imported: run this module alone (``python benchmarks/run.py engine``).
"""

from __future__ import annotations

import os
import resource
import statistics
import time

from basislab.app.cli_sim import enable_host_devices

enable_host_devices()  # before JAX is imported (no-op if another benchmark imported it)

import jax  # noqa: E402
import numpy as np  # noqa: E402

from basislab import sim  # noqa: E402
from basislab.sim import engine, tuning  # noqa: E402

FUNDS = int(os.environ.get("BENCH_ENGINE_FUNDS", "1000"))
PATHS = int(os.environ.get("BENCH_ENGINE_PATHS", "1000"))
ROUNDS = int(os.environ.get("BENCH_ENGINE_ROUNDS", "3"))
STEPS = 20


def _fused(p, s, keys) -> dict:
    """The baseline, compiled ahead of time with XLA's default options."""
    t0 = time.perf_counter()
    compiled = engine.fused_runner(s, 32).lower(p, keys).compile()
    compile_s = time.perf_counter() - t0
    m = compiled.memory_analysis()
    peak = m.temp_size_in_bytes + m.output_size_in_bytes + m.argument_size_in_bytes
    return {"fn": lambda: compiled(p, keys), "compile_s": compile_s, "peak_mb": peak / 1e6}


def _today(p, s, keys, block: int, n_devices: int) -> dict:
    runner = engine.compiled_runner(s, block=block, n_devices=n_devices)
    t0 = time.perf_counter()
    runner.compile(p, keys)
    compile_s = time.perf_counter() - t0
    return {
        "fn": lambda: runner(p, keys),
        "compile_s": compile_s,
        "peak_mb": runner.memory_bytes(p, keys) / 1e6,
    }


def busy_share(outputs: dict, block: int) -> float:
    """Share of (block of ``block`` consecutive paths, day) pairs in which some path of the block
    unwound, sold other assets or defaulted: the days the full settlement window runs."""
    busy = (
        (outputs["other_sold"] > 0)
        | (outputs["sold_unwind"].sum(-1) > 0)
        | (outputs["sold_default"].sum(-1) > 0)
        | (outputs["new_defaults"] > 0)
    )
    n = busy.shape[0] - busy.shape[0] % block
    return float(busy[:n].reshape(n // block, block, *busy.shape[1:]).any(1).mean())


def run(quick: bool = False) -> list[dict]:
    funds, paths = (100, 64) if quick else (FUNDS, PATHS)
    rounds = 1 if quick else ROUNDS
    load0 = os.getloadavg()
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
    cases = {
        "block 32, 1 device, one executable (before issue 14)": _fused(p, s, keys),
        "block 32, 1 device": _today(p, s, keys, 32, 1),
        f"tuned block {block}, 1 device": _today(p, s, keys, block, 1),
        f"tuned block {block}, {n_dev} devices": _today(p, s, keys, block, n_dev),
    }
    for c in cases.values():
        jax.block_until_ready(c["fn"]())
        c["times"], c["cores"] = [], []
    for r in range(rounds):  # alternating rounds, the order reversed every other round
        for c in list(cases.values())[:: 1 if r % 2 == 0 else -1]:
            w0, c0 = time.perf_counter(), time.process_time()
            jax.block_until_ready(c["fn"]())
            w = time.perf_counter() - w0
            c["times"].append(w)
            c["cores"].append((time.process_time() - c0) / w)
    load1 = os.getloadavg()
    size = f"{funds} funds x {paths} paths x {STEPS} days"
    base = next(iter(cases.values()))
    b_best, b_med = min(base["times"]), statistics.median(base["times"])
    rows: list[dict] = []
    for label, c in cases.items():
        best, med = min(c["times"]), statistics.median(c["times"])
        ratio = {} if c is base else {"baseline": b_best, "ratio": b_best / best}
        rows.append({"case": f"{label}, {size} (best)", "value": best, "unit": "s", **ratio})
        if c is not base:
            rows.append(
                {
                    "case": f"  median of {rounds}",
                    "value": med,
                    "unit": "s",
                    "baseline": b_med,
                    "ratio": b_med / med,
                }
            )
        rows.append({"case": f"  compile, {label}", "value": c["compile_s"], "unit": "s"})
        rows.append({"case": f"  XLA peak memory, {label}", "value": c["peak_mb"], "unit": "MB"})
        rows.append(
            {"case": f"  cores busy, {label}", "value": statistics.median(c["cores"]), "unit": "cores"}
        )
    led0, outs, _ = base["fn"]()
    outs = {k: np.asarray(v) for k, v in outs.items() if not isinstance(v, dict)}
    for b in (1, 2, 8, 32):
        rows.append(
            {"case": f"busy (block of {b}, day) pairs", "value": busy_share(outs, b), "unit": "share"}
        )
    rows.append(
        {"case": f"calibration (blocks {tuning.CANDIDATES}, chose {block})", "value": calib_s, "unit": "s"}
    )
    per = 64  # the calibration's paths per device, over 8 days
    for b, t in tuning.LAST_TIMES.items():
        rows.append(
            {
                "case": f"  calibration, block {b}: seconds per (block, day), {funds} funds",
                "value": t / (per // b) / 8,
                "unit": "s",
                "baseline": tuning.LAST_TIMES[32] / 8,  # the 64 paths in blocks of 32, per day
                "ratio": tuning.LAST_TIMES[32] / t,  # speed of the 64 paths against blocks of 32
            }
        )
    rows.append(
        {
            "case": "process peak RSS",
            "value": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "unit": "MB",
        }
    )
    rows.append(
        {
            "case": f"load average (1 min) before / after: {load0[0]:.2f} / {load1[0]:.2f}",
            "value": rounds,
            "unit": "rounds",
        }
    )
    return [{"benchmark": "engine", **r} for r in rows]
