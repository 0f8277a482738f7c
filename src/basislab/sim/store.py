"""Persistence of simulation runs: one folder per run, written atomically.

Layout under a run store ``DIR`` (``--out``, else :func:`basislab.paths.runs_dir`)::

    DIR/<run_id>/timeseries.parquet  long table: variant, step, variable, label, mean, p05, p50, p95
    DIR/<run_id>/audit.parquet       variant, identity, step, max relative residual over paths
    DIR/<run_id>/metrics.json        the summary metrics of each variant
    DIR/<run_id>/scenario.yaml       the validated scenario
    DIR/<run_id>/manifest.json       run id, creation time, seed, and the SHA-256 of each file above

A run is written into a hidden temporary folder ``DIR/.tmp-<run_id>-<token>-p<pid>`` and renamed into
place with one ``rename`` (atomic on POSIX and Windows), after its files are flushed to disk. So
two processes saving at once never touch the same files, a killed save leaves only a temporary
folder (removed by the next save once its process is gone), and a run folder that exists is
complete. The folders are the catalog: listing ``DIR`` lists the runs. The manifest's checksums
let :func:`load_run` tell a damaged run (truncated or edited file) from a good one; a damaged run
is refused in one line that names the folder to delete.

DuckDB reads the store directly, e.g.
``SELECT * FROM read_parquet('DIR/*/timeseries.parquet', filename=true)``. Stores written by
basislab 0.1.0 (one ``DIR/sim.duckdb``) are still read, read-only.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import secrets
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from basislab.errors import DataError, ScenarioError
from basislab.paths import runs_dir
from basislab.sim.audit import audit
from basislab.sim.results import SimResult

DB_NAME = "sim.duckdb"  # the 0.1.0 single-database store, read only
MANIFEST = "manifest.json"
FILES = ("timeseries.parquet", "audit.parquet", "metrics.json", "scenario.yaml")
_TMP = ".tmp-"
_STALE_S = 24 * 3600.0  # a temporary folder this old is removed even if its pid is alive (reused)


def default_home() -> Path:
    """The default run store (:func:`basislab.paths.runs_dir`)."""
    return runs_dir()


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


def _repair_hint(folder: Path) -> str:
    return f"delete the folder {folder} (rm -r) and run the scenario again"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def clean_temporary(store: Path) -> list[Path]:
    """Remove temporary folders left in ``store`` by saves that were killed (their process is gone,
    or the folder is older than a day). Returns the folders removed."""
    removed: list[Path] = []
    if not store.is_dir():
        return removed
    for tmp in store.glob(f"{_TMP}*"):
        m = re.search(r"-p(\d+)$", tmp.name)
        try:
            age = time.time() - tmp.stat().st_mtime
        except OSError:
            continue
        if (m and not _pid_alive(int(m.group(1)))) or age > _STALE_S:
            shutil.rmtree(tmp, ignore_errors=True)
            removed.append(tmp)
    return removed


def _fsync_write(path: Path, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - Windows cannot open folders; rename is durable there
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _parquet_bytes(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


def check_store(out_dir: str | Path | None) -> Path:
    """The run store folder, created if needed and checked writable: call it before a long run so
    that a bad ``--out`` is refused before the work starts."""
    out = Path(out_dir) if out_dir is not None else default_home()
    if out.exists() and not out.is_dir():
        raise DataError(f"run store {out} is a file, not a folder; give --out a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=f"{_TMP}probe-", dir=out)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise DataError(
            f"cannot write runs to {out} ({exc.strerror or exc}); give --out a writable folder"
        ) from None
    return out


def save_runs(
    runs: dict[str, SimResult],
    out_dir: str | Path | None = None,
    parquet: bool = True,
    run_id: str | None = None,
) -> tuple[str, Path]:
    """Write a run (its variants) to its own folder in the run store, atomically, and read it back.
    Returns ``(run_id, folder)``. ``parquet`` is kept for compatibility: every run is Parquet now."""
    del parquet
    first = next(iter(runs.values()))
    ts = pd.concat([r.timeseries() for r in runs.values()], ignore_index=True)
    au = pd.concat([_audit_table(v, r) for v, r in runs.items()], ignore_index=True)
    metrics = {v: r.metrics() for v, r in runs.items()}
    scen_yaml = yaml.safe_dump(first.scenario.model_dump(mode="json"), sort_keys=False)
    meta = {
        "scenario": first.scenario.name,
        "seed": first.seed,
        "paths": first.paths,
        "steps": first.steps,
        "variants": list(runs),
    }
    return write_run(ts, au, metrics, scen_yaml, meta, out_dir, run_id)


def write_run(
    timeseries: pd.DataFrame,
    audit_tbl: pd.DataFrame,
    metrics: dict[str, Any],
    scenario_yaml: str,
    meta: dict[str, Any],
    out_dir: str | Path | None = None,
    run_id: str | None = None,
) -> tuple[str, Path]:
    """Write one run's files atomically into the store (see the module docstring) and read the
    run back before returning ``(run_id, folder)``; ``meta`` needs ``scenario`` and ``seed``."""
    from basislab.jsonio import dumps

    out = check_store(out_dir)
    clean_temporary(out)
    blobs = {
        "timeseries.parquet": _parquet_bytes(timeseries),
        "audit.parquet": _parquet_bytes(audit_tbl),
        "metrics.json": dumps(metrics).encode(),
        "scenario.yaml": scenario_yaml.encode(),
    }
    for attempt in range(20):
        rid = run_id or new_run_id(str(meta["scenario"]), int(meta["seed"]))
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", rid) or rid.startswith("."):
            raise ScenarioError(f"run id {rid!r} is not valid; expected letters, digits, '_', '.', '-'")
        tmp = out / f"{_TMP}{rid}-{secrets.token_hex(4)}-p{os.getpid()}"
        tmp.mkdir()
        for name, data in blobs.items():
            _fsync_write(tmp / name, data)
        manifest = {
            "run_id": rid,
            **meta,
            "created": datetime.now(UTC).isoformat(),
            "sha256": {name: hashlib.sha256(data).hexdigest() for name, data in blobs.items()},
        }
        _fsync_write(tmp / MANIFEST, json.dumps(manifest, indent=2).encode())
        folder = out / rid
        try:
            if folder.exists():
                raise FileExistsError(str(folder))
            os.rename(tmp, folder)  # atomic; fails if another writer took this id meanwhile
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
            if run_id is not None:
                raise DataError(f"run {rid!r} already exists in {out}; choose another run id") from None
            time.sleep(0.001 * (attempt + 1))
            continue
        _fsync_dir(out)
        _read_folder(folder)  # a run id is reported only once it reads back
        return rid, folder
    raise DataError(f"could not find a free run id in {out} after 20 tries")  # pragma: no cover


class StoredRun:
    """A run read back from the store."""

    def __init__(
        self,
        run_id: str,
        metrics: dict[str, Any],
        scenario: dict[str, Any],
        timeseries: pd.DataFrame,
        audit_tbl: pd.DataFrame,
    ):
        self.run_id, self.metrics, self.scenario = run_id, metrics, scenario
        self.timeseries, self.audit = timeseries, audit_tbl

    @property
    def variants(self) -> list[str]:
        return list(self.metrics)


def _read_folder(p: Path) -> StoredRun:
    """Read and verify one run folder; a damaged one is a one-line :class:`DataError`."""
    hint = _repair_hint(p)
    try:
        manifest = json.loads((p / MANIFEST).read_text(encoding="utf-8")) if (p / MANIFEST).exists() else None
        if manifest is not None:
            for name, digest in manifest["sha256"].items():
                if hashlib.sha256((p / name).read_bytes()).hexdigest() != digest:
                    raise DataError(f"run {p.name} is damaged: {name} does not match its checksum; {hint}")
        run = StoredRun(
            p.name,
            json.loads((p / "metrics.json").read_text(encoding="utf-8")),
            yaml.safe_load((p / "scenario.yaml").read_text(encoding="utf-8")),
            pd.read_parquet(p / "timeseries.parquet"),
            pd.read_parquet(p / "audit.parquet"),
        )
    except DataError:
        raise
    except (OSError, ValueError, KeyError, TypeError, yaml.YAMLError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"run {p.name} is damaged or incomplete ({first}); {hint}") from None
    except Exception as exc:  # pyarrow raises its own error types on corrupt Parquet
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"run {p.name} is damaged ({first}); {hint}") from None
    if not isinstance(run.metrics, dict) or not run.metrics:
        raise DataError(f"run {p.name} is damaged (no metrics); {hint}")
    return run


def list_runs(out_dir: str | Path | None = None) -> pd.DataFrame:
    """The runs in a store, newest first: run_id, scenario, created, seed, paths, steps, folder.
    Folders without a readable manifest are listed with ``created`` from the folder's time."""
    store = Path(out_dir) if out_dir is not None else default_home()
    rows = []
    if store.is_dir():
        for p in store.iterdir():
            if p.name.startswith(".") or not p.is_dir():
                continue
            if not any((p / name).exists() for name in (MANIFEST, *FILES)):
                continue
            try:
                m = json.loads((p / MANIFEST).read_text(encoding="utf-8"))
                created = str(m["created"])
            except (OSError, ValueError, KeyError, TypeError):
                m, created = {}, datetime.fromtimestamp(p.stat().st_mtime, UTC).isoformat()
            rows.append(
                {
                    "run_id": p.name,
                    "scenario": m.get("scenario"),
                    "created": created,
                    "seed": m.get("seed"),
                    "paths": m.get("paths"),
                    "steps": m.get("steps"),
                    "folder": str(p),
                }
            )
    cols = ["run_id", "scenario", "created", "seed", "paths", "steps", "folder"]
    df = pd.DataFrame(rows, columns=cols)
    return df.sort_values(["created", "run_id"], ascending=False, ignore_index=True)


