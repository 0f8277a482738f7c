"""Refresh loaders on fixtures in the publishers' real formats (no network), offline behaviour and atomicity."""

from __future__ import annotations

import datetime as dt
import io
import urllib.error
import zipfile

import pytest

from basislab.data import refresh, store
from basislab.errors import DataError, RefreshError

from .conftest import fixture_bytes

D = dt.date
TODAY = D(2026, 11, 21)


def zipped(name: str, member: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(member, fixture_bytes(name))
    return buf.getvalue()


class FakeWeb:
    """Serves fixtures by URL pattern and records the URLs asked for."""

    def __init__(self, routes: dict[str, bytes | Exception]):
        self.routes = routes
        self.urls: list[str] = []
        self.forms: list[dict | None] = []

    def __call__(self, url: str, data: dict | None = None) -> bytes:
        self.urls.append(url)
        self.forms.append(data)
        for pattern, body in self.routes.items():
            if pattern in url:
                if isinstance(body, Exception):
                    raise body
                return body
        raise urllib.error.HTTPError(url, 404, "Not Found", {}, None)


def counts(con) -> dict[str, int]:
    return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in store.TABLE_KEYS}


@pytest.fixture
def rw(db_copy):
    c = store.connect(db_copy)
    yield c
    c.close()


def test_cftc_annual_zip(rw):
    rw.execute("DELETE FROM cftc_tff WHERE report_date = ?", [D(2020, 3, 17)])
    web = FakeWeb({"fut_fin_txt_2020.zip": zipped("FinFut20_sample.txt", "FinFut20.txt")})
    items = refresh.fetch_cftc(rw, web, TODAY, years=[2020])
    assert refresh.apply_items(rw, items) == {"cftc_tff": 6}
    assert any(u.endswith("fut_fin_txt_2020.zip") for u in web.urls)
    row = rw.execute(
        "SELECT open_interest, lev_short, source FROM cftc_tff WHERE contract='TY' AND report_date=?",
        [D(2020, 3, 17)],
    ).fetchone()
    assert row[:2] == (3_659_033, 1_139_024) and row[2].endswith("fut_fin_txt_2020.zip")


def test_cftc_years_to_fetch(con):
    years = refresh.cftc_years_to_fetch(con, TODAY)
    assert {2016, 2023, 2024, 2025, 2026} <= set(years)
    assert not {2017, 2018, 2019, 2021, 2022} & set(years)


def test_cftc_socrata_api(rw):
    before = rw.execute("SELECT * FROM cftc_tff WHERE report_date=? ORDER BY contract", [D(2020, 3, 17)]).df()
    rw.execute("DELETE FROM cftc_tff WHERE report_date = ?", [D(2020, 3, 17)])
    web = FakeWeb({"gpe5-46if.json": fixture_bytes("cftc_socrata_gpe5-46if_sample.json")})
    res = refresh.refresh(["cftc-api"], con=rw, fetch=web, today=TODAY)
    assert res[0].rows == {"cftc_tff": 6}
    after = rw.execute("SELECT * FROM cftc_tff WHERE report_date=? ORDER BY contract", [D(2020, 3, 17)]).df()
    cols = [c for c in before.columns if c != "source"]
    assert before[cols].equals(after[cols])  # the API and the annual file give the same numbers
    assert (
        "cftc_contract_market_code+in" in web.urls[0]
        or "cftc_contract_market_code%20in" in web.urls[0]
        or "cftc_contract_market_code+in%28" in web.urls[0]
    )


def test_fred_csv(rw):
    rw.execute("DELETE FROM rates_daily WHERE series='SOFR' AND date BETWEEN '2019-09-01' AND '2019-10-31'")
    web = FakeWeb({"id=SOFR": fixture_bytes("fred_SOFR.csv")})
    fetch = refresh.SOURCES["fred"]
    items = fetch(rw, web, TODAY, ids=["SOFR"])
    rows = refresh.apply_items(rw, items)
    assert rows == {"rates_daily": 8}  # 9 days, one blank (Columbus Day)
    assert (
        rw.execute("SELECT value FROM rates_daily WHERE series='SOFR' AND date='2019-09-17'").fetchone()[0]
        == 5.25
    )
    assert web.urls == ["https://fred.stlouisfed.org/graph/fredgraph.csv?id=SOFR"]


