"""CLI commands of the sim layer, registered on the main app by :func:`register`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this layer's commands to the main ``basislab`` app."""
