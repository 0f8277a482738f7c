"""Shared fixtures: the store is built once per test session (per xdist worker) from the snapshot."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from basislab.data import store

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def built_db(tmp_path_factory) -> Path:
    """Path of a store built from the bundled snapshot (do not write to it; copy it with ``db_copy``)."""
    path = tmp_path_factory.mktemp("store") / "basislab.duckdb"
    store.build_from_snapshot(path)
    return path


@pytest.fixture(scope="session")
def con(built_db):
    """A read-only connection to the session store."""
    c = store.connect(built_db, read_only=True)
    yield c
    c.close()


@pytest.fixture
def db_copy(built_db, tmp_path) -> Path:
    """A private writable copy of the session store."""
    dst = tmp_path / "copy.duckdb"
    shutil.copy(built_db, dst)
    return dst


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()
