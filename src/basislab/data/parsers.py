"""Parsers: publishers' files (bundled snapshot and live responses) to tidy store tables.

Every parser validates before it returns (see :mod:`basislab.data.validate`) and returns a frame
with exactly the columns of its store table. Positions are in contracts with shorts as positive
numbers; rates in percent; amounts in USD bn.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from basislab.data.catalog import CODE_TO_ROOT
from basislab.data.validate import dedupe, read_csv_strict, read_text, require_columns, to_dates, to_numeric
from basislab.errors import DataError

TFF_COLUMNS = [
    "report_date",
    "contract",
    "cftc_code",
    "open_interest",
    "dealer_long",
    "dealer_short",
    "dealer_spread",
    "am_long",
    "am_short",
    "am_spread",
    "lev_long",
    "lev_short",
    "lev_spread",
    "other_long",
    "other_short",
    "other_spread",
    "nonrept_long",
    "nonrept_short",
    "source",
]
# Official TFF names, normalised: lower case without a trailing "_all". The annual files say
# ``Lev_Money_Positions_Long_All``; the Socrata API says ``lev_money_positions_long``.
_TFF_FIELDS = {
    "open_interest": "open_interest",
    "dealer_long": "dealer_positions_long",
    "dealer_short": "dealer_positions_short",
    "dealer_spread": "dealer_positions_spread",
    "am_long": "asset_mgr_positions_long",
    "am_short": "asset_mgr_positions_short",
    "am_spread": "asset_mgr_positions_spread",
    "lev_long": "lev_money_positions_long",
    "lev_short": "lev_money_positions_short",
    "lev_spread": "lev_money_positions_spread",
    "other_long": "other_rept_positions_long",
    "other_short": "other_rept_positions_short",
    "other_spread": "other_rept_positions_spread",
    "nonrept_long": "nonrept_positions_long",
    "nonrept_short": "nonrept_positions_short",
}


def _norm(col: str) -> str:
    c = col.strip().lower().replace("-", "_")
    return c[:-4] if c.endswith("_all") else c


def _tff_from_official(df: pd.DataFrame, name: str, source: str) -> pd.DataFrame:
    """Rows with official TFF column names (annual file or API) to the ``cftc_tff`` table."""
    df = df.rename(columns={c: _norm(c) for c in df.columns if c != "_line"})
    # The annual .txt files say Report_Date_as_YYYY-MM-DD; some CFTC exports Report_Date_as_MM_DD_YYYY.
    date_col = next(
        (c for c in ("report_date_as_yyyy_mm_dd", "report_date_as_mm_dd_yyyy") if c in df.columns),
        "report_date_as_yyyy_mm_dd",
    )
    require_columns(df, [date_col, "cftc_contract_market_code", *_TFF_FIELDS.values()], name, "CFTC")
    codes = df["cftc_contract_market_code"].astype(str).str.strip().str.zfill(6)
    df = df[codes.isin(CODE_TO_ROOT)].copy()
    if df.empty:
        return pd.DataFrame(columns=TFF_COLUMNS)
    codes = codes[df.index]
    out = pd.DataFrame({"report_date": to_dates(df, date_col, name)})
    out["contract"] = codes.map(CODE_TO_ROOT)
    out["cftc_code"] = codes
    for col, field in _TFF_FIELDS.items():
        vals = to_numeric(df, field, name, allow_missing=False)
        if (vals < 0).any():
            i = vals.idxmin()
            raise DataError(f"{name}: line {df['_line'][i]}, column {field!r}: negative position {vals[i]:g}")
        out[col] = vals.astype("int64")
    out["source"] = source
    out["_line"] = df["_line"]
    out = dedupe(out, ["report_date", "contract"], name)
    return out[TFF_COLUMNS].sort_values(["report_date", "contract"]).reset_index(drop=True)


def parse_tff_csv(
    source: str | Path | bytes, name: str | None = None, origin: str | None = None
) -> pd.DataFrame:
    """CFTC TFF rows in the annual-file layout (``FinFutYY.txt``, or the snapshot's filtered copy)."""
    df, name = read_csv_strict(source, name)
    return _tff_from_official(df, name, origin or f"CFTC TFF {name}")


def parse_tff_annual_zip(blob: bytes, name: str) -> pd.DataFrame:
    """A CFTC annual TFF zip (``fut_fin_txt_YYYY.zip`` holding ``FinFutYY.txt``)."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(blob))
        members = [m for m in zf.namelist() if m.lower().endswith((".txt", ".csv"))]
        if not members:
            raise DataError(f"{name}: zip holds no .txt file (has {zf.namelist()})")
        text = zf.read(members[0])
    except zipfile.BadZipFile as exc:
        raise DataError(f"{name}: not a valid zip file ({exc}); truncated download?") from exc
    return parse_tff_csv(text, f"{name}:{members[0]}", origin=f"CFTC {name}")


def parse_tff_socrata(payload: bytes | str, name: str) -> pd.DataFrame:
    """CFTC Public Reporting (Socrata) TFF JSON rows (dataset ``gpe5-46if``, futures only)."""
    rows = _json(payload, name)
    if not isinstance(rows, list):
        raise DataError(f"{name}: expected a JSON list of rows, got {type(rows).__name__}")
    if not rows:
        return pd.DataFrame(columns=TFF_COLUMNS)
    df = pd.DataFrame(rows, dtype=object)
    df["_line"] = np.arange(1, len(df) + 1)  # JSON record number
    return _tff_from_official(df, name, "CFTC Public Reporting API gpe5-46if")


def parse_tff_10y(source: str | Path | bytes, name: str | None = None) -> pd.DataFrame:
    """The bundled 10-year TFF file (``date,all,am_long,am_short,...``): **shorts stored negative**.

    Shorts are flipped to positive; a positive short (the sign convention changed) is an error.
    Only open interest and asset-manager / leveraged-fund long and short are in this file.
    """
    df, name = read_csv_strict(source, name)
    require_columns(df, ["date", "all", "am_long", "am_short", "lev_long", "lev_short"], name)
    out = pd.DataFrame({"report_date": to_dates(df, "date", name)})
    out["contract"] = "TY"
    out["cftc_code"] = "043602"
    out["open_interest"] = to_numeric(df, "all", name, allow_missing=False)
    for col in ("am_long", "lev_long"):
        out[col] = to_numeric(df, col, name, allow_missing=False)
    for col in ("am_short", "lev_short"):
        v = to_numeric(df, col, name, allow_missing=False)
        if (v > 0).any():
            i = v.idxmax()
            raise DataError(
                f"{name}: line {df['_line'][i]}, column {col!r}: positive short {v[i]:g}; this file stores "
                "shorts as negative numbers, so the sign convention has changed"
            )
        out[col] = -v
    for col in ("am_net", "lev_net"):
        if col in df.columns:
            net = to_numeric(df, col, name)
            side = col.split("_")[0]
            calc = out[f"{side}_long"] - out[f"{side}_short"]
            bad = net.notna() & (net != calc)
            if bad.any():
                i = bad.idxmax()
                raise DataError(
                    f"{name}: line {df['_line'][i]}, column {col!r}: {net[i]:g} is not long - short = {calc[i]:g}"
                )
    for col in TFF_COLUMNS:
        if col not in out:
            out[col] = np.nan
    out["source"] = f"CFTC TFF 10-year file {name}"
    out["_line"] = df["_line"]
    out = dedupe(out, ["report_date", "contract"], name)
    return out[TFF_COLUMNS].sort_values("report_date").reset_index(drop=True)


FRED_COLUMNS = ["date", "value"]


def parse_fred_csv(source: str | Path | bytes, series: str, name: str | None = None) -> pd.DataFrame:
    """A FRED ``fredgraph.csv`` download (``observation_date,SERIES`` or ``DATE,SERIES``) or the
    snapshot's ``date,value`` copy. Missing values (``.`` or blank) are dropped."""
    df, name = read_csv_strict(source, name)
    cols = [c for c in df.columns if c != "_line"]
    date_col = next((c for c in cols if c.lower() in ("observation_date", "date")), None)
    if date_col is None:
        raise DataError(f"{name}: schema change at FRED? no date column (has {cols})")
    val_col = next((c for c in cols if c in (series, "value")), None)
    if val_col is None:
        raise DataError(f"{name}: schema change at FRED? no column {series!r} or 'value' (has {cols})")
    out = pd.DataFrame({"date": to_dates(df, date_col, name), "value": to_numeric(df, val_col, name)})
    out["_line"] = df["_line"]
    out = dedupe(out, ["date"], name)
    return out.dropna(subset=["value"])[FRED_COLUMNS].reset_index(drop=True)


_TENOR = re.compile(r"^(\d+(?:\.\d+)?)\s*(mo|mos|month|months|yr|yrs|year|years)$", re.I)
PAR_COLUMNS = ["date", "tenor", "tenor_years", "yield_pct"]


def _tenor(col: str) -> tuple[str, float] | None:
    m = _TENOR.match(col.strip())
    if not m:
        return None
    n = float(m.group(1))
    months = m.group(2).lower().startswith("mo")
    label = f"{m.group(1)}{'M' if months else 'Y'}"
    return label, n / 12.0 if months else n


def parse_par_curve(source: str | Path | bytes, name: str | None = None) -> pd.DataFrame:
    """Treasury daily par yield curve CSV (``Date,1 Mo,...,30 Yr``; dates ISO, M/D/YY or MM/DD/YYYY;
    any row order; a ``1.5 Mo``/``1.5 Month`` column from 2025) to long format."""
    df, name = read_csv_strict(source, name)
    require_columns(df, ["Date"], name, "US Treasury")
    parsed = {c: _tenor(c) for c in df.columns if c not in ("Date", "_line")}
    unknown = [c for c, t in parsed.items() if t is None]
    tenors = {c: t for c, t in parsed.items() if t is not None}
    if unknown:
        raise DataError(f"{name}: schema change at US Treasury? unrecognised tenor column(s) {unknown}")
    if not any(t[0] == "10Y" for t in tenors.values()):
        raise DataError(f"{name}: schema change at US Treasury? no 10 Yr column (has {list(tenors)})")
    dates = to_dates(df, "Date", name)
    parts = []
    for col, (label, years) in tenors.items():
        v = to_numeric(df, col, name)
        parts.append(
            pd.DataFrame(
                {"date": dates, "tenor": label, "tenor_years": years, "yield_pct": v, "_line": df["_line"]}
            )
        )
    out = pd.concat(parts, ignore_index=True).dropna(subset=["yield_pct"])
    out = dedupe(out, ["date", "tenor"], name)
    return out[PAR_COLUMNS].sort_values(["date", "tenor_years"]).reset_index(drop=True)


PRICE_COLUMNS = ["date", "cusip", "security_type", "rate_pct", "maturity_date", "buy", "sell", "end_of_day"]
_FEDINVEST_HEADLESS = [
    "cusip",
    "security_type",
    "rate",
    "maturity_date",
    "call_date",
    "buy",
    "sell",
    "end_of_day",
]


def parse_fedinvest_prices(source: str | Path | bytes, price_date, name: str | None = None) -> pd.DataFrame:
    """TreasuryDirect FedInvest end-of-day price list: the headerless CSV the site serves
    (``CUSIP,TYPE,RATE,MATURITY,CALL,BUY,SELL,EOD``, rate as a decimal fraction or ``x.xxx%``,
    dates MM/DD/YYYY) or the snapshot's copy with a header and ``rate_pct``.

    FedInvest has given the rate as a decimal fraction (``0.0175``) in some periods and as a plain
    percent in others, and TIPS differently from the other types; the unit is decided per security
    type: a type whose largest rate exceeds 0.2 is in percent (no outstanding coupon is 20%, and
    every type has coupons or rates above 0.2%), otherwise in fractions. ``x%`` is always percent.
    An empty body (weekends, holidays) returns no rows."""
    raw = source.read_bytes() if isinstance(source, Path) and source.exists() else source
    if isinstance(raw, bytes | str) and not (raw.strip() if isinstance(raw, str) else raw.strip()):
        return pd.DataFrame(columns=PRICE_COLUMNS)
    text, name = read_text(source, name)
    header = text.lstrip().lower().startswith("cusip")
    df, name = read_csv_strict(text, name, header=header, columns=None if header else _FEDINVEST_HEADLESS)
    require_columns(
        df, ["cusip", "security_type", "rate", "maturity_date", "buy", "sell"], name, "TreasuryDirect"
    )
    bad = ~df["cusip"].str.fullmatch(r"[0-9A-Z]{9}")
    if bad.any():
        i = bad.idxmax()
        raise DataError(
            f"{name}: line {df['_line'][i]}, column 'cusip': not a 9-character CUSIP {df['cusip'][i]!r}"
        )
    out = pd.DataFrame(
        {"date": pd.Timestamp(price_date).date(), "cusip": df["cusip"], "security_type": df["security_type"]}
    )
    if "rate_pct" in df.columns:
        out["rate_pct"] = to_numeric(df, "rate_pct", name)
    else:
        pct = df["rate"].str.endswith("%")
        r = to_numeric(df, "rate", name)
        in_percent = r.groupby(df["security_type"]).transform("max") > 0.2
        out["rate_pct"] = np.where(pct | in_percent, r, r * 100.0)
    out["maturity_date"] = to_dates(df, "maturity_date", name)
    for col in ("buy", "sell", "end_of_day"):
        out[col] = to_numeric(df, col, name) if col in df.columns else np.nan
    out["_line"] = df["_line"]
    out = dedupe(out, ["date", "cusip"], name)
    return out[PRICE_COLUMNS].reset_index(drop=True)


AUCTION_COLUMNS = [
    "cusip",
    "auction_date",
    "issue_date",
    "maturity_date",
    "security_type",
    "security_term",
    "price_per_100",
    "int_rate_pct",
    "offering_usd_bn",
    "accepted_usd_bn",
    "soma_accepted_usd_bn",
]


def parse_auctions_csv(source: str | Path | bytes, name: str | None = None) -> pd.DataFrame:
    """TreasuryDirect auction-query CSV export (starts with a byte-order mark; no coupon column)."""
    df, name = read_csv_strict(source, name)
    need = [
        "CUSIP",
        "Security Type",
        "Security Term",
        "Auction Date",
        "Issue Date",
        "Maturity Date",
        "Price per $100",
    ]
    require_columns(df, need, name, "TreasuryDirect")
    out = pd.DataFrame(
        {
            "cusip": df["CUSIP"],
            "auction_date": to_dates(df, "Auction Date", name),
            "issue_date": to_dates(df, "Issue Date", name),
            "maturity_date": to_dates(df, "Maturity Date", name),
            "security_type": df["Security Type"],
            "security_term": df["Security Term"],
            "price_per_100": to_numeric(df, "Price per $100", name),
            "int_rate_pct": np.nan,
            "offering_usd_bn": np.nan,
            "accepted_usd_bn": np.nan,
            "soma_accepted_usd_bn": np.nan,
            "_line": df["_line"],
        }
    )
    out = dedupe(out, ["cusip", "auction_date"], name)
    return out[AUCTION_COLUMNS].reset_index(drop=True)


def parse_fiscaldata_auctions(payload: bytes | str, name: str) -> tuple[pd.DataFrame, str | None]:
    """FiscalData ``v1/accounting/od/auctions_query`` JSON page: returns (rows, next-page link)."""
    doc = _json(payload, name)
    if not isinstance(doc, dict) or "data" not in doc:
        raise DataError(f"{name}: schema change at FiscalData? no 'data' key (has {list(doc)[:10]})")
    df = pd.DataFrame(doc["data"], dtype=object)
    nxt = (doc.get("links") or {}).get("next")
    if df.empty:
        return pd.DataFrame(columns=AUCTION_COLUMNS), nxt
    df["_line"] = np.arange(1, len(df) + 1)
    need = [
        "cusip",
        "security_type",
        "security_term",
        "auction_date",
        "issue_date",
        "maturity_date",
        "price_per100",
        "int_rate",
    ]
    require_columns(df, need, name, "FiscalData")
    out = pd.DataFrame(
        {
            "cusip": df["cusip"].astype(str),
            "auction_date": to_dates(df, "auction_date", name),
            "issue_date": to_dates(df, "issue_date", name),
            "maturity_date": to_dates(df, "maturity_date", name),
            "security_type": df["security_type"].astype(str),
            "security_term": df["security_term"].astype(str),
            "price_per_100": to_numeric(df, "price_per100", name),
            "int_rate_pct": to_numeric(df, "int_rate", name),
            **{
                col: to_numeric(df, field, name) / 1e9 if field in df.columns else np.nan
                for col, field in (
                    ("offering_usd_bn", "offering_amt"),
                    ("accepted_usd_bn", "total_accepted"),
                    ("soma_accepted_usd_bn", "soma_accepted"),
                )
            },
            "_line": df["_line"],
        }
    )
    out = dedupe(out, ["cusip", "auction_date"], name)
    return out[AUCTION_COLUMNS].reset_index(drop=True), (f"{nxt}" if nxt else None)


FUT_COLUMNS = ["date", "contract", "root", "delivery_month", "price"]


def parse_futures_closes(source: str | Path | bytes, price_date, name: str | None = None) -> pd.DataFrame:
    """Settlement prices of Treasury futures (``root,contract,delivery_month,price``)."""
    df, name = read_csv_strict(source, name)
    require_columns(df, ["root", "contract", "delivery_month", "price"], name)
    out = pd.DataFrame(
        {
            "date": pd.Timestamp(price_date).date(),
            "contract": df["contract"],
            "root": df["root"],
            "delivery_month": df["delivery_month"],
            "price": to_numeric(df, "price", name, False),
        }
    )
    if (out["price"] <= 0).any():
        i = out["price"].idxmin()
        raise DataError(
            f"{name}: line {df['_line'][i]}, column 'price': non-positive price {out['price'][i]:g}"
        )
    out["_line"] = df["_line"]
    out = dedupe(out, ["date", "contract"], name)
    return out[FUT_COLUMNS].reset_index(drop=True)


def _json(payload: bytes | str, name: str):
    text, name = read_text(payload if isinstance(payload, bytes) else payload.encode(), name)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{name}: invalid JSON at character {exc.pos} ({exc.msg}); truncated response?"
        ) from exc


