"""The embedded DuckDB store: location, schema and migrations, first-use build from the snapshot,
transactional upserts and provenance.

Location: the ``--db`` CLI option (which must name an existing store unless ``--create`` is
given), else the ``BASISLAB_DB`` environment variable, else ``basislab.duckdb`` in the data folder
of :func:`basislab.paths.data_dir` (``BASISLAB_DATA_DIR``, else the platform's user data folder,
``~/.local/share/basislab`` on Linux). The default store is created on first use from the bundled
snapshot; a build holds a lock file, is written to a hidden temporary file in the same folder and
moved into place with ``os.replace``, so a kill never leaves half a store, and the next build or
open removes a killed build's temporary files. A damaged store is reported with the repair command.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd

from basislab.data import parsers
from basislab.data.catalog import SERIES
from basislab.errors import DataError

SCHEMA_VERSION = 2
#: Version of the bundled snapshot (snapshot/SOURCES.md). A store built from an older snapshot gets
#: the new snapshot rows when it is opened (:func:`top_up_from_snapshot`).
SNAPSHOT_VERSION = "2026-11-28"

# Each migration brings the schema from version n-1 to n; applied in order inside a transaction.
MIGRATIONS: dict[int, list[str]] = {
    1: [
        "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
        """CREATE TABLE IF NOT EXISTS provenance (
            table_name VARCHAR, source VARCHAR, publisher VARCHAR, origin VARCHAR,
            retrieved VARCHAR, loaded_at TIMESTAMP, rows BIGINT, licence VARCHAR,
            PRIMARY KEY (table_name, source))""",
        """CREATE TABLE IF NOT EXISTS cftc_tff (
            report_date DATE NOT NULL, contract VARCHAR NOT NULL, cftc_code VARCHAR NOT NULL,
            open_interest BIGINT, dealer_long BIGINT, dealer_short BIGINT, dealer_spread BIGINT,
            am_long BIGINT, am_short BIGINT, am_spread BIGINT,
            lev_long BIGINT, lev_short BIGINT, lev_spread BIGINT,
            other_long BIGINT, other_short BIGINT, other_spread BIGINT,
            nonrept_long BIGINT, nonrept_short BIGINT, source VARCHAR,
            PRIMARY KEY (report_date, contract))""",
        """CREATE TABLE IF NOT EXISTS rates_daily (
            date DATE NOT NULL, series VARCHAR NOT NULL, value DOUBLE NOT NULL, unit VARCHAR, source VARCHAR,
            PRIMARY KEY (date, series))""",
        """CREATE TABLE IF NOT EXISTS fed_balance_sheet (
            date DATE NOT NULL, series VARCHAR NOT NULL, value DOUBLE NOT NULL, unit VARCHAR,
            frequency VARCHAR, source VARCHAR, PRIMARY KEY (date, series))""",
        """CREATE TABLE IF NOT EXISTS par_yield_curve (
            date DATE NOT NULL, tenor VARCHAR NOT NULL, tenor_years DOUBLE NOT NULL, yield_pct DOUBLE NOT NULL,
            source VARCHAR, PRIMARY KEY (date, tenor))""",
        """CREATE TABLE IF NOT EXISTS auctions (
            cusip VARCHAR NOT NULL, auction_date DATE NOT NULL, issue_date DATE, maturity_date DATE,
            security_type VARCHAR, security_term VARCHAR, price_per_100 DOUBLE, int_rate_pct DOUBLE, source VARCHAR,
            PRIMARY KEY (cusip, auction_date))""",
        """CREATE TABLE IF NOT EXISTS security_prices (
            date DATE NOT NULL, cusip VARCHAR NOT NULL, security_type VARCHAR, rate_pct DOUBLE, maturity_date DATE,
            buy DOUBLE, sell DOUBLE, end_of_day DOUBLE, source VARCHAR, PRIMARY KEY (date, cusip))""",
        """CREATE TABLE IF NOT EXISTS futures_prices (
            date DATE NOT NULL, contract VARCHAR NOT NULL, root VARCHAR NOT NULL, delivery_month VARCHAR,
            price DOUBLE NOT NULL, source VARCHAR, PRIMARY KEY (date, contract))""",
        # The securities master: one row per CUSIP from the auctions (issue, maturity, original term
        # from the first auction) and the latest price list (coupon, TIPS/FRN flag, price).
        """CREATE OR REPLACE VIEW securities AS
        WITH a AS (
            SELECT cusip, min(issue_date) AS issue_date, max(maturity_date) AS maturity_date,
                   arg_min(security_type, auction_date) AS auction_type,
                   arg_min(security_term, auction_date) AS original_term,
                   arg_max(int_rate_pct, auction_date) AS auction_rate_pct,
                   min(auction_date) AS first_auction, count(*) AS n_auctions
            FROM auctions GROUP BY cusip),
        p AS (
            SELECT * FROM security_prices QUALIFY row_number() OVER (PARTITION BY cusip ORDER BY date DESC) = 1)
        SELECT coalesce(a.cusip, p.cusip) AS cusip,
               CASE WHEN p.security_type LIKE '%TIPS%' THEN 'TIPS'
                    WHEN p.security_type LIKE '%FRN%' THEN 'FRN'
                    WHEN p.security_type LIKE '%BILL%' THEN 'Bill'
                    WHEN p.security_type LIKE '%NOTE%' THEN 'Note'
                    WHEN p.security_type LIKE '%BOND%' THEN 'Bond'
                    ELSE a.auction_type END AS security_type,
               CASE WHEN coalesce(p.security_type, a.auction_type) ILIKE '%BILL%' THEN 0.0
                    ELSE coalesce(p.rate_pct, a.auction_rate_pct) END AS coupon_pct,
               a.issue_date, coalesce(a.maturity_date, p.maturity_date) AS maturity_date,
               a.original_term, a.first_auction, a.n_auctions,
               CASE WHEN p.buy > 0 AND p.sell > 0 THEN (p.buy + p.sell) / 2 ELSE p.sell END AS price,
               p.date AS price_date
        FROM a FULL OUTER JOIN p ON a.cusip = p.cusip""",
    ],
    # 2026-11-28 data: auction amounts (TreasuryDirect securities search), the Yahoo front-month
    # futures with roll flags, and a SHA-256 of each snapshot file in the provenance.
    2: [
        "ALTER TABLE auctions ADD COLUMN IF NOT EXISTS offering_usd_bn DOUBLE",
        "ALTER TABLE auctions ADD COLUMN IF NOT EXISTS accepted_usd_bn DOUBLE",
        "ALTER TABLE auctions ADD COLUMN IF NOT EXISTS soma_accepted_usd_bn DOUBLE",
        "ALTER TABLE provenance ADD COLUMN IF NOT EXISTS sha256 VARCHAR",
        """CREATE TABLE IF NOT EXISTS futures_front_month (
            date DATE NOT NULL, root VARCHAR NOT NULL, contract VARCHAR NOT NULL,
            open DOUBLE, high DOUBLE, low DOUBLE, close DOUBLE NOT NULL, volume DOUBLE,
            roll BOOLEAN NOT NULL, roll_rule VARCHAR, in_delivery BOOLEAN NOT NULL,
            close_adj DOUBLE NOT NULL, return_ex_roll DOUBLE, source VARCHAR,
            PRIMARY KEY (date, root))""",
    ],
}

TABLE_KEYS: dict[str, list[str]] = {
    "cftc_tff": ["report_date", "contract"],
    "rates_daily": ["date", "series"],
    "fed_balance_sheet": ["date", "series"],
    "par_yield_curve": ["date", "tenor"],
    "auctions": ["cusip", "auction_date"],
    "security_prices": ["date", "cusip"],
    "futures_prices": ["date", "contract"],
    "futures_front_month": ["date", "root"],
}
DATE_COLUMN = {"cftc_tff": "report_date", "auctions": "auction_date"}

LICENCE_US_GOV = "US government work, public domain"
LICENCE_NYFED = "Public; attribution to the Federal Reserve Bank of New York required where shown"


def default_db_path() -> Path:
    """The default store location: ``basislab.duckdb`` in :func:`basislab.paths.data_dir`."""
    from basislab.paths import data_dir

    return data_dir() / "basislab.duckdb"


def resolve_db_path(db: str | Path | None = None) -> Path:
    """``db`` if given, else ``$BASISLAB_DB``, else :func:`default_db_path`."""
    if db:
        return Path(db).expanduser()
    env = os.environ.get("BASISLAB_DB")
    return Path(env).expanduser() if env else default_db_path()


def row(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> tuple:
    """The first row of a query that always returns one (an aggregate); a DataError if it did not."""
    got = con.execute(sql, params or []).fetchone()
    if got is None:
        raise DataError(f"internal: no row from {sql!r}")
    return got


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None):
    """The first column of :func:`row`."""
    return row(con, sql, params)[0]


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The schema version recorded in ``meta`` (0 for an empty database)."""
    has_meta = scalar(con, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta'")
    if not has_meta:
        return 0
    row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 0


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Apply the migrations above the database's version, each in a transaction; return the version."""
    current = schema_version(con)
    if current > SCHEMA_VERSION:
        raise DataError(
            f"store schema version {current} is newer than this basislab ({SCHEMA_VERSION}); upgrade basislab"
        )
    for version in range(current + 1, SCHEMA_VERSION + 1):
        with transaction(con):
            for stmt in MIGRATIONS[version]:
                con.execute(stmt)
            con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(version)])
    return SCHEMA_VERSION


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN ... COMMIT, or ROLLBACK on any exception (which is re-raised)."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def connect(
    db: str | Path | None = None, read_only: bool = False, create: bool | None = None
) -> duckdb.DuckDBPyConnection:
    """Open the store, building it from the bundled snapshot on first use and migrating old schemas.

    ``create``: build a missing store. By default only the configured location (``db`` None or
    equal to it: the ``BASISLAB_DB`` variable or the data folder) is built on first use; another
    missing file given explicitly is refused (a mistyped ``--db`` must not build a new store), unless
    ``create=True``. A damaged, truncated or foreign file is a :class:`DataError` that says how to
    repair it; the store is checked by reading every table (:func:`verify`, ~20 ms).
    """
    path = resolve_db_path(db)
    if create is None:  # the configured location (BASISLAB_DB or the data folder) may be built
        create = db is None or path == resolve_db_path(None)
    if not path.exists():
        if not create:
            raise DataError(
                f"no basislab store at {path}; check the path, or build a new one there from the bundled "
                f"snapshot with `basislab data rebuild --db {path}` (or pass --create)"
            )
        build_from_snapshot(path, only_if_missing=True)
    elif _temp_files(path):
        _clean_if_idle(path)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as exc:
        raise _store_error(path, exc) from exc
    try:
        if schema_version(con) < SCHEMA_VERSION:
            if read_only:
                con.close()
                con = duckdb.connect(str(path))
            migrate(con)
        verify(con, path)
        if snapshot_version(con) < SNAPSHOT_VERSION:
            con.close()
            _top_up(path)
            con = duckdb.connect(str(path), read_only=read_only)
    except DataError:
        con.close()
        raise
    except duckdb.Error as exc:
        con.close()
        raise _store_error(path, exc) from exc
    return con


