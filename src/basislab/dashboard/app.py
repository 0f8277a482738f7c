"""The Dash app of ``basislab serve``: a page per view, routed by URL; the callbacks are the plain
functions of the page modules, wrapped by :func:`basislab.dashboard.ui.guard` so that bad input
shows one line and a crash shows an error, never a dead page.

Offline by construction: ``serve_locally=True`` (Dash's and plotly.js's bundles come from the
installed packages), no external stylesheets or scripts, the stylesheet in ``assets/``.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from dash import Dash, Input, Output, State, dcc, html

from basislab.dashboard import pages_analytics as pa
from basislab.dashboard import pages_market as pm
from basislab.dashboard import pages_sim as ps
from basislab.dashboard.jobs import JobQueue, Limits
from basislab.dashboard.ui import Context, guard

#: (path, label, layout) of each page, in the order of the navigation bar
PAGES = (
    ("/", "Overview", pm.overview_layout),
    ("/basis", "Basis", pa.basis_layout),
    ("/trade", "Trade", pa.trade_layout),
    ("/positioning", "Positioning and funding", pm.positioning_layout),
    ("/lab", "Scenario lab", ps.lab_layout),
    ("/episodes", "Episodes", lambda ctx: ps.hook_layout(ctx, "episodes")),
    ("/policy", "Policy", lambda ctx: ps.hook_layout(ctx, "policy")),
    ("/runs", "Runs", ps.runs_layout),
    ("/methodology", "Methodology and provenance", pm.methodology_layout),
)


def page_for(ctx: Context, pathname: str | None):
    """The layout of the page at ``pathname`` (an unknown path says so)."""
    for path, _, layout in PAGES:
        if (pathname or "/") == path:
            return layout(ctx)
    return html.Div([html.H2("Not found"), html.P(f"There is no page {pathname!r}; pick one above.")])


def new_session(session: str | None) -> str:
    """A random id for a browser session (kept in the tab's sessionStorage)."""
    return session or uuid.uuid4().hex


def create_app(db: str | None = None, runs_dir: str | None = None, limits: Limits | None = None) -> Dash:
    """Build the app over the data store ``db`` and the run store ``runs_dir`` (defaults: the
    platform folders, see :mod:`basislab.paths`)."""
    limits = limits or Limits()
    ctx = Context(
        db=None if db is None else str(db),
        runs_dir=None if runs_dir is None else str(runs_dir),
        limits=limits,
        jobs=JobQueue(limits.max_queue),
    )
    app = Dash(
        __name__,
        title="basislab",
        serve_locally=True,
        assets_folder=str(Path(__file__).parent / "assets"),
        suppress_callback_exceptions=True,
        update_title="",  # Dash: None or "" keeps the page title while callbacks run
    )
    app.server.config["MAX_CONTENT_LENGTH"] = 4 * limits.max_upload_bytes  # base64 upload in a JSON request
    app.layout = html.Div(
        [
            dcc.Location(id="url"),
            dcc.Store(id="session", storage_type="session"),
            html.Div(
                [
                    html.B("basislab"),
                    *[
                        dcc.Link(label, href=path, id=f"nav-{path.strip('/') or 'overview'}")
                        for path, label, _ in PAGES
                    ],
                ],
                className="top",
            ),
            html.Div(id="page", className="page"),
        ]
    )
    app.basislab_context = ctx  # type: ignore[attr-defined]  # for tests and the serve command

    app.callback(Output("session", "data"), Input("url", "pathname"), State("session", "data"))(
        lambda _path, session: new_session(session)
    )
    app.callback(Output("page", "children"), Input("url", "pathname"))(guard(1)(lambda p: page_for(ctx, p)))
    app.callback(
        Output("pos-by-trader", "children"), Input("pos-contract", "value"), Input("pos-unit", "value")
    )(guard(1)(lambda c, u: pm.positions_by_trader(ctx, c, u)))
    app.callback(
        Output("basis-out", "children"),
        Input("basis-go", "n_clicks"),
        Input("basis-upload", "contents"),
        State("basis-upload", "filename"),
        State("basis-code", "value"),
        State("basis-date", "value"),
        State("basis-fut", "value"),
        State("basis-repo", "value"),
    )(
        guard(1)(
            lambda _n, contents, name, code, date, fut, repo: pa.basis_view(
                ctx, code, date, fut, repo, contents, name
            )
        )
    )
    app.callback(
        Output("trade-out", "children"),
        Input("trade-go", "n_clicks"),
        State("trade-code", "value"),
        State("trade-notional", "value"),
        State("trade-haircut", "value"),
        State("trade-hedge", "value"),
        State("trade-buffer", "value"),
    )(guard(1)(lambda _n, *a: pa.trade_view(ctx, *a)))
    field_ids = [f[0] for f in ps.FIELDS]
    app.callback(
        Output("lab-submit", "children"),
        Output("lab-job", "data"),
        Input("lab-run", "n_clicks"),
        State("session", "data"),
        State("lab-preset", "value"),
        State("lab-compare", "value"),
        *[State(f"lab-{f}", "value") for f in field_ids],
        prevent_initial_call=True,
    )(
        guard(2)(
            lambda n, session, preset, compare, *vals: ps.lab_submit(
                ctx, n, session, preset, dict(zip(field_ids, vals)), bool(compare)
            )[:2]
        )
    )
    app.callback(
        Output("lab-status", "children"),
        Output("lab-charts", "children"),
        Output("lab-poll", "disabled"),
        Input("lab-poll", "n_intervals"),
        Input("lab-job", "data"),
        State("session", "data"),
    )(guard(3)(lambda _n, job_id, session: ps.lab_poll(ctx, session, job_id)))
    app.callback(
        Output("lab-jobs", "children"),
        Input("lab-poll", "n_intervals"),
        Input("lab-job", "data"),
        State("session", "data"),
    )(guard(1)(lambda _n, _j, session: ps.jobs_view(ctx, session)))
    app.callback(Output("runs-out", "children"), Input("runs-a", "value"), Input("runs-b", "value"))(
        guard(1)(lambda a, b: ps.runs_compare(ctx, a, b))
    )
    return app