SERIES_COLUMNS = ["date", "series", "value"]


def parse_nyfed_rates(payload: bytes | str, name: str) -> pd.DataFrame:
    """NY Fed Markets API reference rates (``{"refRates": [{"effectiveDate", "type", "percentRate"}]}``)."""
    doc = _json(payload, name)
    if not isinstance(doc, dict) or "refRates" not in doc:
        raise DataError(f"{name}: schema change at the NY Fed API? no 'refRates' key")
    rows = doc["refRates"]
    if not rows:
        return pd.DataFrame(columns=SERIES_COLUMNS)
    df = pd.DataFrame(rows, dtype=object)
    df["_line"] = np.arange(1, len(df) + 1)
    require_columns(df, ["effectiveDate", "type", "percentRate"], name, "the NY Fed API")
    out = pd.DataFrame(
        {
            "date": to_dates(df, "effectiveDate", name),
            "series": df["type"].astype(str).str.upper(),
            "value": to_numeric(df, "percentRate", name, allow_missing=False),
            "_line": df["_line"],
        }
    )
    out = dedupe(out, ["date", "series"], name)
    return out[SERIES_COLUMNS].reset_index(drop=True)


def parse_nyfed_repo_ops(payload: bytes | str, name: str) -> pd.DataFrame:
    """NY Fed Markets API repo and reverse repo operation results
    (``{"repo": {"operations": [{"operationDate", "operationType", "details": [...]}]}}``).

    Returns daily sums in USD bn: ``RPONTSYD`` (repo, Treasury collateral accepted, which includes
    the Standing Repo Facility) and ``RRPONTSYD`` (reverse repo, Treasury collateral)."""
    doc = _json(payload, name)
    try:
        ops = doc["repo"]["operations"]
    except (KeyError, TypeError) as exc:
        raise DataError(f"{name}: schema change at the NY Fed API? no repo.operations ({exc})") from exc
    recs = []
    for i, op in enumerate(ops, start=1):
        for key in ("operationDate", "operationType", "details"):
            if key not in op:
                raise DataError(
                    f"{name}: operation {i}: missing field {key!r} (schema change at the NY Fed API?)"
                )
        kind = str(op["operationType"]).lower()
        series = "RRPONTSYD" if "reverse" in kind else "RPONTSYD" if "repo" in kind else None
        if series is None:
            continue
        for d in op["details"]:
            if str(d.get("securityType", "")).lower() != "treasury":
                continue
            amt = d.get("amtAccepted")
            try:
                amt = float(amt)
            except (TypeError, ValueError) as exc:
                raise DataError(
                    f"{name}: operation {i}, field 'amtAccepted': non-numeric value {amt!r}"
                ) from exc
            recs.append(
                {"date": pd.Timestamp(op["operationDate"]).date(), "series": series, "value": amt / 1e9}
            )
    if not recs:
        return pd.DataFrame(columns=SERIES_COLUMNS)
    return pd.DataFrame(recs).groupby(["date", "series"], as_index=False)["value"].sum()[SERIES_COLUMNS]


