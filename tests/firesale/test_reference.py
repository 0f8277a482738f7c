"""The JAX engine against the independent loop-based reference (``tests/firesale/reference.py``,
a transcription of INET Oxford's ``firesale_stresstest`` algorithm) on the EBA 2018 banks: every
default experiment of INET's ``simulation.py`` (price impact 0-10% at a 20% government-bond
shock; shock 0-30% at 1% impact, threshold and leverage targeting), plus linear impact and a
longer horizon. Default counts must agree exactly, quantities and prices to 1e-12 relative.

INET publishes these experiments as figures only (``plots/*.png``, no numbers), so the expected
values here are derived from the method by the reference, not copied from a publication.
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import pytest

from basislab.firesale import eba_system, make_config, run_batch
from basislab.firesale.model import simulate_many, system_arrays
from basislab.firesale.run import inet_experiment_configs, params_batch
from tests.firesale.reference import eba_banks_from_csv, reference_firesale

CSV = resources.files("basislab.firesale").joinpath("data", "eba_2018_bank_balance_sheets.csv").read_text()


def _reference(cfg):
    shock = [cfg.shock.get("corp_bonds", 0.0), cfg.shock.get("gov_bonds", 0.0)]
    return reference_firesale(
        eba_banks_from_csv(CSV),
        shock,
        cfg.impact,
        linear=cfg.impact_form == "linear",
        lev_min=cfg.lev_min,
        lev_buffer=cfg.buffer,
        lev_target=cfg.lev_target,
        steps=cfg.steps,
    )


def _configs():
    sets = inet_experiment_configs()
    extra = [make_config(impact_form="linear", impact=x) for x in (0.01, 0.03, 0.05)] + [
        make_config(shock={"gov_bonds": 0.15, "corp_bonds": 0.05}, rule="target", impact=0.02)
    ]
    return [c for cs in sets.values() for c in cs] + extra


@pytest.fixture(scope="module")
def engine_runs():
    system = eba_system()
    configs = _configs()
    final, rec = simulate_many(system_arrays(system), params_batch(configs, system), 6)
    return configs, final, rec


def test_every_default_experiment_matches_the_reference(engine_runs):
    configs, final, rec = engine_runs
    assert len(configs) == 67
    for i, cfg in enumerate(configs):
        ref = _reference(cfg)
        where = f"scenario {i}: {cfg}"
        assert [int(d) for d in rec.defaults[i]] == ref["defaults_per_step"], where
        assert list(np.asarray(final.alive[i])) == ref["alive"], where
        np.testing.assert_allclose(final.price[i], ref["prices"], rtol=1e-12, err_msg=where)
        np.testing.assert_allclose(final.sold[i], ref["sold"], rtol=1e-12, atol=1e-6, err_msg=where)
        np.testing.assert_allclose(final.q[i], ref["qty"], rtol=1e-11, atol=1e-6, err_msg=where)
        np.testing.assert_allclose(final.cash[i], ref["cash"], rtol=1e-11, atol=1e-6, err_msg=where)
        np.testing.assert_allclose(final.loan[i], ref["loan"], rtol=1e-12, err_msg=where)


def test_the_default_run_reproduces_the_reference_summary():
    """INET defaults (gov bonds -20%, impact 1%, threshold 3/4/5%, 6 steps): 9 of 48 banks
    default (7 at step 1, 2 at step 2) and 78.7% of all tradable quantity is sold."""
    cfg = make_config()
    got = run_batch([cfg], eba_system())[0]
    ref = _reference(cfg)
    assert got["defaults_per_step"] == ref["defaults_per_step"] == [7, 2, 0, 0, 0, 0]
    assert got["default_fraction"] == sum(ref["defaults_per_step"]) / 48 == 0.1875
    assert got["sold_fraction"] == pytest.approx(sum(ref["sold"]) / sum(ref["total"]), rel=1e-12)
    assert got["sold_fraction"] == pytest.approx(0.787364642, abs=1e-9)
    assert got["final_prices"]["gov_bonds"] == pytest.approx(ref["prices"][1], rel=1e-12)
    assert got["final_prices"]["gov_bonds"] == pytest.approx(0.736131584, abs=1e-9)
    assert got["final_prices"]["corp_bonds"] == pytest.approx(0.932964963, abs=1e-9)
    assert got["defaulted_banks"] == ["BE04", "FR13", "DE15", "DE21", "IT26", "IT28", "NL30", "NL33", "ES38"]


def test_leverage_targeting_sells_more_than_the_threshold_model(engine_runs):
    """Cont and Schaanning (2017): leverage targeting delevers banks that the threshold model
    leaves alone, so at every shock of INET's grid it sells at least as much."""
    configs, final, _ = engine_runs
    sold = np.asarray(final.sold).sum(-1)
    thr, tgt = sold[21:42], sold[42:63]
    assert np.all(tgt >= thr) and np.all(tgt[:5] > 2 * thr[:5])


def test_a_longer_horizon_matches_the_reference():
    cfg = make_config(steps=15, impact=0.04, rule="target")
    got = run_batch([cfg], eba_system())[0]
    ref = _reference(cfg)
    assert got["defaults_per_step"] == ref["defaults_per_step"]
    assert got["sold_fraction"] == pytest.approx(sum(ref["sold"]) / sum(ref["total"]), rel=1e-12)
