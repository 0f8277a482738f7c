"""Distance to the spiral: the smallest March-2020-shaped shock that makes the book unwind.

Method (docs/policy.md). The scenario's shock (yields and cash dislocation per bucket and the
excess volatility, the March-2020 shape of the seed thesis) is scaled by a multiplier ``m`` (the
``shock`` lever of :mod:`basislab.sim.policy`; ``m = 0`` is a calm market). On each seeded path
``i`` the unwind share ``u_i(m)`` is forced cash sales (funds unwinding plus lenders liquidating
defaulted funds, USD bn of face) over the book's initial cash leg. The path's threshold is the
smallest ``m`` with ``u_i(m) >= 10%``.

Search: a batched multisection (bisection with ``k`` probes a round). Round 0 probes ``k``
multipliers evenly over ``[0, m_max]``; each later round probes ``k`` interior points of every
path's own bracket ``(lo_i, hi_i]`` (the last probe below and the first at or above the
threshold), all paths and probes in one compiled call of a fixed shape (paths x k worlds), so
each round shrinks every bracket by ``k + 1`` and the whole search compiles once. It stops
when every bracket is narrower than ``tol`` (at most ``max_rounds``). A path whose share is
already >= 10% with no shock has threshold 0; one that stays below at ``m_max`` is censored
(reported as above ``m_max``).

The engine still sells in a calm market (issue 10: repo margin called each morning, futures
gains paid at the end of the day, thin liquidity), so on today's book most paths unwind 10%
with no shock at all. The same search therefore also runs on the *shock-driven* unwind
``u_i(m) - u_i(0)`` (the same path with no shock), reported as ``*_over_calm``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from basislab.errors import BasislabError

#: quantiles of the per-path thresholds reported
QUANTILES = (0.1, 0.5, 0.9)


def multisection(
    f: Callable[[np.ndarray, np.ndarray], np.ndarray],
    n: int,
    hi: float,
    k: int = 8,
    tol: float = 0.01,
    max_rounds: int = 9,
    lo: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Per-item smallest ``m`` in ``(lo, hi]`` with ``f(m) >= 0`` for ``n`` items at once.

    ``f(items, m)`` evaluates item ``items[j]`` at ``m[j]`` (one batched call a round) and is
    assumed non-decreasing in ``m`` for each item. Returns ``(low, high, rounds)``: the threshold
    of item ``i`` lies in ``(low[i], high[i]]``; ``high[i] = inf`` when ``f(hi) < 0`` (censored)
    and ``low = high = lo`` when ``f(lo) >= 0``.
    """
    if not (k >= 2 and hi > lo and tol > 0):
        raise BasislabError(
            f"multisection needs k >= 2, hi > lo and tol > 0 (got k={k}, {lo}..{hi}, tol={tol})"
        )
    items = np.arange(n)
    low = np.full(n, float(lo))
    high = np.full(n, float(hi))
    # every round evaluates n x k worlds (one shape: one compilation). Round 0: lo, then k - 1
    # probes evenly up to hi; later rounds: k interior points of each path's bracket
    probes = lo + (hi - lo) * np.arange(k) / max(k - 1, 1)
    m = np.repeat(probes[None, :], n, 0)
    val = f(np.repeat(items, k), m.ravel()).reshape(n, k)
    low, high = _update(m, val >= 0, low, high)
    at_lo = val[:, 0] >= 0
    censored = ~(val >= 0).any(1)
    rounds = 1
    frac = np.arange(1, k + 1) / (k + 1)
    while rounds < max_rounds:
        live = ~(at_lo | censored) & (high - low > tol)
        if not live.any():
            break
        m = low[:, None] + (high - low)[:, None] * frac[None, :]
        val = f(np.repeat(items, k), m.ravel()).reshape(n, k)
        new_low, new_high = _update(m, val >= 0, low, high)
        low, high = np.where(live, new_low, low), np.where(live, new_high, high)
        rounds += 1
    low[at_lo] = high[at_lo] = lo
    high[censored] = np.inf
    low[censored] = hi
    return low, high, rounds


