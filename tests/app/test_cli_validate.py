"""``basislab validate``, ``basislab calibrate`` and ``basislab simulate EPISODE`` from the command
line: the table's rows, strict JSON, one-line errors with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys


def _run(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "basislab", *args], capture_output=True, text=True, timeout=timeout
    )


def _strict(text: str):
    def bad(x):
        raise ValueError(f"non-strict JSON constant {x}")

    return json.loads(text, parse_constant=bad)


def test_validate_table_and_json():
    p = _run("validate", "apr-2025")
    assert p.returncode == 0, p.stderr
    for series in ("futures_path", "lev_short_change", "sofr_minus_iorb"):
        assert series in p.stdout
    assert "apr-2025:" in p.stdout and "pass" in p.stdout
    assert "warning:" in p.stderr  # the stated fallbacks (Fed data end 2025-01)
    j = _run("validate", "apr-2025", "--json")
    assert j.returncode == 0, j.stderr
    out = _strict(j.stdout)
    assert {r["series"] for r in out["rows"]} == {"futures_path", "lev_short_change", "sofr_minus_iorb"}
    assert set(out["summary"]) == {"apr-2025"}


def test_simulate_episode_json_keys():
    p = _run("simulate", "late-2025", "--json")
    assert p.returncode == 0, p.stderr
    out = _strict(p.stdout)
    assert set(out) == {"scenario", "window", "paths", "seed", "metrics", "counterfactuals", "notes"}
    assert out["window"] == {"start": "2025-10-01", "end": "2025-12-31"}
    assert set(out["counterfactuals"]) == {"no_fed"}
    assert out["metrics"]["max_sofr_minus_iorb_bp"] is None or isinstance(
        out["metrics"]["max_sofr_minus_iorb_bp"], float
    )
    assert "par curve" in " ".join(out["notes"]["warnings"])


def test_bad_input_one_line_exit_2():
    for args in (("validate", "mar-2021"), ("validate", "all", "--html", "x.html"), ("calibrate", "nope")):
        p = _run(*args, timeout=120)
        assert p.returncode == 2, (args, p.stderr)
        assert len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr
