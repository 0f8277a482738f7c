"""The one chart module: every Plotly figure of the HTML reports and of the dashboard.

Rules every chart keeps (a reader looks before reading):

- a line breaks where the data has a gap (a missing CFTC week is not drawn as a straight line):
  :func:`with_gaps` inserts a ``None`` where consecutive observations are further apart than
  :data:`GAP_FACTOR` times the series' normal (median) spacing; nothing is interpolated;
- episodes are shaded and their labels sit in a row above the plot, staggered so that two
  labels never overprint (:func:`mark_episodes`); a simulation's shock window is shaded too;
- every axis carries its unit; one unit per axis (USD bn and haircut % never share one);
- a chart with nothing to show says so (:func:`empty`), instead of drawing an empty or all-zero
  frame;
- the basis uses the desk's sign: gross basis = cash price - CF x futures price (positive when
  cash is rich to futures; a widening = the long-basis position loses), in 32nds;
- at most two lines per panel in the simulation charts: buckets get their own panels (all four:
  2y, 5y, 10y, long), the two worlds (without / with backstop) are the two colours.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from basislab.conventions import BUCKETS

#: a gap is a step longer than this multiple of the series' median spacing
GAP_FACTOR = 2.5
COLORS = {"without_backstop": "#c0392b", "with_backstop": "#1f77b4", "run": "#1f4e79"}
LABELS = {"without_backstop": "without backstop", "with_backstop": "with backstop", "run": "run"}
PALETTE = ("#1f4e79", "#c0392b", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf")
_EPISODE_FILL = "#d62728"
_SHOCK_FILL = "#7f7f7f"


def _layout(fig: go.Figure, title: str, height: int = 400) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0.01, "xanchor": "left"},
        height=height,
        margin={"t": 90, "l": 70, "r": 20, "b": 50},
        legend={"orientation": "h", "y": -0.18},
        template="plotly_white",
    )
    return fig


def empty(title: str, message: str, height: int = 260) -> go.Figure:
    """A figure that says why there is nothing to draw (no data, or every value zero)."""
    fig = go.Figure()
    fig.add_annotation(
        text=html.escape(message),
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
        showarrow=False,
        font={"size": 14, "color": "#555"},
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig = _layout(fig, title, height)
    fig.update_layout(meta={"empty": True})
    return fig


def is_empty(fig: go.Figure) -> bool:
    """True for a figure made by :func:`empty`."""
    meta = fig.layout.meta
    return isinstance(meta, dict) and bool(meta.get("empty"))


# ------------------------------------------------------------------------------------------------
# time series with gaps and episodes


def with_gaps(s: pd.Series, factor: float = GAP_FACTOR) -> pd.Series:
    """``s`` (date index) with a NaN inserted inside every gap longer than ``factor`` times the
    median spacing of its observations, so that a plotted line breaks there. Values are kept as
    they are: nothing is interpolated."""
    s = s.dropna().sort_index()
    s = s[~s.index.duplicated(keep="last")]
    if len(s) < 3:
        return s
    idx = pd.DatetimeIndex(s.index)
    step = idx.to_series().diff().dropna()
    normal = step.median()
    if normal <= pd.Timedelta(0):
        return s
    # business-daily data: a weekend is 3 days, a holiday weekend 4; never break those
    limit = max(normal * factor, pd.Timedelta(days=4)) if normal <= pd.Timedelta(days=1) else normal * factor
    big = step[step > limit]
    if big.empty:
        return pd.Series(s.to_numpy(dtype=float), index=idx)
    holes = pd.Series(np.nan, index=pd.DatetimeIndex([t - d / 2 for t, d in big.items()]))
    out = pd.concat([pd.Series(s.to_numpy(dtype=float), index=idx), holes]).sort_index()
    return out


def gap_count(s: pd.Series, factor: float = GAP_FACTOR) -> int:
    """How many breaks :func:`with_gaps` puts into ``s``."""
    return int(with_gaps(s, factor).isna().sum())


def _episode_levels(episodes, span_days: float, min_share: float = 0.14) -> list[int]:
    """A row for each episode label so that labels closer than ``min_share`` of the x-range
    (about the width of a label) never share a row."""
    levels: list[int] = []
    last: dict[int, dt.date] = {}
    for ep in episodes:
        lvl = 0
        while lvl in last and (ep.start - last[lvl]).days < min_share * span_days:
            lvl += 1
        levels.append(lvl)
        last[lvl] = ep.start
    return levels


def mark_episodes(fig: go.Figure, episodes: Iterable, start, end) -> go.Figure:
    """Shade each episode inside ``[start, end]`` and label it in a row above the plot area,
    staggered (see :func:`_episode_levels`); hovering the label shows the episode's note."""
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    eps = sorted(
        (e for e in episodes if start <= pd.Timestamp(e.end) and pd.Timestamp(e.start) <= end),
        key=lambda e: e.start,
    )
    levels = _episode_levels(eps, max((end - start).days, 1))
    for ep, lvl in zip(eps, levels):
        fig.add_vrect(
            x0=pd.Timestamp(ep.start),
            x1=pd.Timestamp(ep.end) + pd.Timedelta(days=1),
            fillcolor=_EPISODE_FILL,
            opacity=0.15,
            line_width=0,
            layer="below",
        )
        fig.add_annotation(
            x=pd.Timestamp(ep.start),
            xref="x",
            y=1.0 + 0.075 * lvl,
            yref="paper",
            yanchor="bottom",
            xanchor="left",
            text=html.escape(ep.label),
            hovertext=html.escape(getattr(ep, "note", "")),
            showarrow=False,
            font={"size": 10, "color": _EPISODE_FILL},
        )
    if levels:
        top = max(levels)
        fig.update_layout(margin={"t": 90 + 18 * top})
    return fig


