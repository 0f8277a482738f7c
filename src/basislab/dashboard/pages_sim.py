"""Pages over the simulator: Scenario lab (queue a run, watch its progress, see the spiral's
charts), Runs (two stored runs side by side), and the Episodes and Policy hooks."""

from __future__ import annotations

import importlib
import math
import threading

import pandas as pd
from dash import dcc, html

from basislab.dashboard import sources
from basislab.dashboard.ui import Context, graph, message, table
from basislab.errors import ScenarioError
from basislab.report import charts

TODAY = "today"
#: form fields of the lab: (id, label, default, min, max, scenario path or None)
FIELDS = (
    ("paths", "paths", 8, 1, None, None),
    ("funds", "funds", 50, 1, None, "funds.count"),
    ("horizon", "days to delivery", 60, 10, None, "horizon_days"),
    ("seed", "seed", 0, 0, 2**31 - 1, None),
    ("leverage", "median leverage, x", 56, 1, 500, "funds.leverage_median"),
    ("haircut", "bilateral haircut, %", 0.0, 0, 50, "repo.bilateral.haircut_pct"),
    ("shock_scale", "shock size, x the preset's", 1.0, 0, 5, None),
    ("vol", "shock volatility multiplier", 3.0, 0, 100, "shock.vol_multiplier"),
)
#: the headline charts of a run, in the order the lab and the Runs page show them
HEADLINE = ("morning_vs_eod", "basis", "forced_sales", "who_to_whom", "leverage", "refusal", "funds_alive")


def presets() -> list[str]:
    from basislab.sim import list_presets

    return [*list_presets(), TODAY]


def lab_layout(ctx: Context):
    lim = ctx.limits
    maxes = {"paths": lim.max_paths, "funds": lim.max_funds, "horizon": lim.max_steps}
    fields = [
        html.Div(
            [
                html.Label(label),
                dcc.Input(
                    id=f"lab-{fid}",
                    type="number",
                    value=default,
                    min=lo,
                    max=maxes.get(fid, hi),
                    step="any" if isinstance(default, float) else 1,
                ),
            ],
            className="field",
        )
        for fid, label, default, lo, hi, _ in FIELDS
    ]
    return html.Div(
        [
            html.H2("Scenario lab"),
            html.P(
                "Pick a preset (or today: the book sized from the data store), change its main parameters and "
                f"run it in the background. Capped at {lim.max_paths} paths, {lim.max_funds} funds, "
                f"{lim.max_steps} days and {lim.max_work:,} path-fund-days; {lim.max_queue} jobs in the queue. "
                "Runs are stored and listed on the Runs page."
            ),
            html.Div(
                [
                    html.Div(
                        [
                            html.Label("scenario"),
                            dcc.Dropdown(presets(), presets()[0], id="lab-preset", clearable=False),
                        ],
                        className="field",
                    ),
                    *fields,
                    dcc.Checklist(
                        [{"label": " compare with and without backstop", "value": "compare"}],
                        ["compare"],
                        id="lab-compare",
                    ),
                    html.Button("Run", id="lab-run", n_clicks=0),
                ],
                className="form",
            ),
            html.Div(id="lab-submit"),
            html.Div(id="lab-status"),
            dcc.Interval(id="lab-poll", interval=1000, disabled=True),
            dcc.Store(id="lab-job"),
            html.Div(id="lab-charts"),
            html.H3("Your jobs in this browser session"),
            html.Div(id="lab-jobs"),
        ]
    )


def _int(v, what: str, lo: int, hi: int) -> int:
    try:
        x = int(float(v))
    except (TypeError, ValueError):
        raise ScenarioError(f"{what} {v!r} is not a whole number") from None
    if float(v) != x or not lo <= x <= hi:
        raise ScenarioError(f"{what} must be a whole number from {lo:,} to {hi:,}, got {v!r}")
    return x


def _num(v, what: str, lo: float, hi: float | None) -> float:
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise ScenarioError(f"{what} {v!r} is not a number") from None
    if not lo <= x <= (math.inf if hi is None else hi):
        raise ScenarioError(f"{what} must be from {lo} to {hi}, got {v!r}")
    return x


