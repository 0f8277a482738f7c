"""Pages over the analytics: Basis (the DLV screen with CTD switches and implied repo minus
SOFR) and Trade (the basis-trade position, its leverage loop and its cash-need stress)."""

from __future__ import annotations

import base64
import datetime as dt
import io
import re

import pandas as pd
from dash import dcc, html

from basislab.app.cli_analytics import price_32
from basislab.dashboard.ui import Context, graph, table, tile
from basislab.errors import PriceDataError
from basislab.report import charts

DEFAULT_DATE = "2024-06-26"
_CODE = re.compile(r"^[A-Za-z0-9]{3,6}$")


def _code(text) -> str:
    code = (text or "").strip().upper()
    if not _CODE.match(code):
        raise PriceDataError(f"contract code {text!r} is not valid; expected e.g. TYU4")
    return code


def _date(text) -> dt.date:
    try:
        return dt.date.fromisoformat((text or "").strip())
    except ValueError:
        raise PriceDataError(f"date {text!r} is not a date; expected YYYY-MM-DD") from None


def _number(v, what: str) -> float | None:
    if v is None or v == "":
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise PriceDataError(f"{what} {v!r} is not a number") from None
    if x != x or x in (float("inf"), float("-inf")):
        raise PriceDataError(f"{what} {v!r} is not a finite number")
    return x