def snapshot_version(con: duckdb.DuckDBPyConnection) -> str:
    """The snapshot version the store was built from or topped up to ('' before versions existed)."""
    return scalar(con, "SELECT coalesce(max(value), '') FROM meta WHERE key = 'snapshot_version'")


def _top_up(path: Path) -> None:
    """Bring a store built from an older snapshot up to :data:`SNAPSHOT_VERSION`, under the build
    lock; if another process holds the store open, say so and go on with the old data."""
    from filelock import FileLock, Timeout

    try:
        with FileLock(str(_lock_path(path)), timeout=LOCK_TIMEOUT_S):
            con = duckdb.connect(str(path))
            try:
                if snapshot_version(con) < SNAPSHOT_VERSION:
                    top_up_from_snapshot(con)
            finally:
                con.close()
    except (Timeout, duckdb.Error, OSError) as exc:
        import warnings

        from basislab.data.validate import DataWarning

        warnings.warn(
            f"the store at {path} was built from a snapshot older than {SNAPSHOT_VERSION} and could not be "
            f"updated now ({str(exc).splitlines()[0]}); run `basislab data rebuild --yes --db {path}`",
            DataWarning,
            stacklevel=3,
        )


def top_up_from_snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Load the bundled snapshot into an existing store without losing refreshed data: rows that
    came from a snapshot file (``source`` ``snapshot:...``) are replaced by the new snapshot's rows,
    rows from the publishers' refreshes are kept, keys the store lacks are added. One transaction.
    Returns rows written per table."""
    written: dict[str, int] = {}
    tables = snapshot_tables()
    with transaction(con):
        for table, rows, prov in tables:
            n = upsert(con, table, rows, prov, in_transaction=True, keep_refreshed=True)
            written[table] = written.get(table, 0) + n
        con.execute("INSERT OR REPLACE INTO meta VALUES ('snapshot_version', ?)", [SNAPSHOT_VERSION])
    return written


def repair_hint(path: Path) -> str:
    """The one command that repairs a store (rebuild from the bundled snapshot)."""
    return f"repair: `basislab data rebuild --yes --db {path}` (rebuilds it from the bundled snapshot)"


def _store_error(path: Path, exc: Exception) -> DataError:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "lock" in first.lower() and "conflicting" in first.lower():
        return DataError(f"the basislab store at {path} is in use by another process ({first}); try again")
    return DataError(
        f"the basislab store at {path} is damaged or not a basislab store ({first}); {repair_hint(path)}"
    )


def verify(con: duckdb.DuckDBPyConnection, path: str | Path) -> None:
    """Read every row of every table (DuckDB checks block checksums on read): a truncated or
    corrupted store is a :class:`DataError` with the repair command, never a later traceback."""
    path = Path(path)
    names = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    missing = sorted((set(TABLE_KEYS) | {"meta", "provenance"}) - names)
    if missing:
        raise DataError(f"the basislab store at {path} lacks table(s) {missing}; {repair_hint(path)}")
    try:
        for table in [*TABLE_KEYS, "meta", "provenance"]:
            con.execute(f"SELECT count(*), sum(hash(t)) FROM {table} t").fetchone()
    except duckdb.Error as exc:
        raise _store_error(path, exc) from exc


def upsert(
    con: duckdb.DuckDBPyConnection,
    table: str,
    df: pd.DataFrame,
    provenance: dict,
    in_transaction: bool = False,
    keep_refreshed: bool = False,
) -> int:
    """Insert or replace ``df``'s rows (by the table's key) and record provenance, atomically.

    ``provenance`` holds ``source, publisher, origin, retrieved, licence``. With
    ``in_transaction`` the caller owns the transaction (a refresh of several tables commits once).
    With ``keep_refreshed`` (a snapshot top-up) only rows that came from a snapshot file are
    replaced and rows from a publisher's refresh are kept; returns the rows written.
    """
    keys = TABLE_KEYS[table]
    cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
    df = df.copy()
    if "source" in cols and "source" not in df:
        df["source"] = provenance["source"]
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise DataError(f"internal: rows for {table} lack columns {missing}")
    df = df[cols]
    if df.duplicated(keys).any():
        raise DataError(f"{provenance['source']}: duplicate keys {keys} in rows for {table}")
    ctx = contextlib.nullcontext(con) if in_transaction else transaction(con)
    with ctx:
        con.register("_incoming", df)
        try:
            cond = " AND ".join(f"t.{k} = i.{k}" for k in keys)
            if keep_refreshed:  # only rows that are new or changed are touched
                con.execute(
                    f"CREATE OR REPLACE TEMP TABLE _changed AS SELECT * FROM _incoming EXCEPT SELECT * FROM {table}"
                )
                try:
                    con.execute(
                        f"DELETE FROM {table} t USING _changed i WHERE {cond} AND t.source LIKE 'snapshot:%'"
                    )
                    before = scalar(con, f"SELECT count(*) FROM {table}")
                    con.execute(
                        f"INSERT INTO {table} SELECT i.* FROM _changed i ANTI JOIN {table} t ON {cond}"
                    )
                    n = scalar(con, f"SELECT count(*) FROM {table}") - before
                finally:
                    con.execute("DROP TABLE IF EXISTS _changed")
                if n:
                    record_provenance(con, table, provenance, n)
                return n
            con.execute(f"DELETE FROM {table} t WHERE EXISTS (SELECT 1 FROM _incoming i WHERE {cond})")
            con.execute(f"INSERT INTO {table} SELECT * FROM _incoming")
        finally:
            con.unregister("_incoming")
        record_provenance(con, table, provenance, len(df))
    return len(df)


def record_provenance(con: duckdb.DuckDBPyConnection, table: str, prov: dict, rows: int) -> None:
    """Record (or update) where a table's rows from one source came from."""
    con.execute(
        "INSERT OR REPLACE INTO provenance (table_name, source, publisher, origin, retrieved, loaded_at, rows, "
        "licence, sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            table,
            prov["source"],
            prov["publisher"],
            prov.get("origin", ""),
            prov["retrieved"],
            dt.datetime.now(dt.UTC).replace(tzinfo=None),
            rows,
            prov.get("licence", ""),
            prov.get("sha256"),
        ],
    )


