"""Simulator throughput: fund-steps per second against batch size (paths) and fund count, peak
memory, cost linearity, and the memory-bandwidth roofline.

The roofline is the throughput a step would reach if it did nothing but read and write the
per-fund state once: (bytes of state read + written per fund-step) against the bandwidth of a
plain array copy timed in this same run. The target for 1,000 funds x 1,000 paths is
min(5e7 fund-steps/s, half the roofline). Timings exclude compilation (reported separately).
"""

from __future__ import annotations

import resource
import time

import jax
import numpy as np

from basislab import sim
from basislab.sim import model
from basislab.sim.engine import PATH_BLOCK, compiled_runner, path_keys, run_batch

try:  # the engine before the per-player books (issue 9), timed side by side with the new one
    from _baseline_sim import engine as baseline_engine
    from _baseline_sim import old_inputs
except ImportError:  # pragma: no cover - imported as benchmarks.bench_sim
    from benchmarks._baseline_sim import engine as baseline_engine
    from benchmarks._baseline_sim import old_inputs

STEPS = 20
TARGET = 5e7


#: overrides that turn the seed-thesis shock off: a calm market, where every window is quiet
CALM = [f"shock.{field}.{b}=0" for field in ("yield_bp", "cash_dislocation_bp") for b in model.BUCKETS] + [
    "shock.vol_multiplier=1"
]


def _scenario(
    funds: int, steps: int = STEPS, distribution: bool = False, calm: bool = False, as_shipped: bool = False
):
    """The benchmark's scenario: seed-thesis with ``funds`` funds, over ``steps`` days with the shock
    on days 2-5 (or, ``as_shipped``, the preset's own 60-day horizon and shock; or ``calm``)."""
    sets = [f"funds.count={funds}", f"engine.record_distribution={str(distribution).lower()}"]
    if not as_shipped:
        sets += [f"horizon_days={steps}", "shock.start_day=2", "shock.duration_days=4"]
    return sim.load_scenario("seed-thesis", sets + (CALM if calm else []))


def state_bytes_per_fund(funds: int = 8) -> int:
    """Bytes of per-fund state (every State field with a fund axis; it is the last axis)."""
    p, s = sim.to_engine(_scenario(funds))
    st = jax.eval_shape(lambda k: sim.model.init_state(k, p, s), jax.random.PRNGKey(0))
    total = 0
    for leaf in jax.tree_util.tree_leaves(st):
        if leaf.shape and leaf.shape[-1] == funds:
            total += int(np.prod(leaf.shape[:-1], dtype=np.int64)) * leaf.dtype.itemsize
    return total