def parse_ofr_timeseries(payload: bytes | str, mnemonic: str, name: str) -> pd.DataFrame:
    """OFR Short-term Funding Monitor API ``/v1/series/timeseries?mnemonic=...``: ``[[date, value], ...]``.
    Volumes (``_TV_``/``_OV_``) are converted from USD to USD bn."""
    doc = _json(payload, name)
    if not isinstance(doc, list):
        raise DataError(f"{name}: schema change at the OFR API? expected a list of [date, value] pairs")
    recs = []
    for i, pair in enumerate(doc, start=1):
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise DataError(f"{name}: record {i}: expected [date, value], got {pair!r}")
        d, v = pair
        if v is None:
            continue
        try:
            v = float(v)
        except (TypeError, ValueError) as exc:
            raise DataError(f"{name}: record {i}, column 'value': non-numeric value {v!r}") from exc
        recs.append({"date": d, "series": mnemonic, "value": v, "_line": i})
    if not recs:
        return pd.DataFrame(columns=SERIES_COLUMNS)
    df = pd.DataFrame(recs)
    df["date"] = to_dates(df, "date", name)
    if "_TV_" in mnemonic or "_OV_" in mnemonic:
        df["value"] = df["value"] / 1e9
    df = dedupe(df, ["date", "series"], name)
    return df[SERIES_COLUMNS].reset_index(drop=True)