# --------------------------------------------------------------------------------------------------
# First-use build from the bundled snapshot
# --------------------------------------------------------------------------------------------------

# Parquet column -> (store series, scale to the store unit). Weekly and monthly series are
# forward-filled in the parquet's daily calendar: only their observation dates are kept
# (Wednesdays for the H.4.1 weekly levels, the first of the month for monthly series).
_PARQUET_SERIES = {
    "EFFR": ("EFFR", 1.0),
    "OBFR": ("OBFR", 1.0),
    "SOFR": ("SOFR", 1.0),
    "Fed_Funds_Target_Upper": ("FF_TARGET_UPPER", 1.0),
    "Fed_Funds_Target_Lower": ("FF_TARGET_LOWER", 1.0),
    "Interest_on_Reserves": ("IORB", 1.0),
    "ON_RRP_Facility_Rate": ("ONRRP_RATE", 1.0),
    "DPCREDIT": ("DPCREDIT", 1.0),
    "FNYR_BGCR_A": ("BGCR", 1.0),
    "FNYR_TGCR_A": ("TGCR", 1.0),
    "Tri_Party_Overnight_Average_Rate": ("REPO-TRI_AR_OO-P", 1.0),
    "REPO_DVP_AR_OO_P": ("REPO-DVP_AR_OO-P", 1.0),
    "REPO_GCF_AR_OO_P": ("REPO-GCF_AR_OO-P", 1.0),
    "REPO_TRI_TV_OO_P": ("REPO-TRI_TV_OO-P", 1e-9),
    "REPO_TRI_TV_TOT_P": ("REPO-TRI_TV_TOT-P", 1e-9),
    "REPO_DVP_TV_OO_P": ("REPO-DVP_TV_OO-P", 1e-9),
    "REPO_DVP_TV_TOT_P": ("REPO-DVP_TV_TOT-P", 1e-9),
    "REPO_DVP_OV_TOT_P": ("REPO-DVP_OV_TOT-P", 1e-9),
    "REPO_GCF_TV_OO_P": ("REPO-GCF_TV_OO-P", 1e-9),
    "REPO_GCF_TV_TOT_P": ("REPO-GCF_TV_TOT-P", 1e-9),
    "TREAST": ("TREAST", 1.0),
    "WALCL": ("WALCL", 1.0),
    "TOTRESNS": ("TOTRESNS", 1.0),
    "RRPONTSYD": ("RRPONTSYD", 1.0),
    "RPONTSYD": ("RPONTSYD", 1.0),
}
PARQUET = "rates_repo_fed_balance_sheet_daily_1913_2025.parquet"
SNAPSHOT_ORIGIN = "bundled snapshot (see snapshot/SOURCES.md)"


