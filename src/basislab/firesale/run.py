"""The fire-sale API: a frozen configuration, one run or a batch of runs on a bundled or given
bank system, the summary a user reads, and the INET Oxford default experiments.

Defaults are those of ``ox-inet-resilience/firesale_stresstest`` (``model.py`` ``Parameters``
and ``simulation.py``): government bonds shocked by 20%, price impact 1% (selling 10% of an
asset's total quantity lowers its price by 1%), ``lambda_min = 3%``, ``lambda_buffer = 4%``,
``lambda_target = 5%``, 6 steps; leverage targeting sets ``lambda_buffer = 1``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from basislab.errors import ScenarioError
from basislab.firesale.loader import ASSET_ALIASES, BankSystem, load_dataset

#: Leverage-ratio thresholds of the INET study (README "Constraints"; ``model.py`` Parameters).
LEV_MIN, LEV_BUFFER, LEV_TARGET = 0.03, 0.04, 0.05
#: The three illustrative experiments of ``simulation.py``: impact grid at a 20% shock, shock
#: grid at 1% impact, each rule.
IMPACT_GRID = tuple(float(x) for x in np.linspace(0.0, 0.1, 21))
SHOCK_GRID = tuple(float(x) for x in np.linspace(0.0, 0.3, 21))
#: INET's "extent of systemic event" is set to 0 below 5% of banks (Gai and Kapadia 2010).
SYSTEMIC_CUTOFF = 0.05


class FiresaleConfig(BaseModel):
    """One fire-sale scenario. Fractions, not percent: ``shock={"gov_bonds": 0.2}`` is a 20% fall."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    shock: dict[str, float] = Field(default_factory=lambda: {"gov_bonds": 0.2})
    impact: float = Field(default=0.01, ge=0.0, lt=1.0)
    rule: Literal["threshold", "target"] = "threshold"
    impact_form: Literal["exponential", "linear"] = "exponential"
    steps: int = Field(default=6, ge=1, le=10_000)
    lev_min: float = Field(default=LEV_MIN, gt=0.0, lt=1.0)
    lev_buffer: float = Field(default=LEV_BUFFER, gt=0.0, le=1.0)
    lev_target: float = Field(default=LEV_TARGET, gt=0.0, lt=1.0)

    @property
    def buffer(self) -> float:
        """The delevering trigger: ``lev_buffer`` (threshold) or 1.0 (leverage targeting)."""
        return 1.0 if self.rule == "target" else self.lev_buffer


def make_config(**fields) -> FiresaleConfig:
    """:class:`FiresaleConfig` from keyword fields; a bad field is a one-line :class:`ScenarioError`."""
    try:
        cfg = FiresaleConfig(**fields)
    except ValidationError as exc:
        e = exc.errors()[0]
        where = ".".join(str(p) for p in e["loc"]) or "config"
        raise ScenarioError(f"fire-sale {where}: {e['msg']} (got {e.get('input')!r})") from None
    for name, frac in cfg.shock.items():
        if not 0.0 <= frac < 1.0 or not np.isfinite(frac):
            raise ScenarioError(f"fire-sale shock on {name}: {100 * frac:g}% must be in [0, 100)")
    if not cfg.lev_min < cfg.lev_target:
        raise ScenarioError(f"lev_min {cfg.lev_min:g} must be below lev_target {cfg.lev_target:g}")
    return cfg


def parse_shock(items: Sequence[str], assets: Sequence[str]) -> dict[str, float]:
    """``["gov_bonds=20", ...]`` (percent) to ``{"gov_bonds": 0.2}``; unknown assets, bad
    numbers and percentages outside [0, 100) are one-line :class:`ScenarioError`."""
    out: dict[str, float] = {}
    for item in items:
        name, sep, pct = item.partition("=")
        name = name.strip().lower()
        if not sep or not name:
            raise ScenarioError(f"--shock {item!r}: expected ASSET=PCT, e.g. gov_bonds=20")
        canon = ASSET_ALIASES.get(name, name)
        if canon not in assets:
            raise ScenarioError(f"--shock: unknown asset {name!r}; expected one of: {', '.join(assets)}")
        try:
            value = float(pct)
        except ValueError:
            raise ScenarioError(f"--shock {item!r}: {pct!r} is not a number (percent)") from None
        if not np.isfinite(value) or not 0.0 <= value < 100.0:
            raise ScenarioError(f"--shock {item!r}: {pct} must be a percentage in [0, 100)")
        out[canon] = value / 100.0
    return out


def _check_assets(cfg: FiresaleConfig, system: BankSystem) -> None:
    for name in cfg.shock:
        if name not in system.assets:
            raise ScenarioError(
                f"shock on unknown asset {name!r}; expected one of: {', '.join(system.assets)}"
            )


