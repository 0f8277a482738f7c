"""Shape padding (issue 14 item 4): two scenarios with different fund counts and horizons in one
bucket, run cold one after the other as :func:`basislab.sim.engine.run_batch` runs them, padded
(the default: one compiled pair serves both) against unpadded (one compiled pair each).

Cases: seed-thesis at 100 funds x 60 days and 120 funds x 50 days (both padded to 128 x 64),
``PATHS`` paths on one device, block 32, in one process without a persistent compilation cache:

- XLA compiles (``backend_compile_duration`` events) and wall seconds of both scenarios, cold
  (tracing, compiling and running), padded against unpadded;
- the warm run of the 100 x 60 scenario, padded against unpadded (what the padded funds and days
  cost once compiled: the fund axis is 1.28x longer, the four padded days are skipped);
- the largest difference of any output between the padded and the unpadded run (relative to the
  field's scale).

The unpadded pair runs first, then the padded one (their executables differ, so neither warms
the other; the key executable and a first compile of another shape come before both). Usage:
``python benchmarks/run.py padding [--quick]`` (``--quick``: 12 / 14 funds x 24 / 20 days, 4 paths).
"""

from __future__ import annotations

import os
import time

import jax
import jax.monitoring as monitoring
import numpy as np

from basislab import sim
from basislab.sim import engine

PATHS = int(os.environ.get("BENCH_PADDING_PATHS", "32"))

_COMPILES: list[float] = []


def _listen(event: str, secs: float, **_: object) -> None:
    if event.endswith("backend_compile_duration"):
        _COMPILES.append(secs)


def _scenarios(quick: bool) -> list[tuple[str, list[str]]]:
    if quick:
        base = ["shock.start_day=3", "shock.duration_days=5"]
        return [
            ("12 x 24", ["funds.count=12", "horizon_days=24", *base]),
            ("14 x 20", ["funds.count=14", "horizon_days=20", *base]),
        ]
    return [
        ("100 x 60", ["funds.count=100", "horizon_days=60"]),
        ("120 x 50", ["funds.count=120", "horizon_days=50"]),
    ]


def _cold(worlds, paths: int, padded: bool) -> tuple[float, int, float, list]:
    """Both scenarios in turn: wall seconds, XLA compiles and compile seconds, the runs."""
    n0, c0 = len(_COMPILES), sum(_COMPILES)
    t0 = time.perf_counter()
    runs = [engine.run_batch(p, s, 0, paths, block=32, n_devices=1, padded=padded) for p, s in worlds]
    return time.perf_counter() - t0, len(_COMPILES) - n0, sum(_COMPILES) - c0, runs


def _warm(p, s, paths: int, rounds: int = 5) -> tuple[float, float]:
    """Best wall seconds of a warm run, padded and unpadded, in alternating rounds (a change of
    the machine's load falls on both)."""
    best = {True: float("inf"), False: float("inf")}
    for _ in range(rounds):
        for padded in (False, True):
            t0 = time.perf_counter()
            engine.run_batch(p, s, 0, paths, block=32, n_devices=1, padded=padded)
            best[padded] = min(best[padded], time.perf_counter() - t0)
    return best[True], best[False]


def _worst(a: engine.RawRun, b: engine.RawRun) -> float:
    worst = 0.0
    for k, v in a.outputs.items():
        for x, y in zip(jax.tree_util.tree_leaves(v), jax.tree_util.tree_leaves(b.outputs[k]), strict=True):
            x, y = np.asarray(x, float), np.asarray(y, float)
            worst = max(worst, float(np.max(np.abs(x - y)) / max(float(np.max(np.abs(x))), 1.0)))
    return worst


def run(quick: bool = False) -> list[dict]:
    paths = 4 if quick else PATHS
    cases = _scenarios(quick)
    worlds = [sim.to_engine(sim.load_scenario("seed-thesis", sets)) for _, sets in cases]
    label = " and ".join(name for name, _ in cases) + f" funds x days, {paths} paths"
    engine.path_keys(0, paths)  # the key executable, shared by both modes
    # a first compile of another shape, so neither mode pays the process's first XLA compile
    warmup = sim.to_engine(
        sim.load_scenario(
            "seed-thesis", ["funds.count=3", "horizon_days=6", "shock.start_day=1", "shock.duration_days=2"]
        )
    )
    engine.run_batch(*warmup, 0, 1, block=1, n_devices=1, padded=False)
    monitoring.register_event_duration_secs_listener(_listen)
    try:
        wall_u, n_u, comp_u, plain = _cold(worlds, paths, padded=False)
        wall_p, n_p, comp_p, padded = _cold(worlds, paths, padded=True)
    finally:
        monitoring.unregister_event_duration_listener(_listen)
    warm_p, warm_u = _warm(*worlds[0], paths)
    worst = max(_worst(a, b) for a, b in zip(plain, padded, strict=True))
    bench = "padding"
    return [
        {
            "benchmark": bench,
            "case": f"XLA compiles, {label} (padded vs unpadded)",
            "value": n_p,
            "unit": "compiles",
            "baseline": n_u,
            "ratio": n_p / max(n_u, 1),
        },  # noqa: E501
        {
            "benchmark": bench,
            "case": "  compile seconds, both scenarios",
            "value": comp_p,
            "unit": "s",
            "baseline": comp_u,
            "ratio": comp_p / comp_u,
        },  # noqa: E501
        {
            "benchmark": bench,
            "case": "  cold wall, both scenarios",
            "value": wall_p,
            "unit": "s",
            "baseline": wall_u,
            "ratio": wall_p / wall_u,
        },  # noqa: E501
        {
            "benchmark": bench,
            "case": f"warm run, {cases[0][0]} (best of 5, alternating)",
            "value": warm_p,
            "unit": "s",
            "baseline": warm_u,
            "ratio": warm_p / warm_u,
        },  # noqa: E501
        {
            "benchmark": bench,
            "case": "max output difference padded vs unpadded (of the field's scale)",
            "value": worst,
            "unit": "relative",
        },  # noqa: E501
    ]


if __name__ == "__main__":
    import sys

    for row in run(quick="--quick" in sys.argv):
        print(row)