def time_chart(
    title: str,
    series: Mapping[str, pd.Series | None],
    unit: str,
    start=None,
    end=None,
    episodes: Iterable = (),
    height: int = 420,
    kind: str = "lines",
) -> go.Figure:
    """Lines of date-indexed series (one unit, on the y axis), broken at gaps, with episodes."""
    start = pd.Timestamp(start) if start is not None else None
    end = pd.Timestamp(end) if end is not None else None
    fig = go.Figure()
    lo, hi = None, None
    for i, (label, s) in enumerate(series.items()):
        if s is None:
            continue
        s = s.dropna()
        s.index = pd.DatetimeIndex(s.index)
        s = s.loc[start:end]
        if s.empty:
            continue
        g = with_gaps(s)
        lo = g.index[0] if lo is None else min(lo, g.index[0])
        hi = g.index[-1] if hi is None else max(hi, g.index[-1])
        sparse = len(s) < 400
        fig.add_trace(
            go.Scatter(
                x=g.index,
                y=[None if np.isnan(v) else float(v) for v in g.to_numpy()],
                mode="lines+markers" if sparse and kind == "lines" else "lines",
                marker={"size": 3},
                connectgaps=False,
                name=label,
                line={"color": PALETTE[i % len(PALETTE)], "width": 1.6},
                hovertemplate=f"%{{x|%Y-%m-%d}}: %{{y:,.2f}} {html.escape(unit)}<extra>{html.escape(label)}</extra>",
            )
        )
    if not fig.data:
        return empty(title, f"No observations of {', '.join(series)} in this period.")
    fig.update_yaxes(title_text=unit)
    fig.update_xaxes(title_text="date")
    _layout(fig, title, height)
    return mark_episodes(fig, episodes, start or lo, end or hi)


# ------------------------------------------------------------------------------------------------
# simulation charts (from a stored run's long time-series table)


def series(ts: pd.DataFrame, variant: str, variable: str, label: str = "") -> pd.DataFrame:
    """Rows of one variable (and bucket/segment/quantile label) of one variant, by step."""
    d = ts[(ts["variant"] == variant) & (ts["variable"] == variable) & (ts["label"].fillna("") == label)]
    return d.sort_values("step")


