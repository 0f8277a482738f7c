"""CLI commands of the data layer, registered on the main app by :func:`register`.

``basislab data refresh``, ``basislab data status`` and ``basislab monitor``. The store is the
``--db`` file, else ``$BASISLAB_DB``, else the platform data directory (see ``docs/data.md``).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from basislab.app.common import PLOTLYJS_HELP
from basislab.app.common import console as wide_console

DbOption = Annotated[
    Path | None,
    typer.Option(
        "--db",
        help="DuckDB store file, which must exist unless --create is given (default: $BASISLAB_DB, else "
        "basislab.duckdb in the data folder, $BASISLAB_DATA_DIR).",
    ),
]
CreateOption = Annotated[
    bool,
    typer.Option("--create", help="Build a new store from the bundled snapshot at --db if there is none."),
]


def _prepare(db: Path | None, create: bool) -> Path | None:
    """Build the ``--db`` store first when ``--create`` asks for it; a missing ``--db`` is refused later."""
    if db is not None and create:
        from basislab.data.store import build_from_snapshot, resolve_db_path

        path = resolve_db_path(db)
        if not path.exists():
            build_from_snapshot(path, only_if_missing=True)
    return db


data_app = typer.Typer(
    help="The data store: refresh from the publishers, show coverage and gaps.", no_args_is_help=True
)


@data_app.command("refresh")
def refresh_cmd(
    source: Annotated[
        list[str] | None,
        typer.Option(
            "--source",
            "-s",
            help="cftc, cftc-api, fred, nyfed, treasury-curve, treasury-securities, ofr "
            "(repeatable; default: all).",
        ),
    ] = None,
    db: DbOption = None,
    create: CreateOption = False,
) -> None:
    """Download from the publishers and upsert into the store (each source in one transaction)."""
    from basislab.data.refresh import refresh

    db = _prepare(db, create)

    console = Console()

    def show(r) -> None:
        console.print(("[green]ok[/] " if r.ok else "[red]failed[/] ") + escape(r.message), highlight=False)

    results = refresh(source or None, db=db, progress=show)
    if not all(r.ok for r in results):
        raise typer.Exit(1)


@data_app.command("status")
def status_cmd(
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the status as JSON.")] = False,
    create: CreateOption = False,
) -> None:
    """Each table's coverage, last date, row count and gaps (computed from the data). The store is
    read in full first: a damaged store is reported in one line with the repair command (exit 2)."""
    from basislab.data.status import status
    from basislab.data.store import connect, resolve_db_path

    path = resolve_db_path(_prepare(db, create))
    con = connect(path, read_only=True)
    try:
        doc = status(con, str(path))
    finally:
        con.close()
    if as_json:
        from basislab.jsonio import dumps

        typer.echo(dumps(doc))
        return
    console = wide_console()
    console.print(f"store [bold]{escape(doc['store'])}[/] (schema v{doc['schema_version']})", highlight=False)
    t = Table("table", "item", "rows", "first", "last", "gaps (first..last missing)")
    for c in doc["coverage"]:
        gaps = c["gaps"]
        text = ", ".join(f"{a}..{b}" for a, b in gaps[:6]) + (
            f" +{len(gaps) - 6} more" if len(gaps) > 6 else ""
        )
        t.add_row(c["table"], c["item"], f"{c['rows']:,}", c["first"] or "", c["last"] or "", text)
    console.print(t)
    p = Table("table", "source", "publisher", "retrieved", "rows", "licence")
    for r in doc["provenance"]:
        p.add_row(
            r["table_name"],
            escape(r["source"]),
            escape(r["publisher"]),
            str(r["retrieved"]),
            f"{r['rows']:,}",
            escape(r["licence"]),
        )
    console.print(p)


@data_app.command("rebuild")
def rebuild_cmd(
    db: DbOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Rebuild the store from the bundled snapshot (discards refreshed data; atomic replace)."""
    from basislab.data.store import build_from_snapshot, resolve_db_path

    path = resolve_db_path(db)
    if path.exists() and not yes:
        typer.confirm(f"Replace {path} with a fresh store built from the bundled snapshot?", abort=True)
    build_from_snapshot(path)
    typer.echo(f"rebuilt {path} from the bundled snapshot")


def monitor_cmd(
    date: Annotated[
        str | None, typer.Option("--date", help="Monitor date YYYY-MM-DD (default: latest in store).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per indicator.")] = False,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write a self-contained HTML report here.")
    ] = None,
    db: DbOption = None,
    create: CreateOption = False,
    distance: Annotated[
        bool, typer.Option("--distance", help="Add the distance-to-the-spiral gauge (simulates; ~a minute).")
    ] = False,
    plotlyjs: Annotated[str, typer.Option("--plotlyjs", help=PLOTLYJS_HELP)] = "inline",
) -> None:
    """Basis-trade monitor: futures positioning, size estimate, funding spreads, Fed balance sheet.
    A date with no data exits 2 with one line."""
    from basislab.app.common import check_output_file, check_plotlyjs
    from basislab.data import monitor

    check_plotlyjs(plotlyjs)
    if html is not None:
        check_output_file(html, "--html")  # before the work
    db = _prepare(db, create)

    d, inds = monitor.compute(date, db=db, with_history=html is not None)
    if html is not None:
        from basislab.report.monitor_report import write_monitor

        write_monitor(html, d, inds, plotlyjs=plotlyjs)
    gauge = None
    if distance:  # basislab.sim.distance (policy lab): bisection on the batched simulator
        from basislab.sim.distance import gauge_row, monitor_gauge

        gauge = monitor_gauge(d, db=db)
    if as_json:
        from basislab.jsonio import dumps

        typer.echo(dumps({**monitor.to_json(d, inds), **({"distance_to_spiral": gauge} if gauge else {})}))
        return
    console = wide_console()
    t = Table("indicator", "date", "value", "unit", "change", "z-score", "", title=f"basislab monitor {d}")
    for i in inds:
        fmt = "{:,.0f}" if i.unit == "contracts" else "{:,.2f}"
        t.add_row(
            i.label,
            i.date or "-",
            "-" if i.value is None else fmt.format(i.value),
            i.unit,
            "-" if i.change is None else fmt.format(i.change),
            "-" if i.zscore is None else f"{i.zscore:+.2f}",
            "[yellow]stale[/]" if i.stale else "",
        )
    if gauge:
        t.add_row(*gauge_row(gauge))
    console.print(t)
    console.print(f"Basis-trade size method: {escape(monitor.BASIS_METHOD)}", highlight=False)
    from basislab.data.catalog import NYFED_ATTRIBUTION

    console.print(NYFED_ATTRIBUTION, highlight=False)
    if html is not None:
        console.print(f"wrote {html}", highlight=False)


def _show_data_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Print a :class:`DataWarning` (a stated fallback in the data) as one line on stderr."""
    from basislab.data.validate import DataWarning

    if issubclass(category, DataWarning):
        Console(stderr=True).print(
            f"[yellow]warning:[/] {escape(str(message))}", highlight=False, soft_wrap=True
        )
    else:
        _default_showwarning(message, category, filename, lineno, file, line)


_default_showwarning = warnings.showwarning


def register(app: typer.Typer) -> None:
    """Add this layer's commands to the main ``basislab`` app. Data warnings (e.g. the fallbacks
    of ``today@DATE`` initial conditions) are printed as one ``warning:`` line each on stderr."""
    warnings.showwarning = _show_data_warning
    app.add_typer(data_app, name="data")
    app.command("monitor")(monitor_cmd)