def _load_legacy(db: Path, rid: str) -> StoredRun | None:
    """A run from a 0.1.0 ``sim.duckdb`` (read-only); None when it is not there."""
    import duckdb

    hint = f"move {db} aside (mv {db} {db}.damaged); runs are saved as folders now and do not need it"
    try:
        with duckdb.connect(str(db), read_only=True) as con:
            if rid == "latest":
                row = con.execute("SELECT run_id FROM runs ORDER BY created DESC LIMIT 1").fetchone()
                if row is None:
                    return None
                rid = row[0]
            meta = con.execute(
                "SELECT metrics_json, scenario_yaml FROM runs WHERE run_id = ?", [rid]
            ).fetchone()
            if meta is None:
                return None
            ts = con.execute("SELECT * EXCLUDE (run_id) FROM timeseries WHERE run_id = ?", [rid]).df()
            au = con.execute("SELECT * EXCLUDE (run_id) FROM audit WHERE run_id = ?", [rid]).df()
        return StoredRun(rid, json.loads(meta[0]), yaml.safe_load(meta[1]), ts, au)
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0]
        raise DataError(f"run store {db} is damaged or not a basislab store ({first}); {hint}") from None
    except (ValueError, TypeError, yaml.YAMLError) as exc:
        raise DataError(f"run {rid!r} in {db} is damaged ({exc}); {hint}") from None


