"""Policy lab: survival maps over two policy levers, batched over parameters in one compilation.

A *lever* (:data:`LEVERS`) maps a number onto a scenario (its YAML fields) or onto the engine's
numeric :class:`~basislab.sim.players.Params`; it never changes the engine's static shapes, so a
whole grid of scenarios runs as one compiled program. Each grid point runs the same seeded paths
(common random numbers), so differences across the map come from the levers, not the noise.

The runner batches (point, path) pairs: every pair is one simulated world with its own
parameters; pairs are walked in blocks of :data:`basislab.sim.engine.PATH_BLOCK` (one ``vmap``
named :data:`basislab.sim.engine.PATH_AXIS` per block, ``lax.map`` over blocks, as the engine
does) and each world is reduced to a few numbers (:data:`PATH_METRICS`) inside the compiled
program, so memory does not grow with the horizon.

Levers whose mechanism is not in the engine yet (the SRF, the SLR exemption, Fed purchases; see
issue 10's ``sim/fed.py``, ``sim/funding.py``, ``sim/dealers.py``) are refused with one line that
names what is missing, never silently ignored. The Fed's delay is emulated until issue 10 wires
``sim/fed.py`` into the engine: the backstop lender (the seeds' lender of last resort to the
funds) is switched on from the first morning window at or after ``trigger + delay`` hours, where
the trigger is the first morning of the scenario's shock (docs/policy.md).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from basislab.errors import BasislabError, ScenarioError, SimulationError

#: a cross-section of the fire sale: share of the book (initial cash leg, USD bn of face) sold
UNWIND_THRESHOLD = 0.10


# ----------------------------------------------------------------------------------------------
# levers


@dataclass(frozen=True)
class Lever:
    """A policy lever: how a number maps onto the scenario or the engine's parameters.

    ``scenario(data, value)`` edits a scenario's mapping (``Scenario.model_dump(exclude_none=True)``) in place;
    ``params(params, value)`` edits the engine's numeric parameters; ``day_path(scenario, value)``
    returns a per-day activation of the backstop lender (1 = lends that day). ``missing`` names
    the mechanism the engine lacks: such a lever is refused.
    """

    name: str
    units: str
    lo: float
    hi: float
    maps_to: str
    source: str
    description: str
    scenario: Callable[[dict, float], None] | None = None
    params: Callable[[Any, float], Any] | None = None
    day_path: Callable[[Any, float], np.ndarray] | None = None
    missing: str | None = None

    def check(self, value: float) -> float:
        """The value as a float, or a one-line error naming the lever's range and units."""
        if self.missing is not None:
            raise BasislabError(f"lever {self.name!r} is not available yet: {self.missing}")
        if not (isinstance(value, int | float) and math.isfinite(value)):
            raise BasislabError(f"lever {self.name}: {value!r} is not a finite number ({self.units})")
        if not self.lo <= value <= self.hi:
            raise BasislabError(
                f"lever {self.name}={value:g} is out of range; expected {self.lo:g} to {self.hi:g} {self.units}"
            )
        return float(value)


def _scale_shock(data: dict, m: float) -> None:
    """The episode scaled by ``m``: yield rise, cash dislocation and the excess volatility
    (``vol_multiplier = 1 + m (v - 1)``), so ``m = 0`` is a calm market and ``m = 1`` the scenario."""
    sh = data["shock"]
    sh["yield_bp"] = {k: v * m for k, v in sh["yield_bp"].items()}
    sh["cash_dislocation_bp"] = {k: v * m for k, v in sh["cash_dislocation_bp"].items()}
    sh["vol_multiplier"] = max(0.0, 1.0 + m * (sh["vol_multiplier"] - 1.0))


def _backstop_on(data: dict) -> None:
    data["backstop"]["enabled"] = True
    data["compare_backstop"] = False


def _set_backstop(key: str) -> Callable[[dict, float], None]:
    def edit(data: dict, v: float) -> None:
        _backstop_on(data)
        data["backstop"][key] = v

    return edit


def _haircut_floor(data: dict, v: float) -> None:
    """Every level of the bilateral segment's haircut (calm, stressed and extreme bands) at least ``v``."""
    seg = data["repo"]["bilateral"]
    for key in ("haircut_pct", "haircut_mid_pct", "haircut_max_pct"):
        if key in seg:
            seg[key] = max(seg[key], v)


def _clearing_mandate(data: dict, v: float) -> None:
    data["funds"]["bilateral_share"] = data["funds"]["bilateral_share"] * (1.0 - v)


def _leverage_cap(data: dict, v: float) -> None:
    data["funds"]["leverage_median"] = min(data["funds"]["leverage_median"], v)


def _im_buffer(params: Any, v: float) -> Any:
    return params._replace(ccp=params.ccp._replace(im_floor=np.asarray(params.ccp.im_floor) * v))


#: the morning repo / IM window and the end-of-day VM window, hours into a business day
#: (basislab.sim.fed.FedConfig: 9:00 and 16:00; docs/model.md section 3)
MORNING_HOUR, EOD_HOUR = 9.0, 16.0


