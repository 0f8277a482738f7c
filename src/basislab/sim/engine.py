"""Batched runner: ``lax.scan`` over days, ``vmap`` over paths (and scenarios), one compilation per
:class:`~basislab.sim.model.Static`, and a NaN/inf check outside ``jit``.

Shape padding (docs/model.md section 14): :func:`run_batch` pads the fund axis and the day axis
to buckets (:func:`basislab.sim.tuning.padded_funds` / :func:`~basislab.sim.tuning.padded_days`,
:func:`pad`), so scenarios whose fund counts and horizons fall in one bucket share one compiled
pair. Padded funds are inert (empty books, never alive: :func:`basislab.sim.model.init_state`),
padded days are skipped (:func:`scan_path`), and the outputs are cut back to the scenario's
funds and days; every draw is keyed by fund and by day, so a padded run gives the numbers of the
unpadded one (to round-off: sums over 100 and over 128 funds round differently)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from basislab.errors import SimulationError
from basislab.sim import model
from basislab.sim.model import Params, Static


def any_in_block(mask: jax.Array) -> jax.Array:
    """True when ``mask`` holds anywhere on any path of the vmapped block (``PATH_AXIS``), so a
    ``lax.cond`` on it stays a real branch under ``vmap`` instead of running both sides."""
    hit = jax.lax.pmax(jnp.any(mask).astype(jnp.int32), PATH_AXIS)
    return hit > 0


def init_path(params: Params, key: jax.Array, static: Static):
    """The start of one world: the fund population and the shocks drawn from ``key``, and the
    opening ledger (the same draws whatever runs them)."""
    k_init, k_shock = jax.random.split(key)
    st0 = model.init_state(k_init, params, static)
    shocks = model.draw_shocks(k_shock, params, static)
    led0 = model.ledger(params, st0, model.prices(params, st0, st0.markets.day))
    return st0, shocks, led0


def scan_path(params: Params, st0, shocks, static: Static, any_in_batch=model.any_in_path):
    """The days of one world from ``st0``: ``lax.scan`` of :func:`basislab.sim.model.step` over the
    day axis. A day at or past ``params.market.horizon_days`` (padding) is skipped by a
    ``lax.cond`` (its state unchanged, its outputs zeros, cut by :func:`run_batch`); the
    predicate is the same on every path, so under ``vmap`` over paths it stays a real branch."""

    def live(st, sh):
        return model.step(params, st, sh, static, any_in_batch)

    return scan_days(params, st0, shocks, static, live)


def scan_days(params: Params, st0, shocks, static: Static, live):
    """``lax.scan`` of ``live(state, shocks) -> (state, outputs)`` over the day axis, skipping the
    padded days past ``params.market.horizon_days`` (state unchanged, outputs zeros). Returns
    (outputs, final state); :func:`scan_path` and the episode runner's recording step use it."""
    first = jax.tree_util.tree_map(lambda x: x[0], shocks)
    out_shape = jax.eval_shape(lambda s_, h_: live(s_, h_)[1], st0, first)

    def skip(st, sh):
        return st, jax.tree_util.tree_map(lambda a: jnp.zeros(a.shape, a.dtype), out_shape)

    def body(st, xs):
        sh, day = xs
        return jax.lax.cond(day < params.market.horizon_days, live, skip, st, sh)

    days = jnp.arange(static.n_steps, dtype=jnp.float64)
    st_t, outs = jax.lax.scan(body, st0, (shocks, days))
    return outs, st_t


def simulate_path(params: Params, key: jax.Array, static: Static, any_in_batch=model.any_in_path):
    """One world: draw the population and the shocks from ``key``, then scan the days
    (``any_in_batch``: how the engine asks whether any path batched with this one is busy)."""
    st0, shocks, led0 = init_path(params, key, static)
    outs, st_t = scan_path(params, st0, shocks, static, any_in_batch)
    return led0, outs, st_t


#: paths vectorised together inside one compiled run; larger batches are walked in cache-sized
#: blocks of this many paths (``lax.map(batch_size=...)``: 1.6x faster at 1,000 x 1,000 on CPU)
PATH_BLOCK = 32


