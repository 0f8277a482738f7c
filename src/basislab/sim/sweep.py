"""Parameter sweeps: a scenario run over a grid of overrides, locally or on a Ray cluster.

Every grid point is the scenario with ``path.to.param=value`` overrides (the ``--set`` syntax)
run with the same seed, so points differ only by their parameters (common random numbers). The
static shape of a scenario (funds, buckets, steps) does not change along a grid of numeric
parameters, so locally one compiled engine serves every point; on Ray each worker compiles once
and reuses it for the points it gets.

``backend="ray"`` connects to ``address`` (``"auto"`` for a running cluster, ``None`` to start a
local one; see https://docs.ray.io/en/latest/ray-core/starting-ray.html) and runs one task per
point. Results come back in grid order, so a sweep gives the same table on either backend.

Nothing finished is lost: each point is written to the sweep's folder as it finishes (one JSON
file per point, written to a temporary file and renamed into place), so a sweep killed half way
and run again with the same arguments resumes: finished points are read back, not run again,
and the rest run. The folder is ``store`` or ``runs_dir()/sweeps/<key>``, where ``key`` hashes
the validated base scenario, the grid, the overrides, the paths and the seed; a lock on it
refuses a second copy of the same sweep running at once.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import math
import os
import socket
import tempfile
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from basislab.errors import DataError, ScenarioError

#: seconds to wait for a Ray cluster's address to answer before refusing it
RAY_CONNECT_TIMEOUT_S = 10.0


def parse_grid(items: Sequence[str]) -> dict[str, list[str]]:
    """``["a.b=1,2,3", "c=x,y"]`` -> ``{"a.b": ["1", "2", "3"], "c": ["x", "y"]}``."""
    grid: dict[str, list[str]] = {}
    for item in items:
        key, sep, values = str(item).partition("=")
        vals = [v.strip() for v in values.split(",") if v.strip()]
        if not sep or not key.strip() or not vals:
            raise ScenarioError(
                f"--grid {item!r} is not valid; expected path.to.param=v1,v2,... "
                "e.g. repo.bilateral.haircut_pct=0,1,2"
            )
        if key.strip() in grid:
            raise ScenarioError(f"--grid names {key.strip()!r} twice; give all its values in one --grid")
        grid[key.strip()] = vals
    if not grid:
        raise ScenarioError("a sweep needs at least one --grid path.to.param=v1,v2,...")
    return grid


def grid_points(grid: Mapping[str, Sequence]) -> list[dict[str, str]]:
    """The cartesian product of the grid, in order (last key varies fastest)."""
    keys = list(grid)
    return [dict(zip(keys, map(str, combo))) for combo in itertools.product(*(grid[k] for k in keys))]


def _flatten(metrics: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in metrics.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def run_point(
    scenario: str,
    point: Mapping[str, str],
    base_overrides: Sequence[str] = (),
    paths: int | None = None,
    seed: int | None = None,
) -> list[dict]:
    """Run one grid point; one row per variant (``without_backstop``/``with_backstop`` or ``run``)
    with the point's parameters and the flattened metrics."""
    from basislab.sim import run_scenario

    overrides = [*base_overrides, *(f"{k}={v}" for k, v in point.items())]
    runs = run_scenario(scenario, paths=paths, seed=seed, overrides=overrides)
    return [{**point, "variant": variant, **_flatten(res.metrics())} for variant, res in runs.items()]


def sweep_key(
    scenario: str,
    grid: Mapping[str, Sequence],
    overrides: Sequence[str] = (),
    paths: int | None = None,
    seed: int | None = None,
) -> str:
    """Hash naming a sweep's folder: the validated base scenario (so an edited scenario file or a
    new data day is a new sweep), the grid, the overrides, the paths, the seed and the basislab
    version (a new version's engine never reuses an older one's points)."""
    from basislab import __version__
    from basislab.sim import load_scenario

    base = load_scenario(scenario, list(overrides)).model_dump(mode="json")
    doc = {
        "version": __version__,
        "scenario": base,
        "grid": {k: list(map(str, v)) for k, v in grid.items()},
        "paths": paths,
        "seed": seed,
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]


def _point_file(folder: Path, i: int) -> Path:
    return folder / f"point-{i:05d}.json"


def _write_point(folder: Path, i: int, point: Mapping[str, str], rows: list[dict]) -> None:
    """Write a finished point atomically (temporary file in the same folder, then rename)."""
    from basislab.jsonio import dumps

    text = dumps({"index": i, "point": dict(point), "rows": rows})
    fd, tmp = tempfile.mkstemp(prefix=".tmp-point-", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, _point_file(folder, i))
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_point(folder: Path, i: int, point: Mapping[str, str]) -> list[dict] | None:
    """Rows of a finished point, or None when it is not there (or unreadable: run it again)."""
    f = _point_file(folder, i)
    try:
        doc = json.loads(f.read_text(encoding="utf-8"))
        if doc["index"] != i or doc["point"] != dict(point):
            return None
        return list(doc["rows"])
    except (OSError, ValueError, KeyError, TypeError):
        f.unlink(missing_ok=True)
        return None


def validate_points(
    scenario: str, grid: Mapping[str, Sequence], overrides: Sequence[str] = ()
) -> list[dict[str, str]]:
    """The grid's points, each validated (a clear error before anything runs, not a half-finished
    sweep)."""
    from basislab.sim import load_scenario

    points = grid_points(grid)
    for p in points:
        load_scenario(scenario, [*overrides, *(f"{k}={v}" for k, v in p.items())])
    return points


