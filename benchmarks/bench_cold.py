"""``basislab simulate seed-thesis`` cold and warm, against the configuration before issue 14
(issue 14, item 5: cold at most 0.6x the time of block 32, one device, no padding).

A cold run is a fresh process with an empty cache folder (``BASISLAB_CACHE_DIR``, which holds the
JAX compile cache and the engine's tuning); a warm run is the next process on the same folder.
Each round runs the baseline (``_cli_timed.py --baseline``: the whole run as one executable,
block 32 with a remainder block of its own, one device, XLA's default options, only compiles of
a second or more cached) and today's engine (the CLI's defaults), cold then warm, alternating
which goes first; the ratio is of medians over the rounds. Every run reports its stages (JAX's
tracing, lowering and XLA compile seconds, and the process's CPU seconds), its compile-cache
hits and misses (a warm run of today's engine must miss none) and its peak resident memory. The
load average is a row.

Usage: ``python benchmarks/run.py cold`` (``--quick``: one round).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
ARGS = ["simulate", "seed-thesis", "--no-save", "--json"]
ROUNDS = int(os.environ.get("BENCH_COLD_ROUNDS", "3"))


def _one(cache: Path, baseline: bool, extra_env: dict | None = None) -> dict:
    env = {**os.environ, "BASISLAB_CACHE_DIR": str(cache), "BASISLAB_RUNS_DIR": str(cache / "runs")}
    for k in ("BASISLAB_JAX_CACHE_DIR", "BASISLAB_PATH_BLOCK", "BASISLAB_DEVICES", "XLA_FLAGS"):
        env.pop(k, None)
    env.update(extra_env or {})
    cmd = [sys.executable, str(HERE / "_cli_timed.py"), *(["--baseline"] if baseline else []), *ARGS]
    t0 = time.perf_counter()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800)
    wall = time.perf_counter() - t0
    line = next((x for x in out.stderr.splitlines() if x.startswith("TIMED ")), None)
    if out.returncode != 0 or line is None:
        raise RuntimeError(f"cold benchmark run failed: {out.stderr[-2000:]}")
    return {**json.loads(line[6:]), "process": wall}


def measure(rounds: int) -> dict[str, list[dict]]:
    """``rounds`` alternating rounds of (baseline, new) x (cold, warm), each pair on its own
    fresh cache folder."""
    res: dict[str, list[dict]] = {k: [] for k in ("base_cold", "base_warm", "new_cold", "new_warm")}
    for r in range(rounds):
        order = (True, False) if r % 2 == 0 else (False, True)
        for baseline in order:
            tag = "base" if baseline else "new"
            with tempfile.TemporaryDirectory(prefix="basislab-cold-") as d:
                res[f"{tag}_cold"].append(_one(Path(d), baseline))
                res[f"{tag}_warm"].append(_one(Path(d), baseline))
    return res


def _med(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def run(quick: bool = False) -> list[dict]:
    load0 = os.getloadavg()
    res = measure(1 if quick else ROUNDS)
    load1 = os.getloadavg()
    base = _med(res["base_cold"], "process")
    rows = []
    for key, label in (
        ("base_cold", "baseline cold (block 32, 1 device, one executable)"),
        ("new_cold", "today cold (defaults)"),
        ("base_warm", "baseline warm"),
        ("new_warm", "today warm (defaults)"),
    ):
        runs = res[key]
        row = {"case": f"simulate seed-thesis, {label}", "value": _med(runs, "process"), "unit": "s"}
        if key == "new_cold":
            row.update(baseline=base, ratio=row["value"] / base)
        if key == "new_warm":
            b = _med(res["base_warm"], "process")
            row.update(baseline=b, ratio=row["value"] / b)
        rows.append(row)
        stages = ", ".join(
            f"{s} {_med(runs, s):.2f}" for s in ("import_jax", "trace", "lower", "compile", "cpu")
        )
        rows.append(
            {"case": f"  stages (s, summed): {stages}", "value": _med(runs, "compiles"), "unit": "compiles"}
        )
        rows.append(
            {
                "case": f"  compile cache, {key.replace('_', ' ')}: misses (hits {_med(runs, 'cache_hits'):.0f})",
                "value": max(r["cache_misses"] for r in runs),
                "unit": "misses",
            }
        )
        rows.append(
            {"case": f"  peak RSS, {key.replace('_', ' ')}", "value": _med(runs, "maxrss_mb"), "unit": "MB"}
        )
    rows.append(
        {
            "case": f"load average (1 min) before / after: {load0[0]:.2f} / {load1[0]:.2f}",
            "value": len(res["new_cold"]),
            "unit": "rounds",
        }
    )
    return [{"benchmark": "cold", **r} for r in rows]


if __name__ == "__main__":
    print(json.dumps(measure(1), indent=1))
