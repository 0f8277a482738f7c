"""Checks every parser runs on a publisher's file before a row reaches the store.

Bad data never becomes a silently wrong series: a missing or truncated file, a missing or renamed
column, a non-numeric cell or a conflicting duplicate raises :class:`~basislab.errors.DataError`
naming the file, the line (1-based, the header is line 1) and the column; an exact duplicate row
is dropped with a :class:`DataWarning` that names the same.
"""

from __future__ import annotations

import csv
import io
import warnings
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from basislab.errors import DataError


class DataWarning(UserWarning):
    """A data problem that basislab repaired unambiguously (e.g. an exact duplicate row dropped)."""


MISSING_TOKENS = {"", ".", "null", "NULL", "NaN", "nan", "NA", "N/A", "ND"}


def read_text(source: str | Path | bytes, name: str | None = None) -> tuple[str, str]:
    """Return ``(text, name)`` of a file path, raw bytes or text; a missing or empty file is an error."""
    if isinstance(source, Path):
        path = source
        name = name or path.name
        if not path.exists():
            raise DataError(f"{name}: file not found at {path}")
        raw = path.read_bytes()
    elif isinstance(source, bytes):
        raw = source
    else:
        raw = source.encode("utf-8")
    name = name or "<data>"
    try:
        text = raw.decode("utf-8-sig")  # strips a UTF-8 byte-order mark (TreasuryDirect exports)
    except UnicodeDecodeError as exc:
        raise DataError(f"{name}: not UTF-8 text (byte {exc.start}); truncated or corrupt download?") from exc
    if not text.strip():
        raise DataError(f"{name}: file is empty")
    return text, name


def read_csv_strict(
    source: str | Path | bytes, name: str | None = None, header: bool = True, columns: list[str] | None = None
) -> tuple[pd.DataFrame, str]:
    """Read a CSV as strings, checking that every line has as many fields as the header.

    A line with fewer fields (a truncated download) or more fields (a shifted row) raises a
    :class:`DataError` naming the file and line. Returns the frame (all cells as ``str``) with a
    ``_line`` column giving each row's line number in the file, and the file name.
    """
    text, name = read_text(source, name)
    reader = csv.reader(io.StringIO(text))
    rows = [r for r in reader]
    start = 0
    if header:
        head = [h.strip() for h in rows[0]]
        start = 1
    else:
        if columns is None:
            raise DataError(f"{name}: headerless CSV needs column names")
        head = list(columns)
    body = []
    lines = []
    for i, r in enumerate(rows[start:], start=start + 1):
        if not r or all(not c.strip() for c in r):
            continue
        if len(r) != len(head):
            what = "truncated" if len(r) < len(head) else "has extra fields"
            raise DataError(
                f"{name}: line {i} {what}: {len(r)} fields where the header has {len(head)} "
                f"(last field {r[-1]!r}); the file is truncated or malformed"
            )
        body.append([c.strip() for c in r])
        lines.append(i)
    if not body:
        raise DataError(f"{name}: no data rows after the header")
    df = pd.DataFrame(body, columns=head, dtype=object)
    df["_line"] = lines
    return df, name


def require_columns(df: pd.DataFrame, cols: Iterable[str], name: str, publisher: str = "") -> None:
    """Raise a :class:`DataError` naming the missing columns (a schema change at the publisher)."""
    missing = [c for c in cols if c not in df.columns]
    if missing:
        have = [c for c in df.columns if c != "_line"]
        who = f" at {publisher}" if publisher else ""
        raise DataError(
            f"{name}: schema change{who}? missing column(s) {missing}; the file has {have[:20]}"
            + (" ..." if len(have) > 20 else "")
        )


def to_numeric(df: pd.DataFrame, col: str, name: str, allow_missing: bool = True) -> pd.Series:
    """Convert a column of strings to floats; a non-numeric cell raises a DataError naming file, line, column.

    Thousands separators and a trailing ``%`` are accepted; the tokens in :data:`MISSING_TOKENS`
    become NaN (or an error when ``allow_missing`` is false).
    """
    raw = df[col]
    if raw.dtype != object:
        out = pd.to_numeric(raw, errors="coerce").astype(float)
        bad = out.isna() & raw.notna()
        if bad.any():
            i = bad.idxmax()
            line = df["_line"].get(i, i) if "_line" in df else i
            raise DataError(f"{name}: line {line}, column {col!r}: non-numeric value {raw[i]!r}")
        return out
    s = raw.astype(str).str.strip().str.replace(",", "", regex=False).str.replace(r"%$", "", regex=True)
    missing = s.isin(MISSING_TOKENS) | raw.isna()
    out = pd.to_numeric(s.where(~missing, None), errors="coerce").astype(float)
    bad = out.isna() & ~missing
    if bad.any():
        i = bad.idxmax()
        line = df["_line"][i] if "_line" in df else i
        raise DataError(f"{name}: line {line}, column {col!r}: non-numeric value {raw[i]!r}")
    if not allow_missing and missing.any():
        i = missing.idxmax()
        line = df["_line"][i] if "_line" in df else i
        raise DataError(f"{name}: line {line}, column {col!r}: value is missing")
    return out


def to_dates(df: pd.DataFrame, col: str, name: str, fmt: str | None = None) -> pd.Series:
    """Parse a date column (ISO, M/D/YY, M/D/YYYY or a given format); a bad cell raises a DataError."""
    raw = df[col].astype(str).str.strip().str.slice(0, 10)
    if fmt is None:
        sample = raw.iloc[0]
        if "/" in sample:
            year_part = sample.rsplit("/", 1)[-1]
            fmt = "%m/%d/%y" if len(year_part) == 2 else "%m/%d/%Y"
        else:
            fmt = "%Y-%m-%d"
    out = pd.to_datetime(raw, format=fmt, errors="coerce")
    bad = out.isna()
    if bad.any():
        i = bad.idxmax()
        line = df["_line"][i] if "_line" in df else i
        raise DataError(f"{name}: line {line}, column {col!r}: not a date ({fmt}): {df[col][i]!r}")
    return out.dt.date


def dedupe(df: pd.DataFrame, keys: list[str], name: str) -> pd.DataFrame:
    """Drop exact duplicate rows on ``keys`` with a warning; conflicting duplicates raise a DataError."""
    dup = df.duplicated(keys, keep=False)
    if not dup.any():
        return df
    value_cols = [c for c in df.columns if c not in keys and not c.startswith("_") and c != "source"]
    groups = df[dup].groupby(keys, dropna=False)
    for key, g in groups:
        vals = g[value_cols].drop_duplicates()
        lines = list(g["_line"]) if "_line" in g else list(g.index)
        if len(vals) > 1:
            diff = [c for c in value_cols if g[c].nunique(dropna=False) > 1]
            raise DataError(
                f"{name}: duplicate {dict(zip(keys, key if isinstance(key, tuple) else (key,)))} at lines {lines} "
                f"with different values in column(s) {diff}; refusing to guess which is right"
            )
        warnings.warn(
            f"{name}: duplicate {dict(zip(keys, key if isinstance(key, tuple) else (key,)))} at lines {lines} "
            "(identical values); kept the first",
            DataWarning,
            stacklevel=2,
        )
    return df.drop_duplicates(keys, keep="first")
