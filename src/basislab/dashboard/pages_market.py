"""Pages over the data store: Overview (monitor tiles), Positioning and funding, Methodology and
provenance."""

from __future__ import annotations

import pandas as pd
from dash import dcc, html

from basislab.dashboard import sources
from basislab.dashboard.ui import Context, graph, message, table, tile
from basislab.report import charts

#: indicators shown as tiles on the Overview, in reading order
TILES = (
    "basis_trade_size_usd_bn",
    "total_lev_short_usd_bn",
    "total_am_long_usd_bn",
    "sofr_minus_iorb_bp",
    "tgcr_minus_ff_top_bp",
    "onrrp_takeup_usd_bn",
    "fed_repo_ops_usd_bn",
    "reserves_usd_bn",
    "tga_usd_bn",
    "fed_treasury_holdings_usd_bn",
)
ROOTS = ("TU", "FV", "TY", "TN", "US", "UB")


def _tile(i) -> html.Div:
    fmt = "{:,.0f}" if i.unit == "contracts" else "{:,.1f}"
    value = "-" if i.value is None else f"{fmt.format(i.value)} {i.unit}"
    z = "" if i.zscore is None else f"z {i.zscore:+.1f}"
    chg = "" if i.change is None else f"chg {fmt.format(i.change)}"
    sub = "  ".join(x for x in (z, chg, f"as of {i.date or '-'}") if x)
    kind = "stale" if i.stale else ("alert" if i.zscore is not None and abs(i.zscore) >= 2 else "")
    label = i.label + (" (stale)" if i.stale else "")
    return tile(label, value, sub, kind, title=f"{i.source}. {i.note}".strip())


def overview_layout(ctx: Context):
    from basislab.data.monitor import BASIS_METHOD, ZSCORE_YEARS

    d, inds = sources.monitor(ctx.db)
    by = {i.name: i for i in inds}
    tiles = [_tile(by[n]) for n in TILES if n in by]
    stale = [i for i in inds if i.stale]
    latest = (
        pd.DataFrame([{"group": i.group, "date": i.date} for i in inds if i.date])
        .groupby("group")["date"]
        .max()
        .reset_index()
        .rename(columns={"date": "latest observation"})
    )
    figs = charts_for(d, inds)
    return html.Div(
        [
            html.H2(f"Overview: the basis trade on {d}"),
            html.P(
                f"Latest level of each indicator, its change and its z-score against its own {ZSCORE_YEARS}-year "
                "history; red: |z| >= 2, grey: stale (older than its cadence allows; refresh the store). "
                "Hover a tile for its source."
            ),
            html.Div(tiles, className="tiles", id="overview-tiles"),
            html.H3("Latest data dates"),
            table(latest, tid="latest-dates"),
            html.H3(f"Stale series ({len(stale)})"),
            table(
                pd.DataFrame([{"series": i.label, "latest": i.date or "-", "note": i.note} for i in stale])
                if stale
                else pd.DataFrame({"series": ["none: every series is current"]}),
            ),
            graph(figs["size"]),
            html.P("Method: " + BASIS_METHOD, className="note"),
        ]
    )


def charts_for(d, inds):
    from basislab.report.monitor_report import figures

    return figures(d, inds)


def positioning_layout(ctx: Context):
    from basislab.data.catalog import NYFED_ATTRIBUTION

    d, inds = sources.monitor(ctx.db)
    figs = charts_for(d, inds)
    return html.Div(
        [
            html.H2("Positioning and funding"),
            html.P(
                "CFTC Traders in Financial Futures (futures only), weekly. Lines break where weeks are missing "
                "in the store: nothing is drawn across a gap. Episodes shaded."
            ),
            html.Div(
                [
                    html.Label("contract"),
                    dcc.Dropdown(
                        [{"label": r, "value": r} for r in ROOTS], "TY", id="pos-contract", clearable=False
                    ),
                    html.Label("unit"),
                    dcc.RadioItems(
                        [{"label": "USD bn", "value": "usd"}, {"label": "contracts", "value": "contracts"}],
                        "usd",
                        id="pos-unit",
                        inline=True,
                    ),
                ],
                className="form",
            ),
            html.Div(id="pos-by-trader"),
            graph(figs["lev_net_short"]),
            graph(figs["am_long"]),
            html.H3("Funding"),
            html.P(NYFED_ATTRIBUTION, className="note"),
            graph(figs["repo_spreads"]),
            graph(figs["onrrp"]),
            graph(figs["fed"]),
        ]
    )


def positions_by_trader(ctx: Context, contract: str, unit: str):
    """Long and short positions of leveraged funds and asset managers in one contract."""
    from basislab.data.catalog import EPISODES

    if contract not in ROOTS:
        return message(f"unknown contract {contract!r}; pick one of {', '.join(ROOTS)}", "error")
    pos = sources.positions(ctx.db)
    p = pos[pos["contract"] == contract].copy()
    p.index = pd.to_datetime(p["report_date"])
    cols = ("lev_long", "lev_short", "am_long", "am_short")
    names = ("leveraged funds long", "leveraged funds short", "asset managers long", "asset managers short")
    suffix = "_usd_bn" if unit == "usd" else ""
    fig = charts.time_chart(
        f"{contract}: positions by trader type ({'USD bn notional' if unit == 'usd' else 'contracts'})",
        {n: p[c + suffix] if (c + suffix) in p else None for c, n in zip(cols, names)},
        "USD bn" if unit == "usd" else "contracts",
        start="2015-01-01",
        episodes=EPISODES,
    )
    return graph(fig, "pos-by-trader-graph")


def methodology_layout(ctx: Context):
    doc = sources.model_doc()
    st = sources.store_status(ctx.db)
    prov = pd.DataFrame(st["provenance"])
    cols = [
        c
        for c in ("table_name", "source", "publisher", "retrieved", "loaded_at", "rows", "licence")
        if c in prov
    ]
    return html.Div(
        [
            html.H2("Methodology and provenance"),
            html.H3("Every data source in the store, with its date"),
            html.P(f"store {st['store']} (schema v{st['schema_version']})", className="note"),
            table(prov[cols], tid="provenance-table")
            if len(prov)
            else message("the store records no provenance"),
            html.H3("Coverage"),
            table(pd.DataFrame(st["coverage"])[["table", "item", "rows", "first", "last"]].head(60)),
            html.H3("The model (docs/model.md)"),
            dcc.Markdown(doc, className="doc", id="model-doc"),
        ]
    )
