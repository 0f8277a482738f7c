"""User interfaces: the command-line interface (Typer + Rich)."""