def shade_shock(fig: go.Figure, shock: Mapping | None, label: bool = True) -> go.Figure:
    """Shade the scenario's shock window (business days ``start_day+1 .. start_day+duration``)."""
    if not shock:
        return fig
    s0 = float(shock.get("start_day", 0)) + 0.5
    s1 = s0 + float(shock.get("duration_days", 0))
    kw = {"row": "all", "col": "all"} if fig._has_subplots() else {}
    fig.add_vrect(x0=s0, x1=s1, fillcolor=_SHOCK_FILL, opacity=0.12, line_width=0, layer="below", **kw)
    if label:
        fig.add_annotation(
            x=s0,
            xref="x",
            y=1.0,
            yref="paper",
            yanchor="bottom",
            xanchor="left",
            text="shock window",
            showarrow=False,
            font={"size": 10, "color": "#444"},
        )
    return fig


def _line(fig, d, name, color, scale=1.0, band=True, dash=None, row=None, col=None, show=True, group=None):
    x = d["step"].tolist()
    kw = {"row": row, "col": col} if row is not None else {}
    if band and len(d):
        fig.add_trace(
            go.Scatter(
                x=x + x[::-1],
                y=(d["p95"] * scale).tolist() + (d["p05"] * scale).tolist()[::-1],
                fill="toself",
                fillcolor=color,
                opacity=0.15,
                line={"width": 0},
                hoverinfo="skip",
                showlegend=False,
                legendgroup=group,
            ),
            **kw,
        )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=(d["mean"] * scale).tolist(),
            name=name,
            line={"color": color, "dash": dash},
            showlegend=show,
            legendgroup=group,
        ),
        **kw,
    )


def _all_zero(ts: pd.DataFrame, variables: Iterable[str], tol: float = 1e-9) -> bool:
    d = ts[ts["variable"].isin(list(variables))]
    return d.empty or float(d[["mean", "p05", "p95"]].abs().to_numpy().max()) <= tol


def bucket_panels(
    ts: pd.DataFrame,
    variants: list[str],
    variable: str,
    title: str,
    unit: str,
    scale: float = 1.0,
    shock: Mapping | None = None,
    height: int = 520,
) -> go.Figure:
    """A 2x2 grid, one panel per bucket (2y, 5y, 10y, long), the worlds as colours, 5-95% bands."""
    if _all_zero(ts, [variable]):
        return empty(title, f"{variable} is zero in every bucket and every world of this run.")
    fig = make_subplots(
        rows=2,
        cols=2,
        subplot_titles=[f"{b} bucket" for b in BUCKETS],
        vertical_spacing=0.2,
        horizontal_spacing=0.1,
    )
    for i, b in enumerate(BUCKETS):
        r, c = divmod(i, 2)
        for v in variants:
            _line(
                fig,
                series(ts, v, variable, b),
                LABELS.get(v, v),
                COLORS.get(v, "#555"),
                scale,
                row=r + 1,
                col=c + 1,
                show=i == 0,
                group=v,
            )
    fig.update_yaxes(title_text=unit)
    fig.update_xaxes(title_text="business day", row=2)
    _layout(fig, title, height)
    return shade_shock(fig, shock, label=False)


def sim_prices(ts, variants, shock=None) -> go.Figure:
    """Cash CTD prices of the four buckets (per 100 face)."""
    return bucket_panels(
        ts,
        variants,
        "cash_price",
        "Cash Treasury prices, each bucket's CTD",
        "price per 100 face",
        shock=shock,
    )


def sim_basis(ts, variants, shock=None) -> go.Figure:
    """Gross basis in the desk convention, in 32nds: ``P - CF x f`` (positive while carry is
    positive; it converges to zero at delivery). The long-basis position (long cash, short
    futures) loses when the basis falls faster than its carry: cash cheapening against futures."""
    return bucket_panels(
        ts,
        variants,
        "gross_basis",
        "Gross basis = cash price - CF x futures price (32nds)",
        "32nds",
        scale=32.0,
        shock=shock,
    )


