"""How the engine uses this machine: host CPU devices to split paths over, and the path block.

=========================  ====================================================================
environment variable       effect
=========================  ====================================================================
``BASISLAB_DEVICES``       host CPU devices to split paths over (``1``: one device, no split);
                           default ``os.cpu_count()`` capped at 8 (set by the CLI)
``BASISLAB_PATH_BLOCK``    paths vectorised together in one block (skips the calibration)
``BASISLAB_CALIBRATE``     ``1``: calibrate on first use per (machine, fund bucket, devices);
                           ``0``: ignore the cached calibration (block :data:`DEFAULT_BLOCK`)
=========================  ====================================================================

Host devices exist only if ``XLA_FLAGS`` asks for them before JAX is imported, so the CLI's
simulator commands call ``basislab.app.cli_sim.enable_host_devices`` first: it adds
``--xla_force_host_platform_device_count`` to an existing ``XLA_FLAGS`` (never replacing it) and
does nothing once JAX is loaded. A Python user sets ``XLA_FLAGS`` before importing basislab.

The block is chosen per (machine, fund-count bucket, device count) by :func:`calibrate`: a few
block sizes timed on a short horizon, the fastest kept in ``cache_dir()/engine-tuning.json``
(atomic write, merged with what another process wrote). Each candidate is one compile, so the
calibration runs only when asked (``BASISLAB_CALIBRATE=1``) and is then reused.
"""

from __future__ import annotations

import json
import os
import platform
import time
from typing import Any

#: block used when the calibration is off (``BASISLAB_CALIBRATE=0``) or fails
DEFAULT_BLOCK = 32
#: block sizes timed by the calibration
CANDIDATES = (2, 8, 32)
#: fund-count buckets (a calibration serves every fund count up to its bucket's bound)
FUND_BUCKETS = (16, 64, 256, 1024, 4096)


#: fund-path-steps of one device's executable up to which it compiles with :data:`FAST_COMPILE`
FAST_COMPILE_WORK = 1_000_000
#: XLA options of short runs: LLVM at -O1 (0.65-0.7x the compile of XLA's default -O2; short runs
#: such as seed-thesis at the same speed, long ones about 7% slower: 1,000 funds x 256 paths x 20
#: days) and XLA:CPU's LLVM-IR fusion emitters instead of the MLIR ones (0.93x the compile again,
#: same speed on seed-thesis). Outputs within 1e-12 of -O2's (tested). -O0 compiled in 0.47x of
#: -O2 but ran 2.2x slower and moved outputs by 1.5e-12 (docs/model.md section 14).
FAST_COMPILE: dict[str, Any] = {"xla_backend_optimization_level": 1, "xla_cpu_use_fusion_emitters": False}


def compiler_options(work: int) -> dict[str, Any]:
    """XLA options of an engine executable doing ``work`` fund-path-steps on one device:
    :data:`FAST_COMPILE` up to :data:`FAST_COMPILE_WORK`, XLA's defaults above."""
    return dict(FAST_COMPILE) if work <= FAST_COMPILE_WORK else {}


#: fund-path-steps of a run above which :func:`basislab.sim.engine.run_batch` splits its paths over
#: the host devices by default: a shorter run takes under about 0.4 s on one core, while the split
#: added about 2 s of tracing and compiling to a cold ``simulate seed-thesis`` (192,000
#: fund-path-steps: 18.3 s on one device against 20.3 s on two, medians of 3, docs/model.md 14)
SPLIT_WORK = 2_000_000


def split_pays(work: int) -> bool:
    """Whether a run of ``work`` fund-path-steps is split over the host devices by default."""
    return work > SPLIT_WORK


def devices() -> list[Any]:
    """CPU devices the engine splits paths over (one when JAX runs elsewhere or
    ``BASISLAB_DEVICES=1``)."""
    import jax

    devs = jax.devices()
    if devs[0].platform != "cpu":
        return devs[:1]
    env = os.environ.get("BASISLAB_DEVICES", "").strip()
    cap = int(env) if env.isdigit() and int(env) >= 1 else len(devs)
    return devs[: max(1, min(cap, len(devs)))]


#: fund counts the engine pads a scenario's fund axis to (shape padding, issue 14 item 4): powers
#: of two, so every scenario with 65-128 funds (100 funds, the survival map's) shares one
#: executable and a padded run does at most twice the fund work (1.28x at 100, 1.02x at 1,000);
#: beyond the last bound, multiples of :data:`PAD_FUNDS_STEP`
PAD_FUNDS = (16, 32, 64, 128, 256, 512, 1024, 2048, 4096)
PAD_FUNDS_STEP = 1024
#: horizons (business days) the engine pads the day axis to: powers of two (seed-thesis's 60 days and
#: the survival map's 60 run as 64; the padded days are skipped, not simulated); beyond the last
#: bound, multiples of :data:`PAD_DAYS_STEP`
PAD_DAYS = (8, 16, 32, 64, 128, 256, 512)
PAD_DAYS_STEP = 256


