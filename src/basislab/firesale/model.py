"""The overlapping-portfolio fire sale as a JAX engine: system arrays, scenario parameters,
state, one pure step per mechanism, ``lax.scan`` over steps and ``vmap`` over scenarios.

Banks hold common tradable assets (Greenwood, Landier and Thesmar 2015, "Vulnerable banks",
JFE 115(3); Cont and Schaanning 2017, "Fire sales, indirect contagion and systemic stress
testing", SSRN 2541114). The step follows the INET Oxford implementation
``ox-inet-resilience/firesale_stresstest`` (``model.py`` ``run_simulation``, ``markets.py``,
``institutions.py``, ``behaviours.py``, ``constraints.py``), written here independently in
vectorised form. One step ``t``:

1. :func:`clear_market` -- all orders placed since the last clearing move each price once,
   ``p' = p exp(-beta * sold / total)`` (exponential; ``beta = -10 ln(1 - impact)``, so selling
   10% of an asset's total quantity in one step lowers its price by ``impact``) or
   ``p' = p max(0, 1 - 10 impact * sold / total)`` (linear); sellers receive the mid price
   ``(p + p') / 2`` per unit;
2. :func:`act` -- every surviving bank marks to market, ``lambda = E / A``; ``lambda < lambda_min``
   is a default (counted at ``t``; all its tradables are sold at ``t+1``); ``lambda < lambda_buffer`` delevers
   towards ``lambda_target``: it repays ``min(cash, A - E / lambda_target)`` of its loan now and
   puts tradables up for sale, pro rata to their value, for ``paid - (cash - paid)`` when that is
   positive (INET ``do_delever``), cleared at ``t+1``.

The threshold model has ``lambda_buffer < lambda_target``; leverage targeting (Cont and
Schaanning 2017) is ``lambda_buffer = 1``: every bank below target delevers. Orders are placed
in ``act`` and cleared at the next step, so the outcome does not depend on the order of banks.
INET places a defaulted bank's sell-everything orders at the start of ``t+1`` (``trigger_default``);
here they are placed at the default itself: prices and holdings do not change in between, so the
orders and every number are the same, and one pass over the ``N x K`` arrays is saved.

Three kinds of input (the gymnax / JAX MD design): :class:`System` (the banks' initial arrays,
shared by all scenarios), :class:`Params` (float64 scenario arrays, vmappable) and
:class:`State` (arrays only). Shapes: ``N`` banks, ``K`` assets.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)

#: INET's floating-point tolerance (``contracts.py``: ``eps = 1e-9``, ~0.001 EUR in EUR mn):
#: smaller sale quantities and proceeds are dropped, prices below it are not sold at.
EPS = 1e-9


class System(NamedTuple):
    """The banks' initial balance sheets (float64 arrays), shared by every scenario."""

    holdings: jax.Array  # [N, K] quantities of tradable assets
    cash: jax.Array  # [N]
    other_asset: jax.Array  # [N]
    loan: jax.Array  # [N]
    other_liab: jax.Array  # [N]


class Params(NamedTuple):
    """Scenario parameters (float64 arrays; a leading batch axis under :func:`simulate_many`)."""

    shock: jax.Array  # [K] initial fractional price fall per asset, applied before step 1
    impact: jax.Array  # [K] price fall when 10% of the asset's total quantity is sold in one step
    linear: jax.Array  # [] 1.0 linear impact, 0.0 exponential
    lev_min: jax.Array  # [] default when E / A falls below
    lev_buffer: jax.Array  # [] delever when E / A falls below (1.0: leverage targeting)
    lev_target: jax.Array  # [] delever towards this E / A


class State(NamedTuple):
    """Everything that changes during the fire sale (arrays only)."""

    q: jax.Array  # [N, K] quantities held (including those put up for sale, until settled)
    pending: jax.Array  # [N, K] quantities put up for sale, settled at the next clearing
    cash: jax.Array  # [N]
    loan: jax.Array  # [N]
    alive: jax.Array  # [N] bool
    price: jax.Array  # [K]
    sold: jax.Array  # [K] cumulative quantity cleared
    revenue: jax.Array  # [K] cumulative cash paid to sellers (market-side ledger)


class StepOut(NamedTuple):
    """Per-step record."""

    defaults: jax.Array  # [] int: banks that defaulted at this step's act
    sold: jax.Array  # [K] quantity cleared at this step
    price: jax.Array  # [K] price after this step's clearing


def system_arrays(system) -> System:
    """:class:`System` from a :class:`basislab.firesale.loader.BankSystem`."""
    f = lambda x: jnp.asarray(np.asarray(x, dtype=np.float64))  # noqa: E731
    return System(
        f(system.holdings), f(system.cash), f(system.other_asset), f(system.loan), f(system.other_liab)
    )


def init(system: System, params: Params) -> State:
    """State before step 1: the initial shock applied to prices (INET ``apply_initial_shock``)."""
    n, k = system.holdings.shape
    return State(
        q=system.holdings,
        pending=jnp.zeros((n, k)),
        cash=system.cash,
        loan=system.loan,
        alive=jnp.ones(n, bool),
        price=jnp.ones(k) * (1.0 - params.shock),
        sold=jnp.zeros(k),
        revenue=jnp.zeros(k),
    )