def _step_fig(title, unit, height=380) -> go.Figure:
    fig = go.Figure()
    fig.update_yaxes(title_text=unit)
    fig.update_xaxes(title_text="business day")
    return _layout(fig, title, height)


def sim_lines(ts, variants, specs, title, unit, shock=None, band=True, empty_msg=None) -> go.Figure:
    """Lines of scalar variables, ``specs`` = [(variable, label, line dash, scale)], at most two per world."""
    if _all_zero(ts, [s[0] for s in specs]):
        return empty(title, empty_msg or f"{' and '.join(s[1] for s in specs)}: zero throughout this run.")
    fig = _step_fig(title, unit)
    for v in variants:
        for var, lab, dash, scale, *rest in specs:
            label = rest[0] if rest else ""
            _line(
                fig,
                series(ts, v, var, label),
                f"{LABELS.get(v, v)}: {lab}",
                COLORS.get(v, "#555"),
                scale,
                band=band,
                dash=dash,
            )
    return shade_shock(fig, shock)


def sim_morning_vs_eod(ts, variants, shock=None) -> go.Figure:
    """The timing mismatch at the heart of the spiral: what funds must pay in the morning (repo
    margin and haircut calls, initial-margin increases) against what they pay at the end-of-day
    settlement (variation margin on the futures and interest), per world, USD bn a day."""
    title = "Morning repo + haircut + IM calls vs end-of-day settlement (USD bn a day)"
    if _all_zero(ts, ["cash_need_morning", "cash_need_eod"]):
        return empty(title, "No margin calls in this run: the funds never had to pay cash.")
    fig = make_subplots(
        rows=1, cols=len(variants), subplot_titles=[LABELS.get(v, v) for v in variants], shared_yaxes=True
    )
    for j, v in enumerate(variants):
        for var, lab, color in (
            ("cash_need_morning", "morning calls: repo margin, haircuts, IM", "#c0392b"),
            ("cash_need_eod", "end of day: VM paid and interest", "#1f77b4"),
            ("cash_gap_morning", "morning shortfall after cash in hand", "#7f7f7f"),
        ):
            d = series(ts, v, var)
            fig.add_trace(
                go.Bar(
                    x=d["step"].tolist(),
                    y=d["mean"].tolist(),
                    name=lab,
                    marker_color=color,
                    showlegend=j == 0,
                    legendgroup=var,
                ),
                row=1,
                col=j + 1,
            )
    fig.update_layout(barmode="group")
    fig.update_yaxes(title_text="USD bn a day", col=1)
    fig.update_xaxes(title_text="business day")
    _layout(fig, title, 420)
    return shade_shock(fig, shock, label=False)


def sim_forced_sales(ts, variants, shock=None) -> go.Figure:
    """Cash Treasuries sold into the market per day, by seller, stacked; one panel per world."""
    title = "Forced sales of cash Treasuries by seller (USD bn a day, mean across paths)"
    if _all_zero(ts, ["sold_unwind", "sold_default"]):
        return empty(title, "No forced sales in this run: no fund had to unwind, none defaulted.")
    fig = make_subplots(
        rows=1, cols=len(variants), subplot_titles=[LABELS.get(v, v) for v in variants], shared_yaxes=True
    )
    for j, v in enumerate(variants):
        if _all_zero(ts[ts["variant"] == v], ["sold_unwind", "sold_default"]):
            fig.add_annotation(
                text="no forced sales in this world",
                x=0.5,
                y=0.5,
                xref=f"x{j + 1 if j else ''} domain",
                yref=f"y{j + 1 if j else ''} domain",
                showarrow=False,
                font={"color": "#555"},
            )
        for var, who, color in (
            ("sold_unwind", "funds unwinding", "#c0392b"),
            ("sold_default", "lenders liquidating defaulters", "#8c564b"),
        ):
            d = ts[(ts["variant"] == v) & (ts["variable"] == var)].groupby("step")["mean"].sum()
            fig.add_trace(
                go.Bar(
                    x=d.index.tolist(),
                    y=d.to_numpy().tolist(),
                    name=who,
                    marker_color=color,
                    showlegend=j == 0,
                    legendgroup=var,
                ),
                row=1,
                col=j + 1,
            )
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title_text="USD bn a day", col=1)
    fig.update_xaxes(title_text="business day")
    _layout(fig, title, 400)
    return shade_shock(fig, shock, label=False)


