"""Parameter sweeps: a scenario run over a grid of overrides, locally or on a Ray cluster.

Every grid point is the scenario with ``path.to.param=value`` overrides (the ``--set`` syntax)
run with the same seed, so points differ only by their parameters (common random numbers). The
static shape of a scenario (funds, buckets, steps) does not change along a grid of numeric
parameters, so locally one compiled engine serves every point; on Ray each worker compiles once
and reuses it for the points it gets.

``backend="ray"`` connects to ``address`` (``"auto"`` for a running cluster, ``None`` to start a
local one; see https://docs.ray.io/en/latest/ray-core/starting-ray.html) and runs one task per
point. Results come back in grid order, so a sweep gives the same table on either backend.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Callable, Mapping, Sequence

import pandas as pd

from basislab.errors import ScenarioError


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
) -> pd.DataFrame:
    """Run ``scenario`` at every point of ``grid`` and return one row per point and variant.

    Bad points (an impossible parameter value) are found before anything runs: every point's
    scenario is validated first.
    """
    from basislab.sim import load_scenario

    points = grid_points(grid)
    for p in points:  # validate every point up front: a clear error, not a half-finished sweep
        load_scenario(scenario, [*overrides, *(f"{k}={v}" for k, v in p.items())])
    if backend == "local":
        rows = []
        for p in points:
            rows.extend(run_point(scenario, p, overrides, paths, seed))
            if progress is not None:
                progress(1)
    elif backend == "ray":
        rows = _run_ray(scenario, points, overrides, paths, seed, address, progress)
    else:
        raise ScenarioError(f"backend {backend!r} is not valid; expected 'local' or 'ray'")
    return pd.DataFrame(rows)


def _run_ray(scenario, points, overrides, paths, seed, address, progress) -> list[dict]:
    try:
        import ray
    except ImportError:  # pragma: no cover - ray is in the 'cluster' extra
        raise ScenarioError("the ray backend needs Ray: pip install 'basislab[cluster]'") from None
    started = not ray.is_initialized()
    if started:
        # Ray spawns its daemons with fork+exec; JAX's warning about fork does not apply to exec.
        warnings.filterwarnings("ignore", message="os.fork", category=RuntimeWarning)
        ray.init(
            address=address,
            ignore_reinit_error=True,
            include_dashboard=False,
            logging_level="ERROR",
            log_to_driver=False,
        )
    try:
        task = ray.remote(run_point)
        refs = [task.remote(scenario, p, list(overrides), paths, seed) for p in points]
        pending, rows_by_ref = list(refs), {}
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                rows_by_ref[ref] = ray.get(ref)
                if progress is not None:
                    progress(1)
        return [row for ref in refs for row in rows_by_ref[ref]]
    finally:
        if started:
            ray.shutdown()


def n_points(grid: Mapping[str, Sequence]) -> int:
    return math.prod(len(v) for v in grid.values())
