"""The ``basislab`` command line (Typer + Rich).

Each layer registers its commands from its own module (``cli_analytics``, ``cli_sim``,
``cli_data``) so the modules stay short. Bad input surfaces as a :class:`BasislabError`, which
:func:`main` prints as one line on stderr with exit code 2: never a traceback.
"""

from __future__ import annotations

import os
import sys

import typer
from rich.console import Console
from typer.exceptions import TyperException

from basislab.app import (
    cli_analytics,
    cli_data,
    cli_firesale,
    cli_policy,
    cli_serve,
    cli_sim,
    cli_trade,
    cli_validate,
)
from basislab.errors import BasislabError

app = typer.Typer(
    name="basislab",
    help="basislab: the US Treasury cash-futures basis trade, its analytics and its systemic risk.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)

for _module in (
    cli_analytics,
    cli_trade,
    cli_sim,
    cli_data,
    cli_firesale,
    cli_serve,
    cli_policy,
    cli_validate,
):
    _module.register(app)

err_console = Console(stderr=True)


def _print_version(value: bool) -> None:
    if value:
        from basislab import __version__

        typer.echo(f"basislab {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    _version: bool = typer.Option(
        False, "--version", help="Print the version and exit.", callback=_print_version, is_eager=True
    ),
) -> None:
    """basislab: Treasury basis-trade analytics, system simulator, data and monitor."""


@app.command()
def version() -> None:
    """Print the basislab version."""
    from basislab import __version__

    typer.echo(__version__)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``basislab`` script: run the Typer app, turn bad input into exit code 2."""
    try:
        code = app(args=argv, standalone_mode=False)
    except TyperException as exc:  # a usage error (unknown option, bad number, ...): one line too
        if type(exc).__name__ == "NoArgsIsHelpError":
            app(args=argv, standalone_mode=True)  # prints the help
        fmt = getattr(exc, "format_message", None)
        message = fmt() if callable(fmt) else str(exc)
        err_console.print(
            f"[bold red]error:[/] {_one_line(message)} (basislab --help lists commands and options)",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(getattr(exc, "exit_code", 2))
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(1)
    except BasislabError as exc:
        err_console.print(f"[bold red]error:[/] {_one_line(exc)}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("interrupted (finished work is kept: runs are saved whole, sweeps resume)")
        sys.exit(130)
    except OSError as exc:  # disk full, permission denied, ...: the system's reason, one line
        where = f": {exc.filename}" if getattr(exc, "filename", None) else ""
        err_console.print(
            f"[bold red]error:[/] {exc.strerror or exc}{where}", highlight=False, soft_wrap=True
        )
        sys.exit(1)
    except Exception as exc:
        if os.environ.get("BASISLAB_DEBUG"):
            raise
        err_console.print(
            f"[bold red]internal error:[/] {type(exc).__name__}: {_one_line(exc)} (a bug in basislab; "
            "BASISLAB_DEBUG=1 shows the traceback)",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


def _one_line(exc: BaseException | str) -> str:
    """An error's message on one line (validation errors list one problem a line: joined by '; ')."""
    return "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())


if __name__ == "__main__":  # pragma: no cover
    main()