def lab_request(ctx: Context, preset, values: dict, compare: bool):
    """Check the form and build ``(scenario, paths, seed, worlds)``; the values only ever become
    numbers in whitelisted ``path=value`` overrides."""
    from basislab.sim import load_scenario

    if preset not in presets():
        raise ScenarioError(f"unknown scenario {preset!r}; pick one of {', '.join(presets())}")
    lim = ctx.limits
    paths = _int(values.get("paths"), "paths", 1, lim.max_paths)
    funds = _int(values.get("funds"), "funds", 1, lim.max_funds)
    horizon = _int(values.get("horizon"), "days to delivery", 10, lim.max_steps)
    seed = _int(values.get("seed"), "seed", 0, 2**31 - 1)
    lim.check(paths, funds, horizon, 2 if compare else 1)
    overrides = [
        f"funds.count={funds}",
        f"horizon_days={horizon}",
        f"compare_backstop={'true' if compare else 'false'}",
    ]
    for fid, label, _, lo, hi, path in FIELDS:
        if path and fid not in ("funds", "horizon"):
            overrides.append(f"{path}={_num(values.get(fid), label, lo, hi)!r}")
    sc = load_scenario(preset, tuple(overrides))
    scale = _num(values.get("shock_scale"), "shock size", 0.0, 5.0)
    if scale != 1.0:
        sh = sc.shock
        sc = sc.model_copy(
            update={
                "shock": sh.model_copy(
                    update={
                        "yield_bp": {k: v * scale for k, v in sh.yield_bp.items()},
                        "cash_dislocation_bp": {k: v * scale for k, v in sh.cash_dislocation_bp.items()},
                    }
                )
            }
        )
    if sc.shock.start_day + sc.shock.duration_days > sc.horizon_days:
        raise ScenarioError(
            f"the shock ends on day {sc.shock.start_day + sc.shock.duration_days}, after the "
            f"{sc.horizon_days} days to delivery; give more days"
        )
    return sc, paths, seed


def run_job(ctx: Context, sc, paths: int, seed: int):
    """The job body: run each world with progress, store the run, return its id."""
    from basislab.sim import simulate, with_backstop
    from basislab.sim.store import save_runs

    worlds = ["without_backstop", "with_backstop"] if sc.compare_backstop else ["run"]

    def body(report):
        runs = {}
        for k, w in enumerate(worlds):
            report(
                k / (len(worlds) + 0.2),
                f"running {w.replace('_', ' ')} ({k + 1} of {len(worlds)}): "
                f"{paths} paths x {sc.funds.count} funds x {sc.horizon_days} days",
            )
            cfg = with_backstop(sc, w == "with_backstop") if sc.compare_backstop else sc
            runs[w] = simulate(cfg, paths, seed, w)
        report(len(worlds) / (len(worlds) + 0.2), "storing the run")
        run_id, _ = save_runs(runs, ctx.runs_dir)
        return run_id

    return body


def lab_submit(ctx: Context, n_clicks, session, preset, values: dict, compare):
    """Queue a run for this session: returns (status, job id, poll disabled)."""
    if not n_clicks:
        return None, None, True
    if not session:
        return message("no browser session yet; reload the page", "error"), None, True
    sc, paths, seed = lab_request(ctx, preset, values, bool(compare))
    job = ctx.jobs.submit(
        session,
        f"{sc.name}: {paths} paths x {sc.funds.count} funds x {sc.horizon_days} days",
        run_job(ctx, sc, paths, seed),
    )
    return message(f"queued: {job.label}"), job.id, False


def progress_view(job) -> html.Div:
    pct = int(round(100 * job.progress))
    return html.Div(
        [
            html.Progress(value=str(pct), max="100", id="lab-progress"),
            html.Span(f" {pct}% {job.status}: {job.message}", id="lab-progress-text"),
        ],
        className="progress",
    )


def lab_poll(ctx: Context, session, job_id):
    """Status, charts and 'poll disabled' for the session's current job."""
    if not job_id:
        return None, None, True
    job = ctx.jobs.get(session, job_id)
    if job is None:
        return message("this job belongs to no job of this browser session", "error"), None, True
    if job.status in ("queued", "running"):
        return progress_view(job), None, False
    if job.status == "failed":
        return message(f"the run failed: {job.message}", "error"), None, True
    return message(f"done: stored as {job.result}", "ok"), _result_view(ctx, job), True


_VIEWS: dict[str, object] = {}
_VIEWS_LOCK = threading.Lock()


def _result_view(ctx: Context, job):
    """The charts of a finished job, built once: polls that arrive meanwhile wait for it and
    reuse it (building them per poll piles up work on a busy machine)."""
    with _VIEWS_LOCK:
        view = _VIEWS.get(job.id)
        if view is None:
            stored = sources.load_run(ctx.runs_dir, str(job.result))  # a lab job's result is its run id
            view = html.Div([run_summary(stored), *run_graphs(stored, HEADLINE)], id="lab-result")
            if len(_VIEWS) > 20:
                _VIEWS.clear()
            _VIEWS[job.id] = view
    return view


