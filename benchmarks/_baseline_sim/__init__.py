"""The simulator as it was before the per-player books (issue 9): ``model.py`` and ``engine.py``
copied from commit 8aa2f87, kept only so that ``bench_sim`` can time the old engine side by side
with the new one in the same process. Not part of the package; do not edit."""

from __future__ import annotations

from . import model as _model

#: old flat Params field -> (group, field) of the per-player Params
_NAMES = {
    **{k: ("market", k) for k in (
        "p0 dmod cf coupon rho sigma_y yield_corr impact_cash impact_fut impact_stress resilience "
        "overnight_share disloc_decay sigma_other impact_other dy dx dother volmult outstanding"
    ).split()},
    **{k: ("ccp", k) for k in ("ewma_lambda", "im_z", "im_mpor", "im_floor")},
    "ccp_default_fund": ("ccp", "default_fund"),
    "sofr": ("repo", "sofr"),
    "repo_spread": ("repo", "spread"),
    "repo_stress_spread": ("repo", "stress_spread"),
    "lender_cash": ("repo", "cash"),
    **{k: ("funds", k) for k in (
        "total_position pareto_alpha lev_median lev_sigma mix mix_conc bilat_share bilat_conc min_buffer "
        "cash_share other_ratio lev_limit_mult lev_target_ratio oversell"
    ).split()},
    "bs_on": ("backstop", "on"),
    "bs_ltv": ("backstop", "ltv"),
    "bs_rate": ("backstop", "rate"),
    "backstop_cash": ("backstop", "cash"),
    "am_cash": ("asset_managers", "cash"),
    "investor_cash": ("investors", "cash"),
    "investor_bills": ("investors", "bills"),
    "investor_other": ("investors", "other_assets"),
    "issuer_cash": ("issuer", "cash"),
}  # fmt: skip


def old_inputs(params, static):
    """The old engine's flat ``Params`` and ``Static`` holding the same numbers as the new ones."""
    flat = {k: getattr(getattr(params, g), f) for k, (g, f) in _NAMES.items()}
    # issue 10 replaced the continuous haircut rule by stepped schedules: the old engine gets the
    # calm level and the extreme level as its cap, with no slopes (same shapes, same work)
    r = params.repo
    zs = r.haircut_levels[:, 0] * 0.0
    flat.update(
        h0=r.haircut_levels[:, 0], h_price=zs, h_vol=zs, h_max=r.haircut_levels[:, -1],
        refuse_slope=zs, refuse_max=r.refusal_levels[:, -1],
    )  # fmt: skip
    # issue 10 split the other assets into equities and credit: the old engine's one other asset
    # is the equities leg
    m = params.market
    flat.update(
        sigma_other=m.sigma_other[0], impact_other=m.impact_other[0], dother=m.dother[:, 0],
        investor_other=params.investors.other_assets[0],
    )  # fmt: skip
    return _model.Params(**{k: flat[k] for k in _model.Params._fields}), _model.Static(
        **{k: v for k, v in static._asdict().items() if k in _model.Static._fields}
    )
