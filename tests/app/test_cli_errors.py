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
