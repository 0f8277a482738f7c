"""CLI command ``basislab trade``: the basis trade as a position (legs, equity, leverage, stress)."""

from __future__ import annotations

import math
from pathlib import Path

import typer
from rich.table import Table

from basislab.app.common import console, parse_date, read_price_file


def _money(x: float) -> str:
    if not math.isfinite(x):
        return "∞"
    return f"{x / 1e6:,.3f}mm"


def _mm(x: float) -> str:
    """Dollars in millions, two decimals, for table cells headed ($mm)."""
    return f"{round(x / 1e6, 2) + 0.0:,.2f}"  # + 0.0 turns -0.00 into 0.00


def _days(x: float) -> str:
    return "∞" if not math.isfinite(x) else f"{x:,.0f}"


def trade(
    code: str = typer.Argument(..., help="Contract code, e.g. TYU4 (root + month code + year)."),
    notional: float = typer.Option(100e6, "--notional", help="Face of the cash bond bought, dollars."),
    haircut: float = typer.Option(
        0.0,
        "--haircut",
        help="Repo haircut in percent (0 = the common bilateral zero haircut; tri-party median is 2).",
    ),
    hedge: str = typer.Option(
        "cf",
        "--hedge",
        help="Hedge ratio: 'cf' (face x CF / contract face) or 'dv01' (bond DV01 / futures DV01).",
    ),
    on: str = typer.Option(
        "2024-06-26", "--date", help="Trade date (YYYY-MM-DD); the bundled prices are for 2024-06-26."
    ),
    repo: float | None = typer.Option(
        None, "--repo", help="Repo rate in percent, Act/360. Default: SOFR on the trade date."
    ),
    prices: Path | None = typer.Option(
        None, "--prices", help="Your bond prices CSV (as for 'basislab basis'); requires --futures-price."
    ),
    futures_price: float | None = typer.Option(
        None, "--futures-price", help="Futures price (decimal). Default: bundled CME close."
    ),
    cusip: str | None = typer.Option(None, "--cusip", help="Bond to buy. Default: the CTD."),
    im: float | None = typer.Option(
        None,
        "--im",
        help="Initial margin per contract, dollars. "
        "Default: CME level (TU $810, TY $1,755; others scaled by DV01).",
    ),
    buffer: float | None = typer.Option(
        None,
        "--cash-buffer",
        help="Spare cash beyond the equity posted, dollars. Default: half the equity needed.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """The basis trade as a position: long the CTD in repo, short the futures.

    Shows the legs, the equity needed and the leverage (the re-pledging loop: each dollar of
    equity buys bonds that are pledged to borrow the next dollar until the haircut and the
    futures margin stop it), carry and expected P&L to delivery, and a stress table: the cash
    needed today for moves in yield, basis, haircut and initial margin, before and after the
    day's variation margin arrives, and how many days the cash buffer lasts.

    Example: basislab trade TYU4 --notional 100e6 --haircut 0
    """
    from basislab.analytics.trade import TradeInputError, basis_trade

    day = parse_date(on, "trade date")
    if not (math.isfinite(haircut) and 0 <= haircut < 100):
        raise TradeInputError(f"--haircut {haircut!r} is not valid; expected a percent in [0, 100), e.g. 2")
    bonds = None
    if prices is not None:
        if futures_price is None:
            raise TradeInputError(
                "--prices needs --futures-price (the bundled futures closes are for 2024-06-26)"
            )
        bonds = read_price_file(prices)
    report = basis_trade(
        code,
        notional,
        haircut / 100.0,
        as_of=day,
        hedge=hedge,
        bonds=bonds,
        futures_price=futures_price,
        repo_pct=repo,
        im_per_contract=im,
        cash_buffer=buffer,
        cusip=cusip,
    )
    if as_json:
        out = {
            "summary": report.summary(),
            "repledging": report.repledging.to_dict(orient="records"),
            "stress": report.stress.to_dict(orient="records"),
        }
        from basislab.jsonio import dumps

        typer.echo(dumps(out))
        return
    _print(report)


def _print(report) -> None:
    lg, con = report.legs, console()
    legs = Table(
        title=f"Basis trade on {lg.contract} ({lg.delivery_month}), settle {lg.settlement}, "
        f"delivery {lg.delivery}"
    )
    for col in ("leg", "position", "price", "value / amount", "note"):
        legs.add_column(col, justify="right" if col in ("price", "value / amount") else "left")
    legs.add_row(
        "cash (long)",
        f"{lg.face / 1e6:,.1f}mm face {lg.cusip} {lg.coupon_pct:g}% {lg.maturity}",
        f"{lg.clean_price:.4f} + AI {lg.accrued:.4f}",
        _money(lg.market_value),
        f"CF {lg.conversion_factor:.4f}, DV01 {lg.bond_dv01:.4f}",
    )
    legs.add_row(
        "repo (borrow)",
        f"haircut {lg.haircut:.2%}",
        f"{lg.repo_pct:.3f}%",
        _money(lg.repo_loan),
        f"implied repo {lg.implied_repo_pct:.3f}%",
    )
    legs.add_row(
        "futures (short)",
        f"{lg.contracts:,.0f} x {lg.contract_face / 1e3:,.0f}k ({lg.hedge} hedge)",
        f"{lg.futures_price:.4f}",
        _money(lg.initial_margin),
        f"IM ${lg.im_per_contract:,.0f}/contract",
    )
    con.print(legs)
    s = report.summary()
    con.print(
        f"Equity needed [bold]{_money(lg.equity)}[/] (haircut {_money(lg.haircut * lg.market_value)}"
        f" + initial margin {_money(lg.initial_margin)}); leverage [bold]{s['leverage']:.1f}x[/]; "
        f"cash buffer {_money(report.cash_buffer)}"
    )
    loop = Table(title="Re-pledging loop (per $1 of equity): bonds bought, pledged, borrowed, repeated")
    for col in ("round", "cash in", "bonds bought", "margin posted", "repo borrowed", "leverage so far"):
        loop.add_column(col, justify="right")
    for _, r in report.repledging.head(8).iterrows():
        loop.add_row(
            str(int(r["round"])),
            f"{r['cash_in']:.4f}",
            f"{r['bonds_bought']:.4f}",
            f"{r['margin_posted']:.4f}",
            f"{r['repo_borrowed']:.4f}",
            f"{r['leverage']:.2f}x",
        )
    lim = s["leverage_limit"]
    loop.caption = f"... limit 1/(haircut + margin) = {'∞' if not math.isfinite(lim) else f'{lim:.1f}x'}"
    con.print(loop)
    con.print(
        f"Carry to delivery {_money(report.carry)}; expected P&L if the basis converges "
        f"{_money(report.expected_pnl)} ({report.return_on_equity_pct:.2f}% a year on equity; "
        f"net basis {lg.net_basis * 32:.2f}/32 at repo {lg.repo_pct:.3f}% vs implied {lg.implied_repo_pct:.3f}%)"
    )
    st = Table(
        title="Stress: cash needed today, $mm (repo calls in the morning, futures VM at end of day)",
        caption="gross = before the day's VM arrives; net = after; days = how long the buffer "
        "lasts if the move repeats daily (gross / net)",
    )
    for col in ("move", "repo", "haircut", "IM", "VM", "gross", "net", "MtM", "days"):
        st.add_column(col, justify="left" if col == "move" else "right", no_wrap=True)
    for _, r in report.stress.iterrows():
        st.add_row(
            r["move"],
            _mm(r["repo_margin_call"]),
            _mm(r["haircut_call"]),
            _mm(r["im_call"]),
            _mm(r["vm"]),
            _mm(r["cash_needed_gross"]),
            _mm(r["cash_needed_net"]),
            _mm(r["mtm_pnl"]),
            f"{_days(r['buffer_days_gross'])}/{_days(r['buffer_days_net'])}",
        )
    con.print(st)


def register(app: typer.Typer) -> None:
    """Add ``trade`` to the main ``basislab`` app."""
    app.command("trade")(trade)
