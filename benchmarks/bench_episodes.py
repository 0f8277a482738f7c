"""Run times of the five episode replays (``basislab simulate EPISODE --json``: the as-happened
world and its counterfactuals) at their default sizes, each a fresh ``basislab`` process.

Rows: one cold run (an empty JAX compilation cache: the engine compiles once, ~all of the time)
and every preset warm (the compiled engine read from the cache, as on any later run; all five
presets share one static shape, so one compilation serves them all). Prints a table; the load
average is printed with it (the machine is shared).

    .venv/bin/python benchmarks/bench_episodes.py [--no-cold]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

PRESETS = ("calm-2019h1", "sep-2019", "mar-2020", "apr-2025", "late-2025")


def run(key: str, cache: str) -> tuple[float, dict]:
    env = {**os.environ, "BASISLAB_JAX_CACHE_DIR": cache}
    t0 = time.perf_counter()
    p = subprocess.run(
        [sys.executable, "-m", "basislab", "simulate", key, "--json"], capture_output=True, text=True, env=env
    )
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"{key}: {p.stderr.strip()}")
    return wall, json.loads(p.stdout)


def main() -> None:
    rows = []
    if "--no-cold" not in sys.argv:
        cold = tempfile.mkdtemp(prefix="bench-episodes-cold-")
        wall, out = run("mar-2020", cold)
        rows.append(("mar-2020", "cold (compiles)", wall, out["paths"]))
    warm = os.environ.get("BASISLAB_JAX_CACHE_DIR") or tempfile.mkdtemp(prefix="bench-episodes-warm-")
    run("sep-2019", warm)  # fills the cache when it is new
    for key in PRESETS:
        wall, out = run(key, warm)
        rows.append((key, "warm (cached engine)", wall, out["paths"]))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"| preset | compile cache | wall s | paths | (load average {load:.1f}, {os.cpu_count()} CPUs)")
    print("|---|---|---|---|")
    for key, kind, wall, paths in rows:
        print(f"| {key} | {kind} | {wall:.1f} | {paths} |")


if __name__ == "__main__":
    main()
