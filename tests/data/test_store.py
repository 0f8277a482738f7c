"""The store built from the bundled snapshot: values checked against the sources, schema, provenance."""

from __future__ import annotations

import datetime as dt
import sys

import duckdb
import pytest

from basislab.data import store
from basislab.errors import DataError

D = dt.date


def one(con, sql, *params):
    return con.execute(sql, list(params)).fetchone()


def test_sofr_sep_2019_spike(con):
    assert one(con, "SELECT value FROM rates_daily WHERE series='SOFR' AND date=?", D(2019, 9, 17))[0] == 5.25
    assert one(con, "SELECT value FROM rates_daily WHERE series='SOFR' AND date=?", D(2019, 9, 16))[0] == 2.43
    # The FRED copies extend SOFR beyond the parquet (2025-01-24) to 2026-06-23; both give 3.91 on 2025-11-20.
    assert one(con, "SELECT max(date) FROM rates_daily WHERE series='SOFR'")[0] == D(2026, 6, 23)
    assert (
        one(con, "SELECT value FROM rates_daily WHERE series='SOFR' AND date=?", D(2025, 11, 20))[0] == 3.91
    )


def test_par_curve_newest_first_two_digit_years(con):
    q = "SELECT yield_pct FROM par_yield_curve WHERE tenor='10Y' AND date=?"
    assert one(con, q, D(2020, 3, 9))[0] == 0.54
    assert one(con, q, D(2020, 3, 18))[0] == 1.18
    assert one(con, q, D(1990, 1, 2))[0] == 7.94  # last line of the newest-first file, "1/2/90"
    assert one(con, q, D(2023, 12, 29))[0] == 3.88
    assert (
        one(con, "SELECT yield_pct FROM par_yield_curve WHERE tenor='1.5M' AND date=?", D(2025, 7, 11))[0]
        == 4.39
    )
    assert one(con, "SELECT min(date), max(date) FROM par_yield_curve") == (D(1990, 1, 2), D(2025, 7, 11))


def test_tff_10y_open_interest_and_leveraged_short(con):
    row = one(
        con,
        "SELECT open_interest, lev_short, am_long, source FROM cftc_tff "
        "WHERE contract='TY' AND report_date=?",
        D(2020, 3, 17),
    )
    assert row[:2] == (3_659_033, 1_139_024)
    assert row[2] > 0


def test_tff_shorts_are_positive_after_flipping_the_10y_file(con):
    # 2006-06-13 is only in the 10-year file, where am_short is stored as -626856.
    row = one(
        con,
        "SELECT am_short, lev_short, lev_long FROM cftc_tff WHERE contract='TY' AND report_date=?",
        D(2006, 6, 13),
    )
    assert row == (626_856, 341_324, 382_345)
    assert one(con, "SELECT count(*) FROM cftc_tff WHERE lev_short < 0 OR am_short < 0")[0] == 0


def test_tff_contracts_and_weeks(con):
    counts = dict(con.execute("SELECT contract, count(*) FROM cftc_tff GROUP BY 1").fetchall())
    # 275 weeks in the 2015-2026 file plus 212 from the 2017-2020/2023/2024 extract (1,698 rows, 426 overlap).
    assert counts == {"TY": 1052, "TU": 487, "FV": 487, "US": 487, "UB": 487, "TN": 435}
    # Every report date is a Tuesday, except holiday weeks that CFTC moved (none in these files on a weekend).
    days = {r[0] for r in con.execute("SELECT DISTINCT dayofweek(report_date) FROM cftc_tff").fetchall()}
    assert days <= {1, 2, 3, 4, 5} and 2 in days


