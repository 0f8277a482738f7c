"""basislab.sim.calibrate: the grid's best point, its uncertainty and the resumable point file."""

from __future__ import annotations

import json

import pytest

from basislab.sim import calibrate as C


@pytest.fixture(scope="module")
def fit(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cal") / "points.jsonl"
    return C.calibrate(
        "mar-2020", grid=C.QUICK_GRID, seeds=1, out_of_sample=("calm-2019h1",), cache=cache
    ), cache


def test_fit_is_the_grid_minimum_and_reports_out_of_sample(fit):
    out, cache = fit
    assert out["points"] == 4 and set(out["parameters"]) == set(C.QUICK_GRID)
    for name, p in out["parameters"].items():
        assert p["fitted"] in C.QUICK_GRID[name]
        lo, hi = p["profile_range"]
        assert lo <= p["fitted"] <= hi
    assert out["objective_fitted"] <= out["objective_default"] + 1e-12
    assert set(out["out_of_sample"]) == {"calm-2019h1"}
    json.dumps(out, allow_nan=False)
    lines = cache.read_text().splitlines()
    assert len(lines) == 4 and all(json.loads(x)["id"] for x in lines)


def test_killed_calibration_resumes_from_its_points(fit, monkeypatch):
    """A second run over the same points reads them back instead of simulating them again."""
    out, cache = fit
    calls = []
    real = C.evaluate
    monkeypatch.setattr(C, "evaluate", lambda *a, **k: calls.append(a) or real(*a, **k))
    again = C.calibrate("mar-2020", grid=C.QUICK_GRID, seeds=1, out_of_sample=(), cache=cache)
    assert len(calls) == 2  # only the in-sample default and fitted rows, no grid point
    assert again["parameters"] == out["parameters"]


def test_best_point_keeps_defaults_among_ties():
    """A surface flat in ``b`` (0.5 at every b for a = 1, 0.7 for a = 2): the fit is a = 1 with b
    at its default 3, not the grid's first b; a strictly lower point wins over a tie; NaN (a
    failed point) is skipped."""
    pts = [{"a": a, "b": b} for a in (1.0, 2.0) for b in (1.0, 2.0, 3.0)]
    base = {"a": 2.0, "b": 3.0}
    obj = [0.5, 0.5, 0.5 + 1e-12, 0.7, 0.7, 0.7]
    assert pts[C.best_point(obj, pts, base)] == {"a": 1.0, "b": 3.0}
    obj[1] = 0.4999
    assert pts[C.best_point(obj, pts, base)] == {"a": 1.0, "b": 2.0}
    assert C.best_point([float("nan"), 0.7, 0.7, 0.9, 0.9, 0.7], pts, base) == 5


def test_unknown_parameter_refused():
    from basislab.errors import ScenarioError

    with pytest.raises(ScenarioError, match="cannot calibrate"):
        C.calibrate("mar-2020", grid={"haircut": (1.0,)}, cache=False)