def parse_upload(contents: str | None, filename: str | None, max_bytes: int) -> pd.DataFrame | None:
    """A price file uploaded from the browser, parsed in memory (never written to disk): a CSV of
    ``cusip, coupon_pct, maturity, clean_price[, issue_date]`` or a FedInvest price list
    (``cusip, security_type, rate, maturity_date, buy, sell``)."""
    if not contents:
        return None
    try:
        _, b64 = contents.split(",", 1)
        raw = base64.b64decode(b64, validate=True)
    except (ValueError, TypeError):
        raise PriceDataError(f"upload {filename!r} is not readable; expected a CSV file") from None
    if len(raw) > max_bytes:
        raise PriceDataError(f"upload {filename!r} is {len(raw):,} bytes; the limit is {max_bytes:,}")
    try:
        df = pd.read_csv(io.BytesIO(raw), dtype={"cusip": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [""])[0]
        raise PriceDataError(f"upload {filename!r} is not a readable CSV ({first})") from None
    df.columns = [str(c).strip().lower() for c in df.columns]
    if {"rate", "maturity_date", "sell"} <= set(df.columns) and "clean_price" not in df:
        from basislab.analytics.securities import KINDS

        buy = pd.to_numeric(df.get("buy", 0), errors="coerce").fillna(0)
        sell = pd.to_numeric(df["sell"], errors="coerce")
        out = {
            "cusip": df["cusip"],
            "coupon_pct": pd.to_numeric(df["rate"], errors="coerce") * 100,
            "maturity": df["maturity_date"],
            "clean_price": sell.where(buy <= 0, (buy + sell) / 2),
        }
        if "security_type" in df:
            out["kind"] = df["security_type"].astype(str).str.strip().map(KINDS)
        df = pd.DataFrame(out)
    missing = {"cusip", "coupon_pct", "maturity", "clean_price"} - set(df.columns)
    if missing:
        raise PriceDataError(
            f"upload {filename!r} lacks columns {', '.join(sorted(missing))}; expected "
            "cusip,coupon_pct,maturity,clean_price[,issue_date] or a FedInvest price list"
        )
    if df.empty:
        raise PriceDataError(f"upload {filename!r} has a header but no rows")
    return df


DLV_NAMES = {
    "rank": "#",
    "cusip": "CUSIP",
    "coupon_pct": "cpn",
    "maturity": "maturity",
    "clean_price": "price",
    "yield_pct": "yield %",
    "conversion_factor": "CF",
    "gross_basis_32": "gross",
    "carry": "carry",
    "net_basis_32": "net",
    "implied_repo_pct": "IRR %",
    "dv01": "DV01",
    "irr_minus_repo_bp": "IRR-repo bp",
    "hedge_ratio": "hedge",
}
DLV_FORMATS = {
    "cpn": "{:.3f}",
    "price": price_32,
    "yield %": "{:.3f}",
    "CF": "{:.4f}",
    "IRR %": "{:.3f}",
    "DV01": "{:.4f}",
    "IRR-repo bp": "{:+.1f}",
    "hedge": "{:.3f}",
}
SWITCH_NAMES = {
    "parallel_bp": "shift bp",
    "twist_bp": "twist bp",
    "futures_price": "futures",
    "ctd_cusip": "CTD",
    "ctd_coupon_pct": "cpn",
    "ctd_maturity": "maturity",
    "implied_repo_pct": "IRR %",
    "net_basis_32": "net",
    "ctd_duration": "duration",
}
SWITCH_FORMATS = {
    "shift bp": "{:+.0f}",
    "twist bp": "{:+.0f}",
    "futures": price_32,
    "cpn": "{:.3f}",
    "IRR %": "{:.3f}",
    "net": "{:.2f}",
    "duration": "{:.2f}",
}


def _field(label, component) -> html.Div:
    return html.Div([html.Label(label), component], className="field")


def basis_layout(ctx: Context):
    return html.Div(
        [
            html.H2("Basis: the DLV screen"),
            html.P(
                "Any contract and trade date with prices: the bundled CME closes and FedInvest prices of "
                f"{DEFAULT_DATE}, or your own bond prices (CSV upload, parsed in memory) with a futures price. "
                "Basis in 32nds (gross = price - CF x futures); implied repo in %; repo defaults to SOFR."
            ),
            html.Div(
                [
                    _field("contract", dcc.Input(id="basis-code", value="TYU4", type="text", debounce=True)),
                    _field(
                        "trade date",
                        dcc.Input(id="basis-date", value=DEFAULT_DATE, type="text", debounce=True),
                    ),
                    _field(
                        "futures price", dcc.Input(id="basis-fut", type="number", placeholder="bundled close")
                    ),
                    _field("repo %", dcc.Input(id="basis-repo", type="number", placeholder="SOFR")),
                    _field(
                        "bond prices",
                        dcc.Upload(
                            html.Div("drop or pick a CSV"),
                            id="basis-upload",
                            className="upload",
                            multiple=False,
                        ),
                    ),
                    html.Button("Show", id="basis-go", n_clicks=0),
                ],
                className="form",
            ),
            dcc.Loading(html.Div(id="basis-out")),
        ]
    )


def basis_view(ctx: Context, code, date, fut, repo, contents, filename):
    """The DLV table, the CTD-switch table and the implied-repo chart for the form's inputs."""
    from basislab.analytics import dlv, futures_dv01
    from basislab.analytics.market import market_inputs
    from basislab.analytics.screen import ctd_switches

    bonds = parse_upload(contents, filename, ctx.limits.max_upload_bytes)
    m = market_inputs(
        _code(code),
        _date(date),
        bonds=bonds,
        futures_price=_number(fut, "futures price"),
        repo_pct=_number(repo, "repo rate"),
        filter_basket=bonds is not None,
    )
    c = m.contract
    t = dlv(c.root, c.delivery_month, m.futures_price, m.bonds, m.settlement, m.repo_pct)
    sw = ctd_switches(t)
    ctd = t.loc[t["is_ctd"]].iloc[0]
    spread = (ctd["implied_repo_pct"] - m.repo_pct) * 100
    view = t[
        [
            "rank",
            "is_ctd",
            "cusip",
            "coupon_pct",
            "maturity",
            "clean_price",
            "yield_pct",
            "conversion_factor",
            "gross_basis_32",
            "carry",
            "net_basis_32",
            "implied_repo_pct",
            "dv01",
        ]
    ].copy()
    view["carry"] = view["carry"] * 32
    view["irr_minus_repo_bp"] = (view["implied_repo_pct"] - m.repo_pct) * 100
    view["hedge_ratio"] = view["dv01"] / futures_dv01(t)
    tiles = html.Div(
        [
            tile("futures", f"{price_32(m.futures_price)}", f"{m.futures_price:.4f}"),
            tile("CTD", str(ctd["cusip"]), f"{ctd['coupon_pct']:.3f} {pd.Timestamp(ctd['maturity']).date()}"),
            tile(
                "CTD implied repo",
                f"{ctd['implied_repo_pct']:.3f}%",
                f"repo {m.repo_pct:.2f}% ({m.repo_source})",
            ),
            tile("implied repo - repo", f"{spread:+.1f} bp", "CTD", "alert" if spread > 0 else ""),
            tile("futures DV01", f"{futures_dv01(t):.4f}", "per 100 face, via the CTD"),
        ],
        className="tiles",
    )
    return html.Div(
        [
            html.H3(
                f"{c.code} {c.spec.name} {c.delivery_month}: delivery {t.attrs['delivery']}, settle {m.settlement}"
            ),
            tiles,
            table(
                view.drop(columns=["is_ctd"]).rename(columns=DLV_NAMES),
                DLV_FORMATS,
                list(view["is_ctd"]),
                tid="dlv-table",
            ),
            html.P(
                "Basis and carry in 32nds; IRR = implied repo; hedge = bond DV01 / futures DV01 (futures face "
                "per bond face).",
                className="note",
            ),
            html.H3("CTD under yield shifts and twists"),
            html.P(
                "Each bond repriced at its yield plus the shift; the futures price follows the cheapest "
                "converted forward (delivery option value held constant). Steepen 25bp: the longest "
                "deliverable +12.5bp, the shortest -12.5bp.",
                className="note",
            ),
            table(
                sw.drop(columns=["switch"]).rename(columns=SWITCH_NAMES),
                SWITCH_FORMATS,
                list(sw["switch"]),
                tid="switch-table",
            ),
            graph(charts.ctd_switch_chart(sw)),
            graph(
                charts.implied_repo_spread(
                    t, m.repo_pct, "SOFR" if m.repo_source.startswith("SOFR") else "repo"
                )
            ),
        ]
    )


def trade_layout(ctx: Context):
    return html.Div(
        [
            html.H2("Trade: the basis trade as a position"),
            html.P(
                f"Long the CTD in repo, short futures (bundled prices of {DEFAULT_DATE}). Equity = haircut + "
                "initial margin; the re-pledging loop shows how leverage builds; the stress shows cash "
                "needed in the morning (repo, haircut and margin calls) against the end-of-day variation margin."
            ),
            html.Div(
                [
                    _field("contract", dcc.Input(id="trade-code", value="TYU4", type="text", debounce=True)),
                    _field(
                        "notional, USD m face",
                        dcc.Input(id="trade-notional", value=100, type="number", min=0),
                    ),
                    _field(
                        "haircut %", dcc.Input(id="trade-haircut", value=0.0, type="number", min=0, max=99)
                    ),
                    _field(
                        "hedge",
                        dcc.Dropdown(
                            [
                                {"label": "conversion factor", "value": "cf"},
                                {"label": "DV01", "value": "dv01"},
                            ],
                            "cf",
                            id="trade-hedge",
                            clearable=False,
                        ),
                    ),
                    _field(
                        "cash buffer, USD m",
                        dcc.Input(id="trade-buffer", type="number", placeholder="half the equity"),
                    ),
                    html.Button("Show", id="trade-go", n_clicks=0),
                ],
                className="form",
            ),
            dcc.Loading(html.Div(id="trade-out")),
        ]
    )


def trade_view(ctx: Context, code, notional_m, haircut_pct, hedge, buffer_m):
    from basislab.analytics import basis_trade

    notional = _number(notional_m, "notional")
    if notional is None or not 0 < notional <= 1e6:
        raise PriceDataError("notional must be between 0 and 1,000,000 USD m")
    h = _number(haircut_pct, "haircut") or 0.0
    if hedge not in ("cf", "dv01"):
        raise PriceDataError(f"hedge {hedge!r}; expected cf or dv01")
    buf = _number(buffer_m, "cash buffer")
    rep = basis_trade(
        _code(code), notional * 1e6, h / 100.0, hedge=hedge, cash_buffer=None if buf is None else buf * 1e6
    )
    s = rep.summary()
    m = 1e6
    lev_lim = s["leverage_limit"]
    tiles = html.Div(
        [
            tile("bond", s["cusip"], f"{s['coupon_pct']:.3f} {s['maturity']}"),
            tile("futures short", f"{s['contracts']:,.0f} contracts", s["contract"]),
            tile("equity", f"USD {s['equity'] / m:,.2f}m", "haircut + initial margin"),
            tile(
                "leverage",
                f"{s['leverage']:,.1f}x",
                f"limit {lev_lim:,.1f}x" if lev_lim != float("inf") else "no limit",
            ),
            tile("carry to delivery", f"USD {s['carry'] / m:,.3f}m"),
            tile(
                "expected P&L",
                f"USD {s['expected_pnl'] / m:,.3f}m",
                f"ROE {s['return_on_equity_pct']:.1f}% p.a.",
            ),
        ],
        className="tiles",
    )
    st = rep.stress.copy()
    show = st[
        [
            "move",
            "repo_margin_call",
            "haircut_call",
            "im_call",
            "vm",
            "cash_needed_gross",
            "cash_needed_net",
            "buffer_days_gross",
        ]
    ].copy()
    for c in show.columns[1:-1]:
        show[c] = show[c] / m
    return html.Div(
        [
            tiles,
            graph(charts.repledging_chart(rep.repledging)),
            graph(charts.stress_chart(rep.stress)),
            html.P("USD m; vm > 0 paid by the fund at the end of the day, < 0 received.", className="note"),
            table(show, {"buffer_days_gross": "{:,.0f}"}, tid="stress-table"),
        ]
    )