def delay_days(start_day: int, delay_hours: float) -> int:
    """First day the backstop lends after a trigger at the shock's first morning window and a
    delay of ``delay_hours``: the first morning window at or after ``trigger + delay``
    (``start_day + ceil(delay / 24)``). A delay ending before that day's end-of-day window (1-7
    hours) is rounded up to the next morning: at most 7 hours late against ``sim/fed.py``'s rule."""
    return int(start_day + math.ceil(delay_hours / 24.0 - 1e-12))


def _delay_path(sc: Any, delay_hours: float) -> np.ndarray:
    first = delay_days(sc.shock.start_day, delay_hours)
    return (np.arange(sc.horizon_days) >= first).astype(np.float64)


def _engine_has(section: str, field_name: str) -> bool:
    """Whether the scenario schema has ``section.field_name`` (the engine's Fed, issue 10)."""
    from basislab.sim import scenario as s

    cls = {"backstop": s.BackstopConfig, "fed": getattr(s, "FedConfig", None)}.get(section)
    return cls is not None and field_name in cls.model_fields


#: the engine's lender of last resort has its own trigger and delay (issue 10 wired ``sim/fed.py``)
ENGINE_DELAY = _engine_has("backstop", "delay_hours")
#: the engine has the Fed's outright purchases as a clearing participant
ENGINE_PURCHASES = _engine_has("fed", "purchases")
#: trigger of the lender of last resort when the scenario leaves it standing (cash cheapening, bp of
#: yield beyond fundamentals; the same assumption as the Fed purchases' default trigger)
DELAY_TRIGGER_BP = 25.0


def _engine_delay(data: dict, v: float) -> None:
    _backstop_on(data)
    data["backstop"]["delay_hours"] = v
    if data["backstop"].get("trigger_bp") is None:
        data["backstop"]["trigger_bp"] = DELAY_TRIGGER_BP


def _purchases(data: dict, v: float) -> None:
    pu = data.setdefault("fed", {}).setdefault("purchases", {})
    pu["enabled"] = v > 0
    pu["capacity_usd_bn_per_day"] = v


def _srf_access(data: dict, v: float) -> None:
    fm = data.setdefault("funding", {})
    fm["srf_access"] = True
    if v >= 0.5:
        _backstop_on(data)
        from basislab.sim import scenario as s

        mk = data.get("market", {})
        default = lambda model, key: model.model_fields[key].default  # noqa: E731 - the schema's
        iorb = mk.get("iorb_pct", default(s.MarketConfig, "iorb_pct"))
        sofr = mk.get("sofr_pct", default(s.MarketConfig, "sofr_pct"))
        spread = fm.get("srf_spread_bp", default(s.FundingMarketConfig, "srf_spread_bp"))
        data["backstop"].update(trigger_bp=None, delay_hours=0.0, rate_spread_bp=(iorb - sofr) * 100 + spread)


def _srf_rate(data: dict, v: float) -> None:
    fm = data.setdefault("funding", {})
    fm["srf_access"] = True
    fm["srf_spread_bp"] = v


def _srf_clearing(data: dict, v: float) -> None:
    fm = data.setdefault("funding", {})
    fm["srf_access"] = True
    fm["srf_central_clearing"] = v >= 0.5


def _slr_exemption(data: dict, v: float) -> None:
    data.setdefault("dealers", {})["slr_exempt"] = v >= 0.5


def _refused(what: str) -> str:
    return f"needs {what} in the engine (issue 10: the module exists but is not wired into the engine yet)"


