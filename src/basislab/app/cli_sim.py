"""CLI commands of the sim layer, registered on the main app by :func:`register`:
``basislab simulate`` and ``basislab report``."""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from basislab.app.common import PLOTLYJS_HELP, console

err = Console(stderr=True)


def _enable_compile_cache() -> None:
    """Persist every compile of a CLI run in :func:`basislab.paths.jax_cache_dir`, small ones
    included, so a second run compiles nothing (``BASISLAB_JAX_CACHE=0`` turns it off)."""
    if os.environ.get("BASISLAB_JAX_CACHE", "1") == "0":
        return
    import jax

    from basislab.paths import jax_cache_dir

    path = jax_cache_dir()
    try:
        path.mkdir(parents=True, exist_ok=True)
        jax.config.update("jax_compilation_cache_dir", str(path))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    except (OSError, AttributeError):  # pragma: no cover - cache is an optimisation only
        pass


def enable_host_devices() -> None:
    """Split the simulator's paths over the CPU's cores: ask XLA for ``os.cpu_count()`` host
    devices (at most 8; ``BASISLAB_DEVICES=N`` sets the count, ``1`` turns the split off). Must
    run before JAX is imported; adds to an existing ``XLA_FLAGS``, never replaces it, and keeps a
    device count already named there (basislab.sim.tuning)."""
    import sys

    flag = "--xla_force_host_platform_device_count"
    flags = os.environ.get("XLA_FLAGS", "")
    env = os.environ.get("BASISLAB_DEVICES", "").strip()
    n = int(env) if env.isdigit() and int(env) >= 1 else min(os.cpu_count() or 1, 8)
    if "jax" in sys.modules or flag in flags or n <= 1:
        return
    os.environ["XLA_FLAGS"] = f"{flags} {flag}={min(n, 64)}".strip()


#: seeds are unsigned 32-bit (JAX's ``PRNGKey`` takes the seed as uint32 by default)
MAX_SEED = 2**32 - 1


def _compile_expected(sc, paths: int) -> bool:
    """True when the engine for this scenario's shapes (chunks of ``paths``) has not yet run here."""
    from basislab.sim import CHUNK_PATHS, to_engine
    from basislab.sim.engine import compile_expected

    return compile_expected(to_engine(sc)[1], min(CHUNK_PATHS, paths))


def _advance(progress, task, label: str, k: int) -> None:
    """Advance the bar and drop the "compiling" note (the first chunk is done)."""
    progress.update(task, advance=k, description=label)


def _check_run_args(paths: int | None, seed: int | None) -> None:
    from basislab.errors import ScenarioError

    if paths is not None and not 1 <= paths <= 10_000_000:
        raise ScenarioError(f"--paths must be >= 1 (and at most 10,000,000), got {paths}")
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise ScenarioError(f"--seed {seed} is out of range; expected an integer from 0 to {MAX_SEED}")


def simulate(
    scenario: Annotated[
        str,
        typer.Argument(
            help="preset name (e.g. seed-thesis), today[@YYYY-MM-DD] (sized from the data store), an episode "
            "(calm-2019h1, sep-2019, mar-2020, apr-2025, late-2025: a replay from the data), or a scenario YAML"
        ),
    ],
    paths: Annotated[int | None, typer.Option("--paths", "-n", help="number of simulated paths")] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", "-s", help="random seed (same seed, same numbers)")
    ] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="override: path.to.param=value (repeatable)")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="run store folder (default $BASISLAB_RUNS_DIR)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary metrics as JSON")] = False,
    no_save: Annotated[bool, typer.Option("--no-save", help="do not persist the run")] = False,
    check: Annotated[
        bool, typer.Option("--check", help="validate the scenario and the output folder, then stop")
    ] = False,
) -> None:
    """Simulate a scenario: funds, repo lenders, the clearing house and asset managers through a
    shock; print the spiral's metrics and store the time series (DuckDB, Parquet with --out)."""
    enable_host_devices()  # before anything imports JAX
    if not check:
        _enable_compile_cache()  # before basislab.sim compiles anything, so a rerun compiles nothing
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from basislab.jsonio import dumps
    from basislab.sim import load_scenario, with_backstop
    from basislab.sim import simulate as run_one
    from basislab.sim.store import check_store, save_runs

    _check_run_args(paths, seed)
    from basislab.sim.episodes import is_episode

    if is_episode(scenario) and not check:  # an episode replay from the data (basislab.sim.episodes)
        from basislab.app.cli_validate import simulate_episode

        return simulate_episode(scenario, paths, seed, tuple(set_ or ()), as_json)
    sc = load_scenario(scenario, tuple(set_ or ()))
    if not no_save:
        check_store(out)  # a bad --out is refused before the work starts
    if check:
        typer.echo(f"scenario {sc.name!r} is valid: {sc.funds.count} funds, {sc.horizon_days} days")
        return
    n = sc.paths if paths is None else paths
    variants = ["without_backstop", "with_backstop"] if sc.compare_backstop else ["run"]
    runs = {}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=as_json,
    ) as progress:
        for v in variants:
            label = f"{sc.name}: {v.replace('_', ' ')}"
            cfg = with_backstop(sc, v == "with_backstop") if sc.compare_backstop else sc
            first = _compile_expected(cfg, n)
            task = progress.add_task(
                f"{label}: compiling (first run on this machine)..." if first else label, total=n
            )
            step = partial(_advance, progress, task, label)
            runs[v] = run_one(cfg, n, seed, v, progress=step)
    metrics = {v: r.metrics() for v, r in runs.items()}
    run_id = None
    if not no_save:
        run_id, _ = save_runs(runs, out)
        for m in metrics.values():
            m["run_id"] = run_id
    if as_json:
        typer.echo(dumps(metrics if sc.compare_backstop else metrics["run"]))
        return
    table = Table(title=f"{sc.name}: {n} paths x {sc.horizon_days} days")
    table.add_column("measure")
    for v in variants:
        table.add_column(v.replace("_", " "), justify="right")
    for key in (
        "fund_defaults",
        "forced_cash_sales_usd_bn",
        "realised_fund_pnl_usd_bn",
        "lender_losses_usd_bn",
        "ccp_losses_usd_bn",
        "peak_initial_margin_usd_bn",
        "backstop_peak_usd_bn",
        "audit_max_residual",
    ):
        table.add_row(key, *(f"{metrics[v][key]:.4g}" for v in variants))
    for key in ("max_cash_price_drop_pct", "max_basis_widening_bp"):
        for b, _ in metrics[variants[0]][key].items():
            table.add_row(f"{key} {b}", *(f"{metrics[v][key][b]:.4g}" for v in variants))
    console().print(table)
    if run_id:
        where = f"{out}/{run_id}" if out is not None else run_id
        console().print(f"stored as [bold]{run_id}[/]; report: basislab report {where} -o report.html")


