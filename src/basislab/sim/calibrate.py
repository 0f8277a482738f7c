"""Calibration of the replay's assumptions on an episode's observed market series by simulated
method of moments (``basislab calibrate EPISODE``; docs/calibration.md).

Fitted: the parameters marked as assumptions that shape a replay (:data:`GRID`):

* ``news_share``: share of the observed par-curve move taken as news (the rest is left to the
  model's own impact; the store has no OIS curve to separate them);
* ``impact_scale``: multiplier of the calm price-impact slopes (D'Amico & King 2013 give a range);
* ``impact_stress_slope``: rise of impact per unit of volatility stress (Duffie et al. 2023 give
  the sign, not the size);
* ``repo_stress_scale``: multiplier of the repo lenders' stress slopes (haircut rise and refusal to
  roll per unit of volatility stress; INET / Brunnermeier-Pedersen rules, sizes assumed): the
  funding side of the funds' de-risking. (The leverage-limit multiple, the other de-risking
  assumption, moves the mar-2020 replay by under 1% between 2 and 5: it is not identified by
  these moments and stays at its default.)

Moments: the observed market series of :mod:`basislab.sim.validate` that were not inputs: each
bucket's futures path, each bucket's weekly change of leveraged funds' shorts and, once the
funding market is wired (issue 10), SOFR minus IORB. The objective is the mean over series of
``(RMSE / obs_rms)^2`` (each series' error in units of its own size: a diagonal SMM weight).
**Never** a published figure of what funds sold or earned: those stay outside the project for
validation.

Search: the full grid, every point run on the same seeded paths through one compiled engine
(:func:`basislab.sim.episodes.compiled_episode_runner`; parameters are arrays, so the grid needs
no recompilation), for each of ``seeds`` seeds. Uncertainty: the spread of the best point across
seeds (a bootstrap over the simulation noise) and, per parameter, the profile range: the values
whose best objective is within ``PROFILE_TOL`` (10%) of the minimum. Finished points are kept in
a JSONL file, so a killed calibration resumes where it stopped.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from basislab.sim import episodes as E
from basislab.sim import validate as V

#: parameter -> grid values (the preset's default is in each grid)
GRID: dict[str, tuple[float, ...]] = {
    "news_share": (0.6, 0.8, 1.0),
    "impact_scale": (0.25, 0.5, 1.0),
    "impact_stress_slope": (0.0, 0.5, 2.0),
    "repo_stress_scale": (0.25, 0.5, 1.0),
}
QUICK_GRID: dict[str, tuple[float, ...]] = {"news_share": (0.9, 1.0), "impact_scale": (0.5, 1.0)}
PROFILE_TOL = 0.10
MOMENT_SERIES = ("futures_path", "lev_short_change", "sofr_minus_iorb")


def defaults(er) -> dict[str, float]:
    """The preset's values of the calibrated parameters."""
    p = er.params
    return {
        "news_share": er.preset.news_share,
        "impact_scale": 1.0,
        "impact_stress_slope": float(np.asarray(p.market.impact_stress)),
        "repo_stress_scale": 1.0,
    }


def objective(rows: list[dict]) -> float:
    """Mean over the moment series (rows with both model and observed values) of
    ``(rmse / obs_rms)^2``."""
    terms = [
        (r["rmse"] / r["obs_rms"]) ** 2
        for r in rows
        if r["series"] in MOMENT_SERIES and r["rmse"] is not None and r["obs_rms"]
    ]
    return float(np.mean(terms)) if terms else math.nan


#: Objectives within this relative distance of the minimum tie (the rows' errors are rounded to
#: 1e-6): of tied points the one with the fewest parameters moved off their defaults is the fit, so
#: a parameter that does not move the moments stays at its default instead of taking the grid's
#: first value.
TIE_REL = 1e-9


def best_point(objectives: np.ndarray, points: list[dict[str, float]], base: dict[str, float]) -> int:
    """Index of the grid's best point: the smallest objective; among ties (:data:`TIE_REL`), the
    point with the fewest parameters off ``base``, then the first in grid order."""
    obj = np.asarray(objectives, dtype=float)
    lo = float(np.nanmin(obj))
    tied = np.flatnonzero(obj <= lo + TIE_REL * max(abs(lo), 1.0))
    moved = [sum(points[i][n] != base.get(n) for n in points[i]) for i in tied]
    return int(tied[int(np.argmin(moved))])


def evaluate(er, values: dict[str, float], seed: int, paths: int | None = None) -> tuple[float, list[dict]]:
    """Objective and validation rows of the episode run with ``values``."""
    params = E.with_assumptions(er, values)
    res = E.run(er, params=params, seed=seed, paths=paths)
    rows = V.compare(er, res)
    return objective(rows), rows


def _cache_path(key: str) -> Path:
    from basislab.paths import runs_dir

    return runs_dir() / "calibrate" / f"{key}.jsonl"


def params_digest(params) -> str:
    """SHA-256 (16 hex) of every parameter array: a stored point is reused only for the same
    episode inputs and model parameters (a new basislab or a refreshed store runs it again)."""
    import hashlib

    import jax

    h = hashlib.sha256()
    for leaf in jax.tree_util.tree_leaves(params):
        h.update(np.ascontiguousarray(np.asarray(leaf, dtype=np.float64)).tobytes())
    return h.hexdigest()[:16]


