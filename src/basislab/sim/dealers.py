"""Primary dealers under the supplementary leverage ratio: Treasury inventory, a repo matched book,
Tier 1 capital and leverage exposure; capacity to absorb sales and intermediate repo.

Convention. USD bn; yields and spreads in basis points; one row per dealer (arrays ``[D]``).

Balance-sheet capacity (model-equations.md section 4; ``slr_bhc``):

    capacity  K = T1 / slr_req                                   (leverage exposure allowed)
    exposure  E = other + inventory + reserves + rev_repo_bilateral + (1 - n) rev_repo_cleared
    with the SLR exemption (April 2020 - March 2021, ``slr_exemption_2020``, ``slr_scope_250bn``)
    inventory and reserves leave E
    utilisation u = E / K;   headroom = K - E

``n`` is the netting that central clearing gives (FICC: about 20% less balance sheet,
``fr2004_segment_split``). Market functioning follows Duffie, Fleming, Keane, Nelson, Shachar &
Van Tassel (2023, "Dealer capacity and US Treasury market functionality", FRBNY SR 1070): price
impact is a + b sigma in normal times and rises sharply once utilisation passes a threshold
(``dealer_capacity_form``):

    c'(q) = (sigma / sigma_calm) [ lambda0 + kappa max(0, u(q) - u_bar) ],   u(q) = (E + q) / K

is the yield concession (bp per USD bn) for the next USD bn once a dealer has absorbed ``q``; the
concession at which it holds ``q`` is its integral, and its demand schedule (how much it buys at a
concession ``c``) the inverse, in closed form, never beyond its headroom. The repo spread it charges funds rises the
same way: ``spread = s0 + s1 max(0, u - u_bar)`` (He, Nagel & Song 2022: balance-sheet cost).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from pydantic import BaseModel, ConfigDict, Field

jax.config.update("jax_enable_x64", True)

Array = jax.Array


def _f(default: Any, source: str, **kw: Any) -> Any:
    return Field(default, json_schema_extra={"source": source}, **kw)


class DealerConfig(BaseModel):
    """The dealer sector as a list of dealers (``[D]`` arrays); each value names its source."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    tier1_bn: tuple[float, ...] = _f(
        (214.8, 69.2), "jpm_slr_2019q3 (JPMorgan Chase 10-Q Q3 2019); ms_slr_2018q1 (Morgan Stanley 10-Q)"
    )
    exposure_bn: tuple[float, ...] = _f(
        (3404.5, 1091.5), "total leverage exposure: jpm_slr_2019q3, ms_slr_2018q1"
    )
    inventory_bn: tuple[float, ...] = _f(
        (60.0, 30.0), "assumption: split of primary-dealer net Treasury positions (pd_inventory_2018_19)"
    )
    reserves_bn: tuple[float, ...] = _f(
        (300.0, 50.0), "assumption: reserves inside exposure (SLR exemption base), H.8-sized"
    )
    rev_repo_bilateral_bn: tuple[float, ...] = _f(
        (250.0, 150.0),
        "assumption: dealer reverse repo to funds, 70/30 bilateral/cleared (fr2004_segment_split)",
    )
    rev_repo_cleared_bn: tuple[float, ...] = _f(
        (110.0, 65.0), "assumption: FICC-cleared share ~30% of reverse repo (fr2004_segment_split)"
    )
    slr_requirement_pct: float = _f(
        5.0, "slr_bhc: 3% + 2% eSLR buffer at GSIB holding companies", gt=0, le=20
    )
    netting_cleared: float = _f(
        0.2, "fr2004_segment_split: FICC netting saves ~20% of balance sheet", ge=0, le=1
    )
    sector_scale: float = _f(
        1.0, "assumption: the listed dealers stand for the sector (sensitivity 1-3)", gt=0
    )
    utilisation_threshold: float = _f(
        0.85, "gsib_slr_levels_2016: normal u 0.71-0.83; threshold above it (assumption)", gt=0, lt=1
    )
    impact_bp_per_bn: float = _f(
        0.12, "D'Amico & King (2013): 0.07-0.17 bp per USD bn (damico_king_flow)", gt=0
    )
    capacity_slope_bp_per_bn: float = _f(
        10.0,
        "assumption: marginal impact x13 at full use (Duffie et al. 2023 form, coefficient unread)",
        ge=0,
    )
    calm_vol_bp: float = _f(6.0, "ust10y_path_mar2020: calm daily 10y vol 5-6.5 bp", gt=0)
    repo_spread_bp: float = _f(5.0, "assumption: dealer spread over SOFR on fund repo in calm markets", ge=0)
    repo_spread_slope_bp: float = _f(
        200.0, "assumption: bp per unit of utilisation above threshold (He, Nagel & Song 2022 form)", ge=0
    )

    def state(self) -> DealerState:
        a = lambda v: jnp.asarray(v, jnp.float64) * self.sector_scale  # noqa: E731
        other = (
            a(self.exposure_bn) - a(self.inventory_bn) - a(self.reserves_bn) - a(self.rev_repo_bilateral_bn)
        )
        other = other - (1 - self.netting_cleared) * a(self.rev_repo_cleared_bn)
        return DealerState(
            a(self.tier1_bn), other, a(self.inventory_bn), a(self.reserves_bn),
            a(self.rev_repo_bilateral_bn), a(self.rev_repo_cleared_bn),
            a(self.rev_repo_bilateral_bn) + a(self.rev_repo_cleared_bn) + a(self.inventory_bn),
        )  # fmt: skip

    def params(self, slr_exempt: bool = False) -> DealerParams:
        s = lambda v: jnp.asarray(float(v), jnp.float64)  # noqa: E731
        return DealerParams(
            s(self.slr_requirement_pct), s(self.netting_cleared), s(self.utilisation_threshold),
            s(self.impact_bp_per_bn), s(self.capacity_slope_bp_per_bn), s(self.calm_vol_bp),
            s(self.repo_spread_bp), s(self.repo_spread_slope_bp), s(1.0 if slr_exempt else 0.0),
        )  # fmt: skip