def test_weekly_and_monthly_series_keep_only_observation_dates(con):
    treast_days = {
        r[0]
        for r in con.execute(
            "SELECT DISTINCT dayofweek(date) FROM fed_balance_sheet WHERE series='TREAST'"
        ).fetchall()
    }
    assert treast_days == {3}  # DuckDB: Sunday=0, so Wednesday=3
    assert (
        one(con, "SELECT count(*) FROM fed_balance_sheet WHERE series='TOTRESNS' AND day(date) <> 1")[0] == 0
    )
    # H.4.1 Wednesday 2019-09-18: Fed Treasury holdings 2,105.826bn
    assert one(con, "SELECT value FROM fed_balance_sheet WHERE series='TREAST' AND date=?", D(2019, 9, 18))[
        0
    ] == pytest.approx(2105.826)


def test_units_usd_bn(con):
    # WTREGEN comes from the FRED copy in USD mn: 941,926 -> 941.926 bn
    assert one(con, "SELECT value FROM fed_balance_sheet WHERE series='WTREGEN' AND date=?", D(2025, 11, 19))[
        0
    ] == pytest.approx(941.926)
    assert one(con, "SELECT value FROM fed_balance_sheet WHERE series='RPONTSYD' AND date=?", D(2019, 9, 17))[
        0
    ] == pytest.approx(40.85)
    # OFR volumes converted from USD to USD bn
    v = one(con, "SELECT value FROM rates_daily WHERE series='REPO-TRI_TV_OO-P' AND date=?", D(2019, 9, 17))[
        0
    ]
    assert v == pytest.approx(1292.527, abs=0.01)


def test_securities_master_from_auctions_and_price_list(con):
    row = one(
        con,
        "SELECT security_type, coupon_pct, issue_date, maturity_date, original_term, price "
        "FROM securities WHERE cusip='91282CKT7'",
    )
    assert row[:5] == ("Note", 4.5, D(2024, 5, 31), D(2029, 5, 31), "5-Year")
    assert row[5] == pytest.approx(100.71875)
    # A reopened bond keeps the original term of its first auction and its original issue date.
    row = one(con, "SELECT original_term, issue_date, n_auctions FROM securities WHERE cusip='912810TZ1'")
    assert row == ("20-Year", D(2024, 2, 29), 3)
    assert one(con, "SELECT security_type FROM securities WHERE cusip='912828YL8'")[0] == "TIPS"
    # every line of the BOM-prefixed export, plus the 2026 auctions of the securities-search file
    assert one(con, "SELECT count(*) FROM auctions")[0] == 10924
    assert one(con, "SELECT count(*) FROM security_prices")[0] == 453


def test_futures_closes(con):
    assert one(con, "SELECT price FROM futures_prices WHERE contract='TYU4'")[0] == 110.0625


def test_schema_version_and_provenance(con):
    assert store.schema_version(con) == store.SCHEMA_VERSION
    prov = con.execute("SELECT table_name, source, publisher, retrieved, rows FROM provenance").df()
    assert set(prov.table_name) == set(store.TABLE_KEYS)
    tff = prov[prov.source == "snapshot:cftc_tff_10y_2006_2026.csv"].iloc[0]
    assert tff.publisher == "CFTC" and tff.rows == 1052 - 487  # 10y weeks not in the raw files
    assert (prov.rows > 0).all()


