"""Stock-flow-consistent JAX simulator of the basis-trade margin spiral.

Public API::

    from basislab import sim
    sc = sim.load_scenario("seed-thesis", overrides=["funds.count=50"])
    runs = sim.run_scenario(sc, paths=64, seed=1)      # {"without_backstop": SimResult, ...}
    runs["without_backstop"].metrics(); sim.audit(runs["with_backstop"])

Lower level: :mod:`basislab.sim.model` (Static, Params, State, the step kernels, ``step``),
:mod:`basislab.sim.engine` (scan/vmap runners), :mod:`basislab.sim.scenario` (pydantic scenarios).
"""

from __future__ import annotations

from collections.abc import Callable

import jax

jax.config.update("jax_enable_x64", True)

from basislab.sim.audit import IDENTITIES, audit, audit_max  # noqa: E402
from basislab.sim.engine import compiled_runner, concat, run_batch, take_paths  # noqa: E402
from basislab.sim.model import BUCKETS, SEGMENTS, Params, State, Static, step  # noqa: E402
from basislab.sim.results import SimResult  # noqa: E402
from basislab.sim.scenario import (  # noqa: E402
    Scenario,
    list_presets,
    load_scenario,
    scenario_from_initial_conditions,
    to_engine,
    with_backstop,
)

__all__ = [
    "BUCKETS",
    "IDENTITIES",
    "SEGMENTS",
    "Params",
    "Scenario",
    "SimResult",
    "State",
    "Static",
    "audit",
    "audit_max",
    "compiled_runner",
    "list_presets",
    "load_scenario",
    "run_scenario",
    "scenario_from_initial_conditions",
    "simulate",
    "step",
    "to_engine",
    "with_backstop",
]

CHUNK_PATHS = 256


def simulate(
    scenario: Scenario,
    paths: int | None = None,
    seed: int | None = None,
    variant: str = "run",
    progress: Callable[[int], None] | None = None,
) -> SimResult:
    """Run one scenario over ``paths`` seeded paths (in chunks; same seed -> same numbers)."""
    params, static = to_engine(scenario)
    paths = scenario.paths if paths is None else int(paths)
    seed = scenario.seed if seed is None else int(seed)
    if paths < 1:
        from basislab.errors import ScenarioError

        raise ScenarioError(f"paths must be >= 1, got {paths}")
    if not 0 <= seed <= 2**32 - 1:  # JAX keys take a uint32 seed: a larger one would alias another
        from basislab.errors import ScenarioError

        raise ScenarioError(f"seed {seed} is out of range; expected an integer from 0 to {2**32 - 1}")
    chunk = min(CHUNK_PATHS, paths)  # the last chunk is padded: one compiled shape per run
    chunks = []
    for start in range(0, paths, chunk):
        n = min(chunk, paths - start)
        run = run_batch(params, static, seed, chunk, offset=start)
        chunks.append(run if n == chunk else take_paths(run, n))
        if progress is not None:
            progress(n)
    return SimResult(scenario, params, concat(chunks), seed, variant)


def run_scenario(
    scenario: Scenario | str,
    paths: int | None = None,
    seed: int | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    progress: Callable[[int], None] | None = None,
) -> dict[str, SimResult]:
    """Run a scenario; one that sets ``compare_backstop`` runs twice (without / with backstop)."""
    sc = load_scenario(scenario, overrides) if isinstance(scenario, str) else scenario
    if sc.compare_backstop:
        return {
            "without_backstop": simulate(with_backstop(sc, False), paths, seed, "without_backstop", progress),
            "with_backstop": simulate(with_backstop(sc, True), paths, seed, "with_backstop", progress),
        }
    return {"run": simulate(sc, paths, seed, "run", progress)}
