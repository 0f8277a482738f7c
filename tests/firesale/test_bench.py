"""Smoke test of ``benchmarks/bench_firesale.py`` at a tiny size, so a change of the engine's
interface breaks here rather than in the middle of a benchmark run."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import bench_firesale  # noqa: E402  (benchmarks/ is not a package; an import error must fail)


def test_bench_rows_at_a_tiny_size():
    rows = bench_firesale.measure(n_banks=40, n_assets=5, steps=3, ref_banks=10, repeats=1)
    assert [r["unit"] for r in rows] == ["s", "s", "M bank-asset-steps/s", "s", "s", "s"]
    assert all(r["value"] > 0 for r in rows)
    assert all(r["ratio"] == r["baseline"] / r["value"] for r in rows if "ratio" in r)