def _point_id(values: dict[str, float], seed: int, paths: int, digest: str = "") -> str:
    v = {k: values[k] for k in sorted(values)}
    return json.dumps({"v": v, "seed": seed, "paths": paths, "params": digest}, sort_keys=True)


def _load_cache(path: Path) -> dict[str, float]:
    done: dict[str, float] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                rec = json.loads(line)
                done[rec["id"]] = float(rec["objective"]) if rec["objective"] is not None else math.nan
            except (ValueError, KeyError, TypeError):  # a line cut by a kill: ignored, run again
                continue
    return done


def _append(path: Path, pid: str, obj: float) -> None:
    """One finished point, appended as one line in one write (``O_APPEND``) and flushed to disk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"id": pid, "objective": obj if math.isfinite(obj) else None}) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def calibrate(
    key: str = "mar-2020",
    grid: dict[str, tuple[float, ...]] | None = None,
    seeds: int = 2,
    paths: int | None = None,
    out_of_sample: tuple[str, ...] | None = None,
    cache: Path | None | bool = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Fit :data:`GRID` on episode ``key`` (module doc); validate out of sample on the other
    episodes (or ``out_of_sample``). ``cache``: a JSONL file of finished points (default under
    :func:`basislab.paths.runs_dir`; ``False``: none)."""
    from basislab.data.store import connect

    t0 = time.perf_counter()
    grid = dict(GRID if grid is None else grid)
    unknown = sorted(set(grid) - set(GRID))
    if unknown:
        from basislab.errors import ScenarioError

        raise ScenarioError(f"cannot calibrate {unknown}; calibrated parameters: {', '.join(GRID)}")
    paths = E.DEFAULT_PATHS if paths is None else int(paths)
    con = connect(None, read_only=True)
    try:
        er = E.build(key, con=con)
        base = defaults(er)
        names = list(grid)
        points = [dict(zip(names, combo, strict=True)) for combo in itertools.product(*grid.values())]
        cpath = _cache_path(key) if cache is None or cache is True else (Path(cache) if cache else None)
        done = _load_cache(cpath) if cpath else {}
        digest = params_digest(er.params)
        surface = np.full((seeds, len(points)), np.nan)
        total, k = seeds * len(points), 0
        for s in range(seeds):
            for i, pt in enumerate(points):
                values = {**base, **pt}
                pid = _point_id(values, s, paths, digest)
                if pid in done:
                    surface[s, i] = done[pid]
                else:
                    surface[s, i] = evaluate(er, values, s, paths)[0]
                    if cpath:
                        _append(cpath, pid, surface[s, i])
                k += 1
                if progress:
                    progress(k, total)
        mean = np.nanmean(surface, axis=0)
        best = best_point(mean, points, base)
        fitted = {**base, **points[best]}
        per_seed = [points[best_point(surface[s], points, base)] for s in range(seeds)]
        fit_table = {}
        for n in names:
            vals = np.array([p[n] for p in per_seed])
            prof = [
                v
                for v in grid[n]
                if np.nanmin(mean[[j for j, p in enumerate(points) if p[n] == v]])
                <= mean[best] * (1 + PROFILE_TOL)
            ]
            fit_table[n] = {
                "default": base[n],
                "fitted": fitted[n],
                "seed_sd": round(float(vals.std(ddof=1)), 6) if seeds > 1 else None,
                "per_seed": [float(v) for v in vals],
                "profile_range": [min(prof), max(prof)],
                "grid": list(grid[n]),
            }
        ins_default, ins_rows = evaluate(er, base, 0, paths)
        ins_fit, fit_rows = evaluate(er, fitted, 0, paths)
        oos_keys = [k for k in E.names() if k != key] if out_of_sample is None else list(out_of_sample)
        oos = {}
        for other in oos_keys:
            er_o = E.build(other, con=con)
            j0, r0 = evaluate(er_o, {**defaults(er_o), **{n: base[n] for n in names}}, 0, paths)
            j1, r1 = evaluate(er_o, {**defaults(er_o), **{n: fitted[n] for n in names}}, 0, paths)
            oos[other] = {
                "objective_default": _r(j0),
                "objective_fitted": _r(j1),
                "pass_default": V.summary(r0).get(other, {}).get("pass", 0),
                "pass_fitted": V.summary(r1).get(other, {}).get("pass", 0),
                "rows": len(r1),
                "rmse_ratio_fitted": {f"{r['series']}:{r['label']}": _ratio(r) for r in r1},
            }
    finally:
        con.close()
    return {
        "episode": key,
        "method": "simulated method of moments: grid search, same seeded paths at every point",
        "moments": list(MOMENT_SERIES),
        "seeds": seeds,
        "paths": paths,
        "points": len(points),
        "objective_default": _r(ins_default),
        "objective_fitted": _r(ins_fit),
        "in_sample_rmse_ratio": {f"{r['series']}:{r['label']}": _ratio(r) for r in fit_rows},
        "in_sample_rmse_ratio_default": {f"{r['series']}:{r['label']}": _ratio(r) for r in ins_rows},
        "parameters": fit_table,
        "out_of_sample": oos,
        "wall_s": round(time.perf_counter() - t0, 1),
    }


def _r(x: float) -> float | None:
    return round(float(x), 6) if math.isfinite(float(x)) else None


def _ratio(r: dict) -> float | None:
    if r["rmse"] is None or not r["obs_rms"]:
        return None
    return round(r["rmse"] / r["obs_rms"], 4)
