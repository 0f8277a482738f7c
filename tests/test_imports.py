"""``basislab --help``, ``--version`` and the analytics commands import neither JAX nor Ray (nor
scipy): they start fast and work without the simulator's dependencies loaded."""

from __future__ import annotations

import subprocess
import sys

import pytest

import basislab

PROBE = """
import sys
from basislab.app.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print("HEAVY=" + ",".join(k for k in ("jax", "ray", "scipy") if k in sys.modules), file=sys.stderr)
"""


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["--version"],
        ["cf", "TYU4"],
        ["basis", "TYU4"],
        ["trade", "TYU4", "--json"],
        ["simulate", "--help"],
        ["cf", "TYH4"],  # an error path too
    ],
)
def test_light_commands_do_not_import_jax_or_ray(args):
    res = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=120)
    heavy = [ln for ln in res.stderr.splitlines() if ln.startswith("HEAVY=")]
    assert heavy == ["HEAVY="], res.stderr[-2000:]
    assert "Traceback" not in res.stderr


def test_one_version_source():
    from importlib.metadata import version

    assert basislab.__version__ == version("basislab")
    res = subprocess.run(
        [sys.executable, "-m", "basislab", "--version"], capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 0 and res.stdout.strip() == f"basislab {basislab.__version__}"
    res = subprocess.run(
        [sys.executable, "-m", "basislab", "version"], capture_output=True, text=True, timeout=60
    )
    assert res.stdout.strip() == basislab.__version__
