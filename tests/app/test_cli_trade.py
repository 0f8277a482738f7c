"""``basislab trade``: JSON report and bad input (exit code 2, one line, no traceback)."""

import json
import subprocess
import sys


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "basislab", *args], capture_output=True, text=True, timeout=300
    )


def test_trade_json():
    out = run_cli("trade", "TYU4", "--notional", "50e6", "--haircut", "2", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    s = data["summary"]
    assert s["contract"] == "TYU4" and s["face"] == 50e6 and s["haircut"] == 0.02
    assert s["equity"] > 0.02 * s["market_value"]
    moves = {r["move"] for r in data["stress"]}
    assert {"yields +25bp", "basis +16/32", "haircut +2pp", "initial margin +50%"} <= moves
    assert data["repledging"][0]["round"] == 0


def test_trade_table_shows_loop_and_stress():
    out = run_cli("trade", "FVU4")
    assert out.returncode == 0, out.stderr
    assert "Re-pledging loop" in out.stdout and "Stress" in out.stdout


def test_trade_bad_haircut_exits_2():
    out = run_cli("trade", "TYU4", "--haircut", "150")
    assert out.returncode == 2
    assert "haircut" in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_trade_unknown_contract_exits_2():
    out = run_cli("trade", "XXU4")
    assert out.returncode == 2
    assert "unknown contract" in out.stderr and "Traceback" not in out.stderr


def _no_constants(c: str):
    raise ValueError(f"not JSON: {c}")


def test_trade_json_is_strict_with_an_unbounded_loop():
    """Zero haircut and zero margin: the re-pledging limit is infinite, which strict JSON cannot
    hold; it is written as null with the reason beside it (it was `Infinity`)."""
    out = run_cli("trade", "TYU4", "--haircut", "0", "--im", "0", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout, parse_constant=_no_constants)
    s = data["summary"]
    assert s["leverage_limit"] is None and s["leverage_limit_null_reason"] == "infinite"


def test_trade_notional_below_one_contract_exits_2():
    out = run_cli("trade", "TYU4", "--notional", "1")
    assert out.returncode == 2 and "too small" in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
