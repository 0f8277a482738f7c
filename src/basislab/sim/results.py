"""Simulation results: metrics, xarray / pandas time series."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from basislab.sim.audit import audit_max
from basislab.sim.engine import RawRun
from basislab.sim.model import BUCKETS, SEGMENTS, Params
from basislab.sim.players import OTHER_ASSETS
from basislab.sim.scenario import Scenario

_QUANTILES = ("p10", "p50", "p90")
#: dims of each output after (path, step)
_DIMS = {
    "cash_price": ("bucket",),
    "futures_price": ("bucket",),
    "gross_basis": ("bucket",),
    "yield_change_bp": ("bucket",),
    "fund_repo_debt": ("segment",),
    "lender_losses": ("segment",),
    "haircut": ("segment",),
    "repo_refusal": ("segment",),
    "im_rate": ("bucket",),
    "repo_rate": ("segment",),
    "sold_unwind": ("bucket",),
    "sold_derisk": ("bucket",),
    "bonds_held_funds": ("bucket",),
    "bonds_held_investors": ("bucket",),
    "bonds_held_fed": ("bucket",),
    "sold_to_fed": ("bucket",),
    "lender_cash": ("segment",),
    "lender_repo_lent": ("segment",),
    "am_futures_long": ("bucket",),
    "repo_margin_paid": ("segment",),
    "sold_default": ("bucket",),
    "futures_bought": ("bucket",),
    "implied_repo_minus_sofr_bp": ("bucket",),
    "bonds_held_dealers": ("bucket",),
    "fed_treasury_purchases": ("bucket",),
    "sold_to_dealers": ("bucket",),
    "dealers_bought": ("bucket",),
    "sold_other_sellers": ("bucket",),
    "bonds_held_other_sellers": ("bucket",),
    "equity_ratio_q": ("quantile",),
    "other_price": ("asset",),
    "other_sold": ("asset",),
    "other_sellers_other_sold": ("asset",),
    "cash_ratio_q": ("quantile",),
    "leverage_q": ("quantile",),
}
_UNITS = {
    "cash_price": "per 100 face",
    "futures_price": "per 100 face",
    "gross_basis": "price points (P - CF f)",
    "yield_change_bp": "bp",
    "haircut": "fraction",
    "repo_rate": "decimal p.a.",
    "im_rate": "fraction of notional",
    "equity_ratio_q": "equity / initial equity",
    "cash_ratio_q": "cash / initial equity",
    "leverage_q": "gross position / equity",
    "stress": "vol / calm vol",
    "funds_alive": "count",
    "new_defaults": "count",
    "other_price": "index (1 at the start)",
    "sofr_pct": "percent",
    "dollar_stress_index": "index (1 = March 2020 on every leg)",
    "iorb_pct": "percent",
    "sofr_minus_iorb_bp": "bp",
    "implied_repo_minus_sofr_bp": "bp",
    "dealer_slr_utilisation": "leverage exposure / capacity (largest dealer)",
    "fed_repo_ops_on": "flag",
    "fed_purchases_on": "flag",
    "fed_lolr_on": "flag",
    "intraday_vm": "flag",
}


def funds_sales(outputs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per path, USD bn over the run: (forced cash Treasury sales: unwinds to meet cash gaps plus
    defaulters' collateral sold by their lenders, cash sold by choice: risk limits, stop-loss,
    redemptions)."""
    by_choice = outputs["sold_derisk"].sum((1, 2))
    forced = outputs["sold_unwind"].sum((1, 2)) - by_choice + outputs["sold_default"].sum((1, 2))
    return forced, by_choice