class DealerParams(NamedTuple):
    slr_requirement_pct: Array
    netting_cleared: Array
    utilisation_threshold: Array
    impact_bp_per_bn: Array
    capacity_slope_bp_per_bn: Array
    calm_vol_bp: Array
    repo_spread_bp: Array
    repo_spread_slope_bp: Array
    slr_exempt: Array  # lever: 1.0 removes Treasuries and reserves from exposure (April 2020)


class DealerState(NamedTuple):
    """Per dealer ``[D]``, USD bn. Assets = other + inventory + reserves + reverse repo; the matched
    book's liability side (repo from money funds) is ``repo_funding``; capital = Tier 1."""

    tier1: Array
    other_exposure: Array  # leverage exposure outside the Treasury business
    inventory: Array  # Treasury inventory (market value)
    reserves: Array
    rev_repo_bilateral: Array  # lent to funds, uncleared
    rev_repo_cleared: Array  # lent to funds, FICC sponsored
    repo_funding: Array  # borrowed from money funds / tri-party (finances inventory + book)


def exposure(params: DealerParams, state: DealerState) -> Array:
    """Leverage exposure E (USD bn); the SLR exemption takes Treasuries and reserves out."""
    keep = 1.0 - params.slr_exempt
    return (
        state.other_exposure
        + keep * (state.inventory + state.reserves)
        + state.rev_repo_bilateral
        + (1.0 - params.netting_cleared) * state.rev_repo_cleared
    )


def capacity(params: DealerParams, state: DealerState) -> Array:
    """K = Tier 1 / SLR requirement: the exposure the capital supports (USD bn)."""
    return state.tier1 / (params.slr_requirement_pct / 100.0)


def utilisation(params: DealerParams, state: DealerState) -> Array:
    """u = E / K (= requirement / SLR)."""
    return exposure(params, state) / capacity(params, state)


def headroom(params: DealerParams, state: DealerState) -> Array:
    """K - E, floored at zero: what the dealer can still add to its balance sheet (USD bn)."""
    return jnp.maximum(capacity(params, state) - exposure(params, state), 0.0)


def _kink(params: DealerParams, state: DealerState) -> Array:
    """USD bn the dealer can absorb before its utilisation reaches the threshold ``u_bar``."""
    return jnp.maximum(params.utilisation_threshold * capacity(params, state) - exposure(params, state), 0.0)


def marginal_concession(params: DealerParams, state: DealerState, absorbed: Array, vol_bp: Array) -> Array:
    """Yield concession (bp per USD bn) for the next USD bn after absorbing ``absorbed``:
    ``(sigma / sigma_calm) [lambda0 + kappa max(0, u(q) - u_bar)]``."""
    u = (exposure(params, state) + absorbed) / capacity(params, state)
    excess = jnp.maximum(u - params.utilisation_threshold, 0.0)
    return vol_bp / params.calm_vol_bp * (params.impact_bp_per_bn + params.capacity_slope_bp_per_bn * excess)


def required_concession(params: DealerParams, state: DealerState, quantity: Array, vol_bp: Array) -> Array:
    """Yield concession (bp) at which the dealer holds ``quantity`` USD bn more: the integral of
    :func:`marginal_concession`, ``(sigma/sigma_calm) [lambda0 q + kappa (q - q_kink)+^2 / (2K)]``
    (linear impact in calm markets, convex once utilisation passes the threshold)."""
    over = jnp.maximum(quantity - _kink(params, state), 0.0)
    k = capacity(params, state)
    level = params.impact_bp_per_bn * quantity + params.capacity_slope_bp_per_bn * over**2 / (2.0 * k)
    return vol_bp / params.calm_vol_bp * level


