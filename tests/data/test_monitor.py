"""The monitor's indicators on a date, checked against the data."""

from __future__ import annotations

import json

import pytest

from basislab.data import monitor


@pytest.fixture(scope="module")
def sep2019(con):
    return monitor.compute("2019-09-17", con=con)


def by_name(inds):
    return {i.name: i for i in inds}


def test_sep_2019_funding_stress(sep2019):
    d, inds = sep2019
    m = by_name(inds)
    assert m["sofr_pct"].value == 5.25 and m["sofr_pct"].date == "2019-09-17"
    assert m["sofr_minus_iorb_bp"].value == pytest.approx(315.0)  # 5.25 - 2.10 (IOER)
    assert m["sofr_minus_ff_top_bp"].value == pytest.approx(300.0)  # top of 2.00-2.25
    assert m["sofr_minus_ff_top_bp"].change == pytest.approx(282.0)  # from 18bp on 2019-09-16
    assert m["sofr_minus_iorb_bp"].zscore > 10
    assert m["fed_repo_ops_usd_bn"].value == pytest.approx(40.85)
    # The September average (with days after the 17th) was not out yet: July's, released by 08-28.
    assert m["reserves_usd_bn"].date == "2019-07-01" and not m["reserves_usd_bn"].stale
    assert not m["sofr_pct"].stale
    assert "Federal Reserve Bank of New York" in m["sofr_pct"].source


def test_positions_and_stale_flags(sep2019):
    _, inds = sep2019
    m = by_name(inds)
    assert m["TY_lev_short_contracts"].date == "2019-09-17" and not m["TY_lev_short_contracts"].stale
    # TU's 2019 weeks come from the 2017-2020 extract: same week, not stale.
    assert m["TU_lev_short_contracts"].date == "2019-09-17" and not m["TU_lev_short_contracts"].stale


def test_mar_2020_basis_estimate(con):
    _, inds = monitor.compute("2020-03-17", con=con)
    m = by_name(inds)
    b = m["basis_trade_size_usd_bn"]
    assert b.date == "2020-03-17"
    # Net short notional summed over contracts, below the gross shorts
    parts = sum(max(m[f"{r}_lev_net_short_usd_bn"].value, 0) for r in ("TU", "FV", "TY", "TN", "US", "UB"))
    assert b.value == pytest.approx(parts)
    assert b.value < m["total_lev_short_usd_bn"].value
    assert 350 < b.value < 650  # Barth & Kahn: $400-500bn at the 2019-20 peak
    assert "Monin" in b.source


def test_latest_and_json(con):
    d, inds = monitor.compute(None, con=con)
    assert d.isoformat() == "2026-08-04"
    doc = monitor.to_json(d, inds)
    json.dumps(doc)
    for obj in doc["indicators"]:
        assert {"name", "date", "value", "unit", "zscore", "source"} <= set(obj)
    m = {o["name"]: o for o in doc["indicators"]}
    assert m["TY_lev_short_contracts"]["value"] == 2_501_936  # 2026-08-04 in the 10-year file
    assert m["iorb_pct"]["stale"] is True  # IORB ends 2026-06-23, six weeks before the 2026-08-04 TFF week
    assert m["sofr_pct"]["date"] == "2026-06-23"
    # 2026 positions are priced off the last stored par curve (2025-07-11): said in the note.
    assert "2025-07-11" in m["TY_lev_short_usd_bn"]["note"]
    assert m["TY_lev_short_contracts"]["note"] == ""


def test_zscore_uses_only_history_up_to_the_date(con):
    _, a = monitor.compute("2019-09-17", con=con)
    _, b = monitor.compute("2019-09-18", con=con)
    za = by_name(a)["sofr_minus_iorb_bp"].zscore
    zb = by_name(b)["sofr_minus_iorb_bp"].zscore
    assert za != zb and za > zb


def test_html_report(con, tmp_path):
    from basislab.report.monitor_report import write_monitor

    d, inds = monitor.compute("2020-03-17", con=con, with_history=True)
    path = write_monitor(tmp_path / "m.html", d, inds)
    text = path.read_text()
    for label in (
        "Sep 2019 repo spike",
        "Mar 2020 dash for cash",
        "Apr 2025 tariff sell-off",
        "Oct 2025 repo pressure",
    ):
        assert label in text
    assert "Federal Reserve Bank of New York" in text
    assert text.count("<script") >= 1 and "plotly" in text.lower()


def test_no_change_across_a_gap(con):
    # TU: 2015-12-29, then nothing in 2016 (not found offline), then 2017-01-03.
    _, inds = monitor.compute("2017-01-03", con=con)
    tu = by_name(inds)["TU_lev_short_contracts"]
    assert tu.date == "2017-01-03" and tu.previous_date == "2015-12-29"
    assert tu.change is None and "previous observation 371 days earlier" in tu.note
    ty = by_name(inds)["TY_lev_short_contracts"]
    assert ty.previous_date == "2016-12-27" and ty.change is not None