def sweep(
    scenario: str,
    grid: Mapping[str, Sequence],
    *,
    overrides: Sequence[str] = (),
    paths: int | None = None,
    seed: int | None = None,
    backend: str = "local",
    address: str | None = None,
    progress: Callable[[int], None] | None = None,
    store: str | Path | None = None,
    resume: bool = True,
    on_resume: Callable[[int, int, Path], None] | None = None,
) -> pd.DataFrame:
    """Run ``scenario`` at every point of ``grid`` and return one row per point and variant.

    Bad points (an impossible parameter value) are found before anything runs: every point's
    scenario is validated first. Each finished point is stored in ``store`` (default
    ``runs_dir()/sweeps/<sweep_key>``); with ``resume`` the points already there are not run
    again (``on_resume(done, total, folder)`` is told how many); ``resume=False`` runs every point
    (and still stores each).
    """
    from filelock import FileLock, Timeout

    from basislab.paths import runs_dir

    if backend not in ("local", "ray"):
        raise ScenarioError(f"backend {backend!r} is not valid; expected 'local' or 'ray'")
    points = validate_points(scenario, grid, overrides)
    folder = (
        Path(store)
        if store is not None
        else runs_dir() / "sweeps" / sweep_key(scenario, grid, overrides, paths, seed)
    )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot keep the sweep's points in {folder} ({exc.strerror or exc})") from None
    for stale in folder.glob(".tmp-point-*"):  # left by a killed sweep
        stale.unlink(missing_ok=True)
    lock = FileLock(str(folder / ".lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise DataError(
            f"the same sweep is already running (lock {folder / '.lock'}); wait for it or give another --store"
        ) from None
    try:
        done: dict[int, list[dict]] = {}
        if resume:
            for i, p in enumerate(points):
                rows = _read_point(folder, i, p)
                if rows is not None:
                    done[i] = rows
        if on_resume is not None and done:
            on_resume(len(done), len(points), folder)
        if progress is not None and done:
            progress(len(done))
        todo = [i for i in range(len(points)) if i not in done]

        def finished(i: int, rows: list[dict]) -> None:
            _write_point(folder, i, points[i], rows)
            done[i] = rows
            if progress is not None:
                progress(1)

        if backend == "local":
            for i in todo:
                finished(i, run_point(scenario, points[i], overrides, paths, seed))
        elif todo:
            _run_ray(scenario, points, todo, overrides, paths, seed, address, finished)
    finally:
        lock.release()
    return pd.DataFrame([row for i in range(len(points)) for row in done[i]])


def check_ray_address(address: str | None) -> None:
    """Refuse, within :data:`RAY_CONNECT_TIMEOUT_S`, a Ray address that does not answer (Ray
    itself may wait minutes), and ``auto`` when no cluster runs on this machine."""
    if address is None:
        return
    if address == "auto":
        if os.environ.get("RAY_ADDRESS"):
            return check_ray_address(os.environ["RAY_ADDRESS"])
        # Ray's own lookup of a cluster on this machine (a running GCS or the last cluster's
        # address file); ray.init would wait minutes on an address whose cluster has gone
        from ray._private import services

        found = services.find_bootstrap_address(None) or next(iter(services.find_gcs_addresses()), None)
        if found is None:
            raise ScenarioError(
                "--ray auto: no Ray cluster runs on this machine; start one (ray start --head)"
            )
        return check_ray_address(found)
    hostport = address.split("://", 1)[-1]
    host, sep, port = hostport.rpartition(":")
    if not sep or not port.isdigit():
        raise ScenarioError(f"--ray {address!r} is not valid; expected 'local', 'auto' or host:port")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=RAY_CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        raise ScenarioError(
            f"no Ray cluster answers at {address} ({exc.strerror or exc}); start one "
            "(ray start --head) or use --ray local"
        ) from None


def _run_ray(
    scenario: str,
    points: list[dict[str, str]],
    todo: list[int],
    overrides: Sequence[str],
    paths: int | None,
    seed: int | None,
    address: str | None,
    finished: Callable[[int, list[dict]], None],
) -> None:
    try:
        import ray
    except ImportError:  # pragma: no cover - ray is in the 'cluster' extra
        raise ScenarioError("the ray backend needs Ray: pip install 'basislab[cluster]'") from None
    check_ray_address(address)
    started = not ray.is_initialized()
    if started:
        # Ray spawns its daemons with fork+exec; JAX's warning about fork does not apply to exec.
        warnings.filterwarnings("ignore", message="os.fork", category=RuntimeWarning)
        try:
            ray.init(
                address=address,
                ignore_reinit_error=True,
                include_dashboard=False,
                logging_level=logging.ERROR,
                log_to_driver=False,
            )
        except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ScenarioError(
                f"cannot join the Ray cluster {address!r} ({first[:200]}); start one (ray start --head) "
                "or use --ray local"
            ) from None
    try:
        task = ray.remote(run_point)
        index: dict[Any, int] = {
            task.remote(scenario, points[i], list(overrides), paths, seed): i for i in todo
        }
        pending = list(index)
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            for ref in ready:
                finished(index[ref], ray.get(ref))
    finally:
        if started:
            ray.shutdown()


def n_points(grid: Mapping[str, Sequence]) -> int:
    return math.prod(len(v) for v in grid.values())
