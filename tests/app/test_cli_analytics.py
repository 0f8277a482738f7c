"""The ``basis`` and ``cf`` commands, run as a user would (``python -m basislab``)."""

import json
import subprocess
import sys

import pytest


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "basislab", *args], capture_output=True, text=True, timeout=120
    )


def test_basis_table_marks_ctd():
    out = run_cli("basis", "TYU4", "--date", "2024-06-26")
    assert out.returncode == 0, out.stderr
    ctd_line = next(line for line in out.stdout.splitlines() if "CTD" in line and "91282" in line)
    assert "91282CKU4" in ctd_line and "0.9269" in ctd_line and "5.182" in ctd_line
    assert "110-02" in out.stdout and "SOFR 2024-06-26" in out.stdout and "5.34%" in out.stdout


def test_basis_json():
    out = run_cli("basis", "USU4", "--json", "--repo", "5.0")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["contract"] == "USU4" and data["repo_pct"] == 5.0 and data["ctd"] == "912810QE1"
    assert data["settlement"] == "2024-06-27" and data["delivery"] == "2024-09-30"
    assert len(data["bonds"]) == 57 and data["bonds"][0]["is_ctd"] is True
    assert data["bonds"][0]["maturity"] == "2040-02-15"


def test_basis_on_user_prices(tmp_path):
    prices = tmp_path / "prices.csv"
    prices.write_text(
        "cusip,coupon_pct,maturity,clean_price,issue_date\n"
        "91282CKU4,4.625,2031-05-31,101.8203125,2024-05-31\n"
        "91282CKN0,4.625,2031-04-30,101.8203125,2024-04-30\n"
    )
    out = run_cli(
        "basis",
        "TYU4",
        "--prices",
        str(prices),
        "--futures-price",
        "110.0625",
        "--settlement",
        "2024-06-27",
        "--repo",
        "5.34",
        "--json",
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert [b["cusip"] for b in data["bonds"]] == ["91282CKU4", "91282CKN0"]
    assert data["bonds"][0]["implied_repo_pct"] == pytest.approx(5.182, abs=5e-4)


def test_cf_single_and_basket():
    # CME IR232 example 4: 3-3/4% of 11/15/2018 into the December 2008 10-year contract.
    out = run_cli("cf", "TY", "3.75", "2018-11-15", "2008-12")
    assert out.returncode == 0 and out.stdout.strip() == "0.8357"
    out = run_cli("cf", "TUU4")
    assert out.returncode == 0 and "91282CHH7" in out.stdout and "0.9692" in out.stdout


@pytest.mark.parametrize(
    "args, fragment",
    [
        (("basis", "XXU4"), "unknown contract"),
        (("basis", "TYQ4"), "cannot resolve contract code"),
        (("basis", "TYU4", "--date", "2024-06-27"), "2024-06-26 only"),
        (("cf", "TY", "4", "2031-05-15", "2024-13"), "not valid"),
    ],
)
def test_bad_input_exit_2(args, fragment):
    out = run_cli(*args)
    assert out.returncode == 2
    assert fragment in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "content, fragment",
    [
        ("", "is empty"),
        ("cusip,coupon_pct,maturity,clean_price\n", "no rows"),
        ("cusip,price\n91282CKU4,101\n", "lacks column"),
        ("cusip,coupon_pct,maturity,clean_price\n91282CKU4,4.625,2031-05-31,0\n", "not positive"),
        ("cusip,coupon_pct,maturity,clean_price\n91282CKU4,4.625,2031-05-31,-5\n", "not positive"),
        ('cusip,coupon_pct\n"unterminated,1\n', "price file"),
        (
            "cusip,coupon_pct,maturity,clean_price\n912810QE1,4.625,2040-02-15,102.5\n",
            "not deliverable into TYU4",
        ),
    ],
)
def test_bad_price_file_exit_2(tmp_path, content, fragment):
    prices = tmp_path / "p.csv"
    prices.write_text(content)
    out = run_cli("basis", "TYU4", "--prices", str(prices), "--futures-price", "110.0625")
    assert out.returncode == 2, out.stdout
    assert fragment in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize(
    "cmd, example",
    [("basis", "basislab basis TYU4 --date 2024-06-26"), ("cf", "basislab cf TY 4.625 2031-04-30 2024-09")],
)
def test_help_reads_well(cmd, example):
    out = run_cli(cmd, "--help")
    assert out.returncode == 0 and "Usage" in out.stdout and example in out.stdout