#: flows of the sim outputs: (variable, seller, buyer, what)
_FLOWS = (
    ("sold_unwind", "funds (unwinding)", "end investors", "cash Treasuries"),
    ("sold_default", "repo lenders (defaulters' collateral)", "end investors", "cash Treasuries"),
    ("futures_bought", "futures market (CCP)", "funds (unwinding)", "futures bought back"),
    ("bills_sold", "funds (unwinding)", "end investors", "bills"),
    ("other_sold", "funds (unwinding)", "end investors", "other risky assets"),
    ("backstop_drawn", "backstop lender", "funds (unwinding)", "backstop loans"),
)


def flows_table(ts: pd.DataFrame, variants: list[str]) -> pd.DataFrame:
    """Who sold what to whom: USD bn over the whole run, mean across paths, per world."""
    rows = []
    for var, seller, buyer, what in _FLOWS:
        row: dict[str, str | float] = {"from": seller, "to": buyer, "what": what}
        for v in variants:
            d = ts[(ts["variant"] == v) & (ts["variable"] == var)]
            row[LABELS.get(v, v)] = float(d["mean"].sum())
        rows.append(row)
    return pd.DataFrame(rows)


def sim_who_sold_to_whom(ts, variants) -> go.Figure:
    """A Sankey diagram per world of :func:`flows_table` (USD bn over the run)."""
    title = "Who sold to whom over the run (USD bn, mean across paths)"
    tbl = flows_table(ts, variants)
    cols = [LABELS.get(v, v) for v in variants]
    if float(tbl[cols].abs().to_numpy().max(initial=0.0)) <= 1e-9:
        return empty(title, "Nobody sold anything in this run: every fund held its position to delivery.")
    fig = make_subplots(
        rows=1, cols=len(variants), specs=[[{"type": "domain"}] * len(variants)], subplot_titles=cols
    )
    for j, col in enumerate(cols):
        t = tbl[tbl[col] > 1e-9]
        nodes = list(dict.fromkeys([*t["from"], *t["to"]]))
        fig.add_trace(
            go.Sankey(
                node={"label": nodes, "pad": 12, "thickness": 14},
                link={
                    "source": [nodes.index(x) for x in t["from"]],
                    "target": [nodes.index(x) for x in t["to"]],
                    "value": t[col].round(4).tolist(),
                    "label": t["what"].tolist(),
                    "hovertemplate": "%{label}: USD %{value:,.2f}bn<extra></extra>",
                },
                valuesuffix=" USD bn",
            ),
            row=1,
            col=j + 1,
        )
    return _layout(fig, title, 380)


def sim_fan(ts, variants, variable, title, unit, shock=None) -> go.Figure:
    """The cross-section of funds: the median (p50) across funds as a line and the 10th-90th
    percentile across funds as a band, mean over paths; one colour per world."""
    if _all_zero(ts, [variable]):
        return empty(title, f"{variable} is not recorded in this run (engine.record_distribution off).")
    fig = _step_fig(title, unit)
    for v in variants:
        c = COLORS.get(v, "#555")
        lo, mid, hi = (series(ts, v, variable, q) for q in ("p10", "p50", "p90"))
        x = mid["step"].tolist()
        fig.add_trace(
            go.Scatter(
                x=x + x[::-1],
                y=hi["mean"].tolist() + lo["mean"].tolist()[::-1],
                fill="toself",
                fillcolor=c,
                opacity=0.15,
                line={"width": 0},
                name=f"{LABELS.get(v, v)}: 10th-90th pct of funds",
                legendgroup=v,
            )
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=mid["mean"].tolist(),
                name=f"{LABELS.get(v, v)}: median fund",
                line={"color": c},
                legendgroup=v,
            )
        )
    return shade_shock(fig, shock)


