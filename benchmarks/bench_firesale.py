"""Fire-sale engine on a synthetic system of 10,000 banks x 100 assets x 20 steps
(:func:`basislab.firesale.synthetic_system`, seed 0; 10% shock on the first 20 assets, 1%
exponential impact, threshold model).

Rows: the jitted JAX engine cold (trace + compile + run) and warm (median of 3); the same
engine op by op (``jax.disable_jit``); the loop-based reference of the tests
(``tests/firesale/reference.py``, one Python object per bank, INET's algorithm) on a
``--ref-banks`` subset with all 100 assets and 20 steps, scaled linearly to 10,000 banks; and
the 63 INET default-experiment scenarios on the 48 EBA banks in one vmapped call. Baselines are
measured in the same process; ``ratio`` is baseline time / engine time.

Usage: ``python benchmarks/bench_firesale.py [--quick]`` (or ``python benchmarks/run.py firesale``).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

N_BANKS, N_ASSETS, N_STEPS = 10_000, 100, 20
SHOCKED, SHOCK, IMPACT = 20, 0.10, 0.01


def _reference_module():
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.firesale import reference

    return reference


def _params(n_assets: int):
    from basislab.firesale.model import Params

    shock = np.zeros(n_assets)
    shock[: min(SHOCKED, n_assets)] = SHOCK
    return Params(
        shock=shock,
        impact=np.full(n_assets, IMPACT),
        linear=np.float64(0.0),
        lev_min=np.float64(0.03),
        lev_buffer=np.float64(0.04),
        lev_target=np.float64(0.05),
    )


def _engine(system, params, steps):
    from basislab.firesale.model import simulate

    final, rec = simulate(system, params, steps)
    final.price.block_until_ready()
    return final, rec


def _reference_seconds(bank_system, steps: int) -> float:
    ref = _reference_module()
    banks = [
        ref.RefBank(
            name=bank_system.names[i],
            cash=float(bank_system.cash[i]),
            other_asset=float(bank_system.other_asset[i]),
            loan=float(bank_system.loan[i]),
            other_liab=float(bank_system.other_liab[i]),
            qty=[float(x) for x in bank_system.holdings[i]],
        )
        for i in range(len(bank_system.names))
    ]
    n_assets = bank_system.holdings.shape[1]
    shock = [SHOCK if k < SHOCKED else 0.0 for k in range(n_assets)]
    t0 = time.perf_counter()
    ref.reference_firesale(banks, shock, IMPACT, steps=steps)
    return time.perf_counter() - t0


def measure(n_banks=N_BANKS, n_assets=N_ASSETS, steps=N_STEPS, ref_banks=200, repeats=3) -> list[dict]:
    """Benchmark rows (see the module docstring) at the given size."""
    import jax

    from basislab.firesale import synthetic_system
    from basislab.firesale.model import system_arrays

    bank_system = synthetic_system(n_banks, n_assets, seed=0)
    system = system_arrays(bank_system)
    params = _params(n_assets)
    size = f"{n_banks:,} banks x {n_assets} assets x {steps} steps"
    work = n_banks * n_assets * steps

    t0 = time.perf_counter()
    final, rec = _engine(system, params, steps)
    cold = time.perf_counter() - t0
    warm = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        _engine(system, params, steps)
        warm.append(time.perf_counter() - t0)
    warm_s = statistics.median(warm)
    defaults = int(np.asarray(rec.defaults).sum())
    sold = float(np.asarray(final.sold).sum() / bank_system.holdings.sum())

    t0 = time.perf_counter()
    with jax.disable_jit():
        _engine(system, params, steps)
    eager = time.perf_counter() - t0

    sub = synthetic_system(ref_banks, n_assets, seed=0)
    ref_s = _reference_seconds(sub, steps) * n_banks / ref_banks

    from basislab.firesale import inet_experiments

    inet_experiments()  # compile
    t0 = time.perf_counter()
    inet_experiments()
    inet_s = time.perf_counter() - t0

    b = "firesale"
    return [
        {"benchmark": b, "case": f"engine cold (compile + run), {size}", "value": cold, "unit": "s"},
        {
            "benchmark": b,
            "case": f"engine warm, {size} ({defaults} defaults, {100 * sold:.1f}% sold)",
            "value": warm_s,
            "unit": "s",
        },
        {
            "benchmark": b,
            "case": "engine throughput",
            "value": work / warm_s / 1e6,
            "unit": "M bank-asset-steps/s",
        },
        {
            "benchmark": b,
            "case": "engine op by op (jax.disable_jit) vs warm",
            "value": warm_s,
            "unit": "s",
            "baseline": eager,
            "ratio": eager / warm_s,
        },
        {
            "benchmark": b,
            "case": f"loop reference ({ref_banks} banks, scaled x{n_banks / ref_banks:g}) vs warm",
            "value": warm_s,
            "unit": "s",
            "baseline": ref_s,
            "ratio": ref_s / warm_s,
        },
        {
            "benchmark": b,
            "case": "INET default experiments, 63 scenarios x 48 EBA banks, warm",
            "value": inet_s,
            "unit": "s",
        },  # fmt: skip
    ]


def run(quick: bool = False) -> list[dict]:
    """Rows for ``benchmarks/run.py``; ``quick`` uses 1,000 banks and a 50-bank reference."""
    if quick:
        return measure(n_banks=1_000, ref_banks=50, repeats=2)
    return measure()


if __name__ == "__main__":
    from rich.console import Console
    from rich.table import Table

    rows = run(quick="--quick" in sys.argv)
    table = Table(title="fire-sale engine")
    for col in ("case", "value", "unit", "baseline", "ratio"):
        table.add_column(col, justify="left" if col in ("case", "unit") else "right")
    for r in rows:
        fmt = lambda v: "" if v is None else (f"{v:.4g}" if isinstance(v, float) else str(v))  # noqa: E731
        table.add_row(*(fmt(r.get(k)) for k in ("case", "value", "unit", "baseline", "ratio")))
    Console(width=160).print(table)