def test_db_location_env_and_option(monkeypatch, tmp_path):
    monkeypatch.setenv("BASISLAB_DB", str(tmp_path / "env.duckdb"))
    assert store.resolve_db_path() == tmp_path / "env.duckdb"
    assert store.resolve_db_path(tmp_path / "opt.duckdb") == tmp_path / "opt.duckdb"
    monkeypatch.delenv("BASISLAB_DB")
    monkeypatch.setenv("BASISLAB_DATA_DIR", str(tmp_path / "data"))
    assert store.resolve_db_path() == tmp_path / "data" / "basislab.duckdb"
    monkeypatch.delenv("BASISLAB_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    if sys.platform.startswith("linux"):
        assert store.resolve_db_path() == tmp_path / "xdg" / "basislab" / "basislab.duckdb"


def test_connect_creates_on_first_use(built_db, tmp_path, monkeypatch):
    path = tmp_path / "sub" / "first.duckdb"
    monkeypatch.setattr(
        store, "build_from_snapshot", lambda p, only_if_missing=False: __import__("shutil").copy(built_db, p)
    )
    path.parent.mkdir()
    with pytest.raises(DataError, match="no basislab store at .*first.duckdb.*--create"):
        store.connect(path)  # an explicit path must exist: a mistyped --db builds nothing
    assert not path.exists()
    c = store.connect(path, create=True)
    assert c.execute("SELECT count(*) FROM cftc_tff").fetchone()[0] == 3435
    c.close()


def test_migrate_empty_database_and_refuse_newer(tmp_path):
    path = tmp_path / "empty.duckdb"
    c = duckdb.connect(str(path))
    assert store.schema_version(c) == 0
    assert store.migrate(c) == store.SCHEMA_VERSION
    assert c.execute("SELECT count(*) FROM cftc_tff").fetchone()[0] == 0
    c.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    with pytest.raises(DataError, match="newer"):
        store.migrate(c)
    c.close()


def test_failed_build_leaves_no_store(tmp_path, monkeypatch):
    def boom():
        raise DataError("cftc_tff_10y_2006_2026.csv: line 5 truncated")

    monkeypatch.setattr(store, "snapshot_tables", boom)
    path = tmp_path / "never.duckdb"
    with pytest.raises(DataError, match="truncated"):
        store.build_from_snapshot(path)
    assert not path.exists()
    assert [p.name for p in tmp_path.iterdir()] == [".never.duckdb.lock"]  # the (empty) build lock only


def test_not_a_store(tmp_path):
    bad = tmp_path / "bad.duckdb"
    bad.write_text("this is not a database")
    with pytest.raises(DataError, match="bad.duckdb"):
        store.connect(bad)


def test_rebuild_over_an_old_store_drops_its_wal(tmp_path, built_db):
    import shutil

    path = tmp_path / "old.duckdb"
    shutil.copy(built_db, path)
    (tmp_path / "old.duckdb.wal").write_bytes(b"\x00garbage from a crashed session")
    store.build_from_snapshot(path)
    assert not (tmp_path / "old.duckdb.wal").exists()
    c = store.connect(path, read_only=True)
    assert c.execute("SELECT count(*) FROM cftc_tff").fetchone()[0] == 3435
    c.close()


def test_store_from_an_older_snapshot_is_topped_up(db_copy):
    """A store built before the 2026-11-28 files (and refreshed since) gets the new snapshot rows
    when opened; rows from a publisher's refresh are kept, not overwritten by the snapshot."""
    c = duckdb.connect(str(db_copy))
    new = "SELECT source FROM provenance WHERE retrieved = '2026-11-28'"
    for table in ("cftc_tff", "rates_daily", "fed_balance_sheet", "auctions", "futures_front_month"):
        c.execute(f"DELETE FROM {table} WHERE source IN ({new})")
    c.execute("DELETE FROM provenance WHERE retrieved = '2026-11-28'")
    c.execute("DELETE FROM meta WHERE key = 'snapshot_version'")
    c.execute(
        "UPDATE rates_daily SET value = 9.99, source = 'FRED SOFR.csv' WHERE series = 'SOFR' AND date = ?",
        [D(2019, 9, 17)],
    )
    assert c.execute("SELECT count(*) FROM cftc_tff").fetchone()[0] == 2163
    c.close()
    c = store.connect(db_copy, read_only=True)
    try:
        assert store.snapshot_version(c) == store.SNAPSHOT_VERSION
        assert c.execute("SELECT count(*) FROM cftc_tff").fetchone()[0] == 3435
        assert c.execute("SELECT max(date) FROM rates_daily WHERE series = 'IORB'").fetchone()[0] == D(
            2026, 6, 23
        )
        assert c.execute("SELECT count(*) FROM futures_front_month").fetchone()[0] == 25624
        row = c.execute(
            "SELECT value, source FROM rates_daily WHERE series = 'SOFR' AND date = ?", [D(2019, 9, 17)]
        )
        assert row.fetchone() == (9.99, "FRED SOFR.csv")  # the refreshed row is kept
    finally:
        c.close()
