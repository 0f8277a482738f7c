"""Fixtures of the dashboard tests: a data store built from the bundled snapshot and a run store
with two small stored runs (synthetic time series, written by the run store's own writer)."""

from __future__ import annotations

import pytest
import yaml

from tests.report.conftest import TODAY_SCENARIO, synthetic_metrics, synthetic_timeseries


def write_synthetic_run(runs_dir, run_id: str, scale: float = 1.0) -> str:
    import pandas as pd

    from basislab.sim.store import write_run

    ts = synthetic_timeseries()
    ts[["mean", "p05", "p50", "p95"]] *= scale
    audit = pd.DataFrame(
        {"variant": ["with_backstop"], "identity": ["cash"], "step": [1], "max_residual": [1e-13]}
    )
    meta = {
        "scenario": TODAY_SCENARIO["name"],
        "seed": 0,
        "paths": 4,
        "steps": 20,
        "variants": ["without_backstop", "with_backstop"],
    }
    rid, _ = write_run(ts, audit, synthetic_metrics(), yaml.safe_dump(TODAY_SCENARIO), meta, runs_dir, run_id)
    return rid


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """``(data store path, run store folder, [run ids])``."""
    from basislab.data.store import build_from_snapshot

    base = tmp_path_factory.mktemp("dash")
    db = base / "basislab.duckdb"
    build_from_snapshot(db)
    runs = base / "runs"
    ids = [write_synthetic_run(runs, "synthetic-a"), write_synthetic_run(runs, "synthetic-b", 2.0)]
    return str(db), str(runs), ids