def sim_segments(ts, variants, variable, title, unit, scale=1.0, shock=None, empty_msg=None) -> go.Figure:
    """Per repo segment (bilateral, tri-party): one panel each, the worlds as colours."""
    if _all_zero(ts, [variable]):
        return empty(title, empty_msg or f"{variable}: zero in both repo segments throughout this run.")
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=["bilateral repo", "tri-party repo"], shared_yaxes=True
    )
    for j, seg in enumerate(("bilateral", "triparty")):
        for v in variants:
            _line(
                fig,
                series(ts, v, variable, seg),
                LABELS.get(v, v),
                COLORS.get(v, "#555"),
                scale,
                row=1,
                col=j + 1,
                show=j == 0,
                group=v,
            )
    fig.update_yaxes(title_text=unit, col=1)
    fig.update_xaxes(title_text="business day")
    _layout(fig, title, 380)
    return shade_shock(fig, shock, label=False)


def sim_figures(stored, keys=None) -> dict[str, go.Figure]:
    """Charts of a stored run (``basislab.sim.store.StoredRun``) by key, in reading order;
    ``keys`` limits them to those named (default: all)."""
    ts, variants = stored.timeseries, list(stored.metrics)
    shock = (stored.scenario or {}).get("shock")
    makers = {
        "morning_vs_eod": lambda: sim_morning_vs_eod(ts, variants, shock),
        "cash": lambda: sim_lines(
            ts,
            variants,
            [
                ("fund_cash", "funds' cash buffer", None, 1.0),
                ("cash_gap_morning", "morning shortfall", "dot", 1.0),
            ],
            "Funds' cash buffer and the morning shortfall (USD bn)",
            "USD bn",
            shock,
            band=False,
        ),
        "prices": lambda: sim_prices(ts, variants, shock),
        "basis": lambda: sim_basis(ts, variants, shock),
        "forced_sales": lambda: sim_forced_sales(ts, variants, shock),
        "who_to_whom": lambda: sim_who_sold_to_whom(ts, variants),
        "haircut": lambda: sim_segments(
            ts, variants, "haircut", "Repo haircuts by segment (%)", "haircut, %", 100.0, shock
        ),
        "refusal": lambda: sim_segments(
            ts,
            variants,
            "repo_refusal",
            "Repo refusal: share of repo not rolled (%)",
            "% of repo not rolled",
            100.0,
            shock,
            "Repo lenders rolled every loan in this run (refusal zero throughout).",
        ),
        "initial_margin": lambda: sim_lines(
            ts,
            variants,
            [("fund_im", "funds' initial margin", None, 1.0)],
            "Initial margin posted by funds at the clearing house (USD bn)",
            "USD bn",
            shock,
        ),
        "leverage": lambda: sim_fan(
            ts,
            variants,
            "leverage_q",
            "Leverage across funds (gross position / equity)",
            "gross position / equity",
            shock,
        ),
        "equity": lambda: sim_fan(
            ts,
            variants,
            "equity_ratio_q",
            "Equity across funds relative to the start",
            "equity / initial equity",
            shock,
        ),
        "funds_alive": lambda: sim_lines(
            ts,
            variants,
            [("funds_alive", "funds operating", None, 1.0)],
            "Funds still operating",
            "number of funds",
            shock,
        ),
        "backstop": lambda: sim_lines(
            ts,
            variants,
            [("backstop_outstanding", "backstop loans", None, 1.0)],
            "Backstop loans outstanding (USD bn)",
            "USD bn",
            shock,
            empty_msg="No backstop lending in this run (no backstop, or nobody drew on it).",
        ),
        "losses": lambda: sim_segments(
            ts,
            variants,
            "lender_losses",
            "Repo lenders' cumulative losses (USD bn)",
            "USD bn",
            1.0,
            shock,
            "Repo lenders lost nothing in this run.",
        ),
        "ccp_losses": lambda: sim_lines(
            ts,
            variants,
            [("ccp_losses", "clearing-house losses", None, 1.0)],
            "Clearing-house cumulative losses (USD bn)",
            "USD bn",
            shock,
            empty_msg="The clearing house lost nothing in this run.",
        ),
        "sofr_iorb": lambda: sim_lines(
            ts,
            variants,
            [("sofr_minus_iorb_bp", "SOFR - IORB", None, 1.0)],
            "The funding market: SOFR minus IORB (bp)",
            "bp",
            shock,
            empty_msg="This run has no funding-market output (a run stored before issue 10).",
        ),
        "fed_repo": lambda: sim_lines(
            ts,
            variants,
            [
                ("srf_takeup_usd_bn", "SRF and repo operations (the run's)", None, 1.0),
                ("fed_repo_outstanding", "all Fed repo (with the as-happened input)", "dot", 1.0),
            ],
            "The Fed's repo lending: Standing Repo Facility and repo operations (USD bn)",
            "USD bn",
            shock,
            empty_msg="Nobody borrowed from the Fed's repo facilities in this run.",
        ),
        "implied_repo": lambda: bucket_panels(
            ts,
            variants,
            "implied_repo_minus_sofr_bp",
            "Futures implied repo rate minus SOFR, each bucket's CTD (bp)",
            "bp",
            shock=shock,
        ),
        "dealers": lambda: sim_lines(
            ts,
            variants,
            [("dealer_slr_utilisation", "largest dealer's SLR utilisation", None, 100.0)],
            "Dealers' balance sheets: leverage exposure as % of SLR capacity (largest dealer)",
            "% of capacity (85%: impact rises)",
            shock,
            empty_msg="This run has no dealer output (a run stored before issue 10).",
        ),
        "dealer_inventory": lambda: sim_lines(
            ts,
            variants,
            [("dealer_inventory", "dealers' inventory bought in the run", None, 1.0)],
            "Treasuries dealers absorbed and have not yet laid off (USD bn at market)",
            "USD bn",
            shock,
            empty_msg="Dealers bought nothing in this run.",
        ),
        "fed_balance_sheet": lambda: sim_lines(
            ts,
            variants,
            [("fed_balance_sheet", "Fed balance-sheet expansion (purchases, LOLR, repo)", None, 1.0)],
            "The Fed's balance-sheet expansion in the run (USD bn)",
            "USD bn",
            shock,
            empty_msg="The Fed did not expand its balance sheet in this run.",
        ),
        "other_sellers": lambda: bucket_panels(
            ts,
            variants,
            "sold_other_sellers",
            "Sales by foreign investors and bond mutual funds (USD bn a day)",
            "USD bn",
            shock=shock,
        ),
    }
    return {k: make() for k, make in makers.items() if keys is None or k in keys}