def load_run(run: str | Path, out_dir: str | Path | None = None) -> StoredRun:
    """Read a run: ``run`` is a run folder, or a run id (or ``latest``, the newest run) in the
    store ``out_dir`` (default :func:`basislab.paths.runs_dir`). Unknown or damaged runs are a
    one-line :class:`BasislabError`."""
    p = Path(str(run))
    if p.is_dir() and ((p / MANIFEST).exists() or (p / "metrics.json").exists()):
        return _read_folder(p)
    if out_dir is not None:
        store = Path(out_dir)
    elif p.parent != Path(".") and p.parent.is_dir():
        store = p.parent
    else:
        store = default_home()
    if store.exists() and not store.is_dir():
        raise DataError(f"run store {store} is a file, not a folder of runs")
    rid = p.name
    if rid == "latest":
        runs = list_runs(store)
        if len(runs):
            return _read_folder(Path(runs["folder"].iloc[0]))
    elif (store / rid).is_dir():
        if not (store / rid / MANIFEST).exists() and not (store / rid / "metrics.json").exists():
            raise DataError(f"run {rid} in {store} is incomplete (no manifest); {_repair_hint(store / rid)}")
        return _read_folder(store / rid)
    legacy_dbs = [store / DB_NAME]
    if out_dir is None and store == default_home():  # runs of 0.1.0 lived in ~/.basislab
        legacy_dbs.append(Path.home() / ".basislab" / DB_NAME)
    for db in legacy_dbs:
        if db.exists():
            legacy = _load_legacy(db, rid)
            if legacy is not None:
                return legacy
    if rid == "latest":
        raise ScenarioError(f"no runs stored in {store}")
    recent = list_runs(store)["run_id"].head(5).tolist()
    raise ScenarioError(f"unknown run {rid!r} in {store}; recent runs: {', '.join(recent) or 'none'}")
