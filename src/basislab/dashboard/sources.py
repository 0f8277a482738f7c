"""What the dashboard reads: the data store (monitor, positions, provenance), the run store and
the model's documentation. Reads are cached per store and serialised by one lock (DuckDB opens
a file once per process)."""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

import pandas as pd

_LOCK = threading.Lock()


@lru_cache(maxsize=8)
def monitor(db: str | None, date: str | None = None):
    """``(date, indicators)`` of the monitor with history (cached)."""
    from basislab.data import monitor as mon

    with _LOCK:
        return mon.compute(date, db=db, with_history=True)


@lru_cache(maxsize=2)
def positions(db: str | None) -> pd.DataFrame:
    """CFTC TFF rows with USD notionals (``basislab.data.feeds.positions``)."""
    from basislab.data import feeds

    with _LOCK:
        return feeds.positions(db=db)


@lru_cache(maxsize=2)
def store_status(db: str | None) -> dict:
    """Provenance and coverage of the data store."""
    from basislab.data.status import status
    from basislab.data.store import connect, resolve_db_path

    path = resolve_db_path(db)
    with _LOCK:
        con = connect(path, read_only=True)
        try:
            return status(con, str(path))
        finally:
            con.close()


def list_runs(runs_dir: str | None) -> pd.DataFrame:
    """Stored runs, newest first (run_id, scenario, created, seed, paths, steps)."""
    from basislab.sim import store

    with _LOCK:
        return store.list_runs(runs_dir)


def load_run(runs_dir: str | None, run_id: str):
    """A stored run by id; the id must be one :func:`list_runs` lists (form input never becomes a
    path of its own)."""
    from basislab.errors import ScenarioError
    from basislab.sim import store

    known = set(list_runs(runs_dir)["run_id"])
    if run_id not in known:
        raise ScenarioError(f"unknown run {run_id!r}; pick one from the list")
    with _LOCK:
        return store.load_run(run_id, runs_dir)


def model_doc() -> str:
    """The text of ``docs/model.md`` (the model's equations), or a note where it is not installed."""
    import basislab

    for base in Path(basislab.__file__).resolve().parents[:3]:
        p = base / "docs" / "model.md"
        if p.is_file():
            return p.read_text(encoding="utf-8")
    return "The model documentation (docs/model.md) is not installed with this copy of basislab."


def clear() -> None:
    """Forget cached reads (after a data refresh)."""
    for f in (monitor, positions, store_status):
        f.cache_clear()