def _screen_text(code: str, wide: bool = False, width: int = 100) -> str:
    """The DLV screen of ``code`` on 2024-06-26 rendered on a 100-column console."""
    import datetime as dt

    from rich.console import Console

    from basislab.analytics import dlv, futures_dv01
    from basislab.analytics.market import market_inputs
    from basislab.analytics.screen import ctd_switches
    from basislab.app.cli_analytics import print_dlv, print_switches

    m = market_inputs(code, dt.date(2024, 6, 26))
    c = m.contract
    t = dlv(c.root, c.delivery_month, m.futures_price, m.bonds, m.settlement, m.repo_pct)
    meta = {
        "futures_price": m.futures_price,
        "trade_date": "2024-06-26",
        "settlement": m.settlement.isoformat(),
        "delivery": t.attrs["delivery"].isoformat(),
        "repo_pct": m.repo_pct,
        "repo_source": m.repo_source,
        "futures_dv01": futures_dv01(t),
    }
    con = Console(width=width, record=True, color_system=None)
    print_dlv(c, t, meta, con, wide=wide)
    print_switches(ctd_switches(t), con)
    return con.export_text()


@pytest.mark.parametrize("code", ["TUU4", "FVU4", "TYU4", "TYZ4", "USU4", "USZ4", "UBU4", "UBZ4"])
def test_dlv_screen_fits_100_columns(code):
    text = _screen_text(code)
    assert max(len(line) for line in text.splitlines()) <= 100
    # no number cut: no ellipsis anywhere, every CUSIP of the basket whole
    assert "\u2026" not in text and "..." not in text
    assert "IRR-repo" in text and "CTD under yield shifts and twists" in text


def test_dlv_screen_values_and_switch_table():
    text = _screen_text("TYU4")
    ctd_line = next(line for line in text.splitlines() if line.strip().startswith("CTD "))
    # CTD 91282CKU4: price 101-26+ (101-262), CF 0.9269, implied repo 5.182% vs SOFR 5.34%: -16bp
    for v in ("91282CKU4", "4.625", "05/31/31", "101-262", "0.9269", "5.182", "-16"):
        assert v in ctd_line
    assert "CTD implied repo - repo -15.8bp" in text.replace("\n", " ").replace("  ", " ")
    switch_lines = [line for line in text.splitlines() if line.rstrip().endswith("switch")]
    assert any(line.strip().startswith("-50bp") and "91282CKN0" in line for line in switch_lines)


def test_wide_screen_has_every_column():
    text = _screen_text("TYU4", wide=True, width=160)  # --wide is for a wide terminal
    header = next(line for line in text.splitlines() if "CUSIP" in line)
    for col in ("carry", "DV01", "dur", "hedge", "invoice"):
        assert col in header
    assert "2031-05-31" in text


def test_basis_cli_compact_default_and_json_switches():
    out = run_cli("basis", "TYU4", "--date", "2024-06-26")
    assert out.returncode == 0 and "IRR-repo" in out.stdout and "switch" in out.stdout
    data = json.loads(run_cli("basis", "TYU4", "--json").stdout)
    sw = {r["scenario"]: r for r in data["ctd_switches"]}
    assert sw["unchanged"]["ctd_cusip"] == data["ctd"] and sw["-50bp"]["switch"] is True