def log_price_depth(
    params: DealerParams, state: DealerState, absorbed: Array, vol_bp: Array, dmod: Array
) -> Array:
    """The dealer's slope for a linear clearing (log-price move per USD bn it absorbs), at the
    quantity it already holds: ``c'(q) x Dmod x 1e-4`` (yield bp -> log price). A linear-depth
    clearing uses it per window, capped by :func:`headroom`."""
    return marginal_concession(params, state, absorbed, vol_bp) * dmod * 1e-4


def demand(params: DealerParams, state: DealerState, concession_bp: Array, vol_bp: Array) -> Array:
    """Demand schedule as a clearing participant: USD bn of Treasuries the dealer buys when the
    market's yield concession is ``concession_bp`` (the inverse of :func:`required_concession`,
    closed form: linear below the kink, the root of the quadratic above it), never beyond its
    SLR headroom."""
    k = capacity(params, state)
    kink = _kink(params, state)
    lam, kap = params.impact_bp_per_bn, params.capacity_slope_bp_per_bn
    c = jnp.maximum(concession_bp, 0.0) * params.calm_vol_bp / vol_bp  # calm-equivalent level
    linear = c / lam
    a = kap / k  # quadratic: (a/2) y^2 + lam y - (c - lam kink) = 0, y = q - kink
    rest = jnp.maximum(c - lam * kink, 0.0)
    y = 2.0 * rest / (lam + jnp.sqrt(lam**2 + 2.0 * a * rest))  # stable root, also for a = 0
    q = jnp.where(linear <= kink, linear, kink + y)
    return jnp.clip(q, 0.0, headroom(params, state))


def repo_spread(params: DealerParams, state: DealerState) -> Array:
    """Spread over SOFR (bp) a dealer charges funds: rises with utilisation above the threshold."""
    return params.repo_spread_bp + params.repo_spread_slope_bp * jnp.maximum(
        utilisation(params, state) - params.utilisation_threshold, 0.0
    )


def repo_capacity(params: DealerParams, state: DealerState, cleared: Array) -> Array:
    """New reverse repo (USD bn) a dealer can lend to funds within its headroom; cleared repo uses
    ``1 - netting`` of balance sheet per dollar. ``cleared`` is 1.0 for FICC-sponsored, 0.0 bilateral."""
    per_dollar = 1.0 - params.netting_cleared * cleared
    return headroom(params, state) / per_dollar


#: Flows booked by :func:`absorb` (from, to, instrument); amounts in :class:`DealerFlows`.
FLOW_ROUTES: tuple[tuple[str, str, str], ...] = (
    ("sellers", "dealers", "bonds"),
    ("dealers", "sellers", "cash"),
    ("money_funds", "dealers", "repo_cash"),  # the dealer finances the bonds in repo
)


class DealerFlows(NamedTuple):
    amount: Array  # [len(FLOW_ROUTES), D]


def absorb(
    params: DealerParams, state: DealerState, bought: Array, price: Array
) -> tuple[DealerState, DealerFlows]:
    """Book purchases ``bought`` (USD bn market value, ``[D]``) at ``price`` (per 100): inventory
    rises, cash paid to the sellers is borrowed in repo from money funds (the matched book's
    liability side), so the dealer's equity is unchanged at the trade price."""
    cash = bought
    new = state._replace(inventory=state.inventory + bought, repo_funding=state.repo_funding + cash)
    del price  # market value in, market value out: the flows are in value terms
    return new, DealerFlows(jnp.stack([bought, cash, cash]))


#: Flows booked by :func:`intermediate` (from, to, instrument).
REPO_ROUTES: tuple[tuple[str, str, str], ...] = (
    ("money_funds", "dealers", "repo_cash"),  # the dealer borrows (tri-party / FICC)
    ("dealers", "funds", "repo_cash"),  # and lends on to funds (reverse repo)
)


def intermediate(
    params: DealerParams, state: DealerState, requested: Array, cleared_share: Array
) -> tuple[DealerState, Array]:
    """Lend ``requested`` (USD bn, ``[D]``) of new repo to funds, ``cleared_share`` of it
    FICC-sponsored, funded one for one from money funds: granted up to the balance-sheet room
    (cleared repo uses ``1 - netting`` per dollar). Negative ``requested`` repays (always
    granted). Returns the new state and the amount granted (the matched book's both legs)."""
    per_dollar = 1.0 - params.netting_cleared * cleared_share
    room = headroom(params, state) / per_dollar
    granted = jnp.where(requested > 0, jnp.minimum(requested, room), requested)
    new = state._replace(
        rev_repo_bilateral=state.rev_repo_bilateral + (1.0 - cleared_share) * granted,
        rev_repo_cleared=state.rev_repo_cleared + cleared_share * granted,
        repo_funding=state.repo_funding + granted,
    )
    return new, granted
