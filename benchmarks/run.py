"""Run every benchmark in this folder and print one table.

Each ``benchmarks/bench_*.py`` module defines ``run(quick: bool = False) -> list[dict]``; every row
has ``benchmark``, ``case``, ``value``, ``unit`` and optionally ``baseline`` and ``ratio``, where the
baseline was measured in the same process so that ratios, not absolute seconds, carry the result.

Usage: ``python benchmarks/run.py [--quick] [NAME ...]`` (NAME filters modules, e.g. ``dlv``).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str]) -> None:
    quick = "--quick" in argv
    names = [a for a in argv if not a.startswith("-")]
    here = Path(__file__).parent
    table = Table(title="basislab benchmarks")
    for col in ("benchmark", "case", "value", "unit", "baseline", "ratio"):
        table.add_column(col, justify="left" if col in ("benchmark", "case", "unit") else "right")
    for path in sorted(here.glob("bench_*.py")):
        if names and not any(n in path.stem for n in names):
            continue
        for row in _load(path).run(quick=quick):
            fmt = lambda v: "" if v is None else (f"{v:.4g}" if isinstance(v, float) else str(v))  # noqa: E731
            table.add_row(
                *(fmt(row.get(k)) for k in ("benchmark", "case", "value", "unit", "baseline", "ratio"))
            )
    con = Console()
    (con if con.is_terminal else Console(width=160)).print(table)


if __name__ == "__main__":
    main(sys.argv[1:])