_LEVERS = (
    Lever(
        "shock",
        "x the scenario's shock",
        0.0,
        10.0,
        "shock.yield_bp[*], shock.cash_dislocation_bp[*] and the excess volatility (vol_multiplier - 1) "
        "times the value (shape kept; 0 = a calm market)",
        "shape: ust10y_rise_mar9_18 (Mar 9-18 2020), Schrimpf, Shin & Sushko (2020) dislocation",
        "size of the March-2020-shaped sell-off: yields, cash dislocation and excess volatility scaled together",
        scenario=_scale_shock,
    ),
    Lever(
        "fed_delay_h",
        "hours",
        0.0,
        1000.0,
        "backstop.enabled=true, backstop.delay_hours (trigger_bp 25 if the scenario leaves it standing)",
        "assumption (trigger: cash cheapening of 25bp of yield); issue 10 (sim/fed.py lender of last resort)",
        "hours from the trigger until the Fed's lender of last resort (the backstop) lends",
        scenario=_engine_delay,
    )
    if ENGINE_DELAY
    else Lever(
        "fed_delay_h",
        "hours",
        0.0,
        1000.0,
        "backstop.enabled=true; backstop.on[t] = 1 from day start_day + ceil(delay/24)",
        "assumption (trigger = the shock's first morning window); issue 10 (sim/fed.py lolr)",
        "hours from the trigger until the Fed's lender of last resort (the backstop) lends; emulated "
        "per day until issue 10 wires sim/fed.py into the engine",
        scenario=lambda data, v: _backstop_on(data),
        day_path=_delay_path,
    ),
    Lever(
        "backstop_ltv",
        "% of cash Treasuries at market",
        0.0,
        100.0,
        "backstop.ltv_pct (backstop.enabled=true)",
        "assumption (seed thesis: enough to bridge margin calls); Fed SRF lends at 100% of market less haircut",
        "how much the Fed's lender of last resort lends against the funds' Treasuries",
        scenario=_set_backstop("ltv_pct"),
    ),
    Lever(
        "backstop_rate_bp",
        "bp over SOFR",
        -100.0,
        2000.0,
        "backstop.rate_spread_bp (backstop.enabled=true)",
        "assumption (SRF-like: srf_params_2021 sets the SRF at the top of the target range)",
        "the lender of last resort's rate",
        scenario=_set_backstop("rate_spread_bp"),
    ),
    Lever(
        "haircut_floor",
        "% of collateral value",
        0.0,
        20.0,
        "repo.bilateral.haircut_pct (and the schedule's stressed/extreme levels) = max(base, value)",
        "FSB (2015) minimum haircut framework for non-centrally-cleared SFTs (sovereigns exempt there); "
        "Barth & Kahn (2021, OFR WP 21-01) on Treasury repo haircuts; nccbr_haircut_dist (today ~0%)",
        "a regulatory floor on the haircut of non-centrally-cleared (bilateral) repo",
        scenario=_haircut_floor,
    ),
    Lever(
        "im_buffer",
        "x calm-market IM floor",
        1.0,
        5.0,
        "Params.ccp.im_floor times the value",
        "EMIR RTS 153/2013 art. 28 anti-procyclicality (25% buffer = 1.25); cme_margin_tu",
        "anti-procyclicality buffer: initial margin never below this multiple of the calm-market level",
        params=_im_buffer,
    ),
    Lever(
        "clearing_mandate",
        "share of bilateral repo centrally cleared",
        0.0,
        0.99,
        "funds.bilateral_share times (1 - value): the rest is sponsored/tri-party (repo.triparty)",
        "SEC Treasury clearing rule (Rel. 34-99149, Dec 2023; repo from June 2027); zero_haircut_share_pf",
        "the clearing mandate: this share of the funds' bilateral repo moves to centrally cleared repo",
        scenario=_clearing_mandate,
    ),
    Lever(
        "leverage_cap",
        "x equity (gross position / equity)",
        1.0,
        500.0,
        "funds.leverage_median = min(base, value) (the dispersion across funds is kept)",
        "hf_ust_repo_leverage_dec2022 (median 56x today); cap level is the user's",
        "a cap on the funds' median trade leverage (more equity for the same book)",
        scenario=_leverage_cap,
    ),
    Lever(
        "srf_access",
        "0 = dealers only, 1 = funds too",
        0.0,
        1.0,
        "funding.srf_access=true; value >= 0.5: backstop.enabled=true standing (no trigger, no delay) at "
        "the SRF rate (rate_spread_bp = IORB + funding.srf_spread_bp - SOFR) against the funds' Treasuries",
        "srf_eligibility (dealers and banks today); funds' access is the proposal the lever tests",
        "who can borrow at the Standing Repo Facility: dealers (the funding market's ceiling) or funds too",
        scenario=_srf_access,
    ),
    Lever(
        "srf_rate_bp",
        "bp over IORB",
        -100.0,
        500.0,
        "funding.srf_access=true, funding.srf_spread_bp = value (the funding market's ceiling)",
        "srf_params_2021 (top of the range = IORB + 10 bp)",
        "the Standing Repo Facility's minimum bid rate",
        scenario=_srf_rate,
    ),
    Lever(
        "srf_central_clearing",
        "0 = off, 1 = on",
        0.0,
        1.0,
        "funding.srf_access=true, funding.srf_central_clearing = value >= 0.5 (SRF loans on-lent net in "
        "dealers' leverage exposure; the SRF's balance-sheet cost slope funding.srf_slope_bp_per_bn is zero)",
        "assumption (docs/model.md section 15): the slope is the balance-sheet cost of on-lending, calibrated "
        "on 2025-10-31 (funding.srf_slope_fit); the stigma wedge stays",
        "central clearing of the Standing Repo Facility (SRF repo and the dealers' on-lending both face FICC)",
        scenario=_srf_clearing,
    ),
    Lever(
        "slr_exemption",
        "0 = off, 1 = on",
        0.0,
        1.0,
        "dealers.slr_exempt = value >= 0.5 (Treasuries and reserves leave leverage exposure)",
        "slr_exemption_2020",
        "the April 2020 exemption of Treasuries and reserves from the supplementary leverage ratio",
        scenario=_slr_exemption,
    ),
    Lever(
        "fed_purchases",
        "USD bn a day",
        0.0,
        500.0,
        "fed.purchases.enabled = value > 0, fed.purchases.capacity_usd_bn_per_day = value",
        "fed_purchase_pace_peak (USD 75bn a day, March 2020); trigger and delay: the scenario's",
        "the Fed's outright purchases of cash Treasuries (a clearing participant)",
        scenario=_purchases,
    )
    if ENGINE_PURCHASES
    else Lever(
        "fed_purchases",
        "USD bn a day",
        0.0,
        500.0,
        "sim/fed.py purchase capacity",
        "fed_purchase_pace_peak",
        "the Fed's outright purchases",
        missing=_refused("the Fed's outright purchases as a clearing participant (sim/fed.py)"),
    ),
)
#: lever name -> :class:`Lever` (the registry; docs/policy.md lists it with sources)
LEVERS: dict[str, Lever] = {lv.name: lv for lv in _LEVERS}