def jobs_view(ctx: Context, session) -> html.Div:
    jobs = ctx.jobs.for_session(session) if session else []
    if not jobs:
        return message("no jobs yet in this browser session")
    return table(
        pd.DataFrame(
            [
                {
                    "job": j.label,
                    "status": j.status,
                    "message": j.message,
                    "run": j.result if j.status == "done" else "",
                }
                for j in jobs
            ]
        )
    )


_KPIS = (
    ("fund_defaults", "funds defaulting (mean per path)"),
    ("forced_cash_sales_usd_bn", "forced cash Treasury sales, USD bn"),
    ("realised_fund_pnl_usd_bn", "funds' P&L to delivery, USD bn"),
    ("lender_losses_usd_bn", "repo lenders' losses, USD bn"),
    ("ccp_losses_usd_bn", "clearing-house losses, USD bn"),
    ("peak_initial_margin_usd_bn", "peak initial margin, USD bn"),
    ("backstop_peak_usd_bn", "peak backstop lending, USD bn"),
)


def run_summary(stored) -> html.Div:
    rows = [
        {"measure": label, **{charts.LABELS.get(v, v): m.get(k) for v, m in stored.metrics.items()}}
        for k, label in _KPIS
    ]
    sc = stored.scenario or {}
    from basislab.report.sim_report import book_sentence

    return html.Div([html.H3(f"{stored.run_id}"), html.P(book_sentence(sc)), table(pd.DataFrame(rows))])


def run_graphs(stored, keys) -> list:
    figs = charts.sim_figures(stored, keys)
    return [graph(figs[k]) for k in keys]


def runs_layout(ctx: Context):
    runs = sources.list_runs(ctx.runs_dir)
    opts = [
        {"label": f"{r.run_id} ({r.scenario}, {r.paths} paths)", "value": r.run_id} for r in runs.itertuples()
    ]
    a = opts[0]["value"] if opts else None
    b = opts[1]["value"] if len(opts) > 1 else a
    return html.Div(
        [
            html.H2("Runs: compare two stored runs"),
            html.P(
                f"{len(opts)} runs stored in the run store."
                if opts
                else "No runs stored yet: run one in the Scenario lab or with `basislab simulate`."
            ),
            html.Div(
                [
                    html.Div(
                        [html.Label("left"), dcc.Dropdown(opts, a, id="runs-a")], className="field wide"
                    ),
                    html.Div(
                        [html.Label("right"), dcc.Dropdown(opts, b, id="runs-b")], className="field wide"
                    ),
                ],
                className="form",
            ),
            dcc.Loading(html.Div(id="runs-out")),
        ]
    )


def runs_compare(ctx: Context, a, b):
    if not a or not b:
        return message("pick two runs")
    left, right = sources.load_run(ctx.runs_dir, a), sources.load_run(ctx.runs_dir, b)
    cols = []
    for st in (left, right):
        cols.append(
            html.Div(
                [run_summary(st), *run_graphs(st, ("morning_vs_eod", "basis", "forced_sales", "leverage"))],
                className="col",
            )
        )
    return html.Div(cols, className="cols", id="runs-compare")


#: pages that render once their module exists: (page, module, what it will show)
HOOKS = {
    "episodes": (
        "basislab.sim.episodes",
        "Episodes: the model against observed paths (March 2020, April 2025)",
    ),
    "policy": ("basislab.sim.policy", "Policy: survival maps of the funds under margin and backstop rules"),
}


def hook_layout(ctx: Context, page: str):
    """The module's ``dashboard_layout(ctx)`` when it exists; a plain note otherwise."""
    module, what = HOOKS[page]
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError:
        mod = None
    except Exception as exc:  # noqa: BLE001 - a broken module must not take the page down
        first = (str(exc).splitlines() or [""])[0]
        return html.Div(
            [
                html.H2(what.split(":")[0]),
                message(f"{module} could not be loaded ({type(exc).__name__}: {first})", "error"),
            ]
        )
    if mod is not None and hasattr(mod, "dashboard_layout"):
        return mod.dashboard_layout(ctx)
    why = (
        f"{module} has no dashboard view yet (a dashboard_layout(ctx) function); this page renders it once it does"
        if mod is not None
        else f"{module} does not exist yet; this page renders its dashboard_layout(ctx) once it does"
    )
    return html.Div([html.H2(what.split(":")[0]), message(f"{what}: not available yet. {why}.")])
