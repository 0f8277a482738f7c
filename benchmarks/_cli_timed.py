"""One ``basislab`` CLI run in this process, timed stage by stage (run by ``bench_cold.py`` as a
fresh process, so that a cold run starts with empty caches).

Usage: ``python benchmarks/_cli_timed.py [--baseline] CLI-ARGS...``. ``--baseline`` runs the
engine before issue 14: the whole run as one executable (``engine.fused_runner``, block 32, a
remainder block compiled on its own), one device, XLA's default options, and the compile cache
keeping only compiles of a second or more. Prints one JSON line on stderr, prefixed ``TIMED``:
seconds from this script's first line to the end (``wall``; the caller times the whole
process), importing JAX, and JAX's own event durations summed over the run (tracing, lowering
to MLIR, XLA compiles; the compiles of the new engine overlap, so their sum can exceed the wall
time), compile-cache hits and misses, the process's CPU seconds (all threads) and its peak
resident memory.
"""

from __future__ import annotations

import functools
import json
import os
import resource
import sys
import time
from collections import defaultdict

START = time.perf_counter()
BASELINE = "--baseline" in sys.argv[1:]
ARGS = [a for a in sys.argv[1:] if a != "--baseline"]

if BASELINE:
    os.environ["BASISLAB_DEVICES"] = "1"

from basislab.app.cli_sim import enable_host_devices  # noqa: E402

enable_host_devices()
t_jax = time.perf_counter()
import jax  # noqa: E402
import jax.monitoring as monitoring  # noqa: E402

t_jax = time.perf_counter() - t_jax

durations: dict[str, float] = defaultdict(float)
counts: dict[str, int] = defaultdict(int)


def _duration(event: str, secs: float, **_: object) -> None:
    durations[event.rsplit("/", 1)[-1]] += secs
    counts[event.rsplit("/", 1)[-1]] += 1


def _event(event: str, **_: object) -> None:
    counts[event.rsplit("/", 1)[-1]] += 1


monitoring.register_event_duration_secs_listener(_duration)
monitoring.register_event_listener(_event)

if BASELINE:
    from basislab.app import cli_sim
    from basislab.sim import engine

    engine._runner = functools.lru_cache(maxsize=32)(
        lambda static, block, devs: engine.fused_runner(static, 32)
    )  # type: ignore[assignment]
    enable_cache = cli_sim._enable_compile_cache

    def _old_cache() -> None:
        enable_cache()
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 1.0)

    cli_sim._enable_compile_cache = _old_cache  # type: ignore[assignment]

from basislab.app.cli import app  # noqa: E402

code = 0
try:
    app(ARGS, standalone_mode=False)
except SystemExit as exc:  # pragma: no cover - typer exits on errors only
    code = int(exc.code or 0)
out = {
    "wall": time.perf_counter() - START,
    "import_jax": t_jax,
    "trace": durations["jaxpr_trace_duration"],
    "lower": durations["jaxpr_to_mlir_module_duration"],
    "compile": durations["backend_compile_duration"],
    "compiles": counts["backend_compile_duration"],
    "cache_hits": counts["cache_hits"],
    "cache_misses": counts["cache_misses"],
    "cache_requests": counts["compile_requests_use_cache"],
    "cache_load": durations["cache_retrieval_time_sec"],
    "cpu": resource.getrusage(resource.RUSAGE_SELF).ru_utime
    + resource.getrusage(resource.RUSAGE_SELF).ru_stime,
    "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "code": code,
}
print("TIMED " + json.dumps(out), file=sys.stderr)
sys.exit(code)