def report(
    run: Annotated[str, typer.Argument(help="run folder (from --out), run id in the database, or 'latest'")],
    output: Annotated[Path, typer.Option("--output", "-o", help="HTML file to write")] = Path("report.html"),
    db_dir: Annotated[
        Path | None, typer.Option("--db", help="run store folder (default $BASISLAB_RUNS_DIR)")
    ] = None,
    plotlyjs: Annotated[str, typer.Option("--plotlyjs", help=PLOTLYJS_HELP)] = "inline",
) -> None:
    """Write an HTML report (Plotly charts of the spiral) for a stored run."""
    from basislab.app.common import check_output_file, check_plotlyjs
    from basislab.report.sim_report import write_report
    from basislab.sim.store import load_run

    check_plotlyjs(plotlyjs)
    check_output_file(output, "--output")
    stored = load_run(run, db_dir)
    path = write_report(stored, output, plotlyjs=plotlyjs)
    typer.echo(str(path))


def sweep(
    scenario: Annotated[str, typer.Argument(help="preset name, today[@YYYY-MM-DD], or a scenario YAML")],
    grid: Annotated[
        list[str],
        typer.Option(
            "--grid", "-g", help="path.to.param=v1,v2,... (repeatable; the sweep runs the cartesian product)"
        ),
    ],
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="fixed override: path.to.param=value")
    ] = None,
    paths: Annotated[int | None, typer.Option("--paths", "-n", help="paths per grid point")] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", "-s", help="random seed, shared by every point")
    ] = None,
    ray_address: Annotated[
        str | None,
        typer.Option(
            "--ray", help="run on Ray: 'local' starts a local cluster, 'auto' or host:port joins one"
        ),
    ] = None,
    csv: Annotated[Path | None, typer.Option("--csv", help="write the table to this CSV file")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object per row")] = False,
    store: Annotated[
        Path | None,
        typer.Option(
            "--store", help="folder keeping each finished point (default: $BASISLAB_RUNS_DIR/sweeps/<key>)"
        ),
    ] = None,
    fresh: Annotated[
        bool, typer.Option("--fresh", help="run every point again instead of resuming a killed sweep")
    ] = False,
) -> None:
    """Sweep a scenario over a grid of parameters (same seed at every point), locally or on Ray.

    Example: basislab sweep seed-thesis -g repo.bilateral.haircut_pct=0,1,2 -g backstop.ltv_pct=5,10
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from basislab.app.common import check_output_file
    from basislab.jsonio import dumps
    from basislab.sim.sweep import check_ray_address, n_points, parse_grid, validate_points
    from basislab.sim.sweep import sweep as run_sweep

    _check_run_args(paths, seed)
    if csv is not None:
        check_output_file(csv, "--csv")
    g = parse_grid(grid)
    validate_points(scenario, g, tuple(set_ or ()))
    backend = "local" if ray_address is None else "ray"
    address = None if ray_address in (None, "local") else ray_address
    check_ray_address(address)  # before the progress bar: a refusal is one line
    _enable_compile_cache()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=as_json,
    ) as progress:
        task = progress.add_task(f"sweep {scenario} ({backend})", total=n_points(g))
        table = run_sweep(
            scenario,
            g,
            overrides=tuple(set_ or ()),
            paths=paths,
            seed=seed,
            backend=backend,
            address=address,
            progress=lambda k: progress.advance(task, k),
            store=store,
            resume=not fresh,
            on_resume=lambda k, n, f: err.print(f"resuming: {k} of {n} points already done in {f}"),
        )
    if csv is not None:
        from basislab.paths import atomic_write_text

        atomic_write_text(csv, table.to_csv(index=False))
    if as_json:
        typer.echo(dumps(table.to_dict(orient="records")))
        return
    cols = [
        *g,
        "variant",
        "fund_defaults",
        "forced_cash_sales_usd_bn",
        "realised_fund_pnl_usd_bn",
        "lender_losses_usd_bn",
        "peak_initial_margin_usd_bn",
        "audit_max_residual",
    ]
    out = Table(title=f"sweep of {scenario}: {n_points(g)} points")
    for c in cols:
        out.add_column(c, justify="left" if c in g or c == "variant" else "right")
    for _, r in table.iterrows():
        out.add_row(*(str(r[c]) if c in g or c == "variant" else f"{r[c]:.4g}" for c in cols))
    console().print(out)


def register(app: typer.Typer) -> None:
    """Add this layer's commands to the main ``basislab`` app."""
    app.command("simulate")(simulate)
    app.command("report")(report)
    app.command("sweep")(sweep)
