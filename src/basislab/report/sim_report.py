"""HTML report of a simulation run: the margin spiral told in charts a reader follows without the
code (morning calls against end-of-day settlement, prices and the basis in every bucket, forced
sales and who bought them, haircuts and repo refusal, leverage and equity across funds, defaults,
losses, the scenario's parameters and the accounting audit). Charts: :mod:`basislab.report.charts`."""

from __future__ import annotations

import html
from pathlib import Path

from basislab.report import charts
from basislab.report.html import Section, write

_LABELS = charts.LABELS
_BUCKETS = charts.BUCKETS


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


def _pct(x) -> str:
    return f"{100 * float(x):.0f}%"


def book_sentence(sc: dict) -> str:
    """The simulated book in words, from the scenario that ran (never from a preset's prose)."""
    f, sh = sc.get("funds") or {}, sc.get("shock") or {}
    parts = []
    if f.get("total_position_usd_bn") is not None:
        mix = f.get("bucket_mix") or {}
        mix_txt = ", ".join(f"{b} {_pct(mix[b])}" for b in _BUCKETS if b in mix)
        parts.append(
            f"The simulated book: USD {float(f['total_position_usd_bn']):,.0f}bn of cash Treasuries"
            + (f" ({mix_txt})" if mix_txt else "")
            + (f", {int(f['count'])} funds" if f.get("count") else "")
            + (f", median leverage {float(f['leverage_median']):.0f}x" if f.get("leverage_median") else "")
            + (
                f", {_pct(f['bilateral_share'])} of repo bilateral"
                if f.get("bilateral_share") is not None
                else ""
            )
            + "."
        )
    if sh.get("yield_bp"):
        yb = ", ".join(f"{b} +{float(v):.0f}bp" for b, v in sh["yield_bp"].items())
        parts.append(
            f"Shock: yields {yb} over {sh.get('duration_days')} business days from day "
            f"{int(sh.get('start_day', 0)) + 1} (shaded in the charts), volatility x{sh.get('vol_multiplier')}."
        )
    ctx = sc.get("context") or {}
    if ctx.get("date"):
        parts.append(f"Initial conditions from the data store on {ctx['date']}.")
    return " ".join(parts)


def _description(sc: dict) -> str:
    """The preset's description, unless it quotes a book size the run did not simulate (a
    ``today@`` scenario inherits the seed-thesis prose, written for USD 830bn)."""
    import re

    desc = (sc.get("description") or "").strip()
    total = (sc.get("funds") or {}).get("total_position_usd_bn")
    quoted = [float(x.replace(",", "")) for x in re.findall(r"USD\s*([\d,.]+)\s*bn", desc)]
    if total is not None and any(abs(q - float(total)) > 0.5 for q in quoted):
        return ""
    return desc


def params_table(sc: dict) -> str:
    """The scenario's main parameters, one row each, with the value that ran."""
    rows = []

    def add(label, value):
        if value is not None and value != "":
            rows.append(f"<tr><td>{html.escape(label)}</td><td>{html.escape(str(value))}</td></tr>")

    f, r, c, b, sh, m = (
        sc.get(k) or {} for k in ("funds", "repo", "clearing", "backstop", "shock", "market")
    )
    add("scenario", sc.get("name"))
    add("horizon, business days", sc.get("horizon_days"))
    add("funds", f.get("count"))
    add("book, USD bn", f.get("total_position_usd_bn"))
    add("bucket mix", ", ".join(f"{k} {_pct(v)}" for k, v in (f.get("bucket_mix") or {}).items()))
    add("median leverage, x", f.get("leverage_median"))
    add("bilateral share of repo", f.get("bilateral_share"))
    for seg in ("bilateral", "triparty"):
        s = r.get(seg) or {}
        add(f"{seg} haircut, % (max)", f"{s.get('haircut_pct')} ({s.get('haircut_max_pct')})" if s else None)
    add("SOFR, %", m.get("sofr_pct"))
    add("CCP IM: z, margin period (days)", f"{c.get('z')}, {c.get('mpor_days')}" if c else None)
    add("backstop", f"LTV {b.get('ltv_pct')}%, rate SOFR + {b.get('rate_spread_bp')}bp" if b else None)
    add("shock start day, duration", f"{sh.get('start_day')}, {sh.get('duration_days')}" if sh else None)
    for k in ("yield_bp", "cash_dislocation_bp"):
        if sh.get(k):
            add(f"shock {k.replace('_', ' ')}", ", ".join(f"{b_} {v}" for b_, v in sh[k].items()))
    add("shock volatility multiplier", sh.get("vol_multiplier"))
    return f"<table><tr><th>parameter</th><th>value</th></tr>{''.join(rows)}</table>"


