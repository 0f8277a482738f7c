"""Bad input at the CLI: a one-line error on stderr and exit code 2, never a traceback."""

import subprocess
import sys


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "basislab", *args], capture_output=True, text=True, timeout=120
    )


def test_help_lists_commands():
    out = run_cli("--help")
    assert out.returncode == 0
    assert "basislab" in out.stdout


def _one_error_line(out: subprocess.CompletedProcess) -> str:
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert out.returncode == 2 and len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
    return lines[0]


def test_usage_errors_are_one_line():
    """Click's usage box (several lines) is replaced by one line naming the problem."""
    assert "No such option: --bogus" in _one_error_line(run_cli("cf", "--bogus"))
    assert "No such command" in _one_error_line(run_cli("nosuchcommand"))
    assert "--notional" in _one_error_line(run_cli("trade", "TYU4", "--notional", "abc"))
    assert "Missing argument" in _one_error_line(run_cli("cf"))


def test_validation_errors_with_several_problems_are_one_line(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("name: x\nfunds:\n  count: 0\n  leverage_median: -1\n")
    line = _one_error_line(run_cli("simulate", str(path), "--check", "--no-save"))
    assert "funds.count" in line and "funds.leverage_median" in line


def test_version_flag():
    out = run_cli("--version")
    assert out.returncode == 0 and out.stdout.startswith("basislab ")
