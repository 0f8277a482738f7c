"""HTML report of a survival map: one Plotly heatmap per measure (fund defaults, forced sales, the
basis peak, the backstop's balance-sheet use), the levers with their sources, and how it ran."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import plotly.graph_objects as go

from basislab.report.charts import _layout
from basislab.report.html import Section, write

#: measure -> (title, colour scale); mean across paths at each grid point
PANELS = {
    "fund_defaults": ("Fund defaults (mean count per path)", "Reds"),
    "unwind_share": ("Cash sold, forced and by choice (share of the initial cash leg)", "Oranges"),
    "forced_sales_usd_bn": ("Forced cash sales (USD bn of face)", "Oranges"),
    "basis_peak_bp": ("Basis peak: largest widening (bp of the CTD price)", "Purples"),
    "backstop_peak_usd_bn": ("Backstop (Fed lender of last resort) peak lending, USD bn", "Blues"),
    "fed_balance_sheet_peak_usd_bn": ("The Fed's balance-sheet use: peak expansion, USD bn", "Blues"),
    "sofr_iorb_peak_bp": ("Funding stress: peak SOFR - IORB (bp)", "YlOrRd"),
    "dealer_utilisation_peak": ("Dealers' balance sheets: peak SLR utilisation (largest dealer)", "Greens"),
}


def heatmap(pm, measure: str) -> go.Figure:
    """Heatmap of ``measure`` (mean over paths) on the map's (y, x) grid, values written in cells."""
    from basislab.sim.policy import LEVERS, METRIC_UNITS

    title, scale = PANELS.get(measure, (measure, "Viridis"))
    z = pm.mean(measure)
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[f"{v:g}" for v in pm.x_values],
            y=[f"{v:g}" for v in pm.y_values],
            colorscale=scale,
            colorbar={"title": {"text": METRIC_UNITS[measure]}},
            text=np.vectorize(lambda v: f"{v:.3g}")(z),
            texttemplate="%{text}",
            hovertemplate=f"{pm.x}=%{{x}}<br>{pm.y}=%{{y}}<br>{measure}=%{{z:.4g}}<extra></extra>",
        )
    )
    fig.update_xaxes(title_text=f"{pm.x} ({LEVERS[pm.x].units})", type="category")
    fig.update_yaxes(title_text=f"{pm.y} ({LEVERS[pm.y].units})", type="category")
    return _layout(fig, title, height=460)


def _lever_table(names: list[str]) -> str:
    from basislab.sim.policy import LEVERS

    rows = "".join(
        f"<tr><td>{html.escape(n)}</td><td>{html.escape(LEVERS[n].units)}</td>"
        f"<td>{html.escape(LEVERS[n].maps_to)}</td><td>{html.escape(LEVERS[n].source)}</td></tr>"
        for n in names
    )
    return f"<table><tr><th>lever</th><th>units</th><th>maps to</th><th>source</th></tr>{rows}</table>"


def write_policy_report(pm, path: str | Path, plotlyjs: str = "inline", map_id: str | None = None) -> Path:
    """Write the survival map ``pm`` (:class:`basislab.sim.policy.PolicyMap`) as an HTML report."""
    meta = pm.meta()
    ran = (
        f"{len(pm.y_values)} x {len(pm.x_values)} grid, {pm.paths} paths x {pm.funds} funds x {pm.steps} days "
        f"per point (the same seeded paths at every point, seed {pm.seed}); {meta['compiles']} compilation(s), "
        f"{meta['wall_s']:.1f} s."
    )
    sections = [
        Section(
            "The map",
            f"Scenario {pm.scenario}: {pm.x} across, {pm.y} down. {ran}"
            + (f" Stored as {map_id}." if map_id else ""),
            figures=[heatmap(pm, m) for m in PANELS],
        ),
        Section("Levers", tables_html=[_lever_table([pm.x, pm.y])]),
    ]
    if pm.notes:
        sections.append(Section("Notes", " ".join(pm.notes)))
    return write(
        path,
        f"Survival map: {pm.scenario}",
        sections,
        subtitle="basislab policy lab: which rule, and how fast, stops the spiral (docs/policy.md)",
        plotlyjs=plotlyjs,
    )
