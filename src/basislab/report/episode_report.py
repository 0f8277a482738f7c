"""HTML report of an episode replay: the model's paths over the observed ones, the episode
window shaded (``basislab validate EPISODE --html FILE``)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from basislab.report import charts
from basislab.report.html import Section, write

MODEL, OBSERVED, WINDOW = "#1f4e79", "#c0392b", "#f4d03f"


def _shade(fig: go.Figure, window) -> go.Figure:
    fig.add_vrect(
        x0=pd.Timestamp(window[0]), x1=pd.Timestamp(window[1]), fillcolor=WINDOW, opacity=0.18,
        line_width=0, layer="below",
    )  # fmt: skip
    return fig


def _style(fig: go.Figure, title: str, height: int = 520) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0.01, "xanchor": "left"}, height=height, template="plotly_white",
        margin={"t": 80, "l": 60, "r": 20, "b": 40}, legend={"orientation": "h", "y": -0.1},
    )  # fmt: skip
    return fig


def futures_figure(er, res) -> go.Figure:
    """Per bucket: the model's futures change from the run start (mean, 5-95% band over paths)
    and the observed front-month (back-adjusted) change, percent."""
    from basislab.sim import episodes as E
    from basislab.sim.validate import observed_futures_pct

    _, fut = E.price_paths(er, res)
    pct = (fut / fut[:, :1] - 1.0) * 100.0
    x = pd.DatetimeIndex([pd.Timestamp(d) for d in E.all_dates(er)])
    keep = x <= pd.Timestamp(er.window[1])
    obs = observed_futures_pct(er)
    fig = make_subplots(rows=2, cols=2, subplot_titles=[f"{b} ({E.BUCKET_ROOT[b]})" for b in E.BUCKET_TENOR])
    for k, b in enumerate(E.BUCKET_TENOR):
        r, c = divmod(k, 2)
        lo, hi = np.percentile(pct[:, :, k], [5, 95], axis=0)
        show = k == 0
        fig.add_trace(
            go.Scatter(x=x[keep], y=hi[keep], line={"width": 0}, showlegend=False, hoverinfo="skip"),
            r + 1,
            c + 1,
        )
        fig.add_trace(
            go.Scatter(x=x[keep], y=lo[keep], fill="tonexty", line={"width": 0}, fillcolor="rgba(31,78,121,0.15)",
                       name="model 5-95%", showlegend=show, legendgroup="band"),
            r + 1, c + 1,
        )  # fmt: skip
        fig.add_trace(
            go.Scatter(x=x[keep], y=pct[:, keep, k].mean(0), name="model (mean)", line={"color": MODEL},
                       showlegend=show, legendgroup="model"),
            r + 1, c + 1,
        )  # fmt: skip
        if b in obs and obs[b].notna().any():
            o = obs[b].dropna()
            fig.add_trace(
                go.Scatter(x=o.index, y=o.values, name="observed (front month)", line={"color": OBSERVED},
                           showlegend=show, legendgroup="obs"),
                r + 1, c + 1,
            )  # fmt: skip
    _shade(fig, er.window)
    return _style(fig, "Futures price, % change from the run start: model vs observed (window shaded)", 620)


def shorts_figure(er, res) -> go.Figure:
    """Weekly change of futures shorts per bucket: the funds' in the model, leveraged funds'
    observed (CFTC), contracts."""
    from basislab.sim import episodes as E
    from basislab.sim.validate import model_short_change, observed_short_change

    ms, os_ = model_short_change(er, res), observed_short_change(er)
    fig = make_subplots(rows=2, cols=2, subplot_titles=list(E.BUCKET_TENOR))
    for k, b in enumerate(E.BUCKET_TENOR):
        r, c = divmod(k, 2)
        show = k == 0
        fig.add_trace(
            go.Bar(x=ms.index, y=ms[b], name="model", marker_color=MODEL, showlegend=show), r + 1, c + 1
        )
        ob = os_[b].dropna()
        fig.add_trace(
            go.Bar(x=ob.index, y=ob.values, name="observed", marker_color=OBSERVED, showlegend=show),
            r + 1,
            c + 1,
        )
    _shade(fig, er.window)
    fig.update_layout(barmode="group")
    return _style(fig, "Weekly change of futures shorts, contracts (CFTC Tuesdays; window shaded)", 620)


def sofr_figure(er, res) -> go.Figure:
    """SOFR minus IORB (IOER before 2021-07-29), bp: the model's funding market (mean and 5-95%
    band over paths) over the observed (FRBNY SOFR minus the day's IORB), window shaded."""
    from basislab.sim import episodes as E

    obs = er.data.observed["sofr_minus_iorb_bp"]
    spread = E.issue10_output(res, "sofr_minus_iorb")
    if obs.empty and spread is None:
        return charts.empty("SOFR - IORB, bp", "no SOFR in the store for this run")
    x = pd.DatetimeIndex([pd.Timestamp(d) for d in er.dates])
    keep = x <= pd.Timestamp(er.window[1])
    fig = go.Figure()
    if spread is not None:
        lo, hi = np.percentile(spread, [5, 95], axis=0)
        fig.add_trace(
            go.Scatter(x=x[keep], y=hi[keep], line={"width": 0}, showlegend=False, hoverinfo="skip")
        )
        fig.add_trace(
            go.Scatter(x=x[keep], y=lo[keep], fill="tonexty", line={"width": 0}, fillcolor="rgba(31,78,121,0.15)",
                       name="model 5-95%")
        )  # fmt: skip
        fig.add_trace(
            go.Scatter(x=x[keep], y=spread.mean(0)[keep], name="model (mean)", line={"color": MODEL})
        )
    else:
        fig.add_annotation(text="model: n/a (the engine has no funding market output)", x=0.01, y=0.98,
                           xref="paper", yref="paper", showarrow=False, xanchor="left")  # fmt: skip
    if not obs.empty:
        fig.add_trace(go.Scatter(x=obs.index, y=obs.values, name="observed", line={"color": OBSERVED}))
    _shade(fig, er.window)
    return _style(fig, "SOFR - IORB (IOER before 2021-07-29), bp: model vs observed (window shaded)", 420)


def implied_repo_figure(er, res) -> go.Figure:
    """The model's implied repo of each bucket's CTD minus SOFR, bp (mean over paths)."""
    from basislab.sim import episodes as E

    ir, _ = E.implied_repo_minus_sofr_bp(er, res)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a day with no value on any path stays NaN
        m = np.nanmean(ir, axis=0)
    x = pd.DatetimeIndex([pd.Timestamp(d) for d in E.all_dates(er)])
    keep = x <= pd.Timestamp(er.window[1])
    fig = go.Figure()
    for k, b in enumerate(E.BUCKET_TENOR):
        fig.add_trace(go.Scatter(x=x[keep], y=m[keep, k], name=b, line={"color": charts.PALETTE[k]}))
    _shade(fig, er.window)
    return _style(fig, "Model: implied repo of the CTD minus the model's SOFR, bp (mean over paths)", 380)


def write_episode_report(er, res, rows: list[dict], path: str | Path, plotlyjs: str = "inline") -> Path:
    """Write the report of one replay (its validation ``rows`` as a table) to ``path``."""
    table = pd.DataFrame(rows)[
        ["series", "label", "n", "rmse", "obs_rms", "model_peak", "obs_peak", "model_peak_date", "obs_peak_date",
         "timing_error", "status"]
    ]  # fmt: skip
    table = table.astype(object).where(table.notna(), "n/a")
    sections = [
        Section(
            "Validation",
            "The model's outputs next to the observed series that were not inputs. Pass/fail against the "
            "tolerances written in the preset (docs/calibration.md).",
            tables_html=[charts.table_html(table, float_format="{:,.3g}")],
        ),
        Section("Futures prices", figures=[futures_figure(er, res)]),
        Section("Positions", figures=[shorts_figure(er, res)]),
        Section("Funding", figures=[sofr_figure(er, res), implied_repo_figure(er, res)]),
    ]
    if er.warnings:
        sections.append(
            Section("Stated fallbacks", " ".join(f"({i + 1}) {w}" for i, w in enumerate(er.warnings)))
        )
    return write(
        path,
        f"Episode replay: {er.key}",
        sections,
        subtitle=f"run {er.run_start} to {er.window[1]}, window {er.window[0]}..{er.window[1]} (shaded); "
        f"{res.paths} paths, seed {res.seed}",
        plotlyjs=plotlyjs,
    )