def lever(name: str) -> Lever:
    """The registered lever ``name`` or a one-line error listing the names."""
    if name not in LEVERS:
        raise BasislabError(f"unknown lever {name!r}; levers: {', '.join(LEVERS)}")
    return LEVERS[name]


def parse_axis(text: str) -> tuple[str, list[float]]:
    """``LEVER=v1,v2,...`` or ``LEVER=lo:hi:n`` (n points from lo to hi) -> (name, values)."""
    name, eq, spec = text.partition("=")
    name = name.strip()
    if not eq or not name or not spec.strip():
        raise BasislabError(f"axis {text!r}: expected LEVER=v1,v2,... or LEVER=lo:hi:n")
    lv = lever(name)
    parts = spec.split(":") if ":" in spec else None
    if parts is not None and len(parts) != 3:
        raise BasislabError(f"axis {text!r}: a range is lo:hi:n")
    try:
        nums = [float(v) for v in (parts or [v for v in spec.split(",") if v.strip()])]
    except ValueError:
        raise BasislabError(f"axis {text!r}: values must be numbers (LEVER=v1,v2,... or lo:hi:n)") from None
    values = nums
    if parts is not None:
        k = int(nums[2])
        if k != nums[2] or not 1 <= k <= 1000:
            raise BasislabError(f"axis {text!r}: n must be a whole number from 1 to 1000, got {parts[2]}")
        values = [float(v) for v in np.linspace(nums[0], nums[1], k)]
    if not values:
        raise BasislabError(f"axis {text!r}: no values")
    if len(set(values)) != len(values):
        raise BasislabError(f"axis {text!r}: values repeat")
    return name, [lv.check(v) for v in values]


# ----------------------------------------------------------------------------------------------
# standard grids

#: ``--grid survival``: the issue's standard map (shock 0.25x-2.5x against the Fed's delay 0-72 h)
STANDARD_GRIDS: dict[str, dict[str, Any]] = {
    "survival": {
        "x": ("shock", [round(float(v), 6) for v in np.linspace(0.25, 2.5, 10)]),
        "y": ("fed_delay_h", [round(float(v), 6) for v in np.linspace(0.0, 72.0, 10)]),
        "paths": 64,
        "funds": 100,
        "steps": 60,
    },
    "haircut": {
        "x": ("shock", [round(float(v), 6) for v in np.linspace(0.25, 2.5, 10)]),
        "y": ("haircut_floor", [round(float(v), 6) for v in np.linspace(0.0, 4.5, 10)]),
        "paths": 64,
        "funds": 100,
        "steps": 60,
    },
}


# ----------------------------------------------------------------------------------------------
# scenarios of a grid


def _base(scenario: Any, funds: int | None, steps: int | None, overrides: Sequence[str]) -> Any:
    from basislab.sim.scenario import Scenario, apply_overrides, load_scenario, validate

    sc = scenario if isinstance(scenario, Scenario) else load_scenario(str(scenario), tuple(overrides))
    if isinstance(scenario, Scenario) and overrides:
        sc = validate(apply_overrides(sc.model_dump(exclude_none=True), tuple(overrides)))
    data = sc.model_dump(exclude_none=True)
    if funds is not None:
        data["funds"]["count"] = int(funds)
    if steps is not None:
        data["horizon_days"] = int(steps)
    data["compare_backstop"] = False
    return validate(data, f"scenario {sc.name!r}")


def point_engine(base: Any, settings: dict[str, float]) -> tuple[Any, Any, np.ndarray, Any]:
    """``(Params, Static, backstop day path, Scenario)`` of one grid point: the base scenario with
    each lever of ``settings`` (name -> value) applied."""
    from basislab.sim.scenario import to_engine, validate

    data = base.model_dump(exclude_none=True)
    for name, v in settings.items():
        lv = lever(name)
        lv.check(v)
        if lv.scenario is not None:
            lv.scenario(data, v)
    try:
        sc = validate(data, f"scenario {base.name!r} at {settings}")
    except ScenarioError as exc:
        raise BasislabError(f"levers {settings} give an invalid scenario: {exc}") from None
    params, static = to_engine(sc)
    for name, v in settings.items():
        lv = LEVERS[name]
        if lv.params is not None:
            params = lv.params(params, v)
    on = np.ones(sc.horizon_days)
    for name, v in settings.items():
        gate = LEVERS[name].day_path
        if gate is not None:
            on = on * gate(sc, v)
    return params, static, on, sc


