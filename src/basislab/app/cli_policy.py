"""CLI commands of the policy lab, registered by :func:`register`: ``basislab policy`` (survival
maps over two levers) and ``basislab distance`` (distance to the spiral). JAX is imported inside
the commands, so ``basislab --help`` stays fast."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from basislab.app.common import console
from basislab.errors import BasislabError

err = Console(stderr=True)

#: the grids printed by the table view (the JSON and the report carry every measure)
_SHOWN = ("fund_defaults", "unwind_share", "basis_peak_bp", "backstop_peak_usd_bn")


def _lever_table() -> Table:
    from rich.markup import escape

    from basislab.sim.policy import LEVERS

    t = Table(title="policy levers (docs/policy.md)")
    for c in ("lever", "units", "range", "status", "maps to / missing"):
        t.add_column(c)
    for lv in LEVERS.values():
        status = "live" if lv.missing is None else "refused"
        t.add_row(
            lv.name, escape(lv.units), f"{lv.lo:g}..{lv.hi:g}", status, escape(lv.missing or lv.maps_to)
        )
    return t


def _check_size(name: str, value: int | None, hi: int) -> None:
    if value is not None and not 1 <= value <= hi:
        raise BasislabError(f"{name} must be 1 to {hi:,}, got {value}")


def policy(
    scenario: Annotated[
        str | None,
        typer.Argument(help="preset name (e.g. seed-thesis), today[@YYYY-MM-DD], or a scenario YAML"),
    ] = None,
    x: Annotated[str | None, typer.Option("--x", help="LEVER=v1,v2,... or LEVER=lo:hi:n (across)")] = None,
    y: Annotated[str | None, typer.Option("--y", help="LEVER=v1,v2,... or LEVER=lo:hi:n (down)")] = None,
    grid: Annotated[
        str | None, typer.Option("--grid", help="standard map: survival (shock x Fed delay) or haircut")
    ] = None,
    paths: Annotated[int | None, typer.Option("--paths", "-n", help="paths per grid point")] = None,
    funds: Annotated[int | None, typer.Option("--funds", help="funds in the book")] = None,
    steps: Annotated[int | None, typer.Option("--steps", help="days simulated")] = None,
    seed: Annotated[int | None, typer.Option("--seed", "-s", help="random seed (every point)")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="override: path.to.param=value")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the map as strict JSON")] = False,
    report: Annotated[Path | None, typer.Option("--report", "-o", help="write an HTML report here")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="run store folder (default $BASISLAB_RUNS_DIR)")
    ] = None,
    no_save: Annotated[bool, typer.Option("--no-save", help="do not store the map")] = False,
    list_levers: Annotated[bool, typer.Option("--levers", help="list the levers and exit")] = False,
) -> None:
    """Survival map: run a grid of two policy levers over a scenario in one compilation and show
    fund defaults, forced sales, the basis peak and the backstop's balance-sheet use.

    Example: basislab policy seed-thesis --x shock=0.5,1,2 --y haircut_floor=0,2,4 --paths 16
    """
    if list_levers:
        console().print(_lever_table())
        return
    if scenario is None:
        raise BasislabError("give a SCENARIO (e.g. seed-thesis), or --levers to list the levers")
    if grid is not None and (x is not None or y is not None):
        raise BasislabError("give either --grid or --x and --y, not both")
    if grid is None and (x is None or y is None):
        raise BasislabError("give --x LEVER=v1,v2,... and --y LEVER=v1,v2,... (or --grid survival)")
    _check_size("--paths", paths, 100_000)
    _check_size("--funds", funds, 100_000)
    _check_size("--steps", steps, 5000)
    if seed is not None and not 0 <= seed <= 2**32 - 1:
        raise BasislabError(f"--seed {seed} is out of range; expected 0 to {2**32 - 1}")
    from basislab.app.cli_sim import enable_host_devices

    enable_host_devices()  # the worlds split over the CPU's cores; before anything imports JAX
    from basislab.sim import policy as pol

    if grid is not None and grid not in pol.STANDARD_GRIDS:
        raise BasislabError(f"unknown grid {grid!r}; grids: {', '.join(pol.STANDARD_GRIDS)}")
    axes = None if grid is not None else (pol.parse_axis(x or ""), pol.parse_axis(y or ""))
    if axes is not None and axes[0][0] == axes[1][0]:
        raise BasislabError(f"--x and --y name the same lever {axes[0][0]!r}; pick two different levers")
    if report is not None:
        from basislab.app.common import check_output_file

        check_output_file(report, "--report")
    if not no_save and out is not None and out.exists() and not out.is_dir():
        raise BasislabError(f"--out {out} is a file; give a folder")
    from basislab.app.cli_sim import _enable_compile_cache

    _enable_compile_cache()
    from basislab.sim import load_scenario

    sc = load_scenario(scenario, tuple(set_ or ()))  # a bad scenario is refused before the work
    kw: dict[str, Any] = {"paths": paths, "funds": funds, "steps": steps, "seed": seed}
    if not as_json:
        err.print("running the grid in one compiled call (the first run on this machine compiles)...")
    if axes is None:
        pm = pol.standard_map(sc, grid or "survival", **kw)
    else:
        pm = pol.policy_map(sc, axes[0], axes[1], **{k: v for k, v in kw.items() if v is not None})
    map_id = None
    if not no_save:
        from basislab.sim.policy_store import save_policy_map

        map_id = save_policy_map(pm, out)
    if report is not None:
        from basislab.report.policy_report import write_policy_report

        write_policy_report(pm, report, map_id=map_id)
    if as_json:
        from basislab.jsonio import dumps

        typer.echo(dumps({"id": map_id, **pm.to_dict()}))
        return
    con = console()
    for measure in _SHOWN:
        t = Table(title=f"{measure} ({pol.METRIC_UNITS[measure]}), mean of {pm.paths} paths")
        t.add_column(f"{pm.y} \\ {pm.x}")
        for v in pm.x_values:
            t.add_column(f"{v:g}", justify="right")
        z = pm.mean(measure)
        for i, v in enumerate(pm.y_values):
            t.add_row(f"{v:g}", *(f"{z[i, j]:.3g}" for j in range(len(pm.x_values))))
        con.print(t)
    for note in pm.notes:
        con.print(f"note: {note}")
    con.print(
        f"{pm.compiles} compilation(s), {pm.wall_s:.1f} s" + (f"; stored as {map_id}" if map_id else "")
    )


def distance(
    date: Annotated[
        str | None, typer.Option("--date", help="initial conditions as of YYYY-MM-DD (default: latest)")
    ] = None,
    scenario: Annotated[
        str | None, typer.Option("--scenario", help="instead of today's book: a preset or scenario YAML")
    ] = None,
    paths: Annotated[int, typer.Option("--paths", "-n", help="seeded paths")] = 64,
    funds: Annotated[int | None, typer.Option("--funds", help="funds in the book (default 100)")] = None,
    steps: Annotated[int | None, typer.Option("--steps", help="days simulated (default 60)")] = None,
    seed: Annotated[int | None, typer.Option("--seed", "-s", help="random seed")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="override: path.to.param=value")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print strict JSON")] = False,
) -> None:
    """Distance to the spiral: the smallest March-2020-shaped shock (as a multiple of the seed
    thesis's shock and in bp of the 10y) that makes at least 10% of today's book unwind, with
    its spread across paths (bisection on the batched simulator)."""
    from basislab.app.common import parse_date

    if date is not None and scenario is not None:
        raise BasislabError("give either --date (today's book as of a date) or --scenario, not both")
    day = parse_date(date, "--date")
    _check_size("--paths", paths, 100_000)
    _check_size("--funds", funds, 100_000)
    _check_size("--steps", steps, 5000)
    if seed is not None and not 0 <= seed <= 2**32 - 1:
        raise BasislabError(f"--seed {seed} is out of range; expected 0 to {2**32 - 1}")
    from basislab.app.cli_sim import _enable_compile_cache, enable_host_devices

    enable_host_devices()  # before anything imports JAX
    from basislab.sim.distance import distance_to_spiral

    _enable_compile_cache()
    name = scenario or ("today" if day is None else f"today@{day.isoformat()}")
    from basislab.sim import load_scenario

    sc = load_scenario(name, tuple(set_ or ()))
    if not as_json:
        err.print("bisecting on the batched simulator (the first run on this machine compiles)...")
    d = distance_to_spiral(sc, paths=paths, funds=funds, steps=steps, seed=seed).to_dict()
    if as_json:
        from basislab.jsonio import dumps

        typer.echo(dumps(d))
        return
    t = Table(title=f"distance to the spiral: {d['scenario']} (book USD {d['book_usd_bn']:.0f}bn)")
    t.add_column("paths quantile")
    t.add_column("shock (x March 2020)", justify="right")
    t.add_column("10y yield rise, bp", justify="right")
    for q, v in d["threshold_multiplier"].items():
        bp = d["threshold_10y_bp"][q]
        shown = f"> {d['max_multiplier']:g}" if v is None else f"{v:.3g}"
        t.add_row(q, shown, "-" if bp is None else f"{bp:.0f}")
    con = console()
    con.print(t)
    con.print(
        f"threshold: {d['unwind_threshold_share']:.0%} of the book unwound; {d['rounds']} rounds, "
        f"{d['worlds_simulated']} worlds, {d['wall_s']:.1f} s"
    )
    for note in d["notes"]:
        con.print(f"note: {note}")


def register(app: typer.Typer) -> None:
    """Add the policy lab's commands to the main ``basislab`` app."""
    app.command("policy")(policy)
    app.command("distance")(distance)
