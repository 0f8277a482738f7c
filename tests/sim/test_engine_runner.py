"""The engine's runner (issue 14): paths padded to whole blocks, keys from one small executable,
and the start of a run and its days as two executables giving the numbers of one."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from basislab import sim
from basislab.sim import engine, tuning

from .conftest import small

#: no cash, no credit lines, no stop-loss: every sale forced
NO_LIQUIDITY = ("funds.unencumbered_cash_pct=0", "funds.stop_loss_pct=100", "funds.credit_line_pct=0")


@pytest.mark.parametrize(
    ("paths", "block", "devices", "expected"),
    [
        (32, 32, 1, (32, 32)),  # seed-thesis on one device: one block, no padding
        (32, 32, 2, (16, 32)),  # over two devices: a block of 16 each
        (1000, 32, 1, (32, 1024)),  # 32 blocks of 32: 24 paths of padding, no remainder block
        (1000, 32, 2, (32, 1024)),  # 500 a device: 16 blocks of 32
        (100, 32, 1, (25, 100)),  # 4 blocks of 25 rather than 4 x 32 = 128
        (7, 2, 2, (2, 8)),  # the devices test: one path of padding
        (1, 32, 2, (1, 2)),
        (5, 2, 1, (2, 6)),
    ],
)
def test_plan_pads_under_one_path_per_block(paths, block, devices, expected):
    blk, padded = engine.plan(paths, block, devices)
    assert (blk, padded) == expected
    assert blk <= block and padded >= paths and padded % (blk * devices) == 0
    assert padded - paths < devices * (padded // (blk * devices))  # under one path per block


@pytest.mark.parametrize("seed", [0, 3, 2**31, 2**32 - 1])
def test_path_keys_are_fold_in_of_the_seed(seed):
    """``fold_in(PRNGKey(seed), path)`` as the engine drew them before (one executable now)."""
    base = jax.random.PRNGKey(seed)
    expected = np.stack([np.asarray(jax.random.fold_in(base, i)) for i in (5, 6, 7)])
    assert np.array_equal(np.asarray(engine.path_keys(seed, 3, offset=5)), expected)


def test_runner_matches_the_fused_engine_and_pads_without_a_remainder_block():
    """5 paths in blocks of 2 (padded to 6, one path dropped) against the engine before issue 14
    (one executable, block 32, XLA's default options): same defaults, every output within 1e-12
    of its field's scale; the padded run keeps one compiled pair per path count."""
    p, s = sim.to_engine(small(*NO_LIQUIDITY))
    keys = engine.path_keys(3, 5)
    runner = engine.compiled_runner(s, block=2, n_devices=1)
    led0, outs, st_t = runner(p, keys)
    _, old, old_t = engine.fused_runner(s, 32)(p, keys)
    assert np.asarray(outs["new_defaults"]).shape[0] == 5
    assert np.array_equal(np.asarray(outs["new_defaults"]), np.asarray(old["new_defaults"]))
    for k, v in old.items():
        if isinstance(v, dict):
            continue
        x, y = np.asarray(v, float), np.asarray(outs[k], float)
        assert np.max(np.abs(x - y)) <= 1e-12 * max(float(np.max(np.abs(x))), 1.0), k
    for a, b in zip(jax.tree_util.tree_leaves(old_t), jax.tree_util.tree_leaves(st_t), strict=True):
        assert np.allclose(np.asarray(a), np.asarray(b), rtol=1e-12, atol=1e-9)
    runner(p, keys)
    assert len(runner._compiled) == 1
    peak = runner.memory_bytes(p, keys)
    out_bytes = sum(np.asarray(x).nbytes for x in jax.tree_util.tree_leaves((led0, outs, st_t)))
    assert out_bytes < peak < 50 * out_bytes  # the outputs (5 of 6 paths) and the temporaries


def test_short_runs_compile_at_llvm_o1_long_runs_at_xlas_default():
    """Short runs compile with ``tuning.FAST_COMPILE`` (LLVM -O1, LLVM-IR fusion emitters: about
    0.6x the compile of XLA's defaults, same speed), long ones with XLA's defaults (-O1 ran them
    about 7% slower); every output within 1e-12 of its field's scale of -O2's, same defaults."""
    assert tuning.compiler_options(100 * 16 * 60) == tuning.FAST_COMPILE  # seed-thesis, 2 devices
    assert tuning.compiler_options(1000 * 500 * 20) == {}  # 1,000 funds x 1,000 paths over 2 devices
    p, s = sim.to_engine(small(*NO_LIQUIDITY))
    keys = engine.path_keys(3, 5)
    runner = engine.compiled_runner(s, block=2, n_devices=1)
    assert runner.options(6) == tuning.FAST_COMPILE
    _, o1, _ = runner(p, keys)
    _, o2, _ = engine.Runner(s, 2, tuple(jax.devices()[:1]), options={})(p, keys)
    assert np.array_equal(np.asarray(o1["new_defaults"]), np.asarray(o2["new_defaults"]))
    for k, v in o2.items():
        for a, b in zip(jax.tree_util.tree_leaves(v), jax.tree_util.tree_leaves(o1[k]), strict=True):
            x, y = np.asarray(a, float), np.asarray(b, float)
            assert np.max(np.abs(x - y)) <= 1e-12 * max(float(np.max(np.abs(x))), 1.0), k