# ------------------------------------------------------------------------------------------------
# analytics charts (DLV screen, trade)


def implied_repo_spread(table: pd.DataFrame, repo_pct: float, repo_label: str = "repo") -> go.Figure:
    """Implied repo minus the financing rate, bp, for each deliverable (CTD highlighted)."""
    title = f"Implied repo minus {repo_label} ({repo_pct:.2f}%), bp"
    if table is None or table.empty:
        return empty(title, "No deliverable bonds to show.")
    t = table.sort_values("rank")
    spread = (t["implied_repo_pct"] - repo_pct) * 100
    labels = [
        f"{c} {cp:.3f} {pd.Timestamp(m):%m/%y}"
        for c, cp, m in zip(t["cusip"], t["coupon_pct"], t["maturity"])
    ]
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=spread.tolist(),
            marker_color=["#2ca02c" if c else "#1f4e79" for c in t["is_ctd"]],
            hovertemplate="%{x}: %{y:.1f} bp<extra></extra>",
        )
    )
    fig.update_yaxes(title_text="implied repo - repo, bp")
    fig.update_xaxes(title_text="deliverable bond (CTD in green)")
    return _layout(fig, title, 380)


def ctd_switch_chart(switch: pd.DataFrame) -> go.Figure:
    """Which bond is CTD under each yield scenario (from ``analytics.screen.ctd_switches``)."""
    title = "Cheapest to deliver under yield shifts and twists"
    if switch is None or switch.empty:
        return empty(title, "No scenarios to show.")
    fig = go.Figure(
        go.Bar(
            x=switch["scenario"].tolist(),
            y=switch["implied_repo_pct"].tolist(),
            text=switch["ctd_cusip"].tolist(),
            textposition="outside",
            marker_color=["#c0392b" if s else "#1f4e79" for s in switch["switch"]],
            hovertemplate="%{x}: CTD %{text}, implied repo %{y:.3f}%<extra></extra>",
        )
    )
    fig.update_yaxes(title_text="implied repo of the CTD, %")
    fig.update_xaxes(title_text="yield scenario (red: the CTD switches)")
    return _layout(fig, title, 380)


