"""Bad data: a clear error (or a warning for an exact duplicate) naming the file, line and column."""

from __future__ import annotations

import shutil
import warnings

import pandas as pd
import pytest

from basislab.data import parsers, snapshot_path, store
from basislab.data.validate import DataWarning
from basislab.errors import DataError

RAW = "cftc_tff_treasury_futures_raw_2015_2026_partial.csv"
TY10 = "cftc_tff_10y_2006_2026.csv"


def lines(name: str) -> list[str]:
    return snapshot_path(name).read_text(encoding="utf-8-sig").splitlines()


def write(tmp_path, name, text_lines):
    p = tmp_path / name
    p.write_text("\n".join(text_lines) + "\n")
    return p


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"nope\.csv: file not found"):
        parsers.parse_fred_csv(tmp_path / "nope.csv", "SOFR")
    with pytest.raises(DataError, match="missing from"):
        snapshot_path("nope.csv")


def test_empty_file(tmp_path):
    p = tmp_path / "empty.csv"
    p.write_text("")
    with pytest.raises(DataError, match="empty.csv: file is empty"):
        parsers.parse_fred_csv(p, "SOFR")


def test_truncated_tff_file(tmp_path):
    ls = lines(RAW)[:40]
    cut = ls[-1][: len(ls[-1]) // 2]  # the download stopped in the middle of line 40
    p = write(tmp_path, RAW, ls[:-1] + [cut])
    with pytest.raises(DataError, match=rf"{RAW}: line 40 truncated"):
        parsers.parse_tff_csv(p)


def test_truncated_par_curve(tmp_path):
    ls = lines("treasury_par_yield_curve_2024.csv")[:10]
    p = write(tmp_path, "curve.csv", ls[:-1] + [ls[-1].rsplit(",", 3)[0]])
    with pytest.raises(DataError, match="curve.csv: line 10 truncated: 11 fields where the header has 14"):
        parsers.parse_par_curve(p)


def test_renamed_column_is_a_schema_change(tmp_path):
    ls = lines(RAW)[:5]
    ls[0] = ls[0].replace("Lev_Money_Positions_Short_All", "Lev_Money_Short_All")
    p = write(tmp_path, RAW, ls)
    with pytest.raises(
        DataError, match=r"schema change at CFTC\? missing column\(s\) \['lev_money_positions_short'\]"
    ):
        parsers.parse_tff_csv(p)


def test_missing_tenor_column(tmp_path):
    ls = [
        ",".join(c for i, c in enumerate(line.split(",")) if i != 11)
        for line in lines("treasury_par_yield_curve_2024.csv")[:5]
    ]
    p = write(tmp_path, "curve.csv", ls)
    with pytest.raises(DataError, match="no 10 Yr column"):
        parsers.parse_par_curve(p)


def test_non_numeric_cell(tmp_path):
    ls = lines(TY10)[:20]
    f = ls[12].split(",")
    f[6] = "1,2x3"  # lev_short
    ls[12] = ",".join(f[:6]) + ',"12x3",' + f[7]
    p = write(tmp_path, TY10, ls)
    with pytest.raises(DataError, match=rf"{TY10}: line 13, column 'lev_short': non-numeric value '12x3'"):
        parsers.parse_tff_10y(p)


def test_non_numeric_fred_value(tmp_path):
    p = write(
        tmp_path,
        "SOFR.csv",
        ["observation_date,SOFR", "2019-09-16,2.43", "2019-09-17,5.25%%", "2019-09-18,."],
    )
    with pytest.raises(DataError, match=r"SOFR.csv: line 3, column 'SOFR': non-numeric value '5.25%%'"):
        parsers.parse_fred_csv(p, "SOFR")


def test_fred_missing_values_are_dropped(tmp_path):
    p = write(
        tmp_path, "SOFR.csv", ["observation_date,SOFR", "2019-10-11,1.85", "2019-10-14,.", "2019-10-15,"]
    )
    df = parsers.parse_fred_csv(p, "SOFR")
    assert list(df["value"]) == [1.85]


def test_bad_date(tmp_path):
    p = write(tmp_path, "SOFR.csv", ["observation_date,SOFR", "2019-09-16,2.43", "2019-13-01,2.5"])
    with pytest.raises(DataError, match=r"line 3, column 'observation_date': not a date"):
        parsers.parse_fred_csv(p, "SOFR")


def test_duplicate_week_identical_is_a_warning(tmp_path):
    ls = lines(TY10)[:10]
    p = write(tmp_path, TY10, ls + [ls[5]])
    with pytest.warns(
        DataWarning,
        match=r"duplicate \{'report_date': datetime.date\(2006, 7, 11\), 'contract': 'TY'\} "
        r"at lines \[6, 11\]",
    ):
        df = parsers.parse_tff_10y(p)
    assert len(df) == 9


def test_duplicate_week_conflicting_is_an_error(tmp_path):
    ls = lines(TY10)[:10]
    f = ls[5].split(",")
    f[1] = str(int(f[1]) + 1)
    p = write(tmp_path, TY10, ls + [",".join(f)])
    with pytest.raises(
        DataError, match=r"lines \[6, 11\] with different values in column\(s\) \['open_interest'\]"
    ):
        parsers.parse_tff_10y(p)


def test_sign_convention_change_in_10y_file(tmp_path):
    ls = lines(TY10)[:5]
    ls[3] = ls[3].replace("-841934", "841934")
    p = write(tmp_path, TY10, ls)
    with pytest.raises(DataError, match=r"line 4, column 'am_short': positive short"):
        parsers.parse_tff_10y(p)


def test_net_column_inconsistent(tmp_path):
    ls = lines(TY10)[:5]
    ls[2] = ls[2].replace(",-300134,", ",-300135,")
    p = write(tmp_path, TY10, ls)
    with pytest.raises(DataError, match=r"line 3, column 'am_net'"):
        parsers.parse_tff_10y(p)


def test_negative_position_in_raw_file(tmp_path):
    ls = lines(RAW)[:4]
    head = ls[0].split(",")
    i = head.index("Lev_Money_Positions_Long_All")
    f = ls[2].split(",")
    f[i] = "-5"
    ls[2] = ",".join(f)
    p = write(tmp_path, RAW, ls)
    with pytest.raises(DataError, match=r"line 3, column 'lev_money_positions_long': negative position"):
        parsers.parse_tff_csv(p)


def test_truncated_json():
    with pytest.raises(DataError, match=r"NY Fed SOFR: invalid JSON .* truncated response"):
        parsers.parse_nyfed_rates(b'{"refRates":[{"effectiveDate":"2019-09-17","type":"SO', "NY Fed SOFR")


def test_json_schema_change():
    with pytest.raises(DataError, match=r"no 'refRates' key"):
        parsers.parse_nyfed_rates(b'{"rates": []}', "NY Fed SOFR")
    with pytest.raises(DataError, match=r"missing column\(s\) \['percentRate'\]"):
        parsers.parse_nyfed_rates(
            b'{"refRates":[{"effectiveDate":"2019-09-17","type":"SOFR","rate":5.25}]}', "x"
        )
    with pytest.raises(DataError, match=r"record 2, column 'value': non-numeric value 'n/a'"):
        parsers.parse_ofr_timeseries(
            b'[["2019-09-16", 2.44], ["2019-09-17", "n/a"]]', "REPO-TRI_AR_OO-P", "OFR"
        )


def test_auctions_bom_and_schema(tmp_path):
    df = parsers.parse_auctions_csv(snapshot_path("treasurydirect_auctions_1979_2025.csv"))
    assert df.iloc[0]["cusip"] == "912810UP1"
    ls = lines("treasurydirect_auctions_1979_2025.csv")[:3]
    ls[0] = ls[0].replace("Maturity Date", "Maturity")
    p = write(tmp_path, "auctions.csv", ls)
    with pytest.raises(DataError, match=r"missing column\(s\) \['Maturity Date'\]"):
        parsers.parse_auctions_csv(p)


def test_bad_cusip(tmp_path):
    ls = lines("treasury_prices_2024-06-26.csv")[:4]
    ls[2] = "12345," + ls[2].split(",", 1)[1]
    p = write(tmp_path, "prices.csv", ls)
    with pytest.raises(DataError, match=r"line 3, column 'cusip': not a 9-character CUSIP '12345'"):
        parsers.parse_fedinvest_prices(p, "2024-06-26")


def test_parquet_missing_column_and_truncation(tmp_path):
    src = snapshot_path(store.PARQUET)
    df = pd.read_parquet(src).drop(columns=["TREAST"])
    p = tmp_path / store.PARQUET
    df.to_parquet(p)
    with pytest.raises(DataError, match=r"missing column\(s\) \['TREAST'\]"):
        store.parse_parquet(p)
    blob = src.read_bytes()
    p.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(DataError, match="cannot read parquet"):
        store.parse_parquet(p)


def test_bad_snapshot_file_stops_the_build(tmp_path, monkeypatch):
    """A corrupt bundled file is an error naming it, and no half-built store is left behind."""
    bad_dir = tmp_path / "snap"
    shutil.copytree(snapshot_path(RAW).parent, bad_dir)
    (bad_dir / TY10).chmod(0o644)
    (bad_dir / TY10).write_text("\n".join(lines(TY10)[:30] + ["2007-01-02,2000000,400000"]) + "\n")
    import basislab.data as data_pkg

    monkeypatch.setattr(data_pkg, "snapshot_path", lambda name: bad_dir / name)
    with pytest.raises(DataError, match=rf"{TY10}: line 31 truncated"):
        store.build_from_snapshot(tmp_path / "s.duckdb")
    assert not (tmp_path / "s.duckdb").exists()


def test_no_warnings_on_the_bundled_snapshot():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tables = store.snapshot_tables()
    assert {t for t, _, _ in tables} == set(store.TABLE_KEYS)


def test_tff_alternative_date_header(tmp_path):
    ls = lines(RAW)[:3]
    head = ls[0].split(",")
    i = head.index("Report_Date_as_YYYY-MM-DD")
    ls[0] = ls[0].replace("Report_Date_as_YYYY-MM-DD", "Report_Date_as_MM_DD_YYYY")
    for k in (1, 2):
        f = ls[k].split(",")
        y, m, d = f[i].split("-")
        f[i] = f"{m}/{d}/{y}"
        ls[k] = ",".join(f)
    df = parsers.parse_tff_csv(write(tmp_path, "FinFut15.txt", ls))
    assert str(df.report_date.iloc[0]) == "2015-01-06"