def build_sections(stored) -> list[Section]:
    """The report's sections: story, parameters, and every chart of :func:`charts.sim_figures`."""
    metrics = stored.metrics
    variants = list(metrics)
    sc = stored.scenario or {}
    figs = charts.sim_figures(stored)
    desc = _description(sc)
    flows = charts.flows_table(stored.timeseries, variants)
    return [
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
            "lines the mean. " + book_sentence(sc) + (f" Scenario: {desc}" if desc else ""),
            tables_html=[_kpi_table(metrics)],
        ),
        Section("The scenario's parameters", "", tables_html=[params_table(sc)]),
        Section(
            "Cash needs against buffers: morning calls, end-of-day settlement",
            "Repo lenders call margin and raise haircuts in the morning and the clearing house resets "
            "initial margin; the futures gains of a short position are paid only at the end-of-day "
            "settlement. The grey bars are what the funds could not pay from cash in hand in the "
            "morning: they had to sell, or borrow from the backstop.",
            figures=[figs["morning_vs_eod"], figs["cash"]],
        ),
        Section(
            "Prices and the basis",
            "Every bucket (2y, 5y, 10y, long) in its own panel. The gross basis is in the desk's "
            "convention: cash price - CF x futures price, in 32nds; it falls to zero at delivery. "
            "A fall faster than carry is cash cheapening against futures: the long-basis position loses.",
            figures=[figs["prices"], figs["basis"]],
        ),
        Section(
            "Forced sales: who sold to whom",
            "Cash Treasuries sold into the market because cash ran short: by funds unwinding and by repo "
            "lenders liquidating the collateral of funds that defaulted; end investors buy them.",
            figures=[figs["forced_sales"], figs["who_to_whom"]],
            tables_html=[charts.table_html(flows)],
        ),
        Section(
            "Margins: repo haircuts, repo refusal, initial margin",
            "Haircuts rise with price falls and volatility; lenders stop rolling a share of repo as stress rises.",
            figures=[figs["haircut"], figs["refusal"], figs["initial_margin"]],
        ),
        Section(
            "The rest of the system: funding market, dealers, the Fed, other sellers",
            "SOFR comes out of the reserve demand curve each morning, capped by the Standing Repo Facility "
            "(docs/mechanisms.md section 1); the futures implied repo rate of each bucket's CTD rises above "
            "it as cash cheapens against futures. Dealers take sales up to their SLR capacity; their price "
            "impact rises once utilisation passes 85%. Foreign investors and bond funds sell when dollar "
            "funding is stressed (docs/model.md section 15).",
            figures=[
                figs["sofr_iorb"],
                figs["fed_repo"],
                figs["implied_repo"],
                figs["dealers"],
                figs["dealer_inventory"],
                figs["fed_balance_sheet"],
                figs["other_sellers"],
            ],
        ),
        Section(
            "Leverage and equity across funds",
            "The median fund and the 10th-90th percentile across funds (mean over paths).",
            figures=[figs["leverage"], figs["equity"]],
        ),
        Section(
            "Defaults and losses (and the backstop)",
            "A fund that cannot meet a call even after selling everything - or whose equity is gone - "
            "defaults; its lenders sell the collateral and the clearing house closes out its futures.",
            figures=[figs["funds_alive"], figs["backstop"], figs["losses"], figs["ccp_losses"]],
        ),
        *_audit_section(stored),
    ]


def _audit_section(stored) -> list[Section]:
    au = stored.audit
    if au is None or not len(au):
        return []
    worst = au.groupby(["identity", "variant"])["max_residual"].max().unstack()
    tbl = worst.to_html(float_format=lambda x: f"{x:.2e}", border=0)
    return [
        Section(
            "Accounting audit",
            "Every dollar and every bond is accounted for: the largest relative residual of each identity "
            "over all steps and paths (1e-9 = one dollar per billion of the book).",
            tables_html=[tbl],
        )
    ]


def write_report(stored, path: str | Path, plotlyjs: str = "inline") -> Path:
    """Write the HTML report of a stored run to ``path`` (``plotlyjs``: see :mod:`basislab.report.html`)."""
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
        plotlyjs=plotlyjs,
    )