@dataclass
class SimResult:
    """One scenario run over a batch of paths."""

    scenario: Scenario
    params: Params
    raw: RawRun
    seed: int
    variant: str = "run"

    @property
    def paths(self) -> int:
        return int(self.raw.outputs["cash_price"].shape[0])

    @property
    def steps(self) -> int:
        return int(self.raw.outputs["cash_price"].shape[1])

    # -- metrics ---------------------------------------------------------------------------------
    def metrics(self) -> dict:
        o, p = self.raw.outputs, self.params
        p0 = np.asarray(p.market.p0)
        b0 = p0 - np.asarray(p.market.cf) * (p0 * np.exp(-np.asarray(p.market.rho)) / np.asarray(p.market.cf))
        drop = (1.0 - o["cash_price"] / p0).max(1) * 100.0
        widen = ((b0 - o["gross_basis"]) / p0 * 1e4).max(1)
        per_bucket = lambda a: {b: round(float(v), 6) for b, v in zip(BUCKETS, a.mean(0), strict=True)}  # noqa: E731
        sales, derisk = funds_sales(o)
        mean = lambda a: round(float(np.mean(a)), 6)  # noqa: E731
        return {
            "scenario": self.scenario.name,
            "paths": self.paths,
            "steps": self.steps,
            "max_cash_price_drop_pct": per_bucket(drop),
            "max_basis_widening_bp": per_bucket(widen),
            "fund_defaults": mean(o["new_defaults"].sum(1)),
            "forced_cash_sales_usd_bn": mean(sales),
            "realised_fund_pnl_usd_bn": mean(o["realised_pnl"][:, -1]),
            "lender_losses_usd_bn": mean(o["lender_losses"][:, -1].sum(-1)),
            "peak_initial_margin_usd_bn": mean((o["fund_im"] + o["am_im"]).max(1)),
            "audit_max_residual": float(audit_max(self)),
            "ccp_losses_usd_bn": mean(o["ccp_losses"][:, -1]),
            "backstop_peak_usd_bn": mean(o["backstop_outstanding"].max(1)),
            "forced_sales_by_seller_usd_bn": {
                "funds_unwinding": mean(o["sold_unwind"].sum((1, 2)) - derisk),
                "lenders_liquidating_defaulters": mean(o["sold_default"].sum((1, 2))),
            },
            "derisk_sales_usd_bn": mean(derisk),
            "fed_balance_sheet_expansion_usd_bn": {
                "peak": mean(o["fed_balance_sheet"].max(1)),
                "end": mean(o["fed_balance_sheet"][:, -1]),
                "purchases": mean(o["fed_reserves_created"][:, -1]),
            },
            "bonds_held_end_usd_bn_face": {
                who: mean(o[f"bonds_held_{who}"][:, -1].sum(-1)) for who in ("funds", "investors", "fed")
            },
            "flows_usd_bn": {f"{a} -> {b}: {what}": v for a, b, what, v in self.flows()},
            "fund_defaults_p95": round(float(np.percentile(o["new_defaults"].sum(1), 95)), 6),
            # the rest of the system (docs/model.md section 15); absent from runs stored before it
            **(
                {
                    "max_sofr_minus_iorb_bp": mean(o["sofr_minus_iorb_bp"].max(1)),
                    "dealer_slr_utilisation_peak": mean(o["dealer_slr_utilisation"].max(1)),
                    "sold_to_dealers_usd_bn": mean(o["dealers_bought"].sum((1, 2))),
                    "other_sellers_sales_usd_bn": mean(o["sold_other_sellers"].sum((1, 2))),
                    "fed_treasury_purchases_usd_bn": mean(o["fed_treasury_purchases"].sum((1, 2))),
                }
                if "dealers_bought" in o
                else {}
            ),
            "seed": self.seed,
        }

    def flows(self) -> list[tuple[str, str, str, float]]:
        """Flows between players over the run, mean over paths (USD bn at market): who sold to
        whom and who lent to whom, as (from, to, what, amount)."""
        o = self.raw.outputs
        tot = lambda name: round(float(o[name].reshape(o[name].shape[0], -1).sum(1).mean()), 6) + 0.0  # noqa: E731
        opt = lambda name: tot(name) if name in o else 0.0  # noqa: E731 - runs stored before issue 10
        sold = tot("sold_unwind") + tot("sold_default")
        return [
            (
                "funds",
                "end investors",
                "cash Treasuries",
                round(sold - tot("sold_to_fed") - opt("sold_to_dealers"), 6),
            ),
            ("funds", "dealers", "cash Treasuries", opt("sold_to_dealers")),
            ("funds", "fed", "cash Treasuries", tot("sold_to_fed")),
            ("fed", "funds", "reserves for Treasuries", tot("sold_to_fed")),
            ("foreign investors and bond funds", "the market", "cash Treasuries", opt("sold_other_sellers")),
            (
                "fed",
                "all holders",
                "reserves for Treasuries (outright purchases)",
                opt("fed_treasury_purchases"),
            ),
            ("asset managers", "funds", "futures bought back (notional)", tot("futures_bought")),
            ("funds", "end investors", "bills", tot("bills_sold")),
            *[
                ("funds", "end investors", asset, self._asset_total("other_sold", a))
                for a, asset in enumerate(OTHER_ASSETS)
            ],
            (
                "prime money funds",
                "end investors",
                "credit (CP and CDs)",
                self._asset_total("other_sellers_other_sold", OTHER_ASSETS.index("credit")),
            ),
            ("funds", "repo lenders", "repo margin (net of returns)", tot("repo_margin_paid")),
            ("backstop (Fed LOLR)", "funds", "loans drawn", tot("backstop_drawn")),
            ("funds", "backstop (Fed LOLR)", "loans repaid", tot("backstop_repaid")),
        ]

    def _asset_total(self, name: str, a: int) -> float:
        """Run total of output ``name`` for other asset ``a``, mean over paths (0 for runs stored
        before the assets were split)."""
        o = self.raw.outputs
        if name not in o:
            return 0.0
        x = o[name]
        x = x[..., a] if x.ndim == 3 else (x if a == 0 else np.zeros_like(x))
        return round(float(x.sum(1).mean()), 6) + 0.0

    def flows_table(self) -> pd.DataFrame:
        """:meth:`flows` as a table (variant, from, to, what, usd_bn)."""
        rows = [(self.variant, *r) for r in self.flows()]
        return pd.DataFrame(rows, columns=["variant", "from", "to", "what", "usd_bn"])

    # -- time series -----------------------------------------------------------------------------
    def to_xarray(self) -> xr.Dataset:
        """All outputs as an :class:`xarray.Dataset` with dims (path, step, bucket|segment|quantile)."""
        coords = {
            "path": np.arange(self.paths),
            "step": np.arange(1, self.steps + 1),
            "bucket": list(BUCKETS),
            "segment": list(SEGMENTS),
            "quantile": list(_QUANTILES),
            "asset": list(OTHER_ASSETS),
        }
        data = {}
        for name, arr in self.raw.outputs.items():
            dims = ("path", "step", *_DIMS.get(name, ()))
            data[name] = xr.DataArray(arr, dims=dims, attrs={"units": _UNITS.get(name, "USD bn")})
        ds = xr.Dataset(data, coords={k: v for k, v in coords.items()})
        ds.attrs.update(scenario=self.scenario.name, variant=self.variant, seed=self.seed)
        return ds

    def timeseries(self) -> pd.DataFrame:
        """Long table: variant, step, variable, label (bucket/segment/quantile or ''), and the
        mean, p05, p50 and p95 across paths."""
        frames = []
        for name, arr in self.raw.outputs.items():
            dims = _DIMS.get(name, ())
            labels = (
                {"bucket": BUCKETS, "segment": SEGMENTS, "quantile": _QUANTILES, "asset": OTHER_ASSETS}[
                    dims[0]
                ]
                if dims
                else ("",)
            )
            a = arr.reshape(arr.shape[0], arr.shape[1], -1)
            stats = {
                "mean": a.mean(0),
                "p05": np.percentile(a, 5, axis=0),
                "p50": np.percentile(a, 50, axis=0),
                "p95": np.percentile(a, 95, axis=0),
            }
            steps = np.repeat(np.arange(1, a.shape[1] + 1), a.shape[2])
            lab = np.tile(np.asarray(labels, dtype=object), a.shape[1])
            frames.append(
                pd.DataFrame(
                    {
                        "variant": self.variant,
                        "step": steps,
                        "variable": name,
                        "label": lab,
                        **{k: v.reshape(-1) for k, v in stats.items()},
                    }
                )
            )
        return pd.concat(frames, ignore_index=True)