def _pad_to(n: int, bounds: tuple[int, ...], step: int) -> int:
    return next((b for b in bounds if n <= b), -(-n // step) * step)


def padded_funds(n_funds: int) -> int:
    """The fund count a scenario of ``n_funds`` funds is padded to (:data:`PAD_FUNDS`)."""
    return _pad_to(n_funds, PAD_FUNDS, PAD_FUNDS_STEP)


def padded_days(n_days: int) -> int:
    """The number of days a horizon of ``n_days`` business days is padded to (:data:`PAD_DAYS`)."""
    return _pad_to(n_days, PAD_DAYS, PAD_DAYS_STEP)


def fund_bucket(n_funds: int) -> int:
    """Smallest bucket bound at or above ``n_funds`` (the last bucket beyond)."""
    return next((b for b in FUND_BUCKETS if n_funds <= b), FUND_BUCKETS[-1])


def _machine() -> str:
    return f"{platform.machine()}-{os.cpu_count()}cpu-{platform.node()}"


def _store():
    from basislab.paths import cache_dir

    return cache_dir() / "engine-tuning.json"


def _read() -> dict[str, int]:
    try:
        data = json.loads(_store().read_text(encoding="utf-8"))
        return {k: int(v) for k, v in data.items()} if isinstance(data, dict) else {}
    except (OSError, ValueError, TypeError):
        return {}


def _save(key: str, block: int) -> None:
    from basislab.paths import atomic_write_text

    path = _store()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = _read()  # merge with what another process may have written meanwhile
        data[key] = block
        atomic_write_text(path, json.dumps(data, indent=1, sort_keys=True))
    except OSError:  # pragma: no cover - a cache only
        pass


def path_block(n_funds: int, n_devices: int) -> int:
    """Block for ``n_funds`` funds split over ``n_devices`` devices: ``BASISLAB_PATH_BLOCK``, else
    this machine's cached calibration for the fund bucket, else :data:`DEFAULT_BLOCK`.
    ``BASISLAB_CALIBRATE=1`` runs :func:`calibrate` when nothing is cached (it compiles the engine
    once per candidate: about 100 s on a loaded 2-core machine, so it is not run unasked);
    ``BASISLAB_CALIBRATE=0`` ignores the cache."""
    env = os.environ.get("BASISLAB_PATH_BLOCK", "").strip()
    if env.isdigit() and int(env) >= 1:
        return int(env)
    mode = os.environ.get("BASISLAB_CALIBRATE", "").strip()
    if mode == "0":
        return DEFAULT_BLOCK
    key = f"{_machine()}|funds<={fund_bucket(n_funds)}|devices={n_devices}"
    cached = _read().get(key)
    if cached:
        return cached
    if mode != "1":
        return DEFAULT_BLOCK
    try:
        block = calibrate(fund_bucket(n_funds), n_devices)
    except Exception:  # noqa: BLE001 - a failed calibration must not stop a run
        return DEFAULT_BLOCK
    _save(key, block)
    return block


#: seconds per candidate block of the last :func:`calibrate` in this process (the benchmark's rows)
LAST_TIMES: dict[int, float] = {}


def calibrate(n_funds: int, n_devices: int, days: int = 8, rounds: int = 2) -> int:
    """Fastest of :data:`CANDIDATES` on seed-thesis with ``n_funds`` funds, ``days`` days (the shock
    inside them) and 64 paths per device: every block compiled first (from the JAX cache after the
    first time), then timed in ``rounds`` alternating rounds (so a change of the machine's load
    falls on every candidate), the best of each kept."""
    from basislab import sim
    from basislab.sim import engine

    sets = [
        f"funds.count={n_funds}",
        f"horizon_days={days}",
        "shock.start_day=1",
        f"shock.duration_days={days // 2}",
    ]
    sc = sim.load_scenario("seed-thesis", sets)
    params, static = sim.to_engine(sc)
    keys = engine.path_keys(0, 64 * n_devices)
    devs = tuple(devices()[:n_devices])
    runs = {b: engine.Runner(static, b, devs) for b in CANDIDATES}
    for fn in runs.values():
        engine.block_until_ready(fn(params, keys))
    times = dict.fromkeys(CANDIDATES, float("inf"))
    for _ in range(rounds):
        for b, fn in runs.items():
            t0 = time.perf_counter()
            engine.block_until_ready(fn(params, keys))
            times[b] = min(times[b], time.perf_counter() - t0)
    LAST_TIMES.clear()
    LAST_TIMES.update(times)
    return min(CANDIDATES, key=lambda b: (times[b], b != DEFAULT_BLOCK))


def _compiled_marker(static: Any, block: int, n_devices: int):
    import hashlib

    from basislab.paths import cache_dir

    tag = hashlib.sha256(f"{static!r}|{block}|{n_devices}".encode()).hexdigest()[:24]
    return cache_dir() / "engine-compiled" / tag


def compile_expected(static: Any, block: int, n_devices: int) -> bool:
    """True when this machine has not yet run the engine for this static config, block and device
    count (so the next run compiles rather than loads from the JAX cache)."""
    return not _compiled_marker(static, block, n_devices).exists()


def mark_compiled(static: Any, block: int, n_devices: int) -> None:
    """Record that the engine for this config has run here (an empty marker file)."""
    path = _compiled_marker(static, block, n_devices)
    if path.exists():
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    except OSError:  # pragma: no cover - a hint only
        pass