def test_nyfed_rates_and_repo_operations(rw):
    rw.execute("DELETE FROM rates_daily WHERE series='SOFR' AND date IN ('2019-09-16', '2019-09-17')")
    rw.execute(
        "DELETE FROM fed_balance_sheet WHERE series IN ('RPONTSYD', 'RRPONTSYD') AND date='2019-09-17'"
    )
    empty = b'{"refRates": []}'
    web = FakeWeb(
        {
            "secured/sofr": fixture_bytes("nyfed_rates_2019-09-17.json"),
            "secured/bgcr": empty,
            "secured/tgcr": empty,
            "unsecured/effr": empty,
            "unsecured/obfr": empty,
            "rp/results/search.json": fixture_bytes("nyfed_rp_results_2019-09-17.json"),
        }
    )
    res = refresh.refresh(["nyfed"], con=rw, fetch=web, today=TODAY)
    assert res[0].ok, res[0].message
    q = "SELECT value FROM {} WHERE series=? AND date='2019-09-17'"
    assert rw.execute(q.format("rates_daily"), ["SOFR"]).fetchone()[0] == 5.25
    assert rw.execute(q.format("fed_balance_sheet"), ["RPONTSYD"]).fetchone()[0] == pytest.approx(40.85)
    assert rw.execute(q.format("fed_balance_sheet"), ["RRPONTSYD"]).fetchone()[0] == pytest.approx(1.825)
    assert "startDate=" in web.urls[0]


def test_treasury_par_curve(rw):
    rw.execute("DELETE FROM par_yield_curve WHERE date >= '2025-07-10'")
    web = FakeWeb(
        {
            "daily-treasury-rates.csv/2025/": fixture_bytes("treasury_daily_par_curve_2025_sample.csv"),
            "daily-treasury-rates.csv/2026/": b"Date,1 Mo,2 Mo,10 Yr\n",
        }
    )
    items = refresh.fetch_treasury_curve(rw, web, TODAY, years=[2025])
    assert refresh.apply_items(rw, items) == {"par_yield_curve": 28}
    assert (
        rw.execute(
            "SELECT yield_pct FROM par_yield_curve WHERE date='2025-07-11' AND tenor='10Y'"
        ).fetchone()[0]
        == 4.43
    )


def test_treasury_securities(rw):
    web = FakeWeb(
        {
            "auctions_query": fixture_bytes("fiscaldata_auctions_query_sample.json"),
            "selectSecurityPriceDate": FORM_PAGE,
            "securityPriceDetail": fixture_bytes("fedinvest_securityprice_2024-06-26_sample.csv"),
        }
    )
    items = refresh.fetch_treasury_securities(rw, web, TODAY, price_date=D(2024, 6, 27))
    assert refresh.apply_items(rw, items) == {"auctions": 2, "security_prices": 5}
    assert web.forms[-1]["_csrf"] == "5f1c2a9e-token" and web.forms[-1]["priceDateDay"] == "27"
    row = rw.execute(
        "SELECT rate_pct, maturity_date, sell FROM security_prices WHERE date='2024-06-27' "
        "AND cusip='9128286Z8'"
    ).fetchone()
    assert row == (pytest.approx(1.75), D(2024, 6, 30), 99.9375)
    assert rw.execute("SELECT int_rate_pct FROM auctions WHERE cusip='91282CKT7'").fetchone()[0] == 4.5
    # The securities master takes the newest price list.
    assert rw.execute("SELECT price_date FROM securities WHERE cusip='91282CKT7'").fetchone()[0] == D(
        2024, 6, 27
    )


FORM_PAGE = (
    b'<form method="post" action="/GA-FI/FedInvest/securityPriceDetail">'
    b'<input type="hidden" name="_csrf" value="5f1c2a9e-token"/></form>'
)


def test_fedinvest_skips_empty_days(rw):
    served = fixture_bytes("fedinvest_securityprice_2024-06-26_sample.csv")

    def web(url, data=None):
        if "selectSecurityPriceDate" in url:
            return FORM_PAGE
        if "auctions_query" in url:
            return b'{"data": [], "meta": {}, "links": {"next": null}}'
        return served if data["priceDateDay"] == "26" else b""  # 27th: a holiday in this test

    items = refresh.fetch_treasury_securities(rw, web, D(2024, 6, 28))
    assert [(t, str(df.date.iloc[0])) for t, df, _ in items] == [("security_prices", "2024-06-26")]


def test_fedinvest_rate_units_per_type():
    from basislab.data import parsers

    body = (
        b"912828YL8,TIPS,0.001250,10/15/2024,,0.000000,98.937500,0.000000\n"
        b"9128286Z8,MARKET BASED NOTE,1.750000,06/30/2024,,0.000000,99.937500,0.000000\n"
        b"91282CKT7,MARKET BASED NOTE,4.500000,05/31/2029,,100.718750,100.718750,0.000000\n"
    )
    df = parsers.parse_fedinvest_prices(body, "2024-06-26", "prices")
    assert list(df.rate_pct) == [pytest.approx(0.125), 1.75, 4.5]
    assert parsers.parse_fedinvest_prices(b"", "2024-06-29", "holiday").empty


