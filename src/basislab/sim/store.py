"""Persistence of simulation runs: an embedded DuckDB database (the default) and Parquet files.

Layout under an output folder ``DIR``::

    DIR/sim.duckdb                 tables runs, timeseries, audit (all runs written there)
    DIR/<run_id>/timeseries.parquet  long table: variant, step, variable, label, mean, p05, p50, p95
    DIR/<run_id>/audit.parquet       variant, identity, step, max relative residual over paths
    DIR/<run_id>/metrics.json        the summary metrics of each variant
    DIR/<run_id>/scenario.yaml       the validated scenario

Without ``--out`` runs go to the DuckDB database in ``$BASISLAB_HOME`` (default ``~/.basislab``).
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import yaml

from basislab.errors import DataError, ScenarioError
from basislab.sim.audit import audit
from basislab.sim.results import SimResult

DB_NAME = "sim.duckdb"


def default_home() -> Path:
    return Path(os.environ.get("BASISLAB_HOME", Path.home() / ".basislab"))


def _audit_table(variant: str, run: SimResult) -> pd.DataFrame:
    rows = []
    for ident, arr in audit(run).items():
        worst = arr.max(0)
        rows.append(
            pd.DataFrame(
                {
                    "variant": variant,
                    "identity": ident,
                    "step": range(1, len(worst) + 1),
                    "max_residual": worst,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def new_run_id(scenario: str, seed: int) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    return f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', scenario)}-s{seed}-{stamp}"


def save_runs(
    runs: dict[str, SimResult],
    out_dir: str | Path | None = None,
    parquet: bool = True,
    run_id: str | None = None,
) -> tuple[str, Path]:
    """Write a run (its variants) to DuckDB and, when ``parquet``, to Parquet files.
    Returns ``(run_id, folder)``."""
    first = next(iter(runs.values()))
    out = Path(out_dir) if out_dir is not None else default_home()
    out.mkdir(parents=True, exist_ok=True)
    run_id = run_id or new_run_id(first.scenario.name, first.seed)
    ts = pd.concat([r.timeseries() for r in runs.values()], ignore_index=True)
    au = pd.concat([_audit_table(v, r) for v, r in runs.items()], ignore_index=True)
    metrics = {v: r.metrics() for v, r in runs.items()}
    scen_yaml = yaml.safe_dump(first.scenario.model_dump(mode="json"), sort_keys=False)
    meta = pd.DataFrame(
        [
            {
                "run_id": run_id,
                "scenario": first.scenario.name,
                "created": datetime.now(UTC).isoformat(),
                "seed": first.seed,
                "paths": first.paths,
                "steps": first.steps,
                "variants": ",".join(runs),
                "metrics_json": json.dumps(metrics),
                "scenario_yaml": scen_yaml,
            }
        ]
    )
    ts.insert(0, "run_id", run_id)
    au.insert(0, "run_id", run_id)
    with duckdb.connect(str(out / DB_NAME)) as con:
        for name, df in (("runs", meta), ("timeseries", ts), ("audit", au)):
            con.register("df", df)
            con.execute(f"CREATE TABLE IF NOT EXISTS {name} AS SELECT * FROM df LIMIT 0")
            con.execute(f"INSERT INTO {name} SELECT * FROM df")
            con.unregister("df")
    folder = out / run_id
    if parquet:
        folder.mkdir(parents=True, exist_ok=True)
        ts.to_parquet(folder / "timeseries.parquet", index=False)
        au.to_parquet(folder / "audit.parquet", index=False)
        (folder / "metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
        (folder / "scenario.yaml").write_text(scen_yaml, encoding="utf-8")
    return run_id, folder


class StoredRun:
    """A run read back from Parquet or DuckDB."""

    def __init__(
        self, run_id: str, metrics: dict, scenario: dict, timeseries: pd.DataFrame, audit_tbl: pd.DataFrame
    ):
        self.run_id, self.metrics, self.scenario = run_id, metrics, scenario
        self.timeseries, self.audit = timeseries, audit_tbl

    @property
    def variants(self) -> list[str]:
        return list(self.metrics)


def load_run(run: str | Path, out_dir: str | Path | None = None) -> StoredRun:
    """Read a run: ``run`` is a run folder (Parquet) or a run id in ``out_dir/sim.duckdb``
    (default ``$BASISLAB_HOME``); ``latest`` picks the newest run in the database."""
    p = Path(str(run))
    if p.is_dir() and (p / "metrics.json").exists():
        try:
            return StoredRun(
                p.name,
                json.loads((p / "metrics.json").read_text()),
                yaml.safe_load((p / "scenario.yaml").read_text()),
                pd.read_parquet(p / "timeseries.parquet"),
                pd.read_parquet(p / "audit.parquet"),
            )
        except (OSError, ValueError) as exc:
            raise DataError(f"run folder {p} is incomplete or unreadable: {exc}") from None
    home = (
        Path(out_dir)
        if out_dir is not None
        else (p.parent if p.parent != Path(".") and p.parent.is_dir() else default_home())
    )
    db = home / DB_NAME
    if not db.exists():
        raise ScenarioError(f"run {str(run)!r} is not a run folder and there is no database at {db}")
    with duckdb.connect(str(db), read_only=True) as con:
        rid = p.name
        if rid == "latest":
            row = con.execute("SELECT run_id FROM runs ORDER BY created DESC LIMIT 1").fetchone()
            if row is None:
                raise ScenarioError(f"no runs stored in {db}")
            rid = row[0]
        meta = con.execute("SELECT metrics_json, scenario_yaml FROM runs WHERE run_id = ?", [rid]).fetchone()
        if meta is None:
            ids = [
                r[0] for r in con.execute("SELECT run_id FROM runs ORDER BY created DESC LIMIT 5").fetchall()
            ]
            raise ScenarioError(f"unknown run {rid!r} in {db}; recent runs: {', '.join(ids) or 'none'}")
        ts = con.execute("SELECT * EXCLUDE (run_id) FROM timeseries WHERE run_id = ?", [rid]).df()
        au = con.execute("SELECT * EXCLUDE (run_id) FROM audit WHERE run_id = ?", [rid]).df()
    return StoredRun(rid, json.loads(meta[0]), yaml.safe_load(meta[1]), ts, au)
