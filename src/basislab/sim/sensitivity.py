"""Sensitivity of the funds' sales to the liquidity assumptions (docs/model.md sections 11 and 16).

Each row sets one assumption (scenario overrides) and runs the seed-thesis book, without the
backstop, in three markets over the same seeded paths: calm (no shock, calm volatility), volatility
only (the shock week's 3x volatility with no drift and no dislocation) and the seed-thesis
sell-off. A cell is the mean over paths of forced sales + sales by choice (USD bn) and, when any,
the mean number of defaults. Run ``python -m basislab.sim.sensitivity [PATHS]`` to print the
table (markdown) that docs/model.md shows.
"""

from __future__ import annotations

import sys

import numpy as np

from basislab import sim
from basislab.sim.results import funds_sales

ZERO = "{2y: 0, 5y: 0, 10y: 0, long: 0}"
MARKETS: dict[str, tuple[str, ...]] = {
    "calm": (f"shock.yield_bp={ZERO}", f"shock.cash_dislocation_bp={ZERO}", "shock.vol_multiplier=1.0"),
    "vol only": (f"shock.yield_bp={ZERO}", f"shock.cash_dislocation_bp={ZERO}"),
    "sell-off": (),
}

#: (assumption, value shown, overrides)
ROWS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("all defaults", "cash by OFR size cohort (2.1 / 7.7 / 6.1%), lines 0.5%, redemptions 1x past 5%", ()),
    ("unencumbered cash, all funds", "5%", ("funds.unencumbered_cash_pct=5",)),
    ("unencumbered cash, all funds", "2%", ("funds.unencumbered_cash_pct=2",)),
    ("unencumbered cash, all funds", "1%", ("funds.unencumbered_cash_pct=1",)),
    ("committed credit lines", "0%", ("funds.credit_line_pct=0",)),
    ("committed credit lines", "2%", ("funds.credit_line_pct=2",)),
    ("committed credit lines", "0%, cash 1%", ("funds.credit_line_pct=0", "funds.unencumbered_cash_pct=1")),
    ("redemptions per unit of drawdown", "0 (none)", ("funds.redemption_per_loss=0",)),
    ("redemptions per unit of drawdown", "3", ("funds.redemption_per_loss=3",)),
    ("redemption threshold", "2%", ("funds.redemption_threshold_pct=2",)),
    ("redemption notice", "5 business days", ("funds.redemption_notice_days=5",)),
    ("stop-loss drawdown", "3%", ("funds.stop_loss_pct=3",)),
    ("stop-loss drawdown", "10%", ("funds.stop_loss_pct=10",)),
    ("repo settlement lag", "next day", ("repo.settle_lag_days=1",)),
)


def cell(overrides: tuple[str, ...], paths: int, seed: int = 0) -> tuple[float, float, float]:
    """(forced, by choice, defaults): means over paths of one run without the backstop."""
    sc = sim.load_scenario("seed-thesis", ["backstop.enabled=false", *overrides])
    r = sim.simulate(sc, paths=paths, seed=seed)
    o = r.raw.outputs
    forced, by_choice = funds_sales(o)
    return float(forced.mean()), float(by_choice.mean()), float(o["new_defaults"].sum(1).mean())


def table(paths: int = 16, rows=ROWS) -> str:
    lines = [
        "| assumption | value | " + " | ".join(MARKETS) + " |",
        "|---|---|" + "---|" * len(MARKETS),
    ]
    for name, shown, ov in rows:
        cells = []
        for market in MARKETS.values():
            f, c, d = cell((*market, *ov), paths)
            txt = f"{f:.1f} + {c:.1f}"
            cells.append(txt + (f" ({d:.1f} defaults)" if d > 0 else ""))
        lines.append(f"| {name} | {shown} | " + " | ".join(cells) + " |")
        print(lines[-1], file=sys.stderr, flush=True)
    return "\n".join(lines)


#: the seed-thesis sell-off with March 2020's other legs as news (S&P 500 -12.7%, IG +200bp)
DASH = ("shock.other_assets_pct=-12.7", "shock.credit_spread_bp=200")

#: (assumption, value shown, overrides) of the dash for cash (docs/model.md section 17)
DASH_ROWS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("all defaults", "cross 0.25, credit impact 0.04%/bn, equities 50% of other assets, prime 1tn", ()),
    ("cross-asset impact share", "0", ("market.cross_impact_share=0",)),
    ("cross-asset impact share", "0.5", ("market.cross_impact_share=0.5",)),
    ("credit impact per USD bn", "0.02%", ("market.credit_impact_pct_per_bn=0.02",)),
    ("credit impact per USD bn", "0.08%", ("market.credit_impact_pct_per_bn=0.08",)),
    ("equities' share of other assets", "100%", ("funds.other_assets_equity_share=1",)),
    ("prime money funds' holdings", "0 (no prime sales)", ("other_sellers.prime_mmf_holdings_usd_bn=0",)),
    ("credit spread duration", "5 years", ("market.credit_duration_years=5",)),
    ("all defaults, cash 1% for all", "", ("funds.unencumbered_cash_pct=1",)),
)


def dash_table(paths: int = 16, rows=DASH_ROWS) -> str:
    """The seed-thesis sell-off with the dash-for-cash news (:data:`DASH`), without the backstop:
    the funds' sales, their other assets sold, the other sellers' Treasuries and prime money funds'
    credit, and the lowest credit and equity prices (means over paths)."""
    lines = [
        "| assumption | value | funds: forced + by choice | funds' other assets sold | foreign and bond funds' "
        "Treasuries | prime funds' credit | lowest equities / credit price |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, shown, ov in rows:
        sc = sim.load_scenario("seed-thesis", ["backstop.enabled=false", *DASH, *ov])
        o = sim.simulate(sc, paths=paths, seed=0).raw.outputs
        forced, by_choice = funds_sales(o)
        per = lambda x: float(x.reshape(x.shape[0], -1).sum(1).mean())  # noqa: E731
        low = o["other_price"].min(1).mean(0)
        lines.append(
            f"| {name} | {shown} | {forced.mean():.1f} + {by_choice.mean():.1f} | {per(o['other_sold']):.1f} | "
            f"{per(o['sold_other_sellers']):.1f} | {per(o['other_sellers_other_sold']):.1f} | "
            f"{low[0]:.3f} / {low[1]:.3f} |"
        )
        print(lines[-1], file=sys.stderr, flush=True)
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    np.set_printoptions(precision=3)
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 16
    print(dash_table(n) if "--dash" in sys.argv else table(n))
