"""The ``basislab`` command line (Typer + Rich).

Each layer registers its commands from its own module (``cli_analytics``, ``cli_sim``,
``cli_data``) so the modules stay short. Bad input surfaces as a :class:`BasislabError`, which
:func:`main` prints as one line on stderr with exit code 2: never a traceback.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from basislab.app import cli_analytics, cli_data, cli_firesale, cli_sim, cli_trade
from basislab.errors import BasislabError

app = typer.Typer(
    name="basislab",
    help="basislab: the US Treasury cash-futures basis trade, its analytics and its systemic risk.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)

for _module in (cli_analytics, cli_trade, cli_sim, cli_data, cli_firesale):
    _module.register(app)

err_console = Console(stderr=True)


@app.callback()
def _root() -> None:
    """basislab: Treasury basis-trade analytics, system simulator, data and monitor."""


@app.command()
def version() -> None:
    """Print the basislab version."""
    from basislab import __version__

    typer.echo(__version__)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``basislab`` script: run the Typer app, turn bad input into exit code 2."""
    try:
        app(args=argv, standalone_mode=True)
    except BasislabError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