def distinct(points: Sequence[tuple[Any, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the distinct (params, day path) points and, for every point, the position of
    its distinct twin: two points whose numbers are bit-identical run once (e.g. Fed delays of 8
    and 16 hours both act at the next morning)."""
    import hashlib

    import jax

    seen: dict[bytes, int] = {}
    uniq: list[int] = []
    where: list[int] = []
    for i, (p, on) in enumerate(points):
        h = hashlib.sha256()
        for leaf in [*jax.tree_util.tree_leaves(p), on]:
            h.update(np.ascontiguousarray(np.asarray(leaf, dtype=np.float64)).tobytes())
        key = h.digest()
        if key not in seen:
            seen[key] = len(uniq)
            uniq.append(i)
        where.append(seen[key])
    return np.asarray(uniq, dtype=int), np.asarray(where, dtype=int)


def stack(trees: Sequence[Any]) -> Any:
    """Stack pytrees of arrays along a new leading axis (numpy, float64)."""
    import jax

    return jax.tree_util.tree_map(lambda *xs: np.stack([np.asarray(x, dtype=np.float64) for x in xs]), *trees)


# ----------------------------------------------------------------------------------------------
# the compiled runner


#: per-path numbers computed inside the compiled program
PATH_METRICS = (
    "fund_defaults",
    "forced_sales_usd_bn",
    "unwind_share",
    "basis_peak_bp",
    "price_drop_peak_pct",
    "backstop_peak_usd_bn",
    "backstop_drawn_usd_bn",
    "fed_balance_sheet_peak_usd_bn",
    "sofr_iorb_peak_bp",
    "dealer_utilisation_peak",
    "finite",
)

#: how many times the policy runner has been traced (each trace is one XLA compilation)
TRACES = {"count": 0}


def _summary(p: Any, outs: dict) -> dict:
    """One world's outputs -> :data:`PATH_METRICS` (conventions of ``SimResult.metrics``: basis
    widening in bp of the CTD price, ``b0 - (P - CF f)`` against the initial gross basis)."""
    import jax
    import jax.numpy as jnp

    m = p.market
    p0 = m.p0
    b0 = p0 - p0 * jnp.exp(-m.rho)
    # peaks over the scenario's own days: padded days (shape padding) output zeros
    live = jnp.arange(outs["cash_price"].shape[0]) < m.horizon_days

    def peak(x):
        return jnp.max(jnp.where(live.reshape(live.shape + (1,) * (x.ndim - 1)), x, -jnp.inf))

    # forced sales as SimResult.metrics counts them: unwinds less de-risking by choice (no
    # round-off below zero), plus defaulters' collateral sold; the unwound share (the distance to
    # the spiral's test) counts every unwind, forced or by choice
    forced = jnp.maximum(outs["sold_unwind"] - outs["sold_derisk"], 0.0)
    sales = forced.sum() + outs["sold_default"].sum()
    unwound = outs["sold_unwind"].sum() + outs["sold_default"].sum()
    leaves = [x for x in jax.tree_util.tree_leaves(outs)]
    finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in leaves]))
    return {
        "fund_defaults": outs["new_defaults"].sum(),
        "forced_sales_usd_bn": sales,
        "unwind_share": unwound / p.funds.total_position,
        "basis_peak_bp": peak((b0 - outs["gross_basis"]) / p0 * 1e4),
        "price_drop_peak_pct": peak((1.0 - outs["cash_price"] / p0) * 100.0),
        "backstop_peak_usd_bn": peak(outs["backstop_outstanding"]),
        "backstop_drawn_usd_bn": outs["backstop_drawn"].sum(),
        "fed_balance_sheet_peak_usd_bn": peak(outs["fed_balance_sheet"]),
        "sofr_iorb_peak_bp": peak(outs["sofr_minus_iorb_bp"]),
        "dealer_utilisation_peak": peak(outs["dealer_slr_utilisation"]),
        "finite": finite.astype(jnp.float64),
    }


def _simulate_path_gated(params: Any, on: Any, key: Any, static: Any, any_in_batch: Any):
    """:func:`basislab.sim.engine.simulate_path` with the backstop switched on per day
    (``params.backstop.on * on[t]``): the Fed's delay until issue 10 wires it into the engine.
    As there, a day at or past ``params.market.horizon_days`` (shape padding) is skipped."""
    import jax
    import jax.numpy as jnp

    from basislab.sim import engine, model

    st0, shocks, _ = engine.init_path(params, key, static)

    def live(st, sh, on_t):
        p = params._replace(backstop=params.backstop._replace(on=params.backstop.on * on_t))
        return model.step(p, st, sh, static, any_in_batch)

    first = jax.tree_util.tree_map(lambda x: x[0], shocks)
    out_shape = jax.eval_shape(lambda s_, h_: live(s_, h_, on[0])[1], st0, first)

    def skip(st, sh, on_t):
        return st, jax.tree_util.tree_map(lambda a: jnp.zeros(a.shape, a.dtype), out_shape)

    def body(st, xs):
        sh, on_t, day = xs
        return jax.lax.cond(day < params.market.horizon_days, live, skip, st, sh, on_t)

    days = jnp.arange(static.n_steps, dtype=jnp.float64)
    _, outs = jax.lax.scan(body, st0, (shocks, on, days))
    return outs


@lru_cache(maxsize=8)
def compiled_pairs(static: Any, gated: bool, block: int, devs: tuple = ()):
    """``jit`` over a batch of (params, key, day path) worlds, ``block`` at a time: one compiled
    program per (shapes, gated, block, devices); cached, so a grid or a bisection compiles once.
    With more than one host device the worlds are split over them (``shard_map``, as the engine
    splits paths: docs/model.md section 14); a world's numbers do not depend on its neighbours."""
    import jax

    from basislab.sim import engine

    def one(p, key, on):
        if gated:
            outs = _simulate_path_gated(p, on, key, static, engine.any_in_block)
        else:
            outs = engine.simulate_path(p, key, static, engine.any_in_block)[1]
        outs = {k: v for k, v in outs.items() if k != "audit"}
        return _summary(p, outs)

    blk = jax.vmap(one, axis_name=engine.PATH_AXIS)

    def run(P, keys, on):
        TRACES["count"] += 1
        n = keys.shape[0]
        split = lambda x: x.reshape(n // block, block, *x.shape[1:])  # noqa: E731
        out = jax.lax.map(lambda a: blk(*a), jax.tree_util.tree_map(split, (P, keys, on)))
        return jax.tree_util.tree_map(lambda x: x.reshape(n, *x.shape[2:]), out)

    if len(devs) <= 1:
        return jax.jit(run)
    mesh = jax.sharding.Mesh(np.asarray(devs), (engine.DEVICE_AXIS,))
    spec = jax.sharding.PartitionSpec(engine.DEVICE_AXIS)
    g = jax.shard_map(run, mesh=mesh, in_specs=(spec, spec, spec), out_specs=spec, check_vma=False)
    sharded = jax.sharding.NamedSharding(mesh, spec)
    return jax.jit(g, in_shardings=(sharded,) * 3, out_shardings=sharded)


def take(tree: Any, idx: np.ndarray) -> Any:
    """Rows ``idx`` of every leaf of a stacked pytree."""
    import jax

    return jax.tree_util.tree_map(lambda x: np.asarray(x)[idx], tree)


def _devices(static: Any, n: int, n_devices: int | None = None) -> tuple:
    """The host devices a batch of ``n`` worlds is split over: ``n_devices`` of them, else every
    device the engine may use (:func:`basislab.sim.tuning.devices`; ``BASISLAB_DEVICES=1`` or one
    core: one) when the batch is large enough to pay for the split
    (:func:`basislab.sim.tuning.split_pays`)."""
    from basislab.sim import tuning

    devs = tuple(tuning.devices())
    if n_devices:
        return devs[: max(1, n_devices)]
    if len(devs) > 1 and not tuning.split_pays(static.n_funds * static.n_steps * n):
        devs = devs[:1]
    return devs


#: worlds vectorised together in one block (``None``: the engine's ``PATH_BLOCK``)
BLOCK: int | None = None

#: run worlds padded to the engine's fund and day buckets by default (:func:`pad_worlds`): maps and
#: bisections on scenarios of one bucket share the compiled program, at 1.36x the warm time of the
#: standard survival map (100 of 128 funds; docs/model.md section 14)
PADDED = True


def pad_worlds(params: Any, on: np.ndarray, static: Any) -> tuple[Any, np.ndarray, Any]:
    """Stacked ``params`` (a leading world axis) and day paths ``on [n, T]`` padded to the
    scenario's buckets, as :func:`basislab.sim.engine.pad` pads one world (shape padding,
    docs/model.md section 14): the fund axis to :func:`basislab.sim.tuning.padded_funds`, the day
    axis to :func:`~basislab.sim.tuning.padded_days` (:data:`~basislab.sim.engine.DAY_FIELDS` and
    ``on`` repeat their last day; padded days are skipped)."""
    import jax

    from basislab.sim import engine, tuning

    t = static.n_steps
    tb = tuning.padded_days(t)
    on = np.asarray(on, dtype=np.float64)

    def days(a: Any) -> np.ndarray:
        a = np.asarray(a)
        if a.shape[1:2] != (t,):
            raise SimulationError(f"a day input has shape {a.shape}, expected worlds x {t} days")
        return np.concatenate([a, np.repeat(a[:, -1:], tb - t, axis=1)], axis=1)

    if tb > t:
        groups = params._asdict()
        for group, name in engine.DAY_FIELDS:
            g = groups[group]
            groups[group] = g._replace(**{name: jax.tree_util.tree_map(days, getattr(g, name))})
        params, on = type(params)(**groups), days(on)
    return params, on, static._replace(n_funds=tuning.padded_funds(static.n_funds), n_steps=tb)


def run_worlds(
    params: Any,
    keys: Any,
    on: np.ndarray,
    static: Any,
    gated: bool,
    block: int | None = None,
    padded: bool | None = None,
    n_devices: int | None = None,
) -> dict:
    """Run one world per row i of (stacked ``params``, ``keys``, ``on``) in one compiled call;
    return numpy arrays of :data:`PATH_METRICS` of shape ``[n]``. Pads to a whole number of
    blocks (the padding repeats the last world and is dropped). ``padded`` (default
    :data:`PADDED`): run padded to the fund and day buckets (:func:`pad_worlds`), so grids and
    bisections on scenarios of one bucket share the compiled program (the metrics are those of
    the scenario's own funds and days)."""
    from basislab.sim import engine

    if PADDED if padded is None else padded:
        params, on, static = pad_worlds(params, on, static)
    n = int(np.asarray(keys).shape[0])
    block = min(block or BLOCK or engine.PATH_BLOCK, n)
    devs = _devices(static, n, n_devices)
    block = min(block, -(-n // len(devs)))
    pad = (-n) % (block * len(devs))
    idx = np.concatenate([np.arange(n), np.full(pad, n - 1)]).astype(int)
    P = take(params, idx)
    K = np.asarray(keys)[idx]
    ON = np.asarray(on, dtype=np.float64)[idx]
    out = compiled_pairs(static, gated, block, devs)(P, K, ON)
    res = {k: np.asarray(v)[:n] for k, v in out.items()}
    if not np.all(res["finite"] > 0):
        bad = int(np.argmin(res["finite"]))
        raise SimulationError(f"non-finite value in world {bad} of the batch; check the levers' values")
    return res


# ----------------------------------------------------------------------------------------------
# survival maps


@dataclass
class PolicyMap:
    """A survival map: per-path metrics on a (y, x) grid of two levers, and how it ran."""

    scenario: str
    x: str
    x_values: list[float]
    y: str
    y_values: list[float]
    paths: int
    funds: int
    steps: int
    seed: int
    per_path: dict[str, np.ndarray]  # name -> [ny, nx, paths]
    wall_s: float
    compiles: int
    notes: list[str] = field(default_factory=list)

    def mean(self, name: str) -> np.ndarray:
        return self.per_path[name].mean(-1)

    def to_xarray(self):
        """``xarray.Dataset``: ``<metric>`` (mean over paths) and ``<metric>_p90`` on (y, x), and
        ``<metric>_path`` on (y, x, path)."""
        import xarray as xr

        coords = {"y": self.y_values, "x": self.x_values, "path": np.arange(self.paths)}
        data = {}
        for k, v in self.per_path.items():
            if k == "finite":
                continue
            data[k] = (("y", "x"), v.mean(-1), {"units": METRIC_UNITS[k]})
            data[f"{k}_p90"] = (("y", "x"), np.percentile(v, 90, axis=-1), {"units": METRIC_UNITS[k]})
            data[f"{k}_path"] = (("y", "x", "path"), v, {"units": METRIC_UNITS[k]})
        ds = xr.Dataset(data, coords=coords)
        ds.attrs.update(self.meta())
        return ds

    def meta(self) -> dict:
        return {
            "scenario": self.scenario,
            "x_lever": self.x,
            "x_units": LEVERS[self.x].units,
            "y_lever": self.y,
            "y_units": LEVERS[self.y].units,
            "paths": self.paths,
            "funds": self.funds,
            "steps": self.steps,
            "seed": self.seed,
            "wall_s": round(self.wall_s, 3),
            "compiles": self.compiles,
            "notes": list(self.notes),
        }

    def to_dict(self) -> dict:
        """JSON-ready: the meta, the axes and each metric's mean and p90 grid ([y][x])."""
        out = {**self.meta(), "x_values": self.x_values, "y_values": self.y_values, "metrics": {}}
        for k, v in self.per_path.items():
            if k == "finite":
                continue
            out["metrics"][k] = {
                "units": METRIC_UNITS[k],
                "mean": np.round(v.mean(-1), 6).tolist(),
                "p90": np.round(np.percentile(v, 90, axis=-1), 6).tolist(),
            }
        return out


METRIC_UNITS = {
    "fund_defaults": "funds (count)",
    "forced_sales_usd_bn": "USD bn of face",
    "unwind_share": "share of the initial cash leg",
    "basis_peak_bp": "bp of the CTD price",
    "price_drop_peak_pct": "% of the CTD price",
    "backstop_peak_usd_bn": "USD bn",
    "backstop_drawn_usd_bn": "USD bn",
    "fed_balance_sheet_peak_usd_bn": "USD bn (purchases, lender of last resort, SRF and repo operations)",
    "sofr_iorb_peak_bp": "bp",
    "dealer_utilisation_peak": "leverage exposure / SLR capacity (largest dealer)",
}

#: note attached to every map that moves the Fed's delay (honest about the emulation)
DELAY_NOTE = (
    "fed_delay_h is emulated: the backstop lender (the Fed's lender of last resort to the funds) "
    "lends from the first morning window at or after the shock's first morning + the delay, by "
    "day; sim/fed.py's trigger and window rule replace this when issue 10 wires it into the engine"
)


#: note attached to every map that moves the Fed's delay once the engine has it
ENGINE_DELAY_NOTE = (
    "fed_delay_h is the engine's lender of last resort (sim/fed.py rule): it lends from the first "
    f"window at or after trigger + delay, the trigger being a cash cheapening of {DELAY_TRIGGER_BP:g}bp "
    "of yield unless the scenario sets backstop.trigger_bp"
)


def policy_map(
    scenario: Any,
    x: tuple[str, Sequence[float]],
    y: tuple[str, Sequence[float]],
    paths: int = 64,
    funds: int | None = None,
    steps: int | None = None,
    seed: int | None = None,
    overrides: Sequence[str] = (),
) -> PolicyMap:
    """Run the (y, x) grid of two levers on ``scenario`` (a preset name, ``today[@DATE]``, a
    YAML path or a :class:`~basislab.sim.scenario.Scenario`) in one compiled call.

    Every point runs the same ``paths`` seeded paths. Levers that need a mechanism the engine lacks,
    values out of range, or two levers that change the engine's shapes are refused in one line.
    """
    from basislab.sim import engine

    t0 = time.perf_counter()
    (xn, xv), (yn, yv) = x, y
    if xn == yn:
        raise BasislabError(f"--x and --y name the same lever {xn!r}; pick two different levers")
    xv = [lever(xn).check(v) for v in xv]
    yv = [lever(yn).check(v) for v in yv]
    if not 1 <= paths <= 100_000:
        raise BasislabError(f"paths must be 1 to 100,000, got {paths}")
    base = _base(scenario, funds, steps, overrides)
    seed = base.seed if seed is None else int(seed)
    pts = []
    static0 = None
    for yy in yv:
        for xx in xv:
            p, st, on, _ = point_engine(base, {xn: xx, yn: yy})
            if static0 is None:
                static0 = st
            elif st != static0:
                raise BasislabError(
                    f"levers {xn}/{yn} change the engine's shapes; a lever may only move numbers"
                )
            pts.append((p, on))
    gated = any(LEVERS[n].day_path is not None for n in (xn, yn))
    uniq, where = distinct(pts)
    keys = np.asarray(engine.path_keys(seed, paths))
    rows = np.repeat(uniq, paths)  # world i = distinct point i // paths, path i % paths
    params = take(stack([p for p, _ in pts]), rows)
    on = np.stack([o for _, o in pts])[rows]
    allkeys = np.tile(keys, (len(uniq), 1))
    before = TRACES["count"]
    res = run_worlds(params, allkeys, on, static0, gated)
    per_path = {
        k: v.reshape(len(uniq), paths)[where].reshape(len(yv), len(xv), paths) for k, v in res.items()
    }
    notes = [DELAY_NOTE] if gated else []
    if ENGINE_DELAY and "fed_delay_h" in (xn, yn):
        notes.append(ENGINE_DELAY_NOTE)
    if len(uniq) < len(pts):
        notes.append(f"{len(pts)} grid points, {len(uniq)} distinct (identical worlds run once)")
    return PolicyMap(
        base.name,
        xn,
        xv,
        yn,
        yv,
        paths,
        base.funds.count,
        base.horizon_days,
        seed,
        per_path,
        time.perf_counter() - t0,
        TRACES["count"] - before,
        notes,
    )


def standard_map(scenario: Any, grid: str = "survival", **kw: Any) -> PolicyMap:
    """The standard grid ``grid`` (:data:`STANDARD_GRIDS`) on ``scenario``; ``kw`` overrides
    paths / funds / steps / seed."""
    if grid not in STANDARD_GRIDS:
        raise BasislabError(f"unknown grid {grid!r}; grids: {', '.join(STANDARD_GRIDS)}")
    g = STANDARD_GRIDS[grid]
    opts = {"paths": g["paths"], "funds": g["funds"], "steps": g["steps"]}
    opts.update({k: v for k, v in kw.items() if v is not None})
    return policy_map(scenario, g["x"], g["y"], **opts)


def dashboard_layout(ctx):
    """The dashboard's Policy page (``basislab serve``): the newest stored survival map (one
    heatmap per measure) and the list of stored maps. A map runs for about a minute, so it is made
    by ``basislab policy`` (stored with the runs), not started from the page."""
    from dash import html

    from basislab.dashboard.ui import graph, message
    from basislab.report.policy_report import PANELS, heatmap
    from basislab.sim.policy_store import list_policy_maps, load_policy_map

    head = [
        html.H2("Policy"),
        html.P(
            "Survival maps: the spiral's outcome on a grid of two policy levers (shock size, the Fed's "
            "delay in hours, haircut floors, IM buffers, a clearing mandate, a leverage cap), batched in "
            "one compilation (docs/policy.md). Make one with "
        ),
        html.Code("basislab policy seed-thesis --grid survival"),
    ]
    try:
        ids = list_policy_maps(ctx.runs_dir)
        if not ids:
            return html.Div([*head, message("no survival map is stored yet: run the command above")])
        pm = load_policy_map("latest", ctx.runs_dir)
    except BasislabError as exc:
        return html.Div([*head, message(str(exc), "error")])
    shown = [m for m in PANELS if m in METRIC_UNITS]
    return html.Div(
        [
            *head,
            html.H3(f"{ids[-1]}: {pm.scenario}, {pm.y} against {pm.x}"),
            *[graph(heatmap(pm, m), f"policy-{m}") for m in shown],
            html.H3("Stored maps"),
            html.Ul([html.Li(i) for i in reversed(ids)]),
        ]
    )