def parse_parquet(path: Path) -> pd.DataFrame:
    """The bundled daily parquet to long ``(date, series, value)`` rows at native frequency."""
    name = path.name
    if not path.exists():
        raise DataError(f"{name}: file not found at {path}")
    try:
        df = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for truncated files
        raise DataError(f"{name}: cannot read parquet ({exc}); truncated or corrupt file?") from exc
    missing = [c for c in _PARQUET_SERIES if c not in df.columns]
    if missing:
        raise DataError(f"{name}: schema change? missing column(s) {missing}")
    if not isinstance(df.index, pd.DatetimeIndex):
        if "date" in df.columns:
            df = df.set_index(pd.to_datetime(df["date"]))
        else:
            raise DataError(f"{name}: no date index")
    if not df.index.is_unique:
        dups = df.index[df.index.duplicated()][:3]
        raise DataError(f"{name}: duplicate dates {list(dups.date)} in the index")
    parts = []
    for col, (series, scale) in _PARQUET_SERIES.items():
        s = df[col]
        if not pd.api.types.is_numeric_dtype(s):
            raise DataError(f"{name}: column {col!r} is not numeric (dtype {s.dtype})")
        s = s.dropna()
        freq = SERIES[series].frequency
        if freq == "weekly":
            s = s[s.index.day_of_week == 2]
        elif freq == "monthly":
            s = s[s.index.day == 1]
        parts.append(pd.DataFrame({"date": s.index.date, "series": series, "value": s.to_numpy() * scale}))
    return pd.concat(parts, ignore_index=True)


