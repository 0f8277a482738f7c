"""Test-session home: every folder basislab writes to is moved under a temporary folder before any
test (or any CLI subprocess a test starts, which inherits the environment) runs, so the suite
never writes into the user's data, runs or cache folders.

The JAX compilation cache lives in one folder of the system's temporary directory shared by the
xdist workers, the CLI subprocesses and later sessions: a compiled engine is built once and
reused (``JAX_COMPILATION_CACHE_DIR`` is read by JAX at import).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

_BASE = Path(tempfile.mkdtemp(prefix="basislab-tests-"))
_SHARED = Path(tempfile.gettempdir()) / f"basislab-tests-{os.getuid() if hasattr(os, 'getuid') else 'u'}"
_JAX_CACHE = _SHARED / "jax-cache"
_JAX_CACHE.mkdir(parents=True, exist_ok=True)

os.environ.update(
    {
        "BASISLAB_DATA_DIR": str(_BASE / "data"),
        "BASISLAB_RUNS_DIR": str(_BASE / "runs"),
        "BASISLAB_CACHE_DIR": str(_BASE / "cache"),
        "XDG_DATA_HOME": str(_BASE / "xdg-data"),
        "BASISLAB_JAX_CACHE_DIR": str(_JAX_CACHE),
        "JAX_COMPILATION_CACHE_DIR": str(_JAX_CACHE),
        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0.5",
        "RAY_USAGE_STATS_ENABLED": "0",
        "BASISLAB_CALIBRATE": "0",  # the engine's block calibration (basislab.sim.tuning) is off in tests
    }
)
os.environ.pop("BASISLAB_HOME", None)
os.environ.pop("RAY_ADDRESS", None)


def pytest_sessionfinish(session, exitstatus):  # noqa: ARG001 - pytest hook signature
    import shutil

    shutil.rmtree(_BASE, ignore_errors=True)
