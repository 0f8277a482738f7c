"""``basislab serve``: the local web dashboard (Dash is imported only when the command runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def serve(
    host: Annotated[
        str, typer.Option("--host", help="Address to bind; the default serves this machine only.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8050,
    db: Annotated[
        Path | None,
        typer.Option("--db", help="Data store (default: $BASISLAB_DB, else the platform folder)."),
    ] = None,
    runs: Annotated[
        Path | None, typer.Option("--runs", help="Run store folder (default: basislab.paths.runs_dir()).")
    ] = None,
    max_paths: Annotated[
        int, typer.Option("--max-paths", help="Largest number of paths a page may ask for.")
    ] = 256,
) -> None:
    """Start the dashboard at http://HOST:PORT: overview, DLV screen, trade, positioning and
    funding, scenario lab, stored runs, methodology. Works offline; Ctrl-C stops it."""
    from basislab.errors import BasislabError

    if not 0 < port < 65536:
        raise BasislabError(f"--port {port} is not a port; expected 1-65535")
    if max_paths < 1:
        raise BasislabError(f"--max-paths must be >= 1, got {max_paths}")
    if host not in ("127.0.0.1", "localhost", "::1"):
        typer.echo(
            f"warning: serving on {host}: anyone who can reach this address can use the dashboard", err=True
        )
    from basislab.app.cli_sim import _enable_compile_cache
    from basislab.dashboard import create_app
    from basislab.dashboard.jobs import Limits

    _enable_compile_cache()  # a run of a shape seen before starts without recompiling

    app = create_app(
        db=None if db is None else str(db),
        runs_dir=None if runs is None else str(runs),
        limits=Limits(max_paths=max_paths),
    )
    typer.echo(f"basislab dashboard on http://{host}:{port}/ (Ctrl-C stops it)")
    app.run(host=host, port=port, debug=False)


def register(app: typer.Typer) -> None:
    """Add ``basislab serve`` to the main app."""
    app.command("serve")(serve)
