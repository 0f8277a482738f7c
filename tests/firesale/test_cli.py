"""``basislab firesale``: strict JSON with the issue's keys, the Rich table, bad input as one
line with exit code 2, and ``basislab --help`` without importing JAX."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from basislab.app.cli import main


def _run(capsys, *args):
    code = 0
    try:
        main(["firesale", *args])
    except SystemExit as exc:
        code = exc.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_has_the_issue_keys_and_the_default_results(capsys):
    code, out, _ = _run(capsys, "eba-2018", "--json")
    assert code == 0
    doc = json.loads(out, parse_constant=lambda c: pytest.fail(f"non-strict JSON constant {c}"))
    assert {"default_fraction", "sold_fraction", "defaults_per_step", "final_prices"} <= doc.keys()
    assert doc["default_fraction"] == 0.1875
    assert doc["defaults_per_step"] == [7, 2, 0, 0, 0, 0]
    assert doc["sold_fraction"] == pytest.approx(0.787364642, abs=1e-9)
    assert set(doc["final_prices"]) == {"corp_bonds", "gov_bonds"}
    assert doc["final_prices"]["gov_bonds"] == pytest.approx(0.736131584, abs=1e-9)


def test_options_reach_the_engine(capsys):
    code, out, _ = _run(
        capsys, "eba-2018", "--shock", "gov_bonds=10", "--shock", "corp_bonds=5", "--impact", "2",
        "--rule", "target", "--steps", "4", "--json",
    )  # fmt: skip
    doc = json.loads(out)
    assert code == 0 and len(doc["defaults_per_step"]) == 4
    assert doc["shock_pct"] == {"gov_bonds": 10.0, "corp_bonds": 5.0}
    assert doc["rule"] == "target" and doc["impact_pct"] == 2.0
    assert doc["final_prices"]["corp_bonds"] < 0.95


def test_table_output(capsys):
    code, out, _ = _run(capsys, "eba-2018")
    assert code == 0
    assert "default fraction" in out and "0.1875 (9 banks)" in out and "gov_bonds" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["eba-2019"], "unknown fire-sale dataset 'eba-2019'"),
        (["eba-2018", "--shock", "equities=10"], "unknown asset 'equities'"),
        (["eba-2018", "--shock", "gov_bonds=100"], "must be a percentage in [0, 100)"),
        (["eba-2018", "--shock", "gov_bonds=-1"], "must be a percentage in [0, 100)"),
        (["eba-2018", "--shock", "gov_bonds=abc"], "is not a number"),
        (["eba-2018", "--shock", "gov_bonds"], "expected ASSET=PCT"),
        (["eba-2018", "--impact", "150"], "--impact 150: expected a percentage in [0, 100)"),
        (["eba-2018", "--impact", "-1"], "--impact -1"),
        (["eba-2018", "--rule", "panic"], "--rule 'panic': expected threshold or target"),
        (["eba-2018", "--impact-form", "cubic"], "expected exponential or linear"),
        (["eba-2018", "--steps", "0"], "--steps 0"),
    ],
)
def test_bad_input_is_one_line_exit_2(capsys, args, message):
    code, out, err = _run(capsys, *args)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_help_does_not_import_jax():
    code = "import sys; from basislab.app.cli import app; print('jax' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "False"