def _series_rows(df: pd.DataFrame, source: str) -> dict[str, pd.DataFrame]:
    """Split long series rows into the two series tables with units and frequency."""
    df = df.copy()
    unknown = sorted(set(df["series"]) - set(SERIES))
    if unknown:
        raise DataError(f"{source}: unknown series {unknown}")
    df["unit"] = df["series"].map(lambda k: SERIES[k].unit)
    df["frequency"] = df["series"].map(lambda k: SERIES[k].frequency)
    df["table"] = df["series"].map(lambda k: SERIES[k].table)
    df["source"] = source
    return {t: g.drop(columns="table") for t, g in df.groupby("table")}


# Where each file added on 2026-11-28 was copied from (snapshot/SOURCES.md, section "Added 2026-11-28").
ADDED_2026_11_28 = "2026-11-28"
_ORIGINS = {
    "cftc_tff_treasury_futures_raw_2017_2020_2023_2024_extract.csv": (
        "patrickhunner/COT-Data @ 1d6df22c (F2017-F2020.csv); kwill1992/CFTC @ 66cb7140 (2023); "
        "wyne1/carbon-market-forecasting @ 28a0aa9f (2024); row filter, each row names its source"
    ),
    "yahoo_front_month_{root}_daily_2000_2026.csv": "alitalbi/storage_data_fy @ 94140683 : {root}=F.csv",
    "fred_sofr_2021_2026.csv": "Alexiszcv/SOFR3 @ 59ba2f22 : SOFR.csv",
    "fred_onrrp_takeup_2021_2026.csv": "Alexiszcv/SOFR3 @ 59ba2f22",
    "fred_reserves_wresbal_2021_2026.csv": "Alexiszcv/SOFR3 @ 59ba2f22",
    "fred_iorb_2021_2026.csv": "Alexiszcv/SOFR3 @ 59ba2f22",
    "fiscaldata_dts_operating_cash_balance_2021_2026.csv": (
        "Alexiszcv/SOFR3 @ 59ba2f22 : DTS_OpCashBal_20210624_20260623.csv"
    ),
    "treasurydirect_auctions_with_coupon_2025_2026.csv": "Alexiszcv/SOFR3 @ 59ba2f22 : treasury.csv",
}
LICENCE_YAHOO = "CME Group prices via Yahoo Finance; Yahoo's terms of use apply (not a CME settlement file)"


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, recorded in the provenance so a changed snapshot file is visible."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _check_overlap(old: pd.DataFrame, new: pd.DataFrame, keys: list[str], cols: list[str], what: str) -> None:
    """Two copies of one series must agree where they overlap (exactly: both are the publisher's)."""
    both = old.merge(new, on=keys, suffixes=("", "_new"))
    for col in cols:
        a, b = both[col].astype(float), both[f"{col}_new"].astype(float)
        bad = ~((a == b) | (a.isna() & b.isna()))
        if bad.any():
            r = both[bad].iloc[0]
            raise DataError(
                f"{what}: the two files disagree on {col} at {dict((k, str(r[k])) for k in keys)}: "
                f"{r[col]} vs {r[f'{col}_new']}"
            )


