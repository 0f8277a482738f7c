"""The dashboard's callbacks called as plain functions (no browser): pages, bad input, limits,
uploads parsed in memory, per-session jobs, a crashed run, stored-run comparison."""

from __future__ import annotations

import base64
import json

import pytest

dash = pytest.importorskip("dash")

from basislab.dashboard import app as dapp  # noqa: E402
from basislab.dashboard import pages_analytics as pa  # noqa: E402
from basislab.dashboard import pages_sim as ps  # noqa: E402
from basislab.dashboard.jobs import JobQueue, Limits, QueueFull, RequestTooLarge  # noqa: E402
from basislab.dashboard.ui import Context, guard  # noqa: E402
from basislab.errors import PriceDataError, ScenarioError  # noqa: E402


def text_of(component) -> str:
    """Every string in a Dash component tree (what the page would show)."""
    return json.dumps(
        component.to_plotly_json() if hasattr(component, "to_plotly_json") else component,
        default=lambda o: o.to_plotly_json() if hasattr(o, "to_plotly_json") else str(o),
    )


@pytest.fixture(scope="module")
def ctx(stores):
    db, runs, _ = stores
    return Context(db, runs, Limits(), JobQueue(max_queue=2))


def test_every_page_renders(ctx):
    for path, _label, _ in dapp.PAGES:
        out = text_of(dapp.page_for(ctx, path))
        assert "internal error" not in out, path
    assert "There is no page" in text_of(dapp.page_for(ctx, "/nope"))


def test_overview_flags_stale_series_and_shows_zscores(ctx):
    out = text_of(dapp.page_for(ctx, "/"))
    assert "Basis-trade size estimate" in out and ("z +" in out or "z -" in out)
    assert "Stale series" in out and "Latest data dates" in out


def test_policy_page_without_maps_says_how_to_make_one(ctx):
    out = text_of(dapp.page_for(ctx, "/policy"))
    assert "no survival map is stored yet" in out and "basislab policy seed-thesis --grid survival" in out


def test_episodes_page_lists_the_replays(ctx):
    out = text_of(dapp.page_for(ctx, "/episodes"))
    assert "episodes-table" in out and "mar-2020" in out and "basislab validate late-2025" in out


def test_basis_view_default_and_switches(ctx):
    out = text_of(pa.basis_view(ctx, "TYU4", "2024-06-26", None, None, None, None))
    # CTD of TYU4 on 2024-06-26: 91282CKU4, implied repo 5.182% vs SOFR 5.34% (-15.8bp)
    assert "91282CKU4" in out and "5.182%" in out and "-15.8 bp" in out
    assert "switch-table" in out and "91282CKN0" in out


def test_bad_basis_input_is_one_line(ctx):
    view = guard(1)(pa.basis_view)
    for args, fragment in (
        (("XXU4", "2024-06-26", None, None, None, None), "unknown contract"),
        (("TYU4", "26/06/2024", None, None, None, None), "not a date"),
        (("TYU4", "2024-06-27", None, None, None, None), "2024-06-26 only"),
        (("TYU4;rm -rf", "2024-06-26", None, None, None, None), "not valid"),
    ):
        out = text_of(view(ctx, *args))
        assert "msg-error" in out and fragment in out, out[:300]
        assert "Traceback" not in out


def _upload(text: str) -> str:
    return "data:text/csv;base64," + base64.b64encode(text.encode()).decode()


