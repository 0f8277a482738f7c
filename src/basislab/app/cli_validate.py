"""CLI of the episode replays: ``basislab validate [EPISODE|all]``, ``basislab calibrate EPISODE``,
and ``basislab simulate EPISODE`` (routed here from :mod:`basislab.app.cli_sim`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from basislab.app.common import console


def _keys(episode: str) -> list[str]:
    from basislab.errors import ScenarioError
    from basislab.sim import episodes as E

    if episode == "all":
        return E.names()
    if not E.is_episode(episode):
        raise ScenarioError(f"unknown episode {episode!r}; episodes: {', '.join(E.names())}, or all")
    return [episode]


def _num(x, unit: str = "") -> str:
    if x is None:
        return "n/a"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.3g}" if unit != "%" else f"{x:.2f}"


def _obs_cell(r: dict) -> str:
    """The observed peak, or the published range of a scalar row (``obs_low``..``obs_high``)."""
    if r.get("obs_low") is not None:
        return f"{_num(r['obs_low'])}..{_num(r['obs_high'])}"
    return _num(r["obs_peak"])


def _repo_cell(x: dict) -> str:
    if x["peak"] is None or x["baseline"] is None:
        return "n/a"
    return f"{x['baseline']:.0f} / {x['peak']:.0f} ({x['peak_date']})"


def _warn(er) -> None:
    from basislab.sim import episodes as E

    E.warn(er)


def validate(
    episode: Annotated[
        str, typer.Argument(help="episode (calm-2019h1, sep-2019, mar-2020, apr-2025, late-2025) or all")
    ] = "all",
    paths: Annotated[int | None, typer.Option("--paths", "-n", help="simulated paths (default 32)")] = None,
    seed: Annotated[int, typer.Option("--seed", "-s", help="random seed")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="print the rows and a summary as JSON")] = False,
    html: Annotated[
        Path | None,
        typer.Option("--html", help="write an HTML report (one episode): model over observed paths"),
    ] = None,
) -> None:
    """Replay episodes and set the model's outputs next to the observed series that were not
    inputs: futures paths, weekly changes of leveraged funds' shorts, SOFR-IORB, Fed holdings
    (RMSE, peak, timing of the peak, pass/fail against the preset's tolerances)."""
    from basislab.app.cli_sim import _check_run_args, _enable_compile_cache
    from basislab.app.common import check_output_file
    from basislab.data.store import connect
    from basislab.errors import ScenarioError
    from basislab.jsonio import dumps
    from basislab.sim import validate as V

    keys = _keys(episode)
    _check_run_args(paths, seed)
    if html is not None:
        if len(keys) != 1:
            raise ScenarioError("--html needs one episode, not all")
        check_output_file(html, "--html")
    _enable_compile_cache()
    rows: list[dict] = []
    con = connect(None, read_only=True)
    try:
        for k in keys:
            er, res, r = V.validate_episode(k, paths, seed, con=con)
            _warn(er)
            rows += r
            if html is not None:
                from basislab.report.episode_report import write_episode_report

                write_episode_report(er, res, r, html)
    finally:
        con.close()
    if as_json:
        typer.echo(dumps({"rows": rows, "summary": V.summary(rows), "paths": paths or 32, "seed": seed}))
        return
    table = Table(title=f"validation: {', '.join(keys)} (model vs observed series not used as inputs)")
    for c in (
        "episode",
        "series",
        "bucket",
        "n",
        "RMSE",
        "obs RMS",
        "peak model",
        "peak obs",
        "peak dates (model / obs)",
        "timing",
        "status",
    ):
        table.add_column(c, justify="left" if c in ("episode", "series", "bucket", "status") else "right")
    colour = {"pass": "green", "fail": "red", "n/a": "yellow"}
    for r in rows:
        dates = f"{r['model_peak_date'] or 'n/a'} / {r['obs_peak_date'] or 'n/a'}"
        status = r["status"] if r["status"] != "n/a" else (r["reason"] or "n/a")
        table.add_row(
            r["episode"], f"{r['series']} ({r['unit']})", r["label"], str(r["n"]), _num(r["rmse"]), _num(r["obs_rms"]),
            _num(r["model_peak"]), _obs_cell(r), dates,
            "n/a" if r["timing_error"] is None else str(r["timing_error"]),
            f"[{colour[r['status']]}]{status}[/]",
        )  # fmt: skip
    console().print(table)
    for r in rows:
        if r.get("obs_low") is not None:  # a scalar row against a published range: say how it is read
            console().print(f"{r['episode']} {r['series']}: {r['reason']}")
    for k, s in V.summary(rows).items():
        console().print(f"{k}: {s['pass']} pass, {s['fail']} fail, {s['n/a']} n/a")
    if html is not None:
        console().print(f"report: {html}")


def calibrate(
    episode: Annotated[str, typer.Argument(help="in-sample episode (default mar-2020)")] = "mar-2020",
    seeds: Annotated[
        int, typer.Option("--seeds", help="seeds (the spread of the fit across them is reported)")
    ] = 2,
    quick: Annotated[bool, typer.Option("--quick", help="a 2x2 grid (smoke test), one seed")] = False,
    fresh: Annotated[
        bool, typer.Option("--fresh", help="ignore finished points of a killed calibration")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the fit as JSON")] = False,
) -> None:
    """Fit the replay's assumptions (news share of yield moves, impact slope, stress slope, repo
    stress slopes) on an episode's observed market series by simulated method of moments, and
    validate out of sample on the other episodes (docs/calibration.md)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from basislab.app.cli_sim import _enable_compile_cache, err
    from basislab.errors import ScenarioError
    from basislab.jsonio import dumps
    from basislab.sim import calibrate as C

    key = _keys(episode)[0]
    if not 1 <= seeds <= 64:
        raise ScenarioError(f"--seeds must be between 1 and 64, got {seeds}")
    _enable_compile_cache()
    grid = C.QUICK_GRID if quick else C.GRID
    n_seeds = 1 if quick else seeds
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, transient=as_json,
    ) as progress:  # fmt: skip
        task = progress.add_task(f"calibrate {key}", total=None)
        out = C.calibrate(
            key,
            grid=grid,
            seeds=n_seeds,
            cache=False if (quick or fresh) else None,
            progress=lambda k, n: progress.update(task, completed=k, total=n),
        )
    if as_json:
        typer.echo(dumps(out))
        return
    t = Table(
        title=f"calibration on {key}: {out['points']} points x {out['seeds']} seed(s), {out['paths']} paths"
    )
    for c in ("parameter", "default", "fitted", "seed sd", "profile range (10%)"):
        t.add_column(c, justify="left" if c == "parameter" else "right")
    for name, p in out["parameters"].items():
        sd = "n/a" if p["seed_sd"] is None else f"{p['seed_sd']:.3g}"
        t.add_row(
            name,
            f"{p['default']:.3g}",
            f"{p['fitted']:.3g}",
            sd,
            f"{p['profile_range'][0]:.3g}..{p['profile_range'][1]:.3g}",
        )
    console().print(t)
    console().print(
        f"objective in sample: default {out['objective_default']}, fitted {out['objective_fitted']}"
    )
    o = Table(title="out of sample (objective: mean of (RMSE / observed RMS)^2; rows passed)")
    for c in ("episode", "objective default", "objective fitted", "pass default", "pass fitted"):
        o.add_column(c, justify="left" if c == "episode" else "right")
    for k, v in out["out_of_sample"].items():
        o.add_row(
            k,
            _num(v["objective_default"]),
            _num(v["objective_fitted"]),
            str(v["pass_default"]),
            str(v["pass_fitted"]),
        )
    console().print(o)


def simulate_episode(
    key: str, paths: int | None, seed: int | None, overrides: tuple[str, ...], as_json: bool
) -> None:
    """``basislab simulate EPISODE``: the as-happened world and its counterfactuals."""
    from basislab.app.cli_sim import _enable_compile_cache
    from basislab.jsonio import dumps
    from basislab.sim import episodes as E

    _enable_compile_cache()
    er = E.build(key, overrides)
    _warn(er)
    out = E.replay(key, paths, seed, overrides, er=er)
    if as_json:
        typer.echo(dumps(out))
        return
    worlds = {"as happened": out["metrics"], **out["counterfactuals"]}
    t = Table(
        title=f"{key}: window {out['window']['start']}..{out['window']['end']}, {out['paths']} paths, seed {out['seed']}"
    )
    t.add_column("metric")
    for w in worlds:
        t.add_column(w.replace("_", " "), justify="right")
    for name, v in out["metrics"].items():
        if name == "implied_repo_minus_sofr_bp":
            for b in v:
                cells = [_repo_cell(m[name][b]) for m in worlds.values()]
                t.add_row(f"implied repo - SOFR {b}: baseline / peak (date), bp", *cells)
            continue
        cells = []
        for m in worlds.values():
            x = m[name]
            cells.append("n/a" if x is None else (x if isinstance(x, str) else f"{x:.4g}"))  # reason below
        t.add_row(name, *cells)
    console().print(t)
    for k, why in out["notes"]["null_reasons"].items():
        console().print(f"[dim]{k}: {why}[/]")
    console().print(f"observed vs model: basislab validate {key} --html {key}.html")


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
    app.command("calibrate")(calibrate)