def snapshot_tables() -> list[tuple[str, pd.DataFrame, dict]]:
    """Parse every bundled file: ``[(table, rows, provenance), ...]`` in load order.

    Each provenance names the publisher, the repository the file was copied from, the retrieval
    date, the licence and the file's SHA-256. Where two files cover the same dates (SOFR, ON RRP,
    IORB, the CFTC extracts) they must agree exactly; the rows already loaded keep their source.
    """
    from basislab.data import frontmonth, snapshot_path

    today = dt.date.today().isoformat()

    def prov(fname, publisher, licence=LICENCE_US_GOV, retrieved="snapshot", origin=None):
        return {
            "source": f"snapshot:{fname}",
            "publisher": publisher,
            "origin": origin or SNAPSHOT_ORIGIN,
            "retrieved": retrieved,
            "licence": licence,
            "loaded": today,
            "sha256": file_sha256(snapshot_path(fname)),
        }

    def added(fname, publisher, licence=LICENCE_US_GOV):
        origin = _ORIGINS.get(fname) or _ORIGINS["yahoo_front_month_{root}_daily_2000_2026.csv"].format(
            root=fname.split("_")[3]
        )
        return prov(fname, publisher, licence, ADDED_2026_11_28, f"{SNAPSHOT_ORIGIN}; {origin}")

    out = []
    raw_name = "cftc_tff_treasury_futures_raw_2015_2026_partial.csv"
    raw = parsers.parse_tff_csv(snapshot_path(raw_name), origin=f"snapshot:{raw_name}")
    ext_name = "cftc_tff_treasury_futures_raw_2017_2020_2023_2024_extract.csv"
    ext = parsers.parse_tff_csv(snapshot_path(ext_name), origin=f"snapshot:{ext_name}")
    tff_cols = [c for c in parsers.TFF_COLUMNS if c not in ("report_date", "contract", "source", "cftc_code")]
    _check_overlap(raw, ext, ["report_date", "contract"], tff_cols, f"{raw_name} and {ext_name}")
    have = set(zip(raw.report_date, raw.contract))
    ext_only = ext[[k not in have for k in zip(ext.report_date, ext.contract)]]
    ty_name = "cftc_tff_10y_2006_2026.csv"
    ty = parsers.parse_tff_10y(snapshot_path(ty_name))
    ty["source"] = f"snapshot:{ty_name}"
    full = pd.concat([raw, ext_only], ignore_index=True)
    both = full[full.contract == "TY"].merge(ty, on="report_date", suffixes=("", "_10y"))
    for col in ("open_interest", "am_long", "am_short", "lev_long", "lev_short"):
        bad = both[both[col] != both[f"{col}_10y"]]
        if len(bad):
            r = bad.iloc[0]
            raise DataError(
                f"{ty_name} and the raw TFF files disagree on TY {col} for {r.report_date}: "
                f"{r[f'{col}_10y']} vs {r[col]}"
            )
    ty_only = ty[~ty.report_date.isin(set(full[full.contract == "TY"].report_date))]
    out.append(("cftc_tff", raw, prov(raw_name, "CFTC")))
    out.append(("cftc_tff", ext_only, added(ext_name, "CFTC")))
    out.append(("cftc_tff", ty_only, prov(ty_name, "CFTC")))

    pq = parse_parquet(snapshot_path(PARQUET))
    pq_prov = prov(PARQUET, "FRB, FRBNY (via FRED); OFR Short-term Funding Monitor", LICENCE_NYFED)
    for table, rows in _series_rows(pq, f"snapshot:{PARQUET}").items():
        out.append((table, rows, pq_prov))
    loaded = {k: g[["date", "value"]] for k, g in pq.groupby("series")}
    fred = [
        ("fred_sofr_2018_2025.csv", "SOFR", 1.0, "FRBNY via FRED", LICENCE_NYFED, False),
        ("fred_onrrp_takeup_2003_2025.csv", "RRPONTSYD", 1.0, "FRBNY via FRED", LICENCE_US_GOV, False),
        ("fred_tga_1986_2025.csv", "WTREGEN", 1e-3, "FRB via FRED (USD mn -> USD bn)", LICENCE_US_GOV, False),
        ("fred_sofr_2021_2026.csv", "SOFR", 1.0, "FRBNY via FRED", LICENCE_NYFED, True),
        ("fred_onrrp_takeup_2021_2026.csv", "RRPONTSYD", 1.0, "FRBNY via FRED", LICENCE_US_GOV, True),
        ("fred_iorb_2021_2026.csv", "IORB", 1.0, "FRB via FRED", LICENCE_US_GOV, True),
        (
            "fred_reserves_wresbal_2021_2026.csv",
            "WRESBAL",
            1e-3,
            "FRB via FRED (USD mn -> USD bn)",
            LICENCE_US_GOV,
            True,
        ),
    ]
    for fname, series, scale, publisher, lic, new in fred:
        f = parsers.parse_fred_csv(snapshot_path(fname), series)
        f["value"] = f["value"] * scale
        if new and series in loaded:  # a 2026-11-28 file adds only dates not yet in the store
            _check_overlap(
                loaded[series], f, ["date"], ["value"], f"{series}: {fname} and the files before it"
            )
            f = f[~f["date"].isin(set(loaded[series]["date"]))]
        # An older FRED copy replaces the parquet's rows (later files win, as FRED holds revisions:
        # e.g. ON RRP on 2020-11-18 is 0.103 at FRED, 0 in the parquet).
        prev = loaded.get(series, f.iloc[:0][["date", "value"]])
        loaded[series] = pd.concat([prev[~prev["date"].isin(set(f["date"]))], f[["date", "value"]]])
        f["series"] = series
        p = added(fname, publisher, lic) if new else prov(fname, publisher, lic)
        for table, rows in _series_rows(f, f"snapshot:{fname}").items():
            out.append((table, rows, p))
    dts_name = "fiscaldata_dts_operating_cash_balance_2021_2026.csv"
    dts = parsers.parse_dts_cash_balance(snapshot_path(dts_name))
    for table, rows in _series_rows(dts, f"snapshot:{dts_name}").items():
        out.append(
            (table, rows, added(dts_name, "US Treasury, Bureau of the Fiscal Service (FiscalData DTS)"))
        )

    for fname in (
        "treasury_par_yield_curve_1990_2023.csv",
        "treasury_par_yield_curve_2024.csv",
        "treasury_par_yield_curve_2025.csv",
    ):
        pc = parsers.parse_par_curve(snapshot_path(fname))
        out.append(("par_yield_curve", pc, prov(fname, "US Treasury")))

    aname = "treasurydirect_auctions_1979_2025.csv"
    out.append(
        (
            "auctions",
            parsers.parse_auctions_csv(snapshot_path(aname)),
            prov(aname, "US Treasury (TreasuryDirect)"),
        )
    )
    cname = "treasurydirect_auctions_with_coupon_2025_2026.csv"
    # Later rows win: the 2025 auctions in both files get their coupon and amounts from this one.
    out.append(
        (
            "auctions",
            parsers.parse_treasurydirect_securities(snapshot_path(cname)),
            added(cname, "US Treasury (TreasuryDirect securities search)"),
        )
    )
    pname = "treasury_prices_2024-06-26.csv"
    out.append(
        (
            "security_prices",
            parsers.parse_fedinvest_prices(snapshot_path(pname), "2024-06-26"),
            prov(pname, "US Treasury, Bureau of the Fiscal Service (FedInvest)", retrieved="2024-06-26"),
        )
    )
    fname = "treasury_futures_close_2024-06-26.csv"
    out.append(
        (
            "futures_prices",
            parsers.parse_futures_closes(snapshot_path(fname), "2024-06-26"),
            prov(
                fname,
                "CME Group settlement prices (transcribed)",
                "CME Group data; factual prices",
                retrieved="2024-06-26",
            ),
        )
    )
    for ticker, root in frontmonth.YAHOO_ROOTS.items():
        fname = f"yahoo_front_month_{ticker}_daily_2000_2026.csv"
        rows = frontmonth.front_month(parsers.parse_yahoo_daily(snapshot_path(fname)), root)
        out.append(
            ("futures_front_month", rows, added(fname, "CME Group prices via Yahoo Finance", LICENCE_YAHOO))
        )
    return out