def test_upload_parsed_in_memory(ctx, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    csv = (
        "cusip,coupon_pct,maturity,clean_price,issue_date\n"
        "91282CKU4,4.625,2031-05-31,101.8203125,2024-05-31\n"
        "91282CKN0,4.625,2031-04-30,101.8203125,2024-04-30\n"
    )
    out = text_of(pa.basis_view(ctx, "TYU4", "2024-07-01", 110.0625, 5.34, _upload(csv), "../../etc/passwd"))
    assert "91282CKU4" in out and "5.34%" in out
    assert list(tmp_path.iterdir()) == []  # nothing written, the file name never used as a path
    with pytest.raises(PriceDataError, match="lacks columns"):
        pa.parse_upload(_upload("a,b\n1,2\n"), "x.csv", 1000)
    with pytest.raises(PriceDataError, match="the limit is 10"):
        pa.parse_upload(_upload(csv), "x.csv", 10)


def test_trade_view(ctx):
    out = text_of(pa.trade_view(ctx, "TYU4", 100, 0.0, "cf", None))
    assert "91282CKU4" in out and "stress-table" in out and "leverage" in out
    with pytest.raises(PriceDataError):
        pa.trade_view(ctx, "TYU4", -5, 0.0, "cf", None)


def test_positions_by_trader(ctx):
    from basislab.dashboard import pages_market as pm

    out = text_of(pm.positions_by_trader(ctx, "TY", "usd"))
    assert "leveraged funds short" in out and "USD bn" in out
    assert "unknown contract" in text_of(pm.positions_by_trader(ctx, "'; DROP TABLE", "usd"))


VALUES = {
    "paths": 2,
    "funds": 5,
    "horizon": 20,
    "seed": 0,
    "leverage": 56,
    "haircut": 0.0,
    "shock_scale": 1.0,
    "vol": 3.0,
}


def test_limits_refuse_big_requests(ctx):
    with pytest.raises(RequestTooLarge, match="exceeds the dashboard's cap of 4,000,000"):
        ps.lab_request(ctx, "seed-thesis", {**VALUES, "paths": 256, "funds": 500, "horizon": 250}, True)
    with pytest.raises(RequestTooLarge, match="paths must be between 1 and 256"):
        Limits().check(1000, 5, 20)
    with pytest.raises(ScenarioError, match="unknown scenario"):
        ps.lab_request(ctx, "../../etc/passwd", VALUES, False)
    with pytest.raises(ScenarioError, match="not a number"):
        ps.lab_request(ctx, "seed-thesis", {**VALUES, "vol": "__import__('os')"}, False)


def test_form_becomes_whitelisted_overrides(ctx):
    sc, paths, seed = ps.lab_request(
        ctx, "seed-thesis", {**VALUES, "shock_scale": 0.5, "haircut": 1.5}, False
    )
    assert (paths, seed, sc.funds.count, sc.horizon_days) == (2, 0, 5, 20)
    assert sc.repo.bilateral.haircut_pct == 1.5 and not sc.compare_backstop
    assert sc.shock.yield_bp["10y"] == pytest.approx(32.0)  # half the preset's 64bp


def test_jobs_are_per_session_and_a_crash_shows_an_error(ctx):
    q = JobQueue(max_queue=2)

    def crash(report):
        report(0.5, "half way")
        raise ZeroDivisionError("boom")

    job = q.wait(q.submit("session-a", "crash", crash))
    assert job.status == "failed" and job.message == "the run crashed: ZeroDivisionError: boom"
    assert q.get("session-b", job.id) is None and q.for_session("session-b") == []
    assert q.get("session-a", job.id) is job
    # the page shows it: the poll of session A gets an error line, B sees nothing of A's
    c = Context(ctx.db, ctx.runs_dir, ctx.limits, q)
    status, charts, disabled = ps.lab_poll(c, "session-a", job.id)
    assert "the run failed: the run crashed" in text_of(status) and charts is None and disabled
    assert "belongs to no job" in text_of(ps.lab_poll(c, "session-b", job.id)[0])
    # the worker survives: the next job runs
    assert q.wait(q.submit("session-a", "ok", lambda report: "fine")).result == "fine"


def test_queue_is_bounded():
    import threading

    q, gate = JobQueue(max_queue=2), threading.Event()
    q.submit("s", "a", lambda r: gate.wait(5))
    q.submit("s", "b", lambda r: gate.wait(5))
    with pytest.raises(QueueFull, match="queue is full"):
        q.submit("s", "c", lambda r: None)
    gate.set()


def test_runs_compare(ctx, stores):
    _, _, ids = stores
    out = text_of(ps.runs_compare(ctx, ids[0], ids[1]))
    assert "synthetic-a" in out and "synthetic-b" in out and "runs-compare" in out
    with pytest.raises(ScenarioError, match="unknown run"):
        ps.runs_compare(ctx, "../outside", ids[1])


def test_serve_does_not_import_dash_elsewhere():
    import subprocess
    import sys

    code = "import sys, basislab.app.cli as c; c.app; print('dash' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "False"
