"""HTML report of a simulation run: the margin spiral told in charts a reader follows without the
code (prices and basis, cash needs against buffers, forced sales, defaults and losses, margins,
the funds' distribution, and the accounting audit)."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from basislab.report.html import Section, write

_COLORS = {"without_backstop": "#c0392b", "with_backstop": "#1f77b4", "run": "#1f4e79"}
_LABELS = {"without_backstop": "without backstop", "with_backstop": "with backstop", "run": "run"}
_BUCKETS = ("2y", "5y", "10y", "long")


def _series(ts: pd.DataFrame, variant: str, variable: str, label: str = "") -> pd.DataFrame:
    d = ts[(ts["variant"] == variant) & (ts["variable"] == variable) & (ts["label"].fillna("") == label)]
    return d.sort_values("step")


def _band(
    fig: go.Figure,
    d: pd.DataFrame,
    name: str,
    color: str,
    scale: float = 1.0,
    offset: float = 0.0,
    dash: str | None = None,
    band: bool = True,
) -> None:
    x = d["step"].tolist()
    if band and len(d):
        fig.add_trace(
            go.Scatter(
                x=x + x[::-1],
                y=((d["p95"] - offset) * scale).tolist() + ((d["p05"] - offset) * scale).tolist()[::-1],
                fill="toself",
                fillcolor=color,
                opacity=0.15,
                line={"width": 0},
                hoverinfo="skip",
                showlegend=False,
            )
        )
    fig.add_trace(
        go.Scatter(
            x=x, y=((d["mean"] - offset) * scale).tolist(), name=name, line={"color": color, "dash": dash}
        )
    )


def _fig(title: str, ytitle: str) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(
        title=title,
        xaxis_title="business day",
        yaxis_title=ytitle,
        height=380,
        margin={"l": 60, "r": 20, "t": 50, "b": 40},
        legend={"orientation": "h", "y": -0.2},
    )
    return fig


def _kpi_table(metrics: dict) -> str:
    keys = [
        ("fund_defaults", "funds defaulting (mean per path)"),
        ("forced_cash_sales_usd_bn", "forced cash Treasury sales, USD bn"),
        ("realised_fund_pnl_usd_bn", "funds' P&L to delivery, USD bn"),
        ("lender_losses_usd_bn", "repo lenders' losses, USD bn"),
        ("ccp_losses_usd_bn", "clearing-house losses, USD bn"),
        ("peak_initial_margin_usd_bn", "peak initial margin at the CCP, USD bn"),
        ("backstop_peak_usd_bn", "peak backstop lending, USD bn"),
        ("audit_max_residual", "largest accounting residual (relative)"),
    ]
    variants = list(metrics)
    head = "".join(f"<th>{html.escape(_LABELS.get(v, v))}</th>" for v in variants)
    rows = []
    for k, label in keys:
        cells = "".join(f"<td>{_fmt(metrics[v].get(k))}</td>" for v in variants)
        rows.append(f"<tr><td>{html.escape(label)}</td>{cells}</tr>")
    for k, label in (
        ("max_cash_price_drop_pct", "largest cash price fall, %"),
        ("max_basis_widening_bp", "largest basis widening, bp of price"),
    ):
        for b in _BUCKETS:
            cells = "".join(f"<td>{_fmt(metrics[v][k].get(b))}</td>" for v in variants)
            rows.append(f"<tr><td>{html.escape(label)} ({b})</td>{cells}</tr>")
    return f"<table><tr><th>measure</th>{head}</tr>{''.join(rows)}</table>"


def _fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 1e-3 and v != 0 else f"{v:,.2f}"
    return html.escape(str(v))


def build_sections(stored) -> list[Section]:
    ts, metrics = stored.timeseries, stored.metrics
    variants = list(metrics)
    sc = stored.scenario or {}
    secs: list[Section] = []
    secs.append(
        Section(
            "What happened",
            "Leveraged funds hold cash Treasuries financed in repo and short Treasury futures against them. "
            "The book is hedged in value, but not in cash: repo lenders re-mark collateral every morning and "
            "demand cash for any fall in price, while the gains on the short futures arrive only at the "
            "end-of-day variation-margin settlement; the clearing house raises initial margin as volatility "
            "rises, and lenders raise haircuts. A fund short of cash uses its buffer, sells bills, borrows "
            "from the backstop if there is one, sells other assets, and finally unwinds the trade - selling "
            "cash Treasuries and buying back futures - which cheapens cash against futures and widens the "
            "basis for everyone still holding it. Bands show the 5th-95th percentile across simulated paths; "
            "lines the mean. " + (f"Scenario: {sc.get('description', '')}" if sc.get("description") else ""),
            tables_html=[_kpi_table(metrics)],
        )
    )
    # prices and basis
    figs = []
    f1 = _fig("Cash Treasury prices (10y and long buckets)", "price per 100 face")
    f2 = _fig("Basis: -(cash price - CF x futures price); up = the hedged position loses", "bp of price")
    for v in variants:
        for b, dash in (("10y", None), ("long", "dot")):
            _band(
                f1,
                _series(ts, v, "cash_price", b),
                f"{_LABELS.get(v, v)} {b}",
                _COLORS.get(v, "#555"),
                dash=dash,
                band=b == "10y",
            )
            _band(
                f2,
                _series(ts, v, "gross_basis", b),
                f"{_LABELS.get(v, v)} {b}",
                _COLORS.get(v, "#555"),
                scale=-100.0,
                dash=dash,
                band=b == "10y",
            )
    figs += [f1, f2]
    secs.append(
        Section(
            "Prices and the basis",
            "The sell-off lowers cash prices; the cash dislocation and the funds' own unwinding push "
            "cash down relative to futures. The basis chart shows -(P - CF f) in bp of price: up "
            "means the hedged position loses. It returns to zero at delivery, when cash and "
            "futures must converge - the profit of those who could hold on.",
            figures=figs,
        )
    )
    # cash needs vs buffers
    f3 = _fig("Cash demanded of the funds vs what they had", "USD bn")
    for v in variants:
        c = _COLORS.get(v, "#555")
        _band(
            f3,
            _series(ts, v, "cash_need_morning"),
            f"{_LABELS.get(v, v)}: morning calls (repo + IM)",
            c,
            band=False,
        )
        _band(
            f3,
            _series(ts, v, "cash_gap_morning"),
            f"{_LABELS.get(v, v)}: shortfall after cash",
            c,
            dash="dot",
            band=False,
        )
        _band(
            f3,
            _series(ts, v, "fund_cash"),
            f"{_LABELS.get(v, v)}: funds' cash buffer",
            c,
            dash="dash",
            band=False,
        )
        _band(
            f3,
            _series(ts, v, "backstop_outstanding"),
            f"{_LABELS.get(v, v)}: backstop loans",
            c,
            dash="dashdot",
            band=False,
        )
    secs.append(
        Section(
            "Cash needs against buffers",
            "Morning repo margin calls and initial-margin increases against the funds' cash. The "
            "shortfall is what they must raise by selling - or borrow from the backstop.",
            figures=[f3],
        )
    )
    # forced sales
    f4 = go.Figure()
    f4.update_layout(
        title="Forced sales of cash Treasuries by seller, per day (mean across paths)",
        barmode="stack",
        xaxis_title="business day",
        yaxis_title="USD bn",
        height=380,
        legend={"orientation": "h", "y": -0.2},
    )
    for v in variants:
        for var, who in (
            ("sold_unwind", "funds unwinding"),
            ("sold_default", "lenders liquidating defaulters"),
        ):
            d = ts[(ts["variant"] == v) & (ts["variable"] == var)].groupby("step")["mean"].sum()
            f4.add_trace(
                go.Bar(
                    x=d.index.tolist(),
                    y=d.values.tolist(),
                    name=f"{_LABELS.get(v, v)}: {who}",
                    marker_color=_COLORS.get(v, "#555"),
                    opacity=1.0 if var == "sold_unwind" else 0.5,
                    offsetgroup=v,
                )
            )
    secs.append(
        Section(
            "Forced sales",
            "Cash Treasuries sold into the market because cash ran short: "
            "by funds unwinding and by repo lenders liquidating the collateral of funds that defaulted.",
            figures=[f4],
        )
    )
    # defaults and losses
    f5 = _fig("Funds still operating", "number of funds")
    f5b = _fig("Creditors' cumulative losses", "USD bn")
    for v in variants:
        c = _COLORS.get(v, "#555")
        _band(f5, _series(ts, v, "funds_alive"), f"{_LABELS.get(v, v)}: funds alive", c)
        for seg, dash in (("bilateral", "dot"), ("triparty", "dash")):
            _band(
                f5b,
                _series(ts, v, "lender_losses", seg),
                f"{_LABELS.get(v, v)}: {seg} repo lenders",
                c,
                dash=dash,
                band=False,
            )
        _band(f5b, _series(ts, v, "ccp_losses"), f"{_LABELS.get(v, v)}: clearing house", c, band=False)
    secs.append(
        Section(
            "Defaults and losses",
            "A fund that cannot meet a call even after selling everything - or "
            "whose equity is gone - defaults; its lenders sell the collateral and the clearing house "
            "closes out its futures, into the same stressed markets.",
            figures=[f5, f5b],
        )
    )
    # margins
    f6 = _fig("Initial margin at the clearing house and repo haircuts", "USD bn  /  haircut %")
    for v in variants:
        c = _COLORS.get(v, "#555")
        _band(f6, _series(ts, v, "fund_im"), f"{_LABELS.get(v, v)}: funds' IM (USD bn)", c)
        _band(
            f6,
            _series(ts, v, "haircut", "triparty"),
            f"{_LABELS.get(v, v)}: tri-party haircut (%)",
            c,
            scale=100,
            dash="dot",
            band=False,
        )
        _band(
            f6,
            _series(ts, v, "haircut", "bilateral"),
            f"{_LABELS.get(v, v)}: bilateral haircut (%)",
            c,
            scale=100,
            dash="dash",
            band=False,
        )
    secs.append(
        Section(
            "Margins",
            "Initial margin follows an EWMA volatility model, so it rises as the sell-off "
            "raises volatility; haircuts rise with price falls and volatility.",
            figures=[f6],
        )
    )
    # distribution
    f7 = _fig(
        "Distribution across funds: equity relative to the start (10th, 50th, 90th percentile)",
        "equity / initial",
    )
    for v in variants:
        c = _COLORS.get(v, "#555")
        for q, dash in (("p10", "dot"), ("p50", None), ("p90", "dash")):
            _band(
                f7, _series(ts, v, "equity_ratio_q", q), f"{_LABELS.get(v, v)} {q}", c, dash=dash, band=False
            )
    secs.append(Section("Funds' equity", "How the pain is spread across the fund population.", figures=[f7]))
    # audit
    au = stored.audit
    if au is not None and len(au):
        worst = au.groupby(["identity", "variant"])["max_residual"].max().unstack()
        tbl = worst.to_html(float_format=lambda x: f"{x:.2e}", border=0)
        secs.append(
            Section(
                "Accounting audit",
                "Every dollar and every bond is accounted for: the largest "
                "relative residual of each identity over all steps and paths (1e-9 = one dollar "
                "per billion of the book).",
                tables_html=[tbl],
            )
        )
    return secs


def write_report(stored, path: str | Path) -> Path:
    """Write the self-contained HTML report of a stored run to ``path``."""
    sc = stored.scenario or {}
    first = next(iter(stored.metrics.values()))
    subtitle = (
        f"run {stored.run_id} - scenario {sc.get('name', first.get('scenario'))} - {first.get('paths')} paths "
        f"x {first.get('steps')} business days - seed {first.get('seed')}"
    )
    return write(
        path,
        "basislab: the basis-trade margin spiral",
        build_sections(stored),
        subtitle=subtitle,
        footer="Generated by basislab (basislab.sim). Model and sources: docs/model.md.",
    )
