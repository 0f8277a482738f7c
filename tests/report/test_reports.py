"""The HTML reports: the simulation report tells the run's own story; plotly.js inline or shared."""

import pytest

from basislab.report import html as rhtml
from basislab.report.sim_report import build_sections, write_report


def test_narrative_uses_the_simulated_book(stored):
    # a today@ scenario inherits the seed-thesis prose (USD 830bn); the run simulated USD 962bn
    text = build_sections(stored)[0].text
    assert "USD 962bn" in text and "830" not in text
    assert (
        "2y 45%" in text
        and "5y 25%" in text
        and "Initial conditions from the data store on 2025-09-30" in text
    )


def test_description_kept_when_it_matches(stored):
    stored.scenario["funds"]["total_position_usd_bn"] = 830
    assert "Scenario: Basis-trade book (USD 830bn" in build_sections(stored)[0].text


def test_sections_cover_the_story(stored):
    titles = [s.title for s in build_sections(stored)]
    for t in (
        "The scenario's parameters",
        "Cash needs against buffers: morning calls, end-of-day settlement",
        "Prices and the basis",
        "Forced sales: who sold to whom",
        "Margins: repo haircuts, repo refusal, initial margin",
        "Leverage and equity across funds",
        "Accounting audit",
    ):
        assert t in titles
    params = build_sections(stored)[1].tables_html[0]
    assert "962.4" in params and "shock yield bp" in params


def test_inline_and_shared_plotlyjs(stored, tmp_path):
    a = write_report(stored, tmp_path / "inline" / "r.html")
    b = write_report(stored, tmp_path / "shared" / "r.html", plotlyjs="shared")
    js = tmp_path / "shared" / "plotly.min.js"
    assert js.exists() and js.stat().st_size > 3_000_000
    # self-contained: plotly.js inlined once; shared: linked, the report itself a small fraction
    assert a.stat().st_size > 3_000_000 and a.read_text().count("Plotly.newPlot") >= 10
    assert b.stat().st_size < a.stat().st_size / 5
    text = b.read_text()
    assert '<script charset="utf-8" src="plotly.min.js"></script>' in text and "cdn" not in text.lower()
    # a second report in the same folder reuses the file
    before = js.stat().st_mtime_ns
    write_report(stored, tmp_path / "shared" / "r2.html", plotlyjs="shared")
    assert js.stat().st_mtime_ns == before


def test_bad_plotlyjs_mode(stored, tmp_path):
    from basislab.errors import BasislabError

    with pytest.raises(BasislabError, match="expected one of inline, shared"):
        write_report(stored, tmp_path / "r.html", plotlyjs="cdn")


def test_atomic_write_leaves_no_temporary(tmp_path):
    rhtml.atomic_write(tmp_path / "a.html", "x")
    assert [p.name for p in tmp_path.iterdir()] == ["a.html"]


def test_monitor_report_breaks_cftc_gaps(tmp_path):
    from basislab.data import monitor, store
    from basislab.report import charts
    from basislab.report.monitor_report import figures

    db = tmp_path / "s.duckdb"
    store.build_from_snapshot(db)
    d, inds = monitor.compute(db=db, with_history=True)
    figs = figures(d, inds)
    tu = next(tr for tr in figs["lev_net_short"].data if tr.name == "TU")
    # the bundled CFTC files miss TU for 2016 and for stretches of 2023-2025 (`basislab data
    # status`): the line breaks at each of those holes, and only there
    breaks = [tu.x[i] for i, v in enumerate(tu.y) if v is None]
    assert len(breaks) >= 3
    assert any(str(b).startswith("2016") for b in breaks)
    ty = next(tr for tr in figs["lev_net_short"].data if tr.name == "TY")
    assert sum(v is None for v in ty.y) == 0  # TY is complete: no break
    for fig in figs.values():
        assert charts.is_empty(fig) or fig.layout.yaxis.title.text
