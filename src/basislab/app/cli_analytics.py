"""CLI commands of the analytics layer (``basis``, ``cf``), registered by :func:`register`."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pandas as pd
import typer
from rich.table import Table

from basislab.app.common import console, parse_date, read_price_file
from basislab.errors import PriceDataError

BUNDLED_DATE = date(2024, 6, 26)


def price_32(x: float) -> str:
    """A price in points and 32nds, CME style: 110.0625 -> ``110-02``; a third digit gives eighths
    of a 32nd truncated to tenths (``101-262`` = 101 26.25/32, ``126-165`` = 126 16.5/32, as in
    CME's Treasury price quotation); prices off the 1/256 grid show decimals (``99-16.40``)."""
    whole = math.floor(x)
    n32 = round((x - whole) * 32, 6)
    if n32 >= 32:
        whole, n32 = whole + 1, n32 - 32
    ticks, frac = int(n32), n32 - int(n32)
    if frac == 0:
        return f"{whole}-{ticks:02d}"
    if frac * 8 == int(frac * 8):
        return f"{whole}-{ticks:02d}{int(frac * 10)}"
    return f"{whole}-{n32:05.2f}"


def _json_value(v):
    if isinstance(v, (date, pd.Timestamp)):
        return v.isoformat()[:10]
    if hasattr(v, "item"):
        return v.item()
    return v


def basis(
    code: str = typer.Argument(
        ...,
        help="Contract code: root (TU, Z3N, FV, TY, TN, US, UB) + "
        "month (H, M, U, Z) + year, e.g. TYU4 or TYU24.",
    ),
    on: str = typer.Option(
        BUNDLED_DATE.isoformat(),
        "--date",
        help="Trade date (YYYY-MM-DD); also resolves the decade of a one-digit year code.",
    ),
    repo: float | None = typer.Option(
        None,
        "--repo",
        help="Term repo rate in percent (Act/360) to delivery. Default: SOFR on the trade date.",
    ),
    prices: Path | None = typer.Option(
        None,
        "--prices",
        help="Your bond prices (CSV: cusip, "
        "coupon_pct, maturity, clean_price[, issue_date]) or a "
        "FedInvest price list. Default: bundled 2024-06-26 list.",
    ),
    futures_price: float | None = typer.Option(
        None,
        "--futures-price",
        help="Futures price in decimal points (110.0625 = 110-02). Default: bundled CME close.",
    ),
    settlement: str | None = typer.Option(
        None, "--settlement", help="Cash settlement date. Default: T+1 on the US government-bond calendar."
    ),
    delivery: str | None = typer.Option(
        None, "--delivery", help="Delivery date. Default: the last delivery day of the contract."
    ),
    filter_basket: bool = typer.Option(
        False,
        "--filter-basket",
        help="Drop bonds of --prices outside the deliverable basket instead of failing.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the table as JSON instead."),
    wide: bool = typer.Option(
        False, "--wide", help="Every column (carry, DV01, duration, hedge ratio, invoice); default fits 100."
    ),
) -> None:
    """DLV table of a Treasury futures contract: basis, carry, implied repo, CTD, and the CTD
    under yield shifts and twists.

    Basis and carry in 32nds; yield and implied repo in percent; IRR-repo in bp; DV01 per 100 face.

    The cheapest to deliver (highest implied repo) is marked CTD. The compact default fits a
    100-column terminal; --wide shows every column.

    Example: basislab basis TYU4 --date 2024-06-26
    """
    from basislab.analytics import dlv, futures_dv01
    from basislab.analytics.market import market_inputs
    from basislab.analytics.screen import ctd_switches

    day = parse_date(on, "trade date")
    m = market_inputs(
        code,
        day,
        bonds=None if prices is None else read_price_file(prices),
        futures_price=futures_price,
        settlement=parse_date(settlement, "settlement date"),
        repo_pct=repo,
        filter_basket=filter_basket,
    )
    c, bonds, fut, settle, rate, source = (
        m.contract,
        m.bonds,
        m.futures_price,
        m.settlement,
        m.repo_pct,
        m.repo_source,
    )
    table = dlv(c.root, c.delivery_month, fut, bonds, settle, rate, parse_date(delivery, "delivery"))
    meta = {
        "contract": c.code,
        "name": c.spec.name,
        "delivery_month": c.delivery_month,
        "trade_date": day.isoformat(),
        "futures_price": fut,
        "settlement": settle.isoformat(),
        "delivery": table.attrs["delivery"].isoformat(),
        "repo_pct": rate,
        "repo_source": source,
        "last_trading_day": c.last_trading_day.isoformat(),
        "ctd": table.loc[table["is_ctd"], "cusip"].iloc[0],
        "futures_dv01": futures_dv01(table),
    }
    switches = ctd_switches(table)
    if as_json:
        from basislab.jsonio import dumps

        rows = [{k: _json_value(v) for k, v in r.items()} for r in table.to_dict("records")]
        sw = [{k: _json_value(v) for k, v in r.items()} for r in switches.to_dict("records")]
        typer.echo(dumps({**meta, "bonds": rows, "ctd_switches": sw}))
        return
    con = console()
    print_dlv(c, table, meta, con, wide=wide)
    print_switches(switches, con)


def _maturity(x, wide: bool) -> str:
    d = pd.Timestamp(x)
    return d.date().isoformat() if wide else f"{d:%m/%d/%y}"


def print_dlv(c, table: pd.DataFrame, meta: dict, con, wide: bool = False) -> None:
    """Print the DLV table on Rich console ``con``: compact (fits 100 columns: CUSIP, coupon,
    maturity, price in 32nds, yield, CF, gross and net basis in 32nds, implied repo, implied repo
    minus repo in bp) or ``wide`` (adds carry, DV01, modified duration, DV01 hedge ratio = bond
    DV01 / futures DV01, and the invoice price)."""
    from rich import box

    ctd_row = table.loc[table["is_ctd"]].iloc[0]
    spread = (ctd_row["implied_repo_pct"] - meta["repo_pct"]) * 100
    t = Table(
        title=f"{c.code} {c.spec.name} {c.delivery_month}  futures {price_32(meta['futures_price'])}"
        f" ({meta['futures_price']})",
        caption=(
            f"trade {meta['trade_date']}, settle {meta['settlement']}, delivery "
            f"{meta['delivery']}, repo {meta['repo_pct']:.2f}% ({meta['repo_source']}); "
            f"CTD implied repo - repo {spread:+.1f}bp; basis and carry in 32nds; IRR-repo in bp; "
            f"futures DV01 via CTD {meta['futures_dv01']:.4f}"
        ),
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    cols = ["", "CUSIP", "cpn", "maturity", "price", "yield", "CF", "gross", "net", "IRR %", "IRR-repo"]
    if wide:
        cols[8:8] = ["carry"]
        cols += ["DV01", "dur", "hedge", "invoice"]
    for col in cols:
        t.add_column(col, justify="left" if col in ("", "CUSIP") else "right", no_wrap=True)
    fut_dv01 = float(meta["futures_dv01"])
    for r in table.itertuples():
        row = [
            "CTD" if r.is_ctd else str(r.rank),
            r.cusip,
            f"{r.coupon_pct:.3f}",
            _maturity(r.maturity, wide),
            price_32(r.clean_price),
            f"{r.yield_pct:.3f}",
            f"{r.conversion_factor:.4f}",
            f"{r.gross_basis_32:.2f}",
            f"{r.net_basis_32:.2f}",
            f"{r.implied_repo_pct:.3f}",
            f"{(r.implied_repo_pct - meta['repo_pct']) * 100:+.0f}",
        ]
        if wide:
            row[8:8] = [f"{r.carry * 32:.2f}"]
            row += [
                f"{r.dv01:.4f}",
                f"{r.dv01 / r.dirty_price * 1e4:.2f}",
                f"{r.dv01 / fut_dv01:.3f}",
                f"{r.invoice_price:.4f}",
            ]
        t.add_row(*row, style="bold green" if r.is_ctd else None)
    con.print(t)


def print_switches(switches: pd.DataFrame, con) -> None:
    """Print the CTD-switch table (:func:`basislab.analytics.screen.ctd_switches`)."""
    from rich import box

    t = Table(
        title="CTD under yield shifts and twists (delivery option value held constant)",
        caption="twist: the longest deliverable's yield moves half the twist, the shortest's the "
        "other half the other way; red: the CTD switches",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    for col in ("scenario", "futures", "CTD", "cpn", "maturity", "IRR %", "net", "dur", ""):
        t.add_column(col, justify="left" if col in ("scenario", "CTD", "") else "right", no_wrap=True)
    for r in switches.itertuples():
        t.add_row(
            r.scenario,
            price_32(r.futures_price),
            r.ctd_cusip,
            f"{r.ctd_coupon_pct:.3f}",
            _maturity(r.ctd_maturity, False),
            f"{r.implied_repo_pct:.3f}",
            f"{r.net_basis_32:.2f}",
            f"{r.ctd_duration:.2f}",
            "switch" if r.switch else "",
            style="red" if r.switch else None,
        )
    con.print(t)


def cf(
    root_or_code: str = typer.Argument(
        ...,
        help="Futures root (TU, Z3N, FV, TY, TN, US, UB), or "
        "a contract code such as TYU4 to list its bundled basket.",
    ),
    coupon: float | None = typer.Argument(None, help="Coupon in percent, e.g. 4.625."),
    maturity: str | None = typer.Argument(None, help="Maturity date, YYYY-MM-DD."),
    month: str | None = typer.Argument(None, help="Delivery month, YYYY-MM."),
    on: str = typer.Option(
        BUNDLED_DATE.isoformat(), "--date", help="As-of date resolving a contract code's decade."
    ),
) -> None:
    """CME conversion factor of a note or bond, or the factors of a contract's basket.

    One bond: basislab cf TY 4.625 2031-04-30 2024-09

    A contract's bundled basket: basislab cf TYU4
    """
    from basislab.analytics import conversion_factor, deliverable_basket, parse_contract

    if coupon is None:
        c = parse_contract(root_or_code, as_of=parse_date(on, "as-of date"))
        basket = deliverable_basket(c.root, c.delivery_month)
        t = Table(title=f"{c.code} conversion factors ({c.delivery_month}, bundled basket)")
        for col in ("CUSIP", "coupon", "maturity", "CF"):
            t.add_column(col, justify="left" if col == "CUSIP" else "right")
        for r in basket.itertuples():
            t.add_row(
                r.cusip,
                f"{r.coupon_pct:.3f}",
                str(r.maturity),
                f"{conversion_factor(c.root, r.coupon_pct, r.maturity, c.delivery_month):.4f}",
            )
        console().print(t)
        return
    if maturity is None or month is None:
        raise PriceDataError(
            "cf needs ROOT COUPON MATURITY MONTH, e.g. 'basislab cf TY 4.625 "
            "2031-04-30 2024-09', or a contract code alone, e.g. 'basislab cf TYU4'"
        )
    mat = parse_date(maturity, "maturity")
    typer.echo(f"{conversion_factor(root_or_code, coupon, mat, month):.4f}")


def register(app: typer.Typer) -> None:
    """Add this layer's commands (``basis``, ``cf``) to the main ``basislab`` app."""
    app.command("basis")(basis)
    app.command("cf")(cf)