def test_ofr(rw):
    rw.execute(
        "DELETE FROM rates_daily WHERE series='REPO-TRI_AR_OO-P' AND date BETWEEN '2019-09-13' AND '2019-09-18'"
    )
    web = FakeWeb({"REPO-TRI_AR_OO-P": fixture_bytes("ofr_REPO-TRI_AR_OO-P_sample.json"), "mnemonic=": b"[]"})
    res = refresh.refresh(["ofr"], con=rw, fetch=web, today=TODAY)
    assert res[0].rows == {"rates_daily": 4}
    assert (
        rw.execute(
            "SELECT value FROM rates_daily WHERE series='REPO-TRI_AR_OO-P' AND date='2019-09-17'"
        ).fetchone()[0]
        == 5.04
    )
    assert len(web.urls) == len(refresh.OFR_MNEMONICS)


def test_offline_leaves_the_store_intact(rw):
    before = counts(rw)

    def offline(url, data=None):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    with pytest.raises(
        RefreshError,
        match="no network. could not reach the publishers of cftc, cftc-api, fred, .*name resolution.*store is unchanged",
    ):
        refresh.refresh(None, con=rw, fetch=offline, today=TODAY)
    assert counts(rw) == before
    assert (
        rw.execute("SELECT value FROM rates_daily WHERE series='SOFR' AND date='2019-09-17'").fetchone()[0]
        == 5.25
    )


def test_one_source_offline_others_succeed(rw):
    web = FakeWeb(
        {
            "id=": urllib.error.URLError("timed out"),
            "REPO-": fixture_bytes("ofr_REPO-TRI_AR_OO-P_sample.json"),
        }
    )
    seen = []
    res = refresh.refresh(["fred", "ofr"], con=rw, fetch=web, today=TODAY, progress=seen.append)
    assert [r.ok for r in res] == [False, True] and seen == res
    assert "could not reach" in res[0].message


def test_failure_mid_refresh_rolls_back(rw, monkeypatch):
    """nyfed writes rates_daily then fed_balance_sheet: a crash on the second write undoes the first."""
    rw.execute("DELETE FROM rates_daily WHERE series='SOFR' AND date='2019-09-17'")
    before = counts(rw)
    empty = b'{"refRates": []}'
    web = FakeWeb(
        {
            "secured/sofr": fixture_bytes("nyfed_rates_2019-09-17.json"),
            "secured/": empty,
            "unsecured/": empty,
            "rp/results": fixture_bytes("nyfed_rp_results_2019-09-17.json"),
        }
    )
    real = store.upsert
    calls = []

    def crash_on_second(*args, **kwargs):
        calls.append(args[1])
        if len(calls) == 2:
            raise KeyboardInterrupt("power cut")
        return real(*args, **kwargs)

    monkeypatch.setattr(store, "upsert", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        refresh.refresh(["nyfed"], con=rw, fetch=web, today=TODAY)
    assert calls == ["rates_daily", "fed_balance_sheet"]
    assert counts(rw) == before
    assert (
        rw.execute("SELECT count(*) FROM rates_daily WHERE series='SOFR' AND date='2019-09-17'").fetchone()[0]
        == 0
    )


def test_bad_response_writes_nothing(rw):
    before = counts(rw)
    web = FakeWeb(
        {"gpe5-46if": b'[{"report_date_as_yyyy_mm_dd": "2020-03-17T00:00:00.000", "cftc_contract_m'}
    )
    with pytest.raises(RefreshError, match="bad response, nothing written: CFTC API gpe5-46if: invalid JSON"):
        refresh.refresh(["cftc-api"], con=rw, fetch=web, today=TODAY)
    assert counts(rw) == before


def test_http_error_names_the_url(rw):
    with pytest.raises(
        RefreshError, match=r"fut_fin_txt_2010.zip answered HTTP 404 Not Found; nothing written"
    ):
        refresh.refresh(["cftc"], con=rw, fetch=FakeWeb({}), today=TODAY)


def test_unknown_source(rw):
    with pytest.raises(DataError, match="unknown refresh source"):
        refresh.refresh(["bloomberg"], con=rw, fetch=FakeWeb({}), today=TODAY)


def test_cftc_current_year_not_yet_published(rw):
    web = FakeWeb({"fut_fin_txt_2020.zip": zipped("FinFut20_sample.txt", "FinFut20.txt")})
    items = refresh.fetch_cftc(rw, web, TODAY, years=[2020, TODAY.year])
    assert len(items) == 1 and web.urls[-1].endswith(f"fut_fin_txt_{TODAY.year}.zip")
    with pytest.raises(urllib.error.HTTPError):
        refresh.fetch_cftc(rw, web, TODAY, years=[2019])