def params_batch(configs: Sequence[FiresaleConfig], system: BankSystem):
    """Stack scenario configurations into one :class:`basislab.firesale.model.Params` batch."""
    import jax.numpy as jnp

    from basislab.firesale.model import Params

    k = len(system.assets)
    shock = np.zeros((len(configs), k))
    for i, cfg in enumerate(configs):
        _check_assets(cfg, system)
        for name, frac in cfg.shock.items():
            shock[i, system.assets.index(name)] = frac
    col = lambda f: jnp.asarray([f(c) for c in configs], dtype=jnp.float64)  # noqa: E731
    return Params(
        shock=jnp.asarray(shock),
        impact=jnp.repeat(col(lambda c: c.impact)[:, None], k, axis=1),
        linear=col(lambda c: float(c.impact_form == "linear")),
        lev_min=col(lambda c: c.lev_min),
        lev_buffer=col(lambda c: c.buffer),
        lev_target=col(lambda c: c.lev_target),
    )


def run_batch(configs: Sequence[FiresaleConfig], system: BankSystem) -> list[dict]:
    """Run scenarios that share a step count in one vmapped compilation; one summary each
    (see :func:`summarise`)."""
    from basislab.firesale.model import simulate_many, system_arrays

    if not configs:
        return []
    steps = {c.steps for c in configs}
    if len(steps) != 1:
        raise ScenarioError(f"a batch must share one step count, got {sorted(steps)}")
    final, rec = simulate_many(system_arrays(system), params_batch(configs, system), configs[0].steps)
    final = type(final)(*(np.asarray(x) for x in final))
    rec = type(rec)(*(np.asarray(x) for x in rec))
    out = []
    for i, cfg in enumerate(configs):
        out.append(
            summarise(
                cfg,
                system,
                defaults=rec.defaults[i],
                sold=final.sold[i],
                price=final.price[i],
                alive=final.alive[i],
                sold_per_step=rec.sold[i],
            )
        )
    return out


def summarise(cfg, system, *, defaults, sold, price, alive, sold_per_step) -> dict:
    """The user's summary: ``default_fraction`` (defaulted banks / all banks), ``sold_fraction``
    (cumulative quantity cleared / initial quantity of all tradables, INET's "proportion of
    tradable assets delevered"), ``defaults_per_step``, ``final_prices`` (1.0 at the start),
    INET's ``systemic_event`` (default fraction, 0 below 5%) and the defaulted banks."""
    n = len(system.names)
    total = float(system.holdings.sum())
    frac = int(np.sum(defaults)) / n
    return {
        "shock_pct": {k: 100 * v for k, v in cfg.shock.items()},
        "impact_pct": 100 * cfg.impact,
        "impact_form": cfg.impact_form,
        "rule": cfg.rule,
        "steps": cfg.steps,
        "n_banks": n,
        "default_fraction": frac,
        "sold_fraction": float(np.sum(sold)) / total if total > 0 else 0.0,
        "defaults_per_step": [int(d) for d in defaults],
        "sold_per_step": [float(np.sum(s)) for s in sold_per_step],
        "final_prices": {a: float(p) for a, p in zip(system.assets, price)},
        "systemic_event": frac if frac >= SYSTEMIC_CUTOFF else 0.0,
        "defaulted_banks": [nm for nm, ok in zip(system.names, alive) if not ok],
    }


def run_firesale(dataset: str | BankSystem = "eba-2018", config: FiresaleConfig | None = None) -> dict:
    """One fire sale on a bundled dataset (``eba-2018``) or a :class:`BankSystem`."""
    system = load_dataset(dataset) if isinstance(dataset, str) else dataset
    cfg = config or FiresaleConfig()
    _check_assets(cfg, system)
    result = run_batch([cfg], system)[0]
    if isinstance(dataset, str):
        result = {"dataset": dataset, **result}
    return result


def inet_experiment_configs() -> dict[str, list[FiresaleConfig]]:
    """The three experiments of ``ox-inet-resilience/firesale_stresstest`` ``simulation.py``:
    price impact 0-10% (21 points) at a 20% government-bond shock; shock 0-30% (21 points) at
    1% impact, threshold model; the same shocks with leverage targeting."""
    return {
        "price_impact": [make_config(impact=x) for x in IMPACT_GRID],
        "shock_threshold": [make_config(shock={"gov_bonds": s}) for s in SHOCK_GRID],
        "shock_target": [make_config(shock={"gov_bonds": s}, rule="target") for s in SHOCK_GRID],
    }


def inet_experiments(system: BankSystem | None = None) -> dict[str, list[dict]]:
    """Run the three INET experiments (63 scenarios, one compilation) on the EBA 2018 banks."""
    system = system or load_dataset("eba-2018")
    sets = inet_experiment_configs()
    flat = [c for cs in sets.values() for c in cs]
    results = iter(run_batch(flat, system))
    return {name: [next(results) for _ in cs] for name, cs in sets.items()}