#: name of the ``vmap`` axis over the paths of a block (lets a step ask "is any path busy?")
PATH_AXIS = "paths"


def _paths(p: Params, keys: jax.Array, static: Static, block: int = PATH_BLOCK):
    """Blocks of ``block`` paths, each block one ``vmap`` (named ``PATH_AXIS``), walked by
    ``lax.map``; a remainder block is vmapped on its own. Every path's numbers are the same
    whatever block it lands in."""
    n = keys.shape[0]
    blk = min(block, n)
    one = jax.vmap(lambda k: simulate_path(p, k, static, any_in_block), axis_name=PATH_AXIS)
    full = n - n % blk
    out = jax.lax.map(one, keys[:full].reshape(full // blk, blk, *keys.shape[1:]))
    out = jax.tree_util.tree_map(lambda x: x.reshape(full, *x.shape[2:]), out)
    if full == n:
        return out
    rest = one(keys[full:])
    return jax.tree_util.tree_map(lambda a, b: jnp.concatenate([a, b]), out, rest)


#: name of the mesh axis over host devices (paths are split along it)
DEVICE_AXIS = "devices"

#: XLA options of every engine executable, over those :func:`basislab.sim.tuning.compiler_options`
#: picks by run size (LLVM -O1 for short runs, XLA's default -O2 for long ones)
COMPILER_OPTIONS: dict[str, Any] = {}


def _over_blocks(f, p: Params, xs, block: int):
    """``f(p, *x)`` for every path of the path-leading arrays ``xs``: blocks of ``block`` paths,
    each one ``vmap`` (named ``PATH_AXIS``), walked by ``lax.map`` (the path count is a multiple of
    ``block``: :func:`plan` pads it)."""
    n = jax.tree_util.tree_leaves(xs)[0].shape[0]
    one = jax.vmap(lambda x: f(p, *x), axis_name=PATH_AXIS)
    split = jax.tree_util.tree_map(lambda a: a.reshape(n // block, block, *a.shape[1:]), xs)
    out = jax.lax.map(one, split)
    return jax.tree_util.tree_map(lambda a: a.reshape(n, *a.shape[2:]), out)


def plan(paths: int, block: int, n_devices: int) -> tuple[int, int]:
    """(block, padded path count): each device gets ``ceil(paths / n_devices)`` paths walked in as
    few blocks of at most ``block`` paths as fit, of equal size, so the padding is under one path
    per block and no remainder block is compiled on its own (it doubled the compile)."""
    per = -(-paths // n_devices)
    blk = -(-per // -(-per // max(1, min(block, per))))
    return blk, n_devices * blk * -(-per // blk)


class Runner:
    """The engine for one :class:`Static`, block and device set, as two executables: the start of
    every path (population and shock draws, :func:`init_path`) and the days (:func:`scan_path`).
    The start compiles on a second thread while the days are traced and compiled (XLA releases
    the GIL), which pays when a second core is free; the start state is handed over on the devices
    and donated to the final state.
    Paths are padded (copies of the last key) to the :func:`plan` and the padding dropped after.
    Call it as ``runner(params, keys) -> (ledger0, outputs, final state)``."""

    def __init__(self, static: Static, block: int, devs: tuple, options: dict[str, Any] | None = None):
        self.static, self.block, self.devs, self.fixed = static, block, devs, options
        self._compiled: dict[Any, tuple[Any, Any]] = {}
        self._lock = threading.Lock()

    def _jits(self, blk: int):
        s = self.static
        init = lambda p, k: _over_blocks(lambda pp, kk: init_path(pp, kk, s), p, (k,), blk)  # noqa: E731
        scan = lambda p, st0, sh: _over_blocks(  # noqa: E731
            lambda pp, a, b: scan_path(pp, a, b, s, any_in_block), p, (st0, sh), blk
        )
        if len(self.devs) == 1:
            return jax.jit(init), jax.jit(scan, donate_argnums=(1,))
        mesh = jax.sharding.Mesh(np.asarray(self.devs), (DEVICE_AXIS,))
        rep, spec = jax.sharding.PartitionSpec(), jax.sharding.PartitionSpec(DEVICE_AXIS)
        out = jax.sharding.NamedSharding(mesh, spec)

        def split(f, n_in: int, **kw):
            g = jax.shard_map(f, mesh=mesh, in_specs=(rep, *[spec] * n_in), out_specs=spec, check_vma=False)
            ins = (jax.sharding.NamedSharding(mesh, rep), *[out] * n_in)
            return jax.jit(g, in_shardings=ins, out_shardings=out, **kw)

        return split(init, 1), split(scan, 2, donate_argnums=(1,))

    def compile(self, params: Params, keys: jax.Array):
        """The two executables for this path count and these parameter shapes: compiled (or loaded
        from JAX's persistent cache) concurrently, kept for the next call."""
        blk, padded = plan(keys.shape[0], self.block, len(self.devs))
        sig = (padded, jax.tree_util.tree_structure(params), *map(_aval, jax.tree_util.tree_leaves(params)))
        with self._lock:
            if sig in self._compiled:
                return blk, padded, self._compiled[sig]
            init, scan = self._jits(blk)
            k = jax.ShapeDtypeStruct((padded, *keys.shape[1:]), keys.dtype)
            opts = self.options(padded)
            with ThreadPoolExecutor(1) as pool:
                low = init.lower(params, k)
                first = pool.submit(low.compile, opts)
                st0, shocks, _ = low.out_info
                second = scan.lower(params, st0, shocks).compile(opts)
                pair = (first.result(), second)
            self._compiled[sig] = pair
            return blk, padded, pair

    def options(self, padded: int) -> dict[str, Any]:
        """XLA options for ``padded`` paths: those given to the runner, else
        :func:`basislab.sim.tuning.compiler_options` of one device's work, updated with
        :data:`COMPILER_OPTIONS`."""
        from basislab.sim import tuning

        if self.fixed is not None:
            return dict(self.fixed)
        work = self.static.n_funds * self.static.n_steps * padded // len(self.devs)
        return {**tuning.compiler_options(work), **COMPILER_OPTIONS}

    def __call__(self, params: Params, keys: jax.Array):
        n = keys.shape[0]
        _, padded, (init, scan) = self.compile(params, keys)
        if padded > n:
            keys = jnp.concatenate([keys, jnp.repeat(keys[-1:], padded - n, axis=0)])
        st0, shocks, led0 = init(params, keys)
        outs, st_t = scan(params, st0, shocks)
        out = (led0, outs, st_t)
        return jax.tree_util.tree_map(lambda x: x[:n], out) if padded > n else out

    def memory_bytes(self, params: Params, keys: jax.Array) -> int:
        """Peak bytes XLA holds for a call (per device): the start's arguments, outputs and
        temporaries, or the days' with the start's opening ledger still alive and the start state
        donated to the final state (counted once), whichever is larger."""
        _, _, (init, scan) = self.compile(params, keys)
        a, b = init.memory_analysis(), scan.memory_analysis()
        first = a.argument_size_in_bytes + a.output_size_in_bytes + a.temp_size_in_bytes
        led0 = sum(x.size * x.dtype.itemsize for x in jax.tree_util.tree_leaves(init.out_info[2]))
        days = (
            b.argument_size_in_bytes + b.output_size_in_bytes + b.temp_size_in_bytes - b.alias_size_in_bytes
        )
        return max(first, days + led0 // len(self.devs))


def _aval(x: Any) -> tuple:
    dtype = x.dtype if hasattr(x, "dtype") else np.result_type(x)
    return (np.shape(x), np.dtype(dtype).str, bool(getattr(x, "weak_type", False)))


def _resolve(
    static: Static, block: int | None, n_devices: int | None, paths: int | None = None
) -> tuple[int, tuple]:
    from basislab.sim import tuning

    avail = tuning.devices()
    devs = tuple(avail[: max(1, min(n_devices, len(avail)))] if n_devices else avail)
    if not n_devices and paths is not None and not tuning.split_pays(static.n_funds * static.n_steps * paths):
        devs = devs[:1]
    blk = block or tuning.path_block(static.n_funds, len(devs))
    return int(blk), devs


def compile_expected(static: Static, paths: int | None = None) -> bool:
    """True when the next :func:`run_batch` of ``paths`` paths with the default block and devices
    (padded to the buckets of ``static``, the scenario's unpadded shapes) will compile (not yet
    run on this machine: :func:`basislab.sim.tuning.compile_expected`)."""
    from basislab.sim import tuning

    static = static._replace(
        n_funds=tuning.padded_funds(static.n_funds), n_steps=tuning.padded_days(static.n_steps)
    )
    blk, devs = _resolve(static, None, None, paths)
    return tuning.compile_expected(static, blk, len(devs))


def compiled_runner(static: Static, block: int | None = None, n_devices: int | None = None) -> Runner:
    """The :class:`Runner` of the vectorised run over a batch of keys (paths), cached per static
    config, block and device set. Defaults: the tuned block
    (:func:`basislab.sim.tuning.path_block`) and every host device the engine may use
    (:func:`basislab.sim.tuning.devices`)."""
    blk, devs = _resolve(static, block, n_devices)
    return _runner(static, blk, devs)


@lru_cache(maxsize=32)
def _runner(static: Static, block: int, devs: tuple) -> Runner:
    return Runner(static, block, devs)


def fused_runner(static: Static, block: int = PATH_BLOCK):
    """``jit`` of the whole run in one executable on one device, with a remainder block compiled
    on its own: the engine before issue 14 (the benchmarks' baseline)."""
    return jax.jit(lambda p, k: _paths(p, k, static, block))


@lru_cache(maxsize=8)
def compiled_scenario_batch(static: Static):
    """``jit(vmap(vmap(...)))``: a batch of parameter sets (scenarios) x a batch of keys (one
    device, the default block)."""
    return jax.jit(jax.vmap(lambda p, k: _paths(p, k, static), in_axes=(0, None)))


def block_until_ready(tree: Any) -> Any:
    """Wait for every array of ``tree`` (timing helpers)."""
    return jax.block_until_ready(tree)


def path_keys(seed: int, paths: int, offset: int = 0) -> jax.Array:
    """Keys of paths ``offset .. offset+paths-1`` for ``seed`` (chunking does not change them):
    ``fold_in(PRNGKey(seed), path)``, one small executable per path count."""
    return _keys(int(paths))(np.int64(seed), np.int64(offset))


@lru_cache(maxsize=16)
def _keys(paths: int):
    return jax.jit(
        lambda seed, offset: jax.vmap(lambda i: jax.random.fold_in(jax.random.PRNGKey(seed), i))(
            offset + jnp.arange(paths)
        )
    )


#: parameter groups whose leading axis is the day axis (``[T, ...]``), padded by :func:`pad`;
#: ``tests/sim/test_padding.py`` checks that these are exactly the parameters whose shapes change
#: with the horizon (a new day input must be added here)
DAY_FIELDS = (
    ("market", "dy"),
    ("market", "dx"),
    ("market", "dother"),
    ("market", "volmult"),
    ("fed", "scheduled_purchases"),
    ("funding", "days"),
)


def pad(params: Params, static: Static) -> tuple[Params, Static]:
    """The scenario padded to its buckets: the fund axis to
    :func:`basislab.sim.tuning.padded_funds`, the day axis to
    :func:`basislab.sim.tuning.padded_days` (the :data:`DAY_FIELDS` inputs repeat their last day;
    padded days are skipped, so the values only keep them finite). The scenario's own counts stay
    in ``params.funds.n_active`` and ``params.market.horizon_days``."""
    from basislab.sim import tuning

    n, t = static.n_funds, static.n_steps
    nb, tb = tuning.padded_funds(n), tuning.padded_days(t)
    if tb > t:
        groups = params._asdict()
        for group, name in DAY_FIELDS:
            g = groups[group]
            leaf = jax.tree_util.tree_map(lambda a: _pad_days(a, t, tb), getattr(g, name))
            groups[group] = g._replace(**{name: leaf})
        params = type(params)(**groups)
    return params, static._replace(n_funds=nb, n_steps=tb)


def _pad_days(a: Any, t: int, tb: int) -> np.ndarray:
    a = np.asarray(a)
    if a.shape[:1] != (t,):
        raise SimulationError(f"a day input has shape {a.shape}, expected {t} days first")
    return np.concatenate([a, np.repeat(a[-1:], tb - t, axis=0)])


@dataclass
class RawRun:
    """Numpy outputs of a batch of paths: ``outputs[name]`` has shape ``[paths, steps, ...]``."""

    static: Static
    outputs: dict[str, np.ndarray]
    audit_steps: dict[str, np.ndarray]
    audit_init: dict[str, np.ndarray]
    final: dict[str, np.ndarray] = field(default_factory=dict)


def _to_numpy(tree: Any) -> Any:
    return jax.tree_util.tree_map(np.asarray, tree)


def check_finite(outputs: dict[str, np.ndarray], final: dict[str, np.ndarray]) -> None:
    """Raise :class:`SimulationError` naming the first step and field holding NaN or inf."""
    for name, arr in outputs.items():
        if isinstance(arr, dict):
            check_finite(arr, {})
            continue
        bad = ~np.isfinite(arr)
        if bad.any():
            idx = np.argwhere(bad)[0]
            step = int(idx[1]) if arr.ndim > 1 else 0
            raise SimulationError(
                f"non-finite value in field '{name}' at step {step} (path {int(idx[0])}); "
                "check the scenario's parameters and shocks"
            )
    for name, arr in final.items():
        if not np.all(np.isfinite(arr)):
            raise SimulationError(f"non-finite value in final state field '{name}'")


def run_batch(
    params: Params,
    static: Static,
    seed: int,
    paths: int,
    offset: int = 0,
    block: int | None = None,
    n_devices: int | None = None,
    padded: bool = True,
) -> RawRun:
    """Run ``paths`` paths of one parameter set and return numpy arrays (checked finite); the
    block and devices as in :func:`compiled_runner`. ``padded``: run the scenario padded to its
    fund and day buckets (:func:`pad`; the outputs cut back to its funds and days), so scenarios
    of one bucket share the compiled engine."""
    from basislab.sim import tuning

    n, t = static.n_funds, static.n_steps
    p_run, s_run = pad(params, static) if padded else (params, static)
    blk, devs = _resolve(s_run, block, n_devices, paths)
    led0, outs, st_t = _runner(s_run, blk, devs)(p_run, path_keys(seed, paths, offset))
    tuning.mark_compiled(s_run, blk, len(devs))
    outs = {k: jax.tree_util.tree_map(lambda a: np.asarray(a)[:, :t], v) for k, v in outs.items()}
    audit_steps = outs.pop("audit")
    final = {
        f"{g}.{k}": np.asarray(v)[..., :n] if g == "funds" else np.asarray(v)
        for g, grp in st_t._asdict().items()
        for k, v in grp._asdict().items()
    }
    run = RawRun(static, outs, audit_steps, _to_numpy(led0), final)
    check_finite(run.outputs, run.final)
    check_finite(run.audit_steps, {})
    return run


def concat(runs: list[RawRun]) -> RawRun:
    """Join chunks of paths along the path axis."""
    if len(runs) == 1:
        return runs[0]
    cat = lambda key: {k: np.concatenate([getattr(r, key)[k] for r in runs]) for k in getattr(runs[0], key)}  # noqa: E731
    return RawRun(runs[0].static, cat("outputs"), cat("audit_steps"), cat("audit_init"), cat("final"))


def take_paths(run: RawRun, n: int) -> RawRun:
    """The first ``n`` paths of a run."""
    cut = lambda d: {k: v[:n] for k, v in d.items()}  # noqa: E731
    return RawRun(run.static, cut(run.outputs), cut(run.audit_steps), cut(run.audit_init), cut(run.final))
