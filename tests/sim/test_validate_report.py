"""The episode report draws SOFR - IORB, model over observed, with the window shaded."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def sep_run():
    from basislab.sim import validate as V

    return V.validate_episode("sep-2019", paths=4)


def test_sofr_figure_model_over_observed(sep_run, tmp_path):
    from basislab.report.episode_report import sofr_figure, write_episode_report

    er, res, rows = sep_run
    fig = sofr_figure(er, res)
    traces = {t.name: t for t in fig.data if t.name}
    assert {"model (mean)", "model 5-95%", "observed"} <= set(traces)
    model = np.asarray(traces["model (mean)"].y, dtype=float)
    spread = res.raw.outputs["sofr_minus_iorb_bp"].mean(0)
    keep = np.array([d <= er.window[1] for d in er.dates])
    assert np.allclose(model, spread[keep])
    obs = traces["observed"]
    assert max(obs.y) == pytest.approx(315.0)  # SOFR 5.25% vs IOER 2.10% on 2019-09-17
    shade = [s for s in fig.layout.shapes if s.type == "rect"]
    assert len(shade) == 1 and str(shade[0].x0)[:10] == "2019-09-09" and str(shade[0].x1)[:10] == "2019-09-30"
    path = write_episode_report(er, res, rows, tmp_path / "sep.html", plotlyjs="shared")
    assert "SOFR - IORB" in path.read_text()
