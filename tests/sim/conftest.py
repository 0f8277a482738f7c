"""Shared, small, compiled-once configurations for the simulator tests.

Every configuration here shares one :class:`Static` (12 funds, 24 days) so the engine compiles
once per test worker; scenarios differ only in numeric parameters.
"""

from __future__ import annotations

import pytest

from basislab import sim

#: overrides making seed-thesis small (same Static for every test scenario below)
SMALL = ["funds.count=12", "horizon_days=24", "shock.start_day=3", "shock.duration_days=5", "paths=6"]


def small(*extra: str) -> sim.Scenario:
    return sim.load_scenario("seed-thesis", [*SMALL, *extra])


@pytest.fixture(scope="session")
def small_runs() -> dict[str, sim.SimResult]:
    """seed-thesis, small: both worlds (without / with the backstop)."""
    return sim.run_scenario(small(), paths=6, seed=3)


@pytest.fixture(scope="module")
def con():
    """A read-only connection to the bundled data store (the episode tests' inputs)."""
    from basislab.data.store import connect

    c = connect(None, read_only=True)
    yield c
    c.close()
