"""`basislab data status`, `basislab data refresh` and `basislab monitor` end to end (in-process)."""

from __future__ import annotations

import json
import shutil
import urllib.error

import pytest

from basislab.app.cli import main
from basislab.data import store


@pytest.fixture(scope="module")
def snapshot_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "basislab.duckdb"
    store.build_from_snapshot(path)
    return path


@pytest.fixture
def db(snapshot_db, tmp_path, monkeypatch):
    path = tmp_path / "store.duckdb"
    shutil.copy(snapshot_db, path)
    monkeypatch.setenv("BASISLAB_DB", str(path))
    monkeypatch.setenv("COLUMNS", "200")
    return path


def run(capsys, *argv):
    try:
        main(list(argv))
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err


def test_monitor_json(db, capsys):
    code, out, err = run(capsys, "monitor", "--date", "2019-09-17", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["monitor_date"] == "2019-09-17"
    m = {o["name"]: o for o in doc["indicators"]}
    assert m["sofr_pct"]["value"] == 5.25
    assert m["sofr_minus_iorb_bp"]["value"] == pytest.approx(315.0)
    assert m["sofr_minus_iorb_bp"]["zscore"] > 10
    assert m["TY_lev_short_contracts"]["unit"] == "contracts"
    for o in doc["indicators"]:
        assert {"name", "date", "value", "unit", "zscore", "source"} <= set(o)
    assert "Federal Reserve Bank of New York" in doc["attribution"]


def test_monitor_table_and_html(db, capsys, tmp_path):
    html = tmp_path / "monitor.html"
    code, out, err = run(capsys, "monitor", "--date", "2020-03-17", "--html", str(html))
    assert code == 0, err
    assert "basislab monitor 2020-03-17" in out and "SOFR minus IORB" in out
    assert "Federal Reserve Bank of New York" in out
    text = html.read_text()
    assert "Mar 2020 dash for cash" in text and "Oct 2025 repo pressure" in text


def test_monitor_bad_date_is_one_line_exit_2(db, capsys):
    code, out, err = run(capsys, "monitor", "--date", "2020-02-30")
    assert code == 2
    assert "not a date: '2020-02-30'" in err and "Traceback" not in err


def test_db_option_overrides_env(snapshot_db, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("BASISLAB_DB", str(tmp_path / "elsewhere.duckdb"))
    code, out, err = run(capsys, "data", "status", "--json", "--db", str(snapshot_db))
    assert code == 0, err
    assert json.loads(out)["store"] == str(snapshot_db)
    assert not (tmp_path / "elsewhere.duckdb").exists()


def test_status_shows_gaps_from_the_data(db, capsys):
    code, out, err = run(capsys, "data", "status", "--json")
    assert code == 0, err
    doc = json.loads(out)
    cov = {(c["table"], c["item"]): c for c in doc["coverage"]}
    tu = cov[("cftc_tff", "TU")]
    assert tu["rows"] == 487 and tu["last"] == "2026-08-04"
    # What is still missing after the 2026-11-28 files (snapshot/SOURCES.md, "Still not found offline").
    assert [list(g) for g in tu["gaps"]] == [
        ["2016-01-05", "2016-12-27"],
        ["2023-11-07", "2023-12-26"],
        ["2024-07-30", "2024-12-31"],
        ["2025-05-06", "2025-12-30"],
    ]
    assert cov[("cftc_tff", "TY")]["gaps"] == []
    assert cov[("rates_daily", "SOFR")]["last"] == "2026-06-23" and cov[("rates_daily", "SOFR")]["gaps"] == []
    assert cov[("rates_daily", "IORB")]["gaps"] == []
    # Fed holdings end with the parquet: the stretch to the end of the funding data is a gap.
    assert cov[("fed_balance_sheet", "TREAST")]["gaps"] == [["2025-01-29", "2026-06-23"]]
    assert cov[("futures_front_month", "TY")]["last"] == "2026-02-23"
    assert cov[("cftc_tff", "(all)")]["rows"] == 3435
    assert doc["schema_version"] == store.SCHEMA_VERSION
    code, out, _ = run(capsys, "data", "status")
    assert code == 0 and "2016-01-05..2016-12-27" in out and "snapshot:cftc_tff_10y_2006_2026.csv" in out


def test_refresh_offline_exit_2_and_store_intact(db, capsys, monkeypatch):
    import basislab.data.refresh as refresh

    def offline(url, data=None, timeout=None):
        raise urllib.error.URLError("Network is unreachable")

    monkeypatch.setattr(refresh, "http_get", offline)
    code, out, err = run(capsys, "data", "refresh", "--source", "fred", "--source", "ofr")
    assert code == 2
    assert (
        "could not reach the publishers of fred, ofr (Network is unreachable)" in err
        and "Traceback" not in err
    )
    code, out, err = run(capsys, "monitor", "--date", "2019-09-17", "--json")
    assert json.loads(out)["indicators"]


def test_refresh_unknown_source(db, capsys):
    code, out, err = run(capsys, "data", "refresh", "--source", "nope")
    assert code == 2 and "unknown refresh source" in err


def test_rebuild_restores_the_snapshot(db, capsys):
    import duckdb

    c = duckdb.connect(str(db))
    c.execute("DELETE FROM rates_daily WHERE series = 'SOFR'")
    c.close()
    code, out, err = run(capsys, "data", "rebuild", "--yes")
    assert code == 0, err
    c = duckdb.connect(str(db), read_only=True)
    assert (
        c.execute("SELECT value FROM rates_daily WHERE series='SOFR' AND date='2019-09-17'").fetchone()[0]
        == 5.25
    )
    c.close()


def test_refresh_partial_failure_exit_1(db, capsys, monkeypatch):
    from pathlib import Path

    import basislab.data.refresh as refresh

    body = (Path(__file__).parents[1] / "data" / "fixtures" / "ofr_REPO-TRI_AR_OO-P_sample.json").read_bytes()

    def web(url, data=None, timeout=None):
        if "financialresearch" in url:
            return body
        raise urllib.error.URLError("Network is unreachable")

    monkeypatch.setattr(refresh, "http_get", web)
    code, out, err = run(capsys, "data", "refresh", "--source", "fred", "--source", "ofr")
    assert code == 1
    assert (
        "failed fred: could not reach the publisher" in out and "ok ofr: rates_daily 40 rows" in out
    )  # 10 mnemonics x 4 days