# --------------------------------------------------------------------------------------------------
# Files added 2026-11-28: the Daily Treasury Statement, TreasuryDirect securities search, Yahoo
# front-month futures
# --------------------------------------------------------------------------------------------------

_DTS_OPENING = (
    "Federal Reserve Account",  # to 2021-09-30
    "Treasury General Account (TGA)",  # 2021-10-01 to 2022-04-15
    "Treasury General Account (TGA) Opening Balance",  # from 2022-04-18
)
_DTS_CLOSING = "Treasury General Account (TGA) Closing Balance"
_DTS_FLOWS = {
    "Total TGA Deposits (Table II)": "TGA_DTS_DEPOSITS",
    "Total TGA Withdrawals (Table II) (-)": "TGA_DTS_WITHDRAWALS",
}


def parse_dts_cash_balance(source: str | Path | bytes, name: str | None = None) -> pd.DataFrame:
    """FiscalData Daily Treasury Statement Table I (operating cash balance) to long series rows, USD bn.

    ``TGA_DTS`` is the TGA's **closing** balance of each record date. From 2022-04-18 the table
    has a closing-balance row (its amount is in the ``Opening Balance Today`` column, as FiscalData
    publishes it); before, only opening balances are given under the older account names, and the
    closing balance of a day is the opening balance of the next record date (the last old-format
    day closes at the first new-format opening balance). A closing row that disagrees with the
    next day's opening balance is an error. ``TGA_DTS_DEPOSITS`` / ``_WITHDRAWALS``: the day's
    total deposits and withdrawals (from 2022-04-18 only). DTS amounts are in USD millions.
    """
    df, name = read_csv_strict(source, name)
    require_columns(df, ["Record Date", "Type of Account", "Opening Balance Today"], name, "FiscalData")
    df["date"] = to_dates(df, "Record Date", name)
    df["value"] = to_numeric(df, "Opening Balance Today", name, allow_missing=False) / 1e3
    kind = df["Type of Account"]
    opening = dedupe(df[kind.isin(_DTS_OPENING)][["date", "value", "_line"]], ["date"], name)
    opening = opening.set_index("date")["value"].sort_index()
    closing = dedupe(df[kind == _DTS_CLOSING][["date", "value", "_line"]], ["date"], name)
    closing = closing.set_index("date")["value"].sort_index()
    if opening.empty:
        raise DataError(f"{name}: schema change at FiscalData? no TGA opening-balance rows ({_DTS_OPENING})")
    implied = pd.Series(opening.to_numpy()[1:], index=opening.index[:-1])
    both = closing.index.intersection(implied.index)
    bad = (closing[both] - implied[both]).abs() > 0.0005
    if bad.any():
        d = bad.idxmax()
        raise DataError(
            f"{name}: TGA closing balance of {d} ({closing[d]:.3f} bn) is not the next day's opening "
            f"balance ({implied[d]:.3f} bn)"
        )
    tga = pd.concat([implied[~implied.index.isin(closing.index)], closing]).sort_index()
    parts = [pd.DataFrame({"date": tga.index, "series": "TGA_DTS", "value": tga.to_numpy()})]
    for account, series in _DTS_FLOWS.items():
        f = dedupe(df[kind == account][["date", "value", "_line"]], ["date"], name)
        parts.append(pd.DataFrame({"date": f["date"], "series": series, "value": f["value"]}))
    return pd.concat(parts, ignore_index=True)[SERIES_COLUMNS]