def _update(
    m: np.ndarray, hit: np.ndarray, low: np.ndarray, high: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """New brackets from probes ``m`` (rows ascending) and ``hit = f(m) >= 0``: high is the first
    hit, low the last probe before it (or the old low)."""
    first = np.where(hit.any(1), hit.argmax(1), -1)
    new_high = np.where(first >= 0, m[np.arange(len(m)), np.maximum(first, 0)], high)
    below = np.where(first > 0, m[np.arange(len(m)), np.maximum(first - 1, 0)], low)
    below = np.where(first < 0, m[:, -1], below)  # no hit: every probe is below
    return np.maximum(low, below), np.minimum(high, new_high)


@dataclass
class Distance:
    """The distance to the spiral of one book."""

    scenario: str
    date: str | None
    threshold: float  # UNWIND_THRESHOLD
    book_usd_bn: float
    shock_10y_bp: float  # the 10y yield rise of the unscaled shock
    low: np.ndarray  # [paths] bracket of each path's threshold multiplier
    high: np.ndarray
    rounds: int
    low_over_calm: np.ndarray  # [paths] the same for u(m) - u(0) (the shock-driven unwind)
    high_over_calm: np.ndarray
    rounds_over_calm: int
    calm_share: np.ndarray  # [paths] unwind share with no shock
    worlds: int
    paths: int
    funds: int
    steps: int
    seed: int
    m_max: float
    wall_s: float
    compiles: int
    notes: list[str] = field(default_factory=list)

    def per_path(self, over_calm: bool = False) -> np.ndarray:
        """Each path's threshold multiplier (bracket midpoint; inf when censored)."""
        lo, hi = (self.low_over_calm, self.high_over_calm) if over_calm else (self.low, self.high)
        return np.where(np.isfinite(hi), (lo + hi) / 2, np.inf)

    def quantiles(self, over_calm: bool = False) -> dict[str, float | None]:
        """p10 / p50 / p90 of the per-path threshold multiplier (None: above ``m_max``)."""
        v = self.per_path(over_calm)
        out: dict[str, float | None] = {}
        for q in QUANTILES:
            x = float(np.quantile(v, q, method="inverted_cdf"))
            out[f"p{round(q * 100)}"] = round(x, 4) if np.isfinite(x) else None
        return out

    def to_dict(self) -> dict[str, Any]:
        q, qx = self.quantiles(), self.quantiles(over_calm=True)
        to_bp = lambda d: {k: (None if v is None else round(v * self.shock_10y_bp, 2)) for k, v in d.items()}  # noqa: E731
        bp = to_bp(q)
        return {
            "scenario": self.scenario,
            "date": self.date,
            "book_usd_bn": round(self.book_usd_bn, 3),
            "unwind_threshold_share": self.threshold,
            "shock_shape": "March 2020 (seed-thesis shock: yields and cash dislocation per bucket)",
            "unit_shock_10y_bp": self.shock_10y_bp,
            "threshold_multiplier": q,
            "threshold_10y_bp": bp,
            "threshold_multiplier_over_calm": qx,
            "threshold_10y_bp_over_calm": to_bp(qx),
            "calm_unwind_share": {
                f"p{round(p * 100)}": round(float(np.quantile(self.calm_share, p)), 6) for p in QUANTILES
            },
            "rounds_over_calm": self.rounds_over_calm,
            "paths_unwinding_without_shock": int(np.sum(self.high <= 0)),
            "paths_censored_above_max": int(np.sum(~np.isfinite(self.high))),
            "max_multiplier": self.m_max,
            "max_bracket_width": round(
                float(np.max(np.where(np.isfinite(self.high), self.high - self.low, 0))), 6
            ),
            "rounds": self.rounds,
            "worlds_simulated": self.worlds,
            "paths": self.paths,
            "funds": self.funds,
            "steps": self.steps,
            "seed": self.seed,
            "wall_s": round(self.wall_s, 3),
            "compiles": self.compiles,
            "notes": list(self.notes),
        }


def scaled(params: Any, m: np.ndarray) -> Any:
    """``params`` (of the scenario at ``shock = 1``) stacked once per multiplier in ``m``, with the
    shock scaled as the ``shock`` lever does: the per-day yield and dislocation paths times ``m``
    and the excess volatility ``volmult - 1`` times ``m`` (``m = 0``: a calm market)."""
    from basislab.sim import policy as pol

    m = np.asarray(m, dtype=np.float64)
    dy, dx = np.asarray(params.market.dy), np.asarray(params.market.dx)
    vm = np.asarray(params.market.volmult)  # 1 outside the shock days
    P = pol.take(pol.stack([params]), np.zeros(len(m), dtype=int))
    return P._replace(
        market=P.market._replace(
            dy=dy[None] * m[:, None, None],
            dx=dx[None] * m[:, None, None],
            volmult=np.maximum(0.0, 1.0 + (vm[None] - 1.0) * m[:, None]),
        )
    )


def distance_to_spiral(
    scenario: Any = "today",
    paths: int = 64,
    funds: int | None = None,
    steps: int | None = None,
    seed: int | None = None,
    m_max: float = 4.0,
    k: int = 8,
    tol: float = 0.01,
    overrides: Sequence[str] = (),
    threshold: float | None = None,
) -> Distance:
    """Distance to the spiral of ``scenario`` (default ``today``: the seed-thesis book sized and
    priced from the data store's latest initial conditions; ``today@YYYY-MM-DD`` for a date)."""
    from basislab.sim import engine
    from basislab.sim import policy as pol

    t0 = time.perf_counter()
    thr = pol.UNWIND_THRESHOLD if threshold is None else float(threshold)
    if not 0 < thr < 1:
        raise BasislabError(f"threshold must be a share between 0 and 1, got {thr}")
    if not 0 < m_max <= pol.LEVERS["shock"].hi:
        raise BasislabError(f"m_max must be in (0, {pol.LEVERS['shock'].hi:g}], got {m_max}")
    base = pol._base(scenario, funds, steps, overrides)
    seed = base.seed if seed is None else int(seed)
    params0, static, _, _ = pol.point_engine(base, {"shock": 1.0})
    keys = np.asarray(engine.path_keys(seed, paths))
    before = pol.TRACES["count"]
    worlds = {"n": 0}

    calm = np.full(paths, np.nan)  # each path's unwind share with no shock (round 0 probes m = 0)

    def share(items: np.ndarray, m: np.ndarray) -> np.ndarray:
        on = np.ones((len(items), static.n_steps))
        u = pol.run_worlds(scaled(params0, m), keys[items], on, static, gated=False)["unwind_share"]
        worlds["n"] += len(items)
        calm[items[m == 0]] = u[m == 0]
        return u

    low, high, rounds = multisection(lambda i, m: share(i, m) - thr, paths, m_max, k=k, tol=tol)
    # the same search on the shock-driven unwind: u(m) - u(0) on the same path
    low_x, high_x, rounds_x = multisection(
        lambda i, m: share(i, m) - calm[i] - thr, paths, m_max, k=k, tol=tol
    )
    notes = []
    if np.any(high <= 0):
        notes.append(
            f"{int(np.sum(high <= 0))} of {paths} paths unwind >= {thr:.0%} of the book with no shock "
            "(the engine's calm-market selling, issue 10); threshold_multiplier_over_calm measures the "
            "shock-driven unwind on the same paths"
        )
    return Distance(
        base.name,
        str(base.context.get("date")) if base.context.get("date") else None,
        thr,
        float(base.funds.total_position_usd_bn),
        float(base.shock.yield_bp["10y"]),
        low,
        high,
        rounds,
        low_x,
        high_x,
        rounds_x,
        calm,
        worlds["n"],
        paths,
        base.funds.count,
        base.horizon_days,
        seed,
        float(m_max),
        time.perf_counter() - t0,
        pol.TRACES["count"] - before,
        notes,
    )


def monitor_gauge(date: Any = None, db: Any = None, paths: int = 64, **kw: Any) -> dict[str, Any]:
    """The gauge ``basislab monitor --distance`` shows next to the positioning indicators: today's
    book as of ``date`` (from the store ``db``), its distance to the spiral (median path, in
    multiples of the March-2020 shock) and the p10-p90 spread across paths (``kw``: sizes and
    settings of :func:`distance_to_spiral`)."""
    from basislab.data.feeds import initial_conditions
    from basislab.sim.scenario import scenario_from_initial_conditions

    note = ""
    try:
        ic = initial_conditions(date, db=db)
    except BasislabError:  # the monitor's date lacks an input (e.g. SOFR): the latest complete date
        ic = initial_conditions(None, db=db)
        note = f" (book as of {ic['date']}, the latest date with every input)"
    sc = scenario_from_initial_conditions(ic)
    d = distance_to_spiral(sc, paths=paths, **kw).to_dict()
    q, bp, qx = d["threshold_multiplier"], d["threshold_10y_bp"], d["threshold_multiplier_over_calm"]
    show = lambda v: f"> {d['max_multiplier']:g}" if v is None else f"{v:.2f}"  # noqa: E731
    return {
        "label": "Distance to the spiral (shock for 10% of the book unwound)",
        "date": d["date"],
        "value": q["p50"],
        "unit": "x March 2020",
        "value_10y_bp": bp["p50"],
        "p10": q["p10"],
        "p90": q["p90"],
        "value_over_calm": qx["p50"],
        "spread": f"paths p10-p90 {show(q['p10'])}-{show(q['p90'])}; over calm selling p50 {show(qx['p50'])}"
        + note,
        "detail": d,
    }


def gauge_row(gauge: dict[str, Any]) -> list[str]:
    """The gauge as a row of the monitor's table (indicator, date, value, unit, change, z, note)."""
    v = gauge["value"]
    return [
        gauge["label"],
        gauge["date"] or "-",
        "-" if v is None else f"{v:.2f}",
        gauge["unit"],
        "-",
        "-",
        gauge["spread"],
    ]