#: Seconds a build waits for another process's build of the same store before giving up.
LOCK_TIMEOUT_S = 300.0


def _lock_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.lock")


def _temp_files(path: Path) -> list[Path]:
    """Hidden temporary files of builds of ``path`` (``.NAME.PID.building`` and its ``.wal``)."""
    return sorted(path.parent.glob(f".{path.name}.*.building*"))


def _remove_temp_files(path: Path) -> list[Path]:
    """Delete the temporary files of killed builds; call only while holding the build lock."""
    gone = []
    for f in _temp_files(path):
        with contextlib.suppress(FileNotFoundError):
            f.unlink()
            gone.append(f)
    return gone


def _clean_if_idle(path: Path) -> None:
    """Remove a killed build's temporary files if no build is running now (lock free)."""
    from filelock import FileLock, Timeout

    try:
        with FileLock(str(_lock_path(path)), timeout=0):
            _remove_temp_files(path)
    except (Timeout, OSError):
        pass  # a build is running (its temp file is live) or the folder is read-only


def build_from_snapshot(path: str | Path, only_if_missing: bool = False) -> Path:
    """Create (or replace) the store at ``path`` from the bundled snapshot, atomically and safely
    with several processes at once.

    Under a lock file (``.NAME.lock``, :mod:`filelock`; a second builder waits), the temporary
    files of killed builds are removed, the store is written to ``.NAME.PID.building`` in the same
    folder and moved over ``path`` with :func:`os.replace` (atomic on one file system): a kill at
    any moment leaves either the old store or the new one, never half of one. ``only_if_missing``:
    do nothing if another process built the store while this one waited (first use).
    """
    from filelock import FileLock, Timeout

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        lock = FileLock(str(_lock_path(path)), timeout=LOCK_TIMEOUT_S)
        lock.acquire()
    except Timeout as exc:
        raise DataError(
            f"another basislab process has been building the store at {path} for over {LOCK_TIMEOUT_S:.0f} s; "
            "try again later"
        ) from exc
    except OSError as exc:
        raise DataError(f"cannot build the basislab store at {path}: {exc}") from exc
    try:
        if only_if_missing and path.exists():
            return path
        _remove_temp_files(path)
        _build(path)
    finally:
        lock.release()
    return path