def repledging_chart(loop: pd.DataFrame) -> go.Figure:
    """Leverage built round by round by re-pledging bonds in repo."""
    title = "The leverage loop: re-pledging bonds in repo, round by round"
    if loop is None or loop.empty:
        return empty(title, "No rounds to show.")
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=loop["round"], y=loop["bonds_bought"], name="bonds bought in the round", marker_color="#1f4e79"
        )
    )
    fig.add_trace(
        go.Scatter(
            x=loop["round"],
            y=loop["leverage"],
            name="cumulative leverage",
            yaxis="y2",
            line={"color": "#c0392b"},
        )
    )
    lim = loop.attrs.get("leverage_limit", float("inf"))
    fig.update_layout(
        yaxis={"title": {"text": "bonds bought per $1 of equity"}},
        yaxis2={
            "title": {
                "text": f"leverage, x (limit {lim:,.1f}x)"
                if np.isfinite(lim)
                else "leverage, x (no limit: zero haircut and margin)"
            },
            "overlaying": "y",
            "side": "right",
        },
        xaxis={"title": {"text": "round"}},
    )
    return _layout(fig, title, 380)


def stress_chart(stress: pd.DataFrame) -> go.Figure:
    """Cash needed for each one-day move: morning calls (repo, haircut, IM) stacked against the
    end-of-day variation margin (negative: received), USD millions."""
    title = "Cash needed today: morning calls vs end-of-day variation margin (USD m)"
    if stress is None or stress.empty:
        return empty(title, "No stress moves to show.")
    fig = go.Figure()
    for col, lab, color in (
        ("repo_margin_call", "repo margin call (morning)", "#c0392b"),
        ("haircut_call", "haircut call (morning)", "#e377c2"),
        ("im_call", "initial-margin call (morning)", "#ff7f0e"),
    ):
        fig.add_trace(
            go.Bar(x=stress["move"], y=stress[col] / 1e6, name=lab, marker_color=color, offsetgroup="morning")
        )
    fig.add_trace(
        go.Bar(
            x=stress["move"],
            y=stress["vm"] / 1e6,
            name="variation margin (end of day; < 0 received)",
            marker_color="#1f77b4",
            offsetgroup="eod",
        )
    )
    fig.update_layout(barmode="relative")
    fig.update_yaxes(title_text="USD m")
    fig.update_xaxes(title_text="one-day move")
    return _layout(fig, title, 420)


def table_html(df: pd.DataFrame, float_format: str = "{:,.2f}") -> str:
    """A plain HTML table of a small frame (numbers formatted, text escaped)."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    rows = []
    for r in df.itertuples(index=False):
        cells = "".join(
            f"<td>{float_format.format(v) if isinstance(v, float | np.floating) else html.escape(str(v))}</td>"
            for v in r
        )
        rows.append(f"<tr>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"
