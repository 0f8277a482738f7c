"""HTML report of the basis-trade monitor: a table of indicators and charts with stress episodes marked."""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from basislab.data.catalog import EPISODES, NYFED_ATTRIBUTION
from basislab.report.html import Section, write


def _mark_episodes(fig: go.Figure) -> go.Figure:
    for ep in EPISODES:
        fig.add_vrect(
            x0=ep.start.isoformat(),
            x1=(ep.end + dt.timedelta(days=1)).isoformat(),
            fillcolor="#d62728",
            opacity=0.15,
            line_width=0,
            annotation_text=ep.label,
            annotation_position="top left",
            annotation_font_size=10,
        )
    return fig


def _chart(title: str, series: dict[str, pd.Series], unit: str, start: str = "2015-01-01") -> go.Figure:
    fig = go.Figure()
    for label, s in series.items():
        s = s.loc[start:] if s is not None else s
        if s is None or s.empty:
            continue
        fig.add_trace(
            go.Scatter(
                x=s.index,
                y=s.to_numpy(),
                mode="lines+markers" if len(s) < 600 else "lines",
                marker={"size": 3},
                name=label,
            )
        )
    fig.update_layout(
        title=title,
        yaxis_title=unit,
        height=420,
        margin={"t": 60, "l": 60, "r": 20, "b": 40},
        legend={"orientation": "h", "y": -0.15},
    )
    return _mark_episodes(fig)


def _table(inds) -> str:
    rows = [
        "<table><tr><th>indicator</th><th>date</th><th>value</th><th>unit</th><th>change</th>"
        "<th>z-score</th><th>note</th></tr>"
    ]
    for i in inds:
        fmt = "{:,.0f}" if i.unit == "contracts" else "{:,.2f}"
        val = "-" if i.value is None else fmt.format(i.value)
        chg = "-" if i.change is None else fmt.format(i.change)
        z = "-" if i.zscore is None else f"{i.zscore:+.2f}"
        note = ("stale: " if i.stale else "") + i.note
        rows.append(
            f"<tr><td title='{html.escape(i.source)}'>{html.escape(i.label)}</td><td>{i.date or '-'}</td>"
            f"<td>{val}</td><td>{i.unit}</td><td>{chg}</td><td>{z}</td><td>{html.escape(note)}</td></tr>"
        )
    rows.append("</table>")
    return "".join(rows)


def write_monitor(path: str | Path, date: dt.date, indicators) -> Path:
    """Write the monitor for ``date`` (indicators computed ``with_history=True``) to ``path``."""
    from basislab.data.monitor import BASIS_METHOD, ZSCORE_YEARS

    by = {i.name: i for i in indicators}

    def h(name):
        i = by.get(name)
        return None if i is None or i.history is None else i.history.loc[: pd.Timestamp(date)]

    roots = ["TU", "FV", "TY", "TN", "US", "UB"]
    sections = [
        Section(
            "Indicators",
            f"Level on or before {date}, change from the previous observation, z-score against "
            f"the indicator's own {ZSCORE_YEARS}-year history. Hover a name for its source.",
            tables_html=[_table(indicators)],
        ),
        Section(
            "Basis-trade size",
            "Method: " + BASIS_METHOD,
            figures=[
                _chart(
                    "Basis-trade size estimate and leveraged-fund gross shorts (USD bn)",
                    {
                        "estimate: net short notional": h("basis_trade_size_usd_bn"),
                        "lev. funds gross short": h("total_lev_short_usd_bn"),
                        "asset managers long": h("total_am_long_usd_bn"),
                    },
                    "USD bn",
                )
            ],
        ),
        Section(
            "Leveraged-fund net short by contract",
            "Net short = short - long, in USD bn of notional; gaps are "
            "weeks missing in the bundled CFTC files (see `basislab data status`).",
            figures=[
                _chart(
                    "Leveraged-fund net short notional by contract (USD bn)",
                    {r: h(f"{r}_lev_net_short_usd_bn") for r in roots},
                    "USD bn",
                ),
                _chart(
                    "Asset-manager long by contract (contracts)",
                    {r: h(f"{r}_am_long_contracts") for r in roots},
                    "contracts",
                ),
            ],
        ),
        Section(
            "Funding",
            NYFED_ATTRIBUTION,
            figures=[
                _chart(
                    "Repo spreads (bp)",
                    {
                        "SOFR - IORB": h("sofr_minus_iorb_bp"),
                        "SOFR - top of FF range": h("sofr_minus_ff_top_bp"),
                        "TGCR - top of FF range": h("tgcr_minus_ff_top_bp"),
                    },
                    "bp",
                ),
                _chart(
                    "ON RRP take-up and Fed repo operations (USD bn)",
                    {
                        "ON RRP take-up": h("onrrp_takeup_usd_bn"),
                        "Fed repo operations (SRF)": h("fed_repo_ops_usd_bn"),
                    },
                    "USD bn",
                ),
            ],
        ),
        Section(
            "Fed balance sheet",
            "",
            figures=[
                _chart(
                    "Reserves, Fed Treasury holdings, TGA (USD bn)",
                    {
                        "reserves": h("reserves_usd_bn"),
                        "Fed Treasury holdings": h("fed_treasury_holdings_usd_bn"),
                        "TGA": h("tga_usd_bn"),
                    },
                    "USD bn",
                )
            ],
        ),
        Section(
            "Episodes marked",
            "",
            text_is_html=True,
            tables_html=[
                "<ul>"
                + "".join(
                    f"<li><b>{html.escape(e.label)}</b> ({e.start} to {e.end}): {html.escape(e.note)}</li>"
                    for e in EPISODES
                )
                + "</ul>"
            ],
        ),
    ]
    return write(
        path,
        f"basislab monitor {date}",
        sections,
        subtitle="Treasury cash-futures basis trade: size and funding fragility, from public data.",
        footer=NYFED_ATTRIBUTION + " CFTC, Federal Reserve Board, US Treasury and OFR data are public.",
    )
