"""Policy lab: the standard survival map and the distance to the spiral, against one warm
``basislab simulate seed-thesis``, each run as the user runs it (a ``basislab`` process).

Cases (issue 14, item 5):
- baseline: ``basislab simulate seed-thesis`` (32 paths x 100 funds x 60 days, both worlds),
  warm: the second run in a fresh JAX compilation cache, so the executable comes from the cache;
- ``basislab policy seed-thesis --grid survival``: 10 x 10 grid (shock 0.25x-2.5x x Fed delay
  0-72 h), 64 paths x 100 funds x 60 days per point, one compilation; cold (first run in the
  fresh cache) and warm; ratio = map / warm simulate (target at most 5);
- ``basislab distance`` on today's book (64 paths x 100 funds x 60 days): rounds, wall time.
Each case reports the process's peak resident memory (``ru_maxrss``). All processes share one
temporary runs folder and JAX cache; the same machine, load and session give the ratio.

Usage: ``python benchmarks/bench_policy.py [--quick] [--keep DIR]`` (or ``python benchmarks/run.py policy``);
``--quick`` runs a 3 x 3 grid at 8 paths x 20 funds x 30 days.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

_WRAP = (
    "import resource, runpy, sys\n"
    "sys.argv = ['basislab', *sys.argv[1:]]\n"
    "try:\n"
    "    runpy.run_module('basislab', run_name='__main__')\n"
    "except SystemExit as e:\n"
    "    code = e.code\n"
    "else:\n"
    "    code = 0\n"
    "print('MAXRSS_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def _cli(env: dict, *args: str) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB) and stdout of one ``basislab`` process."""
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", _WRAP, *args], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError(f"basislab {' '.join(args)} failed: {r.stderr.strip().splitlines()[-2:]}")
    rss = [ln for ln in r.stderr.splitlines() if ln.startswith("MAXRSS_KB")]
    return wall, int(rss[-1].split()[1]) / 1024 if rss else float("nan"), r.stdout


def run(quick: bool = False, keep: str | None = None) -> list[dict]:
    """Rows of the table; ``keep``: a folder to write the map's and the distance's JSON into."""
    home = tempfile.mkdtemp(prefix="bench-policy-")
    env = {
        **os.environ,
        "BASISLAB_RUNS_DIR": os.path.join(home, "runs"),
        "BASISLAB_JAX_CACHE_DIR": os.path.join(home, "jax"),
        "JAX_COMPILATION_CACHE_DIR": os.path.join(home, "jax"),
    }
    size = ["--paths", "8", "--funds", "20", "--steps", "30"] if quick else []
    grid = ["--x", "shock=0.5,1,2", "--y", "fed_delay_h=0,24,48"] if quick else ["--grid", "survival"]
    sim_args = ["--set", "funds.count=20", "--set", "horizon_days=30", "-n", "8"] if quick else []
    rows: list[dict] = []
    b = "policy"

    _cli(env, "simulate", "seed-thesis", "--json", *sim_args)  # cold: fills the cache
    base, base_mb, _ = _cli(env, "simulate", "seed-thesis", "--json", *sim_args)
    rows.append({"benchmark": b, "case": "simulate seed-thesis, warm (baseline)", "value": base, "unit": "s"})
    rows.append(
        {"benchmark": b, "case": "simulate seed-thesis, warm: peak memory", "value": base_mb, "unit": "MB"}
    )

    cold, cold_mb, out = _cli(env, "policy", "seed-thesis", *grid, *size, "--json", "--no-save")
    d = json.loads(out)
    label = f"{len(d['y_values'])}x{len(d['x_values'])} map, {d['paths']} paths x {d['funds']} funds x {d['steps']} days"
    warm, warm_mb, out = _cli(env, "policy", "seed-thesis", *grid, *size, "--json", "--no-save")
    w = json.loads(out)
    if keep:
        with open(os.path.join(keep, "survival.json"), "w") as fh:
            fh.write(out)
    rows += [
        {
            "benchmark": b,
            "case": f"{label}: cold (compiles {d['compiles']})",
            "value": cold,
            "unit": "s",
            "baseline": base,
            "ratio": cold / base,
        },
        {
            "benchmark": b,
            "case": f"{label}: warm (target <= 5x simulate)",
            "value": warm,
            "unit": "s",
            "baseline": base,
            "ratio": warm / base,
        },
        {
            "benchmark": b,
            "case": f"{label}: inside the process (grid only)",
            "value": w["wall_s"],
            "unit": "s",
        },
        {
            "benchmark": b,
            "case": f"{label}: peak memory cold / warm",
            "value": f"{cold_mb:.0f} / {warm_mb:.0f}",
            "unit": "MB",
        },
    ]
    notes = [n for n in w.get("notes", []) if "distinct" in n]
    if notes:
        rows.append({"benchmark": b, "case": f"{label}: {notes[0]}", "value": None, "unit": ""})

    dist = ["distance", *(size if quick else []), "--json"]
    dcold, dcold_mb, out = _cli(env, *dist)
    dwarm, dwarm_mb, out = _cli(env, *dist)
    dd = json.loads(out)
    if keep:
        with open(os.path.join(keep, "distance.json"), "w") as fh:
            fh.write(out)
    rows += [
        {
            "benchmark": b,
            "case": f"distance to the spiral ({dd['scenario']}): rounds (target < 10)",
            "value": dd["rounds"],
            "unit": "rounds",
        },
        {
            "benchmark": b,
            "case": "distance to the spiral: cold / warm",
            "value": f"{dcold:.1f} / {dwarm:.1f}",
            "unit": "s",
            "baseline": base,
            "ratio": dwarm / base,
        },
        {
            "benchmark": b,
            "case": "distance to the spiral: worlds simulated",
            "value": dd["worlds_simulated"],
            "unit": "worlds",
        },
        {
            "benchmark": b,
            "case": "distance to the spiral: peak memory cold / warm",
            "value": f"{dcold_mb:.0f} / {dwarm_mb:.0f}",
            "unit": "MB",
        },
    ]
    return rows


def main(argv: list[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="policy lab benchmark")
    for col in ("case", "value", "unit", "baseline", "ratio"):
        table.add_column(col, justify="left" if col in ("case", "unit") else "right")
    keep = argv[argv.index("--keep") + 1] if "--keep" in argv else None
    for row in run(quick="--quick" in argv, keep=keep):
        fmt = lambda v: "" if v is None else (f"{v:.4g}" if isinstance(v, float) else str(v))  # noqa: E731
        table.add_row(*(fmt(row.get(k)) for k in ("case", "value", "unit", "baseline", "ratio")))
    Console(width=160).print(table)


if __name__ == "__main__":
    main(sys.argv[1:])
