"""HTML report of the basis-trade monitor: a table of indicators and charts with stress episodes marked."""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from basislab.data.catalog import EPISODES, NYFED_ATTRIBUTION
from basislab.report import charts
from basislab.report.html import Section, write


def _chart(
    title: str, series: dict[str, pd.Series | None], unit: str, start: str = "2015-01-01"
) -> go.Figure:
    return charts.time_chart(title, series, unit, start=start, episodes=EPISODES)


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


def figures(date: dt.date, indicators, start: str = "2015-01-01") -> dict[str, go.Figure]:
    """The monitor's charts (shared by the HTML report and the dashboard), by key."""
    by = {i.name: i for i in indicators}

    def h(name):
        i = by.get(name)
        return None if i is None or i.history is None else i.history.loc[: pd.Timestamp(date)]

    roots = ["TU", "FV", "TY", "TN", "US", "UB"]
    return {
        "size": _chart(
            "Basis-trade size estimate and futures positioning (USD bn)",
            {
                "estimate: net short notional": h("basis_trade_size_usd_bn"),
                "lev. funds gross short": h("total_lev_short_usd_bn"),
                "asset managers long": h("total_am_long_usd_bn"),
            },
            "USD bn",
            start,
        ),
        "lev_net_short": _chart(
            "Leveraged-fund net short notional by contract (USD bn)",
            {r: h(f"{r}_lev_net_short_usd_bn") for r in roots},
            "USD bn",
            start,
        ),
        "am_long": _chart(
            "Asset-manager long by contract (contracts)",
            {r: h(f"{r}_am_long_contracts") for r in roots},
            "contracts",
            start,
        ),
        "repo_spreads": _chart(
            "Repo spreads (bp)",
            {
                "SOFR - IORB": h("sofr_minus_iorb_bp"),
                "SOFR - top of FF range": h("sofr_minus_ff_top_bp"),
                "TGCR - top of FF range": h("tgcr_minus_ff_top_bp"),
            },
            "bp",
            start,
        ),
        "onrrp": _chart(
            "ON RRP take-up and Fed repo operations (USD bn)",
            {
                "ON RRP take-up": h("onrrp_takeup_usd_bn"),
                "Fed repo operations (SRF)": h("fed_repo_ops_usd_bn"),
            },
            "USD bn",
            start,
        ),
        "fed": _chart(
            "Reserves, Fed Treasury holdings, TGA (USD bn)",
            {
                "reserves": h("reserves_usd_bn"),
                "Fed Treasury holdings": h("fed_treasury_holdings_usd_bn"),
                "TGA": h("tga_usd_bn"),
            },
            "USD bn",
            start,
        ),
    }


def write_monitor(path: str | Path, date: dt.date, indicators, plotlyjs: str = "inline") -> Path:
    """Write the monitor for ``date`` (indicators computed ``with_history=True``) to ``path``."""
    from basislab.data.monitor import BASIS_METHOD, ZSCORE_YEARS

    figs = figures(date, indicators)
    sections = [
        Section(
            "Indicators",
            f"Level on or before {date}, change from the previous observation, z-score against "
            f"the indicator's own {ZSCORE_YEARS}-year history. Hover a name for its source.",
            tables_html=[_table(indicators)],
        ),
        Section("Basis-trade size", "Method: " + BASIS_METHOD, figures=[figs["size"]]),
        Section(
            "Leveraged-fund net short by contract",
            "Net short = short - long, in USD bn of notional. Lines break where weeks are missing "
            "in the bundled CFTC files (see `basislab data status`): nothing is drawn across a gap.",
            figures=[figs["lev_net_short"], figs["am_long"]],
        ),
        Section("Funding", NYFED_ATTRIBUTION, figures=[figs["repo_spreads"], figs["onrrp"]]),
        Section("Fed balance sheet", "", figures=[figs["fed"]]),
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
        plotlyjs=plotlyjs,
    )