def best_seconds(fn, repeats: int) -> float:
    """Fastest of ``repeats`` timed calls of ``fn`` (which must block until its work is done)."""
    best = np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def copy_bandwidth(nbytes: int = 400_000_000, repeats: int = 5) -> float:
    """Bytes moved per second (read + write) by a plain array copy, best of ``repeats``."""
    a = np.ones(nbytes // 8)
    b = np.empty_like(a)
    return 2 * a.nbytes / best_seconds(lambda: np.copyto(b, a), repeats)


def step_traffic_per_fund(funds: int = 1000, quiet: bool = False) -> tuple[float, float]:
    """XLA's own cost analysis of one compiled step of one path: (bytes accessed, flops) per
    fund-step. The bytes count every intermediate array the compiled kernels read and write; XLA
    counts the costlier side of each ``lax.cond`` (so the full step is a busy day with defaults).
    With ``quiet`` both settlement windows are compiled
    as quiet windows (the calm-market step: no sales, no clearing, no waterfall)."""
    p, s = sim.to_engine(_scenario(funds))
    key = jax.random.PRNGKey(0)
    st0 = model.init_state(key, p, s)
    sh = jax.tree_util.tree_map(lambda x: x[0], model.draw_shocks(key, p, s))
    # quiet: every window takes the quiet branch (the batch reducer says nobody is busy); full: the
    # shortcuts off, so every window runs the clearing iterations (and XLA counts the waterfall)
    never = lambda mask: False  # noqa: E731
    static = s._replace(skip_quiet_windows=quiet)
    fn = jax.jit(lambda p, st, sh: model.step(p, st, sh, static, never if quiet else model.any_in_path))
    ca = fn.lower(p, st0, sh).compile().cost_analysis()
    ca = ca[0] if isinstance(ca, list) else ca
    return ca["bytes accessed"] / funds, ca["flops"] / funds


def dgemm_flops(n: int = 2000, repeats: int = 3) -> float:
    """Float64 flops per second of a dense matrix product (numpy's BLAS on every core): the
    machine's practical arithmetic peak, timed in this same run."""
    rng = np.random.default_rng(0)
    a, b = rng.random((n, n)), rng.random((n, n))
    a @ b
    return 2.0 * n**3 / best_seconds(lambda: a @ b, repeats)


def busy_share(funds: int, paths: int, calm: bool = False) -> float:
    """Share of (block of ``PATH_BLOCK`` paths, day) pairs in which some fund on some path of the
    block unwound, sold other assets or defaulted in a window: the days that run the full
    settlement (clearing iterations, waterfall) instead of the quiet branch."""
    p, s = sim.to_engine(_scenario(funds, calm=calm))
    out = run_batch(p, s, 0, paths).outputs
    busy = (
        (out["other_sold"] > 0)
        | (out["sold_unwind"].sum(-1) > 0)
        | (out["sold_default"].sum(-1) > 0)
        | (out["new_defaults"] > 0)
    )
    blocks = busy[: paths - paths % PATH_BLOCK].reshape(-1, PATH_BLOCK, busy.shape[1]).any(1)
    return float(blocks.mean())


def time_population(funds: int, paths: int, repeats: int = 3) -> float:
    """Seconds to draw the fund population (sizes, leverage, Dirichlet mixes, Beta shares) and the
    shocks of ``paths`` paths: the fixed cost per path, paid once whatever the horizon."""
    p, s = sim.to_engine(_scenario(funds))
    keys = path_keys(0, paths)
    f = jax.jit(jax.vmap(lambda k: (sim.model.init_state(k, p, s), sim.model.draw_shocks(k, p, s))))
    jax.block_until_ready(f(keys))
    return best_seconds(lambda: jax.block_until_ready(f(keys)), repeats)


def time_engine(
    funds: int,
    paths: int,
    steps: int = STEPS,
    repeats: int = 3,
    distribution: bool = False,
    backstop: bool = False,
    calm: bool = False,
    as_shipped: bool = False,
    baseline: bool = False,
) -> dict:
    """Best-of-``repeats`` timing of one compiled run (``baseline``: the engine before issue 9,
    fed the same numbers)."""
    sc = sim.with_backstop(_scenario(funds, steps, distribution, calm, as_shipped), backstop)
    steps = sc.horizon_days
    p, s = sim.to_engine(sc)
    keys = path_keys(0, paths)
    t0 = time.perf_counter()
    if baseline:
        p, s = old_inputs(p, s)
        compiled = baseline_engine.compiled_runner(s).lower(p, keys).compile()
        mem = compiled.memory_analysis()
        peak = mem.temp_size_in_bytes + mem.output_size_in_bytes + mem.argument_size_in_bytes
    else:  # one device, block PATH_BLOCK: the start and the days, two executables
        compiled = compiled_runner(s, block=PATH_BLOCK, n_devices=1)
        compiled.compile(p, keys)
        peak = compiled.memory_bytes(p, keys)
    compile_s = time.perf_counter() - t0
    jax.block_until_ready(compiled(p, keys))
    best = best_seconds(lambda: jax.block_until_ready(compiled(p, keys)), repeats)
    return {
        "seconds": best,
        "fund_steps_per_s": funds * paths * steps / best,
        "compile_s": compile_s,
        "peak_bytes": peak,
    }


def side_by_side(funds: int, paths: int, rounds: int = 2) -> list[dict]:
    """The engine on per-player books against the engine before it (``benchmarks/_baseline_sim``),
    same scenario and numbers, timed alternately in this process (best of each)."""
    new, old = [], []
    for _ in range(rounds):
        old.append(time_engine(funds, paths, baseline=True)["seconds"])
        new.append(time_engine(funds, paths)["seconds"])
    n, o = min(new), min(old)
    rate = lambda sec: funds * paths * STEPS / sec  # noqa: E731
    return [
        {
            "benchmark": "sim",
            "case": f"per-player books vs before (issue 9), {funds} x {paths} x {STEPS} steps",
            "value": rate(n),
            "unit": "fund-steps/s",
            "baseline": rate(o),
            "ratio": o / n,
        }
    ]


def run(quick: bool = False) -> list[dict]:
    rows: list[dict] = []
    bw = copy_bandwidth(200_000_000 if quick else 400_000_000)
    per_fund = state_bytes_per_fund()
    rw = 2 * per_fund
    roofline = bw / rw
    target = min(TARGET, 0.5 * roofline)
    rows.append(
        {"benchmark": "sim", "case": "plain array copy", "value": bw / 1e9, "unit": "GB/s (read+write)"}
    )
    rows.append(
        {
            "benchmark": "sim",
            "case": "state per fund (read+write per fund-step)",
            "value": float(rw),
            "unit": "bytes",
        }
    )
    rows.append(
        {
            "benchmark": "sim",
            "case": "roofline = copy bandwidth / bytes per fund-step",
            "value": roofline,
            "unit": "fund-steps/s",
        }
    )
    grid = (
        [(100, 10), (100, 100), (1000, 10), (1000, 100)]
        if quick
        else [(100, 10), (100, 100), (100, 1000), (1000, 10), (1000, 100), (1000, 1000)]
    )
    results = {}
    for funds, paths in grid:
        r = time_engine(funds, paths)
        results[(funds, paths)] = r
        rows.append(
            {
                "benchmark": "sim",
                "case": f"{funds} funds x {paths} paths x {STEPS} steps",
                "value": r["fund_steps_per_s"],
                "unit": "fund-steps/s",
                "baseline": roofline,
                "ratio": r["fund_steps_per_s"] / roofline,
            }
        )
        rows.append(
            {
                "benchmark": "sim",
                "case": f"peak memory {funds} funds x {paths} paths",
                "value": r["peak_bytes"] / 1e6,
                "unit": "MB (XLA buffers)",
            }
        )
    big = max(results, key=lambda k: k[0] * k[1])
    rows += side_by_side(*big)
    rows.append(
        {
            "benchmark": "sim",
            "case": f"target at {big[0]} funds x {big[1]} paths: min(5e7, roofline/2)",
            "value": results[big]["fund_steps_per_s"],
            "unit": "fund-steps/s",
            "baseline": target,
            "ratio": results[big]["fund_steps_per_s"] / target,
        }
    )
    # linearity: seconds per fund-step across sizes, relative to the largest case; and in steps
    ref = results[big]["seconds"] / (big[0] * big[1])
    for (funds, paths), r in results.items():
        if (funds, paths) == big or funds * paths < 10_000:
            continue
        per = r["seconds"] / (funds * paths)
        rows.append(
            {
                "benchmark": "sim",
                "case": f"cost per fund-path, {funds}x{paths} vs {big[0]}x{big[1]}",
                "value": per * 1e9 / STEPS,
                "unit": "ns per fund-step",
                "baseline": ref * 1e9 / STEPS,
                "ratio": per / ref,
            }
        )
    n_f, n_p = (1000, 100)
    r2 = time_engine(n_f, n_p, steps=2 * STEPS)
    per_step = results[(n_f, n_p)]["seconds"] / STEPS
    rows.append(
        {
            "benchmark": "sim",
            "case": f"cost per step: {2 * STEPS} vs {STEPS} steps ({n_f}x{n_p})",
            "value": r2["seconds"] / (2 * STEPS),
            "unit": "s per step",
            "baseline": per_step,
            "ratio": r2["seconds"] / (2 * STEPS) / per_step,
        }
    )
    rb = time_engine(n_f, n_p, backstop=True)
    rows.append(
        {
            "benchmark": "sim",
            "case": f"backstop on (draws on most days, no defaults) ({n_f}x{n_p})",
            "value": rb["fund_steps_per_s"],
            "unit": "fund-steps/s",
            "baseline": results[(n_f, n_p)]["fund_steps_per_s"],
            "ratio": rb["fund_steps_per_s"] / results[(n_f, n_p)]["fund_steps_per_s"],
        }
    )
    pop = time_population(n_f, n_p)
    rows.append(
        {
            "benchmark": "sim",
            "case": f"population + shock draw, share of a {STEPS}-step run ({n_f}x{n_p})",
            "value": pop,
            "unit": "s",
            "baseline": results[(n_f, n_p)]["seconds"],
            "ratio": pop / results[(n_f, n_p)]["seconds"],
        }
    )
    rows.append(
        {
            "benchmark": "sim",
            "case": f"step rate without the population draw ({n_f}x{n_p})",
            "value": n_f * n_p * STEPS / (results[(n_f, n_p)]["seconds"] - pop),
            "unit": "fund-steps/s",
            "baseline": roofline,
            "ratio": n_f * n_p * STEPS / (results[(n_f, n_p)]["seconds"] - pop) / roofline,
        }
    )
    traffic, flops = step_traffic_per_fund(n_f)
    rows.append(
        {
            "benchmark": "sim",
            "case": "compiled step: bytes accessed per fund-step (XLA cost analysis)",
            "value": traffic,
            "unit": "bytes",
            "baseline": float(rw),
            "ratio": traffic / rw,
        }
    )
    rows.append(
        {
            "benchmark": "sim",
            "case": "compiled step: flops per fund-step (XLA cost analysis)",
            "value": flops,
            "unit": "flops",
        }
    )
    # what bounds the step: the arithmetic of a calm step against the machine's dgemm rate
    rc = time_engine(n_f, n_p, calm=True)
    rows.append(
        {
            "benchmark": "sim",
            "case": f"calm market, every window quiet ({n_f}x{n_p})",
            "value": rc["fund_steps_per_s"],
            "unit": "fund-steps/s",
            "baseline": results[(n_f, n_p)]["fund_steps_per_s"],
            "ratio": rc["fund_steps_per_s"] / results[(n_f, n_p)]["fund_steps_per_s"],
        }
    )
    for label, calm in (("benchmark scenario", False), ("calm market", True)):
        rows.append(
            {
                "benchmark": "sim",
                "case": f"busy (block of {PATH_BLOCK} paths, day) share, {label}",
                "value": busy_share(n_f, 2 * PATH_BLOCK if quick else 4 * PATH_BLOCK, calm),
                "unit": "fraction",
            }
        )
    peak = dgemm_flops(1000 if quick else 2000)
    _, quiet_flops = step_traffic_per_fund(n_f, quiet=True)
    rows.append(
        {
            "benchmark": "sim",
            "case": "dense float64 matrix product (numpy BLAS, all cores)",
            "value": peak / 1e9,
            "unit": "GFLOP/s",
        }
    )
    rows.append(
        {
            "benchmark": "sim",
            "case": "calm step: flops per fund-step (XLA cost analysis)",
            "value": quiet_flops,
            "unit": "flops",
        }
    )
    rows.append(
        {
            "benchmark": "sim",
            "case": "calm step: arithmetic rate reached vs dgemm",
            "value": rc["fund_steps_per_s"] * quiet_flops / 1e9,
            "unit": "GFLOP/s",
            "baseline": peak / 1e9,
            "ratio": rc["fund_steps_per_s"] * quiet_flops / peak,
        }
    )
    rows.append(
        {
            "benchmark": "sim",
            "case": "target x calm-step flops vs dgemm (share of peak the target needs)",
            "value": target * quiet_flops / 1e9,
            "unit": "GFLOP/s",
            "baseline": peak / 1e9,
            "ratio": target * quiet_flops / peak,
        }
    )
    rows.append(
        {
            "benchmark": "sim",
            "case": "target x full-step flops vs dgemm (busy windows, costlier cond sides)",
            "value": target * flops / 1e9,
            "unit": "GFLOP/s",
            "baseline": peak / 1e9,
            "ratio": target * flops / peak,
        }
    )
    if not quick:
        rs = time_engine(big[0], big[1], as_shipped=True)
        rows.append(
            {
                "benchmark": "sim",
                "case": f"seed-thesis as shipped (60 days), {big[0]} x {big[1]}",
                "value": rs["fund_steps_per_s"],
                "unit": "fund-steps/s",
                "baseline": target,
                "ratio": rs["fund_steps_per_s"] / target,
            }
        )
    rd = time_engine(n_f, n_p, distribution=True)
    rows.append(
        {
            "benchmark": "sim",
            "case": f"with fund-distribution quantiles ({n_f}x{n_p})",
            "value": rd["fund_steps_per_s"],
            "unit": "fund-steps/s",
            "baseline": results[(n_f, n_p)]["fund_steps_per_s"],
            "ratio": rd["fund_steps_per_s"] / results[(n_f, n_p)]["fund_steps_per_s"],
        }
    )
    rows.append(
        {
            "benchmark": "sim",
            "case": "compile time (one Static)",
            "value": results[(n_f, n_p)]["compile_s"],
            "unit": "s",
        }
    )
    rows.append(
        {
            "benchmark": "sim",
            "case": "process peak RSS",
            "unit": "MB",
            "value": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
    )
    return rows


if __name__ == "__main__":  # pragma: no cover
    for row in run(quick=True):
        print(row)