def sell_orders(units: jax.Array, value: jax.Array, price: jax.Array, amount: jax.Array) -> jax.Array:
    """Quantities ``[N, K]`` to sell so that each bank raises ``amount[N]`` of cash at today's
    prices, every holding sold in the same proportion (pro rata to value; INET
    ``perform_proportionally`` over ``SellAsset``). ``units[N, K]`` are the units available to
    sell and ``value[N, K]`` their market value. Capped at the value available; quantities at
    most :data:`EPS`, and assets priced at most :data:`EPS`, are not sold. Quantities are capped
    at the units available (INET caps at settlement; the two differ by rounding only)."""
    total = value.sum(-1)
    ok_bank = (total > 0) & (amount > 0)
    raise_ = jnp.minimum(amount, total)
    share = jnp.where(ok_bank, raise_ / jnp.where(ok_bank, total, 1.0), 0.0)
    part = value * share[:, None]
    qty = jnp.minimum(part / jnp.where(price > EPS, price, 1.0), units)
    ok = ok_bank[:, None] & (part > 0) & (price > EPS) & (qty > EPS)
    return jnp.where(ok, qty, 0.0)


def price_impact(price: jax.Array, fraction_sold: jax.Array, params: Params) -> jax.Array:
    """New price after selling ``fraction_sold`` of each asset's total quantity in one step:
    exponential ``p exp(-beta f)``, ``beta = -10 ln(1 - impact)`` (INET ``markets.py``, after
    Cifuentes, Ferrucci and Shin 2005), or linear ``p max(0, 1 - 10 impact f)``."""
    beta = -10.0 * jnp.log1p(-params.impact)
    expo = price * jnp.exp(-fraction_sold * beta)
    lin = price * jnp.maximum(0.0, 1.0 - 10.0 * params.impact * fraction_sold)
    return jnp.where(params.linear > 0, lin, expo)


def clear_market(state: State, total: jax.Array, params: Params) -> tuple[State, jax.Array]:
    """Clear every pending order at once: the price moves by the step's total sales
    (:func:`price_impact`), each seller receives the mid price ``(p + p') / 2`` per unit
    (INET ``AssetMarket.clear_the_market`` and ``Order.settle``). Returns the state and the
    quantities cleared ``[K]``."""
    volume = state.pending.sum(0)
    fraction = jnp.where(total > 0, volume / jnp.where(total > 0, total, 1.0), 0.0)
    new = jnp.where(total > 0, price_impact(state.price, fraction, params), state.price)
    mid = 0.5 * (state.price + new)
    settled = jnp.minimum(state.q, state.pending)
    proceeds = settled * mid
    proceeds = jnp.where(proceeds >= EPS, proceeds, 0.0)
    state = state._replace(
        q=state.q - settled,
        pending=state.pending - settled,
        cash=state.cash + proceeds.sum(-1),
        price=new,
        sold=state.sold + volume,
        revenue=state.revenue + proceeds.sum(0),
    )
    return state, volume


def act(state: State, system: System, params: Params) -> tuple[State, jax.Array]:
    """Each surviving bank marks to market, ``A`` = tradables + other assets + cash (INET's
    order of summation), ``E = A - (loan + other liabilities)``, and defaults
    (``E/A < lambda_min``) and orders all its tradables sold, or
    delevers (``E/A < lambda_buffer``; INET ``Bank.act``, ``do_delever``,
    ``BankLeverageConstraint``, ``trigger_default``). Orders clear at the next step. Nothing is
    pending when banks act (every order settles at the clearing before), so the units available
    are the holdings. Returns the state and the number of defaults."""
    value = state.q * state.price
    tradable = value.sum(-1)
    assets = tradable + system.other_asset + state.cash
    equity = assets - (state.loan + system.other_liab)
    lev = equity / assets
    insolvent = state.alive & (lev < params.lev_min)
    active = state.alive & ~insolvent
    safe_lev = jnp.where(active, lev, 1.0)
    wanted = jnp.maximum(0.0, equity / safe_lev - equity / params.lev_target)
    wanted = jnp.where(active & (lev < params.lev_buffer), wanted, 0.0)
    delever = jnp.minimum(state.cash, wanted)
    paid = jnp.where((delever > 0) & (state.loan > 0), jnp.minimum(delever, state.loan), 0.0)
    balance = state.cash - paid
    to_raise = jnp.where(balance < paid, paid - balance, 0.0)
    qty = sell_orders(state.q, value, state.price, jnp.where(insolvent, tradable, to_raise))
    state = state._replace(
        cash=balance,
        loan=state.loan - paid,
        pending=state.pending + qty,
        alive=active,
    )
    return state, insolvent.sum()


def step(system: System, params: Params, state: State) -> tuple[State, StepOut]:
    """One step: :func:`clear_market`, then :func:`act` (INET's order)."""
    total = system.holdings.sum(0)
    state, volume = clear_market(state, total, params)
    state, defaults = act(state, system, params)
    return state, StepOut(defaults=defaults, sold=volume, price=state.price)


@partial(jax.jit, static_argnames="n_steps")
def simulate(system: System, params: Params, n_steps: int) -> tuple[State, StepOut]:
    """Run ``n_steps`` steps from :func:`init` (``lax.scan``); the final state and the per-step
    record (leading axis: steps)."""
    state = init(system, params)
    return jax.lax.scan(lambda s, _: step(system, params, s), state, None, length=n_steps)


@partial(jax.jit, static_argnames="n_steps")
def simulate_many(system: System, params: Params, n_steps: int) -> tuple[State, StepOut]:
    """:func:`simulate` vmapped over a leading scenario axis of every ``params`` array (one
    compilation for the whole batch; the system is shared)."""
    run = lambda p: jax.lax.scan(  # noqa: E731
        lambda s, _: step(system, p, s), init(system, p), None, length=n_steps
    )
    return jax.vmap(run)(params)