_DECIMAL_COMMA = re.compile(r"^-?\d+,\d+(E[+-]?\d+)?$", re.I)


def _td_number(df: pd.DataFrame, col: str, name: str) -> pd.Series:
    """A TreasuryDirect securities-search number: ``1,75754E+11`` is a decimal comma, not thousands."""
    raw = df[col].astype(str).str.strip()
    fixed = raw.where(~raw.str.match(_DECIMAL_COMMA), raw.str.replace(",", ".", regex=False)).astype(object)
    return to_numeric(df.assign(**{col: fixed}), col, name)


def parse_treasurydirect_securities(source: str | Path | bytes, name: str | None = None) -> pd.DataFrame:
    """TreasuryDirect securities-search export (``;``-separated, 119 columns) to ``auctions`` rows.

    Adds the coupon (``InterestRate``, percent; blank for bills and FRNs) and the auction amounts
    in USD bn: offering, total accepted and SOMA (Fed) accepted. ``Type`` (Bill, Note, Bond, TIPS,
    FRN) is kept as the security type, so 10-year TIPS are not mistaken for 10-year notes.
    """
    text, name = read_text(source, name)
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    head = [h.strip() for h in rows[0]]
    need = ["Cusip", "IssueDate", "MaturityDate", "AuctionDate", "InterestRate", "SecurityTerm", "Type"]
    need += ["PricePer100", "OfferingAmount", "TotalAccepted", "SomaAccepted"]
    recs, nums = [], []
    for i, r in enumerate(rows[1:], start=2):
        if not r or all(not c.strip() for c in r):
            continue
        if len(r) != len(head):
            raise DataError(
                f"{name}: line {i} has {len(r)} fields where the header has {len(head)}; truncated?"
            )
        recs.append([c.strip() for c in r])
        nums.append(i)
    df = pd.DataFrame(recs, columns=head, dtype=object)
    require_columns(df, need, name, "TreasuryDirect")
    df["_line"] = nums
    out = pd.DataFrame(
        {
            "cusip": df["Cusip"],
            "auction_date": to_dates(df, "AuctionDate", name),
            "issue_date": to_dates(df, "IssueDate", name),
            "maturity_date": to_dates(df, "MaturityDate", name),
            "security_type": df["Type"],
            "security_term": df["SecurityTerm"],
            "price_per_100": _td_number(df, "PricePer100", name),
            "int_rate_pct": _td_number(df, "InterestRate", name),
            "offering_usd_bn": _td_number(df, "OfferingAmount", name) / 1e9,
            "accepted_usd_bn": _td_number(df, "TotalAccepted", name) / 1e9,
            "soma_accepted_usd_bn": _td_number(df, "SomaAccepted", name) / 1e9,
            "_line": df["_line"],
        }
    )
    coupon = out["int_rate_pct"]
    if ((coupon < 0) | (coupon > 20)).any():
        i = ((coupon < 0) | (coupon > 20)).idxmax()
        raise DataError(
            f"{name}: line {df['_line'][i]}, column 'InterestRate': {coupon[i]} is not a coupon in %"
        )
    out = dedupe(out, ["cusip", "auction_date"], name)
    return out[AUCTION_COLUMNS].reset_index(drop=True)


YAHOO_COLUMNS = ["date", "open", "high", "low", "close", "volume"]


def parse_yahoo_daily(source: str | Path | bytes, name: str | None = None) -> pd.DataFrame:
    """A yfinance daily export (``Date,Close,High,Low,Open,Volume``): one row per trading day."""
    df, name = read_csv_strict(source, name)
    require_columns(df, ["Date", "Open", "High", "Low", "Close", "Volume"], name, "Yahoo Finance")
    out = pd.DataFrame({"date": to_dates(df, "Date", name)})
    for col in ("Open", "High", "Low", "Close", "Volume"):
        out[col.lower()] = to_numeric(df, col, name, allow_missing=False)
    if (out["close"] <= 0).any():
        i = out["close"].idxmin()
        raise DataError(
            f"{name}: line {df['_line'][i]}, column 'Close': non-positive price {out['close'][i]:g}"
        )
    out["_line"] = df["_line"]
    out = dedupe(out, ["date"], name)
    return out[YAHOO_COLUMNS].sort_values("date").reset_index(drop=True)