def _build(path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.building")
    try:
        tables = snapshot_tables()
        con = duckdb.connect(str(tmp))
        try:
            migrate(con)
            with transaction(con):
                for table, rows, prov in tables:
                    # Later files win on overlapping keys (e.g. FRED's SOFR copy over the parquet's).
                    upsert(con, table, rows, prov, in_transaction=True)
            con.execute("INSERT OR REPLACE INTO meta VALUES ('created_from', 'snapshot')")
            con.execute("INSERT OR REPLACE INTO meta VALUES ('snapshot_version', ?)", [SNAPSHOT_VERSION])
            con.execute(
                "INSERT OR REPLACE INTO meta VALUES ('created_at', ?)", [dt.datetime.now(dt.UTC).isoformat()]
            )
            con.execute("CHECKPOINT")
        finally:
            con.close()
        stale_wal = path.with_name(path.name + ".wal")
        if stale_wal.exists():  # a write-ahead log of the old store must not be replayed on the new one
            stale_wal.unlink()
        os.replace(tmp, path)
    except OSError as exc:
        raise DataError(f"cannot write the basislab store at {path}: {exc}") from exc
    finally:
        for f in (tmp, tmp.with_name(tmp.name + ".wal")):
            with contextlib.suppress(FileNotFoundError):
                f.unlink()
